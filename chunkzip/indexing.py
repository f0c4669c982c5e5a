"""Map selections onto a regular chunk grid.

Every indexer takes ``(selection, shape, chunks)`` and yields one
:class:`ChunkProjection` per chunk it touches.  A projection says which part of
the (full-size, edge-padded) chunk array is selected and where those elements go
in the indexer's output array::

    out = np.empty(indexer.shape, dtype)
    for p in indexer:                       # get
        out[p.out_selection] = chunk(p.chunk_coords)[p.chunk_selection]
    result = indexer.finalize(out)

    prepared = indexer.prepare_value(np.asarray(value))
    for p in indexer:                       # set
        chunk(p.chunk_coords)[p.chunk_selection] = prepared[p.out_selection]

No I/O happens here and all work is vectorised with NumPy; the only Python
loops run once per touched chunk.
"""

from __future__ import annotations

import itertools
import operator
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np

__all__ = [
    "ChunkProjection",
    "Indexer",
    "BasicIndexer",
    "OrthogonalIndexer",
    "CoordinateIndexer",
    "MaskIndexer",
    "BlockIndexer",
    "indexer_for_getitem",
    "is_basic_selection",
    "pop_fields",
]


class ChunkProjection(NamedTuple):
    """How one chunk takes part in a selection.

    Attributes
    ----------
    chunk_coords
        Grid coordinates of the chunk.
    chunk_selection
        NumPy index into the full-size (edge-padded) chunk array.
    out_selection
        NumPy index into the indexer's output array (of shape ``Indexer.shape``).
    is_complete_chunk
        True when ``chunk_selection`` selects every element of the chunk's valid
        region (the padding of edge chunks excluded) exactly once and in C order,
        so a write needs no read-modify-write and a read can decode the chunk
        straight into ``out[out_selection]`` (same elements, same order; size-1
        axes indexed by an integer are dropped on the output side).  For point
        (coordinate/mask) selections the selections stay 1-D integer arrays, sorted
        so that ``out[out_selection] = valid_chunk.ravel()`` holds.
    """

    chunk_coords: tuple[int, ...]
    chunk_selection: tuple
    out_selection: Any
    is_complete_chunk: bool


# --------------------------------------------------------------------------- #
# small helpers
# --------------------------------------------------------------------------- #

def _normalize_chunks(shape: Sequence[int], chunks: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape = tuple(operator.index(s) for s in shape)
    chunks = tuple(operator.index(c) for c in chunks)
    if len(chunks) != len(shape):
        raise ValueError(f"chunks {chunks} and shape {shape} have different numbers of dimensions")
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    fixed = []
    for s, c in zip(shape, chunks):
        if c < 1:
            if s == 0:  # a zero-length axis may come with a zero chunk length
                c = 1
            else:
                raise ValueError(f"chunk lengths must be positive, got chunks {chunks}")
        fixed.append(c)
    return shape, tuple(fixed)


def _is_int(x: Any) -> bool:
    """True for Python/NumPy integers and 0-d integer arrays (not bools)."""
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (int, np.integer)):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iu"


def _normalize_int(i: Any, n: int, axis: int) -> int:
    i = operator.index(i)
    j = i + n if i < 0 else i
    if not 0 <= j < n:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
    return j


def _bad_index(x: Any) -> IndexError:
    return IndexError(
        "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
        f"boolean arrays are valid indices, got {x!r} of type {type(x).__name__}"
    )


def _as_index_array(x: Any) -> np.ndarray:
    """Convert a list/tuple/array index to an integer or bool ndarray (never float)."""
    arr = np.asarray(x)
    if arr.size == 0 and arr.dtype.kind not in "iub":
        arr = arr.astype(np.intp)  # [] is an empty integer index, as in NumPy
    if arr.dtype.kind not in "iub":
        raise IndexError(
            f"arrays used as indices must be of integer or boolean type, got dtype {arr.dtype}"
        )
    return arr


def _fix_int_array(arr: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Return an intp copy of ``arr`` with negative indices wrapped; bounds-checked."""
    out = np.array(arr, dtype=np.intp, copy=True)
    if out.size:
        neg = out < 0
        if neg.any():
            out[neg] += n
        lo, hi = out.min(), out.max()
        if lo < 0 or hi >= n:
            bad = arr.ravel()[np.flatnonzero(((out < 0) | (out >= n)).ravel())[0]]
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
    return out


def _expand_ellipsis(selection: tuple, ndim: int, consumed: Callable[[Any], int] | None = None) -> tuple:
    """Replace a single Ellipsis by full slices and pad missing trailing axes."""
    if consumed is None:
        consumed = lambda s: 0 if s is None else 1  # noqa: E731
    n_ell = sum(1 for s in selection if s is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(consumed(s) for s in selection if s is not Ellipsis)
    if used > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed"
        )
    fill = (slice(None),) * (ndim - used)
    if n_ell:
        k = next(i for i, s in enumerate(selection) if s is Ellipsis)
        return selection[:k] + fill + selection[k + 1:]
    return selection + fill


def _as_tuple(selection: Any) -> tuple:
    return selection if isinstance(selection, tuple) else (selection,)


def _broadcast_value(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Broadcast ``value`` to ``shape`` like NumPy assignment does (leading 1s dropped)."""
    value = np.asarray(value)
    if value.ndim > len(shape):
        extra = value.ndim - len(shape)
        if all(d == 1 for d in value.shape[:extra]):
            value = value.reshape(value.shape[extra:])
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise ValueError(
            f"could not broadcast value of shape {value.shape} into selection of shape {shape}"
        ) from None


def _slice_to_array(s: slice) -> np.ndarray:
    return np.arange(s.start, s.stop, s.step or 1, dtype=np.intp)


def _stable_argsort(keys: np.ndarray, bound: int) -> np.ndarray:
    """Stable argsort of non-negative integer ``keys < bound``; O(n) radix passes if small."""
    if bound <= 1 << 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")  # NumPy radix-sorts 16-bit keys
    if bound <= 1 << 32:
        order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
        return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]
    return np.argsort(keys, kind="stable")


def _group_points_c(coords: list[np.ndarray], chunks: tuple, grid: tuple) -> tuple | None:
    """Points grouped by chunk in one compiled pass (counting sort), or None (no
    extension, unusual index dtype, or a grid too large for a counting sort)."""
    try:
        from ._ext import _copy
    except ImportError:  # pragma: no cover - extensions not built
        return None
    if not coords or any(x.dtype != np.int64 or not x.flags.c_contiguous for x in coords):
        return None
    return _copy.group_points(list(coords), tuple(chunks), tuple(grid))


def _no_break(breaks: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per segment ``[bounds[i], bounds[i+1])``: True if no pair ``(p, p+1)`` inside it
    is listed in the sorted array ``breaks`` (positions ``p`` of broken pairs)."""
    lo, hi = bounds[:-1], bounds[1:]
    return np.searchsorted(breaks, hi - 1) - np.searchsorted(breaks, lo) <= 0


def _valid_len(chunk: int, c: int, n: int) -> int:
    """Number of valid (non-padding) elements of chunk ``chunk`` along an axis."""
    return min(c, n - chunk * c)


# --------------------------------------------------------------------------- #
# per-dimension indexers
# --------------------------------------------------------------------------- #

class _DimProjection(NamedTuple):
    chunk: int
    chunk_sel: Any  # int | slice | ndarray
    out_sel: Any  # slice | ndarray | None (axis dropped)
    complete: bool


class _IntDim:
    drop = True

    def __init__(self, i: Any, n: int, c: int, axis: int):
        self.index = _normalize_int(i, n, axis)
        self.nitems = 1
        self.n, self.c = n, c

    def projections(self) -> list[_DimProjection]:
        ci, r = divmod(self.index, self.c)
        return [_DimProjection(ci, r, None, _valid_len(ci, self.c, self.n) == 1)]


class _SliceDim:
    drop = False

    def __init__(self, s: slice, n: int, c: int, axis: int):
        if s.step is not None and operator.index(s.step) <= 0:
            raise IndexError(
                f"slice step must be positive, got {s.step} for axis {axis}"
                + (" (negative steps are not supported)" if operator.index(s.step) < 0 else "")
            )
        self.start, stop, self.step = s.indices(n)
        self.nitems = max(0, -(-(stop - self.start) // self.step))
        self.n, self.c = n, c

    def projections(self) -> list[_DimProjection]:
        n, c, start, step, m = self.n, self.c, self.start, self.step, self.nitems
        if m == 0:
            return []
        last = start + (m - 1) * step
        result = []
        if step >= c:  # every selected element lies in its own chunk
            for k in range(m):
                ci, r = divmod(start + k * step, c)
                result.append(
                    _DimProjection(ci, slice(r, r + 1), slice(k, k + 1), _valid_len(ci, c, n) == 1)
                )
            return result
        if last // c - start // c >= 16:  # many chunks: the arithmetic vectorised
            ci = np.arange(start // c, last // c + 1, dtype=np.int64)
            lo = ci * c
            hi = np.minimum(lo + c, n)
            first = np.where(start >= lo, start, start + (-((start - lo) // step)) * step)
            end = np.minimum(hi - 1, last)
            keep = first <= end
            ci, lo, hi, first, end = ci[keep], lo[keep], hi[keep], first[keep], end[keep]
            cnt = (end - first) // step + 1
            k0 = ((first - start) // step).tolist()
            r = (first - lo).tolist()
            cnt_l = cnt.tolist()
            complete = (cnt == hi - lo).tolist()
            return [
                _DimProjection(a, slice(rr, rr + (m - 1) * step + 1, step if m > 1 and step > 1 else None),
                               slice(k, k + m), full)
                for a, rr, m, k, full in zip(ci.tolist(), r, cnt_l, k0, complete)
            ]
        for ci in range(start // c, last // c + 1):
            lo, hi = ci * c, min(ci * c + c, n)
            first = start if start >= lo else start + (-(-(lo - start) // step)) * step
            end = min(hi - 1, last)
            if first > end:
                continue
            cnt = (end - first) // step + 1
            k0 = (first - start) // step
            r = first - lo
            csel = slice(r, r + (cnt - 1) * step + 1, step if cnt > 1 and step > 1 else None)
            result.append(_DimProjection(ci, csel, slice(k0, k0 + cnt), cnt == hi - lo))
        return result


class _ArrayDim:
    """1-D integer (unsorted, repeated, negative ok) or boolean array along one axis."""

    drop = False

    def __init__(self, arr: Any, n: int, c: int, axis: int):
        arr = _as_index_array(arr)
        if arr.ndim != 1:
            raise IndexError(
                f"orthogonal selection needs 1-D integer or boolean arrays; got a {arr.ndim}-D "
                f"array for axis {axis}"
            )
        if arr.dtype == bool:
            if arr.shape[0] != n:
                raise IndexError(
                    f"boolean index did not match indexed array along axis {axis}; size of axis "
                    f"is {n} but size of corresponding boolean axis is {arr.shape[0]}"
                )
            idx = np.flatnonzero(arr)
        else:
            idx = _fix_int_array(arr, n, axis)
        self.idx, self.n, self.c = idx, n, c
        self.nitems = idx.shape[0]

    def projections(self) -> list[_DimProjection]:
        idx, n, c, m = self.idx, self.n, self.c, self.nitems
        if m == 0:
            return []
        order = None
        if m > 1 and (idx[1:] < idx[:-1]).any():
            order = _stable_argsort(idx, n)
            idx = idx[order]
        cid = idx // c
        bounds_a = np.concatenate(([0], np.flatnonzero(cid[1:] != cid[:-1]) + 1, [m]))
        # per chunk: are the indices a contiguous run (→ slice)?  Same for the out positions.
        contig_c = _no_break(np.flatnonzero(np.diff(idx) != 1), bounds_a).tolist()
        contig_o = None
        if order is not None:
            contig_o = _no_break(np.flatnonzero(np.diff(order) != 1), bounds_a).tolist()
        local = idx - cid * c
        cid_l = cid[bounds_a[:-1]].tolist()
        bounds = bounds_a.tolist()
        result = []
        for j, (ci, lo, hi) in enumerate(zip(cid_l, bounds[:-1], bounds[1:])):
            k = hi - lo
            complete = False
            if contig_c[j]:
                r = int(local[lo])
                csel: Any = slice(r, r + k)
                complete = r == 0 and k == _valid_len(ci, c, n)
            else:
                csel = local[lo:hi]
            if order is None:
                osel: Any = slice(lo, hi)
            elif contig_o[j]:
                o0 = int(order[lo])
                osel = slice(o0, o0 + k)
            else:
                osel = order[lo:hi]
            result.append(_DimProjection(ci, csel, osel, complete))
        return result


# --------------------------------------------------------------------------- #
# indexers
# --------------------------------------------------------------------------- #

class Indexer:
    """Base class: a selection mapped to chunk projections.

    Attributes
    ----------
    shape
        Shape of the array the projections' ``out_selection`` index into.
    scalar
        True when the selection consists of integers only (the result is a
        scalar: the caller takes ``finalize(out)[()]``).  ``drop_all`` is an alias.
    """

    shape: tuple[int, ...]
    scalar: bool = False

    @property
    def drop_all(self) -> bool:
        return self.scalar

    def __iter__(self) -> Iterator[ChunkProjection]:
        raise NotImplementedError

    def finalize(self, out: np.ndarray) -> np.ndarray:
        """Turn the projection output (``self.shape``) into the selection result."""
        return out

    def dim_projections(self) -> list | None:
        """For product selections: per dimension, the list of ``_DimProjection``s
        (``chunk``, ``chunk_sel`` int | slice | 1-D array, ``out_sel`` None (axis
        dropped) | slice | 1-D array); the projections are their Cartesian product, in
        ``itertools.product`` order.  None for other indexers."""
        return None

    def point_groups(self) -> tuple | None:
        """For point selections: ``(order, local, lin, bounds, chunk_coords)`` --
        points grouped by chunk in iteration order, ``lin`` their C-order offsets in
        the chunk (see :class:`CoordinateIndexer`).  None for other indexers."""
        return None

    def prepare_value(self, value: Any) -> np.ndarray:
        """Broadcast ``value`` to ``self.shape`` laid out like the projection output.

        The result may be a read-only broadcast view.
        """
        return _broadcast_value(value, self.shape)


class _ProductIndexer(Indexer):
    """Per-dimension indexers combined with a Cartesian product over chunks."""

    def __init__(self, dims: list, shape: tuple[int, ...], chunks: tuple[int, ...],
                 has_ellipsis: bool = False):
        self.dims = dims
        self.shape = tuple(d.nitems for d in dims if not d.drop)
        # NumPy returns a 0-d array, not a scalar, when an Ellipsis is present
        self.scalar = all(d.drop for d in dims) and not has_ellipsis
        self.array_shape, self.chunks = shape, chunks
        self._proj: list | None = None

    @property
    def nchunks(self) -> int:
        """Number of chunks touched (without iterating)."""
        return int(np.prod([len(p) for p in self._per_dim()], dtype=np.int64))

    def _per_dim(self) -> list[list[_DimProjection]]:
        if self._proj is None:
            self._proj = [d.projections() for d in self.dims]
        return self._proj

    def dim_projections(self) -> list[list[_DimProjection]]:
        return self._per_dim()

    def __iter__(self) -> Iterator[ChunkProjection]:
        for combo in itertools.product(*self._per_dim()):
            coords = tuple(p.chunk for p in combo)
            csel = tuple(p.chunk_sel for p in combo)
            osel = tuple(p.out_sel for p in combo if p.out_sel is not None)
            complete = all(p.complete for p in combo)
            csel = _fix_chunk_sel(csel)
            osel = _fix_out_sel(osel)
            yield ChunkProjection(coords, csel, osel, complete)


def _fix_chunk_sel(sel: tuple) -> tuple:
    """Make a per-dimension chunk selection index orthogonally under NumPy rules."""
    adv = [i for i, s in enumerate(sel) if not isinstance(s, slice)]
    n_arr = sum(1 for i in adv if isinstance(sel[i], np.ndarray))
    if n_arr == 0 or (n_arr == 1 and adv[-1] - adv[0] == len(adv) - 1):
        return sel  # NumPy keeps a single (contiguous) advanced block in place
    kept = [i for i, s in enumerate(sel) if isinstance(s, (slice, np.ndarray))]
    grids = np.ix_(*[_slice_to_array(sel[i]) if isinstance(sel[i], slice) else sel[i] for i in kept])
    out = list(sel)
    for i, g in zip(kept, grids):
        out[i] = g
    return tuple(out)


def _fix_out_sel(sel: tuple) -> tuple:
    if sum(1 for s in sel if isinstance(s, np.ndarray)) < 2:
        return sel
    return np.ix_(*[_slice_to_array(s) if isinstance(s, slice) else s for s in sel])


def _per_axis_dims(selection: Any, shape: Sequence[int], chunks: Sequence[int], arrays: bool) -> tuple:
    """One per-axis indexer for each item of a basic (``arrays=False``) or orthogonal
    selection; returns ``(dims, shape, chunks, has_ellipsis)``."""
    shape, chunks = _normalize_chunks(shape, chunks)
    sel = _as_tuple(selection)
    has_ellipsis = any(x is Ellipsis for x in sel)
    sel = _expand_ellipsis(sel, len(shape))
    dims = []
    for axis, (s, n, c) in enumerate(zip(sel, shape, chunks)):
        if _is_int(s):
            dims.append(_IntDim(s, n, c, axis))
        elif isinstance(s, slice):
            dims.append(_SliceDim(s, n, c, axis))
        elif arrays and isinstance(s, (list, tuple, np.ndarray)):
            dims.append(_ArrayDim(s, n, c, axis))
        elif arrays:
            raise _bad_index(s)
        else:
            raise IndexError(
                f"unsupported selection item for basic indexing on axis {axis}: {s!r}; "
                "expected an integer, a slice or Ellipsis"
            )
    return dims, shape, chunks, has_ellipsis


class BasicIndexer(_ProductIndexer):
    """Integers (negative ok), slices with positive step, Ellipsis; missing trailing axes are full.

    Parameters
    ----------
    selection
        A basic NumPy selection.
    shape, chunks
        Array shape and regular chunk shape.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunks: Sequence[int]):
        super().__init__(*_per_axis_dims(selection, shape, chunks, arrays=False))


class OrthogonalIndexer(_ProductIndexer):
    """Per-axis int, slice, 1-D int array (unsorted/repeated/negative ok) or 1-D bool array.

    Each axis is indexed independently (like ``a[np.ix_(...)]``); integers drop their axis.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunks: Sequence[int]):
        super().__init__(*_per_axis_dims(selection, shape, chunks, arrays=True))


class BlockIndexer(_ProductIndexer):
    """Select whole chunks: per axis an int or a step-1 slice of chunk indices (negative ok)."""

    def __init__(self, selection: Any, shape: Sequence[int], chunks: Sequence[int]):
        shape, chunks = _normalize_chunks(shape, chunks)
        sel = _as_tuple(selection)
        has_ellipsis = any(x is Ellipsis for x in sel)
        sel = _expand_ellipsis(sel, len(shape))
        dims = []
        for axis, (s, n, c) in enumerate(zip(sel, shape, chunks)):
            nblocks = -(-n // c)
            if _is_int(s):
                b = operator.index(s)
                if not -nblocks <= b < nblocks:
                    raise IndexError(
                        f"block index {b} is out of bounds for axis {axis} with {nblocks} blocks"
                    )
                lo = b % nblocks
                hi = lo + 1
            elif isinstance(s, slice):
                if s.step not in (None, 1):
                    raise IndexError(f"block selection only supports slices with step 1, got {s}")
                lo, hi, _ = s.indices(nblocks)
                hi = max(lo, hi)
            else:
                raise IndexError(
                    f"block selection takes integers and slices of chunk indices, got {s!r} on axis {axis}"
                )
            dims.append(_SliceDim(slice(lo * c, min(hi * c, n)), n, c, axis))
        super().__init__(dims, shape, chunks, has_ellipsis)


class CoordinateIndexer(Indexer):
    """Point selection: one integer array per axis, broadcast together (any shape).

    ``shape`` is ``(npoints,)``; ``finalize`` reshapes to the broadcast shape.
    """

    def __init__(self, selection: Any, shape: Sequence[int], chunks: Sequence[int]):
        shape, chunks = _normalize_chunks(shape, chunks)
        sel = _as_tuple(selection)
        if len(sel) != len(shape):
            raise IndexError(
                f"coordinate selection needs one integer array per dimension: array is "
                f"{len(shape)}-dimensional, but {len(sel)} were given"
            )
        arrays = []
        for axis, s in enumerate(sel):
            if isinstance(s, (slice, type(Ellipsis))) or s is None:
                raise IndexError(f"coordinate selection takes integer arrays only, got {s!r} on axis {axis}")
            a = _as_index_array(s)
            if a.dtype == bool:
                raise IndexError(
                    "boolean arrays are not allowed in a coordinate selection; use a mask selection"
                )
            arrays.append(a)
        try:
            bshape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            raise IndexError(
                "shape mismatch: indexing arrays could not be broadcast together with shapes "
                + " ".join(str(a.shape) for a in arrays)
            ) from None
        coords = [
            _fix_int_array(np.broadcast_to(a, bshape).ravel(), n, axis)
            for axis, (a, n) in enumerate(zip(arrays, shape))
        ]
        self._setup(coords, bshape, shape, chunks)

    def _setup(self, coords: list[np.ndarray], bshape: tuple[int, ...], shape, chunks) -> None:
        self.coords = coords  # flat, wrapped, bounds-checked (private copies)
        self.sel_shape = tuple(bshape)
        self.npoints = int(np.prod(bshape, dtype=np.int64))
        self.shape = (self.npoints,)
        self.array_shape, self.chunks = shape, chunks
        self.scalar = False
        self._cache: tuple | None = None

    def __iter__(self) -> Iterator[ChunkProjection]:
        shape, chunks, m = self.array_shape, self.chunks, self.npoints
        if m == 0:
            return
        ndim = len(shape)
        if ndim == 0:  # at most one point: the single element
            yield ChunkProjection((), (None,), slice(None), True)
            return
        order, local, lin, bounds, chunk_coords, run = self._groups()
        for cc, lo, hi, ordered in zip(chunk_coords, bounds[:-1], bounds[1:], run):
            cc = tuple(cc)
            csel = tuple(x[lo:hi] for x in local)
            osel: Any = slice(lo, hi) if order is None else order[lo:hi]
            nvalid = 1
            for ci, c, n in zip(cc, chunks, shape):
                nvalid *= _valid_len(ci, c, n)
            complete = False
            if hi - lo == nvalid:  # as many points as valid elements: all distinct?
                if ordered:
                    complete = True  # already in C order within the chunk
                else:
                    perm = np.argsort(lin[lo:hi], kind="stable")
                    if (np.diff(lin[lo:hi][perm]) > 0).all():
                        # put the points in C order so that out[osel] == valid_chunk.ravel()
                        complete = True
                        csel = tuple(x[perm] for x in csel)
                        osel = (np.arange(lo, hi) if order is None else order[lo:hi])[perm]
            yield ChunkProjection(cc, csel, osel, complete)

    def point_groups(self) -> tuple | None:
        if self.npoints == 0 or len(self.array_shape) == 0:
            return None
        order, local, lin, bounds, chunk_coords, _run = self._groups()
        return order, local, lin, bounds, chunk_coords

    def _groups(self) -> tuple:
        """Points grouped by chunk (computed once): order, in-chunk coords, bounds..."""
        if self._cache is not None:
            return self._cache
        shape, chunks, m = self.array_shape, self.chunks, self.npoints
        grid = tuple(-(-n // c) for n, c in zip(shape, chunks))
        fast = _group_points_c(self.coords, chunks, grid)
        if fast is not None:
            order, local, lin, bounds_a, ids, run_a = fast
            chunk_coords = np.stack(np.unravel_index(ids, grid), axis=1).tolist()
            self._cache = (order, local, lin, bounds_a.tolist(), chunk_coords,
                           run_a.astype(bool).tolist())
            return self._cache
        cidx, local = [], []
        for x, c, n in zip(self.coords, chunks, shape):
            if c >= n:  # a single chunk along this axis
                q, r = np.zeros_like(x), x
            else:
                q, r = np.divmod(x, c)
            cidx.append(q)
            local.append(r)
        ids = np.ravel_multi_index(cidx, grid)
        order = None
        if m > 1 and (ids[1:] < ids[:-1]).any():
            order = _stable_argsort(ids, int(np.prod(grid, dtype=np.int64)))
            ids = ids[order]
            local = [x[order] for x in local]
        # linear in-chunk position; a chunk's points are distinct and in C order iff
        # lin strictly increases across the chunk
        lin = np.ravel_multi_index(local, chunks)
        bounds_a = np.concatenate(([0], np.flatnonzero(ids[1:] != ids[:-1]) + 1, [m]))
        run = _no_break(np.flatnonzero(lin[1:] <= lin[:-1]), bounds_a).tolist()
        bounds = bounds_a.tolist()
        chunk_coords = np.stack(np.unravel_index(ids[bounds_a[:-1]], grid), axis=1).tolist()
        self._cache = (order, local, lin, bounds, chunk_coords, run)
        return self._cache

    def finalize(self, out: np.ndarray) -> np.ndarray:
        return out.reshape(self.sel_shape)

    def prepare_value(self, value: Any) -> np.ndarray:
        return _broadcast_value(value, self.sel_shape).reshape(self.shape)


class MaskIndexer(CoordinateIndexer):
    """Boolean mask of exactly the array's shape; selects its True elements in C order."""

    def __init__(self, selection: Any, shape: Sequence[int], chunks: Sequence[int]):
        shape, chunks = _normalize_chunks(shape, chunks)
        sel = _as_tuple(selection)
        if len(sel) != 1:
            raise IndexError(f"mask selection takes exactly one boolean array, got {len(sel)} items")
        mask = np.asarray(sel[0])
        if mask.dtype != bool:
            raise IndexError(f"mask selection needs a boolean array, got dtype {mask.dtype}")
        if mask.shape != shape:
            raise IndexError(
                f"mask shape {mask.shape} does not match array shape {shape}"
            )
        coords = [np.asarray(x, dtype=np.intp) for x in np.nonzero(mask)] if shape else []
        npoints = int(mask.sum())
        self._setup(coords, (npoints,), shape, chunks)


class _TransformedIndexer(Indexer):
    """Wrap an indexer whose output needs a cheap reshaping (new axes, moved axes)."""

    def __init__(self, inner: Indexer, final_shape: tuple[int, ...],
                 to_final: Callable[[np.ndarray], np.ndarray],
                 to_inner: Callable[[np.ndarray], np.ndarray]):
        self.inner, self.final_shape = inner, tuple(final_shape)
        self._to_final, self._to_inner = to_final, to_inner
        self.shape = inner.shape
        self.scalar = False

    def __iter__(self) -> Iterator[ChunkProjection]:
        return iter(self.inner)

    def dim_projections(self) -> list | None:
        return self.inner.dim_projections()

    def point_groups(self) -> tuple | None:
        return self.inner.point_groups()

    def finalize(self, out: np.ndarray) -> np.ndarray:
        return self._to_final(self.inner.finalize(out))

    def prepare_value(self, value: Any) -> np.ndarray:
        v = self._to_inner(_broadcast_value(value, self.final_shape))
        return self.inner.prepare_value(v)


# --------------------------------------------------------------------------- #
# [] dispatch
# --------------------------------------------------------------------------- #

def is_basic_selection(selection: Any) -> bool:
    """True if ``selection`` has only integers, slices and at most one Ellipsis."""
    return all(_is_int(s) or isinstance(s, slice) or s is Ellipsis for s in _as_tuple(selection))


def pop_fields(selection: Any) -> tuple[str | list[str] | None, Any]:
    """Strip structured-dtype field names out of a ``[]`` selection.

    Returns ``(fields, selection)``: ``fields`` is ``None``, a single ``str`` (one bare
    name: the result has the field's dtype) or a ``list`` of names (a list was given,
    or several bare names: the result keeps a structured dtype).  Names may appear
    anywhere in a tuple; the rest is returned as a tuple, or ``Ellipsis`` if empty.
    """
    def is_field_list(s: Any) -> bool:
        return isinstance(s, list) and len(s) > 0 and all(isinstance(x, str) for x in s)

    items = _as_tuple(selection)
    names: list[str] = []
    as_list = False
    rest = []
    for s in items:
        if isinstance(s, str):
            names.append(s)
        elif is_field_list(s):
            names.extend(s)
            as_list = True
        else:
            rest.append(s)
    if not names:
        return None, selection
    fields: str | list[str] = names if (as_list or len(names) > 1) else names[0]
    return fields, tuple(rest) if rest else Ellipsis


def _classify(s: Any) -> str:
    if s is None:
        return "none"
    if s is Ellipsis:
        return "ellipsis"
    if isinstance(s, slice):
        return "slice"
    if _is_int(s):
        return "int"
    if isinstance(s, (bool, np.bool_)):
        return "boolscalar"
    if isinstance(s, (list, tuple, np.ndarray)):
        return "array"
    if isinstance(s, str):
        raise IndexError(f"field name {s!r} in a selection: strip fields with pop_fields first")
    raise _bad_index(s)


def indexer_for_getitem(selection: Any, shape: Sequence[int], chunks: Sequence[int]) -> Indexer:
    """Pick the indexer that gives NumPy's ``a[selection]`` semantics.

    * ints, slices, Ellipsis → :class:`BasicIndexer` (with ``None`` too: a reshaping wrapper);
    * one 1-D int/bool array among ints and slices → :class:`OrthogonalIndexer` (its axis
      moved to the front when NumPy does so, i.e. when ints and the array are not adjacent);
    * one N-d int array among ints and slices → orthogonal read of its unique values, then
      NumPy's fancy index on that intermediate;
    * only ints and int / 1-D bool arrays, one per axis → :class:`CoordinateIndexer`;
    * one bool array of the array's full shape → :class:`MaskIndexer`;
    * anything else NumPy accepts → the exact NumPy result as a point selection.
    """
    shape, chunks = _normalize_chunks(shape, chunks)
    ndim = len(shape)
    sel = _as_tuple(selection)
    kinds = [_classify(s) for s in sel]
    if all(k in ("int", "slice", "ellipsis") for k in kinds):
        return BasicIndexer(sel, shape, chunks)
    if all(k in ("int", "slice", "ellipsis", "none") for k in kinds):
        return _newaxis_indexer(sel, shape, chunks)
    items = tuple(_as_index_array(s) if k == "array" else s for s, k in zip(sel, kinds))
    arrays = [s for s, k in zip(items, kinds) if k == "array"]
    if "none" not in kinds and "boolscalar" not in kinds and all(a.ndim >= 1 for a in arrays):
        if (len(arrays) == 1 and arrays[0].dtype == bool and arrays[0].ndim == ndim
                and all(k in ("array", "ellipsis") for k in kinds)):
            return MaskIndexer(arrays[0], shape, chunks)
        if all(a.dtype != bool or a.ndim == 1 for a in arrays):
            exp = _expand_ellipsis(items, ndim)
            apos = [i for i, s in enumerate(exp) if isinstance(s, np.ndarray) and s.ndim]
            ipos = [i for i, s in enumerate(exp) if _is_int(s)]
            if len(apos) == 1 and exp[apos[0]].ndim == 1:
                return _orthogonal_numpy_order(exp, apos[0], ipos, shape, chunks)
            if len(apos) == 1:
                return _unique_array_indexer(exp, apos[0], shape, chunks)
            if not any(isinstance(s, slice) for s in exp):
                coords = tuple(
                    _bool_to_int(s, shape[i], i) if isinstance(s, np.ndarray) and s.dtype == bool else s
                    for i, s in enumerate(exp)
                )
                return CoordinateIndexer(coords, shape, chunks)
    return _numpy_fancy_indexer(items, shape, chunks)


def _bool_to_int(arr: np.ndarray, n: int, axis: int) -> np.ndarray:
    if arr.shape[0] != n:
        raise IndexError(
            f"boolean index did not match indexed array along axis {axis}; size of axis "
            f"is {n} but size of corresponding boolean axis is {arr.shape[0]}"
        )
    return np.flatnonzero(arr)


def _orthogonal_numpy_order(exp: tuple, apos: int, ipos: list[int], shape, chunks) -> Indexer:
    """One 1-D array with ints/slices: orthogonal, moving the array axis front if NumPy does."""
    ix = OrthogonalIndexer(exp, shape, chunks)
    adv = sorted(ipos + [apos])
    if adv[-1] - adv[0] == len(adv) - 1:
        return ix  # advanced indices adjacent: NumPy keeps the axis in place
    pos = sum(1 for i in range(apos) if isinstance(exp[i], slice))  # axis in ortho output
    final = (ix.shape[pos],) + ix.shape[:pos] + ix.shape[pos + 1:]
    return _TransformedIndexer(
        ix, final,
        lambda out: np.moveaxis(out, pos, 0),
        lambda v: np.moveaxis(v, 0, pos),
    )


def _unique_array_indexer(exp: tuple, apos: int, shape, chunks) -> Indexer:
    """One N-d int array with ints/slices: orthogonal read of its unique values + NumPy index.

    Every element of the orthogonal intermediate is selected (only one axis is fancy),
    so writes scatter the value into the intermediate and write it back whole.
    """
    arr = _fix_int_array(exp[apos], shape[apos], apos)
    uniq, inv = np.unique(arr.ravel(), return_inverse=True)
    inner_sel = list(exp)
    inner_sel[apos] = uniq
    post: list[Any] = []
    for i, s in enumerate(exp):
        if i == apos:
            post.append(inv.reshape(arr.shape))
        elif _is_int(s):  # keep the axis (length 1) so NumPy's rules for ints still apply
            j = _normalize_int(s, shape[i], i)
            inner_sel[i] = slice(j, j + 1)
            post.append(0)
        else:
            post.append(slice(None))
    inner = OrthogonalIndexer(tuple(inner_sel), shape, chunks)
    index = tuple(post)
    final = np.broadcast_to(np.empty((), dtype=np.int8), inner.shape)[index].shape

    def scatter(v: np.ndarray) -> np.ndarray:
        buf = np.empty(inner.shape, dtype=v.dtype)
        buf[index] = v
        return buf

    return _TransformedIndexer(inner, final, lambda out: out[index], scatter)


def _newaxis_indexer(sel: tuple, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Indexer:
    inner_sel = tuple(s for s in sel if s is not None)
    inner = BasicIndexer(inner_sel, shape, chunks)
    final = np.broadcast_to(np.empty((), dtype=np.int8), shape)[sel].shape
    inner_shape = inner.shape
    return _TransformedIndexer(
        inner, final,
        lambda out: out.reshape(final),
        lambda v: v.reshape(inner_shape),
    )


def _numpy_fancy_indexer(sel: tuple, shape: tuple[int, ...], chunks: tuple[int, ...]) -> Indexer:
    """Exact NumPy semantics for any selection, as the point selection of its result.

    For each axis, a zero-stride view of ``arange(n)`` broadcast to ``shape`` is indexed
    with ``sel`` by NumPy itself; that yields the source coordinates of every result
    element (memory proportional to the result only).
    """
    ndim = len(shape)
    if ndim == 0:
        final = np.broadcast_to(np.empty((), dtype=np.int8), ())[sel].shape
        inner = BasicIndexer((), shape, chunks)
        if int(np.prod(final)) == 0:
            return _EmptyIndexer(final)
        return _TransformedIndexer(
            inner, final,
            lambda out: np.broadcast_to(out, final).copy(),
            lambda v: v.reshape(-1)[-1],  # last assignment wins
        )
    coords = []
    for axis, n in enumerate(shape):
        view_shape = [1] * ndim
        view_shape[axis] = n
        grid = np.broadcast_to(np.arange(n, dtype=np.intp).reshape(view_shape), shape)
        coords.append(grid[sel])
    return CoordinateIndexer(tuple(coords), shape, chunks)


class _EmptyIndexer(Indexer):
    def __init__(self, final_shape: tuple[int, ...]):
        self.final_shape = tuple(final_shape)
        self.shape = self.final_shape

    def __iter__(self) -> Iterator[ChunkProjection]:
        return iter(())
