"""Quantize filter, byte-compatible with numcodecs' ``quantize``.

Floating-point values are rounded to a power-of-two multiple that keeps ``digits``
decimal digits after the point, which makes the data far more compressible; decoding
only casts back to ``dtype`` (quantization is lossy).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["Quantize"]


def _float(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"invalid {name} {dtype!r} ({e})") from None
    if dt.kind != "f":
        raise ValueError(f"Quantize supports floating-point dtypes only, got {name}={dt.str!r}")
    return dt


class Quantize(Codec):
    """Lossy quantization of floating-point data to ``digits`` decimal digits.

    Parameters
    ----------
    digits : int
        Number of decimal digits to keep after the point.
    dtype : dtype-like
        Data type of the decoded data (floating point).
    astype : dtype-like, optional
        Data type of the encoded data (floating point; default: ``dtype``).
    """

    codec_id: ClassVar[str] = "quantize"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ("digits", "dtype", "astype")

    def __init__(self, digits: int, dtype: Any, astype: Any = None) -> None:
        if isinstance(digits, bool) or not isinstance(digits, int):
            raise ValueError(f"Quantize digits must be an int, got {digits!r}")
        if not -300 <= digits <= 300:
            raise ValueError(f"Quantize digits out of range: {digits}")
        self.digits = digits
        self.dtype = _float("dtype", dtype)
        self.astype = self.dtype if astype is None else _float("astype", astype)
        # the power-of-two scale, computed as numcodecs does
        exp = math.log10(10.0**-digits)
        exp = math.floor(exp) if exp < 0 else math.ceil(exp)
        self._scale = 2.0 ** math.ceil(math.log2(10.0**-exp))

    def encode(self, buf: Any) -> np.ndarray:
        """Return the quantized values as ``astype``."""
        arr = _filters.as_typed_array(buf, self.dtype)
        enc = np.around(self._scale * arr) / self._scale
        return enc.astype(self.astype, copy=False)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Cast the encoded values back to ``dtype``; into ``out`` when given."""
        dec = _filters.as_typed_array(buf, self.astype).astype(self.dtype, copy=False)
        if out is None:
            return dec
        return _filters.copy_to_out(dec, out)

    def get_config(self) -> dict:
        return {
            "id": self.codec_id,
            "digits": self.digits,
            "dtype": self.dtype.str,
            "astype": self.astype.str,
        }

    def __repr__(self) -> str:
        r = f"{type(self).__name__}(digits={self.digits}, dtype={self.dtype.str!r}"
        if self.astype != self.dtype:
            r += f", astype={self.astype.str!r}"
        return r + ")"


register_codec(Quantize)
