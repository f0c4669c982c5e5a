"""The ``pickle`` object codec. Decoding is refused unless explicitly allowed.

Unpickling can run arbitrary code, and array metadata (which names the codec) may come
from anyone, so whether to unpickle is a process setting, never a codec parameter::

    with chunkzip.config.set(allow_pickle=True):  # only for data you trust
        z[:]
"""
from __future__ import annotations

import pickle
from typing import Any, ClassVar

import numpy as np

from .. import config
from .abc import Codec
from .json import copy_to_out
from .registry import register_codec

__all__ = ["Pickle", "UnsafeDecodeError"]


class UnsafeDecodeError(RuntimeError):
    """Raised when pickled data would be decoded while ``allow_pickle`` is off."""


class Pickle(Codec):
    """Encode an array of arbitrary Python objects with :mod:`pickle` (numcodecs ``pickle``).

    Parameters
    ----------
    protocol : int
        Pickle protocol used for encoding (default 5, the highest at the time of writing).

    Notes
    -----
    :meth:`decode` raises :class:`UnsafeDecodeError` unless
    ``chunkzip.config.set(allow_pickle=True)`` is in effect (as a setting or inside its
    ``with`` block). Prefer :class:`~chunkzip.codecs.JSON`, :class:`~chunkzip.codecs.MsgPack`
    or the vlen codecs for data shared with others. Zarr v3 has no data type for object
    arrays, so arrays using this codec are stored as Zarr v2.
    """

    codec_id: ClassVar[str] = "pickle"
    kind: ClassVar[str] = "object"
    _config_keys: ClassVar[tuple[str, ...]] = ("protocol",)

    def __init__(self, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self.protocol = protocol

    def encode(self, buf: Any) -> bytes:
        """Pickle ``buf`` (the array object itself, as numcodecs does)."""
        return pickle.dumps(buf, protocol=self.protocol)

    def decode(self, buf: Any, out: np.ndarray | None = None) -> Any:
        """Unpickle ``buf``; refused unless ``chunkzip.config`` has ``allow_pickle=True``."""
        if not config.get("allow_pickle"):
            raise UnsafeDecodeError(
                "refusing to decode pickled data: unpickling can run arbitrary code. If you "
                "trust the source of this data, allow it with "
                "chunkzip.config.set(allow_pickle=True), or only for a block of code with "
                "`with chunkzip.config.set(allow_pickle=True): ...`"
            )
        dec = pickle.loads(buf)
        if out is None:
            return dec
        return copy_to_out(np.asarray(dec), out)

    def __repr__(self) -> str:
        return f"Pickle(protocol={self.protocol})"


register_codec(Pickle)
