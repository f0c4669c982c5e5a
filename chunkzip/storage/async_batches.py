"""The machinery of stores whose calls are network round trips: batches of requests run
concurrently on an asyncio event loop (at most ``config.get('io_concurrency')`` in
flight), each retried a bounded number of times (``io_retries``) with a timeout
(``io_timeout``); a request that still fails raises :class:`StoreIOError` naming the key
and the store's URL, with credentials from ``storage_options`` blanked out.

Subclasses (:class:`~chunkzip.storage.FsspecStore`,
:class:`~chunkzip.storage.ObstoreStore`) say which loop runs the requests
(:meth:`AsyncBatchStore._loop`) and describe each request as a coroutine factory.
"""
from __future__ import annotations

import asyncio
import os
import re
import threading
from typing import Any, Awaitable, Callable, Iterator

from .. import config
from .base import Store

__all__ = ["AsyncBatchStore", "StoreIOError", "background_loop"]

_USERINFO_RE = re.compile(r"(://)[^/@\s]+@")
_timeout = getattr(asyncio, "timeout", None)  # Python >= 3.11


class StoreIOError(OSError):
    """A remote read or write failed after the bounded retries."""


def _secrets(options: Any) -> list[str]:
    """String values of ``storage_options`` (nested too) that might be credentials."""
    out: list[str] = []
    if isinstance(options, dict):
        for v in options.values():
            out.extend(_secrets(v))
    elif isinstance(options, (list, tuple)):
        for v in options:
            out.extend(_secrets(v))
    elif isinstance(options, str) and len(options) >= 4:
        out.append(options)
    return out


def _retryable(exc: BaseException) -> bool:
    """Errors worth another attempt: connection resets, timeouts, server errors (not a
    missing key, a refused permission or a bad argument)."""
    if isinstance(exc, (FileNotFoundError, PermissionError, NotImplementedError, ValueError, TypeError,
                        KeyError, IsADirectoryError, NotADirectoryError)):
        return False
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 425, 429):
        return False
    return isinstance(exc, Exception)


class AsyncBatchStore(Store):
    """A store whose reads and writes are requests run concurrently on an event loop.

    Subclasses set ``url`` and ``storage_options`` (for error messages) and implement
    :meth:`_loop`.
    """

    #: Every call is a round trip: the pipeline batches reads and writes (storage.batching).
    batched_io = True
    #: :meth:`iter_batches` yields chunks as they arrive: the pipeline decodes them meanwhile.
    streams_reads = True
    url: str = ""
    storage_options: dict = {}
    path: str = ""

    # one key is a batch of one (subclasses implement the batch calls)
    def get(self, key: str) -> bytes | None:
        return self.get_many([key])[0]

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        return self.get_ranges([(key, start, length)])[0]

    def set(self, key: str, value: bytes) -> None:
        self.set_many([(key, value)])

    def delete(self, key: str) -> None:
        self.delete_many([key])

    def _loop(self) -> asyncio.AbstractEventLoop:  # pragma: no cover - abstract
        """The running event loop (in another thread) that the requests run on."""
        raise NotImplementedError

    @staticmethod
    def _retryable(exc: BaseException) -> bool:
        """Whether a failed request is worth another attempt (see :func:`_retryable`)."""
        return _retryable(exc)

    def _sync(self, make: Callable[[], Awaitable[Any]]) -> Any:
        """Run the coroutine ``make()`` on :meth:`_loop` and wait for its result."""
        return asyncio.run_coroutine_threadsafe(make(), self._loop()).result()

    def _safe_url(self) -> str:
        return self._redact(self.url)

    def _redact(self, text: str) -> str:
        text = _USERINFO_RE.sub(r"\1***@", text)
        for secret in sorted(_secrets(self.storage_options), key=len, reverse=True):
            if secret in text and secret not in (self.url, self.path):
                text = text.replace(secret, "***")
        return text

    def _error(self, action: str, key: str, exc: BaseException, attempts: int) -> StoreIOError:
        detail = self._redact(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return StoreIOError(f"{action} key {key!r} of {self._safe_url()} failed{tries}: {detail}")

    async def _attempt(self, action: str, key: str, make: Callable[[], Awaitable[Any]], sem: asyncio.Semaphore,
                       missing_ok: bool, retries: int, timeout: float) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                async with sem:
                    if _timeout is not None:  # no extra task per request (asyncio.wait_for makes one)
                        async with _timeout(timeout):
                            return await make()
                    return await asyncio.wait_for(make(), timeout)
            except FileNotFoundError:
                if missing_ok:
                    return None
                raise
            except asyncio.CancelledError:
                raise
            except BaseException as e:  # noqa: BLE001 - classified, then re-raised with the key
                if isinstance(e, asyncio.TimeoutError):
                    e = TimeoutError(f"no answer within io_timeout={timeout} s")
                if attempt > retries or not self._retryable(e):
                    raise self._error(action, key, e, attempt) from None
            await asyncio.sleep(min(0.05 * 2 ** (attempt - 1), 2.0))

    def _run(self, action: str, jobs: list[tuple[str, Callable[[], Awaitable[Any]]]], missing_ok: bool = True) -> list:
        """Run ``jobs`` (key, coroutine factory) concurrently on the store's loop."""
        if not jobs:
            return []
        limit, retries, timeout = config.get("io_concurrency"), config.get("io_retries"), config.get("io_timeout")

        async def gather() -> list:
            sem = asyncio.Semaphore(limit)
            results = await asyncio.gather(*(self._attempt(action, k, make, sem, missing_ok, retries, timeout)
                                             for k, make in jobs), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    raise r
            return results

        return self._sync(gather)

    def _stream(self, action: str, jobs: list[tuple[str, Callable[[], Awaitable[Any]]]],
                missing_ok: bool = True) -> Iterator[list[tuple[int, Any]]]:
        """Run ``jobs`` concurrently on the store's loop like :meth:`_run`, yielding
        to the calling thread, as they complete, groups of ``(i, result of jobs[i])``:
        each group holds every result that arrived since the previous one was taken.

        At most ``io_concurrency`` requests are in flight or waiting to be taken: a new
        request starts only when the caller has taken an earlier result, so a slow
        consumer holds back the fetches instead of piling up undecoded bytes (the caller
        holds at most one group more while it decodes it). The first failure (after its
        retries) is raised; closing the iterator early cancels the requests still
        running.
        """
        import queue

        limit, retries, timeout = config.get("io_concurrency"), config.get("io_retries"), config.get("io_timeout")
        loop = self._loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # waiting here would block the loop that answers
            raise RuntimeError(f"{type(self).__name__}: blocking batch reads cannot run on the store's own event loop")
        done: queue.SimpleQueue = queue.SimpleQueue()
        tasks: list[asyncio.Future] = []
        window: list[asyncio.Semaphore] = []

        async def feed() -> None:
            window.append(asyncio.Semaphore(limit))
            sem = asyncio.Semaphore(limit)
            try:
                for i, (k, make) in enumerate(jobs):
                    await window[0].acquire()  # released when the caller takes a result
                    task = asyncio.ensure_future(self._attempt(action, k, make, sem, missing_ok, retries, timeout))
                    task.add_done_callback(lambda t, i=i: done.put((i, t)))
                    tasks.append(task)
            except BaseException as e:  # cancelled (the caller stopped): tell the caller's loop
                done.put((-1, e))
                raise

        def cancel_all() -> None:
            for t in tasks:
                t.cancel()

        fut = asyncio.run_coroutine_threadsafe(feed(), loop)
        left = len(jobs)
        try:
            while left:
                group = [done.get()]
                while True:  # with everything else that has arrived meanwhile
                    try:
                        group.append(done.get_nowait())
                    except queue.Empty:
                        break
                out = []
                for i, task in group:
                    if i < 0:
                        raise self._error(action, jobs[0][0], task, 1)
                    if task.cancelled():
                        raise self._error(action, jobs[i][0], asyncio.CancelledError(), 1)
                    exc = task.exception()
                    if exc is not None:
                        raise exc
                    out.append((i, task.result()))
                left -= len(out)
                loop.call_soon_threadsafe(_release, window[0], len(out))
                yield out
        finally:
            # an error or an early close: stop feeding and cancel what still runs
            fut.cancel()
            loop.call_soon_threadsafe(cancel_all)

def _release(sem: asyncio.Semaphore, n: int) -> None:
    for _ in range(n):
        sem.release()




def _bind(fn: Callable, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """A factory of the call ``fn(*args, **kwargs)`` (a request made anew on each attempt)."""
    return lambda: fn(*args, **kwargs)


_loops: dict[int, asyncio.AbstractEventLoop] = {}
_loops_lock = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """An event loop running in a daemon thread of this process (made on first use, and
    again in a forked child, where the parent's thread does not exist)."""
    pid = os.getpid()
    with _loops_lock:
        loop = _loops.get(pid)
        if loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="chunkzip-io", daemon=True).start()
            _loops.clear()
            _loops[pid] = loop
        return loop
