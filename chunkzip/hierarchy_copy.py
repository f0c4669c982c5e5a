"""Copying whole hierarchies with bounded memory.

* :func:`copy_store` copies the stored keys as they are (metadata and compressed chunks,
  any format), a few keys at a time: memory is bounded by a handful of stored values.
* :func:`copy_all` copies the members of a group into another group node by node:
  groups with their attributes, arrays through :func:`chunkzip.copying.copy_into`
  (slab by slab, within ``max_mem``), so the destination may use other chunks, codecs, a
  different store or the other Zarr format. The source may also be a zarr-python group.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

__all__ = ["copy_store", "copy_all"]

_IF_EXISTS = ("raise", "replace", "skip")
_BATCH = 16  # keys read per get_many call in copy_store


def _check_if_exists(if_exists: str) -> None:
    if if_exists not in _IF_EXISTS:
        raise ValueError(f"if_exists must be one of {_IF_EXISTS}, got {if_exists!r}")


def _prefix(path: str | None) -> str:
    from .storage.base import normalize_path

    p = normalize_path(path)
    return p + "/" if p else ""


def copy_store(source: Any, dest: Any, *, source_path: str = "", dest_path: str = "",
               excludes: Iterable[str] | None = None, includes: Iterable[str] | None = None,
               if_exists: str = "raise", dry_run: bool = False) -> tuple[int, int, int]:
    """Copy the keys below ``source_path`` of one store to ``dest_path`` of another, as
    stored (no decoding), reading a few keys at a time.

    Parameters
    ----------
    source, dest : path, MutableMapping or Store
    source_path, dest_path : str
        Where to copy from and to ('' for the whole store / the root).
    excludes, includes : iterable of str, optional
        Regular expressions on the key (relative to ``source_path``): a key matching an
        exclude is skipped unless it also matches an include.
    if_exists : {'raise', 'replace', 'skip'}
        What to do with a key that exists in ``dest``. With ``'raise'`` nothing is
        written when any key exists.
    dry_run : bool
        Count what would be copied, write nothing.

    Returns
    -------
    (n_copied, n_skipped, n_bytes_copied)
    """
    from .storage import normalize_store_like

    _check_if_exists(if_exists)
    src = normalize_store_like(source, read_only=True)
    dst = normalize_store_like(dest)
    if not dry_run:
        dst._check_writable()
    sp, dp = _prefix(source_path), _prefix(dest_path)
    exc = [re.compile(e) for e in (excludes or [])]
    inc = [re.compile(e) for e in (includes or [])]
    rels = []
    for key in src.list_prefix(sp):
        rel = key[len(sp):]
        if any(e.search(rel) for e in exc) and not any(i.search(rel) for i in inc):
            continue
        rels.append(rel)
    rels.sort()
    existing = set(dst.list_prefix(dp)) if if_exists != "replace" else set()
    if if_exists == "raise":
        clash = [r for r in rels if dp + r in existing]
        if clash:
            raise FileExistsError(f"{len(clash)} key(s) exist already in the destination, e.g. {dp + clash[0]!r}; "
                                  "use if_exists='replace' or 'skip'")
    n_copied = n_skipped = n_bytes = 0
    for i in range(0, len(rels), _BATCH):
        batch = rels[i:i + _BATCH]
        if if_exists == "skip":
            present = [dp + r in existing for r in batch]
            n_skipped += sum(present)
            batch = [r for r, there in zip(batch, present) if not there]
        values = src.get_many([sp + r for r in batch])
        items = [(dp + r, v) for r, v in zip(batch, values) if v is not None]
        n_copied += len(items)
        n_bytes += sum(len(v) for _, v in items)
        if not dry_run:
            dst.set_many(items)
        del values, items
    return n_copied, n_skipped, n_bytes


def _is_group(node: Any) -> bool:
    return hasattr(node, "members") and not hasattr(node, "shape")


def _create_kwargs(node: Any, without_attrs: bool, create_kwargs: dict) -> dict:
    """Creation keywords for a copy of ``node`` (a chunkzip or any array with shape/dtype/chunks)."""
    from .array import Array

    kwargs = dict(create_kwargs)
    if isinstance(node, Array):
        from .api import _like

        kwargs.setdefault("fill_value", node.fill_value)
        if node.dimension_names is not None and node.zarr_format == 3:
            kwargs.setdefault("dimension_names", node.dimension_names)
        kwargs = _like(node, kwargs)
        kwargs.pop("zarr_format", None)  # the destination group's format wins
    else:
        from .copying import _int_chunks

        kwargs.setdefault("dtype", node.dtype)
        kwargs.setdefault("chunks", _int_chunks(node, len(node.shape)) or True)
        fill = getattr(node, "fill_value", None)
        if fill is not None:
            kwargs.setdefault("fill_value", fill)
    if not without_attrs:
        attrs = dict(node.attrs)
        kwargs["attributes"] = {**attrs, **(kwargs.get("attributes") or {})}
    return kwargs


def copy_all(source: Any, dest: Any, *, shallow: bool = False, without_attrs: bool = False,
             if_exists: str = "raise", dry_run: bool = False, max_mem: int | None = None,
             **create_kwargs: Any) -> tuple[int, int, int]:
    """Copy every member of group ``source`` into group ``dest`` (and ``source``'s
    attributes onto ``dest``), array by array with bounded memory.

    Parameters
    ----------
    source : Group
        A chunkzip group, or a zarr-python group.
    dest : Group
        A writable chunkzip group (any store, either Zarr format).
    shallow : bool
        Copy only the direct members (member groups are created empty).
    without_attrs : bool
        Leave attributes behind.
    if_exists : {'raise', 'replace', 'skip'}
        What to do when ``dest`` has a member of the same name. With ``'raise'``
        nothing is written when any name clashes.
    dry_run : bool
        Count what would be copied, write nothing.
    max_mem : int, optional
        Memory budget of one slab (see :func:`chunkzip.copy`).
    **create_kwargs
        Creation keywords for every new array (e.g. ``compressor=``, ``chunks=``).

    Returns
    -------
    (n_copied, n_skipped, n_bytes_copied)
        Nodes (arrays and groups) copied and skipped, and the arrays' bytes (uncompressed).
    """
    from .hierarchy import Group

    _check_if_exists(if_exists)
    if not isinstance(dest, Group):
        raise TypeError(f"dest must be a chunkzip Group, got {type(dest).__name__}")
    if not _is_group(source):
        raise TypeError(f"source must be a group, got {type(source).__name__}; use chunkzip.copy for arrays")
    if not dry_run:
        dest._check_writable()
    members = list(source.members())
    if if_exists == "raise":
        clash = [n for n, _ in members if n in dest]
        if clash:
            from .nodes import ContainsGroupError

            raise ContainsGroupError(f"{len(clash)} member(s) of {dest!r} exist already, e.g. {clash[0]!r}; "
                                     "use if_exists='replace' or 'skip'")
    counts = [0, 0, 0]
    if not dry_run and not without_attrs and dict(source.attrs):
        dest.attrs.update(dict(source.attrs))
    _copy_members(members, dest, shallow, without_attrs, if_exists, dry_run, max_mem, create_kwargs, counts)
    return counts[0], counts[1], counts[2]


def _copy_members(members: list, dest: Any, shallow: bool, without_attrs: bool, if_exists: str, dry_run: bool,
                  max_mem: int | None, create_kwargs: dict, counts: list) -> None:
    from .copying import copy_into

    for name, node in members:
        exists = name in dest
        if exists and if_exists == "skip":
            counts[1] += 1
            continue
        counts[0] += 1
        if _is_group(node):
            if not dry_run:
                attrs = {} if without_attrs else dict(node.attrs)
                sub = dest.create_group(name, overwrite=exists, attributes=attrs)
            if not shallow:
                children = list(node.members())
                if dry_run:
                    counts[0] += _count(children)
                    counts[2] += _nbytes(children)
                else:
                    _copy_members(children, sub, shallow, without_attrs, "replace", dry_run, max_mem,
                                  create_kwargs, counts)
            continue
        counts[2] += int(getattr(node, "nbytes", 0))
        if dry_run:
            continue
        kwargs = _create_kwargs(node, without_attrs, create_kwargs)
        kwargs.setdefault("write_empty_chunks", False)  # never-written regions stay unwritten
        arr = dest.create_array(name, shape=tuple(node.shape), overwrite=exists, **kwargs)
        copy_into(node, arr, max_mem=max_mem)


def _count(members: list) -> int:
    return sum(1 + (_count(list(n.members())) if _is_group(n) else 0) for _, n in members)


def _nbytes(members: list) -> int:
    return sum(_nbytes(list(n.members())) if _is_group(n) else int(getattr(n, "nbytes", 0)) for _, n in members)
