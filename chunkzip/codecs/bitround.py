"""BitRound filter, byte-compatible with numcodecs' ``bitround``.

Floating-point mantissas are rounded (to nearest, ties to even) to ``keepbits`` bits,
zeroing the rest, which makes the data more compressible. Decoding is the identity.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["BitRound"]

_MANTISSA_BITS = {2: 10, 4: 23, 8: 52}


class BitRound(Codec):
    """Round floating-point mantissas to ``keepbits`` bits (lossy).

    Parameters
    ----------
    keepbits : int
        Mantissa bits to keep: at most 10 (float16), 23 (float32), 52 (float64).
    """

    codec_id: ClassVar[str] = "bitround"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ("keepbits",)

    def __init__(self, keepbits: int) -> None:
        if isinstance(keepbits, bool) or not isinstance(keepbits, int):
            raise ValueError(f"BitRound keepbits must be an int, got {keepbits!r}")
        if not 0 <= keepbits <= 52:
            raise ValueError(f"BitRound keepbits must be in [0, 52], got {keepbits}")
        self.keepbits = keepbits

    def encode(self, buf: Any) -> np.ndarray:
        """Return a rounded copy of the float array ``buf`` (same dtype)."""
        a = np.asarray(buf) if not isinstance(buf, np.ndarray) else buf
        if a.dtype.kind != "f" or a.dtype.itemsize not in _MANTISSA_BITS:
            raise TypeError("BitRound needs a float16/32/64 array")
        bits = _MANTISSA_BITS[a.dtype.itemsize]
        if self.keepbits > bits:
            raise ValueError(f"keepbits={self.keepbits} is too large for {a.dtype}")
        if self.keepbits == bits:
            return a
        idt = np.dtype(a.dtype.str.replace("f", "i"))
        b = np.ascontiguousarray(a).copy().view(idt)
        drop = bits - self.keepbits
        mask = idt.type((np.array(-1, dtype=idt) >> drop) << drop)
        half_minus_one = idt.type((1 << (drop - 1)) - 1)
        b += ((b >> drop) & idt.type(1)) + half_minus_one
        b &= mask
        return b.view(a.dtype)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Identity (bit rounding is not reversible); copies into ``out`` when given."""
        if out is not None:
            return _filters.copy_to_out(buf, out)
        if isinstance(buf, np.ndarray):
            if buf.dtype.kind == "i" and buf.dtype.itemsize in _MANTISSA_BITS:
                return buf.view(buf.dtype.str.replace("i", "f"))
            return buf
        return _filters.as_byte_array(buf)


register_codec(BitRound)
