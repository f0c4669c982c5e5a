"""The fast read paths of sharded arrays (``chunkzip.sharded_io``): box selections on
the inner grid, points grouped once by inner chunk, partial shards read through one
open file, whole shards on the pool, and the one-pass index check
(``_ext._copy.shard_index``) -- each against NumPy or against the Python index checks
(``sharding.decode_index`` / ``check_index``) as the oracle, on every store kind."""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip.codecs import Blosc
from chunkzip.sharding import ShardIndexError, ShardingSpec, check_index, decode_index, encode_index, read_index
from chunkzip.storage import LocalStore, MemoryStore

shard_index = pytest.importorskip("chunkzip._ext._copy").shard_index
from test_sharding import _layout  # noqa: E402 - random (shape, inner chunks, shards), as there
EMPTY = 2 ** 64 - 1


# ----------------------------------------------------------------------------- the index check
def _python_index(spec, raw, n, start, end):
    """The reference: (index, stored) or the exception the Python checks raise."""
    try:
        index = decode_index(spec, raw, n, "k")
        return index, check_index(index, "k", start, end)
    except ShardIndexError as e:
        return e


@st.composite
def _indexes(draw):
    n = draw(st.integers(1, 24))
    sizes = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    empty = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))  # the layout order of the chunks in the shard
    location = draw(st.sampled_from(["start", "end"]))
    spec = ShardingSpec((1,), location, draw(st.booleans()), draw(st.sampled_from(["<", ">"])))
    start = spec.index_nbytes(n) if location == "start" else 0
    idx = np.full((n, 2), EMPTY, dtype=np.uint64)
    pos = start
    for i in order:
        if not empty[i]:
            idx[i] = (pos, sizes[i])
            pos += sizes[i] + draw(st.integers(0, 3))
    end = pos + draw(st.integers(0, 5))
    damage = draw(st.sampled_from(["none", "none", "overlap", "half", "past_end", "before_start", "overflow",
                                   "crc", "size"]))
    i = draw(st.integers(0, n - 1))
    j = draw(st.integers(0, n - 1))
    if damage == "overlap" and idx[j, 0] != EMPTY and idx[i, 0] != EMPTY and i != j:
        idx[i, 0] = idx[j, 0] + (idx[j, 1] // 2 if idx[j, 1] else 0)
        idx[i, 1] = max(int(idx[i, 1]), 1)
    elif damage == "half":
        idx[i, 0] = EMPTY
        idx[i, 1] = 0 if idx[i, 1] == EMPTY else idx[i, 1]
    elif damage == "past_end" and idx[i, 0] != EMPTY:
        idx[i, 1] = end - idx[i, 0] + 1
    elif damage == "before_start" and idx[i, 0] != EMPTY and start:
        idx[i, 0] = start - 1
    elif damage == "overflow":
        idx[i] = (draw(st.sampled_from([2 ** 62, 2 ** 63 + 5, EMPTY - 1])), 4)
    raw = encode_index(spec, idx)
    if damage == "crc" and spec.index_checksum:
        raw = raw[:-1] + bytes([raw[-1] ^ 0x5A])
    elif damage == "size":
        raw = raw[:-1]
    return spec, raw, n, start, draw(st.sampled_from([end, None]))


@settings(max_examples=300, deadline=None)
@given(_indexes())
def test_one_pass_index_check_agrees_with_the_python_checks(case):
    spec, raw, n, start, end = case
    ref = _python_index(spec, raw, n, start, end)
    got = shard_index(raw, n, spec.index_checksum, spec.index_endian == ">", start, -1 if end is None else end)
    if isinstance(ref, ShardIndexError):
        assert got is None
        with pytest.raises(ShardIndexError, match="'k'"):  # the entry point words the error
            read_index(spec, raw, n, "k", start, end)
    else:
        assert got is not None
        np.testing.assert_array_equal(got[0], ref[0])
        np.testing.assert_array_equal(got[1], ref[1])
        assert got[0].dtype == np.uint64 and got[1].dtype == bool


def test_zarr_python_morton_layout_takes_the_one_pass_check(tmp_path):
    """zarr-python lays inner chunks out in Morton order (offsets out of the index's C
    order): the one-pass check must accept that, not fall back to the slow path."""
    zarr = pytest.importorskip("zarr")
    a = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    z = zarr.create_array(store=str(tmp_path / "z"), shape=a.shape, chunks=(8, 8), shards=(32, 32), dtype="i4")
    z[:] = a
    raw = open(tmp_path / "z" / "c" / "0" / "1", "rb").read()
    n = 16
    isz = 16 * n + 4
    got = shard_index(raw[-isz:], n, True, False, 0, len(raw) - isz)
    assert got is not None and got[1].all()
    assert (np.diff(got[0][:, 0].astype(np.int64)) < 0).any()  # really out of C order
    c = cz.open(str(tmp_path / "z"), mode="r")
    np.testing.assert_array_equal(c[5:60, 3:41], a[5:60, 3:41])
    np.testing.assert_array_equal(c[8:16, 40:48], a[8:16, 40:48])


def test_zarr_python_shard_with_overlap_is_refused_naming_the_key(tmp_path):
    zarr = pytest.importorskip("zarr")
    from chunkzip.codecs.checksums import CRC32C

    a = np.arange(32 * 32, dtype="i4").reshape(32, 32)
    z = zarr.create_array(store=str(tmp_path / "z"), shape=a.shape, chunks=(8, 8), shards=(32, 32), dtype="i4",
                          compressors=None)
    z[:] = a
    f = tmp_path / "z" / "c" / "0" / "0"
    raw = bytearray(f.read_bytes())
    n, isz = 16, 16 * 16 + 4
    idx = np.frombuffer(bytes(raw[-isz:-4]), "<u8").reshape(n, 2).copy()
    idx[5, 0] = idx[9, 0] + 4  # inner chunk 5 now overlaps inner chunk 9
    body = idx.astype("<u8").tobytes()
    raw[-isz:] = body + (CRC32C._checksum(np.frombuffer(body, np.uint8)) & 0xFFFFFFFF).to_bytes(4, "little")
    f.write_bytes(bytes(raw))
    c = cz.open(str(tmp_path / "z"), mode="r")
    for sel in (np.s_[...], np.s_[0:8, 8:16], np.s_[1:20, 3:30]):
        with pytest.raises(ShardIndexError, match="c/0/0.*overlapping"):
            c[sel]
    with pytest.raises(ShardIndexError, match="c/0/0"):
        c[9, 9]


# ----------------------------------------------------------------------------- reads against NumPy
def _store(kind, tmp):
    if kind == "local":
        return LocalStore(os.path.join(tmp, "a"))
    if kind == "zip":
        from chunkzip.storage import ZipStore

        return ZipStore(os.path.join(tmp, "a.zip"), mode="w")
    return MemoryStore()


def _box(draw, shape):
    sel = []
    for n in shape:
        if draw(st.booleans()):
            sel.append(draw(st.integers(-n, n - 1)))
        else:
            lo = draw(st.integers(0, n))
            sel.append(slice(lo, draw(st.integers(lo, n))))  # empty slices too
    return tuple(sel)


@pytest.mark.parametrize("kind", ["local", "memory", "zip"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(d=st.data())
def test_box_and_point_reads_against_numpy(kind, d):
    shape, inner, shards = d.draw(_layout())
    loc = d.draw(st.sampled_from(["end", "start"]))
    tmp = tempfile.mkdtemp(prefix="cz-shr-")
    try:
        store = _store(kind, tmp)
        ref = np.full(shape, 7, dtype="i4")
        c = cz.create(shape, chunks=inner, shards={"shape": shards, "index_location": loc}, dtype="i4",
                      fill_value=7, store=store, write_empty_chunks=False,
                      compressor=d.draw(st.sampled_from([None, Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE)])))
        for _ in range(d.draw(st.integers(0, 3))):  # some regions written, the rest fill (missing shards,
            s = _box(d.draw, shape)                   # empty inner chunks)
            vals = np.random.default_rng(len(ref[s].shape)).integers(-50, 50, ref[s].shape).astype("i4")
            c[s] = vals
            ref[s] = vals
        if kind == "zip":
            store.close()
            from chunkzip.storage import ZipStore

            c = cz.open(ZipStore(os.path.join(tmp, "a.zip"), mode="r"), mode="r")
        # one thread: the local reads without the overlap of reading and decoding
        with cz.config.set(threads=d.draw(st.sampled_from([1, 2]))):
            for _ in range(3):
                s = _box(d.draw, shape)
                np.testing.assert_array_equal(c[s], ref[s])
            np.testing.assert_array_equal(c[...], ref)
            m = d.draw(st.integers(1, 25))
            pts = tuple(np.array(d.draw(st.lists(st.integers(-n, n - 1), min_size=m, max_size=m))) for n in shape)
            np.testing.assert_array_equal(c.vindex[pts], ref[pts])
            mask = np.random.default_rng(m).random(shape) < 0.3
            np.testing.assert_array_equal(c.get_mask_selection(mask), ref[mask])
            one = tuple(int(x[0]) for x in pts)
            assert c[one] == ref[one]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- how the files are read
def test_partial_local_shards_are_opened_once_each(tmp_path, monkeypatch):
    a = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    c = cz.array(a, chunks=(8, 8), shards=(32, 32), store=str(tmp_path / "a"))
    opened = []
    orig = LocalStore._open_value

    def counting(self, key):
        opened.append(key)
        return orig(self, key)

    monkeypatch.setattr(LocalStore, "_open_value", counting)
    c = cz.open(str(tmp_path / "a"), mode="r")
    opened.clear()
    np.testing.assert_array_equal(c[10:50, 3:40], a[10:50, 3:40])  # four partial shards
    assert sorted(opened) == ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    opened.clear()
    np.testing.assert_array_equal(c[40:48, 8:16], a[40:48, 8:16])  # one inner chunk
    assert opened == ["c/1/0"]


def test_open_ranges(tmp_path):
    st_ = LocalStore(str(tmp_path))
    st_.set("a/b", bytes(range(100)))
    assert st_.open_ranges("nope") is None
    with st_.open_ranges("a/b") as f:
        assert f.size == 100
        assert f.read(10, 5) == bytes(range(10, 15))
        assert f.read(-3) == bytes([97, 98, 99])
        assert f.read(95, 20) == bytes(range(95, 100))
    assert f.fd == -1  # closed on leaving
    os.makedirs(tmp_path / "dir")
    with pytest.raises(IsADirectoryError, match="dir"):
        st_.open_ranges("dir")


@pytest.mark.parametrize("location", ["end", "start"])
def test_oversized_inner_chunk_in_a_local_shard_is_an_error_naming_it(tmp_path, location):
    """An inner chunk longer than any valid encoding of it (the kernel's threads refuse to
    read it): the generic path reports it, naming the shard, on the overlapped read of
    several shards, the one-chunk read and the point read."""
    from chunkzip.sharding import assemble

    p = str(tmp_path / "a")
    c = cz.create((8, 16), chunks=(4, 4), shards={"shape": (8, 8), "index_location": location}, dtype="i4",
                  store=p, compressor=None)
    a = np.arange(8 * 16, dtype="i4").reshape(8, 16)
    c[:] = a
    spec = c._pipeline.meta.sharding
    parts = [np.ascontiguousarray(a[r:r + 4, q:q + 4]).tobytes() for r in (0, 4) for q in (0, 4)]
    parts[3] = parts[3] + bytes(100)  # 164 bytes for a 64-byte raw chunk
    with open(os.path.join(p, "c", "0", "0"), "wb") as f:
        f.write(assemble(spec, parts))
    c = cz.open(p, mode="r")
    np.testing.assert_array_equal(c[0:4, 2:12], a[0:4, 2:12])  # the other inner chunks still read
    for sel in (np.s_[1:7, 3:11], np.s_[4:8, 4:8]):
        with pytest.raises(ValueError, match="c/0/0"):
            c[sel]
    with pytest.raises(ValueError, match="c/0/0"):
        c.vindex[[5, 0], [5, 9]]


@pytest.mark.parametrize("order", ["C", "F"])
def test_inner_chunks_in_f_order_read_through_every_box_path(tmp_path, order):
    """Inner chunks stored in F order (a transpose codec inside the shard): one inner
    chunk, part of one, a window over several shards and a whole read, against NumPy."""
    a = np.arange(30 * 28, dtype="i4").reshape(30, 28) * 7 - 1000
    c = cz.create(a.shape, chunks=(5, 4), shards=(10, 12), dtype="i4", order=order, store=str(tmp_path / "a"),
                  compressor=Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE))
    c[:] = a
    c = cz.open(str(tmp_path / "a"), mode="r")
    for sel in (np.s_[5:10, 4:8], np.s_[6:9, 5], np.s_[7, 4:7], np.s_[3:27, 2:25], np.s_[...], np.s_[29, 27]):
        np.testing.assert_array_equal(c[sel], a[sel])


# ----------------------------------------------------------------------------- box plans
@settings(max_examples=200, deadline=None)
@given(layout=_layout(), data=st.data())
def test_box_plan_same_as_shard_groups(layout, data):
    """_plan.box_shards groups the product of per-dimension inner chunk ids exactly as
    shard_groups does from the listed coordinates, and product_combo numbers its chunks
    as NumPy's C-order unravelling does; ids out of order are left to shard_groups (None)."""
    from chunkzip import pipeline, sharded_io
    from chunkzip._ext import _plan

    shape, inner, shards = layout
    z = cz.create(shape, chunks=inner, shards=shards, dtype="i2", zarr_format=3)
    ip = sharded_io._inner_pipeline(z._pipeline)
    grid = [-(-n // c) for n, c in zip(shape, inner)]
    ids = [sorted(data.draw(st.sets(st.integers(0, g - 1), min_size=1, max_size=g))) for g in grid]
    if data.draw(st.booleans()):
        ids = [np.asarray(x, dtype=np.int64) for x in ids]
    groups = _plan.box_shards(ids, ip.per, ip.meta.shape, ip.meta.chunks)
    counts = [len(x) for x in ids]
    want_combo = np.stack(np.unravel_index(np.arange(np.prod(counts)), counts), axis=1) \
        + np.cumsum([0] + counts[:-1])
    np.testing.assert_array_equal(pipeline.product_combo(counts), want_combo)
    whole, partial = sharded_io.shard_groups(ip, ip._keys(ids))

    def norm(items):
        return sorted((k, p.tolist(), q.tolist()) for k, p, q in items)

    got_whole = [(ip.outer.key(sc), p, q) for sc, p, q, w in groups if w]
    got_partial = [(ip.outer.key(sc), p, q) for sc, p, q, w in groups if not w]
    assert norm(got_whole) == norm(whole) and norm(got_partial) == norm(partial)
    for _sc, p, _q, _w in groups:
        assert p.tolist() == sorted(p.tolist())
    if max(counts) > 1:
        d = counts.index(max(counts))
        shuffled = [list(x) for x in ids]
        shuffled[d] = shuffled[d][::-1]
        assert _plan.box_shards(shuffled, ip.per, ip.meta.shape, ip.meta.chunks) is None


def test_place_located_matches_index():
    from chunkzip._ext import _plan

    index = np.array([[10, 5], [2 ** 64 - 1, 2 ** 64 - 1], [20, 7]], dtype=np.uint64)
    stored = np.array([1, 0, 1], dtype=np.uint8)
    srcs = [None] * 3
    _plan.place_located(srcs, None, np.array([2, 1, 0], np.int64), index, stored, 3)
    assert srcs == [(3, 20, 7), None, (3, 10, 5)]
    srcs = ["x"] * 4
    _plan.place_located(srcs, np.array([3, 0], np.int64), np.array([0, 1], np.int64), index, stored, b"ab")
    assert srcs == ["x", "x", "x", (b"ab", 10, 5)]
    with pytest.raises(IndexError):
        _plan.place_located([None], None, np.array([3], np.int64), index, stored, 3)
    with pytest.raises(IndexError):
        _plan.place_located([None], np.array([1], np.int64), np.array([0], np.int64), index, stored, 3)
    _plan.place(srcs, np.array([1], np.int64), index[2:], b"cd", 4)
    assert srcs[1] == (b"cd", 16, 7)


@pytest.mark.parametrize("counts", [[], [1], [3], [2, 1, 4], [1, 1], [5, 0, 2]])
def test_product_combo_edge_counts(counts):
    from chunkzip import pipeline

    got = pipeline.product_combo(counts)
    n = int(np.prod(counts)) if counts else 1
    assert got.shape == (n, len(counts)) and got.dtype == np.int64
    if n and counts:
        want = np.stack(np.unravel_index(np.arange(n), counts), axis=1) + np.cumsum([0] + counts[:-1])
        np.testing.assert_array_equal(got, want)
