"""Copying and rechunking with bounded memory (spec: "Copying large arrays", "Changing chunk
shapes (rechunking)")."""
from __future__ import annotations

import math
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.copying import DEFAULT_MAX_MEM, copy_into, plan_slab
from chunkzip.storage import MemoryStore


class CountingStore(MemoryStore):
    """A memory store that counts reads of every key."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: dict[str, int] = {}
        self._count_lock = threading.Lock()

    def get(self, key):
        with self._count_lock:
            self.reads[key] = self.reads.get(key, 0) + 1
        return super().get(key)

    def get_many(self, keys):
        return [self.get(k) for k in keys]

    def chunk_reads(self) -> dict[str, int]:
        return {k: n for k, n in self.reads.items() if k.startswith("c")}


class SlicingSource:
    """An h5py-like source: shape, dtype, chunks and slicing; records the regions read."""

    def __init__(self, data: np.ndarray, chunks=None) -> None:
        self._data, self.shape, self.dtype, self.chunks = data, data.shape, data.dtype, chunks
        self.regions: list = []

    def __getitem__(self, sel):
        self.regions.append(sel)
        return self._data[sel].copy()


def _pattern(shape, dtype="i4", seed=0):
    n = math.prod(shape)
    return ((np.arange(n, dtype=np.int64) * 2654435761 + seed) % 1000003).astype(dtype).reshape(shape)


# ----------------------------------------------------------------------------- slab planning
@pytest.mark.parametrize("shape,target,source,itemsize,budget", [
    ((10000, 10000), (1, 10000), (10000, 1), 2, 32 << 20),
    ((10000, 10000), (100, 200), (100, 100), 2, 32 << 20),
    ((10000, 10000), (1000, 1000), (1000, 1000), 4, 32 << 20),
    ((100, 100, 100), (10, 10, 10), (100, 1, 1), 8, 1 << 20),
    ((5, 7), (2, 3), None, 8, 1),  # budget below one chunk: one chunk per slab
    ((2000,), (7,), (300,), 1, 100),
])
def test_plan_slab_is_aligned_and_within_budget(shape, target, source, itemsize, budget):
    slab = plan_slab(shape, target, source, itemsize, budget)
    for e, t, s in zip(slab, target, shape):
        assert e == s or e % t == 0, slab
        assert 1 <= e <= s
    one_chunk = math.prod(min(t, s) for t, s in zip(target, shape)) * itemsize
    assert math.prod(slab) * itemsize <= max(budget, one_chunk)


def test_plan_slab_cuts_rereads_of_the_pathological_rechunk():
    slab = plan_slab((10000, 10000), (1, 10000), (10000, 1), 2, 32 << 20)
    # every (10000, 1) source chunk is decoded once per slab: 6 times, not 10000 times
    assert -(-10000 // slab[0]) <= 8
    assert plan_slab((2000, 2000), (1, 2000), (2000, 1), 2, 32 << 20) == (2000, 2000)  # fits: one slab
    assert plan_slab((), (), (), 8) == ()


# ----------------------------------------------------------------------------- spec examples
def test_spec_copying_large_arrays_memory_bound():
    z1 = cz.empty((10000, 10000), chunks=(1000, 1000), dtype="i4")
    z1[:] = 42
    z2 = cz.empty_like(z1)
    tracemalloc.start()
    try:
        z2[:] = z1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * z1.nbytes, f"peak {peak / 2**20:.1f} MiB for a {z1.nbytes / 2**20:.0f} MiB array"
    assert z2.nchunks_initialized == 100
    assert z2.chunks == z1.chunks and z2.compressors == z1.compressors
    for i in range(10):  # one block row at a time (40 MB), not the whole 400 MB
        assert (z2.blocks[i] == 42).all()


def test_copy_200mb_rechunk_stays_within_a_few_slabs(tmp_path):
    shape, chunks = (7168, 7168), (512, 512)  # 196 MiB of int32
    src = cz.empty(shape, chunks=chunks, dtype="i4", compressor=cz.codecs.Zstd(level=1))
    for r in range(0, shape[0], 512):  # written one chunk row at a time
        block = _pattern((512, shape[1]), seed=r)
        src[r:r + 512] = block
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        dst = cz.copy(src, chunks=(256, 1024), store=str(tmp_path / "dst.zarr"))  # output not in memory
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    slab = plan_slab(shape, (256, 1024), chunks, 4)
    chunk_bytes = 512 * 512 * 4
    print(f"copy {src.nbytes / 2**20:.0f} MiB: {elapsed:.2f} s, peak traced {peak / 2**20:.1f} MiB, "
          f"slab {slab} = {math.prod(slab) * 4 / 2**20:.0f} MiB")
    assert peak < 0.25 * src.nbytes
    # about one slab plus a few chunks per pool thread
    assert peak < math.prod(slab) * 4 + 8 * chunk_bytes
    assert dst.chunks == (256, 1024) and dst.dtype == src.dtype and dst.compressors == src.compressors
    for r in range(0, shape[0], 1536):
        np.testing.assert_array_equal(dst[r:r + 512], _pattern((512, shape[1]), seed=r))


def test_pathological_rechunk_reads_each_source_chunk_a_few_times():
    n = 2000
    store = CountingStore()
    a = cz.zeros((n, n), chunks=(n, 1), dtype="uint16", store=store, compressor=cz.codecs.Zstd(level=1))
    data = _pattern((n, n), dtype="uint16")
    a[:] = data
    for max_mem, max_reads in [(None, 1), (1 << 20, 8)]:  # one slab; 8 slabs of 262 rows
        store.reads.clear()
        t0 = time.perf_counter()
        b = cz.copy(a, chunks=(1, n), max_mem=max_mem)
        elapsed = time.perf_counter() - t0
        reads = store.chunk_reads()
        assert len(reads) == n and max(reads.values()) <= max_reads, max(reads.values())
        assert elapsed < 10, elapsed  # naive: every source chunk read 2000 times
        np.testing.assert_array_equal(b[:], data)
        assert b.chunks == (1, n)


def test_spec_rechunk_examples_reduced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = cz.zeros((1000, 1000), chunks=(100, 100), dtype="uint16", store="a.zarr")
    b = cz.array(a, chunks=(100, 200), store="b.zarr")
    assert b.chunks == (100, 200) and b.shape == a.shape and (b[:] == 0).all()
    a = cz.zeros((1000, 1000), chunks=(1000, 1), dtype="uint16", store="a.zarr", overwrite=True)
    a[:, 10:20] = 5
    b = cz.array(a, chunks=(1, 1000), store="b.zarr", overwrite=True)
    c = cz.array(a[...], chunks=(1, 1000), store="c.zarr")
    assert b.chunks == c.chunks == (1, 1000)
    np.testing.assert_array_equal(b[:], a[:])
    np.testing.assert_array_equal(c[:], a[:])
    assert cz.open("b.zarr", mode="r").chunks == (1, 1000)


@pytest.mark.stress
def test_spec_rechunk_examples_full_size(tmp_path, monkeypatch):
    """The spec's three rechunk examples exactly as written (10000 x 10000 uint16)."""
    monkeypatch.chdir(tmp_path)
    a = cz.zeros((10000, 10000), chunks=(100, 100), dtype="uint16", store="a.zarr")
    b = cz.array(a, chunks=(100, 200), store="b.zarr")
    assert b.chunks == (100, 200) and b.nchunks_initialized == b.nchunks
    a = cz.zeros((10000, 10000), chunks=(10000, 1), dtype="uint16", store="a2.zarr")
    t0 = time.perf_counter()
    b = cz.array(a, chunks=(1, 10000), store="b2.zarr")
    assert time.perf_counter() - t0 < 60
    assert b.chunks == (1, 10000) and (b[::999] == 0).all()
    a = cz.zeros((10000, 10000), chunks=(10000, 1), dtype="uint16", store="a3.zarr")
    b = a[...]
    c = cz.array(b, chunks=(1, 10000), store="c.zarr")
    del b
    assert c.chunks == (1, 10000) and (c[5000] == 0).all()


# ----------------------------------------------------------------------------- empty regions
def test_never_written_source_regions_are_not_read_or_stored():
    store = CountingStore()
    src = cz.zeros((100, 100), chunks=(10, 10), dtype="i4", store=store)
    src[0:10, 0:10] = 1     # one chunk
    src[55, 55] = 2         # one chunk
    store.reads.clear()
    dst = cz.copy(src, chunks=(20, 25), write_empty_chunks=False, max_mem=20 * 25 * 4)  # one chunk per slab
    # only the source chunks under the two target chunks that hold data were read
    near = {src._pipeline.key((i, j)) for i in (0, 1) for j in (0, 1, 2)} | \
        {src._pipeline.key((i, j)) for i in (4, 5) for j in (5, 6, 7)}
    assert set(store.chunk_reads()) == near
    assert dst.nchunks_initialized == 2  # target chunks (0, 0) and (2, 2)
    np.testing.assert_array_equal(dst[:], src[:])
    # write_empty_chunks=True: the fill value is stored, as written
    dst2 = cz.copy(src, chunks=(20, 25), write_empty_chunks=True)
    assert dst2.nchunks_initialized == dst2.nchunks
    np.testing.assert_array_equal(dst2[:], src[:])


def test_never_written_regions_overwrite_existing_destination_data():
    src = cz.full((30, 30), fill_value=7, chunks=(10, 10), dtype="i4")
    src[0, 0] = 1
    dst = cz.zeros((30, 30), chunks=(15, 15), dtype="i4", write_empty_chunks=False)
    dst[:] = 3
    copy_into(src, dst)
    exp = np.full((30, 30), 7)
    exp[0, 0] = 1
    np.testing.assert_array_equal(dst[:], exp)
    assert dst.nchunks_initialized == 4  # 7 is not dst's fill value: stored
    dst2 = cz.full((30, 30), 7, chunks=(15, 15), dtype="i4", write_empty_chunks=False)
    dst2[:] = 3
    dst2[:] = src
    np.testing.assert_array_equal(dst2[:], exp)
    assert dst2.nchunks_initialized == 1  # the old chunks holding 3 were deleted


def test_empty_like_copy_keeps_nan_fill():
    src = cz.empty((20, 20), chunks=(5, 5), dtype="f8", fill_value=np.nan)
    src[3:7, 3:7] = 1.5
    dst = cz.empty_like(src, write_empty_chunks=False)
    dst[:] = src
    np.testing.assert_array_equal(dst[:], src[:])
    assert dst.nchunks_initialized == 4


# ----------------------------------------------------------------------------- API
def test_copy_api_defaults_and_overrides(tmp_path):
    src = cz.array(_pattern((50, 60)), chunks=(10, 12), fill_value=-1, zarr_format=2,
                   compressor=cz.codecs.Zstd(level=3))
    src.attrs["units"] = "m"
    d1 = cz.copy(src)
    assert (d1.chunks, d1.fill_value, d1.zarr_format, d1.compressors) == (
        (10, 12), -1, 2, src.compressors)
    assert d1.attrs.asdict() == {"units": "m"}
    d2 = cz.copy(src, chunks=(25, 60), store=str(tmp_path / "d2.zarr"), zarr_format=3, dtype="f8",
                 compressor=None)
    assert d2.chunks == (25, 60) and d2.zarr_format == 3 and d2.dtype == np.dtype("f8") and d2.compressor is None
    np.testing.assert_array_equal(d2[:], src[:].astype("f8"))
    assert cz.open(str(tmp_path / "d2.zarr"), mode="r").chunks == (25, 60)
    d3 = cz.zeros((50, 60), chunks=(7, 7), dtype="i4")
    assert cz.copy(src, d3) is d3
    np.testing.assert_array_equal(d3[:], src[:])
    with pytest.raises(TypeError):
        cz.copy(src, d3, chunks=(5, 5))
    with pytest.raises(ValueError, match="shapes differ"):
        cz.copy(src, cz.zeros((50, 61)))
    with pytest.raises(ValueError, match="max_mem"):
        cz.copy(src, max_mem=0)
    with pytest.raises(cz.ReadOnlyError):
        cz.copy(src, cz.open_array(d2.store, mode="r"))


def test_copy_from_numpy_and_h5py_like_sources_in_bounded_regions():
    data = _pattern((300, 200), dtype="i2")
    src = SlicingSource(data, chunks=(300, 1))
    dst = cz.copy(src, chunks=(10, 200), max_mem=40 * 200 * 2)
    np.testing.assert_array_equal(dst[:], data)
    assert len(src.regions) == 300 // 40 + 1  # slabs of 40 rows: each a bounded read
    assert all((r[0].stop - r[0].start) <= 40 for r in src.regions)
    d2 = cz.copy(data, chunks=(64, 64))
    assert d2.chunks == (64, 64)
    np.testing.assert_array_equal(d2[:], data)
    z = cz.zeros((300, 200), chunks=(50, 50), dtype="i2")
    copy_into(src, z)
    np.testing.assert_array_equal(z[:], data)


def test_copy_edge_cases():
    z0 = cz.array(np.float32(2.5))
    c0 = cz.copy(z0)
    assert c0.shape == () and c0[()] == np.float32(2.5)
    e = cz.zeros((0, 5), chunks=(3, 3))
    assert cz.copy(e, chunks=(2, 2)).shape == (0, 5)
    s = cz.array(np.array(["a", "bb", "", "dddd"] * 5, dtype=object), dtype=str, chunks=3)
    cs = cz.copy(s, chunks=7)
    assert cs.chunks == (7,) and list(cs[:]) == ["a", "bb", "", "dddd"] * 5
    rec = np.array([(1, 2.5), (3, 4.5)] * 10, dtype=[("a", "i4"), ("b", "f8")])
    zr = cz.array(rec, chunks=3)
    np.testing.assert_array_equal(cz.copy(zr, chunks=4)[:], rec)
    f = cz.array(_pattern((33, 17)), chunks=(5, 4), order="F")
    np.testing.assert_array_equal(cz.copy(f, chunks=(6, 6))[:], f[:])


def test_progress_bar(capsys, monkeypatch):
    pytest.importorskip("tqdm")
    src = cz.array(_pattern((40, 40)), chunks=(10, 10))
    cz.copy(src, chunks=(5, 40), progress=True, max_mem=5 * 40 * 4 * 2)
    err = capsys.readouterr().err
    assert "8/8" in err and "chunk" in err
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.warns(RuntimeWarning, match="tqdm"):
        d = cz.copy(src, chunks=(5, 40), progress=True)
    np.testing.assert_array_equal(d[:], src[:])


def test_default_budget_is_a_few_tens_of_mib():
    assert 8 << 20 <= DEFAULT_MAX_MEM <= 64 << 20


def test_setitem_from_chunked_foreign_source_goes_slab_by_slab():
    data = _pattern((200, 50), dtype="i4")
    src = SlicingSource(data, chunks=(200, 1))  # h5py-like: never materialised whole
    z = cz.zeros((200, 50), chunks=(5, 50), dtype="i4")
    z[:] = src
    np.testing.assert_array_equal(z[:], data)
    assert len(src.regions) >= 1 and all(isinstance(r, tuple) for r in src.regions)
    dask_array = pytest.importorskip("dask.array")
    x = dask_array.from_array(data, chunks=(50, 50))
    z2 = cz.zeros((200, 50), chunks=(40, 25), dtype="i4")
    z2[...] = x
    np.testing.assert_array_equal(z2[:], data)
