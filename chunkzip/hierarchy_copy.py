"""Copying whole hierarchies with bounded memory.

* :func:`copy_store` (defined in :mod:`chunkzip.copying`) copies the stored keys as they
  are (metadata and compressed chunks, any format), in batches bounded in bytes.
* :func:`copy_all` copies the members of a group into another group node by node:
  groups with their attributes, arrays through :func:`chunkzip.copying.copy_into`
  (slab by slab, within ``max_mem``), so the destination may use other chunks, codecs, a
  different store or the other Zarr format. The source may also be a zarr-python group.
"""
from __future__ import annotations

from typing import Any

from .copying import copy_store  # one store-level copy for arrays and hierarchies

__all__ = ["copy_store", "copy_all"]

_IF_EXISTS = ("raise", "replace", "skip")


def _check_if_exists(if_exists: str) -> None:
    if if_exists not in _IF_EXISTS:
        raise ValueError(f"if_exists must be one of {_IF_EXISTS}, got {if_exists!r}")


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
