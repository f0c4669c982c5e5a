"""Array workloads, chunkzip vs zarr-python vs tensorstore, on the same Zarr v2 files.

Run: ``pytest bench/bench_array.py --benchmark-json=bench/results.json`` then
``python bench/report.py bench/results.json`` for the ratio table.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import CHUNKS, SHAPE, SMALL_CHUNKS, SMALL_SHAPE

RNG = np.random.default_rng(42)
POINTS = tuple(RNG.integers(0, n, 100_000) for n in SHAPE)
ROWS = np.sort(RNG.choice(SHAPE[0], 300, replace=False))
SINGLES = [tuple(int(RNG.integers(0, n)) for n in SHAPE) for _ in range(1000)]


def _check(result, expected):
    np.testing.assert_array_equal(np.asarray(result), expected)


def test_full_read(benchmark, lib, big_path, data):
    benchmark.group = "full read (64 MiB int32, 256x256 chunks)"
    arr = lib.open(big_path)
    _check(benchmark(lib.read, arr, np.s_[...]), data)


def test_rows_read(benchmark, lib, big_path, data):
    benchmark.group = "100-row read"
    arr = lib.open(big_path)
    _check(benchmark(lib.read, arr, np.s_[1000:1100, :]), data[1000:1100])


def test_window_read(benchmark, lib, big_path, data):
    benchmark.group = "unaligned 1000x1000 window read"
    arr = lib.open(big_path)
    _check(benchmark(lib.read, arr, np.s_[100:1100, 300:1300]), data[100:1100, 300:1300])


def test_full_write(benchmark, lib, tmp_path, data):
    benchmark.group = "full write (64 MiB int32)"
    arr = lib.create(str(tmp_path / "w.zarr"), SHAPE, CHUNKS, "i4")
    benchmark(lib.write, arr, np.s_[...], data)
    _check(lib.read(arr, np.s_[::511, ::511]), data[::511, ::511])


def test_small_chunks_read(benchmark, lib, small_path, small_data):
    benchmark.group = "read 1000 small chunks (4 KiB each)"
    arr = lib.open(small_path)
    _check(benchmark(lib.read, arr, np.s_[...]), small_data)


def test_small_chunks_write(benchmark, lib, tmp_path, small_data):
    benchmark.group = "write 1000 small chunks (4 KiB each)"
    arr = lib.create(str(tmp_path / "s.zarr"), SMALL_SHAPE, SMALL_CHUNKS, "i4")
    benchmark(lib.write, arr, np.s_[...], small_data)
    _check(lib.read(arr, np.s_[...]), small_data)


def test_vindex_points(benchmark, lib, big_path, data):
    benchmark.group = "vindex 100,000 random points"
    arr = lib.open(big_path)
    _check(benchmark(lib.vindex, arr, POINTS), data[POINTS])


def test_oindex_rows(benchmark, lib, big_path, data):
    benchmark.group = "oindex 300 random rows"
    arr = lib.open(big_path)
    _check(benchmark(lib.oindex, arr, (ROWS, slice(None))), data[ROWS])


def test_single_element_reads(benchmark, lib, big_path, data):
    benchmark.group = "1000 single-element reads"
    arr = lib.open(big_path)

    def run():
        return [lib.read(arr, idx) for idx in SINGLES]

    out = benchmark.pedantic(run, rounds=3, iterations=1)
    _check(np.array([np.asarray(v) for v in out]), np.array([data[i] for i in SINGLES]))
