"""Codecs: compressors, filters, checksums and object codecs (numcodecs-compatible).

Names are resolved lazily, so ``import chunkzip.codecs`` does no codec initialisation.
"""
from __future__ import annotations

import importlib
from typing import Any

from .abc import Codec
from .registry import get_codec, get_codec_v3, register_codec

_NAMES: dict[str, str] = {
    "Blosc": "blosc", "blosc": "blosc",
    "Zstd": "zstd", "LZ4": "lz4", "Zlib": "zlib", "GZip": "zlib", "BZ2": "bz2", "LZMA": "lzma",
    "Delta": "delta", "FixedScaleOffset": "fixedscaleoffset", "Quantize": "quantize",
    "AsType": "astype", "PackBits": "packbits", "Shuffle": "shuffle", "BitRound": "bitround",
    "CRC32": "checksums", "CRC32C": "checksums", "Adler32": "checksums", "Fletcher32": "checksums",
    "JenkinsLookup3": "checksums", "JenkinsLookup32": "checksums", "Base64": "b64",
    "VLenUTF8": "vlen", "VLenBytes": "vlen", "VLenArray": "vlen",
    "JSON": "json", "MsgPack": "msgpacks", "Pickle": "pickles", "Categorize": "categorize",
}

__all__ = ["Codec", "get_codec", "get_codec_v3", "register_codec", *_NAMES]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        module = importlib.import_module(f"chunkzip.codecs.{_NAMES[name]}")
        return module if name == _NAMES[name] else getattr(module, name)
    raise AttributeError(f"module 'chunkzip.codecs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
