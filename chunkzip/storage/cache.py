"""``LRUStoreCache``: a size-bounded, thread-safe cache of another store's values."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterable, Iterator

from .base import Store


class LRUStoreCache(Store):
    """Keep recently read values (chunks and metadata) of a slower store in memory.

    Reads are answered from the cache when they can be; misses are fetched from the
    wrapped store (in one batch for :meth:`get_many`) and kept, the least recently used
    values being dropped once more than ``max_size`` bytes are held.  The list of keys is
    cached too.  Writes and deletes go through to the wrapped store and update the cache.
    Changes made to the wrapped store behind the cache's back are seen only after
    :meth:`invalidate`.  Safe to share between threads.

    Parameters
    ----------
    store : Store or MutableMapping
        The store to cache (anything :func:`chunkzip.storage.normalize_store_like` takes).
    max_size : int or None
        Most bytes of values to hold; None for no bound.

    Attributes
    ----------
    hits, misses : int
        Reads answered from the cache / from the wrapped store.
    """

    def __init__(self, store: Any, max_size: int | None) -> None:
        from . import normalize_store_like

        if max_size is not None and (isinstance(max_size, bool) or int(max_size) < 0):
            raise ValueError(f"max_size must be None or a non-negative int, got {max_size!r}")
        self._store = normalize_store_like(store)
        self._max_size = None if max_size is None else int(max_size)
        self._init_cache()

    def _init_cache(self) -> None:
        self._values: OrderedDict[str, bytes] = OrderedDict()
        self._current_size = 0
        self._keys: list[str] | None = None
        self._mutex = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- properties of the wrapped store -------------------------------------------------
    @property
    def store(self) -> Store:
        """The wrapped store."""
        return self._store

    @property
    def max_size(self) -> int | None:
        return self._max_size

    @property
    def read_only(self) -> bool:  # type: ignore[override]
        return self._store.read_only

    @property
    def blocking_io(self) -> bool:  # type: ignore[override]
        return self._store.blocking_io

    @property
    def dimension_separator(self) -> str | None:
        return getattr(self._store, "dimension_separator", None)

    # -- cache bookkeeping (callers hold the mutex) --------------------------------------
    def _cache_value(self, key: str, value: bytes) -> None:
        n = len(value)
        if self._max_size is not None and n > self._max_size:
            return
        old = self._values.pop(key, None)
        if old is not None:
            self._current_size -= len(old)
        if self._max_size is not None:
            while self._current_size + n > self._max_size and self._values:
                _k, v = self._values.popitem(last=False)
                self._current_size -= len(v)
        self._values[key] = value
        self._current_size += n

    def _drop_value(self, key: str) -> None:
        old = self._values.pop(key, None)
        if old is not None:
            self._current_size -= len(old)

    def invalidate(self) -> None:
        """Forget every cached value and the cached key list."""
        with self._mutex:
            self._values.clear()
            self._current_size = 0
            self._keys = None

    def invalidate_values(self) -> None:
        """Forget the cached values (keep the key list)."""
        with self._mutex:
            self._values.clear()
            self._current_size = 0

    def invalidate_keys(self) -> None:
        """Forget the cached key list."""
        with self._mutex:
            self._keys = None

    @property
    def current_size(self) -> int:
        """Bytes of values held now."""
        return self._current_size

    # -- reads ---------------------------------------------------------------------------
    def _lookup(self, key: str) -> bytes | None:
        with self._mutex:
            v = self._values.get(key)
            if v is not None:
                self._values.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return v

    def get(self, key: str) -> bytes | None:
        v = self._lookup(key)
        if v is not None:
            return v
        v = self._store.get(key)
        if v is not None:
            v = v if isinstance(v, bytes) else bytes(v)
            with self._mutex:
                self._cache_value(key, v)
        return v

    def get_many(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        out: list[bytes | None] = [None] * len(keys)
        missing = []
        with self._mutex:
            for i, k in enumerate(keys):
                v = self._values.get(k)
                if v is not None:
                    self._values.move_to_end(k)
                    out[i] = v
                    self.hits += 1
                else:
                    missing.append(i)
                    self.misses += 1
        if missing:
            fetched = self._store.get_many([keys[i] for i in missing])
            with self._mutex:
                for i, v in zip(missing, fetched):
                    if v is not None:
                        v = v if isinstance(v, bytes) else bytes(v)
                        self._cache_value(keys[i], v)
                    out[i] = v
        return out

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        with self._mutex:
            v = self._values.get(key)
        if v is not None:
            return super().get_range(key, start, length)  # slices the cached value
        return self._store.get_range(key, start, length)

    def _all_keys(self) -> list[str]:
        with self._mutex:
            keys = self._keys
        if keys is None:
            keys = list(self._store.list_prefix(""))
            with self._mutex:
                self._keys = keys
        return keys

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return iter([k for k in self._all_keys() if k.startswith(prefix)])

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        with self._mutex:
            if key in self._values:
                return True
        return key in set(self._all_keys())

    def getsize(self, key: str = "") -> int:
        return self._store.getsize(key)

    def size_prefix(self, prefix: str) -> int:
        return self._store.size_prefix(prefix)

    # -- writes --------------------------------------------------------------------------
    def set(self, key: str, value: bytes) -> None:
        self._store.set(key, value)
        value = value if isinstance(value, bytes) else bytes(memoryview(value))
        with self._mutex:
            self._keys = None
            self._cache_value(key, value)

    def delete(self, key: str) -> None:
        self._store.delete(key)
        with self._mutex:
            self._keys = None
            self._drop_value(key)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._store.delete_many(keys)
        with self._mutex:
            self._keys = None
            for k in keys:
                self._drop_value(k)

    def rmdir(self, path: str = "") -> None:
        self._store.rmdir(path)
        self.invalidate()

    def close(self) -> None:
        self._store.close()

    # -- pickling: the wrapped store and the bound; the cache starts empty --------------
    def __getstate__(self) -> dict:
        return {"store": self._store, "max_size": self._max_size}

    def __setstate__(self, state: dict) -> None:
        self._store, self._max_size = state["store"], state["max_size"]
        self._init_cache()

    def __repr__(self) -> str:
        return f"LRUStoreCache({self._store!r}, max_size={self._max_size})"
