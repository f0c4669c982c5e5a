"""ZipStore: modes, ranged reads, rewrites, pickling of arrays and groups on it, and
files exchanged with zarr-python's ZipStore both ways."""
from __future__ import annotations

import pickle
import warnings
import zipfile

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import ZipStore


def _fill(store, fmt=3):
    g = cz.group(store, zarr_format=fmt, attributes={"who": "cz"})
    a = g.create_array("data/a", shape=(20, 30), chunks=(8, 8), dtype="f8")
    a[:] = np.arange(600.0).reshape(20, 30)
    g["data"].attrs["n"] = 1
    return g


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_round_trip_modes_and_ranges(tmp_path, compression):
    p = tmp_path / "s.zip"
    with ZipStore(p, mode="w", compression=compression) as st:
        _fill(st)
        st.set("blob", bytes(range(256)) * 4)
    assert st.closed
    with pytest.raises(ValueError, match="closed"):
        st.get("blob")
    with ZipStore(p, mode="r") as st:
        g = cz.open(st)
        np.testing.assert_array_equal(g["data/a"][:], np.arange(600.0).reshape(20, 30))
        assert g.attrs["who"] == "cz" and g["data"].attrs["n"] == 1
        blob = bytes(range(256)) * 4
        for start, length in [(0, 10), (5, None), (1000, 100), (-24, None), (-24, 4), (2000, 5), (3, 0)]:
            assert st.get_range("blob", start, length) == cz.storage.base._slice_range(blob, start, length)
        assert st.get_ranges([("blob", 1, 2), ("nope", 0, 1)]) == [blob[1:3], None]
        assert st.get("nope") is None and st.getsize("blob") == 1024 and "blob" in st
        assert st.list_dir("") == ["blob", "data", "zarr.json"] and st.list_dir("data/") == ["a", "zarr.json"]
        assert sorted(st.list_prefix("data/a/c/0/")) == [f"data/a/c/0/{j}" for j in range(4)]
        with pytest.raises(PermissionError, match="mode='r'"):
            st.set("x", b"1")
        with pytest.raises(PermissionError):
            g["data/a"][0, 0] = 1
        with pytest.raises(PermissionError):
            g.create_group("new")


def test_append_mode_and_rewrites(tmp_path):
    p = tmp_path / "a.zip"
    with ZipStore(p, mode="w") as st:
        _fill(st, fmt=2)
    with ZipStore(p, mode="a") as st:
        g = cz.open_group(st)
        g["data/a"][0, :] = -1  # rewrites of existing chunks hide the old members
        g.attrs["who"] = "again"
        g.create_array("more", data=np.arange(5))
    with ZipStore(p, mode="r") as st:
        g = cz.open_group(st)
        assert g["data/a"][0, 3] == -1 and g["data/a"][1, 3] == 33
        assert g.attrs["who"] == "again" and list(g.keys()) == ["data", "more"]
    with zipfile.ZipFile(p) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert zf.testzip() is None
    with pytest.raises(FileExistsError):
        ZipStore(p, mode="x")
    with pytest.raises(ValueError, match="mode"):
        ZipStore(p, mode="r+")


def test_delete_is_refused_clearly(tmp_path):
    with ZipStore(tmp_path / "d.zip", mode="w") as st:
        st.set("k", b"v")
        st.delete("absent")  # nothing to do
        with pytest.raises(NotImplementedError, match="cannot delete"):
            st.delete("k")
        assert st.get("k") == b"v"


@pytest.mark.parametrize("fmt", [2, 3])
def test_pickle_arrays_and_groups(tmp_path, fmt):
    p = tmp_path / "p.zip"
    st = ZipStore(p, mode="w")
    g = _fill(st, fmt)
    a = g["data/a"]
    s = pickle.dumps(a)
    assert len(s) < 400  # the file name and mode, not the data
    a2 = pickle.loads(s)
    np.testing.assert_array_equal(a2[:], a[:])
    st.close()
    a2.store.close()
    st = ZipStore(p, mode="r")
    g = cz.open_group(st)
    g2 = pickle.loads(pickle.dumps(g))
    assert g2.read_only and g2.store.mode == "r" and list(g2.keys()) == ["data"]
    np.testing.assert_array_equal(g2["data/a"][:5, :5], np.arange(600.0).reshape(20, 30)[:5, :5])


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zarr-python rewrites its root metadata
@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_and_writes_zip(tmp_path, fmt):
    zarr = pytest.importorskip("zarr")
    p = tmp_path / "z.zip"
    with ZipStore(p, mode="w") as st:
        _fill(st, fmt)
    zst = zarr.storage.ZipStore(p, mode="r")
    zg = zarr.open_group(zst, mode="r")
    np.testing.assert_array_equal(zg["data/a"][:], np.arange(600.0).reshape(20, 30))
    assert zg.attrs["who"] == "cz" and zg["data"].attrs["n"] == 1
    zst.close()

    q = tmp_path / "zz.zip"
    zst = zarr.storage.ZipStore(q, mode="w")
    zg = zarr.open_group(zst, mode="w", zarr_format=fmt)
    za = zg.create_array("x/y", shape=(10, 4), chunks=(3, 3), dtype="i2")
    za[:] = np.arange(40).reshape(10, 4)
    zg.attrs["from"] = "zarr"
    zst.close()
    with ZipStore(q, mode="r") as st:
        g = cz.open(st)
        np.testing.assert_array_equal(g["x/y"][:], np.arange(40).reshape(10, 4))
        assert g.attrs["from"] == "zarr" and list(g.group_keys()) == ["x"]
