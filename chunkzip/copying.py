"""Copying and rechunking between arrays with bounded memory.

The destination is written in *slabs*: blocks of whole destination chunks, each read from
the source in one call and written in one call. A slab is sized to a memory budget
(``max_mem``, default :data:`DEFAULT_MAX_MEM`) and, within that budget, stretched along the
dimensions where the source's chunks are larger than the destination's, so that a source
chunk is decoded once per slab rather than once per destination chunk. Switching from
column chunks ``(10000, 1)`` to row chunks ``(1, 10000)`` reads every source chunk a handful
of times instead of 10000 times. The chunks of one slab are decoded and encoded on the
chunk thread pool (``chunkzip.config.set(threads=N)``).

Peak memory is about one slab (two when the dtype changes) plus one source and one
destination chunk per pool thread. Source regions never written (all chunks missing) are
not read: the destination gets the source's fill value there, written once per chunk shape,
or nothing at all when the destination has ``write_empty_chunks=False``.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .progress import progress_bar

DEFAULT_MAX_MEM = 32 << 20
"""Default memory budget of one slab, in bytes."""

__all__ = ["copy", "copy_into", "plan_slab", "DEFAULT_MAX_MEM"]


def _int_chunks(obj: Any, ndim: int) -> tuple[int, ...] | None:
    """``obj.chunks`` when it is a regular chunk shape (chunkzip, zarr, h5py), else None."""
    chunks = getattr(obj, "chunks", None)
    if chunks is None:
        return None
    try:
        chunks = tuple(chunks)
    except TypeError:
        return None
    if len(chunks) != ndim or not all(isinstance(c, (int, np.integer)) and c > 0 for c in chunks):
        return None  # e.g. dask's tuple of tuples
    return tuple(int(c) for c in chunks)


def plan_slab(shape: tuple[int, ...], target: tuple[int, ...], source: tuple[int, ...] | None,
              itemsize: int, max_mem: int = DEFAULT_MAX_MEM) -> tuple[int, ...]:
    """Shape of the slabs used to copy an array of ``shape`` into chunks ``target`` from
    an array chunked as ``source`` (None: no chunking, e.g. NumPy), within ``max_mem``
    bytes (at least one target chunk).

    Every extent is a multiple of the target chunk, or the whole dimension. First the
    dimensions where the slab is thinner than a source chunk are doubled, worst first
    (each doubling halves the number of times every source chunk is decoded), then the
    slab is grown to fill the budget, last dimension first (fewer calls, more chunks per
    call for the thread pool).
    """
    nd = len(shape)
    if nd == 0:
        return ()
    src = source if source is not None else target
    ext = [min(t, s) for t, s in zip(target, shape)]
    itemsize = max(1, itemsize)

    def grow(i: int, want: int) -> int:
        """Largest extent along ``i`` that is aligned, <= want and within the budget."""
        want = min(shape[i], -(-want // target[i]) * target[i])
        others = math.prod(e for j, e in enumerate(ext) if j != i) * itemsize
        fit = max_mem // max(1, others)
        fit = shape[i] if fit >= shape[i] else (fit // target[i]) * target[i]
        return max(ext[i], min(want, fit))

    # 1. cut re-reads: stretch dimensions thinner than a source chunk
    frozen: set[int] = set()
    while True:
        cands = [i for i in range(nd) if i not in frozen and ext[i] < min(src[i], shape[i])]
        if not cands:
            break
        i = max(cands, key=lambda j: src[j] / ext[j])
        new = grow(i, min(2 * ext[i], src[i]))
        if new == ext[i]:
            frozen.add(i)
        ext[i] = new
    # 2. fill the budget
    for i in reversed(range(nd)):
        ext[i] = grow(i, shape[i])
    return tuple(ext)


def _regions(shape: tuple[int, ...], slab: tuple[int, ...]) -> Iterator[tuple[slice, ...]]:
    grid = [-(-s // e) for s, e in zip(shape, slab)]
    for idx in np.ndindex(*grid):
        yield tuple(slice(k * e, min((k + 1) * e, s)) for k, e, s in zip(idx, slab, shape))


class _StoredChunks:
    """Which chunks of a chunkzip source array are stored (to skip never-written regions)."""

    def __init__(self, source: Any) -> None:
        pipe = source._pipeline
        grid = source.cdata_shape
        coords = []
        for key in pipe.chunk_keys():
            c = pipe.parse_key(key)
            if c is not None and len(c) == len(grid) and all(0 <= a < g for a, g in zip(c, grid)):
                coords.append(c)
        self.coords = np.array(coords, dtype=np.int64).reshape(len(coords), len(grid))
        self.chunks = source.chunks

    def any_in(self, region: tuple[slice, ...]) -> bool:
        if len(self.coords) == 0:
            return False
        if self.coords.shape[1] == 0:
            return True
        lo = np.array([r.start // c for r, c in zip(region, self.chunks)])
        hi = np.array([(r.stop - 1) // c for r, c in zip(region, self.chunks)])
        return bool(np.any(np.all((self.coords >= lo) & (self.coords <= hi), axis=1)))


def copy_into(source: Any, dest: Any, *, progress: bool | None = False, max_mem: int | None = None) -> None:
    """Write all of ``source`` into the chunkzip Array ``dest`` (same shape), slab by slab
    with bounded memory (see the module documentation).

    ``source`` is a chunkzip Array or any object with ``shape``, ``dtype`` and NumPy-style
    slicing (a NumPy array, an h5py Dataset, a zarr array, ...). This is what
    ``dest[:] = source`` and ``chunkzip.array(source, ...)`` do for a chunkzip source.
    """
    from .array import Array

    shape = tuple(int(s) for s in source.shape)
    if shape != tuple(dest.shape):
        raise ValueError(f"shapes differ: source {shape}, destination {tuple(dest.shape)}")
    dest._check_writable()
    if dest.size == 0:
        return
    budget = DEFAULT_MAX_MEM if max_mem is None else int(max_mem)
    if budget <= 0:
        raise ValueError(f"max_mem must be a positive number of bytes, got {max_mem!r}")
    nd = len(shape)
    src_dtype = np.dtype(getattr(source, "dtype", dest.dtype))
    itemsize = max(src_dtype.itemsize, dest.dtype.itemsize) * (2 if src_dtype != dest.dtype else 1)
    slab = plan_slab(shape, dest.chunks, _int_chunks(source, nd), itemsize, budget)

    stored = None
    fill = None
    if isinstance(source, Array) and source.dtype.kind != "O" and dest.dtype.kind != "O":
        stored = _StoredChunks(source)
        fill = np.asarray(source._pipeline.fill, dtype=source.dtype)

    bar = progress_bar(progress, dest.nchunks, "copy")
    try:
        for region in _regions(shape, slab):
            if stored is not None and not stored.any_in(region):
                dest.set_basic_selection(region, fill)  # one encode per chunk shape, or deletes
            else:
                data = source[region]
                if not isinstance(data, np.ndarray):
                    data = np.asarray(data)
                dest.set_basic_selection(region, data)
                del data
            bar.update(math.prod(-(-(r.stop - r.start) // c) for r, c in zip(region, dest.chunks)))
    finally:
        bar.close()


def copy(source: Any, dest: Any = None, *, chunks: Any = None, store: Any = None, progress: bool | None = None,
         max_mem: int | None = None, **create_kwargs: Any) -> Any:
    """Copy (and rechunk) ``source`` with bounded memory; return the destination.

    Parameters
    ----------
    source : Array or array-like
        A chunkzip Array, or anything with ``shape``, ``dtype`` and NumPy-style slicing.
    dest : Array, optional
        Existing array of the same shape to write into. When omitted, a new array is
        created with ``chunks``, ``store`` and ``create_kwargs`` (see
        :func:`chunkzip.create`); unspecified settings (dtype, chunks, fill value, codecs,
        order, format, attributes) are taken from a chunkzip source.
    chunks : int or tuple, optional
        Chunk shape of the new array (rechunking).
    store : path or store, optional
        Where to create the new array (default: in memory).
    progress : bool or None
        Show a tqdm progress bar: None (default) when run in a terminal or notebook, True
        always, False never (see :mod:`chunkzip.progress`).
    max_mem : int, optional
        Memory budget of one slab in bytes (default 32 MiB).

    Examples
    --------
    >>> import chunkzip as cz
    >>> a = cz.zeros((2000, 2000), chunks=(2000, 1), dtype='uint16')
    >>> b = cz.copy(a, chunks=(1, 2000))
    >>> b.chunks
    (1, 2000)
    """
    from .array import Array

    if dest is None:
        from .api import _like, create

        kwargs = dict(create_kwargs)
        if chunks is not None:
            kwargs["chunks"] = chunks
        if store is not None:
            kwargs["store"] = store
        if isinstance(source, Array):
            kwargs.setdefault("fill_value", source.fill_value)
            if source.attrs.asdict():
                kwargs.setdefault("attributes", source.attrs.asdict())
            kwargs = _like(source, kwargs)
        else:
            kwargs.setdefault("dtype", source.dtype)
            kwargs.setdefault("chunks", _int_chunks(source, len(source.shape)) or True)
        dest = create(tuple(source.shape), **kwargs)
    else:
        if chunks is not None or store is not None or create_kwargs:
            raise TypeError("chunks=, store= and creation keywords apply only when dest is not given")
        if not isinstance(dest, Array):
            raise TypeError(f"dest must be a chunkzip Array, got {type(dest).__name__}")
    copy_into(source, dest, progress=progress, max_mem=max_mem)
    return dest
