"""BZ2 compressor (CPython's :mod:`bz2`), byte-compatible with numcodecs' ``bz2``."""
from __future__ import annotations

import bz2 as _bz2
from typing import Any, ClassVar

from chunkzip._ext._filters import as_byte_array

from .abc import Codec
from .bounded import stream_decode
from .registry import register_codec

__all__ = ["BZ2"]


class BZ2(Codec):
    """Bzip2 compression.

    Parameters
    ----------
    level : int
        Compression level (block size in units of 100 kB), 1 to 9.
    """

    codec_id: ClassVar[str] = "bz2"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("level",)

    def __init__(self, level: int = 1) -> None:
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
            raise ValueError(f"BZ2 level must be an int in [1, 9], got {level!r}")
        self.level = level

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf``."""
        return _bz2.compress(as_byte_array(buf), self.level)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress ``buf``; into ``out`` (same number of bytes) when given. Decoding
        stops one byte past the size of ``out`` (or the largest chunk): no bomb."""
        return stream_decode("bz2", _bz2.BZ2Decompressor, OSError, buf, out)


register_codec(BZ2)
