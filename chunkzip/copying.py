"""Copying between arrays chunk by chunk, with memory bounded by a few chunks."""
from __future__ import annotations

from typing import Any

from .chunks import all_chunk_coords, chunk_region
from .pipeline import run_batched


def copy_into(source: Any, dest: Any) -> None:
    """Write ``source`` (an Array or any object with NumPy-style slicing) into ``dest``,
    one destination chunk at a time, on the chunk pool."""
    if tuple(source.shape) != tuple(dest.shape):
        raise ValueError(f"shapes differ: source {tuple(source.shape)}, destination {dest.shape}")
    dest._check_writable()
    regions = [chunk_region(tuple(int(c) for c in coords), dest.shape, dest.chunks)
               for coords in all_chunk_coords(dest.shape, dest.chunks)]
    if dest.size == 0:
        return

    def one(region: tuple[slice, ...]) -> None:
        dest[region] = source[region]

    run_batched(one, regions)


def copy(source: Any, dest: Any = None, **kwargs: Any) -> Any:
    """Copy ``source`` into ``dest`` (an Array), or into a new array created with ``kwargs``
    (e.g. ``chunks=``, ``store=``, ``compressor=``); return the destination."""
    if dest is None:
        from .api import array as _array, create

        kwargs.setdefault("dtype", source.dtype)
        kwargs.setdefault("chunks", getattr(source, "chunks", True))
        dest = create(source.shape, **kwargs)
    copy_into(source, dest)
    return dest
