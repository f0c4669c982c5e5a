"""copy_store / copy_all: whole hierarchies copied key by key or node by node, with
attributes, across stores and formats, compared with the source as NumPy arrays."""
from __future__ import annotations

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import MemoryStore, ZipStore


def _source(store, fmt=3):
    g = cz.group(store, zarr_format=fmt, attributes={"root": True})
    g.create_array("a", data=np.arange(100, dtype="i4").reshape(10, 10), chunks=(3, 4), attributes={"u": "m"})
    sub = g.create_group("sub", attributes={"s": 1})
    sub.create_array("b", data=np.linspace(0, 1, 50), chunks=7, fill_value=np.nan)
    sub.create_group("empty")
    sub.create_array("unwritten", shape=(5, 5), chunks=2, dtype="u2", fill_value=9)
    return g


def _assert_same(src, dst, attrs=True):
    assert sorted(dict(src.members(max_depth=None))) == sorted(dict(dst.members(max_depth=None)))
    for name, node in src.members(max_depth=None):
        other = dst[name]
        if isinstance(node, cz.Array):
            np.testing.assert_array_equal(other[...], node[...])
            assert other.dtype == node.dtype and other.shape == node.shape
        if attrs:
            assert other.attrs.asdict() == node.attrs.asdict()
    if attrs:
        assert dst.attrs.asdict() == src.attrs.asdict()


def test_copy_store_raw_and_modes(tmp_path):
    src = MemoryStore()
    _source(src)
    with ZipStore(tmp_path / "c.zip", mode="w") as dst:
        n, skipped, nbytes = cz.copy_store(src, dst)
        assert n == len(list(src.list_prefix(""))) and skipped == 0
        assert nbytes == sum(len(src.get(k)) for k in src.list_prefix(""))
    with ZipStore(tmp_path / "c.zip", mode="r") as dst:
        _assert_same(cz.open_group(src), cz.open_group(dst))
    # a sub-tree to another path; raise / skip / replace / dry run
    dst = MemoryStore()
    assert cz.copy_store(src, dst, source_path="sub", dest_path="x/y", dry_run=True)[0] > 0
    assert list(dst.list_prefix("")) == []
    cz.group(dst).create_group("x")
    cz.copy_store(src, dst, source_path="sub", dest_path="x/y")
    np.testing.assert_array_equal(cz.open_group(dst)["x/y/b"][:], np.linspace(0, 1, 50))
    before = dict(dst._map)
    with pytest.raises(FileExistsError, match="exist already"):
        cz.copy_store(src, dst, source_path="sub", dest_path="x/y")
    assert dict(dst._map) == before
    n, skipped, _ = cz.copy_store(src, dst, source_path="sub", dest_path="x/y", if_exists="skip")
    assert n == 0 and skipped > 0
    n2, _, _ = cz.copy_store(src, dst, source_path="sub", dest_path="x/y", if_exists="replace",
                             excludes=[r"^b/"], includes=[r"^b/c/0$"])
    assert n2 == skipped - 8  # b's metadata and 7 of its 8 chunks left out
    with pytest.raises(ValueError, match="if_exists"):
        cz.copy_store(src, dst, if_exists="merge")


@pytest.mark.parametrize("src_fmt,dst_fmt", [(3, 3), (2, 2), (3, 2), (2, 3)])
def test_copy_all_across_formats_and_stores(tmp_path, src_fmt, dst_fmt):
    src = _source(MemoryStore(), src_fmt)
    dst = cz.group(str(tmp_path / "d.zarr"), zarr_format=dst_fmt)
    n, skipped, nbytes = cz.copy_all(src, dst, max_mem=200)  # tiny slabs: many small steps
    assert (n, skipped) == (5, 0)
    assert nbytes == 100 * 4 + 50 * 8 + 25 * 2
    _assert_same(src, cz.open_group(str(tmp_path / "d.zarr"), mode="r"))
    assert dst["sub/b"].chunks == (7,) and dst["sub/unwritten"].nchunks_initialized == 0
    assert dst["a"].zarr_format == dst_fmt


def test_copy_all_options():
    src = _source(MemoryStore())
    dst = cz.group(MemoryStore())
    dst.create_array("a", shape=1)
    with pytest.raises(cz.ContainsGroupError, match="exist already"):
        cz.copy_all(src, dst)
    assert list(dst.keys()) == ["a"] and dst["a"].shape == (1,)
    assert cz.copy_all(src, dst, if_exists="skip")[:2] == (4, 1)
    assert dst["a"].shape == (1,)
    cz.copy_all(src, dst, if_exists="replace", without_attrs=True, compressor=None)
    assert dst["a"].shape == (10, 10) and dst["a"].attrs.asdict() == {} and dst["a"].compressor is None
    shallow = cz.group(MemoryStore())
    cz.copy_all(src, shallow, shallow=True)
    assert list(shallow["sub"].keys()) == []
    dry = cz.group(MemoryStore())
    assert cz.copy_all(src, dry, dry_run=True) == (5, 0, 100 * 4 + 50 * 8 + 25 * 2)
    assert list(dry.keys()) == []
    with pytest.raises(TypeError, match="group"):
        cz.copy_all(src["a"], dst)


def test_copy_all_from_zarr_python(tmp_path):
    zarr = pytest.importorskip("zarr")
    zg = zarr.open_group(str(tmp_path / "z.zarr"), mode="w")
    zg.attrs["from"] = "zarr"
    za = zg.create_array("g/x", shape=(20, 3), chunks=(6, 3), dtype="f4", fill_value=-1)
    za[:10] = np.arange(30, dtype="f4").reshape(10, 3)
    za.attrs["k"] = [1]
    dst = cz.group(MemoryStore())
    assert cz.copy_all(zg, dst)[0] == 2
    assert dst.attrs["from"] == "zarr" and dst["g/x"].attrs["k"] == [1]
    np.testing.assert_array_equal(dst["g/x"][:], za[:])
    assert dst["g/x"].chunks == (6, 3) and dst["g/x"].fill_value == -1
