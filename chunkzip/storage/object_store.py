"""A remote store on ``obstore`` (Python bindings of the Rust ``object_store`` crate):
S3, GCS, Azure Blob, HTTP, local files and memory, with requests made in Rust.

Against an S3 server its requests cost far less client CPU than s3fs/botocore (see
``bench/bench_s3_backends.py``). Batches run concurrently on a chunkzip event loop with
the same limits, bounded retries, streaming reads and errors as
:class:`~chunkzip.storage.FsspecStore` (:class:`~chunkzip.storage.async_batches.AsyncBatchStore`);
obstore's own retries are off unless ``retry_config`` says otherwise, so that
``io_retries`` and ``io_timeout`` bound every request.
"""
from __future__ import annotations

import asyncio
from typing import Any, Iterable, Iterator, Sequence

from .async_batches import AsyncBatchStore, _bind, _retryable, background_loop
from .base import ByteRange, validate_key

__all__ = ["ObstoreStore"]

#: obstore errors that another attempt cannot fix
_FINAL_ERRORS = ("InvalidPathError", "NotSupportedError", "PermissionDeniedError", "UnauthenticatedError",
                 "UnknownConfigurationKeyError", "PreconditionError", "AlreadyExistsError", "NotModifiedError")


def _obstore() -> Any:
    try:
        import obstore
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ObstoreStore needs obstore: pip install 'chunkzip[obstore]'") from e
    return obstore


class ObstoreStore(AsyncBatchStore):
    """Keys as objects of an obstore store.

    Parameters
    ----------
    store : obstore.store.ObjectStore
        E.g. ``obstore.store.S3Store("bucket", prefix="x.zarr", endpoint=...)``; keys are
        paths below its prefix.
    read_only : bool
        Refuse writes.
    url, storage_options : optional
        What :meth:`from_url` was given; kept for pickling and for error messages.

    Notes
    -----
    Writes are single ``PUT``s, atomic in every obstore backend: a reader sees the old
    value or the new one, never a part. Pickling keeps the URL, the options and the
    mode when the store came from :meth:`from_url`, otherwise the obstore store itself.
    """

    def __init__(self, store: Any, read_only: bool = False, *, url: str | None = None,
                 storage_options: dict | None = None) -> None:
        self.store = store
        self.read_only = bool(read_only)
        self.url = url if url is not None else type(store).__name__
        self.storage_options = dict(storage_options or {})
        self._from_url = url is not None

    @classmethod
    def from_url(cls, url: str, storage_options: dict | None = None, read_only: bool = False) -> "ObstoreStore":
        """Open the store at ``url`` (``s3://bucket/x.zarr``, ``gs://...``, ``az://...``,
        ``https://...``, ``file:///...``, ``memory:///``).

        Parameters
        ----------
        url : str
        storage_options : dict, optional
            obstore's configuration for the backend, as ``obstore.store.from_url`` takes
            it: config keys (``endpoint``, ``region``, ``access_key_id``,
            ``secret_access_key``, ``skip_signature``, ...), ``client_options``
            (``{"allow_http": True}`` for plain-HTTP endpoints), ``retry_config``.
        read_only : bool
        """
        from obstore.store import from_url

        options = dict(storage_options or {})
        kwargs = dict(options)
        kwargs.setdefault("retry_config", {"max_retries": 0})  # io_retries decide
        return cls(from_url(url, **kwargs), read_only=read_only, url=url, storage_options=options)

    def __reduce__(self) -> tuple:
        return (_reopen, (self.url, self.storage_options, self.read_only, None if self._from_url else self.store))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObstoreStore) and (other.store is self.store or (
            self._from_url and other._from_url and other.url == self.url
            and other.storage_options == self.storage_options))

    def __hash__(self) -> int:
        return hash(self.url)

    def __repr__(self) -> str:
        return f"ObstoreStore({self._safe_url()!r}{', read_only=True' if self.read_only else ''})"

    def _loop(self) -> asyncio.AbstractEventLoop:
        return background_loop()

    @staticmethod
    def _retryable(exc: BaseException) -> bool:
        return type(exc).__name__ not in _FINAL_ERRORS and _retryable(exc)

    # ------------------------------------------------------------------ reads
    async def _get(self, key: str) -> bytes:
        obs = _obstore()
        result = await obs.get_async(self.store, key)
        return bytes(await result.bytes_async())

    async def _get_range(self, key: str, start: int, length: int | None) -> bytes:
        obs = _obstore()
        if start < 0:
            options: dict = {"range": {"suffix": -start}}
        elif length is None:
            options = {"range": {"offset": start}}
        else:
            if length == 0:
                options = {"range": (start, start + 1)}  # tells a missing key from an empty range
            else:
                options = {"range": (start, start + length)}
        try:
            result = await obs.get_async(self.store, key, options=options)
            data = bytes(await result.bytes_async())
        except FileNotFoundError:
            raise
        except Exception:
            # a range that starts at or past the end is an error in object_store; slicing
            # gives nothing there
            meta = await obs.head_async(self.store, key)
            if start >= 0 and start >= int(meta["size"]):
                return b""
            if start < 0 and int(meta["size"]) == 0:
                return b""
            raise
        if length is not None:
            data = data[:length]
        return data

    def get_many(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = [validate_key(k) for k in keys]
        return self._run("reading", [(k, _bind(self._get, k)) for k in keys])

    def iter_batches(self, keys: Sequence[str]) -> Iterator[list[tuple[int, bytes | None]]]:
        """The values of ``keys`` in groups as they arrive (see ``AsyncBatchStore._stream``)."""
        keys = [validate_key(k) for k in keys]
        if len(keys) < 2:
            return super().iter_batches(keys)
        return self._stream("reading", [(k, _bind(self._get, k)) for k in keys])

    def get_ranges(self, ranges: Sequence[ByteRange]) -> list[bytes | None]:
        """Ranged reads, issued concurrently (a suffix read, ``start`` < 0, is one request)."""
        jobs = [(validate_key(k), _bind(self._get_range, validate_key(k), int(s),
                                        None if n is None else max(int(n), 0))) for k, s, n in ranges]
        return self._run("reading", jobs)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        obs = _obstore()
        return self._run("reading", [(key, _bind(obs.head_async, self.store, validate_key(key)))])[0] is not None

    def getsize(self, key: str = "") -> int:
        if key:
            obs = _obstore()
            meta = self._run("reading", [(key, _bind(obs.head_async, self.store, validate_key(key)))])[0]
            if meta is not None:
                return int(meta["size"])
        prefix = key.rstrip("/") + "/" if key else ""
        return sum(int(m["size"]) for m in self._list(prefix))

    # ------------------------------------------------------------------ listing
    def _list(self, prefix: str) -> list[dict]:
        """Metadata of the objects whose key starts with ``prefix``."""
        obs = _obstore()
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        try:
            found = [m for batch in obs.list(self.store, prefix=head or None) for m in batch]
        except FileNotFoundError:
            return []
        except Exception as e:  # noqa: BLE001
            raise self._error("listing", prefix, e, 1) from None
        return [m for m in found if m["path"].startswith(prefix)]

    def list_prefix(self, prefix: str) -> Iterator[str]:
        return iter(sorted(m["path"] for m in self._list(prefix)))

    def list_dir(self, prefix: str) -> list[str]:
        obs = _obstore()
        base = prefix.rstrip("/")
        try:
            listing = obs.list_with_delimiter(self.store, prefix=base or None)
        except FileNotFoundError:
            return []
        except Exception as e:  # noqa: BLE001
            raise self._error("listing", prefix, e, 1) from None
        names = {p.rstrip("/").rsplit("/", 1)[-1] for p in listing["common_prefixes"]}
        names.update(m["path"].rsplit("/", 1)[-1] for m in listing["objects"])
        names.discard("")
        return sorted(names)

    # ------------------------------------------------------------------ writes
    def set_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Write values concurrently; each object is replaced atomically."""
        self._check_writable()
        obs = _obstore()
        items = [(validate_key(k), v if isinstance(v, bytes) else bytes(v)) for k, v in items]
        self._run("writing", [(k, _bind(obs.put_async, self.store, k, v)) for k, v in items], missing_ok=False)

    def delete_many(self, keys: Iterable[str]) -> None:
        self._check_writable()
        obs = _obstore()
        keys = [validate_key(k) for k in keys]
        self._run("deleting", [(k, _bind(obs.delete_async, self.store, k)) for k in keys])


def _reopen(url: str, storage_options: dict, read_only: bool, store: Any = None) -> ObstoreStore:
    if store is not None:
        return ObstoreStore(store, read_only=read_only)
    return ObstoreStore.from_url(url, storage_options, read_only=read_only)
