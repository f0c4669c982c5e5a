"""The batch kernels on a busy pool: the calling thread takes chunks at once and never
waits for a helper that has not started (all chunks taken: the helper is cancelled), so a
read or write on a saturated machine or pool costs the caller's own time, not a queue
wait.  NumPy is the oracle; the pool is made busy by tasks blocked on an event."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.codecs import Blosc

#: only to detect a hang (the calls finish in milliseconds): not a timing assertion
HANG = 30.0


def _blocked_pools(release: threading.Event) -> list:
    """Occupy every worker of the chunk pool and the I/O pool until ``release`` is set."""
    futures = []
    for get in (pipeline._get_pool, pipeline._get_io_pool):
        pool, _ = get()
        futures += [pool.submit(release.wait, HANG) for _ in range(pool._max_workers)]
    return futures


def _in_thread(fn):
    """Run fn in a thread; returns (finished, result or exception)."""
    box = []
    t = threading.Thread(target=lambda: box.append(_call(fn)), daemon=True)
    t.start()
    t.join(HANG)
    return (not t.is_alive()), (box[0] if box else None)


def _call(fn):
    try:
        return fn()
    except BaseException as e:  # handed back to the test
        return e


@pytest.mark.parametrize("fmt", [2, 3])
def test_reads_and_writes_do_not_wait_for_a_busy_pool(tmp_path, fmt):
    a = (np.arange(512 * 512, dtype="<i4").reshape(512, 512) * 7) % 1000
    kw = dict(zarr_format=2, compressor=Blosc("lz4", 5, 1)) if fmt == 2 else dict(zarr_format=3)
    path = str(tmp_path / "a.zarr")
    z = cz.open(path, mode="w", shape=a.shape, chunks=(64, 64), dtype=a.dtype, **kw)
    release = threading.Event()
    with cz.config.set(threads=2):
        blockers = _blocked_pools(release)
        try:
            def work():
                z[...] = a  # 64 new chunk files: the write kernel's I/O pool
                z[3:509, 7:500] = a[3:509, 7:500] + 1  # edges: read-modify-write
                r = cz.open(path, mode="r")
                return r[...], r[100:300, 50:460], r.vindex[[5, 400], [9, 300]]
            finished, res = _in_thread(work)
        finally:
            release.set()
            for f in blockers:
                f.result()
    assert finished, "a read or write waited for the busy pool"
    assert not isinstance(res, BaseException), res
    b = a.copy()
    b[3:509, 7:500] += 1
    full, window, points = res
    np.testing.assert_array_equal(full, b)
    np.testing.assert_array_equal(window, b[100:300, 50:460])
    np.testing.assert_array_equal(points, b[[5, 400], [9, 300]])


def test_run_kernel_cancels_helpers_that_never_started():
    # a fake kernel over a shared counter: every "chunk" taken exactly once, by the
    # caller alone when the pool is busy; started helpers are waited for
    pipe = cz.zeros((1000,), chunks=(10,), dtype="i4")._pipeline
    n = 100
    taken = np.zeros(n, np.int64)
    counter = iter(range(10 ** 9))
    lock = threading.Lock()

    def fn() -> int:
        while True:
            with lock:
                k = next(counter)
            if k >= n:
                return 0
            taken[k] += 1

    release = threading.Event()
    with cz.config.set(threads=2):
        blockers = _blocked_pools(release)
        try:
            finished, res = _in_thread(lambda: pipe._run_kernel(fn, n, blocking_io=True))
        finally:
            release.set()
            for f in blockers:
                f.result()
    assert finished and res == 0
    assert (taken == 1).all()
    # a free pool: helpers start and share the work; each chunk is still taken once
    taken[:] = 0
    counter = iter(range(10 ** 9))
    with cz.config.set(threads=2):
        assert pipe._run_kernel(fn, n, blocking_io=True) == 0
    assert (taken == 1).all()


def test_helper_errors_still_raise():
    # a helper that started is waited for, and its error raised
    pipe = cz.zeros((1000,), chunks=(10,), dtype="i4")._pipeline
    started = threading.Event()

    def fn() -> int:
        if threading.current_thread() is threading.main_thread():
            assert started.wait(HANG)  # the caller returns only after the helper began
            return 0
        started.set()
        raise RuntimeError("helper failed")

    with cz.config.set(threads=2):
        with pytest.raises(RuntimeError, match="helper failed"):
            pipe._run_kernel(fn, 100, blocking_io=True)  # (small chunks: the I/O pool)


def test_run_batched_runs_every_item_then_raises():
    # items claimed by the caller and the pool; one failing item does not stop the rest
    seen = []
    lock = threading.Lock()

    def fn(i: int) -> None:
        with lock:
            seen.append(i)
        if i == 7:
            raise ValueError("item 7")

    with cz.config.set(threads=2):
        with pytest.raises(ValueError, match="item 7"):
            pipeline.run_batched(fn, list(range(40)))
    # only the rest of item 7's own task (a few items right after it) is skipped
    missing = set(range(40)) - set(seen)
    assert len(seen) == len(set(seen)) and {0, 7, 39} <= set(seen)
    assert missing <= set(range(8, 13)), missing
    release = threading.Event()
    with cz.config.set(threads=2):  # a busy pool: the caller does every item itself
        blockers = _blocked_pools(release)
        try:
            seen.clear()
            finished, res = _in_thread(lambda: pipeline.run_batched(lambda i: seen.append(i), list(range(40))))
        finally:
            release.set()
            for f in blockers:
                f.result()
    assert finished and res is None and sorted(seen) == list(range(40))



@pytest.mark.parametrize("threads", [2, 3])
def test_run_batched_every_item_once(threads):
    for n in list(range(1, 30)) + [97]:
        seen = []
        with cz.config.set(threads=threads):
            pipeline.run_batched(lambda i: seen.append(i), list(range(n)))
        assert sorted(seen) == list(range(n)), n


def test_run_batched_claims_distant_tasks_in_turn():
    # the caller alone (a busy pool) shows the claim order: the second task claimed starts
    # a stretch (items / threads) away from the first, not next to it, so threads running
    # at once work on distant parts of the output
    nthreads = pipeline._get_pool()[1]
    if nthreads < 2:
        pytest.skip("one thread: run_batched runs inline")
    n = 8 * nthreads
    release = threading.Event()
    blockers = _blocked_pools(release)
    try:
        seen = []
        finished, _ = _in_thread(lambda: pipeline.run_batched(lambda i: seen.append(i), list(range(n))))
    finally:
        release.set()
        for f in blockers:
            f.result()
    assert finished and sorted(seen) == list(range(n))
    per_task = n // (4 * nthreads)
    assert seen[:per_task] == list(range(per_task))
    assert seen[per_task] == n // nthreads, seen
