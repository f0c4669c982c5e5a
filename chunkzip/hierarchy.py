"""Groups: hierarchies of arrays and groups (Zarr v2 ``.zgroup``, v3 ``zarr.json``).

The names follow zarr-python 3 (``open_group``, ``group``, ``Group.create_array``,
``members``, ``tree``, ...). What a path holds is decided in :mod:`chunkzip.nodes`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from . import nodes as _nodes
from .api import ContainsArrayError, open_args
from .array import Array, ReadOnlyError
from .attrs import Attributes
from .metadata import V2_ATTRS_KEY, V2_GROUP_KEY, V3_KEY, json_dumps
from .nodes import (Consolidated, ContainsGroupError, GroupNotFoundError, Node, NodeNotFoundError, join,
                    prefix)
from .progress import progress_bar
from .storage import normalize_store_like
from .storage.base import normalize_path, validate_key

__all__ = ["Group", "open_group", "group", "open_consolidated", "consolidate_metadata", "open_node"]


@dataclass
class GroupMeta:
    """A group's metadata: format, attributes and (v3) the rest of its ``zarr.json``."""

    zarr_format: int
    attributes: dict = field(default_factory=dict)
    doc: dict = field(default_factory=dict)

    def node(self) -> Node:
        return Node("group", self.zarr_format, self.doc_to_store(), self.attributes)

    def doc_to_store(self) -> dict:
        if self.zarr_format == 2:
            return {"zarr_format": 2}
        doc = {"attributes": self.attributes, "zarr_format": 3}
        doc.update((k, v) for k, v in self.doc.items() if k not in ("attributes", "zarr_format", "node_type"))
        doc["node_type"] = "group"
        return doc

    @classmethod
    def from_node(cls, node: Node) -> "GroupMeta":
        doc = {k: v for k, v in node.doc.items() if k != "consolidated_metadata"} if node.zarr_format == 3 else {}
        return cls(node.zarr_format, dict(node.attributes), doc)


def _check_name(name: Any) -> str:
    """A member name or relative path: 'a' or 'a/b', never empty, '.', '..' or absolute."""
    if not isinstance(name, str):
        raise TypeError(f"member names must be str, got {type(name).__name__}")
    stripped = name.strip("/")
    if not stripped:
        raise ValueError(f"invalid member name {name!r}: it is empty")
    try:
        validate_key(stripped)
    except ValueError:
        raise ValueError(f"invalid member name {name!r}: empty, '.' or '..' parts, backslashes and NUL "
                         "are not allowed") from None
    return stripped


def _wec(value: bool | None) -> bool:
    from . import config

    return config.get("write_empty_chunks") if value is None else bool(value)


def open_node(store: Any, path: str, node: Node, *, read_only: bool, consolidated: Consolidated | None = None,
              synchronizer: Any = None, write_empty_chunks: bool | None = None) -> "Array | Group":
    """The Array or Group described by ``node`` (as :mod:`chunkzip.nodes` found it) at ``path``."""
    if node.kind == "array":
        key = prefix(path) + (V3_KEY if node.zarr_format == 3 else ".zarray")
        return Array(store, path, node.array_meta(key), read_only=read_only or store.read_only,
                     synchronizer=synchronizer, write_empty_chunks=_wec(write_empty_chunks))
    return Group(store, path, GroupMeta.from_node(node), read_only=read_only or store.read_only,
                 consolidated=consolidated, synchronizer=synchronizer)


class Group:
    """A group of arrays and groups in a Zarr v2 or v3 store.

    Open or create groups with :func:`chunkzip.open_group`, :func:`chunkzip.group` or
    :func:`chunkzip.open` rather than directly. ``g["a/b"]`` gives a member (nested paths
    allowed), ``"a" in g`` tests for one, ``del g["a"]`` removes a member and everything
    below it.
    """

    def __init__(self, store: Any, path: str, meta: GroupMeta, read_only: bool = False,
                 consolidated: Consolidated | None = None, synchronizer: Any = None) -> None:
        self._store = store
        self._path = path
        self._meta = meta
        self._read_only = read_only
        self._consolidated = consolidated
        self._synchronizer = synchronizer
        self._attrs = Attributes(self)

    # ------------------------------------------------------------------ properties
    @property
    def store(self) -> Any:
        """The store holding the group."""
        return self._store

    @property
    def path(self) -> str:
        """The group's path inside its store ('' for the root)."""
        return self._path

    @property
    def name(self) -> str:
        """``'/'`` + path."""
        return "/" + self._path

    @property
    def basename(self) -> str:
        """The last part of the name ('' for the root)."""
        return self._path.rsplit("/", 1)[-1]

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def zarr_format(self) -> int:
        return self._meta.zarr_format

    @property
    def metadata(self) -> GroupMeta:
        return self._meta

    @property
    def consolidated(self) -> bool:
        """Whether members are listed from consolidated metadata (not from the store)."""
        return self._consolidated is not None

    @property
    def attrs(self) -> Attributes:
        """User attributes (``.zattrs`` in v2, ``attributes`` in v3), saved on every change."""
        return self._attrs

    @property
    def info(self) -> Any:
        """A report of the group (text repr and HTML)."""
        from .info import GroupInfo

        return GroupInfo(self)

    def update_attributes(self, new_attributes: dict) -> "Group":
        """Update the attributes in one write; return the group."""
        self._attrs.update(new_attributes)
        return self

    # ------------------------------------------------------------------ metadata I/O
    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError("this group is read-only (opened with mode='r' or on a read-only store)")

    def _write_metadata(self, meta: GroupMeta | None = None) -> None:
        """Store ``meta`` (default: the group's own; :class:`Attributes` passes the new
        metadata and adopts it only once this has succeeded)."""
        self._check_writable()
        meta = self._meta if meta is None else meta
        cons = self._consolidated
        if cons is None or not cons.is_owner or self.zarr_format == 2:  # a v3 owner's save() writes zarr.json
            _write_group_meta(self._store, self._path, meta, attrs_changed=True)
        if cons is not None:
            # the owner's save() writes zarr.json from the group's own metadata object:
            # it takes the new attributes now, and gives them back if the write fails
            previous = self._meta.attributes
            self._meta.attributes = meta.attributes
            try:
                cons.update("", meta.node())
            except BaseException:
                self._meta.attributes = previous
                raise

    # ------------------------------------------------------------------ members
    def _node(self, rel: str) -> Node | None:
        if self._consolidated is not None:
            return self._consolidated.get(rel)
        return _nodes.read_node(self._store, join(self._path, rel), self.zarr_format)

    def _open(self, rel: str, node: Node) -> "Array | Group":
        cons = self._consolidated
        sub = cons.sub(rel) if cons is not None and node.kind == "group" else None
        member = open_node(self._store, join(self._path, rel), node, read_only=self._read_only, consolidated=sub,
                           synchronizer=self._synchronizer)
        if cons is not None and isinstance(member, Array):
            # attribute changes and resizes keep the consolidated metadata in step
            member._on_metadata_written = lambda meta: cons.update(rel, _array_node(meta))
        return member

    def __getitem__(self, name: str) -> "Array | Group":
        rel = _check_name(name)
        node = self._node(rel)
        if node is None:
            where = " in the consolidated metadata" if self._consolidated is not None else ""
            raise KeyError(f"no array or group named {rel!r} in group {self.name!r}{where}")
        return self._open(rel, node)

    def get(self, name: str, default: Any = None) -> Any:
        """The member ``name``, or ``default`` when there is none."""
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            return self._node(_check_name(name)) is not None
        except ValueError:
            return False

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        rel = _check_name(name)
        if self._node(rel) is None:
            raise KeyError(f"no array or group named {rel!r} in group {self.name!r}")
        self._store.rmdir(join(self._path, rel))  # every key below (and, on disk, the emptied directories)
        if self._consolidated is not None:
            self._consolidated.remove(rel)

    def __setitem__(self, name: str, value: Any) -> None:
        """``g[name] = data`` stores ``data`` as a new array (replacing what is there)."""
        self.create_array(name, data=value, overwrite=True)

    def _member_nodes(self) -> list[tuple[str, Node]]:
        if self._consolidated is not None:
            return [(n, self._consolidated.get(n)) for n in self._consolidated.children()]
        names = [n for n in self._store.list_dir(prefix(self._path)) if n not in _nodes._META_NAMES]
        found = _nodes.read_nodes(self._store, [join(self._path, n) for n in names], self.zarr_format)
        return [(n, node) for n, node in zip(names, found) if node is not None]

    def members(self, max_depth: int | None = 0) -> tuple[tuple[str, "Array | Group"], ...]:
        """The members as ``(name, node)`` pairs, sorted by name.

        ``max_depth`` 0 gives the direct members; ``n`` goes ``n`` levels further down and
        ``None`` all the way (names are then paths relative to this group).
        """
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be None or >= 0, got {max_depth}")
        out = []
        for n, node in sorted(self._member_nodes()):
            member = self._open(n, node)
            out.append((n, member))
            if isinstance(member, Group) and (max_depth is None or max_depth > 0):
                deeper = member.members(None if max_depth is None else max_depth - 1)
                out.extend((f"{n}/{k}", v) for k, v in deeper)
        return tuple(out)

    def keys(self) -> Iterator[str]:
        """Names of the direct members, sorted."""
        return iter(sorted(n for n, _ in self._member_nodes()))

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(self._member_nodes())

    @property
    def nmembers(self) -> int:
        return len(self)

    def group_keys(self) -> Iterator[str]:
        """Names of the member groups, sorted."""
        return iter(sorted(n for n, node in self._member_nodes() if node.kind == "group"))

    def array_keys(self) -> Iterator[str]:
        """Names of the member arrays, sorted."""
        return iter(sorted(n for n, node in self._member_nodes() if node.kind == "array"))

    def groups(self) -> Iterator[tuple[str, "Group"]]:
        """``(name, Group)`` for the member groups."""
        for n, node in sorted(self._member_nodes()):
            if node.kind == "group":
                yield n, self._open(n, node)

    def arrays(self) -> Iterator[tuple[str, Array]]:
        """``(name, Array)`` for the member arrays."""
        for n, node in sorted(self._member_nodes()):
            if node.kind == "array":
                yield n, self._open(n, node)

    # ------------------------------------------------------------------ creation
    def _prepare(self, rel: str, overwrite: bool, kind: str) -> None:
        """Check that a ``kind`` may be created at ``rel``; make missing parent groups."""
        self._check_writable()
        node = self._node(rel)
        if node is not None and not overwrite:
            err = ContainsGroupError if node.kind == "group" else ContainsArrayError
            raise err(f"{'a group' if node.kind == 'group' else 'an array'} already exists at {rel!r} in "
                      f"group {self.name!r}; use overwrite=True to replace it")
        parts = rel.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            pnode = self._node(parent)
            if pnode is None:
                meta = GroupMeta(self.zarr_format)
                _write_group_meta(self._store, join(self._path, parent), meta)
                self._added(parent, meta.node())
            elif pnode.kind != "group":
                raise ContainsArrayError(f"cannot create {kind} {rel!r} in group {self.name!r}: "
                                              f"{parent!r} is an array")
        if node is not None:
            del self[rel]

    def _added(self, rel: str, node: Node) -> None:
        if self._consolidated is not None:
            self._consolidated.add(rel, node)

    def create_group(self, name: str, *, overwrite: bool = False, attributes: dict | None = None) -> "Group":
        """Create a member group (``name`` may be a path: missing parents are created too).

        Raises ContainsGroupError / ContainsArrayError when something is there already,
        unless ``overwrite=True`` (which removes it and everything below it first).
        """
        rel = _check_name(name)
        if attributes:
            json_dumps(attributes)  # refuse what JSON cannot hold before changing anything
        self._prepare(rel, overwrite, "group")
        meta = GroupMeta(self.zarr_format, dict(attributes or {}))
        _write_group_meta(self._store, join(self._path, rel), meta)
        self._added(rel, meta.node())
        sub = self._consolidated.sub(rel) if self._consolidated is not None else None
        return Group(self._store, join(self._path, rel), meta, read_only=False, consolidated=sub,
                     synchronizer=self._synchronizer)

    def require_group(self, name: str, *, overwrite: bool = False) -> "Group":
        """The member group ``name``, created when missing (an array there is an error)."""
        rel = _check_name(name)
        node = self._node(rel)
        if node is None or overwrite:
            return self.create_group(rel, overwrite=overwrite)
        if node.kind != "group":
            raise ContainsArrayError(f"{rel!r} in group {self.name!r} is an array, not a group")
        return self._open(rel, node)

    def require_groups(self, *names: str) -> tuple["Group", ...]:
        return tuple(self.require_group(n) for n in names)

    def create_array(self, name: str, *, shape: Any = None, dtype: Any = None, data: Any = None,
                     overwrite: bool = False, **kwargs: Any) -> Array:
        """Create a member array; the keywords are those of :func:`chunkzip.create`
        (``chunks``, ``compressor(s)``, ``filters``, ``fill_value``, ``order``,
        ``attributes``, ``dimension_names``, ...). ``data`` gives the shape, dtype and values.

        The array takes the group's Zarr format. Raises ContainsArrayError /
        ContainsGroupError when something is there already, unless ``overwrite=True``.
        """
        from .api import create

        rel = _check_name(name)
        fmt = kwargs.pop("zarr_format", None)
        if fmt is not None and fmt != self.zarr_format:
            raise ValueError(f"zarr_format={fmt} in a Zarr v{self.zarr_format} group; a hierarchy has one format")
        if data is not None:
            if not isinstance(data, Array):
                data = np.asanyarray(data) if dtype is None else np.asanyarray(data, dtype=dtype)
            shape = data.shape if shape is None else shape
            dtype = data.dtype if dtype is None else dtype
        if shape is None:
            raise TypeError("create_array() needs shape= (or data=)")
        self._prepare(rel, overwrite, "array")
        z = create(shape, dtype=dtype, store=self._store, path=join(self._path, rel), zarr_format=self.zarr_format,
                   synchronizer=self._synchronizer, **kwargs)
        if isinstance(data, Array):
            from .copying import copy_into

            copy_into(data, z)  # slab by slab, not the whole source in memory
        elif data is not None:
            z[...] = data
        if self._consolidated is not None:
            self._added(rel, _array_node(z.metadata))
            return self._open(rel, _array_node(z.metadata))
        return z

    def zeros(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        """A member array of zeros (see :meth:`create_array`)."""
        from .api import _ZERO

        return self.create_array(name, shape=shape, fill_value=_ZERO, **kwargs)

    def ones(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        """A member array of ones."""
        return self.create_array(name, shape=shape, fill_value=1, **kwargs)

    def full(self, name: str, *, shape: Any, fill_value: Any, **kwargs: Any) -> Array:
        """A member array filled with ``fill_value``."""
        return self.create_array(name, shape=shape, fill_value=fill_value, **kwargs)

    def empty(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        """A member array with no chunk written (reads give the fill value)."""
        return self.create_array(name, shape=shape, **kwargs)

    def array(self, name: str, data: Any, **kwargs: Any) -> Array:
        """A member array holding ``data``."""
        return self.create_array(name, data=data, **kwargs)

    def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False,
                      **kwargs: Any) -> Array:
        """The member array ``name``, created when missing; an existing one must have the
        same shape and a dtype it can be cast to (``exact=True``: the same dtype)."""
        rel = _check_name(name)
        node = self._node(rel)
        if node is None:
            return self.create_array(rel, shape=shape, dtype=dtype, **kwargs)
        if node.kind != "array":
            raise ContainsGroupError(f"{rel!r} in group {self.name!r} is a group, not an array")
        z = self._open(rel, node)
        want = tuple(np.atleast_1d(shape).tolist()) if not isinstance(shape, tuple) else shape
        if tuple(z.shape) != tuple(int(s) for s in want):
            raise TypeError(f"array {rel!r} exists with shape {z.shape}, not {tuple(want)}")
        if dtype is not None:
            dt = np.dtype(dtype)
            if (exact and z.dtype != dt) or (not exact and not np.can_cast(z.dtype, dt)):
                raise TypeError(f"array {rel!r} exists with dtype {z.dtype}, incompatible with {dt}")
        return z

    # ------------------------------------------------------------------ display
    def tree(self, level: int | None = None) -> "TreeView":
        """A text tree of the hierarchy below this group (``level``: how deep); its
        ``_repr_html_`` shows the same in notebooks."""
        return TreeView(self, level)

    def __repr__(self) -> str:
        return f"<chunkzip.Group {self.name}>"

    def _repr_html_(self) -> str:
        return self.tree()._repr_html_()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Group) and self._store == other._store and self._path == other._path

    def __hash__(self) -> int:
        return hash((type(self._store).__name__, self._path, "group"))

    def __reduce__(self) -> tuple:
        # what re-opens the group; members are read again from the store
        return _reopen_group, (self._store, self._path, self._read_only, self._synchronizer)


def _array_node(meta: Any) -> Node:
    """The node of an array's metadata (an ``ArrayMeta``) for consolidated metadata."""
    return Node("array", meta.zarr_format, meta.to_json(), dict(meta.attributes))


def _reopen_group(store: Any, path: str, read_only: bool, synchronizer: Any) -> Group:
    """Unpickle a :class:`Group` by opening it again."""
    return open_group(store, mode="r" if read_only else "r+", path=path, synchronizer=synchronizer)


def _write_group_meta(store: Any, path: str, meta: GroupMeta, attrs_changed: bool = False) -> None:
    p = prefix(path)
    if meta.zarr_format == 2:
        if not attrs_changed:
            store.set(p + V2_GROUP_KEY, json_dumps({"zarr_format": 2}))
        if meta.attributes or attrs_changed:
            store.set(p + V2_ATTRS_KEY, json_dumps(meta.attributes))
    else:
        store.set(p + V3_KEY, json_dumps(meta.doc_to_store()))


class TreeView:
    """The hierarchy below a group as text (``repr``/``str``) and HTML."""

    def __init__(self, group: Group, level: int | None = None) -> None:
        self.lines: list[tuple[str, str]] = []  # (indent drawing, label)
        self.root = group.name
        self._walk(group, "", level)

    def _walk(self, group: Group, indent: str, level: int | None) -> None:
        members = group.members()
        for i, (name, node) in enumerate(members):
            last = i == len(members) - 1
            if isinstance(node, Array):
                dt = node.dtype.str if node.dtype.kind in "SUV" else str(node.dtype)
                label = f"{name} {node.shape} {dt}"
            else:
                label = name
            self.lines.append((indent + ("└── " if last else "├── "), label))
            if isinstance(node, Group) and (level is None or level > 1):
                self._walk(node, indent + ("    " if last else "│   "), None if level is None else level - 1)

    def __repr__(self) -> str:
        return "\n".join([self.root] + [a + b for a, b in self.lines])

    __str__ = __repr__

    def _repr_html_(self) -> str:
        import html

        body = "\n".join([html.escape(self.root)] + [html.escape(a + b) for a, b in self.lines])
        return f"<pre class='chunkzip-tree'>{body}</pre>"


# ----------------------------------------------------------------------------- opening
def _kind_error(path: str, node: Node, wanted: str) -> Exception:
    there = "an array" if node.kind == "array" else "a group"
    msg = f"path {path!r} holds {there} (Zarr v{node.zarr_format}), not {wanted}"
    return GroupNotFoundError(msg) if wanted == "a group" else ContainsArrayError(msg)


def _load_consolidated(store: Any, path: str, node: Node, meta: GroupMeta,
                       use_consolidated: bool | None) -> Consolidated | None:
    if use_consolidated is False or node.kind != "group":
        return None
    cons = _nodes.read_consolidated(store, path, node)
    if cons is None and use_consolidated:
        raise NodeNotFoundError(f"consolidated metadata requested (use_consolidated=True) but the group at "
                                f"{path!r} in {store!r} has none; call chunkzip.consolidate_metadata() first")
    if cons is not None:
        def save() -> None:  # keep the stored consolidated metadata in step with changes made here
            _nodes.write_consolidated(store, path, meta.node(), cons.items())

        cons.on_change = save
        cons.is_owner = True
    return cons


def open_group(store: Any = None, *, mode: str = "a", path: str | None = None, zarr_format: int | None = None,
               attributes: dict | None = None, use_consolidated: bool | None = None,
               synchronizer: Any = None, storage_options: dict | None = None) -> Group:
    """Open a group, creating it when the mode allows.

    Parameters
    ----------
    store : path, MutableMapping or Store, optional
        Default: a new :class:`~chunkzip.storage.MemoryStore`.
    mode : {'r', 'r+', 'a', 'w', 'w-', 'x'}
        ``'r'`` read only (must exist), ``'r+'`` read/write (must exist), ``'a'`` read/write,
        created if missing, ``'w'`` create (replacing what is there), ``'w-'``/``'x'``
        create, failing if something exists.
    path : str, optional
        The group's path inside the store.
    zarr_format : {2, 3}, optional
        Format of a new group (default 3); when opening, only that format is looked for.
    attributes : dict, optional
        Attributes of a new group.
    use_consolidated : bool, optional
        None: use consolidated metadata when the group has some; True: require it;
        False: read every node from the store's files.
    synchronizer : optional
        Passed on to the arrays of the group.
    storage_options : dict, optional
        For a URL ``store`` (``s3://...``, ``https://...``): passed to fsspec.

    Returns
    -------
    Group
    """
    if zarr_format not in (None, 2, 3):
        raise ValueError(f"zarr_format must be 2, 3 or None, got {zarr_format!r}")
    st, path = open_args(store, mode, path, storage_options)
    node = _nodes.read_node(st, path, zarr_format) if mode != "w" else None
    return open_group_at(st, path, node, mode=mode, zarr_format=zarr_format, attributes=attributes,
                         use_consolidated=use_consolidated, synchronizer=synchronizer)


def open_group_at(st: Any, path: str, node: Node | None, *, mode: str, zarr_format: int | None = None,
                  attributes: dict | None = None, use_consolidated: bool | None = None,
                  synchronizer: Any = None) -> Group:
    """:func:`open_group` on a store and normalised path where ``node`` (what
    :func:`chunkzip.nodes.read_node` found there) is already known."""
    if mode in ("r", "r+", "a") and node is not None:
        if node.kind != "group":
            raise _kind_error(path, node, "a group")
        meta = GroupMeta.from_node(node)
        cons = _load_consolidated(st, path, node, meta, use_consolidated)
        return Group(st, path, meta, read_only=(mode == "r") or st.read_only,
                     consolidated=cons, synchronizer=synchronizer)
    if mode in ("r", "r+"):
        raise GroupNotFoundError(f"no group found at path {path!r} in {st!r}")
    if node is not None:  # w- / x
        raise (ContainsGroupError if node.kind == "group" else ContainsArrayError)(
            f"{'a group' if node.kind == 'group' else 'an array'} already exists at path {path!r} in {st!r}")
    return _create_group(st, path, zarr_format or 3, attributes, overwrite=(mode == "w"),
                         synchronizer=synchronizer)


def _create_group(store: Any, path: str, zarr_format: int, attributes: dict | None, overwrite: bool,
                  synchronizer: Any = None) -> Group:
    if store.read_only:
        raise PermissionError(f"cannot create a group in read-only store {store!r}")
    if attributes:
        json_dumps(attributes)
    if overwrite:
        store.delete_many(list(store.list_prefix(prefix(path))))
    meta = GroupMeta(zarr_format, dict(attributes or {}))
    _write_group_meta(store, path, meta)
    return Group(store, path, meta, synchronizer=synchronizer)


def group(store: Any = None, *, overwrite: bool = False, path: str | None = None, zarr_format: int | None = None,
          attributes: dict | None = None, synchronizer: Any = None) -> Group:
    """Open the group at ``store``/``path``, creating it when missing (``overwrite=True``:
    replace whatever is there by a new, empty group)."""
    return open_group(store, mode="w" if overwrite else "a", path=path, zarr_format=zarr_format,
                      attributes=attributes, synchronizer=synchronizer)


def open_consolidated(store: Any = None, *, mode: str = "r", path: str | None = None,
                      zarr_format: int | None = None, synchronizer: Any = None) -> Group:
    """Open a group through its consolidated metadata (an error when it has none).

    Opening then costs one read, whatever the number of nodes; members are listed and
    opened from that metadata. See :func:`consolidate_metadata`.
    """
    if mode not in ("r", "r+", "a"):
        raise ValueError(f"open_consolidated() opens existing groups: mode must be 'r', 'r+' or 'a', not {mode!r}")
    return open_group(store, mode=mode, path=path, zarr_format=zarr_format, use_consolidated=True,
                      synchronizer=synchronizer)


def consolidate_metadata(store: Any, path: str | None = None, zarr_format: int | None = None, *,
                         progress: bool | None = None) -> Group:
    """Gather the metadata of every node below the group at ``store``/``path`` into that
    group's consolidated metadata, and return the group opened through it.

    v2: a ``.zmetadata`` key as zarr-python 2 and xarray write it; v3: the
    ``consolidated_metadata`` member of the group's ``zarr.json``, as zarr-python 3 writes it.
    ``progress``: a bar counting the nodes read (None: only in a terminal or notebook).
    """
    st = normalize_store_like(store)
    path = normalize_path(path)
    node = _nodes.read_node(st, path, zarr_format)
    if node is None:
        raise GroupNotFoundError(f"no group found at path {path!r} in {st!r}")
    if node.kind != "group":
        raise _kind_error(path, node, "a group")
    st._check_writable()
    members = []
    with progress_bar(progress, None, "consolidate", unit="node") as bar:
        for member in _nodes.walk_nodes(st, path, node.zarr_format):
            members.append(member)
            bar.update(1)
    if node.zarr_format == 3:
        node = Node("group", 3, {k: v for k, v in node.doc.items() if k != "consolidated_metadata"},
                    node.attributes)
    _nodes.write_consolidated(st, path, node, members)
    return open_consolidated(st, mode="r+", path=path, zarr_format=node.zarr_format)
