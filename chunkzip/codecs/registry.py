"""Codec registry: look codecs up by numcodecs id (v2) or Zarr v3 name."""
from __future__ import annotations

import importlib
from typing import Any

from .abc import Codec

_by_id: dict[str, type[Codec]] = {}
_by_v3_name: dict[str, type[Codec]] = {}

# id -> module that defines it; imported on first use so importing chunkzip stays cheap.
_LAZY: dict[str, str] = {
    "blosc": "blosc",
    "zstd": "zstd", "lz4": "lz4", "zlib": "zlib", "gzip": "zlib", "bz2": "bz2", "lzma": "lzma",
    "delta": "delta", "fixedscaleoffset": "fixedscaleoffset", "quantize": "quantize",
    "astype": "astype", "packbits": "packbits", "shuffle": "shuffle", "bitround": "bitround",
    "crc32": "checksums", "crc32c": "checksums", "adler32": "checksums", "fletcher32": "checksums",
    "jenkins_lookup3": "checksums", "base64": "b64",
    "vlen-utf8": "vlen", "vlen-bytes": "vlen", "vlen-array": "vlen",
    "json2": "json", "msgpack2": "msgpacks", "pickle": "pickles", "categorize": "categorize",
}


def register_codec(cls: type[Codec], codec_id: str | None = None,
                   v3_aliases: tuple[str, ...] = ()) -> type[Codec]:
    """Register ``cls`` under its ``codec_id`` (or ``codec_id``), its v3 name, and any
    other v3 names it should be read from (e.g. ``numcodecs.zstd`` besides ``zstd``)."""
    _by_id[codec_id or cls.codec_id] = cls
    _by_v3_name[cls.v3_name or f"numcodecs.{cls.codec_id}"] = cls
    for alias in v3_aliases:
        _by_v3_name.setdefault(alias, cls)
    return cls


def _lookup(codec_id: str) -> type[Codec]:
    if codec_id not in _by_id and codec_id in _LAZY:
        importlib.import_module(f"chunkzip.codecs.{_LAZY[codec_id]}")
    try:
        return _by_id[codec_id]
    except KeyError:
        raise ValueError(f"unknown codec id {codec_id!r}") from None


def get_codec(config: Any) -> Codec:
    """Return a codec from a numcodecs-style config dict ``{"id": ..., **params}``.

    A codec object (ours, or a numcodecs codec whose id we implement) is accepted too.
    """
    if isinstance(config, Codec):
        return config
    if hasattr(config, "get_config") and hasattr(config, "codec_id"):  # numcodecs codec
        config = config.get_config()
    if not isinstance(config, dict) or "id" not in config:
        raise TypeError(f"expected a codec or a codec config dict with an 'id', got {config!r}")
    cls = _lookup(config["id"])
    try:
        return cls.from_config(config)
    except TypeError as e:
        raise ValueError(f"bad configuration for codec {config['id']!r}: {e}") from None


def get_codec_v3(entry: Any) -> Codec:
    """Return a codec from a Zarr v3 codec entry ``{"name": ..., "configuration": ...}``."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict) or "name" not in entry:
        raise ValueError(f"bad v3 codec entry {entry!r}")
    name = entry["name"]
    if name not in _by_v3_name:
        short = name[len("numcodecs."):] if name.startswith("numcodecs.") else name
        if short in _LAZY:
            importlib.import_module(f"chunkzip.codecs.{_LAZY[short]}")
    if name not in _by_v3_name:
        raise ValueError(f"unknown codec {name!r}")
    try:
        return _by_v3_name[name].from_v3_config(entry.get("configuration") or {})
    except TypeError as e:
        raise ValueError(f"bad configuration for codec {name!r}: {e}") from None
