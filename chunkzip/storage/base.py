"""The store interface: a flat key → bytes mapping with batch calls."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Iterable, Iterator, Sequence

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


class Store(MutableMapping):
    """Base class of chunkzip stores.

    Subclasses implement :meth:`get`, :meth:`set`, :meth:`delete` and :meth:`list_prefix`;
    the batch methods default to loops over those.

    Every store is also a ``MutableMapping`` of key → bytes, as zarr-python 2's stores
    are: ``store[key]`` (``KeyError`` when absent), ``store[key] = value``, ``del
    store[key]``, ``key in store``, ``len``, iteration and ``keys()`` over all keys,
    ``close()`` and ``with store: ...``.  Equality is identity unless a store says
    otherwise.
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

    def iter_batches(self, keys: Sequence[str]) -> Iterator[list[tuple[int, bytes | None]]]:
        """Yield the values of ``keys`` in groups of ``(i, value of keys[i])`` (None for
        absent keys), each group as soon as its values are available; every key appears
        in exactly one group.

        Stores whose reads are network round trips override this to yield each group of
        values as it arrives, so that callers decode early values while later ones are
        still on the wire; this default reads the batch with :meth:`get_many` and yields
        it as one group.
        """
        keys = list(keys)
        if keys:
            yield list(enumerate(self.get_many(keys)))

    def get_bounded(self, key: str, max_nbytes: int) -> bytes | None:
        """:meth:`get` for a value that cannot be valid above ``max_nbytes`` bytes (a
        chunk): larger is a ValueError. Stores that know a value's size before reading
        it (files) override this to refuse without reading."""
        v = self.get(key)
        if v is not None and len(v) > max_nbytes:
            raise ValueError(f"{self!r}: key {key!r} holds {len(v)} bytes, more than a valid value can "
                             f"({max_nbytes})")
        return v

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

    def getsize(self, key: str = "") -> int:
        """Bytes stored at ``key``; for a path that is no key (``""`` for the root),
        the total below it."""
        v = self.get(key) if key else None
        if v is not None:
            return len(v)
        return self.size_prefix(key.rstrip("/") + "/" if key else "")

    def size_prefix(self, prefix: str) -> int:
        """Total bytes stored under ``prefix``."""
        total = 0
        for k in self.list_prefix(prefix):
            v = self.get(k)
            total += 0 if v is None else len(v)
        return total

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    # -- MutableMapping -------------------------------------------------------------
    def __getitem__(self, key: str) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, _as_bytes(value))

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        if key not in self:
            raise KeyError(key)
        self.delete(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self.list_prefix("")))

    def __len__(self) -> int:
        return sum(1 for _ in self.list_prefix(""))

    def rmdir(self, path: str = "") -> None:
        """Delete every key below ``path`` (the whole store for ``""``)."""
        self._check_writable()
        path = normalize_path(path)
        self.delete_many(list(self.list_prefix(path + "/" if path else "")))

    def close(self) -> None:
        """Release what the store holds open (nothing for most stores)."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError(f"{type(self).__name__} is read-only")


def _as_bytes(value: Any) -> bytes:
    """``value`` as bytes: bytes as they are, any contiguous buffer copied; clear
    ``TypeError`` for anything else (str included, as zarr-python 2 refuses it)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        raise TypeError("store values must be bytes-like, got str")
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(f"store values must be bytes-like, got {type(value).__name__}") from None
    if not view.contiguous:
        raise TypeError("store values must be contiguous buffers")
    return view.tobytes(order="A")


def _slice_range(value: bytes, start: int, length: int | None) -> bytes:
    mv = memoryview(value)
    n = len(mv)
    lo = max(n + start, 0) if start < 0 else min(start, n)
    hi = n if length is None else min(lo + max(length, 0), n)
    return bytes(mv[lo:hi])
