"""The store interface: a flat key → bytes mapping with batch calls."""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

#: A ranged read: ``(key, start, length)``. ``start`` < 0 counts from the end of the value
#: (a suffix read, e.g. a shard index at the end); ``length`` None reads to the end.
ByteRange = tuple[str, int, "int | None"]


#: Most ``/``-separated segments a key may have (deeper paths exhaust recursion and
#: file-system limits long before they are useful).
MAX_KEY_DEPTH = 256


def validate_key(key: str) -> str:
    """Refuse keys that could leave the store root (``..``, absolute, empty parts)."""
    if not isinstance(key, str):
        raise TypeError(f"store keys must be str, got {type(key).__name__}")
    if key.startswith("/") or key.startswith("\\") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid store key {key!r}: absolute paths and backslashes are not allowed")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid store key {key!r}: empty, '.' or '..' path segments are not allowed")
    if len(parts) > MAX_KEY_DEPTH:
        raise ValueError(f"invalid store key {key[:60]!r}...: {len(parts)} path segments, at most "
                         f"{MAX_KEY_DEPTH} are allowed")
    return key


def normalize_path(path: str | None) -> str:
    """Normalise an array's ``path`` inside a store ('' for the root)."""
    if path is None:
        return ""
    if not isinstance(path, str):
        raise TypeError(f"path must be a str (e.g. 'group/array'), got {type(path).__name__} {path!r}")
    path = path.strip("/")
    if path:
        validate_key(path)
    return path


class Store:
    """Base class of chunkzip stores.

    Subclasses implement :meth:`get`, :meth:`set`, :meth:`delete` and :meth:`list_prefix`;
    the batch methods default to loops over those.
    """

    read_only: bool = False
    #: Writes spend most of their time in system calls that release the GIL (file
    #: stores): chunk writes then use the pool however small the chunks are.
    blocking_io: bool = False

    def get(self, key: str) -> bytes | None:  # pragma: no cover - abstract
        """Return the value of ``key`` or None when it is absent."""
        raise NotImplementedError

    def set(self, key: str, value: bytes) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def delete(self, key: str) -> None:  # pragma: no cover - abstract
        """Remove ``key``; absent keys are ignored."""
        raise NotImplementedError

    def list_prefix(self, prefix: str) -> Iterator[str]:  # pragma: no cover - abstract
        """Yield every key that starts with ``prefix``."""
        raise NotImplementedError

    def get_many(self, keys: Iterable[str]) -> list[bytes | None]:
        return [self.get(k) for k in keys]

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        """Return bytes ``[start, start + length)`` of ``key`` (None when absent).

        ``start`` < 0 counts from the end of the value; ``length`` None reads to the end.
        A range past the end of the value is cut short, as slicing does. Stores that can
        read part of a value (files with ``pread``, HTTP ``Range``) override this.
        """
        v = self.get(key)
        if v is None:
            return None
        return _slice_range(v, start, length)

    def get_ranges(self, ranges: Sequence[ByteRange]) -> list[bytes | None]:
        """Ranged reads in a batch (remote stores issue them concurrently)."""
        return [self.get_range(k, s, n) for k, s, n in ranges]

    def list_dir(self, prefix: str) -> list[str]:
        """Names of the immediate children (keys or sub-prefixes) below ``prefix``
        (``""`` for the root, otherwise a prefix ending in ``/``)."""
        names = set()
        for k in self.list_prefix(prefix):
            names.add(k[len(prefix):].split("/", 1)[0])
        return sorted(names)

    def set_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        for k, v in items:
            self.set(k, v)

    def delete_many(self, keys: Iterable[str]) -> None:
        for k in keys:
            self.delete(k)

    def getsize(self, key: str) -> int:
        v = self.get(key)
        return 0 if v is None else len(v)

    def size_prefix(self, prefix: str) -> int:
        """Total bytes stored under ``prefix``."""
        return sum(self.getsize(k) for k in self.list_prefix(prefix))

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError(f"{type(self).__name__} is read-only")


def _slice_range(value: bytes, start: int, length: int | None) -> bytes:
    mv = memoryview(value)
    n = len(mv)
    lo = max(n + start, 0) if start < 0 else min(start, n)
    hi = n if length is None else min(lo + max(length, 0), n)
    return bytes(mv[lo:hi])
