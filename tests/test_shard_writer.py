"""The whole-shard write kernel (``chunkzip.shard_writer`` over ``_ext._write.write_shards``):
the same stored bytes as the generic per-shard path, read back by zarr-python 3 and
tensorstore, index at the start and the end, edge shards and partial edge inner chunks,
fill-valued inner chunks left out, fallbacks, atomic shards, hypothesis against NumPy."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import shard_writer
from chunkzip._ext import _write
from chunkzip.codecs import Blosc
from chunkzip.sharding import EMPTY, parse_shard
from chunkzip.storage import LocalStore, MemoryStore

BLOSC = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)


def data(shape, dtype="i4", seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(-1000, 1000, size=shape).astype(dtype)


class KernelCalls:
    """The kernel calls of a test: per call (the threads of one call share its
    counter, the last argument), the number of shards it was given."""

    def __init__(self):
        self.calls = {}

    def record(self, args):
        self.calls.setdefault(id(args[-1]), (args[-1], len(args[0])))

    @property
    def sizes(self):
        return [n for _, n in self.calls.values()]

    def __bool__(self):
        return bool(self.calls)


@pytest.fixture
def kernel_calls(monkeypatch):
    calls = KernelCalls()
    real = _write.write_shards

    def counting(*args):
        calls.record(args)
        return real(*args)

    monkeypatch.setattr(_write, "write_shards", counting)
    return calls


def stored(store):
    """The store's chunk values (shards), by key; metadata left out."""
    if isinstance(store, MemoryStore):
        return {k: bytes(v) for k, v in store._map.items() if k.startswith("c")}
    return {k: store.get(k) for k in store.list_prefix("c")}


def write_both(make_store, value, sel, monkeypatch, **kw):
    """Write ``value`` at ``sel`` through the kernel and through the generic path (each
    on a fresh array made with ``kw``); return both stores and the kernel array."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(shard_writer, "FAST_WRITE", fast)
        store = make_store(fast)
        c = cz.create(store=store, **kw)
        c[sel] = value
        out.append((store, c))
    monkeypatch.setattr(shard_writer, "FAST_WRITE", True)
    return out


# ----------------------------------------------------------------------------- same bytes as the generic path
@pytest.mark.parametrize("location", ["end", "start"])
@pytest.mark.parametrize("compressor", [None, BLOSC])
@pytest.mark.parametrize("local", [True, False])
def test_same_shards_as_generic_path(tmp_path, monkeypatch, kernel_calls, location, compressor, local):
    shape, shards, inner = (61, 47), (24, 20), (8, 5)  # edge shards with partial edge inner chunks
    a = data(shape)
    a[:24, :20] = 3  # one shard all fill
    a[24:32, 20:25] = 3  # one fill inner chunk in another
    a[48:, 40:] = 3  # the corner shard's in-array part all fill
    make = (lambda fast: LocalStore(str(tmp_path / str(fast)))) if local else (lambda fast: MemoryStore())
    (s1, c1), (s2, _) = write_both(make, a, np.s_[...], monkeypatch, shape=shape, chunks=inner, dtype="i4",
                                   shards={"shape": shards, "index_location": location}, fill_value=3,
                                   compressor=compressor)
    assert sum(kernel_calls.sizes) == 9
    got, want = stored(s1), stored(s2)
    assert got == want  # byte for byte, the index included
    np.testing.assert_array_equal(c1[...], a)
    # the fill inner chunk is an empty entry, the others are stored
    raw = got["c/1/1"]
    n = 3 * 4
    isz = 16 * n + 4
    idx = np.frombuffer(raw[-isz:-4] if location == "end" else raw[:isz - 4], "<u8").reshape(n, 2)
    assert (idx[0] == EMPTY).all() and not (idx[1:] == EMPTY).all(axis=1).any()


def test_index_entries_and_edge_shard_layout(kernel_calls):
    """The spec's layout, checked directly: entries in C order, offsets contiguous from
    the data start, empty entries all ones, and the corner shard's inner chunks past the
    array's edge left out."""
    from chunkzip.sharding import ShardingSpec

    store = MemoryStore()
    shape, shards, inner = (30, 22), (16, 12), (4, 6)
    c = cz.create(shape, chunks=inner, shards=shards, dtype="u2", store=store, compressor=None, fill_value=0)
    a = data(shape, "u2") | 1  # no element equals the fill value
    c[...] = a
    assert kernel_calls
    raw = store._map["c/1/1"]  # rows 16..29 (14), cols 12..21 (10): 4x2 inner grid, 4x2 in the array
    spec = ShardingSpec(inner)
    index, mask, lo = parse_shard(spec, raw, 8, "c/1/1")
    assert lo == 0 and mask.tolist() == [True] * 8  # 14 rows -> 4 inner rows (last partial)
    assert index[:, 0].tolist() == [i * 48 for i in range(8)] and (index[:, 1] == 48).all()
    first = np.frombuffer(raw[:48], "u2").reshape(inner)
    np.testing.assert_array_equal(first, a[16:20, 12:18])
    last = np.frombuffer(raw[7 * 48:8 * 48], "u2").reshape(inner)  # rows 28..31, cols 18..23: padded
    np.testing.assert_array_equal(last[:2, :4], a[28:30, 18:22])
    assert (last[2:] == 0).all() and (last[:, 4:] == 0).all()


# ----------------------------------------------------------------------------- the peers read it
@pytest.mark.parametrize("location", ["end", "start"])
def test_zarr_and_tensorstore_read_kernel_shards(tmp_path, kernel_calls, location):
    zarr = pytest.importorskip("zarr")
    ts = pytest.importorskip("tensorstore")
    shape = (70, 53)
    a = data(shape)
    a[10:20, :] = -1  # fill-valued inner chunks
    p = str(tmp_path / "a")
    c = cz.create(shape, chunks=(10, 7), shards={"shape": (30, 21), "index_location": location}, dtype="i4",
                  store=p, fill_value=-1, compressor=BLOSC)
    c[...] = a
    assert kernel_calls
    np.testing.assert_array_equal(zarr.open_array(p, mode="r")[...], a)
    t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": p}}).result()
    np.testing.assert_array_equal(t.read().result(), a)


def test_big_endian_index_and_f_order_written_for_zarr(tmp_path, kernel_calls):
    """An index with big-endian ``bytes`` (written by zarr-python's metadata), and
    F-order inner chunks (a transpose codec): the kernel writes both, zarr reads them."""
    zarr = pytest.importorskip("zarr")
    from zarr.codecs import BloscCodec, BytesCodec, Crc32cCodec, ShardingCodec

    p = str(tmp_path / "b")
    zarr.create(store=p, shape=(40, 30), chunks=(20, 15), dtype="i4", zarr_format=3, fill_value=0,
                codecs=[ShardingCodec(chunk_shape=(5, 5), codecs=[BytesCodec(), BloscCodec(cname="lz4")],
                                      index_codecs=[BytesCodec(endian="big"), Crc32cCodec()])])
    a = data((40, 30))
    cz.open(p, mode="r+")[...] = a
    assert kernel_calls
    np.testing.assert_array_equal(zarr.open_array(p, mode="r")[...], a)
    f = str(tmp_path / "f")
    c = cz.create((23, 17), chunks=(5, 4), shards=(10, 8), dtype="<i4", order="F", store=f)
    b = data((23, 17))
    c[...] = b
    assert len(kernel_calls.sizes) == 2
    np.testing.assert_array_equal(zarr.open_array(f, mode="r")[...], b)
    np.testing.assert_array_equal(c[...], b)


# ----------------------------------------------------------------------------- empty shards
@pytest.mark.parametrize("wec", [False, True])
def test_all_fill_shard(kernel_calls, monkeypatch, wec):
    """write_empty_chunks=False: an all-fill shard is not written, and an existing one
    deleted; True: a bare index, as the generic path writes."""
    stores = []
    for fast in (True, False):
        monkeypatch.setattr(shard_writer, "FAST_WRITE", fast)
        store = MemoryStore()
        c = cz.create((40, 40), chunks=(10, 10), shards=(20, 20), dtype="i4", store=store, write_empty_chunks=wec)
        c[...] = 1
        a = np.zeros((40, 40), "i4")
        a[25, 25] = 7
        c[...] = a  # shards (0,0), (0,1), (1,0) all fill
        np.testing.assert_array_equal(c[...], a)
        stores.append(stored(store))
    assert stores[0] == stores[1]
    assert sorted(stores[0]) == (["c/0/0", "c/0/1", "c/1/0", "c/1/1"] if wec else ["c/1/1"])
    assert kernel_calls


# ----------------------------------------------------------------------------- fallbacks
def test_nested_sharding_and_other_chains_fall_back(tmp_path, kernel_calls):
    from chunkzip.codecs import Zstd

    a = data((40, 30))
    z = cz.create((40, 30), chunks=(10, 15), shards=(20, 30), dtype="i4", store=str(tmp_path / "z"),
                  compressor=Zstd(level=1))
    z[...] = a
    np.testing.assert_array_equal(z[...], a)
    s = cz.create((21, 13), chunks=(5, 4), shards=(10, 8), dtype=">u2", store=str(tmp_path / "s"))
    s[...] = a[:21, :13].astype(">u2")
    np.testing.assert_array_equal(s[...], a[:21, :13].astype(">u2"))
    assert not kernel_calls
    zarr = pytest.importorskip("zarr")
    from zarr.codecs import BytesCodec, ShardingCodec

    p = str(tmp_path / "n")
    zarr.create(store=p, shape=(40, 30), chunks=(20, 30), dtype="i4", zarr_format=3,
                codecs=[ShardingCodec(chunk_shape=(10, 15), codecs=[
                    ShardingCodec(chunk_shape=(5, 5), codecs=[BytesCodec()])])])
    n = cz.open(p, mode="r+")
    n[...] = a
    assert not kernel_calls
    np.testing.assert_array_equal(zarr.open_array(p, mode="r")[...], a)


def test_partial_shards_and_non_contiguous_values(kernel_calls):
    """Partly covered shards go the read-modify-write path; the covered ones the kernel,
    from any strided value (a transposed or stepped view)."""
    store = MemoryStore()
    c = cz.create((48, 40), chunks=(6, 5), shards=(12, 10), dtype="f8", store=store, compressor=BLOSC,
                  fill_value=np.nan)
    expect = np.full((48, 40), np.nan)
    big = np.arange(80 * 60, dtype="f8").reshape(60, 80)
    v = big.T[::2, 1:31]  # 40x30, neither C- nor F-contiguous
    c[3:43, 5:35] = v
    expect[3:43, 5:35] = v
    np.testing.assert_array_equal(c[...], expect)
    assert kernel_calls.sizes == [4]  # shards 1..2 x 1..2 (rows 12..35, cols 10..29) are whole
    w = big[:48, ::2]
    c[...] = w
    np.testing.assert_array_equal(c[...], w)


def test_reversed_broadcast_and_nan_fill(monkeypatch, kernel_calls):
    """Values with negative or zero strides; a NaN fill value: inner chunks of NaN are
    left out, as on the generic path."""
    results = []
    for fast in (True, False):
        monkeypatch.setattr(shard_writer, "FAST_WRITE", fast)
        store = MemoryStore()
        c = cz.create((30, 28), chunks=(5, 7), shards=(10, 14), dtype="f4", store=store, fill_value=np.nan)
        rev = np.arange(30 * 28, dtype="f4").reshape(30, 28)[::-1, ::-1]
        c[...] = rev
        np.testing.assert_array_equal(c[...], rev)
        row = np.arange(28, dtype="f4")
        c[10:20] = row  # broadcast: zero stride along the rows
        c[20:25, :14] = np.nan
        expect = rev.copy()
        expect[10:20] = row
        expect[20:25, :14] = np.nan
        np.testing.assert_array_equal(c[...], expect)
        results.append(stored(store))
    assert results[0] == results[1]
    assert kernel_calls.sizes[:2] == [6, 2]


def test_dropped_dimension_and_synchronizer(kernel_calls):
    """An integer index on a dimension of one-element shards is a whole shard for the
    kernel; with a synchronizer every write takes the generic path (under the lock)."""
    c = cz.create((6, 40), chunks=(1, 5), shards=(1, 20), dtype="i2", store=MemoryStore())
    row = np.arange(40, dtype="i2")
    c[3] = row
    assert kernel_calls.sizes == [2]
    expect = np.zeros((6, 40), "i2")
    expect[3] = row
    np.testing.assert_array_equal(c[...], expect)
    s = cz.create((6, 40), chunks=(1, 5), shards=(1, 20), dtype="i2", store=MemoryStore(),
                  synchronizer=cz.ThreadSynchronizer())
    s[...] = expect
    assert kernel_calls.sizes == [2]
    np.testing.assert_array_equal(s[...], expect)


def test_fsspec_store_gets_assembled_shards(kernel_calls):
    pytest.importorskip("fsspec")
    from chunkzip.storage import FsspecStore

    url = "memory://cz-shard-writer/a.zarr"
    a = data((50, 33))
    c = cz.open(url, mode="w", shape=a.shape, chunks=(10, 11), shards=(20, 33), dtype="i4", compressor=BLOSC)
    c[...] = a
    assert kernel_calls.sizes == [3]
    np.testing.assert_array_equal(cz.open(url, mode="r")[...], a)
    store = FsspecStore.from_url(url)
    assert sorted(store.list_prefix("c/")) == ["c/0/0", "c/1/0", "c/2/0"]
    store.delete_many(list(store.list_prefix("")))


def test_fill_test_is_bitwise(kernel_calls):
    """The kernel leaves out inner chunks whose bytes are the fill value's: a chunk of
    -0.0 under fill 0.0 is stored, so the sign bit reads back (the generic path's ``==``
    test leaves it out, and it reads back as 0.0)."""
    store = MemoryStore()
    c = cz.create((8, 8), chunks=(4, 4), shards=(8, 8), dtype="f8", store=store, fill_value=0.0, compressor=None)
    v = np.zeros((8, 8))
    v[:4, :4] = -0.0
    c[...] = v
    assert kernel_calls.sizes == [1]
    assert np.signbit(c[:4, :4]).all() and not np.signbit(c[4:, 4:]).any()
    assert len(store._map["c/0/0"]) == 4 * 4 * 8 + 16 * 4 + 4  # one stored inner chunk


def test_buffered_store_in_batches(monkeypatch, kernel_calls):
    """Stores that are not directories get shards assembled in bounded batches."""
    monkeypatch.setattr(shard_writer, "BUFFER_BATCH_BYTES", 1)  # one shard per kernel call
    store = MemoryStore()
    a = data((100_000,))
    c = cz.create(a.shape, chunks=(1000,), shards=(10_000,), dtype="i4", store=store, compressor=BLOSC)
    c[...] = a
    assert kernel_calls.sizes == [1] * 10
    np.testing.assert_array_equal(c[...], a)


# ----------------------------------------------------------------------------- atomic shards
def test_failed_shard_leaves_nothing_partial(tmp_path, kernel_calls):
    """A shard the kernel cannot store (here: a directory stands at its path) is left
    to the generic path, which raises; the other shards are whole, the failed one has
    no partial file, and no temporary file is left behind."""
    p = str(tmp_path / "a")
    c = cz.create((40, 40), chunks=(10, 10), shards=(20, 20), dtype="i4", store=p, compressor=BLOSC)
    old = data((40, 40), seed=1)
    c[...] = old
    os.remove(os.path.join(p, "c", "1", "0"))
    os.makedirs(os.path.join(p, "c", "1", "0", "x"))
    new = data((40, 40), seed=2)
    with pytest.raises(OSError):
        c[...] = new
    assert kernel_calls
    leftovers = [f for _, _, fs in os.walk(p) for f in fs if f.startswith(".cztmp")]
    assert leftovers == []
    assert os.listdir(os.path.join(p, "c", "1", "0")) == ["x"]
    np.testing.assert_array_equal(c[:20], new[:20])
    np.testing.assert_array_equal(c[20:, 20:], new[20:, 20:])


def test_reserved_blocks_change_no_byte(tmp_path, kernel_calls):
    """Shard files get their blocks reserved (fallocate) before they are written: the
    files are byte for byte those written without it, sizes included."""
    a = data((64, 64))
    got = []
    for reserve in (1, 1 << 30):
        old = _write._set_reserve_min(reserve)
        try:
            store = LocalStore(str(tmp_path / str(reserve)))
            c = cz.create((64, 64), chunks=(8, 8), shards=(32, 32), dtype="i4", store=store, compressor=None)
            c[...] = a
            c[...] = a[::-1]  # over existing shards
        finally:
            _write._set_reserve_min(old)
        got.append(stored(store))
    assert got[0] == got[1] and len(got[0]) == 4
    assert all(len(v) == 32 * 32 * 4 + 16 * 16 + 4 for v in got[0].values())
    assert len(kernel_calls.sizes) == 4


def test_concurrent_whole_writes_leave_whole_shards(tmp_path, kernel_calls):
    """Two threads rewriting every shard of one array at once (no synchronizer):
    each shard ends up wholly one writer's, never a mix, and no temporary file is
    left; a reader running meanwhile only ever sees whole shards too."""
    import threading

    p = str(tmp_path / "a")
    c = cz.create((64, 60), chunks=(8, 6), shards=(32, 30), dtype="i4", store=p, compressor=BLOSC)
    vals = [np.full((64, 60), 1, "i4"), np.full((64, 60), 2, "i4")]
    vals[1][::3] = 5
    c[...] = vals[0]
    errors = []

    def writer(v):
        try:
            for _ in range(10):
                cz.open(p, mode="r+")[...] = v
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def check(got):
        for i in range(2):
            for j in range(2):
                s = got[i * 32:(i + 1) * 32, j * 30:(j + 1) * 30]
                assert any(np.array_equal(s, v[i * 32:(i + 1) * 32, j * 30:(j + 1) * 30]) for v in vals)

    threads = [threading.Thread(target=writer, args=(v,)) for v in vals]
    for t in threads:
        t.start()
    reader = cz.open(p, mode="r")
    while any(t.is_alive() for t in threads):
        check(reader[...])
    for t in threads:
        t.join()
    assert not errors
    check(c[...])
    assert [f for _, _, fs in os.walk(p) for f in fs if f.startswith(".cztmp")] == []
    assert len(kernel_calls.sizes) >= 20


def test_leftover_temp_file_falls_back(tmp_path, monkeypatch, kernel_calls):
    """A temporary name already taken makes the kernel give that shard back; the
    generic path writes it, and the old temporary file is not touched."""
    store = LocalStore(str(tmp_path / "a"))
    c = cz.create((20, 20), chunks=(5, 5), shards=(10, 10), dtype="i4", store=store)
    a = data((20, 20))
    monkeypatch.setattr(store, "write_targets", lambda keys, f=store.write_targets: (f(keys)[0], b"T"))
    os.makedirs(tmp_path / "a" / "c" / "1", exist_ok=True)
    (tmp_path / "a" / "c" / "1" / ".cztmp-T-1").write_bytes(b"junk")
    c[...] = a
    assert kernel_calls
    np.testing.assert_array_equal(c[...], a)
    assert (tmp_path / "a" / "c" / "1" / ".cztmp-T-1").read_bytes() == b"junk"


# ----------------------------------------------------------------------------- hypothesis
@st.composite
def cases(draw):
    nd = draw(st.integers(1, 3))
    inner = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    shards = tuple(c * draw(st.integers(1, 3)) for c in inner)
    shape = tuple(draw(st.integers(1, 2 * s + 3)) for s in shards)
    sel = []
    for n in shape:
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a + 1, n))
        sel.append(slice(a, b))
    return dict(shape=shape, inner=inner, shards=shards, sel=tuple(sel),
                location=draw(st.sampled_from(["end", "start"])), order=draw(st.sampled_from("CF")),
                compressor=draw(st.sampled_from([None, BLOSC, Blosc(cname="zstd", clevel=1, shuffle=Blosc.NOSHUFFLE),
                                                 Blosc(cname="blosclz", clevel=9, shuffle=Blosc.BITSHUFFLE)])),
                dtype=draw(st.sampled_from(["i4", "u1", "f8", "i2"])), wec=draw(st.booleans()),
                fill_frac=draw(st.sampled_from([0.0, 0.5, 0.95])), seed=draw(st.integers(0, 2 ** 16)),
                local=draw(st.booleans()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cases())
def test_hypothesis_against_numpy_and_generic(tmp_path_factory, monkeypatch, kernel_calls, case):
    rng = np.random.default_rng(case["seed"])
    shape, dt = case["shape"], np.dtype(case["dtype"])
    fill = 2
    before = (rng.integers(0, 50, size=shape)).astype(dt)
    value = (rng.integers(0, 50, size=shape)).astype(dt)[case["sel"]]
    value[rng.random(value.shape) < case["fill_frac"]] = fill
    expect = before.copy()
    expect[case["sel"]] = value
    root = tmp_path_factory.mktemp("h")
    results = []
    for fast in (True, False):
        monkeypatch.setattr(shard_writer, "FAST_WRITE", fast)
        store = LocalStore(str(root / str(fast))) if case["local"] else MemoryStore()
        c = cz.create(shape, chunks=case["inner"], dtype=dt, store=store, fill_value=fill, order=case["order"],
                      shards={"shape": case["shards"], "index_location": case["location"]},
                      compressor=case["compressor"], write_empty_chunks=case["wec"])
        ncalls = len(kernel_calls.sizes)
        c[...] = before
        assert (len(kernel_calls.sizes) > ncalls) == fast  # every shard is whole: the kernel's, when on
        c[case["sel"]] = value
        np.testing.assert_array_equal(c[...], expect)
        results.append(stored(store))
    monkeypatch.setattr(shard_writer, "FAST_WRITE", True)
    assert results[0] == results[1]
