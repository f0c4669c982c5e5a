"""FixedScaleOffset filter, byte-compatible with numcodecs' ``fixedscaleoffset``.

Encoding computes ``round((x - offset) * scale)`` and stores it as ``astype`` (typically
a small integer type); decoding computes ``enc / scale + offset`` as ``dtype``.
"""
from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["FixedScaleOffset"]


def _dtype(name: str, dtype: Any, kinds: str = "iuf") -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"invalid {name} {dtype!r} ({e})") from None
    if dt.kind not in kinds:
        raise ValueError(f"{name} must be a numeric dtype, got {dt.str!r}")
    return dt


class FixedScaleOffset(Codec):
    """Simplified linear packing of values into fewer bits.

    Parameters
    ----------
    offset : float
        Subtracted from the data before scaling.
    scale : float
        Multiplies the offset data before rounding (non-zero).
    dtype : dtype-like
        Data type of the decoded data.
    astype : dtype-like, optional
        Data type of the encoded data (default: ``dtype``).

    Examples
    --------
    >>> import numpy as np
    >>> codec = FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="u1")
    >>> codec.encode(np.array([1000, 1000.11, 1025.5]))
    array([  0,   1, 255], dtype=uint8)
    """

    codec_id: ClassVar[str] = "fixedscaleoffset"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ("scale", "offset", "dtype", "astype")

    def __init__(self, offset: float, scale: float, dtype: Any, astype: Any = None) -> None:
        for name, v in (("offset", offset), ("scale", scale)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"FixedScaleOffset {name} must be a real number, got {v!r}")
            if not np.isfinite(v):
                raise ValueError(f"FixedScaleOffset {name} must be finite, got {v!r}")
        if scale == 0:
            raise ValueError("FixedScaleOffset scale must not be zero")
        self.offset = offset
        self.scale = scale
        self.dtype = _dtype("dtype", dtype)
        self.astype = self.dtype if astype is None else _dtype("astype", astype)

    def encode(self, buf: Any) -> np.ndarray:
        """Return ``round((x - offset) * scale)`` as ``astype`` (1-D)."""
        arr = _filters.as_typed_array(buf, self.dtype)
        enc = np.around((arr - self.offset) * self.scale)
        return enc.astype(self.astype, copy=False)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Return ``enc / scale + offset`` as ``dtype``; into ``out`` when given."""
        enc = _filters.as_typed_array(buf, self.astype)
        dec = ((enc / self.scale) + self.offset).astype(self.dtype, copy=False)
        if out is None:
            return dec
        return _filters.copy_to_out(dec, out)

    def get_config(self) -> dict:
        return {
            "id": self.codec_id,
            "scale": self.scale,
            "offset": self.offset,
            "dtype": self.dtype.str,
            "astype": self.astype.str,
        }

    def __repr__(self) -> str:
        r = (
            f"{type(self).__name__}(scale={self.scale}, offset={self.offset}, "
            f"dtype={self.dtype.str!r}"
        )
        if self.astype != self.dtype:
            r += f", astype={self.astype.str!r}"
        return r + ")"


register_codec(FixedScaleOffset)
