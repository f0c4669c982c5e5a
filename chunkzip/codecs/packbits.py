"""PackBits filter, byte-compatible with numcodecs' ``packbits``.

Boolean data are packed 8 values per byte (most significant bit first) after a header
byte holding the number of padding bits in the last byte.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["PackBits"]


class PackBits(Codec):
    """Pack boolean values into bits (numcodecs layout)."""

    codec_id: ClassVar[str] = "packbits"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ()

    def encode(self, buf: Any) -> np.ndarray:
        """Return ``[padding bits] + packed bits`` as ``uint8``."""
        arr = _filters.as_byte_array(buf).view(bool)
        packed = np.packbits(arr)
        enc = np.empty(packed.size + 1, dtype=np.uint8)
        enc[0] = (-arr.size) % 8
        enc[1:] = packed
        return enc

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Return the boolean values; into ``out`` when given."""
        enc = _filters.as_byte_array(buf)
        if enc.size == 0:
            raise ValueError("PackBits: empty input (missing the header byte)")
        pad = int(enc[0])
        if pad > 7 or (pad and enc.size == 1):
            raise ValueError(f"PackBits: invalid padding header {pad}")
        n = (enc.size - 1) * 8 - pad
        if out is not None:
            dest = _filters.out_byte_array(out, n)
            dest[...] = np.unpackbits(enc[1:], count=n)
            return out
        return np.unpackbits(enc[1:], count=n).view(bool)


register_codec(PackBits)
