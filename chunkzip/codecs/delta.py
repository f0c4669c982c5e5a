"""Delta filter, byte-compatible with numcodecs' ``delta``.

The first element is stored as is, every other one as the difference from its
predecessor; decoding is a running sum. Integer arithmetic wraps around.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["Delta"]


def _numeric(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"Delta {name}: invalid dtype {dtype!r} ({e})") from None
    if dt.kind not in "biufc":
        raise ValueError(f"Delta supports numeric and bool dtypes only, got {name}={dt.str!r}")
    return dt


def _kernel_dtype(dt: np.dtype) -> np.dtype | None:
    """The dtype the C kernel runs on for ``dt`` (ints through their unsigned twin)."""
    if not dt.isnative:
        return None
    if dt.kind in "iu" and dt.itemsize in (1, 2, 4, 8):
        return np.dtype(f"u{dt.itemsize}")
    if dt.kind == "f" and dt.itemsize in (4, 8):
        return dt
    return None


class Delta(Codec):
    """Delta encoding.

    Parameters
    ----------
    dtype : dtype-like
        Data type of the decoded data.
    astype : dtype-like, optional
        Data type of the encoded differences (default: ``dtype``).

    Examples
    --------
    >>> import numpy as np
    >>> Delta(dtype="<i4").encode(np.array([3, 5, 4, 10], dtype="<i4"))
    array([ 3,  2, -1,  6], dtype=int32)
    """

    codec_id: ClassVar[str] = "delta"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ("dtype", "astype")

    def __init__(self, dtype: Any, astype: Any = None) -> None:
        self.dtype = _numeric("dtype", dtype)
        self.astype = self.dtype if astype is None else _numeric("astype", astype)
        k = _kernel_dtype(self.dtype)
        self._kernel = k if self.astype == self.dtype else None

    def encode(self, buf: Any) -> np.ndarray:
        """Return the 1-D differences of ``buf`` (read as ``dtype``) as ``astype``."""
        arr = _filters.as_typed_array(buf, self.dtype)
        enc = np.empty(arr.shape, dtype=self.astype)
        if self._kernel is not None:
            _filters.delta_encode(arr.view(self._kernel), enc.view(self._kernel))
        elif arr.size and self.dtype.kind == "b":
            # numcodecs: np.diff of bools, i.e. "differs from the previous one"
            enc[0] = arr[0]
            np.not_equal(arr[1:], arr[:-1], out=enc[1:], casting="unsafe")
        elif arr.size:
            enc[0] = arr[0]
            enc[1:] = np.diff(arr)
        return enc

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Running sum of ``buf`` (read as ``astype``) as ``dtype``; into ``out`` if given."""
        enc = _filters.as_typed_array(buf, self.astype)
        if out is not None:
            dec = _filters.out_byte_array(out, enc.size * self.dtype.itemsize).view(self.dtype)
        else:
            dec = np.empty(enc.shape, dtype=self.dtype)
        if self._kernel is not None:
            _filters.delta_decode(enc.view(self._kernel), dec.view(self._kernel))
        elif enc.size and self.dtype.kind == "b":
            # the inverse of "differs from the previous one": a running XOR (numcodecs'
            # cumsum into bool turns every element after the first True into True)
            np.logical_xor.accumulate(enc.astype(bool, copy=False), out=dec)
        elif enc.size:
            np.cumsum(enc, out=dec)
        return dec if out is None else out

    def get_config(self) -> dict:
        return {"id": self.codec_id, "dtype": self.dtype.str, "astype": self.astype.str}

    def __repr__(self) -> str:
        r = f"{type(self).__name__}(dtype={self.dtype.str!r}"
        if self.astype != self.dtype:
            r += f", astype={self.astype.str!r}"
        return r + ")"


register_codec(Delta)
