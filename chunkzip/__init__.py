"""chunkzip: chunked, compressed N-dimensional arrays in the Zarr v2 and v3 formats."""
from __future__ import annotations

from . import codecs, config, storage
from .api import (ArrayNotFoundError, ContainsArrayError, array, create, empty, empty_like, full, full_like,
                  load, ones, ones_like, open, open_array, open_like, save, zeros, zeros_like)
from .array import Array, ReadOnlyError
from .clib import get_include, get_library_dir
from .copying import CopyError, copy, copy_store
from .hierarchy import Group, consolidate_metadata, group, open_consolidated, open_group
from .hierarchy_copy import copy_all
from .nodes import ContainsGroupError, GroupNotFoundError, NodeNotFoundError
from .metadata import MetadataError
from .pipeline import ChunkDecodeError
from .sweep import sweep
from .storage import DirectoryStore, LocalStore, LRUStoreCache, MemoryStore, NestedDirectoryStore
from .sync import ProcessSynchronizer, ThreadSynchronizer

__version__ = "0.1.0"

__all__ = [
    "Array", "ArrayNotFoundError", "ChunkDecodeError", "ContainsArrayError", "MetadataError", "ReadOnlyError",
    "ProcessSynchronizer", "ThreadSynchronizer", "array", "codecs", "config", "copy", "create", "empty",
    "empty_like", "full", "full_like", "load", "ones", "ones_like", "open", "open_array", "save", "storage",
    "sweep", "zeros", "zeros_like",
    "Group", "ContainsGroupError", "GroupNotFoundError", "NodeNotFoundError", "consolidate_metadata", "group",
    "open_consolidated", "open_group", "copy_all",
]
__all__ += ["CopyError", "copy_store", "open_like", "DirectoryStore", "LocalStore", "LRUStoreCache", "MemoryStore",
            "NestedDirectoryStore"]  # zarr-python 2 code finds its stores at the top level
__all__ += ["get_include", "get_library_dir"]
