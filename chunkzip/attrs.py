"""User attributes of an array, written to the store on every change."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Iterator


class Attributes(MutableMapping):
    """A dict-like view of the array's attributes (v2 ``.zattrs``, v3 ``attributes``)."""

    def __init__(self, array: Any) -> None:
        self._array = array

    @property
    def _data(self) -> dict:
        if not getattr(self._array, "_cache_metadata", True):
            self._array._refresh_metadata()  # cache_metadata=False: what the store holds now
        return self._array._meta.attributes

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        self._array._check_writable()
        del self._data[key]
        self._array._write_metadata()

    def update(self, *args: Any, **kwargs: Any) -> None:  # one write for many keys
        self._array._check_writable()
        new = dict(*args, **kwargs)
        from .metadata import json_dumps

        json_dumps(new)  # refuse what JSON cannot hold before changing anything
        self._data.update(new)
        self._array._write_metadata()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def asdict(self) -> dict:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Attributes({self._data!r})"
