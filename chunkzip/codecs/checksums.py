"""Checksum codecs, byte-compatible with numcodecs' ``crc32``, ``crc32c``, ``adler32``
and ``fletcher32``.

CRC32, CRC32C and Adler32 put the 32-bit checksum, little-endian, before
(``location='start'``) or after (``'end'``) the data; the defaults are numcodecs'
(``start`` for CRC32/Adler32, ``end`` for CRC32C, which with ``end`` is exactly the
Zarr v3 core ``crc32c`` codec). Fletcher32 (HDF5's variant) always appends.
A mismatch on decode raises RuntimeError, as in numcodecs.
"""
from __future__ import annotations

import zlib as _zlib
from typing import Any, ClassVar

import numpy as np

from chunkzip._ext import _filters

from .abc import Codec
from .registry import register_codec

__all__ = ["CRC32", "CRC32C", "Adler32", "Fletcher32", "JenkinsLookup3", "JenkinsLookup32"]


class _Checksum32(Codec):
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ("location",)
    _default_location: ClassVar[str] = "start"

    def __init__(self, location: str | None = None) -> None:
        if location is None:
            location = self._default_location
        if location not in ("start", "end"):
            raise ValueError(f"checksum location must be 'start' or 'end', got {location!r}")
        self.location = location

    @staticmethod
    def _checksum(data: np.ndarray) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, buf: Any) -> bytes:
        """Return ``buf`` with its 4-byte little-endian checksum attached."""
        payload = _filters.as_byte_array(buf)
        value = self._checksum(payload) & 0xFFFFFFFF
        return _filters.attach_checksum(payload, value, self.location == "end")

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Verify and strip the checksum; copy the payload into ``out`` when given."""
        arr = _filters.as_byte_array(buf)
        if arr.size < 4:
            raise ValueError(f"{self.codec_id}: input too short to hold a 32-bit checksum")
        if self.location == "start":
            stored, payload = arr[:4], arr[4:]
        else:
            stored, payload = arr[-4:], arr[:-4]
        expect = int.from_bytes(stored.tobytes(), "little")
        got = self._checksum(payload) & 0xFFFFFFFF
        if expect != got:
            raise RuntimeError(
                f"stored and computed {self.codec_id} checksums differ "
                f"(stored {expect:#010x}, computed {got:#010x}): the data are corrupt"
            )
        if out is not None:
            return _filters.copy_to_out(payload, out)
        return payload

    def get_config(self) -> dict:
        # numcodecs lists ``location`` only when it was given; omit the default likewise
        cfg: dict = {"id": self.codec_id}
        if self.location != self._default_location:
            cfg["location"] = self.location
        return cfg

    def __repr__(self) -> str:
        return f"{type(self).__name__}(location={self.location!r})"


class CRC32(_Checksum32):
    """CRC32 (zlib) checksum, at the start of the data by default.

    Parameters
    ----------
    location : {'start', 'end'}
        Where the 4-byte checksum goes.
    """

    codec_id: ClassVar[str] = "crc32"
    _default_location: ClassVar[str] = "start"

    @staticmethod
    def _checksum(data: np.ndarray) -> int:
        return _zlib.crc32(data)


class Adler32(_Checksum32):
    """Adler-32 (zlib) checksum, at the start of the data by default.

    Parameters
    ----------
    location : {'start', 'end'}
        Where the 4-byte checksum goes.
    """

    codec_id: ClassVar[str] = "adler32"
    _default_location: ClassVar[str] = "start"

    @staticmethod
    def _checksum(data: np.ndarray) -> int:
        return _zlib.adler32(data)


class CRC32C(_Checksum32):
    """CRC32C (Castagnoli) checksum, at the end of the data by default.

    With ``location='end'`` this is the Zarr v3 core ``crc32c`` codec.

    Parameters
    ----------
    location : {'start', 'end'}
        Where the 4-byte checksum goes.
    """

    codec_id: ClassVar[str] = "crc32c"
    v3_name: ClassVar[str | None] = "crc32c"
    _default_location: ClassVar[str] = "end"

    @staticmethod
    def _checksum(data: np.ndarray) -> int:
        return _filters.crc32c(data)

    def get_v3_config(self) -> dict:
        if self.location == "end":
            return {"name": "crc32c"}
        return {"name": "numcodecs.crc32c", "configuration": {"location": self.location}}


class _AppendedChecksum(Codec):
    """A 32-bit checksum appended to the data as 4 little-endian bytes (HDF5 style)."""

    kind: ClassVar[str] = "bytes"

    def _hash(self, payload: np.ndarray) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, buf: Any) -> bytes:
        """Return ``buf`` followed by its 4-byte little-endian checksum."""
        payload = _filters.as_byte_array(buf)
        return _filters.attach_checksum(payload, self._hash(payload), True)

    def decode(self, buf: Any, out: Any = None) -> Any:
        """Verify and strip the checksum; copy the payload into ``out`` when given."""
        arr = _filters.as_byte_array(buf)
        if arr.size < 4:
            raise ValueError(f"{self.codec_id}: input too short to hold a 32-bit checksum")
        payload = arr[:-4]
        expect = int.from_bytes(arr[-4:].tobytes(), "little")
        got = self._hash(payload)
        if expect != got:
            raise RuntimeError(
                f"stored and computed {self.codec_id} checksums differ "
                f"(stored {expect:#010x}, computed {got:#010x}): the data are corrupt"
            )
        if out is not None:
            return _filters.copy_to_out(payload, out)
        return payload


class Fletcher32(_AppendedChecksum):
    """Fletcher-32 checksum as HDF5 and numcodecs compute it, appended to the data."""

    codec_id: ClassVar[str] = "fletcher32"
    _config_keys: ClassVar[tuple[str, ...]] = ()

    def _hash(self, payload: np.ndarray) -> int:
        return _filters.fletcher32(payload)


class JenkinsLookup3(_AppendedChecksum):
    """Bob Jenkins' lookup3 hash (HDF5's variant), appended to the data as 4
    little-endian bytes; numcodecs' ``jenkins_lookup3``.

    Parameters
    ----------
    initval : int
        Seed of the hash (0..2**32-1).
    prefix : bytes, optional
        Bytes hashed before the data (not stored).
    """

    codec_id: ClassVar[str] = "jenkins_lookup3"
    _config_keys: ClassVar[tuple[str, ...]] = ("initval", "prefix")

    def __init__(self, initval: int = 0, prefix: Any = None) -> None:
        if isinstance(initval, bool) or not isinstance(initval, (int, np.integer)) or not 0 <= initval < 2**32:
            raise ValueError(f"jenkins_lookup3 initval must be an int in [0, 2**32), got {initval!r}")
        self.initval = int(initval)
        if prefix is None:
            self.prefix = None
        elif isinstance(prefix, (list, tuple, np.ndarray)):
            self.prefix = bytes(np.asarray(prefix, dtype=np.uint8))
        else:
            self.prefix = bytes(prefix)

    def get_config(self) -> dict:
        prefix = None if self.prefix is None else list(self.prefix)
        return {"id": self.codec_id, "initval": self.initval, "prefix": prefix}

    def _hash(self, payload: np.ndarray) -> int:
        if self.prefix:
            payload = np.concatenate([np.frombuffer(self.prefix, np.uint8), payload])
        return _filters.jenkins_lookup3(payload, self.initval)


#: The name some code uses for :class:`JenkinsLookup3`.
JenkinsLookup32 = JenkinsLookup3

for _cls in (CRC32, Adler32, Fletcher32, JenkinsLookup3):
    register_codec(_cls)
# CRC32C with location='start' (or as numcodecs.zarr3 wrote it) has a prefixed v3 name.
register_codec(CRC32C, v3_aliases=("numcodecs.crc32c",))
