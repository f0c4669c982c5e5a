"""Node discovery: what is stored at a path of a store (array or group, v2 or v3), and
consolidated metadata.

This is the one place that decides what a path holds. It reads, in this order:

1. the consolidated metadata the caller already has (no store access at all);
2. v3 ``zarr.json`` (``node_type`` ``array`` or ``group``);
3. v2 ``.zarray`` / ``.zgroup`` (with ``.zattrs``).

Consolidated metadata is held as a :class:`Consolidated` view: a flat dict of node
documents keyed by their path relative to the group that carries it, exactly the form
both formats store (v2 ``.zmetadata``: ``{"zarr_consolidated_format": 1, "metadata":
{".zgroup": ..., "a/.zarray": ..., "a/.zattrs": ...}}``; v3 (zarr-python 3): the root
``zarr.json`` member ``"consolidated_metadata": {"kind": "inline", "must_understand":
false, "metadata": {"a": <zarr.json of a>, "a/b": ...}}``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from .metadata import (V2_ARRAY_KEY, V2_ATTRS_KEY, V2_GROUP_KEY, V3_KEY, ArrayMeta, MetadataError, json_dumps,
                       load_json, parse_v2, parse_v3)

V2_CONSOLIDATED_KEY = ".zmetadata"
_V2_NODE_KEYS = (V2_ARRAY_KEY, V2_GROUP_KEY, V2_ATTRS_KEY)
_META_NAMES = frozenset(_V2_NODE_KEYS + (V3_KEY, V2_CONSOLIDATED_KEY))


class NodeNotFoundError(FileNotFoundError):
    """Nothing (neither an array nor a group) is stored at a path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group is stored at a path (it may hold an array: the message says so)."""


class ContainsGroupError(FileExistsError):
    """A group already exists where an array (or a new group) was to be created."""


@dataclass
class Node:
    """What is stored at one path: its kind, format and metadata documents.

    ``doc`` is the v3 ``zarr.json`` document, or the v2 ``.zarray``/``.zgroup`` one;
    ``attributes`` are the user attributes (v3 ``attributes``, v2 ``.zattrs``).
    """

    kind: str  # "array" | "group"
    zarr_format: int
    doc: dict
    attributes: dict = field(default_factory=dict)

    def array_meta(self, key: str = "") -> ArrayMeta:
        """The parsed array metadata (``kind`` must be ``'array'``); ``key`` names the source in errors."""
        if self.zarr_format == 3:
            meta = parse_v3(self.doc, key or V3_KEY)
        else:
            meta = parse_v2(self.doc, key or V2_ARRAY_KEY)
            meta.attributes = dict(self.attributes)
            dims = self.attributes.get("_ARRAY_DIMENSIONS")
            if isinstance(dims, list) and len(dims) == len(meta.shape) and all(isinstance(d, str) for d in dims):
                meta.dimension_names = list(dims)  # as xarray writes v2 dimension names
        return meta


def prefix(path: str) -> str:
    """The key prefix of a node path ('' for the root)."""
    return path + "/" if path else ""


def join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _attrs(doc: Any, key: str, field: str | None = None) -> dict:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        where = f"{key}: field {field!r}" if field else key
        raise MetadataError(f"{where}: expected a JSON object of attributes, got {type(doc).__name__}")
    return doc


def node_from_v3_doc(doc: Any, key: str) -> Node:
    """Check a parsed ``zarr.json`` and say what it describes."""
    if not isinstance(doc, dict):
        raise MetadataError(f"{key}: expected a JSON object")
    if doc.get("zarr_format") != 3:
        raise MetadataError(f"{key}: field 'zarr_format': expected 3, got {doc.get('zarr_format')!r}")
    kind = doc.get("node_type")
    if kind not in ("array", "group"):
        raise MetadataError(f"{key}: field 'node_type': expected 'array' or 'group', got {kind!r}")
    return Node(kind, 3, doc, _attrs(doc.get("attributes"), key, "attributes"))


def read_node(store: Any, path: str, zarr_format: int | None = None) -> Node | None:
    """What is stored at ``path`` (None: nothing), read from the store's files.

    v3 ``zarr.json`` is tried first unless ``zarr_format=2``. A path holding both a v2
    ``.zarray`` and a ``.zgroup`` is an error, as is an unknown ``node_type``.
    """
    return read_nodes(store, [path], zarr_format)[0]


def read_nodes(store: Any, paths: list[str], zarr_format: int | None = None) -> list[Node | None]:
    """:func:`read_node` for many paths, with one batched ``get_many`` per format."""
    out: list[Node | None] = [None] * len(paths)
    todo = list(range(len(paths)))
    if zarr_format in (None, 3):
        keys = [prefix(paths[i]) + V3_KEY for i in todo]
        rest = []
        for i, k, raw in zip(todo, keys, store.get_many(keys)):
            if raw is not None:
                out[i] = node_from_v3_doc(load_json(raw, k), k)
            else:
                rest.append(i)
        todo = rest if zarr_format is None else []
    if todo:
        keys = [prefix(paths[i]) + k for i in todo for k in _V2_NODE_KEYS]
        raws = store.get_many(keys)
        for j, i in enumerate(todo):
            out[i] = _v2_node(paths[i], *raws[3 * j:3 * j + 3])
    return out


def _v2_node(path: str, raw_a: bytes | None, raw_g: bytes | None, raw_attrs: bytes | None) -> Node | None:
    p = prefix(path)
    if raw_a is not None and raw_g is not None:
        raise MetadataError(f"both an array ({p + V2_ARRAY_KEY}) and a group ({p + V2_GROUP_KEY}) are stored "
                            f"at path {path!r}; remove one of them")
    if raw_a is None and raw_g is None:
        return None
    key = p + (V2_ARRAY_KEY if raw_a is not None else V2_GROUP_KEY)
    doc = load_json(raw_a if raw_a is not None else raw_g, key)
    if not isinstance(doc, dict):
        raise MetadataError(f"{key}: expected a JSON object")
    if raw_g is not None and doc.get("zarr_format") != 2:
        raise MetadataError(f"{key}: field 'zarr_format': expected 2, got {doc.get('zarr_format')!r}")
    attrs = _attrs(load_json(raw_attrs, p + V2_ATTRS_KEY), p + V2_ATTRS_KEY) if raw_attrs is not None else {}
    return Node("array" if raw_a is not None else "group", 2, doc, attrs)


# ----------------------------------------------------------------------------- consolidated metadata
class Consolidated:
    """Consolidated metadata seen from one group: the nodes below it, by relative path.

    All views of one hierarchy share the dict of the group that carries the consolidated
    metadata (keys relative to that group); a view of a member group (:meth:`sub`) adds
    its own prefix. Changes made through chunkzip (:meth:`add`, :meth:`remove`) update that
    dict and call ``on_change`` (which rewrites the stored consolidated metadata).
    """

    def __init__(self, zarr_format: int, nodes: dict[str, Node], base: str = "",
                 on_change: Callable[[], None] | None = None) -> None:
        self.zarr_format = zarr_format
        self.nodes = nodes
        self._base = base
        self.on_change = on_change
        self.is_owner = False  # True for the view of the group that carries the metadata

    def get(self, relpath: str) -> Node | None:
        return self.nodes.get(self._base + relpath)

    def sub(self, relpath: str) -> "Consolidated":
        return Consolidated(self.zarr_format, self.nodes, self._base + relpath + "/", self.on_change)

    def items(self) -> list[tuple[str, Node]]:
        """Every node below this group (relative path, node), parents before children."""
        b, n = self._base, len(self._base)
        found = [(k[n:], v) for k, v in self.nodes.items() if k.startswith(b)]
        return sorted(found, key=lambda kv: (kv[0].count("/"), kv[0]))

    def children(self) -> list[str]:
        """Names of the direct members, sorted."""
        b, n = self._base, len(self._base)
        return sorted(k[n:] for k in self.nodes if k.startswith(b) and "/" not in k[n:])

    def add(self, relpath: str, node: Node) -> None:
        self.nodes[self._base + relpath] = node
        self._changed()

    def update(self, relpath: str, node: Node) -> None:
        """Replace the node at ``relpath`` ('' for the group of this view itself)."""
        if relpath or self._base:
            self.nodes[(self._base + relpath) if relpath else self._base[:-1]] = node
        self._changed()

    def remove(self, relpath: str) -> None:
        full = self._base + relpath
        for k in [k for k in self.nodes if k == full or k.startswith(full + "/")]:
            del self.nodes[k]
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def __len__(self) -> int:
        return sum(1 for k in self.nodes if k.startswith(self._base))


def consolidated_from_v3(group_doc: dict, key: str) -> Consolidated | None:
    """The ``consolidated_metadata`` member of a v3 group document (None when absent)."""
    cm = group_doc.get("consolidated_metadata")
    if cm is None:
        return None
    if not isinstance(cm, dict) or cm.get("kind") != "inline" or not isinstance(cm.get("metadata"), dict):
        raise MetadataError(f"{key}: field 'consolidated_metadata': expected "
                            f"{{'kind': 'inline', 'metadata': {{...}}}}, got {str(cm)[:200]}")
    nodes: dict[str, Node] = {}
    for rel, doc in cm["metadata"].items():
        _check_relpath(rel, key)
        node = node_from_v3_doc(doc, f"{key} (consolidated {rel!r})")
        nodes[rel] = node
        if node.kind == "group" and doc.get("consolidated_metadata"):
            inner = consolidated_from_v3(doc, f"{key} (consolidated {rel!r})")
            for k, v in (inner.nodes.items() if inner is not None else ()):
                nodes.setdefault(f"{rel}/{k}", v)  # nested form: children inside their group's member
    return Consolidated(3, nodes)


def consolidated_from_v2(doc: Any, key: str) -> Consolidated:
    """Parse a v2 ``.zmetadata`` document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("metadata"), dict):
        raise MetadataError(f"{key}: expected a JSON object with a 'metadata' object")
    if doc.get("zarr_consolidated_format") != 1:
        raise MetadataError(f"{key}: field 'zarr_consolidated_format': expected 1, "
                            f"got {doc.get('zarr_consolidated_format')!r}")
    docs: dict[str, dict[str, Any]] = {}
    for k, v in doc["metadata"].items():
        rel, _, leaf = k.rpartition("/")
        if leaf not in _V2_NODE_KEYS:
            continue  # other keys are not node metadata (zarr-python 2 keeps only these)
        if rel:
            _check_relpath(rel, key)
        docs.setdefault(rel, {})[leaf] = v
    nodes = {}
    for rel, parts in docs.items():
        if not rel:
            continue  # the group itself
        where = f"{key} ({rel!r})"
        if V2_ARRAY_KEY in parts and V2_GROUP_KEY in parts:
            raise MetadataError(f"{where}: both an array and a group at the same path")
        if V2_ARRAY_KEY in parts or V2_GROUP_KEY in parts:
            kind = "array" if V2_ARRAY_KEY in parts else "group"
            body = parts[V2_ARRAY_KEY if kind == "array" else V2_GROUP_KEY]
            if not isinstance(body, dict):
                raise MetadataError(f"{where}: expected a JSON object")
            nodes[rel] = Node(kind, 2, body, _attrs(parts.get(V2_ATTRS_KEY), where))
    return Consolidated(2, nodes)


def _check_relpath(rel: str, key: str) -> None:
    if not isinstance(rel, str) or not rel or any(p in ("", ".", "..") for p in rel.split("/")):
        raise MetadataError(f"{key}: invalid node path {rel!r} in consolidated metadata")


def read_consolidated(store: Any, path: str, node: Node | None) -> Consolidated | None:
    """Consolidated metadata of the group at ``path`` (``node`` as :func:`read_node` found it)."""
    if node is None or node.kind != "group":
        return None
    if node.zarr_format == 3:
        return consolidated_from_v3(node.doc, prefix(path) + V3_KEY)
    key = prefix(path) + V2_CONSOLIDATED_KEY
    raw = store.get(key)
    return None if raw is None else consolidated_from_v2(load_json(raw, key), key)


# ----------------------------------------------------------------------------- writing consolidated metadata
def walk_nodes(store: Any, path: str, zarr_format: int) -> Iterator[tuple[str, Node]]:
    """Every node below the group at ``path`` read from the files, as (relative path, node),
    parents before children, one ``list_dir`` per group. As in zarr-python, a name without
    metadata (a v3 implicit group, a stray file) is not a member, nor is anything below it."""
    todo = [""]
    while todo:
        rel = todo.pop(0)
        children = [join(rel, n) for n in store.list_dir(prefix(join(path, rel))) if n not in _META_NAMES]
        for child, node in zip(children, read_nodes(store, [join(path, c) for c in children], zarr_format)):
            if node is None:
                continue
            yield child, node
            if node.kind == "group":
                todo.append(child)


def json_dumps_v2(doc: Any) -> bytes:
    """JSON as zarr-python 2 writes ``.zmetadata`` (sorted keys, indent 4, ASCII)."""
    return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=True, separators=(",", ": "),
                      allow_nan=False).encode("ascii")


def v2_consolidated_doc(group: Node, members: Iterable[tuple[str, Node]]) -> dict:
    """The ``.zmetadata`` document of a group and its members."""
    meta: dict[str, Any] = {V2_GROUP_KEY: group.doc}
    if group.attributes:
        meta[V2_ATTRS_KEY] = group.attributes
    for rel, node in members:
        meta[f"{rel}/{V2_ARRAY_KEY if node.kind == 'array' else V2_GROUP_KEY}"] = node.doc
        if node.attributes:
            meta[f"{rel}/{V2_ATTRS_KEY}"] = node.attributes
    return {"metadata": meta, "zarr_consolidated_format": 1}


def v3_consolidated_member(members: Iterable[tuple[str, Node]]) -> dict:
    """The ``consolidated_metadata`` member of a v3 root ``zarr.json``, as zarr-python 3 writes it
    (member groups carry an empty inline ``consolidated_metadata`` of their own)."""
    out = {}
    for rel, node in members:
        doc = dict(node.doc)
        if node.kind == "group":
            doc["consolidated_metadata"] = empty_v3_consolidated()
        out[rel] = doc
    return {"kind": "inline", "must_understand": False, "metadata": out}


def empty_v3_consolidated() -> dict:
    return {"kind": "inline", "must_understand": False, "metadata": {}}


def write_consolidated(store: Any, path: str, group: Node, members: Iterable[tuple[str, Node]]) -> Node:
    """Store the consolidated metadata of the group at ``path`` (``group`` is its node) and
    return the group's node as now stored. v2: ``.zmetadata`` next to ``.zgroup``; v3: the
    ``consolidated_metadata`` member of the group's ``zarr.json``."""
    p = prefix(path)
    if group.zarr_format == 2:
        store.set(p + V2_CONSOLIDATED_KEY, json_dumps_v2(v2_consolidated_doc(group, members)))
        return group
    doc = {k: v for k, v in group.doc.items() if k != "node_type"}
    doc["consolidated_metadata"] = v3_consolidated_member(members)
    doc["node_type"] = "group"
    store.set(p + V3_KEY, json_dumps(doc))
    return Node("group", 3, doc, group.attributes)
