"""In-memory store over a dict (or any MutableMapping a user passes)."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Iterator

from .base import Store, _slice_range, validate_key


class MemoryStore(Store):
    """Keys and values held in a mapping (a new dict by default).

    Parameters
    ----------
    mapping : MutableMapping, optional
        Where to keep the data; a user's own dict or mapping is used as it is.
    read_only : bool
        Refuse writes.
    """

    def __init__(self, mapping: MutableMapping | None = None, read_only: bool = False) -> None:
        self._map = {} if mapping is None else mapping
        self.read_only = read_only

    def get(self, key: str) -> bytes | None:
        try:
            return self._map[key]
        except KeyError:
            return None

    def get_many(self, keys) -> list:
        m = self._map
        if isinstance(m, dict):
            return [m.get(k) for k in keys]
        return super().get_many(keys)

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        """Bytes ``[start, start + length)`` of ``key``, sliced without reading the rest."""
        v = self.get(key)
        return None if v is None else _slice_range(v, start, length)

    def set(self, key: str, value: bytes) -> None:
        self._check_writable()
        self._map[validate_key(key)] = bytes(value) if not isinstance(value, bytes) else value

    def delete(self, key: str) -> None:
        self._check_writable()
        self._map.pop(key, None)

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return iter([k for k in list(self._map) if k.startswith(prefix)])

    def getsize(self, key: str) -> int:
        v = self.get(key)
        return 0 if v is None else len(v)

    def __eq__(self, other: object) -> bool:
        # equal contents (as zarr's MemoryStore/dict stores): a pickled copy equals its original
        return isinstance(other, MemoryStore) and (other._map is self._map or other._map == self._map)

    def __hash__(self) -> int:
        return id(self._map)

    def __getstate__(self) -> dict:
        return {"map": self._map, "read_only": self.read_only}

    def __setstate__(self, state: dict) -> None:
        self._map, self.read_only = state["map"], state["read_only"]

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._map)} keys)"
