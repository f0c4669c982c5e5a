"""ObstoreStore (obstore, the Rust object_store client) against moto's standalone S3
server on 127.0.0.1: create, write, partial update, read, list, delete, ranges, a sharded
array, streamed reads, errors that name the key and URL without the secret; zarr-python
3 (s3fs) reads what chunkzip wrote through obstore in the same bucket, and the reverse."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.storage import ObstoreStore, StoreIOError

pytest.importorskip("obstore")
pytest.importorskip("s3fs")
pytest.importorskip("moto.server")

from remote_checks import check_array_lifecycle  # noqa: E402
from remote_servers import _free_port, moto_s3  # noqa: E402

BUCKET = "cz-obstore"


@pytest.fixture(scope="module")
def s3():
    """(obstore options, s3fs options) for the same moto server and bucket."""
    import s3fs

    with moto_s3() as opts:
        s3fs.S3FileSystem(**opts).mkdir(BUCKET)
        ob = {"endpoint": opts["client_kwargs"]["endpoint_url"], "access_key_id": opts["key"],
              "secret_access_key": opts["secret"], "region": "eu-west-1", "client_options": {"allow_http": True}}
        yield ob, opts


def _store(ob: dict, name: str, **kw) -> ObstoreStore:
    return ObstoreStore.from_url(f"s3://{BUCKET}/{name}", ob, **kw)


@pytest.mark.parametrize("fmt", [2, 3])
def test_obstore_write_update_read_list_delete_with_zarr_python(s3, fmt):
    ob, s3fs_opts = s3
    store = _store(ob, f"basic{fmt}.zarr")

    def open_array(mode: str, **kw):
        return cz.open(store if mode == "w" else _store(ob, f"basic{fmt}.zarr", read_only=True), mode=mode, **kw)

    z, expect, _ = check_array_lifecycle(open_array, fmt, (40, 30), (8, 8), np.s_[5:13, 7:29])
    zarr = pytest.importorskip("zarr")
    url = f"s3://{BUCKET}/basic{fmt}.zarr"
    np.testing.assert_array_equal(zarr.open_array(url, mode="r", storage_options=s3fs_opts)[...], expect)
    z[:8, :8] = 3  # the fill value: the chunk is deleted
    first = "c/0/0" if fmt == 3 else "0.0"
    assert first not in store and store.get(first) is None
    w = zarr.create_array(f"s3://{BUCKET}/z{fmt}.zarr", shape=(35, 21), chunks=(7, 5), dtype="i8", zarr_format=fmt,
                          storage_options=s3fs_opts, fill_value=0)
    w[...] = np.arange(35 * 21).reshape(35, 21)
    np.testing.assert_array_equal(cz.open(_store(ob, f"z{fmt}.zarr"), mode="r")[...], w[...])
    store.delete_many(list(store.list_prefix("")))
    assert list(store.list_prefix("")) == []


def test_obstore_ranges_sizes_listing(s3):
    ob, _ = s3
    store = _store(ob, "ranges")
    blob = bytes(range(256)) * 4
    store.set_many([("x/blob", blob), ("x/small", b"abc"), ("x/sub/deep", b"d")])
    assert store.get_ranges([("x/blob", 10, 20), ("x/blob", -16, None), ("x/blob", -16, 4), ("x/blob", 1000, None),
                             ("x/nope", 0, 1), ("x/small", 1, 100), ("x/small", 3, None), ("x/small", 9, 2)]) == [
        blob[10:30], blob[-16:], blob[-16:-12], blob[1000:], None, b"bc", b"", b""]
    assert store.getsize("x/blob") == 1024 and store.getsize("x/nope") == 0 and store.getsize("x") == 1028
    assert "x/small" in store and "x/nope" not in store
    assert store.list_dir("") == ["x"] and store.list_dir("x/") == ["blob", "small", "sub"]
    assert list(store.list_prefix("x/s")) == ["x/small", "x/sub/deep"]


def test_obstore_sharded_and_streamed_reads(s3):
    ob, s3fs_opts = s3
    data = np.arange(64 * 48, dtype="u2").reshape(64, 48)
    store = _store(ob, "sharded.zarr")
    z = cz.open(store, mode="w", shape=data.shape, chunks=(8, 8), shards=(32, 24), dtype="u2", zarr_format=3)
    z[...] = data
    z[3:10, 40:47] = 7
    data[3:10, 40:47] = 7
    np.testing.assert_array_equal(z[...], data)
    np.testing.assert_array_equal(z[33:41, 1:9], data[33:41, 1:9])  # ranged reads inside one shard
    np.testing.assert_array_equal(z.vindex[[0, 63, 40], [47, 0, 20]], data[[0, 63, 40], [47, 0, 20]])
    plain = cz.open(_store(ob, "plain.zarr"), mode="w", shape=data.shape, chunks=(8, 7), dtype="u2")
    plain[...] = data
    saved = pipeline.STREAM_READS
    try:
        for flag in (True, False):
            pipeline.STREAM_READS = flag
            with cz.config.set(io_concurrency=4):
                np.testing.assert_array_equal(plain[2:61, 3:45], data[2:61, 3:45])
                np.testing.assert_array_equal(plain.vindex[[0, 63, 40, 5], [47, 0, 20, 5]],
                                              data[[0, 63, 40, 5], [47, 0, 20, 5]])
    finally:
        pipeline.STREAM_READS = saved
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(f"s3://{BUCKET}/sharded.zarr", mode="r",
                                                  storage_options=s3fs_opts)[...], data)


def test_obstore_unreachable_names_key_and_url_not_secret():
    port = _free_port()  # nothing listens there
    ob = {"endpoint": f"http://127.0.0.1:{port}", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t-value",
          "region": "eu-west-1", "client_options": {"allow_http": True}}
    store = ObstoreStore.from_url(f"s3://{BUCKET}/gone.zarr", ob)
    with cz.config.set(io_retries=1, io_timeout=5.0):
        with pytest.raises(StoreIOError, match=r"reading key 'c/0/0' of s3://cz-obstore/gone\.zarr failed after 2") as e:
            store.get_many(["c/0/0", "c/0/1"])
        assert "s3cr3t-value" not in str(e.value)
        with pytest.raises(StoreIOError, match=r"writing key 'k'"):
            store.set("k", b"v")
    with pytest.raises(PermissionError):
        ObstoreStore.from_url(f"s3://{BUCKET}/x", ob, read_only=True).set("k", b"v")


def test_obstore_store_pickles_small(s3):
    ob, _ = s3
    z = cz.zeros((20, 20), chunks=(5, 5), dtype="i4", store=_store(ob, "pickled.zarr"))
    z[2:9] = 4
    s = pickle.dumps(z)
    assert len(s) < 1500
    z2 = pickle.loads(s)
    z2[0] = 8
    expect = np.zeros((20, 20), "i4")
    expect[2:9] = 4
    expect[0] = 8
    np.testing.assert_array_equal(z[...], expect)
    assert pickle.loads(pickle.dumps(z2._store)) == z._store
