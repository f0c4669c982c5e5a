"""Synchronizers: concurrent writers in threads and in spawned processes lose no update.

The guarantee tested (the spec's "Parallel computing and synchronization"): writers that
update *different elements* of shared chunks lose nothing when the array has a
synchronizer; writers to disjoint chunk-aligned regions need none. Every test writes each
element exactly once, so one lost read-modify-write would leave a fill value behind.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.sync import ProcessSynchronizer, ThreadSynchronizer

SPAWN = mp.get_context("spawn")


# ----------------------------------------------------------------------------- helpers
def _interleaved_writes(z, worker: int, nworkers: int, steps: int, stride: int) -> None:
    """Worker ``worker`` writes element ``t*nworkers + worker`` (value = index + 1) at each
    step ``t``, one element per step: every step, all workers write to the same chunk."""
    for t in range(steps):
        i = (t * nworkers + worker) * stride
        z[i:i + stride] = np.arange(i, i + stride) + 1


def _misaligned_writes(z, worker: int, nworkers: int, rounds: int, width: int, offset: int) -> None:
    """Worker ``worker`` owns the misaligned region ``[offset + worker*width, +width)`` and
    fills it piece by piece (pieces of 3 elements), ``rounds`` times with growing values."""
    lo = offset + worker * width
    for r in range(rounds):
        for a in range(lo, lo + width, 3):
            b = min(a + 3, lo + width)
            z[a:b] = np.arange(a, b) + 1 + r * 1_000_000


def _expected_misaligned(n: int, nworkers: int, rounds: int, width: int, offset: int) -> np.ndarray:
    exp = np.zeros(n, dtype="i8")
    lo, hi = offset, offset + nworkers * width
    exp[lo:hi] = np.arange(lo, hi) + 1 + (rounds - 1) * 1_000_000
    return exp


def _run_threads(target, nworkers: int, *args) -> None:
    errors = []

    def run(w: int) -> None:
        try:
            target(w, *args)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(nworkers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


# Process workers (top level: spawn pickles them by name). They open the array themselves.
def _proc_interleaved(store_path: str, sync_path: str | None, worker: int, nworkers: int, steps: int,
                      stride: int, go) -> None:
    sync = ProcessSynchronizer(sync_path) if sync_path else None
    z = cz.open_array(store_path, mode="r+", synchronizer=sync)
    go.wait(60)
    _interleaved_writes(z, worker, nworkers, steps, stride)


def _proc_misaligned(store_path: str, sync_path: str, worker: int, nworkers: int, rounds: int, width: int,
                     offset: int, go) -> None:
    z = cz.open_array(store_path, mode="r+", synchronizer=ProcessSynchronizer(sync_path))
    go.wait(60)
    _misaligned_writes(z, worker, nworkers, rounds, width, offset)


def _proc_aligned(z, worker: int, chunk: int, rounds: int, go) -> None:
    # z arrives pickled (a directory-store array pickles as store root + path)
    go.wait(60)
    for r in range(rounds):
        z[worker * chunk:(worker + 1) * chunk] = worker * 1000 + r


def _proc_hold_lock(sync_path: str, key: str, locked) -> None:
    sync = ProcessSynchronizer(sync_path)
    with sync[key]:
        locked.set()
        time.sleep(120)  # killed long before


def _start(procs) -> None:
    for p in procs:
        p.start()


def _join(procs, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for p in procs:
        p.join(max(0.1, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():  # pragma: no cover - a hang: do not leave it behind
            p.kill()
            p.join()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]


# ----------------------------------------------------------------------------- threads
@pytest.mark.parametrize("stride", [1, 3])
def test_threads_interleaved_elements_lose_no_update(stride):
    nworkers, steps = 4, 150
    n = nworkers * steps * stride
    z = cz.zeros(n, chunks=16, dtype="i8", synchronizer=cz.ThreadSynchronizer())
    _run_threads(lambda w: _interleaved_writes(z, w, nworkers, steps, stride), nworkers)
    np.testing.assert_array_equal(z[:], np.arange(n) + 1)
    assert len(z.synchronizer) == 0  # every per-key lock was released and forgotten


def test_threads_misaligned_regions_2d_lose_no_update():
    # 2-d, regions cut across chunk boundaries on both axes, chunk pool also busy
    nworkers, rounds = 4, 4
    z = cz.zeros((40, 45), chunks=(7, 8), dtype="i8", synchronizer=cz.ThreadSynchronizer())

    def work(w: int) -> None:
        rows = slice(3 + 9 * w, 3 + 9 * (w + 1))
        for r in range(rounds):
            for c in range(0, 45, 5):  # 5-wide column strips: misaligned with the 8-wide chunks
                z[rows, c:c + 5] = (w + 1) * 100 + r

    _run_threads(work, nworkers)
    exp = np.zeros((40, 45), dtype="i8")
    for w in range(nworkers):
        exp[3 + 9 * w:3 + 9 * (w + 1)] = (w + 1) * 100 + rounds - 1
    np.testing.assert_array_equal(z[:], exp)


def test_threads_misaligned_regions_with_process_synchronizer(tmp_path):
    # a ProcessSynchronizer also serialises threads of one process
    nworkers, rounds, width, offset = 4, 3, 23, 5
    n = offset + nworkers * width + 7
    z = cz.zeros(n, chunks=10, dtype="i8", store=str(tmp_path / "a.zarr"),
                 synchronizer=cz.ProcessSynchronizer(tmp_path / "sync"))
    _run_threads(lambda w: _misaligned_writes(z, w, nworkers, rounds, width, offset), nworkers)
    np.testing.assert_array_equal(z[:], _expected_misaligned(n, nworkers, rounds, width, offset))


def test_threads_chunk_aligned_regions_need_no_synchronizer(tmp_path):
    nworkers, chunk, rounds = 4, 50, 20
    for store in (None, str(tmp_path / "a.zarr")):
        z = cz.zeros(nworkers * chunk * 2, chunks=chunk, dtype="i4", store=store)
        assert z.synchronizer is None

        def work(w: int) -> None:
            for r in range(rounds):
                z[w * 2 * chunk:(w + 1) * 2 * chunk] = w * 1000 + r  # two whole chunks each

        _run_threads(work, nworkers)
        np.testing.assert_array_equal(z[:], np.repeat(np.arange(nworkers) * 1000 + rounds - 1, 2 * chunk))


def test_thread_synchronizer_lock_semantics():
    sync = cz.ThreadSynchronizer()
    held = sync["c/0"]
    assert held.acquire()
    other = sync["c/0"]
    assert not other.acquire(timeout=0.05)  # same key: excluded
    with sync["c/1"]:  # another key: independent
        pass
    assert len(sync) == 1
    held.release()
    assert other.acquire(blocking=False)
    other.release()
    assert len(sync) == 0
    with pytest.raises(RuntimeError):
        other.release()
    s2 = pickle.loads(pickle.dumps(sync))
    assert isinstance(s2, ThreadSynchronizer) and len(s2) == 0


def test_spec_example_thread_synchronizer():
    z = cz.zeros((10000, 10000), chunks=(1000, 1000), dtype="i4", synchronizer=cz.ThreadSynchronizer())
    assert isinstance(z.synchronizer, cz.ThreadSynchronizer)
    assert "(10000, 10000) int32" in repr(z)


def test_spec_example_process_synchronizer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synchronizer = cz.ProcessSynchronizer("data/example.sync")
    z = cz.open_array("data/example", mode="w", shape=(10000, 10000), chunks=(1000, 1000), dtype="i4",
                      synchronizer=synchronizer)
    assert repr(z) == "<chunkzip.Array (10000, 10000) int32>"
    assert z.synchronizer is synchronizer
    z[500:1500, 500:1500] = 1
    assert (tmp_path / "data" / "example.sync").is_dir()
    assert any(name.endswith(".lock") for name in os.listdir(tmp_path / "data" / "example.sync"))
    assert int(z[:2000, :2000].sum()) == 1000 * 1000


# ----------------------------------------------------------------------------- processes
def test_processes_interleaved_elements_lose_no_update(tmp_path):
    nworkers, steps, stride = 3, 60, 2
    n = nworkers * steps * stride
    store = str(tmp_path / "a.zarr")
    cz.zeros(n, chunks=12, dtype="i8", store=store)
    go = SPAWN.Event()
    procs = [SPAWN.Process(target=_proc_interleaved,
                           args=(store, str(tmp_path / "sync"), w, nworkers, steps, stride, go))
             for w in range(nworkers)]
    _start(procs)
    go.set()
    _join(procs)
    np.testing.assert_array_equal(cz.open_array(store, mode="r")[:], np.arange(n) + 1)


def test_processes_misaligned_regions_lose_no_update(tmp_path):
    nworkers, rounds, width, offset = 3, 2, 31, 4
    n = offset + nworkers * width + 9
    store = str(tmp_path / "a.zarr")
    cz.zeros(n, chunks=8, dtype="i8", store=store, zarr_format=2)
    go = SPAWN.Event()
    procs = [SPAWN.Process(target=_proc_misaligned,
                           args=(store, str(tmp_path / "sync"), w, nworkers, rounds, width, offset, go))
             for w in range(nworkers)]
    _start(procs)
    go.set()
    _join(procs)
    got = cz.open_array(store, mode="r")[:]
    np.testing.assert_array_equal(got, _expected_misaligned(n, nworkers, rounds, width, offset))


def test_processes_chunk_aligned_regions_need_no_synchronizer(tmp_path):
    nworkers, chunk, rounds = 3, 40, 30
    z = cz.zeros(nworkers * chunk, chunks=chunk, dtype="i4", store=str(tmp_path / "a.zarr"))
    go = SPAWN.Event()
    procs = [SPAWN.Process(target=_proc_aligned, args=(z, w, chunk, rounds, go)) for w in range(nworkers)]
    _start(procs)
    go.set()
    _join(procs)
    np.testing.assert_array_equal(z[:], np.repeat(np.arange(nworkers) * 1000 + rounds - 1, chunk))


def test_stale_lock_of_killed_process_does_not_block(tmp_path):
    sync_path = str(tmp_path / "sync")
    store = str(tmp_path / "a.zarr")
    z = cz.zeros(20, chunks=10, dtype="i4", store=store, synchronizer=cz.ProcessSynchronizer(sync_path))
    key = "c/0"
    locked = SPAWN.Event()
    holder = SPAWN.Process(target=_proc_hold_lock, args=(sync_path, key, locked))
    holder.start()
    try:
        assert locked.wait(60), "the lock holder did not start"
        assert os.path.exists(z.synchronizer.lock_path(key))
        done = threading.Event()

        def write() -> None:
            z[3:5] = 7  # partial write of chunk c/0: needs the lock
            done.set()

        t = threading.Thread(target=write, daemon=True)
        t.start()
        assert not done.wait(0.5), "the lock did not exclude the writer while held"
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(10)
        assert holder.exitcode == -signal.SIGKILL
        assert done.wait(10), "a lock file left by a killed process blocked the next writer"
        t.join(10)
    finally:
        if holder.is_alive():  # pragma: no cover
            holder.kill()
            holder.join()
    assert os.path.exists(z.synchronizer.lock_path(key))  # the stale file is still there, and harmless
    np.testing.assert_array_equal(z[:5], [0, 0, 0, 7, 7])
    with z.synchronizer[key]:  # and can be taken again at once
        pass


def test_process_synchronizer_pickles_as_its_path(tmp_path):
    sync = cz.ProcessSynchronizer(tmp_path / "s")
    s2 = pickle.loads(pickle.dumps(sync))
    assert s2 == sync and s2.path == str(tmp_path / "s")
    assert len(pickle.dumps(sync)) < 200
    assert sync.lock_path("a/c/0/1").endswith("a__c__0__1.lock")
    with pytest.raises(ValueError):
        sync.lock_path("../x")


@pytest.mark.stress
def test_stress_threads_and_processes_together(tmp_path):
    """Two spawned processes with two threads each, interleaved single elements, 2-d."""
    store = str(tmp_path / "a.zarr")
    shape, chunks = (24, 50), (5, 7)
    cz.zeros(shape, chunks=chunks, dtype="i8", store=store)
    go = SPAWN.Event()
    procs = [SPAWN.Process(target=_stress_proc, args=(store, str(tmp_path / "sync"), p, go)) for p in range(2)]
    _start(procs)
    go.set()
    _join(procs, 120)
    np.testing.assert_array_equal(cz.open_array(store, mode="r")[:], np.arange(24 * 50).reshape(shape) + 1)


def _stress_proc(store: str, sync_path: str, p: int, go) -> None:
    z = cz.open_array(store, mode="r+", synchronizer=ProcessSynchronizer(sync_path))
    go.wait(60)
    flat = np.arange(24 * 50)
    mine = flat[flat % 4 // 2 == p]  # process p: elements with (i % 4) in {2p, 2p+1}

    def thread(k: int) -> None:
        for i in mine[mine % 2 == k]:
            r, c = divmod(int(i), 50)
            z[r, c] = i + 1

    _run_threads(thread, 2)


# ----------------------------------------------------------------------------- Blosc in processes
def _read_sum(z) -> int:
    with cz.config.set(threads=2):
        return int(z[:].sum(dtype=np.int64))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_blosc_arrays_in_worker_processes_do_not_hang(tmp_path, method):
    """Per-call Blosc contexts: no shared global state, so worker processes (even forked
    after the parent used Blosc threads and the chunk pool) decode without hanging, with
    ``use_threads`` left on."""
    blosc = pytest.importorskip("chunkzip.codecs.blosc")
    data = np.arange(512 * 512, dtype="i4").reshape(512, 512)
    z = cz.array(data, chunks=(128, 128), store=str(tmp_path / "b.zarr"),
                 compressor=blosc.Blosc(cname="lz4", clevel=5, shuffle=blosc.SHUFFLE))
    previous, saved = blosc.set_nthreads(2), blosc.use_threads
    blosc.use_threads = True
    try:
        assert _read_sum(z) == int(data.sum())  # the parent has used Blosc threads and the pool
        with SPAWN.Pool(2) if method == "spawn" else mp.get_context("fork").Pool(2) as pool:
            sums = pool.map_async(_read_sum, [z] * 6).get(timeout=60)
    finally:
        blosc.set_nthreads(previous)
        blosc.use_threads = saved
    assert sums == [int(data.sum())] * 6
