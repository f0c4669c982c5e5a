"""Arrays in S3 (s3fs) against moto's standalone S3 server on 127.0.0.1: create, write,
partial update, read, list, delete, nested paths; zarr-python 3 reads what chunkzip wrote
and the reverse; an upload cut mid-body leaves the old chunk in place."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import FsspecStore, StoreIOError

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from remote_checks import check_array_lifecycle, check_ranges  # noqa: E402
from remote_servers import CuttingProxy, moto_s3  # noqa: E402

BUCKET = "cz-test"


@pytest.fixture(scope="module")
def s3():
    import s3fs

    with moto_s3() as opts:
        s3fs.S3FileSystem(**opts).mkdir(BUCKET)
        yield opts


def _url(name: str) -> str:
    return f"s3://{BUCKET}/{name}"


@pytest.mark.parametrize("fmt", [2, 3])
def test_s3_create_write_update_read_list_delete(s3, fmt):
    url = _url(f"basic{fmt}.zarr")
    z, expect, chunk_keys = check_array_lifecycle(lambda mode, **kw: cz.open(url, mode=mode, storage_options=s3, **kw),
                                                  fmt, (40, 30), (8, 8), np.s_[5:13, 7:29])
    assert isinstance(z._store, FsspecStore)
    z[0, 0] = 99
    expect[0, 0] = 99
    store = z._store
    # writing the fill value deletes chunks (write_empty_chunks=False)
    z[:8, :8] = 3
    expect[:8, :8] = 3
    keys_after = set(store.list_prefix(""))
    first = "c/0/0" if fmt == 3 else "0.0"
    assert first in chunk_keys and first not in keys_after
    assert keys_after == set(store.list_prefix("")) and len(keys_after - set(chunk_keys)) == 1
    np.testing.assert_array_equal(cz.open(url, mode="r", storage_options=s3)[...], expect)
    store2 = FsspecStore.from_url(url, storage_options=s3)
    store2.delete_many(list(store2.list_prefix("")))
    assert list(store2.list_prefix("")) == []
    assert first not in store2 and store2.get(first) is None


def test_s3_nested_paths_and_listing(s3):
    root = _url("tree.zarr")
    a = cz.zeros((10,), chunks=(5,), dtype="i2", store=root, path="g/a", storage_options=s3)
    b = cz.ones((4, 4), chunks=(2, 2), dtype="u1", store=root, path="g/sub/b", storage_options=s3)
    a[:] = np.arange(10)
    store = FsspecStore.from_url(root, storage_options=s3)
    assert store.list_dir("") == ["g"]
    assert store.list_dir("g/") == ["a", "sub"]
    assert sorted(store.list_prefix("g/sub/")) == ["g/sub/b/zarr.json"]  # ones: no chunk written
    np.testing.assert_array_equal(cz.open(root, mode="r", path="g/a", storage_options=s3)[:], np.arange(10))
    np.testing.assert_array_equal(cz.open(root, mode="r", path="g/sub/b", storage_options=s3)[:], b[:])


def test_s3_ranges(s3):
    check_ranges(FsspecStore.from_url(_url("ranges"), storage_options=s3))


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_chunkzip_and_back(s3, fmt):
    zarr = pytest.importorskip("zarr")
    data = np.arange(35 * 21, dtype="<i8").reshape(35, 21)
    url = _url(f"cz2zarr{fmt}.zarr")
    z = cz.open(url, mode="w", shape=data.shape, chunks=(10, 6), dtype=data.dtype, zarr_format=fmt,
                storage_options=s3)
    z[...] = data
    ref = zarr.open_array(url, mode="r", storage_options=s3)
    np.testing.assert_array_equal(ref[...], data)
    url2 = _url(f"zarr2cz{fmt}.zarr")
    w = zarr.create_array(url2, shape=data.shape, chunks=(7, 5), dtype=data.dtype, zarr_format=fmt,
                          storage_options=s3, fill_value=0)
    w[...] = data
    w[3:9, 2:4] = -7
    got = cz.open(url2, mode="r", storage_options=s3)
    np.testing.assert_array_equal(got[...], w[...])


def test_s3_array_pickles_small(s3):
    z = cz.zeros((20, 20), chunks=(5, 5), dtype="i4", store=_url("pickled.zarr"), storage_options=s3)
    z[2:9] = 4
    s = pickle.dumps(z)
    assert len(s) < 1500
    z2 = pickle.loads(s)
    assert z2 == z
    z2[0] = 8
    np.testing.assert_array_equal(z[0], np.full(20, 8))


def test_s3_cut_upload_keeps_old_chunk(s3):
    """An upload dropped mid-body fails with the key and URL, and the stored chunk keeps
    its previous value (S3 stores an object only when the whole PUT arrived)."""
    endpoint = s3["client_kwargs"]["endpoint_url"]
    host, port = endpoint.rsplit(":", 1)
    proxy = CuttingProxy(("127.0.0.1", int(port)))
    opts = dict(s3, client_kwargs=dict(s3["client_kwargs"], endpoint_url=proxy.url),
                config_kwargs={"retries": {"max_attempts": 1}})
    try:
        url = _url("cut.zarr")
        z = cz.open(url, mode="w", shape=(64, 64), chunks=(64, 64), dtype="f8", compressor=None,
                    storage_options=opts)
        z._store.fs.retries = 1  # s3fs's own retry loop: one attempt, ours decide
        z[...] = 1.0
        proxy.cut_after = 4096  # the next upload loses its connection after 4 KiB
        with cz.config.set(io_retries=1):
            with pytest.raises(StoreIOError, match=r"writing key 'c/0/0' of s3://cz-test/cut\.zarr"):
                z[...] = 2.0
        assert proxy.cuts >= 1
        proxy.cut_after = None
        np.testing.assert_array_equal(cz.open(url, mode="r", storage_options=s3)[...], 1.0)
    finally:
        proxy.close()


def test_s3_sharded_array_ranged_reads(s3):
    """A sharded array in S3: written whole-shard, read through ranged requests (index
    suffix + inner chunk ranges); zarr-python 3 reads it too."""
    data = np.arange(64 * 48, dtype="u2").reshape(64, 48)
    url = _url("sharded.zarr")
    z = cz.open(url, mode="w", shape=data.shape, chunks=(8, 8), shards=(32, 24), dtype="u2", zarr_format=3,
                storage_options=s3)
    z[...] = data
    z[3:10, 40:47] = 7
    data[3:10, 40:47] = 7
    r = cz.open(url, mode="r", storage_options=s3)
    np.testing.assert_array_equal(r[...], data)
    np.testing.assert_array_equal(r[33:41, 1:9], data[33:41, 1:9])  # a few inner chunks of one shard
    np.testing.assert_array_equal(r.vindex[[0, 63, 40], [47, 0, 20]], data[[0, 63, 40], [47, 0, 20]])
    assert sorted(k for k in r._store.list_prefix("c/")) == ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(url, mode="r", storage_options=s3)[...], data)


@pytest.mark.parametrize("fmt", [2, 3])
def test_s3_hierarchy_both_ways_with_zarr_python(s3, fmt):
    if not hasattr(cz, "open_group"):
        pytest.skip("groups come with issue 10")
    zarr = pytest.importorskip("zarr")
    url = _url(f"hier{fmt}.zarr")
    root = cz.open_group(url, mode="w", zarr_format=fmt, storage_options=s3, attributes={"title": "t"})
    sub = root.create_group("sub")
    a = sub.create_array("a", shape=(12, 9), chunks=(5, 4), dtype="i4")
    a[...] = np.arange(108).reshape(12, 9)
    cz.consolidate_metadata(cz.storage.FsspecStore.from_url(url, storage_options=s3), zarr_format=fmt)
    ref = zarr.open_group(url, mode="r", storage_options=s3)
    assert dict(ref.attrs) == {"title": "t"}
    np.testing.assert_array_equal(ref["sub/a"][...], np.arange(108).reshape(12, 9))
    # zarr-python adds a member; chunkzip sees it (consolidated metadata refreshed by zarr)
    w = zarr.open_group(url, mode="a", storage_options=s3)
    w.create_array("b", shape=(4,), dtype="f8", fill_value=0.0)[...] = [1.0, 2.0, 3.0, 4.0]
    zarr.consolidate_metadata(zarr.storage.FsspecStore.from_url(url, storage_options=s3), zarr_format=fmt)
    got = cz.open_group(url, mode="r", storage_options=s3)
    assert sorted(got.keys()) == ["b", "sub"]
    assert len(pickle.dumps(got)) < 1500 and sorted(pickle.loads(pickle.dumps(got)).keys()) == ["b", "sub"]
    np.testing.assert_array_equal(got["b"][...], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(cz.open(url, mode="r", path="sub/a", storage_options=s3)[2:7, 1:8],
                                  np.arange(108).reshape(12, 9)[2:7, 1:8])


def test_s3_xarray_engine(s3):
    xr = pytest.importorskip("xarray")
    if not hasattr(cz, "open_group"):
        pytest.skip("groups come with issue 10")
    from chunkzip.xarray_backend import ChunkzipBackendEntrypoint

    ds = xr.Dataset({"v": (("t", "x"), np.arange(20.0).reshape(4, 5))}, coords={"x": np.arange(5) * 2})
    url = _url("xr.zarr")
    ds.to_zarr(url, storage_options=s3, zarr_format=3, consolidated=True)
    ours = xr.open_dataset(url, engine=ChunkzipBackendEntrypoint, storage_options=s3, chunks={})
    xr.testing.assert_identical(ours, xr.open_dataset(url, engine="zarr", storage_options=s3, chunks={}))
    xr.testing.assert_identical(ours.compute(), ds)
