"""Open a consolidated hierarchy of 1,000 arrays and list it, chunkzip vs zarr-python 3,
on the same store (written and consolidated by zarr-python), in Zarr v2 and v3.

The workload: open the root (consolidated metadata found and used by default), walk every
member at every depth and read each array's shape and dtype.

Run: ``pytest bench/bench_hierarchy.py --benchmark-json=bench/hierarchy.json`` then
``python bench/report.py bench/hierarchy.json``.
"""
from __future__ import annotations

import warnings

import pytest

N_GROUPS, N_PER_GROUP = 10, 100  # 1,000 arrays in 10 groups


def _build(tmp_path_factory, fmt: int) -> str:
    zarr = pytest.importorskip("zarr")
    path = str(tmp_path_factory.mktemp("hier") / f"h{fmt}.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(path, mode="w", zarr_format=fmt)
        root.attrs["title"] = "bench"
        for i in range(N_GROUPS):
            g = root.create_group(f"g{i}")
            for j in range(N_PER_GROUP):
                a = g.create_array(f"a{j}", shape=(100, 10 + j), chunks=(50, 10), dtype="f4")
                a.attrs["units"] = "m"
        zarr.consolidate_metadata(path)
    return path


@pytest.fixture(scope="module")
def hierarchy_v2(tmp_path_factory) -> str:
    return _build(tmp_path_factory, 2)


@pytest.fixture(scope="module")
def hierarchy_v3(tmp_path_factory) -> str:
    return _build(tmp_path_factory, 3)


def _walk(group, array_type) -> int:
    """Visit every member at every depth; read each array's shape and dtype."""
    n = 0
    for _name, node in group.members(max_depth=None):
        if isinstance(node, array_type):
            n += bool(node.shape) + bool(node.dtype)
    return n


def _chunkzip(path: str) -> int:
    import chunkzip as cz

    return _walk(cz.open(path, mode="r"), cz.Array)


def _zarr(path: str) -> int:
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _walk(zarr.open(path, mode="r"), zarr.Array)


def _run(benchmark, lib: str, path: str, fmt: int) -> None:
    benchmark.group = f"open + list a consolidated hierarchy of 1,000 arrays (v{fmt})"
    fn = _chunkzip if lib == "chunkzip" else _zarr
    assert benchmark(fn, path) == 2 * N_GROUPS * N_PER_GROUP


@pytest.mark.parametrize("lib", ["chunkzip", "zarr-python"])
def test_open_and_list_consolidated_v2(benchmark, lib, hierarchy_v2):
    _run(benchmark, lib, hierarchy_v2, 2)


@pytest.mark.parametrize("lib", ["chunkzip", "zarr-python"])
def test_open_and_list_consolidated_v3(benchmark, lib, hierarchy_v3):
    _run(benchmark, lib, hierarchy_v3, 3)
