"""Zarr v3 sharding (the ``sharding_indexed`` codec): configuration and shard index.

A shard holds the inner chunks of one cell of the array's (outer) chunk grid, each
encoded with the inner codec chain, plus an index: per inner chunk, in C order, the
``offset`` and ``nbytes`` of its bytes in the shard as little-endian uint64 (both all
ones: the chunk is empty and reads as the fill value). The index is encoded with
``index_codecs`` (``bytes`` + ``crc32c`` by default, 16·n + 4 bytes) and sits at the end
of the shard (``index_location: end``, the default) or at its start.

This module knows the layout: :class:`ShardingSpec` (the codec configuration, nested
sharding included), :func:`encode_index` / :func:`decode_index` (with every check that
keeps a corrupt index from reaching the decoders) and :class:`ShardCodec`, which encodes
and decodes *whole* shards the way :class:`~chunkzip.pipeline.ChunkCodec` does chunks, so
that every generic path of the pipeline works on sharded arrays. The fast ranged reads
live in :mod:`chunkzip.sharded_io`, the whole-shard write kernel's driver in
:mod:`chunkzip.shard_writer` (it writes the same bytes as :meth:`ShardCodec.encode`).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
_U64_MAX = (1 << 64) - 1


class ShardIndexError(ValueError):
    """A shard's index is corrupt (bad checksum, ranges past the end, overlapping or
    overflowing ranges); the message names the shard key."""


@dataclass(frozen=True)
class ShardingSpec:
    """The ``sharding_indexed`` configuration of one level of sharding.

    Attributes
    ----------
    chunk_shape : tuple of int
        The inner chunk shape (the shard shape is the array's chunk grid, or the
        enclosing level's ``chunk_shape`` for nested sharding).
    index_location : {'end', 'start'}
    index_checksum : bool
        ``index_codecs`` ends with ``crc32c`` (the default).
    index_endian : {'<', '>'}
        Byte order of the index's ``bytes`` codec.
    nested : ShardingSpec or None
        The inner chunks are themselves shards (an inner ``sharding_indexed`` codec).
    """

    chunk_shape: tuple[int, ...]
    index_location: str = "end"
    index_checksum: bool = True
    index_endian: str = "<"
    nested: "ShardingSpec | None" = None

    # -- configuration ---------------------------------------------------------------
    @classmethod
    def from_config(cls, cfg: Any, nested: "ShardingSpec | None", where: str) -> "ShardingSpec":
        """Parse a ``sharding_indexed`` configuration (``codecs`` already parsed by the
        caller into ``nested`` and the inner chain); raise ValueError naming ``where``."""
        if not isinstance(cfg, dict):
            raise ValueError(f"{where}: sharding_indexed needs a configuration object, got {cfg!r}")
        shape = cfg.get("chunk_shape")
        if not isinstance(shape, (list, tuple)) or not all(
                isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in shape):
            raise ValueError(f"{where}: sharding_indexed chunk_shape must be a list of positive integers, "
                             f"got {shape!r}")
        loc = cfg.get("index_location", "end")
        if loc not in ("start", "end"):
            raise ValueError(f"{where}: sharding_indexed index_location must be 'start' or 'end', got {loc!r}")
        checksum, endian = _parse_index_codecs(cfg.get("index_codecs"), where)
        return cls(tuple(shape), loc, checksum, endian, nested)

    def index_codecs_config(self) -> list[dict]:
        codecs = [{"name": "bytes", "configuration": {"endian": "little" if self.index_endian == "<" else "big"}}]
        if self.index_checksum:
            codecs.append({"name": "crc32c"})
        return codecs

    def to_config(self, inner_codecs: list[dict]) -> dict:
        """The codec entry, wrapping ``inner_codecs`` (the chain of the inner chunks)."""
        if self.nested is not None:
            inner_codecs = [self.nested.to_config(inner_codecs)]
        return {"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(self.chunk_shape), "codecs": inner_codecs,
            "index_codecs": self.index_codecs_config(), "index_location": self.index_location}}

    def check_shard_shape(self, shard_shape: tuple[int, ...], where: str) -> None:
        """The shard shape must be a multiple of the inner chunk shape (at every level)."""
        if len(shard_shape) != len(self.chunk_shape) or any(
                s % c for s, c in zip(shard_shape, self.chunk_shape)):
            raise ValueError(f"{where}: the shard shape {list(shard_shape)} must be a multiple of the inner "
                             f"chunk shape {list(self.chunk_shape)} in every dimension")
        if self.nested is not None:
            self.nested.check_shard_shape(self.chunk_shape, where)

    # -- geometry --------------------------------------------------------------------
    def grid(self, shard_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Inner chunks per shard along each dimension."""
        return tuple(s // c for s, c in zip(shard_shape, self.chunk_shape))

    def index_nbytes(self, n: int) -> int:
        """Encoded size of the index of ``n`` inner chunks."""
        return 16 * n + (4 if self.index_checksum else 0)


def _parse_index_codecs(codecs: Any, where: str) -> tuple[bool, str]:
    """``index_codecs``: a ``bytes`` codec optionally followed by ``crc32c``."""
    if codecs is None:
        return True, "<"
    names = []
    endian = "<"
    if isinstance(codecs, list):
        for c in codecs:
            name = c.get("name") if isinstance(c, dict) else c
            names.append(name)
            if name == "bytes" and isinstance(c, dict):
                e = (c.get("configuration") or {}).get("endian", "little")
                if e not in ("little", "big"):
                    raise ValueError(f"{where}: sharding_indexed index_codecs: bad endian {e!r}")
                endian = "<" if e == "little" else ">"
    if names == ["bytes", "crc32c"]:
        return True, endian
    if names == ["bytes"]:
        return False, endian
    raise ValueError(f"{where}: sharding_indexed index_codecs {codecs!r} are not supported "
                     "(only bytes, optionally followed by crc32c)")


# ----------------------------------------------------------------------------- the index
def _crc32c(data: Any) -> int:
    from ._ext import _filters

    return _filters.crc32c(np.frombuffer(data, dtype=np.uint8)) & 0xFFFFFFFF


def encode_index(spec: ShardingSpec, index: np.ndarray) -> bytes:
    """Encode an (n, 2) uint64 array of (offset, nbytes) with the index codecs."""
    raw = np.ascontiguousarray(index, dtype=np.dtype("u8").newbyteorder(spec.index_endian)).tobytes()
    if spec.index_checksum:
        raw += _crc32c(raw).to_bytes(4, "little")
    return raw


def decode_index(spec: ShardingSpec, raw: Any, n: int, key: str) -> np.ndarray:
    """Decode the index of ``n`` inner chunks of shard ``key`` into an (n, 2) uint64 array
    (native byte order); a bad size or checksum raises :class:`ShardIndexError`."""
    mv = memoryview(raw).cast("B") if not isinstance(raw, bytes) else raw
    want = spec.index_nbytes(n)
    if len(mv) != want:
        raise ShardIndexError(f"shard {key!r}: index of {len(mv)} bytes, expected {want} "
                              f"({n} inner chunks); the shard is truncated or corrupt")
    body = mv[:16 * n]
    if spec.index_checksum:
        stored = int.from_bytes(bytes(mv[16 * n:]), "little")
        got = _crc32c(body)
        if stored != got:
            raise ShardIndexError(f"shard {key!r}: index checksum mismatch (stored {stored:#010x}, "
                                  f"computed {got:#010x}); the shard is corrupt")
    idx = np.frombuffer(body, dtype=np.dtype("u8").newbyteorder(spec.index_endian)).reshape(n, 2)
    return idx.astype(np.uint64, copy=False)


def check_index(index: np.ndarray, key: str, data_start: int, data_end: int | None) -> np.ndarray:
    """Validate the ranges of a decoded index; return the Boolean mask of stored
    (non-empty) inner chunks.

    Every stored range must lie inside ``[data_start, data_end)`` (the shard's bytes
    outside the index; ``data_end`` None when the shard's size is not known yet, then
    the ranged read checks the end), must not overflow, and no two may overlap. An
    entry with only one of offset/nbytes all ones is corrupt.
    """
    eo = index[:, 0] == EMPTY
    stored = ~eo
    if not np.array_equal(eo, index[:, 1] == EMPTY):
        i = int(np.flatnonzero(eo != (index[:, 1] == EMPTY))[0])
        raise ShardIndexError(f"shard {key!r}: index entry {i} is half empty (offset {int(index[i, 0])}, "
                              f"nbytes {int(index[i, 1])}); the shard is corrupt")
    ent = index[stored] if not stored.all() else index
    if len(ent) == 0:
        return stored
    if int((ent >> np.uint64(62)).max()):  # far beyond any real shard (and int64 arithmetic)
        raise ShardIndexError(f"shard {key!r}: index holds an offset or length that overflows; the shard is corrupt")
    ent = ent.astype(np.int64)
    o = ent[:, 0]
    end = o + ent[:, 1]
    if int(o.min()) < data_start or (data_end is not None and int(end.max()) > data_end):
        bad = (o < data_start) | ((end > data_end) if data_end is not None else False)
        i = int(np.flatnonzero(bad)[0])
        raise ShardIndexError(f"shard {key!r}: inner chunk range [{int(o[i])}, {int(end[i])}) lies outside the "
                              f"shard's data [{data_start}, {data_end if data_end is not None else '?'}); "
                              "the shard is truncated or corrupt")
    if len(o) > 1:
        if not (o[1:] >= end[:-1]).all():  # not simply in order: sort, then compare neighbours
            order = np.argsort(o, kind="stable")
            if (o[order][1:] < end[order][:-1]).any():
                raise ShardIndexError(f"shard {key!r}: index holds overlapping inner chunk ranges; "
                                      "the shard is corrupt")
    return stored


def read_index(spec: ShardingSpec, raw: Any, n: int, key: str, data_start: int,
               data_end: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Decode and validate the index of ``n`` inner chunks of shard ``key``: (index,
    stored mask), as :func:`decode_index` then :func:`check_index` give them.

    The common case -- a sound index whose ranges come in offset order -- is checked
    in one nogil pass (``_ext._copy.shard_index``); anything else goes through the two
    functions above, which accept ranges out of order and raise the error naming the
    shard."""
    try:
        from ._ext._copy import shard_index
    except ImportError:  # pragma: no cover - extensions not built
        shard_index = None
    if shard_index is not None and isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            res = shard_index(raw, n, spec.index_checksum, spec.index_endian == ">", data_start,
                              -1 if data_end is None else data_end)
        except (TypeError, ValueError):  # a buffer of another item format: the general path
            res = None
        if res is not None:
            return res
    index = decode_index(spec, raw, n, key)
    return index, check_index(index, key, data_start, data_end)


def _rows_equal(rows: np.ndarray, fill: Any) -> np.ndarray:
    """Per row of a 2-D array: every element equals ``fill`` (NaN equals NaN, NaT NaT)."""
    if rows.dtype.kind in "fc" and np.isnan(fill):
        return np.isnan(rows).all(axis=1)
    if rows.dtype.kind in "mM" and np.isnat(np.array(fill, rows.dtype)):
        return np.isnat(rows).all(axis=1)
    return (rows == np.array(fill, dtype=rows.dtype)).all(axis=1)


def empty_index(n: int) -> np.ndarray:
    return np.full((n, 2), EMPTY, dtype=np.uint64)


def parse_shard(spec: ShardingSpec, raw: Any, n: int, key: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Index of a whole shard held in ``raw``: (index, stored mask, offset of the data
    region's start — the index size when the index is at the start)."""
    size = len(raw)
    isz = spec.index_nbytes(n)
    if size < isz:
        raise ShardIndexError(f"shard {key!r}: {size} bytes cannot hold the index of {isz} bytes; "
                              "the shard is truncated or corrupt")
    if spec.index_location == "end":
        lo, hi = 0, size - isz
        index, stored = read_index(spec, memoryview(raw)[hi:], n, key, lo, hi)
    else:
        lo, hi = isz, size
        index, stored = read_index(spec, memoryview(raw)[:isz], n, key, lo, hi)
    return index, stored, lo


def assemble(spec: ShardingSpec, parts: list) -> bytes:
    """A shard from its inner chunks' encoded bytes (C order; None = empty)."""
    n = len(parts)
    index = empty_index(n)
    isz = spec.index_nbytes(n)
    pos = isz if spec.index_location == "start" else 0
    body = []
    for i, p in enumerate(parts):
        if p is None:
            continue
        ln = len(p)
        index[i, 0], index[i, 1] = pos, ln
        pos += ln
        body.append(p)
    idx = encode_index(spec, index)
    if spec.index_location == "start":
        return b"".join([idx] + body)
    body.append(idx)
    return b"".join(body)


# ----------------------------------------------------------------------------- whole shards
class ShardCodec:
    """Encode and decode whole shards of an array (the generic path; see
    :mod:`chunkzip.sharded_io` for ranged reads). Mirrors ``ChunkCodec``'s interface."""

    def __init__(self, meta: Any) -> None:
        from .pipeline import ChunkCodec

        spec = meta.sharding
        self.meta = meta
        self.spec = spec
        self.shape = tuple(meta.chunks)
        self.dtype = meta.dtype
        self.order = "C"
        self.is_object = meta.dtype.kind == "O"
        self.raw_dtype = None  # not decodable by the batched chunk kernel as one chunk
        self.stages: list = []
        self.count = math.prod(self.shape)
        self.nbytes = self.count * meta.dtype.itemsize
        self.direct = False
        self.inner_meta = meta.inner_meta()
        self.inner = ShardCodec(self.inner_meta) if self.inner_meta.sharding is not None \
            else ChunkCodec(self.inner_meta)
        self.grid = spec.grid(self.shape)
        self.ninner = math.prod(self.grid)
        fill = meta.fill_value
        if fill is None and not self.is_object:
            fill = np.zeros((), meta.dtype)[()]
        self.fill = fill
        #: leave inner chunks equal to the fill value out of the shard (empty index
        #: entries, as the spec allows): they read as the fill value, and the inner
        #: chunks of edge shards that lie outside the array are never stored
        self.skip_fill = True
        self._tl = threading.local()

    def _slices(self, i: int) -> tuple[slice, ...]:
        coords = np.unravel_index(i, self.grid) if self.grid else ()
        return tuple(slice(int(c) * n, (int(c) + 1) * n) for c, n in zip(coords, self.spec.chunk_shape))

    def encode_parts(self, shard: np.ndarray) -> list:
        """Encoded inner chunks of ``shard`` in C order, on the chunk pool (None for
        those equal to the fill value when ``skip_fill``)."""
        from .pipeline import is_fill, run_batched

        parts: list = [None] * self.ninner
        inner, fill, skip = self.inner, self.fill, self.skip_fill
        blocks = self._blocks(shard)
        if blocks is not None:
            # one pass lays every inner chunk out contiguously; the fill test is one
            # vectorised comparison; each encode then starts from a view
            keep = ~_rows_equal(blocks.reshape(self.ninner, -1), fill) if skip else None
            f_order = inner.order == "F"
            ids = np.flatnonzero(keep).tolist() if keep is not None else range(self.ninner)

            def one_block(i: int) -> None:
                b = blocks[i]
                parts[i] = inner.encode(b.T if f_order else b)

            run_batched(one_block, list(ids), inner.nbytes)
            return parts

        def one(i: int) -> None:
            chunk = shard[self._slices(i)]
            if not (skip and is_fill(chunk, fill)):
                parts[i] = inner.encode(chunk)

        run_batched(one, list(range(self.ninner)), self.inner.nbytes)
        return parts

    def _blocks(self, shard: np.ndarray) -> np.ndarray | None:
        """The shard's inner chunks as one contiguous (n, *inner) array in the inner
        chunks' raw dtype (F-order chunks as their transposes), or None when the inner
        chain needs the generic path (objects, nested sharding)."""
        inner = self.inner
        if self.is_object or self.inner_meta.sharding is not None or shard.shape != self.shape:
            return None
        raw_dtype = inner.raw_dtype
        cs, per = self.spec.chunk_shape, self.grid
        nd = len(cs)
        split = shard.reshape(tuple(x for pc in zip(per, cs) for x in pc))
        c_axes = [2 * d + 1 for d in range(nd)]
        if inner.order == "F":
            c_axes = c_axes[::-1]
        blocks = np.empty((self.ninner,) + tuple(split.shape[a] for a in c_axes), dtype=raw_dtype)
        np.copyto(blocks.reshape(per + blocks.shape[1:]),
                  split.transpose([2 * d for d in range(nd)] + c_axes), casting="unsafe")
        return blocks

    def encode(self, shard: np.ndarray) -> bytes:
        """The shard's bytes. After :meth:`decode` on this thread (a read-modify-write of
        part of the shard), only the inner chunks that changed are encoded again; the
        others keep their stored bytes."""
        last = getattr(self._tl, "last", None)
        self._tl.last = None
        if last is not None and last[0] is shard:
            parts = self._update_parts(*last)
            if parts is not None:
                return assemble(self.spec, parts)
        return assemble(self.spec, self.encode_parts(shard))

    def _update_parts(self, shard: np.ndarray, old: np.ndarray, raw: Any, index: np.ndarray,
                      stored: np.ndarray) -> list | None:
        from .pipeline import run_batched

        new_b, old_b = self._blocks(shard), self._blocks(old)
        if new_b is None or old_b is None:
            return None
        n = self.ninner
        changed = (new_b.reshape(n, -1) != old_b.reshape(n, -1)).any(axis=1)
        mv = memoryview(raw)
        parts: list = [None] * n
        for i in np.flatnonzero(~changed & stored).tolist():
            o, ln = int(index[i, 0]), int(index[i, 1])
            parts[i] = mv[o:o + ln]
        ids = np.flatnonzero(changed)
        if self.skip_fill and len(ids):
            ids = ids[~_rows_equal(new_b.reshape(n, -1)[ids], self.fill)]
        inner, f_order = self.inner, self.inner.order == "F"

        def one(i: int) -> None:
            b = new_b[i]
            parts[i] = inner.encode(b.T if f_order else b)

        run_batched(one, ids.tolist(), inner.nbytes)
        return parts

    def parse(self, raw: Any, key: str) -> tuple[np.ndarray, np.ndarray, int]:
        return parse_shard(self.spec, raw, self.ninner, key)

    def decode(self, raw: Any, key: str, out: np.ndarray | None = None) -> np.ndarray:
        index, stored, _ = self.parse(raw, key)
        if out is None:
            out = np.empty(self.shape, dtype=self.dtype)
        mv = memoryview(raw)
        for i in range(self.ninner):
            sl = self._slices(i)
            if not stored[i]:
                out[sl] = self.fill
                continue
            o, n = int(index[i, 0]), int(index[i, 1])
            out[sl] = self.inner.decode(mv[o:o + n], f"{key} (inner chunk {i})")
        if not self.is_object:
            # kept for a following encode() of this shard on this thread (a partial
            # write): unchanged inner chunks then keep their bytes
            self._tl.last = (out, out.copy(), raw, index, stored)
        return out


def normalize_shards(shards: Any, chunks: Any, shape: tuple[int, ...], itemsize: int,
                     zarr_format: int) -> tuple[tuple[int, ...], ShardingSpec]:
    """Creation arguments ``shards=`` (a shape, or ``{"shape": ..., "index_location":
    ...}``) and ``chunks=`` (the inner chunk shape) → (shard shape, spec).

    As in zarr-python 3, ``chunks`` is the inner chunk shape and ``shards`` the shard
    shape, a multiple of it in every dimension.
    """
    from .chunks import normalize_chunks

    if zarr_format != 3:
        raise ValueError("shards= needs zarr_format=3 (sharding is a Zarr v3 codec)")
    location = "end"
    if isinstance(shards, dict):
        unknown = set(shards) - {"shape", "index_location"}
        if unknown or "shape" not in shards:
            raise ValueError(f"shards= as a dict takes 'shape' and optionally 'index_location', got {shards!r}")
        location = shards.get("index_location", "end")
        if location not in ("start", "end"):
            raise ValueError(f"index_location must be 'start' or 'end', got {location!r}")
        shards = shards["shape"]
    if isinstance(shards, (int, np.integer)) and not isinstance(shards, bool):
        shards = (int(shards),) * len(shape)
    try:
        shards = tuple(shards)
    except TypeError:
        raise TypeError(f"shards must be an int or a tuple of ints, got {shards!r}") from None
    if len(shards) != len(shape) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shards):
        raise ValueError(f"shards must be {len(shape)} positive integers (one per dimension), got {shards!r}")
    shards = tuple(int(s) for s in shards)
    if len(shape) == 0:
        raise ValueError("a 0-d array cannot be sharded")
    inner = normalize_chunks(chunks, shards, itemsize)
    spec = ShardingSpec(inner, location)
    spec.check_shard_shape(shards, "shards")
    return shards, spec
