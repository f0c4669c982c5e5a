"""Batching of a write's store calls, for stores whose every call is a network round trip.

The pipeline's per-chunk write code runs against a :class:`ChunkBatch` instead of the
store: the chunks a write only partly covers are fetched first in one ``get_many``, the
encoded chunks are collected, and :meth:`ChunkBatch.flush` sends them in one ``set_many``
(and the chunks that became empty in one ``delete_many``). Latency is paid once per batch,
not once per chunk.
"""
from __future__ import annotations

import threading
from typing import Any, Iterable

#: Chunks written per round trip batch (bounds the encoded bytes held in memory).
WRITE_BATCH_CHUNKS = 512


def wants_batches(store: Any, synchronizer: Any) -> bool:
    """True when writes to ``store`` should go through :class:`ChunkBatch`: remote stores,
    and only without a synchronizer (whose per-chunk locks must cover each chunk's own
    read-modify-write)."""
    return synchronizer is None and bool(getattr(store, "batched_io", False))


class ChunkBatch:
    """Store stand-in for one batch of chunk reads or writes (thread-safe)."""

    def __init__(self, store: Any, prefetch: Iterable[str] = ()) -> None:
        self.store = store
        keys = list(dict.fromkeys(prefetch))
        self._old = dict(zip(keys, store.get_many(keys))) if keys else {}
        self._sets: dict[str, bytes] = {}
        self._deletes: set[str] = set()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._sets:
                return self._sets[key]
            if key in self._deletes:
                return None
        if key in self._old:
            return self._old[key]
        return self.store.get(key)

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._deletes.discard(key)
            self._sets[key] = value

    def delete(self, key: str) -> None:
        with self._lock:
            self._sets.pop(key, None)
            self._deletes.add(key)

    def flush(self) -> None:
        """Send the collected writes and deletions."""
        if self._sets:
            self.store.set_many(list(self._sets.items()))
        if self._deletes:
            self.store.delete_many(sorted(self._deletes))
        self._sets, self._deletes = {}, set()
