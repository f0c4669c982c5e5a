"""chunkzip: chunked, compressed N-dimensional arrays in the Zarr v2 and v3 formats."""
from __future__ import annotations

from . import codecs, config, storage
from .api import (ArrayNotFoundError, ContainsArrayError, array, create, empty, empty_like, full, full_like,
                  load, ones, ones_like, open, open_array, save, zeros, zeros_like)
from .array import Array, ReadOnlyError
from .clib import get_include, get_library_dir
from .copying import copy
from .metadata import MetadataError
from .pipeline import ChunkDecodeError
from .sweep import sweep
from .sync import ProcessSynchronizer, ThreadSynchronizer

__version__ = "0.1.0"

__all__ = [
    "Array", "ArrayNotFoundError", "ChunkDecodeError", "ContainsArrayError", "MetadataError", "ReadOnlyError",
    "ProcessSynchronizer", "ThreadSynchronizer", "array", "codecs", "config", "copy", "create", "empty",
    "empty_like", "full", "full_like", "load", "ones", "ones_like", "open", "open_array", "save", "storage",
    "sweep", "zeros", "zeros_like",
]
__all__ += ["get_include", "get_library_dir"]
