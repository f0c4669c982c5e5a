"""Shuffle filter, byte-compatible with numcodecs' ``shuffle``.

Byte ``j`` of element ``i`` moves to position ``j * n + i`` (all first bytes, then all
second bytes, ...), which groups similar bytes for the compressor that follows.
zarr-python 3 treats it as a bytes→bytes codec.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["Shuffle"]


class Shuffle(Codec):
    """Byte shuffle of fixed-size elements.

    Parameters
    ----------
    elementsize : int
        Size of one element in bytes; 0 or 1 means no shuffling (a copy).
    """

    codec_id: ClassVar[str] = "shuffle"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("elementsize",)

    def __init__(self, elementsize: int = 4) -> None:
        if isinstance(elementsize, bool) or not isinstance(elementsize, int) or elementsize < 0:
            raise ValueError(f"Shuffle elementsize must be an int >= 0, got {elementsize!r}")
        self.elementsize = elementsize

    def _run(self, name: str, buf: Any, out: Any) -> Any:
        from chunkzip._ext import _shuffle

        src = _filters.as_byte_array(buf)
        if self.elementsize <= 1:
            return _filters.copy_to_out(src, out) if out is not None else src.copy()
        if src.nbytes % self.elementsize:
            raise ValueError(
                f"Shuffle: {src.nbytes} bytes are not a whole number of "
                f"{self.elementsize}-byte elements"
            )
        if out is not None:
            _filters.out_byte_array(out, src.nbytes)  # size/writability check, clear error
        return getattr(_shuffle, name)(src, self.elementsize, out)

    def encode(self, buf: Any) -> np.ndarray:
        """Return the shuffled bytes (``uint8``)."""
        return self._run("byte_shuffle", buf, None)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Return the unshuffled bytes; into ``out`` when given."""
        return self._run("byte_unshuffle", buf, out)


register_codec(Shuffle)
