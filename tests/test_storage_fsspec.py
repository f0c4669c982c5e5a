"""FsspecStore on file systems that need no server: ``memory://``, a local file system
(the temporary-key-then-move write path), a chained ``zip::`` URL; URL handling in
``normalize_store_like``. NumPy is the oracle."""
from __future__ import annotations

import pickle
import zipfile

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import FsspecStore, LocalStore, normalize_store_like
from chunkzip.storage.fsspec import is_url

fsspec = pytest.importorskip("fsspec")


def test_memory_url_roundtrip_and_store_calls():
    url = "memory://cz-tests/m.zarr"
    data = np.arange(30 * 20, dtype="f8").reshape(30, 20)
    z = cz.open(url, mode="w", shape=data.shape, chunks=(7, 6), dtype="f8", write_empty_chunks=False)
    z[...] = data
    z[2:9, 3:17] = 0  # partial chunks: fetched in one batch, then written in one batch
    data[2:9, 3:17] = 0
    np.testing.assert_array_equal(cz.open(url, mode="r")[...], data)
    store = FsspecStore.from_url(url)
    assert store.list_dir("") == ["c", "zarr.json"]
    assert store.list_dir("c/") == ["0", "1", "2", "3", "4"]
    keys = list(store.list_prefix("c/"))
    assert len(keys) == 5 * 4 and keys == sorted(keys)
    assert store.get_many(["c/0/0", "nope", "c/4/3"])[1] is None
    store.delete_many(["c/0/0", "nope"])
    assert "c/0/0" not in store and store.getsize("c/4/3") > 0
    with pytest.raises(ValueError):
        store.get("../escape")
    store.delete_many(list(store.list_prefix("")))


def test_local_filesystem_writes_through_a_temporary_key(tmp_path):
    fs = fsspec.filesystem("file")
    store = FsspecStore(fs, str(tmp_path / "l.zarr"))
    assert not store._atomic_put
    z = cz.zeros((10, 10), chunks=(5, 5), dtype="i2", store=store)
    z[3:8, 1:9] = 4
    expect = np.zeros((10, 10), "i2")
    expect[3:8, 1:9] = 4
    np.testing.assert_array_equal(cz.open(LocalStore(tmp_path / "l.zarr"), mode="r")[...], expect)
    leftovers = [p for p in (tmp_path / "l.zarr").rglob("*") if ".cztmp-" in p.name]
    assert leftovers == []
    s2 = pickle.loads(pickle.dumps(store))  # built from a file system object: pickles it
    assert s2 == store and s2.get("zarr.json") == store.get("zarr.json")


def test_zip_chained_url_is_read_only(tmp_path):
    data = np.arange(50, dtype="u1")
    cz.array(data, chunks=(8,), store=str(tmp_path / "a.zarr"), zarr_format=2)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        for p in (tmp_path / "a.zarr").iterdir():
            zf.write(p, p.name)
    url = f"zip::file://{tmp_path / 'a.zip'}"
    z = cz.open(url, mode="r")
    np.testing.assert_array_equal(z[...], data)
    assert z._store.read_only
    with pytest.raises(PermissionError):
        z._store.set("x", b"1")


def test_url_detection_and_normalisation(tmp_path):
    assert is_url("s3://b/k") and is_url("zip::s3://b/a.zip") and is_url("memory://x")
    assert not is_url("plain/path") and not is_url("C:\\data\\x.zarr") and not is_url(tmp_path)
    st = normalize_store_like(f"file://{tmp_path}/f.zarr")
    assert isinstance(st, LocalStore) and st.root == str(tmp_path / "f.zarr")
    assert isinstance(normalize_store_like("memory://n.zarr", read_only=True), FsspecStore)
    with pytest.raises(ValueError, match="storage_options"):
        normalize_store_like({}, storage_options={"anon": True})


def test_store_equality_and_small_pickle():
    a = FsspecStore.from_url("memory://eq/x.zarr")
    b = pickle.loads(pickle.dumps(a))
    assert a == b and hash(a) == hash(b) and len(pickle.dumps(a)) < 300
    assert a != FsspecStore.from_url("memory://eq/y.zarr")
    assert "memory://eq/x.zarr" in repr(a)
