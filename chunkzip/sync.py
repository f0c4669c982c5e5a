"""Chunk-level locks for concurrent writers."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import defaultdict
from typing import Iterator

from .storage.base import validate_key


class ThreadSynchronizer:
    """One lock per chunk key, for writers in several threads of one process."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def __getitem__(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks[key]

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()


class ProcessSynchronizer:
    """One file lock per chunk key below ``path``, for writers in several processes on
    one machine (``fcntl.flock``: the kernel releases a dead process's lock, so a stale
    lock file never blocks the next writer).

    Parameters
    ----------
    path : str
        Directory for the lock files (created if needed).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.path.abspath(os.fspath(path))
        os.makedirs(self.path, exist_ok=True)
        self._local = ThreadSynchronizer()  # threads of this process share one file lock per key

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        name = validate_key(key).replace("/", "__")
        with self._local[key]:
            fd = os.open(os.path.join(self.path, name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __getitem__(self, key: str) -> contextlib.AbstractContextManager:
        return self._lock(key)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])

    def __repr__(self) -> str:
        return f"ProcessSynchronizer({self.path!r})"
