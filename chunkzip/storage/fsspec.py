"""Remote stores over fsspec: ``s3://``, ``gs://``, ``az://``, ``http(s)://`` (read-only),
``memory://`` and chained URLs such as ``zip::https://host/a.zip``.

Batches of reads and writes are issued concurrently on fsspec's event loop (at most
``chunkzip.config.get('io_concurrency')`` requests in flight), each request retried a
bounded number of times (``io_retries``) with a timeout (``io_timeout``). A request that
still fails raises :class:`StoreIOError`, naming the key and the store URL (credentials
are never part of the message).
"""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any, Awaitable, Callable, Iterable, Iterator, Sequence

from .. import config
from .async_batches import AsyncBatchStore, StoreIOError, _bind, _retryable
from .base import ByteRange, _slice_range, validate_key

__all__ = ["FsspecStore", "StoreIOError", "is_url"]

#: Protocols where a single PUT replaces an object atomically (readers see the old value
#: or the new one, never a part): written directly. Others write a temporary key and move it.
_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory", "oss", "r2"}
_READ_ONLY = {"http", "https", "zip", "tar", "reference", "github"}
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://|::")


def is_url(value: Any) -> bool:
    """True for strings that name an fsspec URL (``proto://...`` or a chained ``a::b``)."""
    return isinstance(value, str) and bool(_URL_RE.search(value)) and not re.match(r"^[A-Za-z]:\\", value)


class FsspecStore(AsyncBatchStore):
    """Keys as objects below ``path`` of an fsspec file system.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        The file system (async ones, such as s3fs, gcsfs, adlfs and HTTP, batch best).
    path : str
        Root of the store inside ``fs`` (a bucket/prefix, a URL for HTTP).
    read_only : bool
        Refuse writes (always True for HTTP and archive file systems).
    url, storage_options : optional
        What :meth:`from_url` was given; kept for pickling and for error messages.

    Notes
    -----
    Pickling keeps only the URL, the ``storage_options`` and the mode (a few hundred
    bytes); the file system is made again, in the process that unpickles, by
    ``fsspec.url_to_fs``. ``memory://`` stores are per process, as in fsspec.
    """

    def __init__(self, fs: Any, path: str = "", read_only: bool = False, *, url: str | None = None,
                 storage_options: dict | None = None) -> None:
        self.fs = fs
        self.path = str(path).rstrip("/")
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        self.protocol = protocols[0]
        self.read_only = bool(read_only) or bool(set(protocols) & _READ_ONLY)
        self.url = url if url is not None else (fs.unstrip_protocol(self.path) if self.path else f"{self.protocol}://")
        self.storage_options = dict(storage_options or {})
        self._from_url = url is not None
        self._async = bool(getattr(fs, "async_impl", False))
        self._atomic_put = bool(set(protocols) & _ATOMIC_PUT)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_url(cls, url: str, storage_options: dict | None = None, read_only: bool = False) -> "FsspecStore":
        """Open the store at ``url`` (``s3://bucket/x.zarr``, ``https://host/x.zarr``,
        ``zip::s3://bucket/a.zip``, ``memory://x``, ...).

        Parameters
        ----------
        url : str
            An fsspec URL, possibly chained with ``::``.
        storage_options : dict, optional
            Passed to the file system (credentials, ``endpoint_url``, ``anon``, ...), as
            zarr-python and xarray take them. For a chained URL, per-protocol options go
            under the protocol's name (``{"s3": {...}}``).
        read_only : bool
        """
        try:
            from fsspec.core import url_to_fs
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("remote stores need fsspec: pip install 'chunkzip[remote]'") from e
        options = dict(storage_options or {})
        fs, path = url_to_fs(url, **options)
        return cls(fs, path, read_only=read_only, url=url, storage_options=options)

    def __reduce__(self) -> tuple:
        # from a URL: the URL, the options and the mode; built from a file system object:
        # that object (fsspec file systems pickle their constructor arguments)
        return (_reopen, (self.url, self.storage_options, self.read_only, None if self._from_url else self.fs,
                          self.path))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FsspecStore) and type(other.fs) is type(self.fs) and other.path == self.path \
            and other.storage_options == self.storage_options

    def __hash__(self) -> int:
        return hash((type(self.fs).__name__, self.path))

    def __repr__(self) -> str:
        return f"FsspecStore({self._safe_url()!r}{', read_only=True' if self.read_only else ''})"

    # ------------------------------------------------------------------ helpers
    def _loop(self) -> asyncio.AbstractEventLoop:
        return self.fs.loop

    def _sync(self, make: Callable[[], Awaitable[Any]]) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, make)

    def _full(self, key: str) -> str:
        return f"{self.path}/{key}" if self.path else key

    def _run_sync(self, action: str, key: str, fn: Callable[[], Any], missing_ok: bool = True) -> Any:
        """One call on a blocking file system, with the same retries and errors."""
        import time

        retries = config.get("io_retries")
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except FileNotFoundError:
                if missing_ok:
                    return None
                raise
            except Exception as e:  # noqa: BLE001
                if attempt > retries or not _retryable(e):
                    raise self._error(action, key, e, attempt) from None
            time.sleep(min(0.05 * 2 ** (attempt - 1), 2.0))

    # ------------------------------------------------------------------ reads
    def get_many(self, keys: Iterable[str]) -> list[bytes | None]:
        keys = list(keys)
        fs = self.fs
        if self._async:
            return self._run("reading", [(k, _bind(fs._cat_file, self._full(validate_key(k)))) for k in keys])
        return [self._run_sync("reading", k, _bind(fs.cat_file, self._full(validate_key(k)))) for k in keys]

    def iter_batches(self, keys: Sequence[str]) -> Iterator[list[tuple[int, bytes | None]]]:
        """The values of ``keys`` in groups, as they arrive (see :meth:`_stream`): the
        caller decodes early chunks while later ones are still on the wire."""
        keys = list(keys)
        if not self._async or len(keys) < 2:
            return super().iter_batches(keys)
        fs = self.fs
        return self._stream("reading", [(k, _bind(fs._cat_file, self._full(validate_key(k)))) for k in keys])

    def get_ranges(self, ranges: Sequence[ByteRange]) -> list[bytes | None]:
        """Ranged reads, issued concurrently. A suffix read (``start`` < 0) is one request
        (``Range: bytes=-n``); servers that ignore ``Range`` are answered correctly too."""
        ranges = [(validate_key(k), int(s), None if n is None else max(int(n), 0)) for k, s, n in ranges]
        fs = self.fs
        fn = fs._cat_file if self._async else fs.cat_file
        # a suffix read fetches the last -start bytes (cut to length here); empty ranges
        # still ask for one byte, to tell a missing key from an empty range
        jobs = [(k, _bind(fn, self._full(k), start=s, end=None if (s < 0 or n is None) else s + max(n, 1)))
                for k, s, n in ranges]
        if self._async:
            raw = self._run("reading", jobs)
        else:
            raw = [self._run_sync("reading", k, make) for k, make in jobs]
        out: list[bytes | None] = []
        for (key, start, length), data in zip(ranges, raw):
            if data is None:
                out.append(None)
            elif start < 0:
                data = data[start:] if len(data) > -start else data  # the server may send it all
                out.append(bytes(data if length is None else data[:length]))
            elif length is not None and len(data) > max(length, 1):  # the server ignored Range
                out.append(_slice_range(data, start, length))
            else:
                out.append(bytes(data if length is None else data[:length]))
        return out

    def __contains__(self, key: str) -> bool:
        fs, path = self.fs, self._full(validate_key(key))
        if self._async:
            from fsspec.asyn import sync

            return bool(sync(fs.loop, fs._exists, path))
        return bool(fs.exists(path))

    def getsize(self, key: str) -> int:
        try:
            return int(self.fs.size(self._full(validate_key(key))) or 0)
        except FileNotFoundError:
            return 0

    # ------------------------------------------------------------------ listing
    def list_prefix(self, prefix: str) -> Iterator[str]:
        fs = self.fs
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self._full(head) if head else self.path
        try:
            fs.invalidate_cache(base)
            found = fs.find(base) if base else fs.find("")
        except FileNotFoundError:
            return iter(())
        except Exception as e:  # noqa: BLE001
            raise self._error("listing", prefix, e, 1) from None
        root = self.path + "/" if self.path else ""
        keys = []
        for p in found:
            p = fs._strip_protocol(p) if hasattr(fs, "_strip_protocol") else p
            if root and not p.startswith(root):
                continue
            k = p[len(root):]
            if k.startswith(prefix) and ".cztmp-" not in k:
                keys.append(k)
        return iter(sorted(keys))

    def list_dir(self, prefix: str) -> list[str]:
        fs = self.fs
        base = self._full(prefix.rstrip("/")) if prefix else self.path
        try:
            fs.invalidate_cache(base)
            entries = fs.ls(base, detail=False)
        except FileNotFoundError:
            return []
        except Exception as e:  # noqa: BLE001
            raise self._error("listing", prefix, e, 1) from None
        names = set()
        for p in entries:
            p = fs._strip_protocol(p).rstrip("/")
            name = p.rsplit("/", 1)[-1]
            if name and p != base.rstrip("/") and ".cztmp-" not in name:
                names.add(name)
        return sorted(names)

    # ------------------------------------------------------------------ writes
    def set_many(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Write values concurrently. Each key shows its old value or the new one, never
        a part: object stores replace objects atomically; other file systems get a
        temporary object moved into place."""
        self._check_writable()
        items = [(validate_key(k), v if isinstance(v, bytes) else bytes(v)) for k, v in items]
        fs = self.fs
        if self._atomic_put:
            if self._async:
                self._run("writing", [(k, _bind(fs._pipe_file, self._full(k), v)) for k, v in items],
                          missing_ok=False)
            else:
                for k, v in items:
                    self._run_sync("writing", k, _bind(fs.pipe_file, self._full(k), v), missing_ok=False)
            return
        for k, v in items:
            self._run_sync("writing", k, _bind(self._replace, self._full(k), v), missing_ok=False)

    def _replace(self, path: str, value: bytes) -> None:
        tmp = f"{path}.cztmp-{uuid.uuid4().hex}"
        if "/" in path:  # file systems with real directories (local, sftp, ...) need them made
            self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(tmp, value)
        try:
            self.fs.mv(tmp, path)
        except BaseException:
            try:
                self.fs.rm_file(tmp)
            except Exception:  # noqa: BLE001
                pass
            raise

    def delete_many(self, keys: Iterable[str]) -> None:
        self._check_writable()
        fs = self.fs
        keys = [validate_key(k) for k in keys]
        if self._async:
            self._run("deleting", [(k, _bind(fs._rm_file, self._full(k))) for k in keys])
        else:
            for k in keys:
                self._run_sync("deleting", k, _bind(fs.rm_file, self._full(k)))
        if keys:
            fs.invalidate_cache(self.path)


def _reopen(url: str, storage_options: dict, read_only: bool, fs: Any = None, path: str = "") -> FsspecStore:
    if fs is not None:
        return FsspecStore(fs, path, read_only=read_only)
    return FsspecStore.from_url(url, storage_options, read_only=read_only)
