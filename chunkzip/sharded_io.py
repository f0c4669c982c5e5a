"""Fast reads of sharded arrays: only the shard indexes and the inner chunks a
selection needs, decoded by the batched nogil kernel straight from the shard bytes.

The indexers see the stored grid (shards). Boxes (integers and step-1 slices) get
the kernel's tables straight on the inner grid (:func:`_read_box`); other product
selections split each outer projection into inner-chunk projections; points are
grouped once, by inner chunk. Then the fetch is planned per shard:

* a shard whose inner chunks are all needed is read whole, in one call;
* otherwise its index is read (one ranged read, at the start or end), validated in one
  nogil pass (:func:`~chunkzip.sharding.read_index`), and the byte ranges of the needed
  inner chunks read, neighbouring ranges merged into one request; on a remote store
  every index, then every range, goes in one ``get_ranges`` batch.

The kernel (``_ext._copy``) then decodes each inner chunk from its ``(buffer, offset,
length)`` source (product selections, point selections and single elements). Product
selections on local files overlap the two (:func:`run_local`): whole shards are
read, checked and decoded by one pool task each, and the kernel's threads ``pread``
a partial shard's chunks themselves (``(fd, offset, length)`` sources). Inner
chains the kernel does not decode (Zstd, gzip, checksums, strings, ...) use the same
fetch plan for product selections and decode in Python on the pool; their point
selections, and nested sharding, take the whole-shard generic path of
:class:`~chunkzip.sharding.ShardCodec`.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from typing import Any, Callable, Iterator

import numpy as np

from . import pipeline as _pl
from .indexing import CoordinateIndexer, _ArrayDim, _group_points_c, _IntDim, _ProductIndexer, _SliceDim
from .sharding import ShardIndexError, parse_shard, read_index

#: ranges of one shard closer than this are read as one request (the bytes between
#: are read and dropped: cheaper than a second request on any store)
MERGE_GAP = 16 * 1024


class InnerPipeline(_pl.Pipeline):
    """The read kernel's view of a sharded array: chunks are the inner chunks, their
    sources are ranges of shard buffers."""

    def __init__(self, outer: _pl.Pipeline) -> None:
        meta = outer.meta
        spec = meta.sharding
        super().__init__(replace(meta, chunks=spec.chunk_shape, sharding=None), outer.store, outer.prefix,
                         outer.synchronizer, outer.write_empty_chunks)
        self.outer = outer
        self.spec = spec
        self.per = spec.grid(meta.chunks)
        self.ninner = math.prod(self.per)
        self.isz = spec.index_nbytes(self.ninner)
        self.per_arr = np.asarray(self.per, dtype=np.int64)
        # C-order strides of the inner grid of a shard and of the shard grid
        self.local_strides = _c_strides(self.per)
        self.shard_strides = _c_strides(tuple(-(-n // s) for n, s in zip(meta.shape, meta.chunks)))
        # the fewest inner chunks a shard inside the array can hold (edge shards)
        self.ninner_min = math.prod(min(p_, -(-(n_ - (-(-n_ // (p_ * c_)) - 1) * p_ * c_) // c_))
                                    for p_, n_, c_ in zip(self.per, meta.shape, spec.chunk_shape))

    # -- keys and sources ----------------------------------------------------------
    def key(self, coords: tuple[int, ...]) -> tuple[int, ...]:  # type: ignore[override]
        """An inner chunk is named by its coordinates here (``_sources`` resolves them
        to shard ranges); store keys are the outer pipeline's."""
        return coords

    def _keys(self, per_dim_coords: list[list[int]]) -> np.ndarray:  # type: ignore[override]
        """Inner chunk coordinates (rows, C order of the product), not string keys."""
        if all(len(c) == 1 for c in per_dim_coords):
            return np.array([[int(c[0]) for c in per_dim_coords]], dtype=np.int64)
        grids = np.meshgrid(*[np.asarray(c, dtype=np.int64) for c in per_dim_coords], indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1)

    def _point_keys(self, chunk_coords: list) -> np.ndarray:  # type: ignore[override]
        return np.asarray(chunk_coords, dtype=np.int64).reshape(len(chunk_coords), len(self.per))

    def _sources(self, coords: Any) -> tuple[list, bool]:  # type: ignore[override]
        if len(coords) == 1:  # one inner chunk (single elements, small windows): no array set-up
            return [fetch_one(self, tuple(int(x) for x in coords[0]))], False
        return fetch_inner(self, np.asarray(coords, dtype=np.int64).reshape(len(coords), len(self.per))), False

    def _source_batches(self, coords: Any) -> Iterator[tuple[np.ndarray | None, list, bool]]:
        """Sources in groups: from stores that stream, each whole shard's inner chunks
        as soon as the shard arrives (decoded while the others are on the wire)."""
        if not _pl.STREAM_READS or len(coords) < 2 or not getattr(self.store, "streams_reads", False):
            yield (None, *self._sources(coords))
            return
        yield from stream_inner(self, np.asarray(coords, dtype=np.int64).reshape(len(coords), len(self.per)))

    def _run_product(self, kind: int, chunk_ids: list, out: np.ndarray, out_strides: list,  # type: ignore[override]
                     tables: tuple, indexer: Any) -> None:
        counts = [len(c) for c in chunk_ids]
        if math.prod(counts) < 2 or not _reads_local(self.store):
            return super()._run_product(kind, chunk_ids, out, out_strides, tables, indexer)
        from ._ext import _plan

        groups = _plan.box_shards(chunk_ids, self.per, self.meta.shape, self.meta.chunks)
        if groups is None:  # chunk ids out of order along some dimension
            whole, partial = shard_groups(self, self._keys(chunk_ids))
        else:
            whole, partial = [], []
            for sc, pos, loc, is_whole in groups:
                (whole if is_whole else partial).append((self.outer.key(sc), pos, loc))
        run_local(self, kind, whole, partial, _pl.product_combo(counts), out, out_strides, tables, indexer)

    def _fallback(self, nfail: int, status: np.ndarray, indexer: Any, out: np.ndarray) -> None:
        # an inner chunk the kernel could not decode: the generic whole-shard path
        # re-reads the selection and raises the precise error
        if nfail:
            self.outer._read_generic(list(indexer), out)


def _c_strides(shape: tuple[int, ...]) -> np.ndarray:
    st = np.ones(len(shape), dtype=np.int64)
    for d in range(len(shape) - 2, -1, -1):
        st[d] = st[d + 1] * shape[d + 1]
    return st


def _inner_pipeline(outer: _pl.Pipeline) -> InnerPipeline | None:
    d = outer.__dict__
    if "_inner_pipe" not in d:
        d["_inner_pipe"] = InnerPipeline(outer) if outer.meta.sharding.nested is None else None
    return d["_inner_pipe"]


# ----------------------------------------------------------------------------- fetch plan
def fetch_inner(ip: InnerPipeline, coords: np.ndarray) -> list:
    """Sources (``(bytes, offset, length)`` or None) of the inner chunks at ``coords``
    (rows of distinct inner-grid coordinates)."""
    sources: list = [None] * len(coords)
    whole, partial = shard_groups(ip, coords)
    if whole:
        _fetch_whole(ip, whole, sources)
    if partial:
        if getattr(ip.store, "open_ranges", None) is not None:
            _fetch_partial_files(ip, partial, sources)
        else:
            _fetch_partial_batched(ip, partial, sources)
    return sources


def stream_inner(ip: InnerPipeline, coords: np.ndarray) -> Iterator[tuple[np.ndarray | None, list, bool]]:
    """:func:`fetch_inner` as ``(rows, sources, False)`` groups for the kernel (see
    ``Pipeline._source_batches``), for stores that stream: the inner chunks of shards read
    partly come first (indexes, then ranges), then those of each whole shard as soon as its
    bytes arrive."""
    whole, partial = shard_groups(ip, coords)
    if partial:
        rows = np.concatenate([pos for _, pos, _ in partial])
        sources: list = [None] * len(coords)
        _fetch_partial_batched(ip, partial, sources)
        yield rows, [sources[r] for r in rows.tolist()], False
    if not whole:
        return
    with contextlib.closing(ip.store.iter_batches([w[0] for w in whole])) as groups:
        for group in groups:
            rows_l, srcs = [], []
            for i, raw in group:
                key, pos, loc = whole[i]
                sub: list = [None] * len(pos)
                place_whole(ip, sub, (key, np.arange(len(pos)), loc), raw)
                rows_l.append(pos)
                srcs.extend(sub)
            yield np.concatenate(rows_l), srcs, False


def shard_groups(ip: InnerPipeline, coords: np.ndarray) -> tuple[list, list]:
    """The inner chunks at ``coords`` grouped by shard: ``(whole, partial)``, lists of
    ``(key, positions in coords, C-order positions in the shard)`` for the shards whose
    inner chunks are all needed (read whole) and for the others (index, then ranges)."""
    n = len(coords)
    if n == 0:
        return [], []
    per = ip.per_arr
    shard = coords // per
    local = (coords - shard * per) @ ip.local_strides
    if n == 1:
        groups = [(np.zeros(1, np.int64), local)]
        shard_rows = [shard[0]]
    else:
        sid = shard @ ip.shard_strides
        order = np.argsort(sid, kind="stable")
        sid_s = sid[order]
        cut = (np.flatnonzero(sid_s[1:] != sid_s[:-1]) + 1).tolist()
        bounds = [0] + cut + [n]
        groups, shard_rows = [], []
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            pos = order[lo:hi]
            groups.append((pos, local[pos]))
            shard_rows.append(shard[pos[0]])
    outer, meta = ip.outer, ip.meta
    whole, partial = [], []
    for (pos, loc), sc in zip(groups, shard_rows):
        sc = sc.tolist()
        key = outer.key(tuple(sc))
        if len(pos) >= ip.ninner_min:
            # inner chunks of this shard inside the array (edge shards hold fewer)
            valid = math.prod(min(p_, -(-(n_ - s_ * p_ * c_) // c_))
                              for p_, n_, s_, c_ in zip(ip.per, meta.shape, sc, meta.chunks))
            if len(pos) == valid:
                whole.append((key, pos, loc))
                continue
        partial.append((key, pos, loc))
    return whole, partial


def _reads_local(store: Any) -> bool:
    """Product reads from ``store`` go through :func:`run_local`: local files
    (``open_ranges``), a chunk pool of several threads, and not from inside one of its
    tasks."""
    if getattr(store, "open_ranges", None) is None or getattr(_pl._in_worker, "active", False):
        return False
    return _pl._get_pool()[1] > 1


def run_local(ip: InnerPipeline, kind: int, whole: list, partial: list, combo: np.ndarray,
              out: np.ndarray, out_strides: list, tables: tuple, indexer: Any) -> None:
    """The kernel over a product selection of local shard files (``whole`` and
    ``partial``: :func:`shard_groups`).

    Partial shards only have their index read here: the kernel's threads ``pread`` their
    inner chunks (``(fd, offset, length)`` sources) while they decode. Without whole
    shards (or with a single shard), every index (or the shard) is read first and one
    batch runs over all chunks on every thread (per-shard batches would hand the GIL
    back and forth for nothing). With several shards of which some whole, each
    shard is one task on the chunk pool that reads it, checks its index and decodes its
    inner chunks (one kernel batch), so reading one shard overlaps decoding another on
    every core."""
    from ._ext import _copy

    off, src_idx, dst_idx, run_arr, plen = tables
    cshape, cstr, fill = ip.meta.chunks, ip.chunk_strides(), ip._fill_bytes

    def batch(srcs: list, sub: np.ndarray) -> tuple[Callable[[], int], np.ndarray]:
        status = np.zeros(len(sub), dtype=np.uint8)
        counter = np.zeros(1, dtype=np.int64)

        def fn() -> int:
            return _copy.read_product(srcs, False, kind, out, cshape, cstr, out_strides, fill, sub, off,
                                      src_idx, dst_idx, run_arr, status, counter, 1, plen)

        return fn, status

    files: list = []  # partial shards: open until every batch has read its chunks
    if not whole or len(whole) + len(partial) == 1:
        try:
            sources: list = [None] * len(combo)
            for item in partial:
                for p, src in zip(item[1].tolist(), _file_sources(ip, item, files)):
                    sources[p] = src
            if whole:  # one whole shard: read, then decoded by every thread
                _fetch_whole(ip, whole, sources)
            fn, status = batch(sources, combo)
            nfail = ip._run_kernel(fn, len(combo))
        finally:
            for f in files:
                f.close()
        ip._fallback(nfail, status, indexer, out)
        return
    # whole shards: one pool task per shard reads it, parses its index and decodes its
    # inner chunks, so reading one shard overlaps decoding another on every core
    results: list = []  # (positions, status, failures) per shard

    def task(entry: tuple) -> None:
        item, srcs = entry
        if srcs is None:
            srcs = [None] * len(item[1])
            _fetch_whole(ip, [(item[0], np.arange(len(item[1])), item[2])], srcs)
        fn, status = batch(srcs, np.ascontiguousarray(combo[item[1]]))
        results.append((item[1], status, fn()))

    try:
        entries = [(item, _file_sources(ip, item, files)) for item in partial] + [(item, None) for item in whole]
        _pl.run_batched(task, entries, _pl.PARALLEL_MIN_CHUNK_BYTES)
    finally:
        for f in files:
            f.close()
    if any(r[2] for r in results):
        status = np.zeros(len(combo), dtype=np.uint8)
        for pos, st, _n in results:
            status[pos] = st
        ip._fallback(int(status.sum()), status, indexer, out)


def _file_sources(ip: InnerPipeline, item: tuple, files: list) -> list:
    """Sources ``(fd, offset, length)`` of the inner chunks ``item`` = ``(key, positions,
    C-order positions in the shard)`` names of a local shard: its index read and checked
    against the file's size here, the chunks' bytes read by the kernel's threads
    (``pread``) while they decode. The open file is appended to ``files``; the caller
    closes it after the kernel."""
    key, pos, loc = item
    srcs: list = [None] * len(pos)
    f = ip.store.open_ranges(key)
    if f is None:
        return srcs
    files.append(f)
    index, stored = _file_index(ip, key, f)
    from ._ext import _plan

    _plan.place_located(srcs, None, np.ascontiguousarray(loc, np.int64), np.ascontiguousarray(index, np.uint64),
                        np.ascontiguousarray(stored).view(np.uint8), f.fd)
    return srcs


def _file_index(ip: InnerPipeline, key: str, f: Any) -> tuple[np.ndarray, np.ndarray]:
    """(index, stored) of the shard file ``f`` (``LocalStore.open_ranges``), checked
    against the file's real size."""
    isz = ip.isz
    if ip.spec.index_location == "end":
        return read_index(ip.spec, f.read(-isz, None), ip.ninner, key, 0, max(f.size - isz, 0))
    return read_index(ip.spec, f.read(0, isz), ip.ninner, key, isz, f.size)


def _plan_shard(pos: np.ndarray, loc: np.ndarray, index: np.ndarray, stored: np.ndarray) -> list:
    """The ranged reads ``(start, stop, positions, index entries)`` that fetch the inner
    chunks ``loc`` (positions ``pos`` in the read) of a shard with this decoded index;
    neighbouring ranges closer than ``MERGE_GAP`` are merged into one."""
    keep = stored[loc]
    if not keep.all():
        pos, loc = pos[keep], loc[keep]
    if len(loc) == 0:
        return []
    ent = index[loc]
    if len(loc) == 1:
        r0 = int(ent[0, 0])
        return [(r0, r0 + int(ent[0, 1]), pos, ent)]
    offs = ent[:, 0].astype(np.int64)
    srt = np.argsort(offs, kind="stable")
    pos, ent, offs = pos[srt], ent[srt], offs[srt]
    ends = offs + ent[:, 1].astype(np.int64)
    # merge neighbours: a new request starts where the gap exceeds MERGE_GAP
    brk = (np.flatnonzero(offs[1:] > np.maximum.accumulate(ends)[:-1] + MERGE_GAP) + 1).tolist()
    return [(int(offs[a]), int(ends[a:b].max()), pos[a:b], ent[a:b])
            for a, b in zip([0] + brk, brk + [len(offs)])]


def _place_range(sources: list, key: str, plan: tuple, buf: Any) -> None:
    r0, r1, pos, ent = plan
    if buf is None or len(buf) != r1 - r0:
        raise ShardIndexError(f"shard {key!r}: inner chunk bytes [{r0}, {r1}) lie past the end of the "
                              "shard (or it changed while read); the shard is truncated or corrupt")
    from ._ext import _plan

    # sources[pos[i]] = (buf, offset of index entry ent[i] within buf, its length)
    _plan.place(sources, np.ascontiguousarray(pos, np.int64), np.ascontiguousarray(ent, np.uint64),
                buf if isinstance(buf, bytes) else bytes(buf), r0)


def _fetch_partial_batched(ip: InnerPipeline, partial: list, sources: list) -> None:
    """Part of several shards on any store: all indexes in one ``get_ranges`` batch,
    then all inner chunk ranges in another (two round trips on a remote store)."""
    store = ip.store
    at_end = ip.spec.index_location == "end"
    idx_raws = store.get_ranges([(k, -ip.isz, None) if at_end else (k, 0, ip.isz) for k, _, _ in partial])
    requests, plans = [], []
    for (key, pos, loc), raw in zip(partial, idx_raws):
        if raw is None:
            continue
        index, stored = read_index(ip.spec, raw, ip.ninner, key, 0 if at_end else ip.isz, None)
        for plan in _plan_shard(pos, loc, index, stored):
            requests.append((key, plan[0], plan[1] - plan[0]))
            plans.append((key, plan))
    bufs = store.get_ranges(requests) if requests else []
    for (key, plan), buf in zip(plans, bufs):
        _place_range(sources, key, plan, buf)


def _fetch_partial_files(ip: InnerPipeline, partial: list, sources: list) -> None:
    """Part of several local shard files: each opened once for its index and its inner
    chunk ranges (on the calling thread: a second one measured slower for reads of a
    few shards out of the page cache)."""
    for key, pos, loc in partial:
        f = ip.store.open_ranges(key)
        if f is None:
            continue
        with f:
            for plan in _plan_shard(pos, loc, *_file_index(ip, key, f)):
                _place_range(sources, key, plan, f.read(plan[0], plan[1] - plan[0]))


def place_whole(ip: InnerPipeline, sources: list, item: tuple, raw: Any) -> None:
    """``sources[pos[i]]`` = inner chunk ``loc[i]`` of the whole shard ``raw`` (None:
    missing), ``item`` = ``(key, pos, loc)``; the index parsed and checked."""
    key, pos, loc = item
    if raw is None:
        return
    if not isinstance(raw, bytes):
        raw = bytes(raw)
    index, stored, _ = parse_shard(ip.spec, raw, ip.ninner, key)
    from ._ext import _plan

    _plan.place_located(sources, np.ascontiguousarray(pos, np.int64), np.ascontiguousarray(loc, np.int64),
                        np.ascontiguousarray(index, np.uint64), np.ascontiguousarray(stored).view(np.uint8), raw)


def _fetch_whole(ip: InnerPipeline, whole: list, sources: list) -> None:
    """Read the shards of ``whole`` (``(key, positions, locals)``) in one read each and
    place their inner chunks' sources. On a store whose reads block in system calls
    (local files) several shards are read and parsed at once on the chunk pool: the
    copies out of the page cache run on every core."""
    store = ip.store
    if len(whole) > 1 and getattr(store, "blocking_io", False):
        _pl.run_batched(lambda item: place_whole(ip, sources, item, store.get(item[0])), whole,
                        _pl.PARALLEL_MIN_CHUNK_BYTES)
        return
    for item, raw in zip(whole, store.get_many([w[0] for w in whole])):
        place_whole(ip, sources, item, raw)


def fetch_one(ip: InnerPipeline, coords: tuple[int, ...]) -> tuple | None:
    """The source of one inner chunk: its shard's index (one ranged read), then its
    bytes (one more); the same checks as :func:`fetch_inner`."""
    key, loc = _shard_key_loc(ip, coords)
    item = [(key, _ZERO_POS, np.array([loc], dtype=np.int64))]
    sources: list = [None]
    if getattr(ip.store, "open_ranges", None) is not None:
        _fetch_partial_files(ip, item, sources)  # the file opened once for index and chunk
    else:
        _fetch_partial_batched(ip, item, sources)
    return sources[0]


_ZERO_POS = np.zeros(1, dtype=np.int64)


# ----------------------------------------------------------------------------- splitting
def _split_dim(ps: list, S: int, c: int, n: int, axis: int) -> list:
    """Inner per-dimension projections of one dimension's outer projections (shards of
    ``S`` elements along the axis, inner chunks of ``c``, array length ``n``)."""
    if not ps:
        return []
    if ps[0].out_sel is None:  # an integer index: the axis is dropped
        p = ps[0]
        return _IntDim(p.chunk * S + int(p.chunk_sel), n, c, axis).projections()
    if all(type(p.chunk_sel) is slice and type(p.out_sel) is slice for p in ps):
        # one arithmetic progression (a slice of the array)?
        p0 = ps[0]
        g0 = p0.chunk * S + p0.chunk_sel.start
        step = next((p.chunk_sel.step or 1 for p in ps if p.out_sel.stop - p.out_sel.start > 1), 1)
        if p0.out_sel.start == 0 and all(p.chunk * S + p.chunk_sel.start == g0 + p.out_sel.start * step
                                         and (p.chunk_sel.step or 1) in (1, step) for p in ps):
            m = ps[-1].out_sel.stop
            if all(a.out_sel.stop == b.out_sel.start for a, b in zip(ps[:-1], ps[1:])):
                return _SliceDim(slice(g0, g0 + (m - 1) * step + 1, step), n, c, axis).projections()
    total = 0
    for p in ps:
        os_ = p.out_sel
        total = max(total, (os_.stop if type(os_) is slice else int(os_.max()) + 1))
    glob = np.empty(total, dtype=np.int64)
    for p in ps:
        cs, os_ = p.chunk_sel, p.out_sel
        if type(cs) is slice:
            local = np.arange(cs.start, cs.stop, cs.step or 1, dtype=np.int64)
        else:
            local = np.asarray(cs, dtype=np.int64).reshape(-1)
        glob[os_] = p.chunk * S + local
    return _ArrayDim(glob, n, c, axis).projections()


def _read_box(ip: InnerPipeline, kind: int, indexer: Any, out: np.ndarray) -> bool:
    """A box (per dimension an integer or a step-1 slice, as windows, inner chunks and
    whole reads are): the kernel's tables computed straight on the inner grid with a
    few NumPy operations per dimension, without projections per inner chunk. False for
    other selections."""
    sel = getattr(indexer, "dims", None)
    if type(sel) is not list or len(sel) != len(ip.per):
        return False
    starts, stops, out_strides = [], [], []
    axis = 0
    for d in sel:
        t = type(d)
        if t is _SliceDim and d.step == 1:
            starts.append(d.start)
            stops.append(d.start + d.nitems)
            out_strides.append(out.strides[axis])
            axis += 1
        elif t is _IntDim:
            starts.append(d.index)
            stops.append(d.index + 1)
            out_strides.append(0)
        else:
            return False
    ids, srcs, dsts, lens = [], [], [], []
    small = True
    for g0, g1, c in zip(starts, stops, ip.meta.chunks):
        if g1 <= g0:
            return True  # nothing selected
        c0, c1 = g0 // c, (g1 - 1) // c + 1
        if c1 - c0 <= 16:  # a few inner chunks: plain integers beat NumPy's per-call cost
            ci = list(range(c0, c1))
            lo = [max(i * c, g0) for i in ci]
            srcs.append([a - i * c for a, i in zip(lo, ci)])
            dsts.append([a - g0 for a in lo])
            lens.append([min(i * c + c, g1) - a for a, i in zip(lo, ci)])
        else:
            small = False
            ci = np.arange(c0, c1, dtype=np.int64)
            lo = np.maximum(ci * c, g0)
            srcs.append(lo - ci * c)
            dsts.append(lo - g0)
            lens.append(np.minimum(ci * c + c, g1) - lo)
        ids.append(ci)
    nproj = sum(len(x) for x in ids)
    if nproj == len(ids):  # one inner chunk
        _read_single(ip, kind, tuple(x[0] for x in ids), [x[0] for x in srcs], [x[0] for x in dsts],
                     [x[0] for x in lens], out, out_strides, indexer)
        return True
    if small:
        srcs, dsts, lens = [np.array(sum(t, []), dtype=np.int64) for t in (srcs, dsts, lens)]
    else:
        srcs, dsts, lens = [np.concatenate([np.asarray(x, dtype=np.int64) for x in t]) for t in (srcs, dsts, lens)]
    tables = (np.arange(nproj + 1, dtype=np.int64), srcs, dsts, np.ones(nproj, np.uint8), lens)
    ip._run_product(kind, ids, out, out_strides, tables, indexer)
    return True


def _read_single(ip: InnerPipeline, kind: int, coords: tuple, src: list, dst: list, lens: list,
                 out: np.ndarray, out_strides: list, indexer: Any) -> None:
    """A box inside one inner chunk (per dimension its first in-chunk index, first
    output index and length): one kernel call without the batch set-up, on a local
    shard file straight from it (the kernel reads the chunk with ``pread``)."""
    from ._ext import _copy

    nd = len(coords)
    tabs = ip.__dict__.get("_single_tables")
    if tabs is None:  # (off, run, combo) of one chunk, and the chunk's strides
        tabs = ip.__dict__["_single_tables"] = (np.arange(nd + 1, dtype=np.int64), np.ones(nd, np.uint8),
                                                np.arange(nd, dtype=np.int64).reshape(1, nd), ip.chunk_strides())
    off, run, combo, cstr = tabs
    status = np.zeros(1, np.uint8)
    f = None
    if getattr(ip.store, "open_ranges", None) is not None:
        key, loc = _shard_key_loc(ip, coords)
        f = ip.store.open_ranges(key)
        sources = [None]
        if f is not None:
            index, stored = _file_index(ip, key, f)
            if stored[loc]:
                sources[0] = (f.fd, int(index[loc, 0]), int(index[loc, 1]))
    else:
        sources = [fetch_one(ip, coords)]
    try:
        nfail = _copy.read_product(sources, False, kind, out, ip.meta.chunks, cstr, out_strides, ip._fill_bytes,
                                   combo, off, np.array(src, np.int64), np.array(dst, np.int64), run, status,
                                   np.zeros(1, np.int64), ip._blosc_threads(kind, 1), np.array(lens, np.int64))
    finally:
        if f is not None:
            f.close()
    ip._fallback(nfail, status, indexer, out)


def _shard_key_loc(ip: InnerPipeline, coords: tuple) -> tuple[str, int]:
    """Store key of the shard holding inner chunk ``coords`` and the chunk's C-order
    position in it."""
    sc = tuple(x // p for x, p in zip(coords, ip.per))
    loc = 0
    for x, s_, p in zip(coords, sc, ip.per):
        loc = loc * p + (x - s_ * p)
    return ip.outer.key(sc), loc


def read_item_sharded(outer: _pl.Pipeline, selection: Any) -> Any:
    """One element of a sharded array (``Pipeline.read_item``): the index and the one
    inner chunk's range, decoded by the kernel; None for the general path."""
    ip = _inner_pipeline(outer)
    if ip is None or ip._kernel_kind_cached is None:
        return None
    return ip.read_item(selection)


def _split_dims(ip: InnerPipeline, dims: list) -> list:
    meta = ip.outer.meta
    return [_split_dim(ps, S, c, n, axis)
            for axis, (ps, S, c, n) in enumerate(zip(dims, meta.chunks, ip.meta.chunks, meta.shape))]


def _read_product_generic(ip: InnerPipeline, idims: list, out: np.ndarray) -> None:
    """Inner chains the kernel does not decode (Zstd, gzip, checksums, strings, ...):
    the same ranged fetch plan, then each inner chunk decoded by its codec chain on
    the pool and its selected part copied."""
    pi = _ProductIndexer([], ip.meta.shape, ip.meta.chunks)
    pi._proj = idims
    projs = list(pi)
    if not projs:
        return
    sources = fetch_inner(ip, np.array([p.chunk_coords for p in projs], dtype=np.int64))
    codec, fill = ip.codec, ip.fill

    def one(j: int) -> None:
        p, src = projs[j], sources[j]
        if src is None:
            out[p.out_selection] = fill
            return
        buf, o, n = src
        chunk = codec.decode(memoryview(buf)[o:o + n], f"{ip.outer.key(_shard_of(ip, p.chunk_coords))} "
                                                       f"(inner chunk {p.chunk_coords})")
        out[p.out_selection] = chunk[p.chunk_selection]

    _pl.run_batched(one, list(range(len(projs))), codec.nbytes)


def _shard_of(ip: InnerPipeline, coords: tuple) -> tuple:
    return tuple(c // p for c, p in zip(coords, ip.per))


def read_sharded(outer: _pl.Pipeline, indexer: Any, out: np.ndarray) -> bool:
    """Read a selection of a sharded array through the kernel; False when the generic
    path must do it (inner chain not decodable by the kernel, nested sharding, ...)."""
    if not _pl.FAST_READ:
        return False
    ip = _inner_pipeline(outer)
    if ip is None:
        return False
    kind = ip._kernel_kind_cached
    meta = outer.meta
    fast_out = out.dtype == meta.dtype and out.flags.c_contiguous and out.flags.writeable and out.flags.aligned
    if kind is not None and fast_out and _read_box(ip, kind, indexer, out):
        return True
    dims = getattr(indexer, "dim_projections", None)
    dims = dims() if dims is not None else None
    if kind is None or not fast_out:
        if dims is None:
            return False
        _read_product_generic(ip, _split_dims(ip, dims), out)  # ranged reads, Python-side decode
        return True
    if dims is not None:
        ip._read_product(kind, _split_dims(ip, dims), out, indexer)
        return True
    if out.ndim != 1:
        return False
    gcoords = _point_coords(indexer)
    if gcoords is None:
        return False
    inner = ip.meta.chunks
    grid = tuple(-(-n // c) for n, c in zip(meta.shape, inner))
    g = _group_points_c(gcoords, inner, grid)
    if g is None:
        return False
    dpos, local2, lin2, bounds2, ids2, _run = g
    coords2 = np.stack(np.unravel_index(ids2, grid), axis=1)
    ip._read_points(kind, (dpos, local2, lin2, bounds2, coords2), out, indexer)
    return True


def _point_coords(indexer: Any) -> list | None:
    """Global coordinates (one contiguous int64 array per dimension, in output order) of
    a coordinate or mask selection's points -- grouped here once, by inner chunk, never
    first by shard; None for other indexers (the generic path reads them)."""
    if not isinstance(indexer, CoordinateIndexer) or indexer.npoints == 0 or not indexer.array_shape:
        return None
    return [np.ascontiguousarray(x, dtype=np.int64) for x in indexer.coords]
