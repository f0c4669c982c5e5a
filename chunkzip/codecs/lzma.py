"""LZMA compressor (CPython's :mod:`lzma`), byte-compatible with numcodecs' ``lzma``.

Unlike numcodecs, an XZ/ALONE stream is decoded without passing ``filters`` (the
stream header describes them; lzma refuses filters there); only ``FORMAT_RAW``, which
has no header, needs them.
"""
from __future__ import annotations

import lzma as _lzma
from typing import Any, ClassVar

from chunkzip._ext._filters import as_byte_array

from .abc import Codec
from .bounded import stream_decode
from .registry import register_codec

__all__ = ["LZMA"]

_FORMATS = (_lzma.FORMAT_AUTO, _lzma.FORMAT_XZ, _lzma.FORMAT_ALONE, _lzma.FORMAT_RAW)
_CHECKS = (-1, _lzma.CHECK_NONE, _lzma.CHECK_CRC32, _lzma.CHECK_CRC64, _lzma.CHECK_SHA256)


def _plain(value: Any) -> Any:
    """Filter specs as plain JSON values (ints, lists, dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return int(value)
    raise ValueError(f"LZMA filter values must be JSON-serialisable, got {value!r}")


class LZMA(Codec):
    """LZMA/XZ compression.

    Parameters
    ----------
    format : int
        An :mod:`lzma` format code (default ``lzma.FORMAT_XZ``, i.e. 1).
        ``FORMAT_AUTO`` (0) is only valid for decoding, so encoding with it raises.
    check : int
        An integrity check code, e.g. ``lzma.CHECK_NONE``; -1 for the format's default.
    preset : int or None
        Compression preset 0–9 (optionally ``| lzma.PRESET_EXTREME``); None for the
        default. Not allowed together with ``filters``.
    filters : list of dict or None
        A custom filter chain, e.g.
        ``[dict(id=lzma.FILTER_DELTA, dist=4), dict(id=lzma.FILTER_LZMA2, preset=1)]``.
    """

    codec_id: ClassVar[str] = "lzma"
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("format", "check", "preset", "filters")

    def __init__(
        self,
        format: int = 1,
        check: int = -1,
        preset: int | None = None,
        filters: list[dict] | None = None,
    ) -> None:
        if format not in _FORMATS or isinstance(format, bool):
            raise ValueError(f"unknown LZMA format {format!r}; expected one of {_FORMATS}")
        if check not in _CHECKS or isinstance(check, bool):
            raise ValueError(f"unknown LZMA check {check!r}; expected one of {_CHECKS}")
        if preset is not None:
            if isinstance(preset, bool) or not isinstance(preset, int):
                raise ValueError(f"LZMA preset must be an int or None, got {preset!r}")
            if not 0 <= (preset & ~_lzma.PRESET_EXTREME) <= 9:
                raise ValueError(f"LZMA preset must be in [0, 9], got {preset!r}")
        if filters is not None:
            if preset is not None:
                raise ValueError("LZMA: give either preset or filters, not both")
            if not isinstance(filters, (list, tuple)) or not all(
                isinstance(f, dict) and "id" in f for f in filters
            ):
                raise ValueError("LZMA filters must be a list of dicts, each with an 'id'")
            filters = _plain(filters)
            try:  # let liblzma validate the chain now rather than at the first chunk
                _lzma.LZMACompressor(
                    format=_lzma.FORMAT_RAW if format == _lzma.FORMAT_AUTO else format,
                    filters=filters,
                )
            except (_lzma.LZMAError, ValueError, TypeError, KeyError) as e:
                raise ValueError(f"invalid LZMA filters {filters!r}: {e}") from None
        if format == _lzma.FORMAT_RAW and filters is None:
            raise ValueError("LZMA FORMAT_RAW needs an explicit filters chain")
        self.format = int(format)
        self.check = int(check)
        self.preset = preset
        self.filters = filters

    def encode(self, buf: Any) -> bytes:
        """Compress ``buf``."""
        if self.format == _lzma.FORMAT_AUTO:
            raise ValueError("LZMA FORMAT_AUTO can only decode; choose FORMAT_XZ to encode")
        return _lzma.compress(
            as_byte_array(buf),
            format=self.format,
            check=self.check,
            preset=self.preset,
            filters=self.filters,
        )

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Decompress ``buf``; into ``out`` (same number of bytes) when given (decoding
        stops one byte past its size, or the largest chunk's)."""
        filters = self.filters if self.format == _lzma.FORMAT_RAW else None
        fmt = self.format
        return stream_decode("lzma", lambda: _lzma.LZMADecompressor(format=fmt, filters=filters),
                             _lzma.LZMAError, buf, out)


register_codec(LZMA)
