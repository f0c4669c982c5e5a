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
        new = dict(self._data)
        del new[key]
        self._commit(new)

    def update(self, *args: Any, **kwargs: Any) -> None:  # one write for many keys
        self._array._check_writable()
        add = dict(*args, **kwargs)
        from .metadata import json_dumps

        json_dumps(add)  # refuse what JSON cannot hold before changing anything
        self._commit({**self._data, **add})

    def _commit(self, new: dict) -> None:
        """Store ``new`` as the attributes; the in-memory ones change only once the
        write has succeeded (a full disk or a read-only store leaves them as stored)."""
        from dataclasses import replace

        meta = self._array._meta
        self._array._write_metadata(replace(meta, attributes=new))
        meta.attributes = new

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def asdict(self) -> dict:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"Attributes({self._data!r})"
