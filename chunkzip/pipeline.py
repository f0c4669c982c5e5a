"""The codec chain of one array, applied to batches of chunks on a thread pool.

Reads: fetch each chunk, decode it (straight into the output when the chunk is wholly
selected and the output region has the chunk's layout), otherwise into a per-thread
scratch chunk, then copy the selected part. Writes: whole chunks are encoded straight
from the value; partial chunks are read, modified and written back under the
synchronizer's lock for that key. With ``write_empty_chunks=False`` chunks equal to the
fill value are deleted instead of stored.
"""
from __future__ import annotations

import contextlib
import contextvars
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from . import config
from .metadata import ArrayMeta
from .storage.batching import WRITE_BATCH_CHUNKS, ChunkBatch, wants_batches

# ----------------------------------------------------------------------------- thread pool
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_pid = os.getpid()


def _get_pool() -> tuple[ThreadPoolExecutor, int]:
    global _pool, _pool_size, _pid
    n = config.get("threads")
    with _pool_lock:
        if _pool is None or _pool_size != n or _pid != os.getpid():
            if _pool is not None and _pid == os.getpid():
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="chunkzip")
            _pool_size, _pid = n, os.getpid()
        return _pool, _pool_size


_in_worker = threading.local()

#: Kernel calls in flight for batches that wait on the file system (new chunk files):
#: file creation is latency-bound, so more of them than cores pay (measured on this
#: project's 2-core machine, 1,000 new 16 KB chunk files: 2 threads 1.39 s, 4 1.11 s,
#: 8 0.95 s, 16 1.26 s).  Used only when the chunk pool has more than one thread.
IO_THREADS = 8
_io_pool: ThreadPoolExecutor | None = None
_io_pid = 0


def _get_io_pool() -> tuple[ThreadPoolExecutor, int]:
    """The pool for file-bound kernels (``IO_THREADS`` threads, made on first use)."""
    global _io_pool, _io_pid
    with _pool_lock:
        if _io_pool is None or _io_pid != os.getpid():
            _io_pool = ThreadPoolExecutor(max_workers=IO_THREADS - 1, thread_name_prefix="chunkzip-io")
            _io_pid = os.getpid()
        return _io_pool, IO_THREADS


# Chunks smaller than this are handled inline: their work is mostly Python bookkeeping
# under the GIL, and a second thread only adds contention (measured: 1000 chunks of 4 KiB
# read in 26 ms on one thread, 36 ms on two).
PARALLEL_MIN_CHUNK_BYTES = 32 * 1024

#: Reads of arrays whose chunks ``_ext._copy`` decodes (no compression or one Blosc
#: stage) go through its batch kernel; False forces the generic per-chunk path (tests
#: compare the two).
FAST_READ = True


def run_batched(fn: Callable[[Any], None], items: Sequence[Any], item_bytes: int = PARALLEL_MIN_CHUNK_BYTES) -> None:
    """Call ``fn(item)`` for every item, spread over the chunk pool.

    Items are grouped into a few tasks per thread (not one task per chunk) to keep the
    scheduling cost per chunk low, claimed one at a time (alternating between distant
    stretches of the items) by the calling thread and the pool's (helpers that have not
    started when all are claimed are cancelled); a single item, small items
    (``item_bytes`` below ``PARALLEL_MIN_CHUNK_BYTES``), or a call made from inside a pool
    worker, run inline.
    """
    n = len(items)
    if n == 0:
        return
    pool, nthreads = _get_pool()
    if n == 1 or nthreads == 1 or item_bytes < PARALLEL_MIN_CHUNK_BYTES or getattr(_in_worker, "active", False):
        for it in items:
            fn(it)
        return
    ntasks = min(n, nthreads * 4)
    bounds = [n * i // ntasks for i in range(ntasks + 1)]
    # claimed round-robin over nthreads stretches of the items, so that threads running at
    # the same time work on distant items: each thread first-touches its own pages of a
    # fresh output instead of both faulting in (and waiting on) the same huge pages
    # (a 64 MiB sharded read: 18.2 -> 15.8 ms median, A/B in one process)
    per = -(-ntasks // nthreads)
    order = [s * per + k for k in range(per) for s in range(nthreads) if s * per + k < ntasks]
    next_task = itertools.count()  # tasks are claimed one by one (next() is atomic under the GIL)
    errors: list[BaseException] = []

    def work() -> None:
        # claim tasks until none is left; a failing task does not stop the others, so that
        # every task has run (as before) when the first error is raised
        was, _in_worker.active = getattr(_in_worker, "active", False), True
        try:
            for i in iter(next_task.__next__, None):
                if i >= ntasks:
                    return
                i = order[i]
                try:
                    for it in items[bounds[i]:bounds[i + 1]]:
                        fn(it)
                except BaseException as e:
                    errors.append(e)
        finally:
            _in_worker.active = was

    # helpers run in a copy of the caller's context (``with config.set(...)`` values); the
    # caller works too, and a helper that has not started once every task is claimed (a
    # busy pool or machine) is cancelled, not waited for
    futures = [pool.submit(contextvars.copy_context().run, work) for _ in range(min(nthreads, ntasks) - 1)]
    work()
    for f in futures:
        if f.cancel():
            continue
        try:
            f.result()
        except BaseException as e:
            errors.append(e)
    if errors:
        raise errors[0]


# ----------------------------------------------------------------------------- chunk codec
class ChunkDecodeError(ValueError):
    """A stored chunk did not decode to the array's chunk shape and dtype."""


class ChunkCodec:
    """Encode and decode single chunks of one array."""

    def __init__(self, meta: ArrayMeta) -> None:
        self.meta = meta
        self.shape = meta.chunks
        self.dtype = meta.dtype
        self.order = meta.order if len(meta.chunks) > 1 else "C"
        self.is_object = meta.dtype.kind == "O"
        self.stages = list(meta.filters) + ([meta.serializer] if meta.serializer else []) + list(meta.compressors)
        if self.is_object or meta.zarr_format == 2 or meta.dtype.byteorder == "|" or meta.dtype.fields is not None:
            self.raw_dtype = meta.dtype
        else:
            self.raw_dtype = meta.dtype.newbyteorder(meta.endian)
        self.count = math.prod(self.shape)
        self.nbytes = self.count * meta.dtype.itemsize
        # decode straight into a caller's buffer: raw layout equals the array's layout
        self.direct = (not self.is_object and self.raw_dtype == self.dtype
                       and len(self.stages) <= 1 and all(hasattr(s, "decode") for s in self.stages))
        # the first bytes→bytes stage to decode into a buffer of the size it must produce
        # (a bound on every decoder: a decompression bomb fails at one chunk's size)
        self._bounded_stage = len(meta.filters) + (1 if meta.serializer else 0)
        self._bounded_nbytes = encoded_filters_nbytes(meta, self.count) \
            if meta.compressors and meta.serializer is None and not self.is_object else None
        #: largest stored chunk that can be valid (None: unknown, e.g. object chunks):
        #: compressors and checksums add well under 1 % + a few KiB to what they encode
        raw = encoded_filters_nbytes(meta, self.count) \
            if meta.serializer is None and not self.is_object else None
        self.max_stored_nbytes = None if raw is None else 2 * raw + (64 << 10)

    # -- encode --------------------------------------------------------------------------
    def encode(self, chunk: np.ndarray) -> bytes:
        if self.is_object:
            data: Any = chunk.reshape(-1, order=self.order)
        else:
            if chunk.dtype != self.raw_dtype:
                chunk = chunk.astype(self.raw_dtype)
            data = chunk.ravel(order=self.order)
        for codec in self.stages:
            data = codec.encode(data)
        if isinstance(data, np.ndarray):
            return data.tobytes()
        return bytes(data) if not isinstance(data, bytes) else data

    # -- decode --------------------------------------------------------------------------
    def decode(self, raw: Any, key: str, out: np.ndarray | None = None) -> np.ndarray:
        """Decode chunk ``key``; ``out`` (chunk-shaped, writable, in the chunk's order)
        receives the data when given and the layout allows it."""
        try:
            if out is not None and self.direct:
                target = out.reshape(-1, order=self.order)  # a view: out is contiguous
                if self.stages:
                    self.stages[0].decode(raw, out=target)
                else:
                    if len(raw) != self.nbytes:
                        raise ChunkDecodeError(f"expected {self.nbytes} bytes, got {len(raw)}")
                    target.view(np.uint8)[:] = np.frombuffer(raw, dtype=np.uint8)
                return out
            data = raw
            for i in range(len(self.stages) - 1, -1, -1):
                codec = self.stages[i]
                if i == self._bounded_stage and self._bounded_nbytes is not None:
                    data = codec.decode(data, out=np.empty(self._bounded_nbytes, np.uint8))
                else:
                    data = codec.decode(data)
        except ChunkDecodeError as e:
            raise ChunkDecodeError(f"chunk {key!r}: {e}") from None
        except Exception as e:
            raise ChunkDecodeError(f"chunk {key!r} could not be decoded: {type(e).__name__}: {e}") from e
        if self.is_object:
            arr = np.asarray(data, dtype=object) if not isinstance(data, np.ndarray) else data
            if arr.size != self.count:
                raise ChunkDecodeError(f"chunk {key!r} decoded to {arr.size} items, expected {self.count}")
            arr = arr.reshape(self.shape, order=self.order)
        else:
            if isinstance(data, np.ndarray) and data.dtype != np.uint8 and data.dtype.itemsize == self.raw_dtype.itemsize \
                    and data.dtype.kind == self.raw_dtype.kind:
                flat = data.reshape(-1)
            else:
                buf = data if not isinstance(data, np.ndarray) else np.ascontiguousarray(data).reshape(-1).view(np.uint8)
                if memoryview(buf).nbytes != self.nbytes:
                    raise ChunkDecodeError(
                        f"chunk {key!r} decoded to {memoryview(buf).nbytes} bytes, expected {self.nbytes} "
                        f"({self.shape} x {self.dtype.itemsize})")
                flat = np.frombuffer(buf, dtype=self.raw_dtype)
            if flat.size != self.count:
                raise ChunkDecodeError(f"chunk {key!r} decoded to {flat.size} items, expected {self.count}")
            arr = flat.reshape(self.shape, order=self.order)
            if arr.dtype != self.dtype:
                arr = arr.astype(self.dtype)
        if out is not None:
            out[...] = arr
            return out
        return arr


def encoded_filters_nbytes(meta: ArrayMeta, count: int) -> int | None:
    """Bytes the filters make of a chunk of ``count`` elements (what the first compressor
    decodes to), or None when a filter's output size depends on the data."""
    nbytes = count * meta.dtype.itemsize
    for f in meta.filters:
        if f.codec_id in ("shuffle", "bitround"):
            continue
        enc = getattr(f, "astype", None) or getattr(f, "encode_dtype", None)
        if enc is None or f.codec_id not in ("delta", "fixedscaleoffset", "quantize", "astype"):
            return None
        nbytes = count * np.dtype(enc).itemsize
    return nbytes


def get_chunk(store: Any, key: str, codec: Any) -> Any:
    """``store.get(key)`` bounded by the codec's ``max_stored_nbytes`` (the store's
    ``get_bounded``; directory stores refuse by size before reading): a value larger than
    any valid chunk is a ChunkDecodeError naming the key, not a huge allocation."""
    max_nbytes = getattr(codec, "max_stored_nbytes", None)
    get_bounded = getattr(store, "get_bounded", None)
    if max_nbytes is None or get_bounded is None:
        return store.get(key)
    try:
        return get_bounded(key, max_nbytes)
    except ValueError as e:
        raise ChunkDecodeError(f"chunk {key!r} could not be read: {e}") from None


def check_stored_size(raw: Any, key: str, codec: Any) -> Any:
    """``raw`` (a stored chunk, or None), refused with a ChunkDecodeError naming the key
    when it is larger than the codec's ``max_stored_nbytes`` (what :func:`get_chunk`
    checks for values fetched one at a time)."""
    max_nbytes = getattr(codec, "max_stored_nbytes", None)
    if raw is not None and max_nbytes is not None and len(raw) > max_nbytes:
        raise ChunkDecodeError(f"chunk {key!r} could not be read: it holds {len(raw)} bytes, more than a valid "
                               f"chunk can ({max_nbytes})")
    return raw


def put(chunk: np.ndarray, selection: Any, value: Any) -> None:
    """``chunk[selection] = value``, with an all-integer selection taken as a 0-d view, so
    that a 0-d object value holding a list or an array is stored as one item."""
    if isinstance(selection, tuple) and all(isinstance(s, (int, np.integer)) for s in selection):
        chunk[selection + (Ellipsis,)] = value
    else:
        chunk[selection] = value


def is_fill(chunk: np.ndarray, fill: Any) -> bool:
    """True when every element of ``chunk`` equals ``fill`` (NaN equals NaN)."""
    if chunk.dtype.kind == "O":
        return all((v is fill) or (v == fill) for v in chunk.ravel())  # object chunks only
    if fill is None:
        fill = np.zeros((), chunk.dtype)[()]
    if chunk.dtype.kind in "fc" and np.isnan(fill):
        return bool(np.isnan(chunk).all())
    if chunk.dtype.kind in "mM" and np.isnat(np.array(fill, chunk.dtype)):
        return bool(np.isnat(chunk).all())
    return bool(np.all(chunk == np.array(fill, dtype=chunk.dtype)))


def _slice_tables(ps: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Index tables of one dimension's projections when all are slice -> slice:
    concatenated in-chunk and output indices, per projection the number of entries
    stored, its length and its run flag.  A run (step 1) stores only its first index
    (see ``_copy.read_product``'s ``plen``), so the tables grow with the number of
    chunks, not of elements."""
    starts = np.fromiter((p.chunk_sel.start for p in ps), np.int64, len(ps))
    steps = np.fromiter((p.chunk_sel.step or 1 for p in ps), np.int64, len(ps))
    ostarts = np.fromiter((p.out_sel.start for p in ps), np.int64, len(ps))
    ostops = np.fromiter((p.out_sel.stop for p in ps), np.int64, len(ps))
    n = ostops - ostarts
    run = steps == 1
    if run.all():
        return starts, ostarts, np.ones(len(ps), np.int64), n, run
    stored = np.where(run, 1, n)
    total = int(stored.sum())
    first = np.zeros(len(ps), np.int64)
    np.cumsum(stored[:-1], out=first[1:])
    pos = np.arange(total, dtype=np.int64) - np.repeat(first, stored)  # position within projection
    src = np.repeat(starts, stored) + pos * np.repeat(steps, stored)
    dst = np.repeat(ostarts, stored) + pos
    return src, dst, stored, n, run


_NO_POSITIONS = np.zeros(0, np.int64)  # read_points: points go to out[i] in order

#: Reads from stores that stream (``streams_reads``: remote stores) decode each group of
#: chunks as its bytes arrive; False waits for the whole batch first (benchmarks and
#: tests compare the two).
STREAM_READS = True


def _point_rows(bounds: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the chunks ``rows`` of a point batch (chunk k's points are
    ``bounds[k]:bounds[k + 1]``): their bounds as a batch of their own, and the
    positions of their points in the whole batch."""
    lens = bounds[rows + 1] - bounds[rows]
    sub = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lens, out=sub[1:])
    elem = np.repeat(bounds[rows] - sub[:-1], lens) + np.arange(sub[-1], dtype=np.int64)
    return sub, elem


def product_combo(counts: list[int]) -> np.ndarray:
    """``combo`` of ``_copy.read_product``: per chunk of the Cartesian product (C order)
    of ``counts[d]`` projections per dimension, its projection id along each dimension
    (ids numbered dimension after dimension); built in ``_ext._plan``."""
    from ._ext import _plan

    return _plan.product_combo(list(counts))
    combo = np.stack(np.unravel_index(np.arange(nchunks, dtype=np.int64), counts), axis=1)
    combo += np.cumsum([0] + counts[:-1])
    return combo


# ----------------------------------------------------------------------------- batched I/O
class Pipeline:
    """Chunk reads and writes of one array on its store."""

    def __init__(self, meta: ArrayMeta, store: Any, prefix: str, synchronizer: Any = None,
                 write_empty_chunks: bool = True) -> None:
        self.meta = meta
        self.store = store
        self.prefix = prefix
        if meta.sharding is not None:
            from .sharding import ShardCodec

            self.codec: Any = ShardCodec(meta)
        else:
            self.codec = ChunkCodec(meta)
        self.synchronizer = synchronizer
        self.write_empty_chunks = write_empty_chunks
        self.fill = meta.fill_value if meta.fill_value is not None or meta.dtype.kind == "O" \
            else np.zeros((), meta.dtype)[()]
        self._kernel_kind_cached = self._kernel_kind()

    def key(self, coords: tuple[int, ...]) -> str:
        return self.prefix + self.meta.chunk_key(coords)

    def _lock(self, key: str):
        if self.synchronizer is None:
            return contextlib.nullcontext()
        return self.synchronizer[key]

    def empty_chunk(self) -> np.ndarray:
        chunk = np.empty(self.meta.chunks, dtype=self.meta.dtype, order=self.codec.order)
        chunk[...] = self.fill
        return chunk

    # -- batched read kernel -------------------------------------------------------------
    def _kernel_kind(self) -> int | None:
        """RAW / BLOSC when ``_ext._copy`` can decode this array's chunks itself (no
        compression, or one Blosc stage; stored layout equals the in-memory one)."""
        codec = self.codec
        dt = codec.dtype
        if self.meta.sharding is not None or codec.is_object or dt.hasobject or dt.itemsize == 0 or codec.raw_dtype != dt:
            return None
        if not codec.stages:
            return 0
        if len(codec.stages) == 1:
            from .codecs.blosc import Blosc

            if type(codec.stages[0]) is Blosc:
                return 1
        return None

    def _keys(self, per_dim_coords: list[list[int]]) -> list[str]:
        """Keys of the Cartesian product of per-dimension chunk indices."""
        meta = self.meta
        if not per_dim_coords:
            return [self.key(())]
        sep = meta.separator
        head = self.prefix + ("c" + sep if meta.key_encoding == "default" else "")
        strs = [[str(c) for c in cs] for cs in per_dim_coords]
        if len(strs) == 1:
            return [head + x for x in strs[0]]
        return [head + sep.join(t) for t in itertools.product(*strs)]

    def _point_keys(self, chunk_coords: list) -> list[str]:
        """Keys of the chunks (grid coordinates) of a point selection."""
        meta = self.meta
        sep = meta.separator
        head = self.prefix + ("c" + sep if meta.key_encoding == "default" else "")
        return [head + sep.join(map(str, cc)) for cc in chunk_coords]

    def _sources(self, keys: list[str]) -> tuple[list, bool]:
        paths = getattr(self.store, "local_paths", None)
        if paths is not None:
            return paths(keys), True
        return self.store.get_many(keys), False

    def _source_batches(self, keys: Any) -> Iterator[tuple[np.ndarray | None, list, bool]]:
        """The kernel's sources for ``keys`` as ``(rows, sources, from_files)`` groups:
        ``rows`` None for all keys at once (in order), otherwise the positions in
        ``keys`` of this group's sources. Stores that stream (``streams_reads``, remote
        ones) yield each group as its bytes arrive, so that the kernel decodes it while
        the rest is still on the wire."""
        store = self.store
        if not STREAM_READS or len(keys) < 2 or not getattr(store, "streams_reads", False) \
                or getattr(store, "local_paths", None) is not None:
            yield (None, *self._sources(keys))
            return
        with contextlib.closing(store.iter_batches(keys)) as groups:  # an early exit cancels the fetches
            for group in groups:
                yield np.fromiter((i for i, _ in group), np.int64, len(group)), [v for _, v in group], False

    def _run_source_batches(self, keys: Any, part: Callable[[np.ndarray | None, list, bool], int]) -> int:
        """``part(rows, sources, from_files)`` (a kernel call that returns the chunks it left
        to the generic path) for each group of :meth:`_source_batches`; the total left."""
        left = 0
        with contextlib.closing(self._source_batches(keys)) as groups:  # an error stops the fetches at once
            for rows, sources, from_files in groups:
                left += part(rows, sources, from_files)
        return left

    def _fast_read(self, indexer: Any, out: np.ndarray) -> bool:
        """Read through ``_ext._copy`` (one nogil call per batch of chunks); False when
        this array or selection needs the generic per-chunk path."""
        kind = self._kernel_kind_cached
        if kind is None or not FAST_READ or out.dtype != self.meta.dtype or not out.flags.c_contiguous \
                or not out.flags.writeable or not out.flags.aligned:
            return False
        dims = getattr(indexer, "dim_projections", None)
        dims = dims() if dims is not None else None
        if dims is not None:
            self._read_product(kind, dims, out, indexer)
            return True
        groups = getattr(indexer, "point_groups", None)
        groups = groups() if groups is not None else None
        if groups is not None and out.ndim == 1:
            self._read_points(kind, groups, out, indexer)
            return True
        return False

    def _run_kernel(self, fn: Callable[[], int], nchunks: int, blocking_io: bool = False) -> int:
        """Run ``fn`` (a kernel call that takes chunks from a shared counter) on the
        calling thread and, for big enough batches (any batch when ``blocking_io``:
        file writes wait in system calls), on the pool's other threads too; return
        the number of chunks left to the generic path."""
        total = nchunks * self.codec.nbytes
        if nchunks < 2 or (total < 4 * PARALLEL_MIN_CHUNK_BYTES and not blocking_io) \
                or getattr(_in_worker, "active", False):
            return fn()
        pool, nthreads = _get_pool()
        if blocking_io and nthreads > 1:
            pool, nthreads = _get_io_pool()
        futures = [pool.submit(contextvars.copy_context().run, fn) for _ in range(min(nthreads, nchunks) - 1)]
        errors = []
        nfail = 0
        try:
            nfail += fn()  # the calling thread starts at once; helpers join when they wake
        except BaseException as e:
            errors.append(e)
        for f in futures:
            # fn returns once every chunk is taken: a helper that has not started yet (still
            # waking up, or queued behind other work on a busy machine) would find none left,
            # so it is cancelled instead of waited for; one that started may hold a chunk
            if f.cancel():
                continue
            try:
                nfail += f.result()
            except BaseException as e:
                errors.append(e)
        if errors:
            raise errors[0]
        return nfail

    @staticmethod
    def _blosc_threads(kind: int, nchunks: int) -> int:
        """Blosc threads for the kernel: a single chunk may use several (the
        ``blosc.use_threads`` / ``set_nthreads`` knobs); batches use the chunk pool."""
        if kind != 1 or nchunks != 1:
            return 1
        from .codecs.blosc import _threads_for_call

        return _threads_for_call()

    def _fallback(self, nfail: int, status: np.ndarray, indexer: Any, out: np.ndarray) -> None:
        if nfail:
            projs = list(indexer)
            self._read_generic([projs[i] for i in np.flatnonzero(status).tolist()], out)

    def chunk_strides(self) -> list[int]:
        """Strides (bytes) of a chunk in its memory order."""
        cshape = self.meta.chunks
        cstr = [0] * len(cshape)
        acc = self.meta.dtype.itemsize
        for d in (range(len(cshape) - 1, -1, -1) if self.codec.order == "C" else range(len(cshape))):
            cstr[d] = acc
            acc *= cshape[d]
        return cstr

    @property
    def _fill_bytes(self) -> bytes:
        fb = self.__dict__.get("_fill_b")
        if fb is None:
            fb = self.__dict__["_fill_b"] = np.array(self.fill, dtype=self.meta.dtype).tobytes()
        return fb

    def _read_product(self, kind: int, dims: list, out: np.ndarray, indexer: Any) -> None:
        nchunks = 1
        for ps in dims:
            nchunks *= len(ps)
        if nchunks == 0:
            return
        # per-dimension tables of in-chunk / output indices (a run: its first index only)
        srcs, dsts, stored, lens, runs = [], [], [], [], []
        out_strides = []
        axis = 0
        for ps in dims:
            dropped = bool(ps) and ps[0].out_sel is None
            out_strides.append(0 if dropped else out.strides[axis])
            axis += 0 if dropped else 1
            if len(ps) > 4 and all(type(p.chunk_sel) is slice and type(p.out_sel) is slice for p in ps):
                # many slice projections (a long axis of small chunks): one vectorised pass
                src, dst, nst, n, run = _slice_tables(ps)
                srcs.append(src)
                dsts.append(dst)
                stored.extend(nst.tolist())
                lens.extend(n.tolist())
                runs.extend(run.tolist())
                continue
            for p in ps:
                cs, os_ = p.chunk_sel, p.out_sel
                if type(cs) is slice:
                    st = cs.step or 1
                    src = np.arange(cs.start, cs.stop, st, dtype=np.int64)
                    run = st == 1
                elif isinstance(cs, np.ndarray):
                    src = cs.astype(np.int64, copy=False)
                    run = False
                else:
                    src = np.array([cs], dtype=np.int64)
                    run = True
                if os_ is None:
                    dst = np.zeros(1, dtype=np.int64)
                elif type(os_) is slice:
                    dst = np.arange(os_.start, os_.start + len(src), dtype=np.int64)
                else:
                    dst = os_.astype(np.int64, copy=False)
                    run = False
                n = len(src)
                if run and n > 1:
                    src, dst = src[:1], dst[:1]
                srcs.append(src)
                dsts.append(dst)
                stored.append(len(src))
                lens.append(n)
                runs.append(run)
        off = np.zeros(len(stored) + 1, dtype=np.int64)
        np.cumsum(stored, out=off[1:])
        plen = np.array(lens, dtype=np.int64)
        src_idx = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
        dst_idx = np.concatenate(dsts) if dsts else np.zeros(0, np.int64)
        run_arr = np.array(runs, dtype=np.uint8)
        self._run_product(kind, [[p.chunk for p in ps] for ps in dims], out, out_strides,
                          (off, src_idx, dst_idx, run_arr, plen), indexer)

    def _run_product(self, kind: int, chunk_ids: list, out: np.ndarray, out_strides: list,
                     tables: tuple, indexer: Any) -> None:
        """The kernel over the Cartesian product of the per-dimension chunk indices
        ``chunk_ids``; ``tables`` = ``(off, src_idx, dst_idx, run, plen)`` describe the
        per-dimension projections, numbered dimension after dimension (see
        :meth:`_read_product` and ``_copy.read_product``)."""
        from ._ext import _copy

        meta = self.meta
        off, src_idx, dst_idx, run_arr, plen = tables
        counts = [len(c) for c in chunk_ids]
        nchunks = math.prod(counts)
        if nchunks == 0:
            return
        combo = product_combo(counts)
        keys = self._keys(chunk_ids)
        cshape, cstr = meta.chunks, self.chunk_strides()
        fill = self._fill_bytes
        status = np.zeros(nchunks, dtype=np.uint8)

        nthreads = self._blosc_threads(kind, nchunks)

        def part(rows: np.ndarray | None, sources: list, from_files: bool) -> int:
            # rows: the chunks (rows of combo) these sources belong to; None: all of them
            cmb, st = (combo, status) if rows is None else (np.ascontiguousarray(combo[rows]),
                                                            np.zeros(len(rows), np.uint8))
            counter = np.zeros(1, dtype=np.int64)

            def fn() -> int:
                return _copy.read_product(sources, from_files, kind, out, cshape, cstr, out_strides, fill,
                                          cmb, off, src_idx, dst_idx, run_arr, st, counter, nthreads, plen)

            left = self._run_kernel(fn, len(sources))
            if rows is not None:
                status[rows] = st
            return left

        self._fallback(self._run_source_batches(keys, part), status, indexer, out)

    def _read_points(self, kind: int, groups: tuple, out: np.ndarray, indexer: Any) -> None:
        from ._ext import _copy

        meta, codec = self.meta, self.codec
        order, local, lin, bounds, chunk_coords = groups
        nchunks = len(chunk_coords)
        if codec.order == "C" or len(meta.chunks) < 2:
            flat = lin
        else:
            flat = np.ravel_multi_index(local, meta.chunks, order="F")
        flat = flat.astype(np.int64, copy=False)
        dpos = np.zeros(0, np.int64) if order is None else order.astype(np.int64, copy=False)
        bnd = np.asarray(bounds, dtype=np.int64)
        fill = self._fill_bytes
        status = np.zeros(nchunks, dtype=np.uint8)

        nthreads = self._blosc_threads(kind, nchunks)

        def part(rows: np.ndarray | None, sources: list, from_files: bool) -> int:
            if rows is None:
                b, f, d, st = bnd, flat, dpos, status
            else:  # these chunks' points, in the same order, with their output positions
                b, elem = _point_rows(bnd, rows)
                f, d, st = flat[elem], (elem if len(dpos) == 0 else dpos[elem]), np.zeros(len(rows), np.uint8)
            counter = np.zeros(1, dtype=np.int64)

            def fn() -> int:
                return _copy.read_points(sources, from_files, kind, out, codec.nbytes, fill, b, f, d, st, counter,
                                         nthreads)

            left = self._run_kernel(fn, len(sources))
            if rows is not None:
                status[rows] = st
            return left

        self._fallback(self._run_source_batches(self._point_keys(chunk_coords), part), status, indexer, out)

    def read_item(self, selection: Any) -> Any:
        """``z[i, j, ...]`` for one element: the kernel reads its chunk and decodes only
        the Blosc blocks that hold the element, without building an indexer.

        Returns the element (a NumPy scalar), or None when the selection is not one
        in-bounds integer per dimension or the array needs the general path."""
        if self.meta.sharding is not None:
            from .sharded_io import read_item_sharded

            return read_item_sharded(self, selection)
        kind = self._kernel_kind_cached
        meta = self.meta
        if kind is None or not FAST_READ:
            return None
        index = selection if type(selection) is tuple else (selection,)
        if len(index) != len(meta.shape) or not index:
            return None
        coords, flat = [], 0
        for i, n, c in zip(index, meta.shape, meta.chunks):
            if type(i) is not int:
                if isinstance(i, (bool, np.bool_)) or not isinstance(i, np.integer):
                    return None
                i = int(i)
            if i < 0:
                i += n
            if not 0 <= i < n:
                return None  # the general path raises NumPy's IndexError
            q, r = divmod(i, c)
            coords.append(q)
            flat = flat * c + r
        if self.codec.order == "F" and len(index) > 1:
            flat = 0
            for i, n, c in reversed(list(zip(index, meta.shape, meta.chunks))):
                flat = flat * c + int(i) % n % c
        from ._ext import _copy

        sources, from_files = self._sources([self.key(tuple(coords))])
        out = np.empty(1, meta.dtype)
        status = np.zeros(1, np.uint8)
        if _copy.read_points(sources, from_files, kind, out, self.codec.nbytes, self._fill_bytes,
                             np.array([0, 1], np.int64), np.array([flat], np.int64), _NO_POSITIONS,
                             status, np.zeros(1, np.int64), 1):
            return None
        return out[0]

    # -- read ----------------------------------------------------------------------------
    def read(self, projections: Iterable[Any], out: np.ndarray) -> None:
        """Fill ``out`` from the chunks the projections name."""
        if self.meta.sharding is not None:
            from .sharded_io import read_sharded

            if read_sharded(self, projections, out):
                return
        if self._fast_read(projections, out):
            return
        self._read_generic(projections, out)

    def _read_generic(self, projections: Iterable[Any], out: np.ndarray) -> None:
        projs = list(projections)
        store, codec, key_of, fill = self.store, self.codec, self.key, self.fill
        streams = STREAM_READS and getattr(store, "streams_reads", False) and len(projs) > 1
        if getattr(store, "batched_io", False) and len(projs) > 1 and not streams:  # remote: one concurrent fetch
            store = ChunkBatch(store, [key_of(p.chunk_coords) for p in projs])
        chunk_shape = self.meta.chunks
        order_ok = "C_CONTIGUOUS" if codec.order == "C" else "F_CONTIGUOUS"

        def one(p: Any) -> None:
            key = key_of(p.chunk_coords)
            place(p, key, get_chunk(store, key, codec))

        def place(p: Any, key: str, raw: Any) -> None:
            if raw is None:
                out[p.out_selection] = fill
                return
            sel = p.out_selection
            if p.is_complete_chunk and codec.direct and isinstance(sel, tuple) and all(
                    type(s) is slice for s in sel):
                target = out[sel + (Ellipsis,)]  # a view, also for 0-d arrays
                if target.shape == chunk_shape and target.flags[order_ok]:
                    codec.decode(raw, key, out=target)
                    return
            chunk = codec.decode(raw, key)
            out[p.out_selection] = chunk[p.chunk_selection]

        if not streams:
            run_batched(one, projs, codec.nbytes)
            return
        # remote: the chunks are fetched concurrently, and each group decoded on the pool
        # as it arrives (a chunk that several projections read is fetched once)
        keys: dict[str, list[int]] = {}
        for j, p in enumerate(projs):
            keys.setdefault(key_of(p.chunk_coords), []).append(j)
        names = list(keys)
        members = list(keys.values())
        with contextlib.closing(store.iter_batches(names)) as groups:  # an error stops the fetches at once
            for group in groups:
                items = [(projs[j], names[i], check_stored_size(raw, names[i], codec)) for i, raw in group
                         for j in members[i]]
                run_batched(lambda item: place(*item), items, codec.nbytes)

    def read_chunk(self, coords: tuple[int, ...]) -> np.ndarray | None:
        key = self.key(coords)
        raw = get_chunk(self.store, key, self.codec)
        return None if raw is None else self.codec.decode(raw, key)

    # -- write ---------------------------------------------------------------------------
    def write(self, projections: Iterable[Any], value: Any, scalar: bool, _store: Any = None) -> None:
        """Write ``value`` (an array laid out like the projections' output, or a scalar)."""
        if not scalar and isinstance(value, np.ndarray):
            from .chunk_writer import write_whole_chunks

            if self.meta.sharding is not None:
                from .shard_writer import write_whole_shards

                rest = write_whole_shards(self, projections, value)
            else:
                rest = write_whole_chunks(self, projections, value)
            if rest is not None:
                projections = rest
        projs = list(projections)
        if _store is None and wants_batches(self.store, self.synchronizer):
            # remote: each batch's partial chunks fetched at once, its chunks sent at once
            for lo in range(0, len(projs), WRITE_BATCH_CHUNKS):
                part = projs[lo:lo + WRITE_BATCH_CHUNKS]
                batch = ChunkBatch(self.store, [self.key(p.chunk_coords) for p in part if not p.is_complete_chunk])
                self.write(part, value, scalar, _store=batch)
                batch.flush()
            return
        meta, codec, store, key_of = self.meta, self.codec, self.store if _store is None else _store, self.key
        full_cache: dict[str, bytes | None] = {}  # a scalar written to whole chunks encodes once
        cache_lock = threading.Lock()

        def store_chunk(key: str, chunk: np.ndarray) -> None:
            if not self.write_empty_chunks and is_fill(chunk, self.fill):
                store.delete(key)
            else:
                store.set(key, codec.encode(chunk))

        def one(p: Any) -> None:
            key = key_of(p.chunk_coords)
            if p.is_complete_chunk:
                if scalar:
                    edge = any((c + 1) * n > s for c, n, s in zip(p.chunk_coords, meta.chunks, meta.shape))
                    sig = "edge" if edge else "full"
                    if not edge:
                        with cache_lock:
                            cached = full_cache.get(sig, False)
                        if cached is False:
                            chunk = np.empty(meta.chunks, dtype=meta.dtype, order=codec.order)
                            chunk[...] = value
                            cached = None if (not self.write_empty_chunks and is_fill(chunk, self.fill)) \
                                else codec.encode(chunk)
                            with cache_lock:
                                full_cache[sig] = cached
                        with self._lock(key):
                            if cached is None:
                                store.delete(key)
                            else:
                                store.set(key, cached)
                        return
                    chunk = self.empty_chunk()
                    put(chunk, p.chunk_selection, value)
                else:
                    part = value[p.out_selection]
                    if part.shape == meta.chunks and isinstance(p.chunk_selection, tuple) and all(
                            isinstance(s, slice) for s in p.chunk_selection):
                        chunk = part
                    else:
                        chunk = self.empty_chunk()
                        put(chunk, p.chunk_selection, part)
                with self._lock(key):
                    store_chunk(key, chunk)
                return
            with self._lock(key):
                raw = get_chunk(store, key, self.codec)
                if raw is None:
                    chunk = self.empty_chunk()
                else:
                    chunk = codec.decode(raw, key)
                    if not chunk.flags.writeable:
                        chunk = chunk.copy(order="K")
                put(chunk, p.chunk_selection, value if scalar else value[p.out_selection])
                store_chunk(key, chunk)

        # file writes wait in system calls (inode allocation, rename) without the GIL:
        # a second thread encodes meanwhile (measured: 1000 chunks of 4 KiB on
        # LocalStore 0.169 s inline, 0.146 s on two threads)
        item_bytes = codec.nbytes
        if getattr(store, "blocking_io", False):
            item_bytes = max(item_bytes, PARALLEL_MIN_CHUNK_BYTES)
        run_batched(one, projs, item_bytes)

    # -- maintenance ---------------------------------------------------------------------
    def chunk_keys(self) -> list[str]:
        """Keys of the chunks that are stored (metadata files excluded)."""
        meta = self.meta
        keys = []
        if meta.key_encoding == "default":
            start = self.prefix + "c"
            for k in self.store.list_prefix(start):
                rest = k[len(start):]
                if rest == "" or rest.startswith(meta.separator):
                    keys.append(k)
            return keys
        for k in self.store.list_prefix(self.prefix):
            rest = k[len(self.prefix):]
            parts = rest.split(meta.separator)
            if rest and all(p.isdigit() for p in parts) and len(parts) == max(1, len(meta.shape)):
                keys.append(k)
        return keys

    def parse_key(self, key: str) -> tuple[int, ...] | None:
        rest = key[len(self.prefix):]
        if self.meta.key_encoding == "default":
            rest = rest[1:].lstrip(self.meta.separator) if rest.startswith("c") else None
            if rest is None:
                return None
            if rest == "":
                return ()
        parts = rest.split(self.meta.separator)
        if not all(p.isdigit() for p in parts):
            return None
        coords = tuple(int(p) for p in parts)
        return () if len(self.meta.shape) == 0 else coords
