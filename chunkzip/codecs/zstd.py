"""Zstandard compressor, byte-compatible with numcodecs' ``zstd`` codec.

Each chunk is one standard Zstd frame with the content size recorded (and a content
checksum when ``checksum=True``). Frames written by streaming encoders, which do not
record their size, are still decoded.
"""
from __future__ import annotations

from typing import Any, ClassVar

from chunkzip._ext import _compress

from .abc import Codec, CodecDecodeError
from .registry import register_codec

__all__ = ["Zstd"]


class Zstd(Codec):
    """Zstandard compression.

    Parameters
    ----------
    level : int
        Compression level, from ``-131072`` (fastest) to ``22`` (smallest); ``0`` means
        Zstd's default (3), as in numcodecs. Levels outside that range are kept in the
        configuration and clamped when compressing, as numcodecs (and Zstd) do, so
        ``Zstd(level=100)`` compresses like level 22.
    checksum : bool
        Store a content checksum in each frame (verified on decode).
    """

    codec_id: ClassVar[str] = "zstd"
    v3_name: ClassVar[str | None] = "zstd"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("level", "checksum")

    def __init__(self, level: int = 0, checksum: bool = False) -> None:
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValueError(f"Zstd level must be an int, got {level!r}")
        if not -(2**31) <= level < 2**31:
            raise ValueError(f"Zstd level must fit a C int, got {level}")
        if not isinstance(checksum, (bool, int)):
            raise ValueError(f"Zstd checksum must be a bool, got {checksum!r}")
        self.level = int(level)
        self.checksum = bool(checksum)

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf`` into one Zstd frame."""
        level = min(max(self.level, _compress.ZSTD_MIN_LEVEL), _compress.ZSTD_MAX_LEVEL)
        return _compress.zstd_compress(buf, level, self.checksum)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress ``buf``; into ``out`` (same number of bytes) when given."""
        try:
            return _compress.zstd_decompress(buf, out)
        except (ValueError, RuntimeError) as e:
            if out is not None and "out" in str(e):
                raise  # a bad ``out`` is the caller's error, not corrupt data
            raise CodecDecodeError(str(e)) from None

    def __repr__(self) -> str:
        # as numcodecs prints it: ``Zstd(level=1)``; the checksum only when enabled
        extra = ", checksum=True" if self.checksum else ""
        return f"{type(self).__name__}(level={self.level}{extra})"


register_codec(Zstd, v3_aliases=("numcodecs.zstd",))
# zarr-python 3 writes the core name "zstd"; numcodecs.zarr3 wrote "numcodecs.zstd".
