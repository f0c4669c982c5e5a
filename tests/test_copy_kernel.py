"""The batched read kernel (chunkzip/_ext/_copy.pyx) against NumPy.

Random shapes, chunkings (edge chunks, chunks larger than the array), orders, formats,
dtypes (incl. big-endian and structured), compressors (Blosc / none / one the kernel
does not handle), stores (memory / local files) and missing chunks (fill values).
"""
from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.codecs import Blosc
from chunkzip.storage import LocalStore, MemoryStore

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DTYPES = ["i2", ">i4", "<f8", "u1", "c8", ">u8", [("a", "<i4"), ("b", "u1")]]


@st.composite
def case(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 10)) for _ in range(ndim))
    return dict(
        shape=shape, chunks=chunks,
        fmt=draw(st.sampled_from([2, 3])),
        order=draw(st.sampled_from(["C", "F"])),
        dtype=draw(st.sampled_from(range(len(DTYPES)))),
        comp=draw(st.sampled_from(["blosc", "bitshuffle", "none"])),
        local=draw(st.booleans()),
        holes=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31)),
    )


def build(c, tmp_path):
    dt = np.dtype(DTYPES[c["dtype"]])
    rng = np.random.default_rng(c["seed"])
    raw = rng.integers(0, 250, size=int(np.prod(c["shape"], dtype=np.int64)) * dt.itemsize, dtype=np.uint8)
    a = np.frombuffer(raw.tobytes(), dtype=dt).reshape(c["shape"]).copy()
    comp = {"blosc": Blosc("lz4", 5, Blosc.SHUFFLE), "bitshuffle": Blosc("zstd", 3, Blosc.BITSHUFFLE),
            "none": None}[c["comp"]]
    store = LocalStore(str(tmp_path / uuid.uuid4().hex)) if c["local"] else MemoryStore()
    fill = None if dt.names else np.zeros((), dt)[()] + (0 if dt.kind in "c" else 7)
    kw = dict(zarr_format=c["fmt"], compressor=comp) if c["fmt"] == 2 else \
        dict(zarr_format=3, compressors=[comp] if comp else None)
    z = cz.create(shape=c["shape"], chunks=c["chunks"], dtype=dt, store=store, order=c["order"],
                  fill_value=fill, **kw)
    z[...] = a
    if c["holes"] and c["shape"]:
        # drop about half the chunks: reads must see the fill value there
        pipe = z._pipeline
        for i, key in enumerate(sorted(pipe.chunk_keys())):
            if i % 2 == 0:
                store.delete(key)
                coords = pipe.parse_key(key)
                region = tuple(slice(ci * ch, (ci + 1) * ch) for ci, ch in zip(coords, c["chunks"]))
                a[region] = np.array(z.fill_value if z.fill_value is not None else np.zeros((), dt)[()], dtype=dt)
    return a, z


def selections(draw, shape):
    basic = []
    ortho = []
    for n in shape:
        k = draw(st.sampled_from(["int", "slice", "ints"]))
        if k == "int":
            i = draw(st.integers(-n, n - 1))
            basic.append(i)
            ortho.append(i)
        else:
            s = slice(draw(st.integers(0, n)), draw(st.integers(0, n)), draw(st.integers(1, 4)))
            basic.append(s)
            ortho.append(s if k == "slice" else
                         np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6))))
    return tuple(basic), tuple(ortho)


def numpy_ortho(a, sel):
    out, axis = a, 0
    for s in sel:
        if isinstance(s, (int, np.integer)):
            out = np.take(out, s, axis=axis)
        else:
            out = out[(slice(None),) * axis + (s,)]
            axis += 1
    return out


@SETTINGS
@given(c=case(), data=st.data())
def test_kernel_matches_numpy(c, data, tmp_path):
    a, z = build(c, tmp_path)
    if c["fmt"] == 2 or np.dtype(DTYPES[c["dtype"]]).byteorder in "=<|":
        assert z._pipeline._kernel_kind_cached is not None  # (v3 big-endian: byte swap, generic path)
    np.testing.assert_array_equal(z[...], a)
    if not c["shape"]:
        np.testing.assert_array_equal(z[()], a[()])
        return
    basic, ortho = selections(data.draw, c["shape"])
    np.testing.assert_array_equal(z[basic], a[basic])
    np.testing.assert_array_equal(z.oindex[ortho], numpy_ortho(a, ortho))
    npts = data.draw(st.integers(1, 30))
    pts = tuple(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=npts, max_size=npts)))
                for n in c["shape"])
    np.testing.assert_array_equal(z.vindex[pts], a[pts])
    mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=a.size, max_size=a.size)),
                      dtype=bool).reshape(a.shape)
    np.testing.assert_array_equal(z.vindex[mask], a[mask])
    if a.ndim >= 1:
        blk = data.draw(st.integers(0, -(-c["shape"][0] // c["chunks"][0]) - 1))
        lo = blk * c["chunks"][0]
        np.testing.assert_array_equal(z.blocks[blk], a[lo:lo + c["chunks"][0]])


@pytest.mark.parametrize("local", [False, True])
def test_kernel_same_as_generic_path(local, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    a = rng.integers(0, 1000, (67, 45), dtype=np.int32)
    store = LocalStore(str(tmp_path / "g")) if local else MemoryStore()
    z = cz.array(a, chunks=(16, 10), store=store, zarr_format=2)
    sels = [np.s_[...], np.s_[3:60:7, 1:44:2], np.s_[5], np.s_[:, 44], np.s_[60:, 40:]]
    fast = [z[s] for s in sels]
    monkeypatch.setattr(pipeline, "FAST_READ", False)
    slow = [z[s] for s in sels]
    for f, s, sel in zip(fast, slow, sels):
        np.testing.assert_array_equal(f, s)
        np.testing.assert_array_equal(f, a[sel])


def test_kernel_not_used_for_other_codecs():
    from chunkzip.codecs import Zstd

    z = cz.zeros((10, 10), chunks=(4, 4), dtype="i4", zarr_format=2, compressor=Zstd(1))
    assert z._pipeline._kernel_kind_cached is None
    z[2:5, 3] = 9
    assert z[:, 3].tolist() == [0, 0, 9, 9, 9, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("local", [False, True])
def test_corrupt_chunk_raises_through_generic_path(local, tmp_path):
    store = LocalStore(str(tmp_path / "c")) if local else MemoryStore()
    z = cz.array(np.arange(100, dtype="i4").reshape(10, 10), chunks=(5, 5), store=store, zarr_format=2)
    store.set("0.1", b"garbage that is not a Blosc frame at all")
    np.testing.assert_array_equal(z[:5, :5], np.arange(100).reshape(10, 10)[:5, :5])
    with pytest.raises(pipeline.ChunkDecodeError):
        z[...]
    with pytest.raises(pipeline.ChunkDecodeError):
        z.vindex[[0, 1], [7, 8]]


def test_wrong_size_chunk_raises(tmp_path):
    store = LocalStore(str(tmp_path / "w"))
    z = cz.array(np.arange(100, dtype="i4").reshape(10, 10), chunks=(5, 5), store=store, zarr_format=2)
    other = cz.array(np.arange(16, dtype="i4"), chunks=(16,), zarr_format=2)
    store.set("1.1", other._pipeline.store.get("0"))
    with pytest.raises(pipeline.ChunkDecodeError):
        z[5:, 5:]


def test_chunk_key_is_a_directory(tmp_path):
    store = LocalStore(str(tmp_path / "d"))
    z = cz.full((4, 4), 3, chunks=(2, 2), dtype="i4", store=store, zarr_format=2)
    (tmp_path / "d" / "1.1").mkdir(parents=True)
    # a directory where a chunk should be is damage, not a missing chunk (issue 9, #12)
    assert z[:2, :2].tolist() == [[3] * 2] * 2
    with pytest.raises(IsADirectoryError):
        z[...]


def test_many_chunks_on_the_pool():
    # enough data for the kernel to split the batch over the chunk pool
    a = np.arange(300 * 300, dtype="f8").reshape(300, 300)
    z = cz.array(a, chunks=(32, 32), zarr_format=3)
    np.testing.assert_array_equal(z[...], a)
    np.testing.assert_array_equal(z[7:293:3, 5:290], a[7:293:3, 5:290])
    pts = (np.arange(0, 300, 7), np.arange(299, -1, -7)[:43])
    np.testing.assert_array_equal(z.vindex[pts], a[pts])


@pytest.mark.parametrize("step", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("chunk", [1, 2, 3, 8])
def test_long_axis_many_chunks(step, chunk):
    # > 16 chunks along an axis: vectorised slice projections and index tables
    a = np.arange(203 * 3, dtype="i4").reshape(203, 3)
    z = cz.array(a, chunks=(chunk, 2), zarr_format=2)
    for sel in [np.s_[::step], np.s_[1::step, 1:], np.s_[5:190:step, 2], np.s_[200:0:step]]:
        np.testing.assert_array_equal(z[sel], a[sel])


def test_slice_projections_cover_selection():
    from chunkzip.indexing import _SliceDim

    rng = np.random.default_rng(3)
    for _ in range(500):
        n, c, st = int(rng.integers(1, 300)), int(rng.integers(1, 12)), int(rng.integers(1, 9))
        s = slice(int(rng.integers(0, n + 1)), int(rng.integers(0, n + 1)), st)
        got = np.zeros(len(range(*s.indices(n))), dtype=np.int64) - 1
        for p in _SliceDim(s, n, c, 0).projections():
            cs = np.arange(c)[p.chunk_sel]
            got[p.out_sel] = p.chunk * c + cs
            assert p.complete == (len(cs) == min(c, n - p.chunk * c))
        np.testing.assert_array_equal(got, np.arange(n)[s])


def test_oversized_chunk_file(tmp_path):
    # a chunk file larger than its Blosc frame says (trailing bytes) or than any frame of
    # this chunk size: the kernel reads at most one byte past the largest valid frame and
    # both paths refuse it alike (one frame validator: cbytes must equal the length)
    store = LocalStore(str(tmp_path / "o"))
    z = cz.array(np.arange(64, dtype="i4").reshape(8, 8), chunks=(4, 4), store=store, zarr_format=2)
    good = store.get("0.0")
    store.set("0.0", good + b"\0" * 100_000)
    np.testing.assert_array_equal(z[4:, 4:], np.arange(64).reshape(8, 8)[4:, 4:])
    for fast in (True, False):
        pipeline.FAST_READ = fast
        try:
            with pytest.raises(pipeline.ChunkDecodeError, match="padded|more than a valid value"):
                z[...]
        finally:
            pipeline.FAST_READ = True
    store.set("0.0", b"\1" * 100_000)
    with pytest.raises(pipeline.ChunkDecodeError):
        z[:4, :4]


@pytest.mark.parametrize("seed", range(20))
def test_group_points_matches_numpy(seed, monkeypatch):
    from chunkzip import indexing

    rng = np.random.default_rng(seed)
    ndim = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 40)) for _ in range(ndim))
    chunks = tuple(int(rng.integers(1, 12)) for _ in range(ndim))
    m = int(rng.integers(1, 300))
    pts = tuple(rng.integers(0, n, m) for n in shape)
    if seed % 3 == 0:  # already grouped by chunk: the order stays None
        pts = tuple(np.sort(p) for p in pts) if ndim == 1 else pts
    fast = indexing.CoordinateIndexer(pts, shape, chunks)._groups()
    monkeypatch.setattr(indexing, "_group_points_c", lambda *a: None)
    slow = indexing.CoordinateIndexer(pts, shape, chunks)._groups()
    for f, s in zip(fast, slow):
        if isinstance(f, list) and f and isinstance(f[0], np.ndarray):
            for a, b in zip(f, s):
                np.testing.assert_array_equal(a, b)
        elif f is None or s is None:
            assert f is None and s is None
        else:
            np.testing.assert_array_equal(np.asarray(f), np.asarray(s))


@pytest.mark.parametrize("use_threads", [True, False])
@pytest.mark.parametrize("local", [False, True])
def test_one_big_chunk(use_threads, local, tmp_path, monkeypatch):
    # one multi-block chunk (Blosc threads allowed) bigger than the small-file buffer
    from chunkzip.codecs import blosc

    monkeypatch.setattr(blosc, "use_threads", use_threads)
    a = (np.arange(700_000, dtype="i4") * 7 % 1000).reshape(700, 1000)
    store = LocalStore(str(tmp_path / "b")) if local else MemoryStore()
    z = cz.array(a, chunks=a.shape, store=store, zarr_format=2, compressor=Blosc("lz4", 5, 1, blocksize=65536))
    np.testing.assert_array_equal(z[...], a)
    np.testing.assert_array_equal(z[3:600:7, 999], a[3:600:7, 999])
    np.testing.assert_array_equal(z.vindex[[0, 699, 5], [0, 999, 7]], a[[0, 699, 5], [0, 999, 7]])
