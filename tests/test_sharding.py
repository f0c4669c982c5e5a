"""Zarr v3 sharding (``sharding_indexed``): interop with zarr-python 3 and tensorstore,
index layouts, inner chains, nested sharding, corrupt indexes, every indexing kind,
resize/append/copy, and hypothesis against NumPy."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.codecs import Blosc
from chunkzip.sharding import ShardIndexError
from chunkzip.storage import LocalStore, MemoryStore

SHAPE = (37, 45)
SHARDS = (16, 20)
INNER = (8, 5)


def data(shape=SHAPE, dtype="i4", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(-1000, 1000, size=shape).astype(dtype)


class CountingStore(MemoryStore):
    """Counts the store calls a read makes (ranged reads and whole-value reads)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def get(self, key):
        if not key.endswith("zarr.json"):
            self.calls.append(("get", key))
        return super().get(key)

    def get_many(self, keys):
        keys = list(keys)
        self.calls.extend(("get", k) for k in keys)
        return [super(CountingStore, self).get(k) for k in keys]

    def get_range(self, key, start, length=None):
        from chunkzip.storage.base import _slice_range

        self.calls.append(("range", key, start, length))
        v = self._map.get(key)
        return None if v is None else _slice_range(v, start, length)


# ----------------------------------------------------------------------------- zarr-python interop
zarr = pytest.importorskip("zarr")
from zarr.codecs import (BloscCodec, BytesCodec, Crc32cCodec, GzipCodec, ShardingCodec,  # noqa: E402
                         TransposeCodec, ZstdCodec)

INNER_CHAINS = {
    "bytes": lambda: [BytesCodec()],
    "blosc": lambda: [BytesCodec(), BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
    "zstd": lambda: [BytesCodec(), ZstdCodec(level=1)],
    "gzip": lambda: [BytesCodec(), GzipCodec(level=3)],
    "crc32c": lambda: [BytesCodec(), Crc32cCodec()],
    "transpose+zstd": lambda: [TransposeCodec(order=(1, 0)), BytesCodec(), ZstdCodec(level=1)],
    "big-endian": lambda: [BytesCodec(endian="big"), GzipCodec()],
}


def zarr_sharded(path, chain, location="end", shape=SHAPE, shards=SHARDS, inner=INNER, dtype="i4", fill=0):
    return zarr.create(store=str(path), shape=shape, chunks=shards, dtype=dtype, zarr_format=3, fill_value=fill,
                       codecs=[ShardingCodec(chunk_shape=inner, codecs=INNER_CHAINS[chain](),
                                             index_location=location)])


@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("chain", sorted(INNER_CHAINS))
def test_zarr_writes_chunkzip_reads(tmp_path, chain, location):
    a = data()
    z = zarr_sharded(tmp_path / "a", chain, location, fill=-7)
    z[:30, :41] = a[:30, :41]  # edge shards, a partial shard, never-written inner chunks
    expect = np.full(SHAPE, -7, "i4")
    expect[:30, :41] = a[:30, :41]
    c = cz.open(str(tmp_path / "a"), mode="r")
    assert c.shards == SHARDS and c.chunks == INNER
    np.testing.assert_array_equal(c[...], expect)
    np.testing.assert_array_equal(c[3:33:4, 7:44], expect[3:33:4, 7:44])
    np.testing.assert_array_equal(c[17, :], expect[17, :])
    idx = (np.array([0, 36, 5, 20, 29]), np.array([44, 0, 13, 13, 40]))
    np.testing.assert_array_equal(c.vindex[idx], expect[idx])
    np.testing.assert_array_equal(c.oindex[[1, 30, 2], [40, 3]], expect[np.ix_([1, 30, 2], [40, 3])])


@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("compressor", [None, Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE), "zstd", "gzip"])
def test_chunkzip_writes_zarr_reads(tmp_path, compressor, location):
    from chunkzip.codecs import GZip, Zstd

    comp = {"zstd": Zstd(level=1), "gzip": GZip(level=1)}.get(compressor, compressor) \
        if isinstance(compressor, str) else compressor
    a = data()
    c = cz.create(SHAPE, chunks=INNER, shards={"shape": SHARDS, "index_location": location}, dtype="i4",
                  store=str(tmp_path / "a"), compressor=comp, fill_value=5)
    c[:30, :41] = a[:30, :41]
    c[31, 44] = 99
    expect = np.full(SHAPE, 5, "i4")
    expect[:30, :41] = a[:30, :41]
    expect[31, 44] = 99
    z = zarr.open_array(str(tmp_path / "a"), mode="r")
    assert z.shards == SHARDS and z.chunks == INNER
    np.testing.assert_array_equal(z[...], expect)


def test_zarr_default_shards_and_order_f(tmp_path):
    """zarr-python's own create_array(shards=...) (inner bytes + zstd), both ways."""
    a = data((50, 30), "f8")
    z = zarr.create_array(str(tmp_path / "z"), shape=a.shape, chunks=(10, 6), shards=(20, 12), dtype="f8")
    z[:] = a
    c = cz.open(str(tmp_path / "z"), mode="r+")
    np.testing.assert_array_equal(c[...], a)
    c[5:15, 3:20] = -1.5
    a[5:15, 3:20] = -1.5
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "z"), mode="r")[...], a)
    f = cz.create((21, 13), chunks=(5, 4), shards=(10, 8), dtype="u2", order="F", store=str(tmp_path / "f"))
    b = data((21, 13), "u2")
    f[:] = b
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "f"), mode="r")[...], b)


def test_nested_sharding_both_ways(tmp_path):
    a = data((40, 30))
    z = zarr.create(store=str(tmp_path / "n"), shape=a.shape, chunks=(20, 30), dtype="i4", zarr_format=3,
                    codecs=[ShardingCodec(chunk_shape=(10, 15), index_location="start", codecs=[
                        ShardingCodec(chunk_shape=(5, 5), codecs=[BytesCodec(), GzipCodec()])])])
    z[:25] = a[:25]
    c = cz.open(str(tmp_path / "n"), mode="r+")
    assert c.chunks == (5, 5) and c.shards == (20, 30)
    expect = np.zeros_like(a)
    expect[:25] = a[:25]
    np.testing.assert_array_equal(c[...], expect)
    np.testing.assert_array_equal(c.vindex[[3, 39, 24], [29, 0, 7]], expect[[3, 39, 24], [29, 0, 7]])
    c[20:40, 3:17] = 11
    expect[20:40, 3:17] = 11
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "n"), mode="r")[...], expect)
    meta = json.loads((tmp_path / "n" / "zarr.json").read_text())
    assert meta["codecs"][0]["configuration"]["codecs"][0]["name"] == "sharding_indexed"


def test_block_indices_are_shard_grid_as_zarr(tmp_path):
    a = data()
    z = zarr.create_array(str(tmp_path / "b"), shape=SHAPE, chunks=INNER, shards=SHARDS, dtype="i4")
    z[:] = a
    c = cz.open(str(tmp_path / "b"), mode="r+")
    np.testing.assert_array_equal(c.blocks[1, 2], z.blocks[1, 2])
    np.testing.assert_array_equal(c.blocks[1:, :2], z.blocks[1:, :2])
    assert c.cdata_shape == z.cdata_shape and c.nchunks == z.nchunks
    c.blocks[2, 1] = -3
    a[32:, 20:40] = -3
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "b"), mode="r")[...], a)


# ----------------------------------------------------------------------------- tensorstore interop
def _ts():
    return pytest.importorskip("tensorstore")


def test_tensorstore_reads_chunkzip_shards(tmp_path):
    ts = _ts()
    a = data((70, 33), "i4")
    for loc in ("end", "start"):
        p = str(tmp_path / loc)
        c = cz.create(a.shape, chunks=(10, 11), shards={"shape": (30, 22), "index_location": loc}, dtype="i4",
                      store=p, fill_value=-1)
        c[:65] = a[:65]
        expect = a.copy()
        expect[65:] = -1
        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": p}}).result()
        np.testing.assert_array_equal(t.read().result(), expect)


def test_chunkzip_reads_tensorstore_shards(tmp_path):
    ts = _ts()
    a = data((70, 33), "i4")
    p = str(tmp_path / "t")
    for loc in ("end", "start"):
        t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": p + loc}, "create": True,
                     "metadata": {"shape": list(a.shape), "data_type": "int32", "fill_value": 4,
                                  "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [30, 22]}},
                                  "codecs": [{"name": "sharding_indexed", "configuration": {
                                      "chunk_shape": [10, 11], "index_location": loc,
                                      "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                 {"name": "blosc", "configuration": {
                                                     "cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                     "typesize": 4, "blocksize": 0}}],
                                      "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                       {"name": "crc32c"}]}}]}}).result()
        t[:, :30] = a[:, :30]
        expect = a.copy()
        expect[:, 30:] = 4
        c = cz.open(p + loc, mode="r")
        np.testing.assert_array_equal(c[...], expect)
        np.testing.assert_array_equal(c[5:61, 29:33], expect[5:61, 29:33])


# ----------------------------------------------------------------------------- storage behaviour
def test_all_fill_shard_not_written_and_deleted():
    store = MemoryStore()
    c = cz.create((40, 40), chunks=(10, 10), shards=(20, 20), dtype="i4", store=store, write_empty_chunks=False)
    c[:20, :20] = 0
    assert not [k for k in store._map if k.startswith("c/")]
    c[:20, :20] = 1
    assert "c/0/0" in store._map
    c[:20, :20] = 0
    assert "c/0/0" not in store._map
    c[0, 0] = 3
    assert len(store._map["c/0/0"]) < 200  # one stored inner chunk, 15 empty entries
    np.testing.assert_array_equal(c[:2, :2], [[3, 0], [0, 0]])


def test_partial_read_fetches_index_and_ranges_only():
    store = CountingStore()
    c = cz.create((64, 64), chunks=(8, 8), shards=(32, 32), dtype="i4", store=store, compressor=None)
    a = data((64, 64))
    c[:] = a
    store.calls.clear()
    np.testing.assert_array_equal(c[3:5, 9:11], a[3:5, 9:11])
    kinds = [x[0] for x in store.calls]
    assert "get" not in kinds, store.calls  # no whole-shard read
    assert len(store.calls) == 2  # the index, then one inner chunk range
    store.calls.clear()
    np.testing.assert_array_equal(c[:32, :32], a[:32, :32])
    assert [x[0] for x in store.calls] == ["get"]  # a wholly covered shard: one read
    store.calls.clear()
    np.testing.assert_array_equal(c[0, :32], a[0, :32])  # 4 neighbouring inner chunks: merged
    assert len(store.calls) == 2


def test_generic_and_fast_paths_agree(monkeypatch):
    a = data((45, 37), "f4")
    c = cz.array(a, chunks=(6, 5), shards=(18, 15))
    sels = [np.s_[...], np.s_[3:40:3, 1:36:2], np.s_[44, :], np.s_[::2, 5]]
    fast = [c[s] for s in sels]
    monkeypatch.setattr(pipeline, "FAST_READ", False)
    for s, f in zip(sels, fast):
        np.testing.assert_array_equal(f, a[s])
        np.testing.assert_array_equal(c[s], a[s])


# ----------------------------------------------------------------------------- corrupt indexes
def _one_shard(tmp_path, location="end"):
    p = str(tmp_path / "x")
    c = cz.create((16, 16), chunks=(4, 4), shards={"shape": (16, 16), "index_location": location}, dtype="i4",
                  store=p, compressor=None)
    c[:] = data((16, 16))
    return p, os.path.join(p, "c", "0", "0")


def _rewrite_index(path, location, fn, fix_crc=True):
    from chunkzip.codecs.checksums import CRC32C

    raw = bytearray(open(path, "rb").read())
    n = 16
    isz = 16 * n + 4
    lo = len(raw) - isz if location == "end" else 0
    idx = np.frombuffer(bytes(raw[lo:lo + 16 * n]), "<u8").reshape(n, 2).copy()
    fn(idx)
    body = idx.astype("<u8").tobytes()
    crc = CRC32C._checksum(np.frombuffer(body, np.uint8)) & 0xFFFFFFFF if fix_crc else \
        int.from_bytes(raw[lo + 16 * n:lo + isz], "little")
    raw[lo:lo + isz] = body + crc.to_bytes(4, "little")
    open(path, "wb").write(bytes(raw))


@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("damage", ["crc", "past_end", "overlap", "overflow", "half_empty", "truncated"])
def test_corrupt_index_is_a_clear_error(tmp_path, location, damage):
    p, f = _one_shard(tmp_path, location)
    if damage == "crc":
        _rewrite_index(f, location, lambda idx: idx.__setitem__((3, 1), idx[3, 1] - 4), fix_crc=False)
    elif damage == "past_end":
        _rewrite_index(f, location, lambda idx: idx.__setitem__((1, 0), 10_000))
    elif damage == "overlap":
        _rewrite_index(f, location, lambda idx: idx.__setitem__((2, 0), idx[1, 0] + 8))
    elif damage == "overflow":
        _rewrite_index(f, location, lambda idx: idx.__setitem__((7, 1), 2 ** 64 - 3))
    elif damage == "half_empty":
        _rewrite_index(f, location, lambda idx: idx.__setitem__((0, 0), 2 ** 64 - 1))
    else:
        raw = open(f, "rb").read()
        open(f, "wb").write(raw[:100])
    c = cz.open(p, mode="r")
    for sel in (np.s_[...], np.s_[1:3, 5:7], np.s_[0, :]):
        with pytest.raises((ShardIndexError, ValueError), match="c/0/0"):
            c[sel]
    with pytest.raises((ShardIndexError, ValueError), match="c/0/0"):
        c.vindex[[1, 9], [5, 14]]


def test_bad_creation_arguments():
    with pytest.raises(ValueError, match="multiple"):
        cz.create((10, 10), chunks=(3, 3), shards=(5, 5), dtype="i4")
    with pytest.raises(ValueError, match="zarr_format=3"):
        cz.create((10, 10), chunks=(5, 5), shards=(10, 10), dtype="i4", zarr_format=2)
    with pytest.raises(ValueError):
        cz.create((10, 10), chunks=(5, 5), shards=(10,), dtype="i4")


# ----------------------------------------------------------------------------- array operations
def test_every_indexing_kind_read_and_write():
    a = data((30, 26))
    c = cz.array(a, chunks=(4, 6), shards=(8, 12), fill_value=0)
    mask = (a % 7) == 0
    np.testing.assert_array_equal(c.get_mask_selection(mask), a[mask])
    c.vindex[mask] = -1
    a[mask] = -1
    c.oindex[[0, 29, 5], [25, 1]] = 77
    a[np.ix_([0, 29, 5], [25, 1])] = 77
    c.vindex[[3, 4], [9, 10]] = [1, 2]
    a[[3, 4], [9, 10]] = [1, 2]
    c[10:20:3, ::5] = 8
    a[10:20:3, ::5] = 8
    np.testing.assert_array_equal(c[...], a)
    np.testing.assert_array_equal(c[[2, 1], ...], a[[2, 1], ...])


def test_resize_append_copy_rechunk(tmp_path):
    a = data((30, 26))
    c = cz.array(a, chunks=(4, 6), shards=(8, 12), store=str(tmp_path / "r"))
    c.resize(13, 20)
    c.resize(30, 26)
    expect = np.zeros_like(a)
    expect[:13, :20] = a[:13, :20]
    np.testing.assert_array_equal(c[...], expect)
    c.append(a[:5])
    expect = np.concatenate([expect, a[:5]])
    np.testing.assert_array_equal(c[...], expect)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "r"), mode="r")[...], expect)
    # copy out of and into sharded arrays
    plain = cz.copy(c, chunks=(7, 7))
    assert plain.shards is None
    np.testing.assert_array_equal(plain[...], expect)
    back = cz.array(plain, chunks=(5, 5), shards=(10, 25))
    np.testing.assert_array_equal(back[...], expect)
    like = cz.zeros_like(c)
    assert like.shards == c.shards and like.chunks == c.chunks


def test_info_and_properties():
    c = cz.zeros((100, 50), chunks=(10, 10), shards=(40, 20), dtype="i4")
    c[:45] = 1
    info = c.info
    assert info["Shard shape"] == "(40, 20)" and info["Chunk shape"] == "(10, 10)"
    assert info["Shards initialized"] == "6/9"
    assert c.cdata_shape == (10, 5) and c.nchunks == 50
    assert cz.zeros((4,), chunks=2).shards is None


def test_string_array_sharded():
    a = np.array([f"s{i}" * (i % 4) for i in range(50)], dtype=object)
    c = cz.array(a, dtype=str, chunks=(5,), shards=(20,))
    np.testing.assert_array_equal(c[...], a)
    np.testing.assert_array_equal(c[7:33], a[7:33])


# ----------------------------------------------------------------------------- hypothesis vs NumPy
@st.composite
def _layout(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 20)) for _ in range(ndim))
    inner = tuple(draw(st.integers(1, 6)) for _ in range(ndim))
    shards = tuple(i * draw(st.integers(1, 3)) for i in inner)
    return shape, inner, shards


def _sel(draw, shape):
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "int", "step"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "step":
            parts.append(slice(draw(st.integers(0, n)), draw(st.integers(0, n)), draw(st.integers(1, 4))))
        else:
            lo = draw(st.integers(0, n))
            parts.append(slice(lo, draw(st.integers(lo, n))))
    return tuple(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_against_numpy(d):
    shape, inner, shards = d.draw(_layout())
    loc = d.draw(st.sampled_from(["end", "start"]))
    comp = d.draw(st.sampled_from([None, "blosc"]))
    ref = np.full(shape, -9, dtype="i2")
    c = cz.create(shape, chunks=inner, shards={"shape": shards, "index_location": loc}, dtype="i2", fill_value=-9,
                  compressor=Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE) if comp else None,
                  write_empty_chunks=d.draw(st.booleans()))
    for _ in range(3):
        s = _sel(d.draw, shape)
        v = np.asarray(d.draw(st.integers(-100, 100)), dtype="i2")
        vals = (np.arange(ref[s].size, dtype="i2") + v).reshape(ref[s].shape)
        c[s] = vals
        ref[s] = vals
        s2 = _sel(d.draw, shape)
        np.testing.assert_array_equal(c[s2], ref[s2])
    np.testing.assert_array_equal(c[...], ref)
    m = d.draw(st.integers(1, 30))
    pts = tuple(np.array(d.draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m))) for n in shape)
    np.testing.assert_array_equal(c.vindex[pts], ref[pts])
