"""Base64 codec, byte-compatible with numcodecs' ``base64``."""
from __future__ import annotations

import base64 as _base64
import binascii
from typing import Any, ClassVar

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["Base64"]


class Base64(Codec):
    """Encode bytes as standard base64 text (``A-Z a-z 0-9 + /``, ``=`` padding)."""

    codec_id: ClassVar[str] = "base64"
    kind: ClassVar[str] = "bytes"

    def encode(self, buf: Any) -> bytes:
        """Return the base64 encoding of ``buf``'s bytes."""
        return _base64.standard_b64encode(_filters.as_byte_array(buf))

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decode base64 ``buf``; copy into ``out`` (same number of bytes) when given."""
        try:
            data = _base64.b64decode(_filters.as_byte_array(buf), validate=True)
        except binascii.Error as e:
            raise ValueError(f"base64: invalid input ({e})") from None
        if out is not None:
            return _filters.copy_to_out(data, out)
        return data


register_codec(Base64)
