"""LZ4 compressor, byte-compatible with numcodecs' ``lz4`` codec.

Layout: the uncompressed size as a 4-byte little-endian integer, then one raw LZ4 block
(at most ~2 GiB per chunk, an LZ4 limit).
"""
from __future__ import annotations

from typing import Any, ClassVar

from chunkzip._ext import _compress

from .abc import Codec
from .registry import register_codec

__all__ = ["LZ4"]


class LZ4(Codec):
    """LZ4 compression.

    Parameters
    ----------
    acceleration : int
        Larger is faster and compresses less; values ``<= 0`` mean 1, as in LZ4.
    """

    codec_id: ClassVar[str] = "lz4"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("acceleration",)
    max_buffer_size: ClassVar[int] = 0x7E000000  # LZ4_MAX_INPUT_SIZE

    def __init__(self, acceleration: int = 1) -> None:
        if isinstance(acceleration, bool) or not isinstance(acceleration, int):
            raise ValueError(f"LZ4 acceleration must be an int, got {acceleration!r}")
        if not -(2**31) <= acceleration < 2**31:
            raise ValueError(f"LZ4 acceleration out of range: {acceleration}")
        self.acceleration = acceleration

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf`` (size prefix + LZ4 block)."""
        return _compress.lz4_compress(buf, self.acceleration)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress ``buf``; into ``out`` (same number of bytes) when given."""
        return _compress.lz4_decompress(buf, out)


register_codec(LZ4)
