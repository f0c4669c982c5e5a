"""Stores and the default compressor.

``chunkzip.storage.default_compressor`` reads and assigns the compressor used for arrays
created without ``compressor=`` (the same setting as ``chunkzip.config``'s
``default_compressor``).
"""
from __future__ import annotations

import os
import sys
import types
from collections.abc import MutableMapping
from typing import Any

from .base import Store, normalize_path, validate_key
from .cache import LRUStoreCache
from .local import DirectoryStore, LocalStore, NestedDirectoryStore
from .memory import MemoryStore

#: names imported from their module on first use (``FsspecStore`` and ``ObstoreStore``
#: bring in asyncio, ssl and sockets, ``ZipStore`` zipfile): ``import chunkzip`` stays
#: quick for local arrays
_LAZY = {"FsspecStore": ".fsspec", "StoreIOError": ".fsspec", "is_url": ".fsspec", "ZipStore": ".zip",
         "ObstoreStore": ".object_store"}


def _lazy(name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(_LAZY[name], __name__), name)


def _may_be_url(store: Any) -> bool:
    """A cheap pre-check of :func:`~chunkzip.storage.fsspec.is_url` (which needs the
    fsspec module): every URL contains ``://`` or ``::``."""
    return isinstance(store, str) and ("://" in store or "::" in store)

__all__ = ["Store", "MemoryStore", "LocalStore", "DirectoryStore", "NestedDirectoryStore", "LRUStoreCache",
           "FsspecStore", "ObstoreStore", "StoreIOError", "ZipStore", "normalize_store_like", "default_compressor"]


def normalize_store_like(store: Any, read_only: bool = False, storage_options: dict | None = None) -> Store:
    """Turn a path, a URL, a mapping or a store into a :class:`Store`.

    URLs (``s3://``, ``https://``, ``memory://``, chained ``zip::...``) open an
    :class:`FsspecStore` with ``storage_options``; ``file://`` URLs a :class:`LocalStore`.
    """
    url = _may_be_url(store) and _lazy("is_url")(store)
    if storage_options and not url:
        raise ValueError("storage_options is only used with a URL store (s3://, https://, ...), "
                         f"not with {type(store).__name__}")
    if url:
        if store.startswith("file://") and "::" not in store:
            return LocalStore(store[len("file://"):], read_only=read_only)
        return _lazy("FsspecStore").from_url(store, storage_options, read_only=read_only)
    if store is None:
        return MemoryStore(read_only=read_only)
    if isinstance(store, Store):
        return store
    if isinstance(store, (str, os.PathLike)):
        return LocalStore(store, read_only=read_only)
    if isinstance(store, MutableMapping):
        return MemoryStore(store, read_only=read_only)
    raise TypeError(f"store must be a path, a MutableMapping or a chunkzip store, got {type(store).__name__}")


class _StorageModule(types.ModuleType):
    """Lets ``chunkzip.storage.default_compressor = ...`` write through to the config."""

    @property
    def default_compressor(self) -> Any:
        from .. import config

        return config.get("default_compressor")

    @default_compressor.setter
    def default_compressor(self, value: Any) -> None:
        from .. import config

        config.set(default_compressor=value)

    def __getattr__(self, name: str) -> Any:
        if name in _LAZY:
            value = _lazy(name)
            setattr(self, name, value)
            return value
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


sys.modules[__name__].__class__ = _StorageModule
