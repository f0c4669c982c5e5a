"""The store interface: a flat key → bytes mapping with batch calls."""
from __future__ import annotations

from typing import Iterable, Iterator


def validate_key(key: str) -> str:
    """Refuse keys that could leave the store root (``..``, absolute, empty parts)."""
    if not isinstance(key, str):
        raise TypeError(f"store keys must be str, got {type(key).__name__}")
    if key.startswith("/") or key.startswith("\\") or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid store key {key!r}: absolute paths and backslashes are not allowed")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid store key {key!r}: empty, '.' or '..' path segments are not allowed")
    return key


def normalize_path(path: str | None) -> str:
    """Normalise an array's ``path`` inside a store ('' for the root)."""
    if path is None:
        return ""
    path = str(path).strip("/")
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
