"""Arrays in Google Cloud Storage (gs://, gcsfs) against ``gcp-storage-emulator``, a GCS
JSON-API server on 127.0.0.1: create, write, partial update, read, list, delete, ranged
reads, a sharded array, a hierarchy; zarr-python 3 reads what chunkzip wrote and the
reverse. Nothing on the client side is replaced."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

# gcsfs >= 2025.x asks a gRPC control-plane API for the bucket type first (zonal or
# hierarchical buckets): an emulator has none, and each lookup waits for a 60 s timeout.
# Its plain JSON-API file system is the one that talks to the emulator.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

import chunkzip as cz  # noqa: E402
from chunkzip.storage import FsspecStore  # noqa: E402

gcsfs = pytest.importorskip("gcsfs")
pytest.importorskip("gcp_storage_emulator")

from remote_checks import check_array_lifecycle, check_ranges  # noqa: E402
from remote_servers import gcs_emulator  # noqa: E402

BUCKET = "cz-gcs"

if gcsfs.GCSFileSystem.__name__ != "GCSFileSystem":
    pytest.skip("gcsfs was imported with its gRPC bucket-type lookup on (GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT), "
                "which waits for timeouts against an emulator", allow_module_level=True)


@pytest.fixture(scope="module")
def gs():
    with gcs_emulator(BUCKET) as opts:
        yield opts


def _url(name: str) -> str:
    return f"gs://{BUCKET}/{name}"


@pytest.mark.parametrize("fmt", [2, 3])
def test_gcs_create_write_update_read_list_delete(gs, fmt):
    url = _url(f"basic{fmt}.zarr")
    z, expect, chunk_keys = check_array_lifecycle(lambda mode, **kw: cz.open(url, mode=mode, storage_options=gs, **kw),
                                                  fmt, (30, 26), (8, 7), np.s_[5:13, 6:25])
    assert isinstance(z._store, FsspecStore) and z._store.protocol in ("gs", "gcs")
    store = z._store
    z[:8, :7] = 3  # the fill value: the chunk is deleted (write_empty_chunks=False)
    expect[:8, :7] = 3
    first = "c/0/0" if fmt == 3 else "0.0"
    assert first in chunk_keys and first not in set(store.list_prefix(""))
    np.testing.assert_array_equal(cz.open(url, mode="r", storage_options=gs)[...], expect)
    store2 = FsspecStore.from_url(url, storage_options=gs)
    store2.delete_many(list(store2.list_prefix("")))
    assert list(store2.list_prefix("")) == []
    assert store2.get(first) is None


def test_gcs_ranges_and_sizes(gs):
    store = FsspecStore.from_url(_url("ranges"), storage_options=gs)
    check_ranges(store)
    assert "x/small" in store and "x/nope" not in store


@pytest.mark.parametrize("fmt", [2, 3])
def test_gcs_zarr_python_reads_chunkzip_and_back(gs, fmt):
    zarr = pytest.importorskip("zarr")
    data = np.arange(35 * 21, dtype="<i8").reshape(35, 21)
    url = _url(f"cz2zarr{fmt}.zarr")
    z = cz.open(url, mode="w", shape=data.shape, chunks=(10, 6), dtype=data.dtype, zarr_format=fmt,
                storage_options=gs)
    z[...] = data
    np.testing.assert_array_equal(zarr.open_array(url, mode="r", storage_options=gs)[...], data)
    url2 = _url(f"zarr2cz{fmt}.zarr")
    w = zarr.create_array(url2, shape=data.shape, chunks=(7, 5), dtype=data.dtype, zarr_format=fmt,
                          storage_options=gs, fill_value=0)
    w[...] = data
    w[3:9, 2:4] = -7
    np.testing.assert_array_equal(cz.open(url2, mode="r", storage_options=gs)[...], w[...])


def test_gcs_sharded_array_and_pickle(gs):
    data = np.arange(64 * 48, dtype="u2").reshape(64, 48)
    url = _url("sharded.zarr")
    z = cz.open(url, mode="w", shape=data.shape, chunks=(8, 8), shards=(32, 24), dtype="u2", zarr_format=3,
                storage_options=gs)
    z[...] = data
    z[3:10, 40:47] = 7
    data[3:10, 40:47] = 7
    r = pickle.loads(pickle.dumps(cz.open(url, mode="r", storage_options=gs)))
    np.testing.assert_array_equal(r[...], data)
    np.testing.assert_array_equal(r[33:41, 1:9], data[33:41, 1:9])  # ranged reads inside one shard
    np.testing.assert_array_equal(r.vindex[[0, 63, 40], [47, 0, 20]], data[[0, 63, 40], [47, 0, 20]])
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(url, mode="r", storage_options=gs)[...], data)


def test_gcs_hierarchy(gs):
    if not hasattr(cz, "open_group"):
        pytest.skip("groups come with issue 10")
    zarr = pytest.importorskip("zarr")
    url = _url("hier.zarr")
    root = cz.open_group(url, mode="w", zarr_format=3, storage_options=gs, attributes={"title": "t"})
    a = root.create_group("sub").create_array("a", shape=(12, 9), chunks=(5, 4), dtype="i4")
    a[...] = np.arange(108).reshape(12, 9)
    ref = zarr.open_group(url, mode="r", storage_options=gs)
    assert dict(ref.attrs) == {"title": "t"}
    np.testing.assert_array_equal(ref["sub/a"][...], np.arange(108).reshape(12, 9))
    assert sorted(cz.open_group(url, mode="r", storage_options=gs).keys()) == ["sub"]
