"""The stores zarr-python-2-style test classes run against (shared by the test modules).

Each entry makes a fresh, empty store below a temporary directory.  ZipStore joins when
``chunkzip.storage.zip`` exists (it comes from the hierarchy work, issue 10).
"""
from __future__ import annotations

import importlib.util
import os
from collections.abc import MutableMapping
from typing import Any, Callable

from chunkzip.storage import LocalStore, LRUStoreCache, MemoryStore, NestedDirectoryStore


class PlainMapping(MutableMapping):
    """A MutableMapping that is not a dict (zarr-python 2 accepts any)."""

    def __init__(self) -> None:
        self._d: dict = {}

    def __getitem__(self, k: str) -> Any:
        return self._d[k]

    def __setitem__(self, k: str, v: Any) -> None:
        self._d[k] = v

    def __delitem__(self, k: str) -> None:
        del self._d[k]

    def __iter__(self):
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)


def _zip(tmp: str) -> Any:
    from chunkzip.storage.zip import ZipStore  # type: ignore[import-not-found]

    os.makedirs(tmp, exist_ok=True)
    return ZipStore(os.path.join(tmp, "data.zip"), mode="w")


STORES: dict[str, Callable[[str], Any]] = {
    "dict": lambda tmp: {},
    "mapping": lambda tmp: PlainMapping(),
    "memory": lambda tmp: MemoryStore(),
    "local": lambda tmp: LocalStore(os.path.join(tmp, "data")),
    "nested": lambda tmp: NestedDirectoryStore(os.path.join(tmp, "data")),
    "lru-local": lambda tmp: LRUStoreCache(LocalStore(os.path.join(tmp, "data")), max_size=1 << 20),
}
if importlib.util.find_spec("chunkzip.storage.zip") is not None:
    STORES["zip"] = _zip

#: Stores that cannot delete a key (as in zarr-python 2, a zip file cannot drop a member).
NO_DELETE = {"zip"}


def skip_without_delete(name: str) -> None:
    """Skip a test that deletes keys on a store that cannot."""
    import pytest

    if name in NO_DELETE:
        pytest.skip(f"{name} stores cannot delete keys (NotImplementedError, as in zarr-python 2)")
