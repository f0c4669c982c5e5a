"""AsType filter, byte-compatible with numcodecs' ``astype``: store data as another dtype."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["AsType"]


def _dtype(name: str, dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise ValueError(f"AsType {name}: invalid dtype {dtype!r} ({e})") from None
    if dt.hasobject or dt.kind not in "biufcmM":
        raise ValueError(f"AsType supports numeric/bool/datetime dtypes, got {name}={dt.str!r}")
    return dt


class AsType(Codec):
    """Convert data to ``encode_dtype`` on encode and back to ``decode_dtype`` on decode.

    Parameters
    ----------
    encode_dtype : dtype-like
        Data type the data are stored as.
    decode_dtype : dtype-like
        Data type of the decoded data.
    """

    codec_id: ClassVar[str] = "astype"
    kind: ClassVar[str] = "array"
    _config_keys: ClassVar[tuple[str, ...]] = ("encode_dtype", "decode_dtype")

    def __init__(self, encode_dtype: Any, decode_dtype: Any) -> None:
        self.encode_dtype = _dtype("encode_dtype", encode_dtype)
        self.decode_dtype = _dtype("decode_dtype", decode_dtype)

    def encode(self, buf: Any) -> np.ndarray:
        """Return ``buf`` (read as ``decode_dtype``) converted to ``encode_dtype``."""
        return _filters.as_typed_array(buf, self.decode_dtype).astype(self.encode_dtype)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Return ``buf`` (read as ``encode_dtype``) as ``decode_dtype``; into ``out``."""
        enc = _filters.as_typed_array(buf, self.encode_dtype)
        if out is not None:
            dest = _filters.out_byte_array(out, enc.size * self.decode_dtype.itemsize)
            dest.view(self.decode_dtype)[...] = enc
            return out
        return enc.astype(self.decode_dtype)

    def get_config(self) -> dict:
        return {
            "id": self.codec_id,
            "encode_dtype": self.encode_dtype.str,
            "decode_dtype": self.decode_dtype.str,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(encode_dtype={self.encode_dtype.str!r}, "
            f"decode_dtype={self.decode_dtype.str!r})"
        )


register_codec(AsType)
