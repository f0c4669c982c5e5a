"""Chunk-level locks for concurrent writers.

When is a synchronizer needed?

* Writers that each update a separate region whose boundaries are aligned with chunk
  boundaries never touch the same chunk, so they need **no** synchronizer: every chunk
  is written whole, and stores replace a key in one step (the directory store writes a
  temporary file and renames it into place).
* Writers whose regions share a chunk (regions not aligned with chunk boundaries,
  interleaved elements, ...) each read, modify and write back that chunk; without a lock
  one writer can overwrite the other's update with stale data. With a synchronizer the
  array's pipeline holds the lock of a chunk key around every read-modify-write of a
  partial chunk and around every whole-chunk write, so concurrent writers to *different
  elements* lose no update.

Use :class:`ThreadSynchronizer` for threads of one process and :class:`ProcessSynchronizer`
for several processes (and their threads) on one machine or a shared file system that
supports ``flock``. Neither makes one writer's update of an element and another writer's
update of the *same* element ordered, and neither isolates readers from writers.
"""
from __future__ import annotations

import fcntl
import os
import threading
from typing import Any

from .storage.base import validate_key

__all__ = ["ThreadSynchronizer", "ProcessSynchronizer"]


class _KeyLock:
    """Context manager for one key of a :class:`ThreadSynchronizer`.

    The lock object of a key exists only while some thread holds or waits for it, so a
    synchronizer used on millions of chunks does not keep millions of locks alive.
    """

    __slots__ = ("_sync", "_key", "_entry")

    def __init__(self, sync: "ThreadSynchronizer", key: str) -> None:
        self._sync, self._key, self._entry = sync, key, None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        sync, key = self._sync, self._key
        with sync._guard:
            entry = sync._locks.get(key)
            if entry is None:
                entry = sync._locks[key] = [threading.Lock(), 0]
            entry[1] += 1
        ok = entry[0].acquire(blocking, timeout)
        if not ok:
            self._forget(entry)
            return False
        self._entry = entry
        return True

    def release(self) -> None:
        entry, self._entry = self._entry, None
        if entry is None:
            raise RuntimeError(f"lock for key {self._key!r} released without being held")
        entry[0].release()
        self._forget(entry)

    def _forget(self, entry: list) -> None:
        sync = self._sync
        with sync._guard:
            entry[1] -= 1
            if entry[1] == 0 and sync._locks.get(self._key) is entry:
                del sync._locks[self._key]

    def __enter__(self) -> "_KeyLock":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


class ThreadSynchronizer:
    """One lock per chunk key, for writers in several threads of one process.

    ``synchronizer[key]`` is a context manager holding the lock of ``key``. Pass the
    synchronizer when creating or opening an array (``synchronizer=``). Not needed when
    every thread writes its own chunk-aligned region; see the module documentation.
    A pickled ThreadSynchronizer unpickles as a fresh one (locks do not cross processes).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [lock, number of holders and waiters]

    def __getitem__(self, key: str) -> _KeyLock:
        return _KeyLock(self, key)

    def __len__(self) -> int:
        """Number of keys currently locked or waited for."""
        with self._guard:
            return len(self._locks)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()

    def __repr__(self) -> str:
        return "ThreadSynchronizer()"


class _FileKeyLock:
    """Context manager for one key of a :class:`ProcessSynchronizer`."""

    __slots__ = ("_sync", "_key", "_local", "_fd")

    def __init__(self, sync: "ProcessSynchronizer", key: str) -> None:
        self._sync, self._key, self._local, self._fd = sync, key, None, -1

    def __enter__(self) -> "_FileKeyLock":
        sync, key = self._sync, self._key
        path = sync.lock_path(key)
        local = sync._local[key]  # threads of this process queue here, not on the file
        local.acquire()
        try:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except FileNotFoundError:  # lock directory removed meanwhile
                os.makedirs(sync.path, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            local.release()
            raise
        self._local, self._fd = local, fd
        return self

    def __exit__(self, *exc: Any) -> None:
        fd, local = self._fd, self._local
        self._fd, self._local = -1, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            local.release()


class ProcessSynchronizer:
    """One file lock per chunk key below ``path``, for writers in several processes (and
    threads) sharing a file system that supports ``flock`` (local disks do; some network
    file systems do not).

    The locks are ``fcntl.flock`` locks on files ``<path>/<key>.lock``: the kernel drops
    the lock of a process that dies, so a lock file left behind by a killed writer never
    blocks the next one. Lock files are small and are kept for reuse; delete the directory
    when no writer is running to clean up. Pickles as its path, so it can be handed to
    worker processes (``multiprocessing`` spawn or fork, dask's processes scheduler).

    Not needed when every process writes its own chunk-aligned region; see the module
    documentation.

    Parameters
    ----------
    path : str or os.PathLike
        Directory for the lock files (created if needed).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.path.abspath(os.fspath(path))
        os.makedirs(self.path, exist_ok=True)
        self._local = ThreadSynchronizer()

    def lock_path(self, key: str) -> str:
        """The lock file of ``key``."""
        name = validate_key(key).replace("/", "__")
        return os.path.join(self.path, name + ".lock")

    def __getitem__(self, key: str) -> _FileKeyLock:
        return _FileKeyLock(self, key)

    def __getstate__(self) -> dict:
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProcessSynchronizer) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    def __repr__(self) -> str:
        return f"ProcessSynchronizer({self.path!r})"
