"""Chunk-shape normalisation and regular-grid arithmetic."""
from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np

# Heuristic bounds for chunks=True (bytes per chunk).
_GUESS_MIN = 1 << 20        # 1 MiB
_GUESS_MAX = 16 << 20       # 16 MiB
_GUESS_BASE = 256 << 10     # target for a 1 MiB array; doubles for every 10x of data


def normalize_shape(shape: Any) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of non-negative ints, or raise a clear error."""
    if isinstance(shape, Integral):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a sequence of ints, got {shape!r}") from None
    out = []
    for s in shape:
        if not isinstance(s, Integral) or isinstance(s, bool):
            raise TypeError(f"shape must contain only integers, got {shape!r}")
        if s < 0:
            raise ValueError(f"shape must not be negative, got {shape!r}")
        out.append(int(s))
    return tuple(out)


def guess_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Guess a chunk shape: the target size grows with the array size (about 1–16 MiB),
    reached by halving the dimensions in turn, starting with the first."""
    ndim = len(shape)
    if ndim == 0:
        return ()
    chunks = [max(1, s) for s in shape]
    total = math.prod(chunks) * itemsize
    target = _GUESS_BASE * 2 ** math.log10(max(total, 1) / (1 << 20))
    target = min(max(target, _GUESS_MIN), _GUESS_MAX)
    axis = 0
    while True:
        nbytes = math.prod(chunks) * itemsize
        close = abs(nbytes - target) / target < 0.5
        if (nbytes < target or close) and nbytes < _GUESS_MAX:
            break
        if math.prod(chunks) == 1:
            break
        chunks[axis % ndim] = -(-chunks[axis % ndim] // 2)
        axis += 1
    return tuple(chunks)


def normalize_chunks(chunks: Any, shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """Normalise the ``chunks`` argument against ``shape``.

    ``None``/``True`` guess a shape, ``False`` makes one chunk, an int applies to every
    dimension, and ``None``/``-1`` inside a tuple mean "the whole dimension". A shorter tuple
    is completed with the array's own dimensions.
    """
    if chunks is None or chunks is True:
        return guess_chunks(shape, itemsize)
    if chunks is False:
        return tuple(max(1, s) for s in shape)
    if isinstance(chunks, Integral):
        chunks = (int(chunks),) * len(shape)
    try:
        chunks = tuple(chunks)
    except TypeError:
        raise TypeError(f"chunks must be an int, a tuple, True, False or None; got {chunks!r}") from None
    if len(chunks) > len(shape):
        raise ValueError(f"chunks {chunks!r} has more dimensions than shape {shape!r}")
    chunks = chunks + tuple(shape[len(chunks):])
    out = []
    for c, s in zip(chunks, shape):
        if c is None or (isinstance(c, Integral) and not isinstance(c, bool) and c == -1):
            out.append(max(1, s))
        elif isinstance(c, Integral) and not isinstance(c, bool) and c > 0:
            out.append(int(c))
        else:
            raise ValueError(f"chunk lengths must be positive integers (or -1/None), got {chunks!r}")
    return tuple(out)


def cdata_shape(shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[int, ...]:
    """Number of chunks along each dimension."""
    return tuple(-(-s // c) for s, c in zip(shape, chunks))


def chunk_region(coords: tuple[int, ...], shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[slice, ...]:
    """The region of the array that chunk ``coords`` holds (clipped at the array's edge)."""
    return tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(coords, chunks, shape))


def all_chunk_coords(shape: tuple[int, ...], chunks: tuple[int, ...]) -> np.ndarray:
    """Every chunk's grid coordinates, one row each (C order)."""
    grid = cdata_shape(shape, chunks)
    if not grid:
        return np.zeros((1, 0), dtype=np.intp)
    return np.stack(np.unravel_index(np.arange(math.prod(grid)), grid), axis=1)
