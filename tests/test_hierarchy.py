"""Groups (chunkzip.hierarchy): creation, members, nested paths, deletion, attributes,
tree/info, node discovery by chunkzip.open, consolidated metadata, and the bad-input cases."""
from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import LocalStore, MemoryStore


@pytest.fixture(params=[2, 3], ids=["v2", "v3"])
def fmt(request):
    return request.param


def _build(store, fmt):
    g = cz.open_group(store, mode="w", zarr_format=fmt, attributes={"title": "root"})
    a = g.create_array("a", shape=(7, 5), chunks=(3, 2), dtype="i4", dimension_names=["y", "x"])
    a[:] = np.arange(35).reshape(7, 5)
    sub = g.create_group("sub", attributes={"level": 1})
    b = sub.create_array("b", data=np.linspace(0, 1, 9), chunks=4)
    b.attrs["units"] = "m"
    g.create_array("sub/deep/c", shape=(3,), dtype="u1", fill_value=7)  # parents made on the way
    return g


def test_members_keys_and_nested_paths(fmt):
    g = _build(MemoryStore(), fmt)
    assert list(g.keys()) == ["a", "sub"] and list(g) == ["a", "sub"] and len(g) == 2
    assert list(g.array_keys()) == ["a"] and list(g.group_keys()) == ["sub"]
    assert [n for n, _ in g.arrays()] == ["a"] and [n for n, _ in g.groups()] == ["sub"]
    assert isinstance(g["sub"], cz.Group) and isinstance(g["sub/deep"], cz.Group)
    np.testing.assert_array_equal(g["sub/deep/c"][:], [7, 7, 7])
    np.testing.assert_array_equal(g["sub"]["b"][:], np.linspace(0, 1, 9))
    assert "sub/b" in g and "a" in g and "nope" not in g and "sub/nope" not in g and 3 not in g
    deep = dict(g.members(max_depth=None))
    assert sorted(deep) == ["a", "sub", "sub/b", "sub/deep", "sub/deep/c"]
    assert sorted(dict(g.members(max_depth=1))) == ["a", "sub", "sub/b", "sub/deep"]
    assert g["sub/deep"].name == "/sub/deep" and g["sub/deep"].basename == "deep"
    assert g["a"].dimension_names == ["y", "x"]
    assert g.attrs["title"] == "root" and g["sub"].attrs["level"] == 1 and g["sub/b"].attrs["units"] == "m"
    assert g.zarr_format == fmt and g["sub/deep/c"].zarr_format == fmt
    with pytest.raises(KeyError, match="nope"):
        g["nope"]
    assert g.get("nope", 5) == 5


def test_delitem_removes_the_subtree_only(fmt):
    store = MemoryStore()
    g = _build(store, fmt)
    del g["sub"]
    assert list(g.keys()) == ["a"]
    assert not any(k.startswith("sub/") for k in store.list_prefix(""))
    np.testing.assert_array_equal(g["a"][:], np.arange(35).reshape(7, 5))
    with pytest.raises(KeyError):
        del g["sub"]


def test_require_and_overwrite(fmt):
    g = _build(MemoryStore(), fmt)
    assert g.require_group("sub").attrs["level"] == 1
    new = g.require_group("new/one")
    assert isinstance(new, cz.Group) and "new/one" in g
    z = g.require_array("a", shape=(7, 5), dtype="i8")
    assert z.dtype == np.dtype("i4")
    with pytest.raises(TypeError, match="shape"):
        g.require_array("a", shape=(7, 6))
    with pytest.raises(TypeError, match="dtype"):
        g.require_array("a", shape=(7, 5), dtype="i2")
    with pytest.raises(TypeError, match="dtype"):
        g.require_array("a", shape=(7, 5), dtype="i8", exact=True)
    with pytest.raises(cz.ContainsGroupError):
        g.require_array("sub", shape=3)
    with pytest.raises(cz.ContainsArrayError):
        g.require_group("a")
    g2 = g.create_group("sub", overwrite=True)
    assert list(g2.keys()) == [] and g["sub"].attrs.asdict() == {}
    g["arr"] = np.arange(4)
    np.testing.assert_array_equal(g["arr"][:], np.arange(4))


def test_group_and_array_at_the_same_path_refused_and_nothing_changes(fmt):
    store = MemoryStore()
    g = _build(store, fmt)
    before = dict(store._map)
    with pytest.raises(cz.ContainsArrayError, match="already exists"):
        g.create_group("a")
    with pytest.raises(cz.ContainsGroupError, match="already exists"):
        g.create_array("sub", shape=3)
    with pytest.raises(cz.ContainsArrayError, match="is an array"):
        g.create_group("a/inside")
    with pytest.raises(cz.ContainsArrayError, match="is an array"):
        g.create_array("a/inside", shape=2)
    assert dict(store._map) == before


@pytest.mark.parametrize("bad", ["", "/", "a/../b", "..", "a//b", "./a", "a/./b", "a\\b"])
def test_bad_member_names_refused_and_nothing_changes(bad):
    store = MemoryStore()
    g = cz.group(store)
    before = dict(store._map)
    for call in (lambda: g.create_group(bad), lambda: g.create_array(bad, shape=2), lambda: g[bad]):
        with pytest.raises(ValueError, match="invalid member name"):
            call()
    assert bad not in g
    assert dict(store._map) == before


def test_v2_group_and_array_files_at_the_same_path_is_an_error():
    store = MemoryStore()
    cz.group(store, zarr_format=2).create_array("x", shape=3)
    store.set("x/.zgroup", b'{"zarr_format": 2}')
    g = cz.open_group(store, mode="r", zarr_format=2)
    with pytest.raises(cz.MetadataError, match="both an array"):
        g["x"]
    with pytest.raises(cz.MetadataError, match="both an array"):
        cz.open(store, path="x")


def test_unknown_node_type_is_a_clear_error_and_nothing_changes():
    store = MemoryStore()
    store.set("zarr.json", json.dumps({"zarr_format": 3, "node_type": "dataset", "attributes": {}}).encode())
    before = dict(store._map)
    for call in (lambda: cz.open(store), lambda: cz.open_group(store), lambda: cz.open_array(store),
                 lambda: cz.open_group(store, mode="a")):
        with pytest.raises(cz.MetadataError, match="node_type.*'dataset'"):
            call()
    assert dict(store._map) == before


def test_open_returns_group_or_array_and_kind_errors(tmp_path, fmt):
    p = str(tmp_path / "h.zarr")
    _build(p, fmt)
    assert isinstance(cz.open(p, mode="r"), cz.Group)
    assert isinstance(cz.open(p, mode="r", path="a"), cz.Array)
    assert isinstance(cz.open(p, mode="r", path="sub/deep"), cz.Group)
    with pytest.raises(cz.ArrayNotFoundError, match="holds a group"):
        cz.open_array(p, mode="r")
    with pytest.raises(cz.GroupNotFoundError, match="holds an array"):
        cz.open_group(p, mode="r", path="a")
    with pytest.raises(cz.GroupNotFoundError, match="no group"):
        cz.open_group(p, mode="r", path="nothing")
    with pytest.raises(cz.ContainsGroupError):
        cz.open_group(p, mode="w-")
    # creating: a group without shape, an array with it
    q = str(tmp_path / "new.zarr")
    assert isinstance(cz.open(q, mode="a"), cz.Group)
    assert isinstance(cz.open(q, mode="a", path="z", shape=3), cz.Array)
    assert isinstance(cz.open(q, mode="w", shape=3), cz.Array)


def test_read_only_group_refuses_writes(tmp_path, fmt):
    p = str(tmp_path / "ro.zarr")
    _build(p, fmt)
    g = cz.open_group(p, mode="r")
    assert g.read_only and g["sub/b"].read_only
    for call in (lambda: g.create_group("x"), lambda: g.create_array("y", shape=1),
                 lambda: g.attrs.__setitem__("k", 1), lambda: g.__delitem__("a")):
        with pytest.raises(PermissionError):
            call()
    assert sorted(g.keys()) == ["a", "sub"]


def test_attrs_round_trip_and_reopen(tmp_path, fmt):
    p = str(tmp_path / "at.zarr")
    g = cz.group(p, zarr_format=fmt)
    g.attrs.update({"a": [1, 2], "b": {"c": None}})
    g.update_attributes({"d": "e"})
    del g.attrs["a"]
    assert cz.open_group(p, mode="r").attrs.asdict() == {"b": {"c": None}, "d": "e"}
    with pytest.raises(TypeError):
        g.attrs["bad"] = object()
    assert cz.open_group(p, mode="r").attrs.asdict() == {"b": {"c": None}, "d": "e"}


def test_tree_info_repr(fmt):
    g = _build(MemoryStore(), fmt)
    text = repr(g.tree())
    assert text.splitlines() == [
        "/",
        "├── a (7, 5) int32",
        "└── sub",
        "    ├── b (9,) float64",
        "    └── deep",
        "        └── c (3,) uint8",
    ]
    assert len(repr(g.tree(level=1)).splitlines()) == 3
    html = g._repr_html_()
    assert html.startswith("<pre") and "└── sub" in html
    info = g.info
    assert info["No. members"] == "2" and info["No. arrays"] == "1" and info["No. groups"] == "1"
    assert info["Zarr format"] == str(fmt) and "chunkzip.Group" in repr(info) and "<table" in info._repr_html_()
    assert repr(g) == "<chunkzip.Group />" and repr(g["sub"]) == "<chunkzip.Group /sub>"


def test_pickle_groups(tmp_path, fmt):
    g = _build(MemoryStore(), fmt)
    g2 = pickle.loads(pickle.dumps(g))
    assert list(g2.keys()) == ["a", "sub"]
    np.testing.assert_array_equal(g2["a"][:], g["a"][:])
    p = str(tmp_path / "pk.zarr")
    _build(p, fmt)
    s = pickle.dumps(cz.open_group(p, mode="r"))
    assert len(s) < 400
    g3 = pickle.loads(s)
    assert g3.read_only and g3 == cz.open_group(p, mode="r")


def test_v3_implicit_groups_as_zarr_python_reads_them(tmp_path):
    """A directory without zarr.json is not a member (zarr-python 3.1 skips it), but paths
    through it still reach the nodes below."""
    p = tmp_path / "imp.zarr"
    g = cz.group(str(p), zarr_format=3)
    g.create_array("x/y/a", shape=(2,), dtype="i2")
    (p / "x" / "zarr.json").unlink()
    g = cz.open_group(str(p), mode="r")
    assert list(g.keys()) == []
    assert g["x/y/a"].shape == (2,) and isinstance(g["x/y"], cz.Group)
    with pytest.raises(KeyError):
        g["x"]
    with pytest.raises(cz.GroupNotFoundError):
        cz.open_group(str(p), mode="r", path="x")


# ----------------------------------------------------------------------------- consolidated metadata
class CountingStore(MemoryStore):
    """Counts reads, to show that a consolidated hierarchy is opened with one."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.reads = 0

    def get(self, key):
        self.reads += 1
        return super().get(key)

    def get_many(self, keys):  # one batch: one round trip on a remote store
        self.reads += 1
        return [MemoryStore.get(self, k) for k in keys]

    def list_prefix(self, prefix):
        self.reads += 1
        return super().list_prefix(prefix)


def test_consolidated_open_costs_one_read(fmt):
    store = CountingStore()
    _build(store, fmt)
    cz.consolidate_metadata(store)
    store.reads = 0
    g = cz.open(store, mode="r")
    tree = repr(g.tree())
    assert g.consolidated and "c (3,) uint8" in tree and g["sub/deep/c"].shape == (3,)
    # v3: zarr.json; v2: zarr.json (absent), then .zgroup with .zarray/.zattrs, then .zmetadata
    assert store.reads == (1 if fmt == 3 else 3)
    assert g["sub/b"].attrs["units"] == "m" and g["sub"].attrs["level"] == 1


def test_stale_consolidated_metadata_vs_files(fmt):
    """Consolidated metadata is used when present; use_consolidated=False reads the files."""
    store = MemoryStore()
    g = _build(store, fmt)
    cz.consolidate_metadata(store)
    cz.open_group(store, use_consolidated=False).create_array("later", shape=2)  # files only
    g["a"].attrs["changed"] = True  # opened without consolidated metadata: files only
    cons = cz.open(store, mode="r")
    files = cz.open(store, mode="r", use_consolidated=False)
    assert list(cons.keys()) == ["a", "sub"] and "changed" not in cons["a"].attrs
    assert list(files.keys()) == ["a", "later", "sub"] and files["a"].attrs["changed"] is True
    assert not files.consolidated
    with pytest.raises(cz.NodeNotFoundError, match="consolidated"):
        cz.open_consolidated(MemoryStore({**_raw_without_consolidated(store, fmt)}))


def _raw_without_consolidated(store, fmt):
    raw = dict(store._map)
    if fmt == 2:
        raw.pop(".zmetadata")
    else:
        doc = json.loads(raw["zarr.json"])
        doc.pop("consolidated_metadata")
        raw["zarr.json"] = json.dumps(doc).encode()
    return raw


def test_changes_through_a_consolidated_group_keep_it_in_step(fmt):
    store = MemoryStore()
    _build(store, fmt)
    cz.consolidate_metadata(store)
    g = cz.open_group(store, mode="r+")
    g.create_array("sub/new", shape=(4,), dtype="f4")
    g["a"].attrs["x"] = 1
    g["a"].resize((9, 5))
    g["sub"].attrs["level"] = 2
    del g["sub/deep"]
    g.attrs["title"] = "changed"
    again = cz.open_consolidated(store)
    files = cz.open_group(store, use_consolidated=False)
    for h in (again, files):
        assert sorted(dict(h.members(max_depth=None))) == ["a", "sub", "sub/b", "sub/new"]
        assert h["a"].shape == (9, 5) and h["a"].attrs["x"] == 1
        assert h["sub"].attrs["level"] == 2 and h.attrs["title"] == "changed"


def test_bad_consolidated_metadata_is_a_clear_error(fmt):
    store = MemoryStore()
    _build(store, fmt)
    cz.consolidate_metadata(store)
    if fmt == 2:
        store.set(".zmetadata", json.dumps({"zarr_consolidated_format": 9, "metadata": {}}).encode())
        match = "zarr_consolidated_format"
    else:
        doc = json.loads(store.get("zarr.json"))
        doc["consolidated_metadata"]["metadata"]["../x"] = doc["consolidated_metadata"]["metadata"]["a"]
        store.set("zarr.json", json.dumps(doc).encode())
        match = "invalid node path"
    with pytest.raises(cz.MetadataError, match=match):
        cz.open(store)
    assert isinstance(cz.open(store, use_consolidated=False), cz.Group)
