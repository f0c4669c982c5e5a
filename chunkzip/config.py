"""One configuration object for chunkzip.

``chunkzip.config.set(key=value, ...)`` sets values for the whole process. Used as a context
manager (``with config.set(allow_pickle=True): ...``) the values hold only inside the block
and only in the calling context (a :mod:`contextvars` overlay: other threads and other
asyncio tasks keep theirs; chunkzip's own worker threads run in a copy of the caller's
context). ``chunkzip.config.get(key)`` reads one.

Keys
----
threads : int
    Size of the chunk thread pool (default: the machine's cores).
allow_pickle : bool
    Whether the Pickle object codec may decode (default False: unpickling runs code).
default_compressor : Codec or None
    Compressor of arrays created without ``compressor=`` (default Blosc lz4, level 5, shuffle).
write_empty_chunks : bool
    Default of the array creation keyword of that name (default True).
io_concurrency : int
    Most requests a remote store has in flight at once within one batch (default 64).
io_retries : int
    Extra attempts of a failed remote request (connection reset, timeout, server error)
    before the error is raised (default 3).
io_timeout : float
    Seconds one remote request may take before it counts as failed (default 60).
"""
from __future__ import annotations

import contextvars
import os
import threading
from typing import Any

_UNSET = object()
#: values set by ``with config.set(...)`` blocks in the current context
_overlay: contextvars.ContextVar[dict | None] = contextvars.ContextVar("chunkzip_config", default=None)


def _default_compressor() -> Any:
    from .codecs.blosc import Blosc

    return Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)


class Config:
    """Process-wide settings; see the module docstring for the keys."""

    _lock = threading.RLock()

    def __init__(self) -> None:
        self._values: dict[str, Any] = {
            "threads": os.cpu_count() or 1,
            "allow_pickle": False,
            "default_compressor": _UNSET,  # built on first use (keeps import cheap)
            "write_empty_chunks": True,
            "io_concurrency": 64,
            "io_retries": 3,
            "io_timeout": 60.0,
        }

    def get(self, key: str) -> Any:
        """Return the value of ``key``."""
        if key not in self._values:
            raise KeyError(f"unknown chunkzip config key {key!r}; known: {sorted(self._values)}")
        scoped = _overlay.get()
        if scoped is not None and key in scoped:
            return scoped[key]
        value = self._values[key]
        if key == "default_compressor" and value is _UNSET:
            with self._lock:
                if self._values[key] is _UNSET:
                    self._values[key] = _default_compressor()
                value = self._values[key]
        return value

    def set(self, **values: Any) -> "_Restore":
        """Set values process-wide; the returned context manager instead scopes them to
        the ``with`` block in the calling context."""
        unknown = values.keys() - self._values.keys()
        if unknown:
            raise KeyError(f"unknown chunkzip config key(s) {sorted(unknown)}; known: {sorted(self._values)}")
        if "threads" in values:
            n = values["threads"]
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ValueError(f"threads must be a positive int, got {n!r}")
        _check_io(values)
        if "default_compressor" in values and values["default_compressor"] is not None:
            from .codecs.registry import get_codec

            values["default_compressor"] = get_codec(values["default_compressor"])
        with self._lock:
            previous = {k: self._values[k] for k in values}
            self._values.update(values)
        return _Restore(self, values, previous)

    def __repr__(self) -> str:
        return f"chunkzip.config({ {k: self.get(k) for k in self._values} })"


def _check_io(values: dict[str, Any]) -> None:
    """Validate the remote-store settings among ``values``."""
    for key, low in (("io_concurrency", 1), ("io_retries", 0)):
        if key in values:
            n = values[key]
            if not isinstance(n, int) or isinstance(n, bool) or n < low:
                raise ValueError(f"{key} must be an int >= {low}, got {n!r}")
    if "io_timeout" in values:
        t = values["io_timeout"]
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0:
            raise ValueError(f"io_timeout must be a positive number of seconds, got {t!r}")


class _Restore:
    """What :meth:`Config.set` returns: entering it turns the process-wide change into
    one scoped to the calling context, until the block ends."""

    def __init__(self, cfg: Config, values: dict[str, Any], previous: dict[str, Any]) -> None:
        self._cfg, self._values, self._previous = cfg, values, previous
        self._token: contextvars.Token | None = None

    def __enter__(self) -> Config:
        with self._cfg._lock:  # undo the process-wide change (unless changed since)
            for k, v in self._values.items():
                if self._cfg._values[k] is v:
                    self._cfg._values[k] = self._previous[k]
        self._token = _overlay.set({**(_overlay.get() or {}), **self._values})
        return self._cfg

    def __exit__(self, *exc: Any) -> None:
        if self._token is not None:
            _overlay.reset(self._token)
            self._token = None


_config = Config()


def get(key: str) -> Any:
    """Return the value of configuration ``key``."""
    return _config.get(key)


def set(**values: Any) -> _Restore:  # noqa: A001 - the public name is ``config.set``
    """Set configuration values; usable as a context manager that restores them."""
    return _config.set(**values)
