"""The Blosc meta-compressor codec (numcodecs id ``blosc``, Zarr v3 name ``blosc``).

Frames are written in the Blosc1 format (format version 2) that c-blosc 1.x --
numcodecs, zarr-python, tensorstore -- reads; decoding goes through c-blosc2, which
reads every Blosc frame version.  See ``chunkzip/_ext/_blosc.pyx`` and
``csrc/blosc1.c``.
"""
from __future__ import annotations

import os
import threading
from typing import Any, ClassVar

import numpy as np

from .abc import Codec, CodecDecodeError
from .registry import register_codec

__all__ = [
    "Blosc", "NOSHUFFLE", "SHUFFLE", "BITSHUFFLE", "AUTOSHUFFLE", "AUTOBLOCKS",
    "list_compressors", "get_nthreads", "set_nthreads", "use_threads",
    "compress", "decompress", "cbuffer_sizes", "cbuffer_complib", "cbuffer_metainfo", "MAX_BUFFERSIZE",
]

#: Largest buffer a Blosc1 frame holds (c-blosc's BLOSC_MAX_BUFFERSIZE).
MAX_BUFFERSIZE = 2**31 - 1 - 16

NOSHUFFLE = 0
SHUFFLE = 1
BITSHUFFLE = 2
AUTOSHUFFLE = -1
AUTOBLOCKS = 0

_CNAMES = ("blosclz", "lz4", "lz4hc", "zlib", "zstd")
_SHUFFLE_NAMES = {NOSHUFFLE: "NOSHUFFLE", SHUFFLE: "SHUFFLE", BITSHUFFLE: "BITSHUFFLE",
                  AUTOSHUFFLE: "AUTOSHUFFLE"}
_V3_SHUFFLE = {NOSHUFFLE: "noshuffle", SHUFFLE: "shuffle", BITSHUFFLE: "bitshuffle"}
_V3_SHUFFLE_INV = {v: k for k, v in _V3_SHUFFLE.items()}

#: Whether decoding may use several Blosc threads: ``None`` (default) -- only when
#: called from the main thread, so that chunk-pool workers decode single-threaded;
#: ``True`` / ``False`` force it on / off.
use_threads: bool | None = None

_nthreads = max(1, min(8, os.cpu_count() or 1))


def list_compressors() -> list[str]:
    """Names of the compressors Blosc frames can be written with."""
    return list(_CNAMES)


def get_nthreads() -> int:
    """Number of threads Blosc decoding may use (see :data:`use_threads`)."""
    return _nthreads


def set_nthreads(nthreads: int) -> int:
    """Set the number of threads Blosc decoding may use; return the previous value."""
    global _nthreads
    n = int(nthreads)
    if n < 1:
        raise ValueError(f"nthreads must be >= 1, got {nthreads}")
    previous, _nthreads = _nthreads, n
    return previous


def _threads_for_call() -> int:
    ut = use_threads
    if ut is None:
        ut = threading.current_thread() is threading.main_thread()
    return _nthreads if ut else 1


def _ext():
    from .._ext import _blosc  # imported lazily: importing chunkzip stays cheap

    return _blosc


def _itemsize_of(buf: Any) -> int | None:
    if isinstance(buf, np.ndarray):
        return int(buf.dtype.itemsize) or 1
    return None


class Blosc(Codec):
    """Blosc meta-compressor writing Blosc1 frames.

    Parameters
    ----------
    cname : {'blosclz', 'lz4', 'lz4hc', 'zlib', 'zstd'}
    clevel : int, 0-9 (0 stores the data uncompressed)
    shuffle : NOSHUFFLE (0), SHUFFLE (1), BITSHUFFLE (2) or AUTOSHUFFLE (-1: bit
        shuffle for 1-byte items, byte shuffle otherwise)
    blocksize : int, 0 for automatic
    typesize : int or None -- element size used when the data to encode carries none
        (non-ndarray buffers); filled from the dtype by :meth:`evolve`.  Never part of
        the Zarr v2 configuration; part of the v3 one.
    """

    codec_id: ClassVar[str] = "blosc"
    v3_name: ClassVar[str | None] = "blosc"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("cname", "clevel", "shuffle", "blocksize")
    max_buffer_size: ClassVar[int] = 2**31 - 1

    NOSHUFFLE: ClassVar[int] = NOSHUFFLE
    SHUFFLE: ClassVar[int] = SHUFFLE
    BITSHUFFLE: ClassVar[int] = BITSHUFFLE
    AUTOSHUFFLE: ClassVar[int] = AUTOSHUFFLE
    AUTOBLOCKS: ClassVar[int] = AUTOBLOCKS

    def __init__(self, cname: str = "lz4", clevel: int = 5, shuffle: int = SHUFFLE,
                 blocksize: int = AUTOBLOCKS, typesize: int | None = None):
        if isinstance(cname, bytes):
            cname = cname.decode("ascii", "replace")
        if cname not in _CNAMES:
            raise ValueError(f"unknown Blosc compressor {cname!r}; expected one of "
                             f"{list(_CNAMES)}")
        if isinstance(shuffle, str):  # tolerate the v3 spelling
            if shuffle not in _V3_SHUFFLE_INV:
                raise ValueError(f"bad Blosc shuffle {shuffle!r}")
            shuffle = _V3_SHUFFLE_INV[shuffle]
        for name, value in (("clevel", clevel), ("shuffle", shuffle),
                            ("blocksize", blocksize)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"Blosc {name} must be an integer, got {value!r}")
        if not 0 <= clevel <= 9:
            raise ValueError(f"Blosc clevel must be in 0..9, got {clevel}")
        if shuffle not in (NOSHUFFLE, SHUFFLE, BITSHUFFLE, AUTOSHUFFLE):
            raise ValueError(f"Blosc shuffle must be -1, 0, 1 or 2, got {shuffle}")
        if not 0 <= blocksize <= 2**31 - 1:
            raise ValueError(f"Blosc blocksize must be in [0, 2**31 - 1], got {blocksize}")
        if typesize is not None:
            if isinstance(typesize, bool) or not isinstance(typesize, (int, np.integer)) \
                    or typesize < 1:
                raise ValueError(f"Blosc typesize must be a positive integer, got {typesize!r}")
            typesize = int(typesize)
        self.cname = cname
        self.clevel = int(clevel)
        self.shuffle = int(shuffle)
        self.blocksize = int(blocksize)
        self.typesize = typesize

    # -- encoding ---------------------------------------------------------------
    def _resolve(self, buf: Any) -> tuple[int, int]:
        ts = _itemsize_of(buf) or self.typesize or 1
        shuffle = self.shuffle
        if shuffle == AUTOSHUFFLE:
            shuffle = BITSHUFFLE if ts == 1 else SHUFFLE
        return ts, shuffle

    def encode(self, buf: Any) -> bytes:
        ts, shuffle = self._resolve(buf)
        return _ext().compress(buf, ts, self.clevel, shuffle, self.cname, self.blocksize)

    def decode(self, buf: Any, out: Any = None) -> Any:
        return decompress(buf, out)

    def decode_partial(self, buf: Any, start: int, nitems: int, itemsize: int,
                       out: Any = None) -> Any:
        """Decode items ``[start, start + nitems)`` of ``itemsize`` bytes only."""
        return _ext().getitem(buf, start, nitems, out, itemsize)

    # -- configuration ------------------------------------------------------------
    def evolve(self, dtype: np.dtype) -> "Blosc":
        itemsize = int(np.dtype(dtype).itemsize) or 1
        shuffle = self.shuffle
        if shuffle == AUTOSHUFFLE:
            shuffle = BITSHUFFLE if itemsize == 1 else SHUFFLE
        if itemsize == self.typesize and shuffle == self.shuffle:
            return self
        return type(self)(self.cname, self.clevel, shuffle, self.blocksize, itemsize)

    def get_v3_config(self) -> dict:
        shuffle = self.shuffle
        if shuffle == AUTOSHUFFLE:
            shuffle = BITSHUFFLE if self.typesize == 1 else SHUFFLE
        cfg: dict[str, Any] = {}
        if self.typesize is not None:
            cfg["typesize"] = self.typesize
        cfg.update(cname=self.cname, clevel=self.clevel, shuffle=_V3_SHUFFLE[shuffle],
                   blocksize=self.blocksize)
        return {"name": "blosc", "configuration": cfg}

    @classmethod
    def from_v3_config(cls, configuration: dict) -> "Blosc":
        cfg = dict(configuration or {})
        shuffle = cfg.pop("shuffle", "shuffle")
        if isinstance(shuffle, str):
            if shuffle not in _V3_SHUFFLE_INV:
                raise ValueError(f"bad Blosc shuffle {shuffle!r} in v3 configuration")
            shuffle = _V3_SHUFFLE_INV[shuffle]
        unknown = set(cfg) - {"cname", "clevel", "blocksize", "typesize"}
        if unknown:
            raise ValueError(f"unknown Blosc v3 configuration keys {sorted(unknown)}")
        return cls(cname=cfg.get("cname", "lz4"), clevel=cfg.get("clevel", 5),
                   shuffle=shuffle, blocksize=cfg.get("blocksize", 0),
                   typesize=cfg.get("typesize"))

    def __repr__(self) -> str:
        shuffle = _SHUFFLE_NAMES.get(self.shuffle, str(self.shuffle))
        return (f"{type(self).__name__}(cname={self.cname!r}, clevel={self.clevel}, "
                f"shuffle={shuffle}, blocksize={self.blocksize})")


# -- numcodecs.blosc's module functions ---------------------------------------------------
def compress(source: Any, cname: str | bytes = "lz4", clevel: int = 5, shuffle: int = SHUFFLE,
             blocksize: int = AUTOBLOCKS, typesize: int | None = None) -> bytes:
    """Compress ``source`` into one Blosc1 frame (``numcodecs.blosc.compress``).

    Parameters
    ----------
    source : buffer-like
    cname : str or bytes
        ``'lz4'``, ``'lz4hc'``, ``'zlib'``, ``'zstd'`` or ``'blosclz'`` (``b'lz4'`` too).
    clevel : int, 0-9
    shuffle : NOSHUFFLE, SHUFFLE, BITSHUFFLE or AUTOSHUFFLE
    blocksize : int
        0 for automatic.
    typesize : int, optional
        Element size for shuffling (default: the array's itemsize, else 1).
    """
    return Blosc(cname, clevel, shuffle, blocksize, typesize).encode(source)


def decompress(source: Any, dest: Any = None) -> Any:
    """Decompress a Blosc frame (``numcodecs.blosc.decompress``); into ``dest`` when given.

    Corrupt frames raise :class:`~chunkzip.codecs.abc.CodecDecodeError`, a ``ValueError``
    and a ``RuntimeError`` (what numcodecs raises).
    """
    try:
        return _ext().decompress(source, dest, _threads_for_call())
    except (ValueError, RuntimeError) as e:
        if dest is not None and str(e).startswith("out "):
            raise  # a wrong-sized ``dest`` is the caller's error, not corrupt data
        raise CodecDecodeError(str(e)) from None


def _header(source: Any) -> dict:
    try:
        return _ext().cbuffer_info(source)
    except ValueError as e:
        raise CodecDecodeError(str(e)) from None


def cbuffer_sizes(source: Any) -> tuple[int, int, int]:
    """``(nbytes, cbytes, blocksize)`` of a Blosc frame: decoded size, frame size, block size."""
    h = _header(source)
    return h["nbytes"], h["cbytes"], h["blocksize"]


_COMPLIBS = {0: "BloscLZ", 1: "LZ4", 2: "Snappy", 3: "Zlib", 4: "Zstd"}


def cbuffer_complib(source: Any) -> str:
    """Name of the library that compressed a Blosc frame (``'LZ4'``, ``'Zstd'``, ...)."""
    fmt = _header(source)["compformat"]
    return _COMPLIBS.get(fmt, f"unknown ({fmt})")


def cbuffer_metainfo(source: Any) -> tuple[int, int, bool]:
    """``(typesize, shuffle, memcpyed)`` of a Blosc frame."""
    h = _header(source)
    return h["typesize"], h["shuffle"], h["memcpyed"]


register_codec(Blosc)
