"""Zlib and GZip compressors, byte-compatible with numcodecs' ``zlib`` and ``gzip``.

Encoding goes through CPython's :mod:`zlib` (which releases the GIL), so Zlib output is
byte-identical to numcodecs'. GZip writes one gzip member with a zero timestamp (numcodecs
stamps the current time; the deflate data are the same). Zlib decodes straight into
``out`` with the zlib-ng inflater bundled in libblosc2.
"""
from __future__ import annotations

import zlib as _zlib
from typing import Any, ClassVar

from chunkzip._ext import _compress
from chunkzip._ext._filters import as_byte_array

from .abc import Codec
from .bounded import check_out, stream_decode
from .registry import register_codec

__all__ = ["Zlib", "GZip"]


def _check_level(name: str, level: Any) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise ValueError(f"{name} level must be an int, got {level!r}")
    if not -1 <= level <= 9:
        raise ValueError(f"{name} level must be in [-1, 9], got {level}")
    return level


class Zlib(Codec):
    """Zlib (deflate with a zlib header) compression.

    Parameters
    ----------
    level : int
        Compression level, 0 (store) to 9 (smallest); -1 is zlib's default (6).
    """

    codec_id: ClassVar[str] = "zlib"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("level",)

    def __init__(self, level: int = 1) -> None:
        self.level = _check_level("Zlib", level)

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf`` into a zlib stream."""
        return _zlib.compress(as_byte_array(buf), self.level)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress ``buf``; into ``out`` (same number of bytes) when given."""
        src = as_byte_array(buf)
        if out is not None:
            check_out(out)
            return _compress.zlib_decompress_into(src, out)
        return stream_decode("zlib", _zlib.decompressobj, _zlib.error, src, None, members=False)


class GZip(Codec):
    """Gzip compression (one gzip member per chunk).

    Parameters
    ----------
    level : int
        Compression level, 0 (store) to 9 (smallest); -1 is zlib's default (6).
    """

    codec_id: ClassVar[str] = "gzip"
    v3_name: ClassVar[str | None] = "gzip"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("level",)

    def __init__(self, level: int = 1) -> None:
        self.level = _check_level("GZip", level)

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf`` into one gzip member (mtime 0)."""
        c = _zlib.compressobj(self.level, _zlib.DEFLATED, 16 + _zlib.MAX_WBITS)
        return c.compress(as_byte_array(buf)) + c.flush()

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress all gzip members in ``buf``; into ``out`` when given (decoding stops
        one byte past its size, or the largest chunk's)."""
        return stream_decode("gzip", lambda: _zlib.decompressobj(16 + _zlib.MAX_WBITS), _zlib.error, buf, out,
                             padding=True)


register_codec(Zlib)
# zarr-python 3 writes the core name "gzip"; numcodecs.zarr3 wrote "numcodecs.gzip".
register_codec(GZip, v3_aliases=("numcodecs.gzip",))
