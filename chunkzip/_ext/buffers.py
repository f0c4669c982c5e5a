"""Buffer views shared by the Cython modules (one place for the contiguity rules)."""
from __future__ import annotations

import re
from typing import Any

import numpy as np


def as_u8(obj: Any, writable: bool = False) -> np.ndarray:
    """Flat ``uint8`` view (no copy) of a contiguous buffer, in memory order.

    Raises TypeError for object arrays and ValueError for non-contiguous or (when
    ``writable``) read-only buffers.
    """
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("object arrays have no raw byte buffer")
        if not (obj.flags.c_contiguous or obj.flags.f_contiguous):
            raise ValueError("buffer must be contiguous")
        if writable and not obj.flags.writeable:
            raise ValueError("output buffer is read-only")
        return obj.reshape(-1, order="A").view(np.uint8)
    mv = memoryview(obj)
    if "O" in re.sub(r":[^:]*:", "", mv.format):  # Python object pointers (field names dropped)
        raise TypeError("object arrays have no raw byte buffer")
    if not mv.contiguous:
        raise ValueError("buffer must be contiguous")
    if writable and mv.readonly:
        raise ValueError("output buffer is read-only")
    if mv.format != "B" or mv.ndim != 1:
        if not mv.c_contiguous:  # F-contiguous multi-dimensional memoryviews: through NumPy
            return np.asarray(mv).reshape(-1, order="A").view(np.uint8)
        mv = mv.cast("B")
    return np.frombuffer(mv, dtype=np.uint8) if mv.readonly else np.asarray(mv)
