"""Whole-shard writes through the batch kernel ``_ext._write.write_shards``.

Shards that a write covers wholly are encoded in one nogil call per batch, run by the
calling thread and the pool's threads together (each takes the next shard): every
inner chunk is gathered straight from the caller's array and encoded into the shard's
buffer, inner chunks equal to the fill value get empty index entries, the index
(``bytes`` + ``crc32c``, at the start or the end) is added, and the shard is written
once -- on a directory store with one ``open`` + ``write`` + ``linkat`` for a new shard
file (an anonymous ``O_TMPFILE`` file), + ``rename`` over an existing one (so a write
that fails midway leaves no partial shard visible), on other stores assembled in buffers
and handed to ``set_many``.  A shard with no stored inner chunk is deleted when
``write_empty_chunks`` is False (and written as a bare index otherwise, as the generic
path does).

The kernel applies where :func:`chunkzip.chunk_writer.write_whole_chunks` does for
chunks: a product selection, a value of the array's dtype, no synchronizer, and an
inner chain the kernel encodes (no compression or one Blosc stage, stored layout equal
to the in-memory one).  Nested sharding, other inner chains, partly covered shards
(read-modify-write) and shards the kernel gave back go through the generic per-shard
path of :class:`chunkzip.pipeline.Pipeline` with :class:`chunkzip.sharding.ShardCodec`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .chunk_writer import WholeChunkPlan, encoding_args, plan_whole_chunks, projections_left

#: False sends every sharded write through the generic path (tests compare the two)
FAST_WRITE = True

#: shard buffers assembled at once for stores that are not directories (bytes, at
#: least one shard): bounds the memory a large write takes beside the caller's array.
#: Each buffer is sized for the worst case (every inner chunk stored raw) but only the
#: encoded bytes are touched, so this is mostly address space, not memory.
BUFFER_BATCH_BYTES = 256 * 1024 * 1024

#: directory stores: shards up to this size are written by the file-bound pool
#: (``pipeline.IO_THREADS`` threads: file creation and ``rename`` wait in the kernel);
#: larger ones by the chunk pool, since every thread holds one shard buffer
IO_POOL_SHARD_BYTES = 16 * 1024 * 1024


def write_whole_shards(pipe: Any, indexer: Any, value: np.ndarray) -> list | None:
    """Write the shards ``indexer`` covers wholly straight from ``value`` (laid out like
    the indexer's output).

    Parameters
    ----------
    pipe : chunkzip.pipeline.Pipeline
        The sharded array's pipeline (its chunk grid is the shard grid).
    indexer : product indexer
        The write's selection, projected on the shard grid.
    value : numpy.ndarray
        The values, shaped like the selection.

    Returns
    -------
    list or None
        The shard projections left for the generic path (partly covered shards, and
        shards the kernel gave back), or None when the kernel does not apply to this
        array, store or selection.
    """
    meta, store = pipe.meta, pipe.store
    spec = meta.sharding
    if not FAST_WRITE or spec is None or spec.nested is not None or pipe.synchronizer is not None \
            or value.dtype != meta.dtype or value.ndim == 0:
        return None
    from .sharded_io import _inner_pipeline

    ip = _inner_pipeline(pipe)
    kind = None if ip is None else ip._kernel_kind_cached
    if kind is None:
        return None
    plan = plan_whole_chunks(pipe, indexer, value)
    if plan is None:
        return None
    targets = getattr(store, "write_targets", None)
    got = targets(plan.keys) if targets is not None else None
    status = np.zeros(len(plan.keys), np.uint8)
    if got is not None:
        paths, tag = got
        _run(pipe, ip, kind, plan, value, paths, tag, status, np.zeros(len(paths), np.int64), 0, len(paths))
    else:
        _write_buffered(pipe, ip, kind, plan, value, status)
    empty = np.flatnonzero(status == 2)
    if len(empty):
        store.delete_many([plan.keys[i] for i in empty.tolist()])
        status[empty] = 0
    if not status.any() and plan.sel.size == plan.nchunks:
        return []
    return projections_left(indexer, plan, status)


def _run(pipe: Any, ip: Any, kind: int, plan: WholeChunkPlan, value: np.ndarray, targets: list, tag: bytes,
         status: np.ndarray, sizes: np.ndarray, lo: int, hi: int) -> None:
    """One kernel call over shards ``lo:hi`` of the plan (``targets``: their paths or
    buffers), on the calling thread and the pool."""
    from ._ext import _write

    spec = pipe.meta.sharding
    clevel, shuffle, typesize, compcode, blocksize = encoding_args(kind, ip.codec, value)
    counter = np.zeros(1, np.int64)
    starts, extents = plan.starts[lo:hi], plan.extents[lo:hi]
    st, sz = status[lo:hi], sizes[lo:hi]
    args = (targets, tag, kind, value, ip.meta.chunks, ip.chunk_strides(), plan.vstrides, ip.per, starts, extents,
            ip._fill_bytes, clevel, shuffle, typesize, compcode, blocksize, spec.index_location == "start",
            spec.index_checksum, spec.index_endian == ">", pipe.write_empty_chunks, sz, st, counter)

    def fn() -> int:
        return _write.write_shards(*args)

    to_files = bool(targets) and isinstance(targets[0], bytes)
    bound = _write.shard_bound(ip.codec.nbytes, ip.ninner, spec.index_checksum)
    pipe._run_kernel(fn, hi - lo, blocking_io=to_files and bound <= IO_POOL_SHARD_BYTES)


def _write_buffered(pipe: Any, ip: Any, kind: int, plan: WholeChunkPlan, value: np.ndarray,
                    status: np.ndarray) -> None:
    """Stores that are not directories: shards assembled in buffers by the kernel, a
    batch at a time, then stored with one ``set_many`` per batch."""
    from ._ext import _write

    spec = pipe.meta.sharding
    bound = _write.shard_bound(ip.codec.nbytes, ip.ninner, spec.index_checksum)
    n = len(plan.keys)
    nbatches = -(-n // max(1, BUFFER_BATCH_BYTES // bound))
    per_batch = -(-n // nbatches)  # batches of equal size: no lone shard left for one thread
    sizes = np.zeros(n, np.int64)
    for lo in range(0, n, per_batch):
        hi = min(n, lo + per_batch)
        arena = np.empty((hi - lo, bound), np.uint8)  # one allocation for the batch
        bufs = list(arena)
        _run(pipe, ip, kind, plan, value, bufs, b"", status, sizes, lo, hi)
        done = [i for i in range(lo, hi) if status[i] == 0]
        pipe.store.set_many([(plan.keys[i], bufs[i - lo][:sizes[i]].tobytes()) for i in done])
