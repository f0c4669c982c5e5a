"""Whole-chunk writes through the batch kernel ``_ext._write``.

Chunks that a write covers wholly are gathered straight from the caller's array,
encoded and written to their files in one nogil call per batch, run by the calling
thread and the pool's threads together (one encodes while another waits for the file
system), with one ``open`` + ``write`` + ``linkat`` per new chunk file (an anonymous
``O_TMPFILE`` file linked into place) or ``open`` + ``write`` + ``rename`` per existing
one, and each directory made once.  Partly covered chunks (read-modify-write) and anything the kernel cannot do go
through the generic per-chunk path of :class:`chunkzip.pipeline.Pipeline`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


def _dim_tables(ps: list) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """Per projection of one dimension: chunk index, value start, extent, and whether
    the chunk is wholly covered by a unit-step slice (or an int on a chunk of one)."""
    chunk, start, ext, whole = [], [], [], []
    for p in ps:
        cs, os_ = p.chunk_sel, p.out_sel
        ok = p.complete and (type(cs) is slice and (cs.step or 1) == 1 or type(cs) is int)
        if os_ is None:
            s, e = 0, 1
        elif type(os_) is slice:
            s, e = os_.start, os_.stop - os_.start
        else:
            s, e, ok = 0, 1, False
        chunk.append(p.chunk)
        start.append(s)
        ext.append(e)
        whole.append(ok)
    return chunk, np.array(start, np.int64), np.array(ext, np.int64), np.array(whole, bool)


class WholeChunkPlan(NamedTuple):
    """The chunks (or shards) a write covers wholly, as the batch kernels take them."""

    #: positions of the wholly covered chunks among the indexer's projections
    sel: np.ndarray
    #: number of projections of the indexer
    nchunks: int
    #: per covered chunk and dimension: its region in the value (first element, length)
    starts: np.ndarray
    extents: np.ndarray
    #: the covered chunks' store keys
    keys: list
    #: the value's strides in bytes per dimension of the array (0 where dropped)
    vstrides: list


def plan_whole_chunks(pipe: Any, indexer: Any, value: np.ndarray) -> WholeChunkPlan | None:
    """The chunks of ``pipe``'s grid (shards for a sharded array) that ``indexer``
    covers wholly, with their regions in ``value``; None when there are none or the
    selection is not a product of per-dimension projections."""
    dims = getattr(indexer, "dim_projections", None)
    if dims is None:
        return None
    dims = dims()
    if dims is None or not dims or any(not ps for ps in dims):
        return None
    tables, vstrides, axis = [], [], 0
    for ps in dims:
        dropped = ps[0].out_sel is None
        vstrides.append(0 if dropped else value.strides[axis])
        axis += 0 if dropped else 1
        tables.append(_dim_tables(ps))
    counts = [len(t[0]) for t in tables]
    nchunks = int(np.prod(counts))
    idx = np.unravel_index(np.arange(nchunks, dtype=np.int64), counts)
    whole = np.ones(nchunks, bool)
    for t, i in zip(tables, idx):
        whole &= t[3][i]
    sel = np.flatnonzero(whole)
    if sel.size == 0:
        return None
    starts = np.ascontiguousarray(np.stack([t[1][i[sel]] for t, i in zip(tables, idx)], axis=1))
    extents = np.ascontiguousarray(np.stack([t[2][i[sel]] for t, i in zip(tables, idx)], axis=1))
    keys = pipe._keys([t[0] for t in tables])
    if sel.size != nchunks:
        keys = [keys[j] for j in sel.tolist()]
    return WholeChunkPlan(sel, nchunks, starts, extents, keys, vstrides)


def encoding_args(kind: int, codec: Any, value: np.ndarray) -> tuple[int, int, int, int, int]:
    """The kernels' encoding arguments ``(clevel, shuffle, typesize, compcode,
    blocksize)`` for a chunk chain of kernel kind ``kind`` (RAW 0, BLOSC 1)."""
    clevel = shuffle = compcode = blocksize = 0
    typesize = value.dtype.itemsize
    if kind == 1:
        from ._ext import _blosc

        blosc = codec.stages[0]
        typesize, shuffle = blosc._resolve(value)
        clevel, compcode, blocksize = blosc.clevel, _blosc.CNAMES[blosc.cname], blosc.blocksize
    return clevel, shuffle, typesize, compcode, blocksize


def projections_left(indexer: Any, plan: WholeChunkPlan, status: np.ndarray) -> list:
    """The indexer's projections the kernel did not write (not wholly covered, or
    ``status`` non-zero): the generic path's share."""
    left = np.ones(plan.nchunks, bool)
    left[plan.sel[status == 0]] = False
    return [p for p, keep in zip(indexer, left.tolist()) if keep]


def write_whole_chunks(pipe: Any, indexer: Any, value: np.ndarray) -> list | None:
    """Write the chunks ``indexer`` covers wholly straight from ``value`` (laid out like
    the indexer's output).  Returns the chunk projections left for the generic path, or
    None when the kernel does not apply to this array, store or selection."""
    kind = pipe._kernel_kind_cached
    meta, store = pipe.meta, pipe.store
    targets = getattr(store, "write_targets", None)
    if kind is None or targets is None or pipe.synchronizer is not None \
            or not pipe.write_empty_chunks or value.dtype != meta.dtype:
        return None
    plan = plan_whole_chunks(pipe, indexer, value)
    if plan is None:
        return None
    got = targets(plan.keys)
    if got is None:
        return None
    paths, tag = got
    from ._ext import _write

    clevel, shuffle, typesize, compcode, blocksize = encoding_args(kind, pipe.codec, value)
    status = np.zeros(len(paths), np.uint8)
    counter = np.zeros(1, np.int64)
    cshape, cstr, fill = meta.chunks, pipe.chunk_strides(), pipe._fill_bytes
    vstrides, starts, extents = plan.vstrides, plan.starts, plan.extents

    def fn() -> int:
        return _write.write_chunks(paths, tag, kind, value, cshape, cstr, vstrides, starts, extents, fill,
                                   clevel, shuffle, typesize, compcode, blocksize, status, counter)

    nfail = pipe._run_kernel(fn, len(paths), blocking_io=True)
    if nfail == 0 and plan.sel.size == plan.nchunks:
        return []
    return projections_left(indexer, plan, status)
