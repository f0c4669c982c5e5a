"""zarr-python-2 habits, timed side by side: repeated reads through a chunk cache
(chunkzip's LRUStoreCache vs tensorstore's cache pool vs uncached reads) and reads into
a caller's ``out`` array (chunkzip vs zarr-python 3's ``get_basic_selection(out=)``).

Run: ``pytest bench/bench_zarr2.py --benchmark-json=bench/zarr2.json`` then
``python bench/report.py bench/zarr2.json`` for the ratio table.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL_SHAPE

CACHE_BYTES = 256 << 20


def _chunkzip(path: str, cached: bool):
    import chunkzip as cz
    from chunkzip.storage import LocalStore, LRUStoreCache

    store = LRUStoreCache(LocalStore(path), max_size=CACHE_BYTES) if cached else LocalStore(path)
    return cz.open_array(store, mode="r")


def _tensorstore(path: str, cached: bool):
    ts = pytest.importorskip("tensorstore")
    spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": path}}
    if cached:
        spec["context"] = {"cache_pool": {"total_bytes_limit": CACHE_BYTES}}
        spec["recheck_cached_data"] = False
    return ts.open(spec).result()


def _zarr(path: str, cached: bool):
    zarr = pytest.importorskip("zarr")
    return zarr.open_array(path, mode="r")


READERS = {
    "chunkzip LRUStoreCache": (_chunkzip, True, lambda a, s: a[s]),
    "chunkzip uncached": (_chunkzip, False, lambda a, s: a[s]),
    "tensorstore cache_pool": (_tensorstore, True, lambda a, s: a[s].read().result()),
    "zarr-python uncached": (_zarr, False, lambda a, s: a[s]),
}


@pytest.mark.parametrize("reader", list(READERS))
def test_repeated_small_chunks_read(benchmark, reader, small_path, small_data):
    benchmark.group = f"repeated read of 1000 small chunks {SMALL_SHAPE} (cache warm)"
    open_, cached, read = READERS[reader]
    arr = open_(small_path, cached)
    np.testing.assert_array_equal(np.asarray(read(arr, np.s_[...])), small_data)  # warms the cache
    np.testing.assert_array_equal(np.asarray(benchmark(read, arr, np.s_[...])), small_data)


@pytest.mark.parametrize("reader", list(READERS))
def test_repeated_full_read(benchmark, reader, big_path, data):
    benchmark.group = "repeated full read, 64 MiB int32 256x256 chunks (cache warm)"
    open_, cached, read = READERS[reader]
    arr = open_(big_path, cached)
    read(arr, np.s_[...])
    np.testing.assert_array_equal(np.asarray(benchmark(read, arr, np.s_[...])), data)


@pytest.mark.parametrize("how", ["chunkzip out=", "chunkzip new array", "zarr-python out="])
def test_read_into_out(benchmark, how, big_path, data):
    benchmark.group = "full read into the caller's array (64 MiB int32)"
    out = np.empty_like(data)
    if how.startswith("chunkzip"):
        arr = _chunkzip(big_path, False)
        fn = (lambda: arr.get_basic_selection(out=out)) if how.endswith("out=") else (lambda: arr[...])
    else:
        arr = _zarr(big_path, False)
        from zarr.core.buffer import default_buffer_prototype

        nd = default_buffer_prototype().nd_buffer.from_numpy_array(out)

        def fn():
            arr.get_basic_selection(out=nd)
            return out
    result = benchmark(fn)
    np.testing.assert_array_equal(np.asarray(result), data)
