"""The codec interface every chunkzip codec implements."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np


class CodecDecodeError(ValueError, RuntimeError):
    """Corrupt or truncated input to a decoder.

    A ``ValueError`` (as chunkzip reports bad input) and a ``RuntimeError`` (as numcodecs
    reports Blosc and Zstd decode failures), so code written for either catches it.
    """


class Codec:
    """Base class of all codecs (compressors, filters, checksums, object codecs).

    Subclasses set ``codec_id`` (the numcodecs / Zarr v2 id) and, where it differs,
    ``v3_name`` (the name zarr-python writes in Zarr v3 metadata), and implement
    :meth:`encode` and :meth:`decode`. The configuration is the object's public
    attributes named in ``_config_keys``; equality and repr derive from it.

    ``kind`` tells the v3 codec pipeline where the codec goes: ``"bytes"`` for
    bytes→bytes codecs (compressors, checksums), ``"array"`` for array→array filters,
    ``"object"`` for object codecs that serialise object arrays to bytes.
    """

    codec_id: ClassVar[str] = ""
    v3_name: ClassVar[str | None] = None
    kind: ClassVar[str] = "bytes"
    _config_keys: ClassVar[tuple[str, ...]] = ()
    #: Largest buffer (bytes) :meth:`encode` takes, None for no fixed limit (numcodecs' attribute).
    max_buffer_size: ClassVar[int | None] = None

    def encode(self, buf: Any) -> Any:  # pragma: no cover - abstract
        """Encode ``buf`` (any buffer-protocol object or ndarray); return bytes or an ndarray."""
        raise NotImplementedError

    def decode(self, buf: Any, out: Any = None) -> Any:  # pragma: no cover - abstract
        """Decode ``buf``; when ``out`` is given, write into it (same nbytes) and return it."""
        raise NotImplementedError

    # -- configuration --------------------------------------------------------------
    def get_config(self) -> dict:
        """Return the numcodecs-compatible configuration (with ``id``)."""
        cfg = {"id": self.codec_id}
        for k in self._config_keys:
            cfg[k] = getattr(self, k)
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "Codec":
        """Instantiate from a configuration as returned by :meth:`get_config`."""
        cfg = dict(config)
        cfg.pop("id", None)
        return cls(**cfg)

    def get_v3_config(self) -> dict:
        """Return the Zarr v3 ``{"name": ..., "configuration": ...}`` form."""
        cfg = self.get_config()
        cfg.pop("id")
        name = self.v3_name or f"numcodecs.{self.codec_id}"
        return {"name": name, "configuration": cfg} if cfg else {"name": name}

    @classmethod
    def from_v3_config(cls, configuration: dict) -> "Codec":
        """Instantiate from the ``configuration`` member of a Zarr v3 codec entry."""
        return cls.from_config(dict(configuration or {}))

    def evolve(self, dtype: np.dtype) -> "Codec":
        """Return a codec with dtype-dependent parameters filled (e.g. Blosc typesize)."""
        return self

    # -- value semantics ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codec):
            return NotImplemented
        return self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(repr(sorted(self.get_config().items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config_keys)
        return f"{type(self).__name__}({params})"
