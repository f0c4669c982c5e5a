"""The xarray backend: xarray's own ``to_zarr`` output read with ``engine="chunkzip"`` and
compared with ``engine="zarr"`` (``xr.testing.assert_identical``), lazily, with dask, over
groups, consolidated metadata, an HTTP server and through the entry point."""
from __future__ import annotations

import os
import sys
import tomllib

import numpy as np
import pytest

import chunkzip as cz

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")
if not hasattr(cz, "open_group"):
    pytest.skip("the xarray backend reads groups (chunkzip.open_group, issue 10)", allow_module_level=True)

from chunkzip.xarray_backend import ChunkzipBackendArray, ChunkzipBackendEntrypoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module", autouse=True)
def engine_registered(tmp_path_factory):
    """Make the ``chunkzip`` entry point visible as an installed package would (a
    dist-info directory on sys.path with pyproject's entry point), so that xarray finds
    ``engine="chunkzip"`` by name through importlib.metadata."""
    from xarray.backends import plugins

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        eps = tomllib.load(f)["project"]["entry-points"]["xarray.backends"]
    site = tmp_path_factory.mktemp("site")
    info = site / "chunkzip_entrypoints-0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: chunkzip-entrypoints\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(
        "[xarray.backends]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    sys.path.insert(0, str(site))
    plugins.list_engines.cache_clear()
    yield
    sys.path.remove(str(site))
    plugins.list_engines.cache_clear()


def _dataset() -> "xr.Dataset":
    rng = np.random.default_rng(3)
    temp = rng.standard_normal((6, 5, 4)).astype("f4")
    temp[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "temperature": (("time", "y", "x"), temp, {"units": "K", "long_name": "air temperature"}),
            "count": (("y", "x"), rng.integers(0, 100, (5, 4)).astype("i2")),
            "scaled": (("time",), np.linspace(0, 1, 6)),
            "flag": ((), np.int8(3)),
        },
        coords={
            "time": np.array("2020-01-01", dtype="M8[ns]") + np.arange(6) * np.timedelta64(6, "h"),
            "y": np.arange(5) * 10.0,
            "x": np.arange(4),
            "label": (("x",), np.array(["a", "bb", "ccc", "d"])),
        },
        attrs={"title": "test", "n": 3},
    )
    ds["scaled"].encoding = {"scale_factor": 0.01, "dtype": "i2", "_FillValue": -1}
    ds["count"].encoding = {"_FillValue": -9}
    return ds


@pytest.fixture(scope="module", params=[2, 3])
def written(request, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("xr") / f"v{request.param}.zarr")
    ds = _dataset()
    ds.chunk({"time": 4, "y": 2}).to_zarr(path, zarr_format=request.param, consolidated=True)
    return path, ds


def test_open_dataset_identical_to_zarr_engine(written):
    path, ds = written
    ours = xr.open_dataset(path, engine="chunkzip")
    ref = xr.open_dataset(path, engine="zarr")
    xr.testing.assert_identical(ours, ref)
    xr.testing.assert_identical(ours.load(), ds)
    assert ours["temperature"].encoding["preferred_chunks"] == {"time": 4, "y": 2, "x": 4}


def test_open_dataset_without_decoding(written):
    path, _ = written
    for kw in ({"mask_and_scale": False}, {"decode_times": False}, {"decode_cf": False}):
        xr.testing.assert_identical(xr.open_dataset(path, engine="chunkzip", **kw),
                                    xr.open_dataset(path, engine="zarr", **kw))


def test_lazy_indexing_matches_numpy(written):
    path, ds = written
    ours = xr.open_dataset(path, engine="chunkzip")
    var = ours["temperature"].variable
    assert not var._in_memory  # nothing read yet
    expect = ds["temperature"].values
    np.testing.assert_array_equal(ours["temperature"][1:5:2, [0, 3, 4], 1:].values, expect[1:5:2][:, [0, 3, 4], 1:])
    sel = ours["temperature"].isel(time=xr.DataArray([0, 5, 2], dims="p"), x=xr.DataArray([3, 0, 1], dims="p"))
    np.testing.assert_array_equal(sel.values, expect[[0, 5, 2], :, [3, 0, 1]])
    np.testing.assert_array_equal(ours["temperature"][2, 3, 1].values, expect[2, 3, 1])


def test_dask_chunks_follow_the_stored_chunks(written):
    pytest.importorskip("dask.array")
    path, ds = written
    ours = xr.open_dataset(path, engine="chunkzip", chunks={})
    assert ours["temperature"].chunks == ((4, 2), (2, 2, 1), (4,))
    xr.testing.assert_identical(ours.compute(), ds)
    xr.testing.assert_identical(ours, xr.open_dataset(path, engine="zarr", chunks={}))


def test_backend_array_pickles_and_reads():
    import pickle

    z = cz.array(np.arange(24).reshape(4, 6), chunks=(2, 3))
    b = pickle.loads(pickle.dumps(ChunkzipBackendArray(z)))
    from xarray.core import indexing

    np.testing.assert_array_equal(b[indexing.BasicIndexer((slice(1, 3), slice(None)))], np.arange(24).reshape(4, 6)[1:3])
    np.testing.assert_array_equal(b[indexing.OuterIndexer((np.array([0, 3]), np.array([5, 1])))],
                                  np.arange(24).reshape(4, 6)[np.ix_([0, 3], [5, 1])])


def test_groups_and_datatree(tmp_path):
    path = str(tmp_path / "tree.zarr")
    ds = _dataset()
    ds.to_zarr(path, zarr_format=3)
    child = xr.Dataset({"v": (("k",), np.arange(7.0))}, attrs={"level": 1})
    child.to_zarr(path, group="child", zarr_format=3)
    xr.testing.assert_identical(xr.open_dataset(path, engine="chunkzip", group="child"),
                                xr.open_dataset(path, engine="zarr", group="child"))
    tree = xr.open_datatree(path, engine="chunkzip")
    ref = xr.open_datatree(path, engine="zarr")
    xr.testing.assert_identical(tree, ref)


def test_consolidated_metadata_is_used(tmp_path):
    path = str(tmp_path / "cons.zarr")
    ds = _dataset()
    ds.to_zarr(path, zarr_format=2, consolidated=True)
    # remove a per-array metadata file: only the consolidated copy still describes it
    os.remove(os.path.join(path, "count", ".zattrs"))
    ours = xr.open_dataset(path, engine="chunkzip")
    assert ours["count"].dims == ("y", "x")
    with pytest.raises(Exception):
        xr.open_dataset(path, engine="chunkzip", consolidated=False)


def test_over_http(written):
    pytest.importorskip("aiohttp")
    from remote_servers import FaultyHTTPServer

    path, ds = written
    root, name = os.path.split(path)
    with FaultyHTTPServer(root) as srv:
        url = f"{srv.url}/{name}"
        ours = xr.open_dataset(url, engine="chunkzip", chunks={})
        xr.testing.assert_identical(ours.compute(), ds)


def test_missing_dimension_names_is_a_clear_error(tmp_path):
    g = cz.open_group(str(tmp_path / "bare.zarr"), mode="w", zarr_format=2)
    cz.zeros((3, 4), store=g.store, path="a", zarr_format=2)
    with pytest.raises(KeyError, match="_ARRAY_DIMENSIONS"):
        xr.open_dataset(str(tmp_path / "bare.zarr"), engine="chunkzip")


def test_guess_can_open():
    ep = ChunkzipBackendEntrypoint()
    assert ep.guess_can_open("a/b.zarr") and ep.guess_can_open("s3://bucket/x.zarr/")
    assert not ep.guess_can_open("a.nc") and not ep.guess_can_open(object())
