"""Concurrent append/resize under a synchronizer: every appended block comes back whole.

Each block is filled with its writer's id, so the final array shows at once which blocks
were overwritten (the bug this guards against: 9-76 of 100 blocks came back partly
overwritten with a ThreadSynchronizer, and the shape was wrong with a ProcessSynchronizer).
"""
from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

import chunkzip

ROWS = 3  # rows per appended block: not a divisor of the chunk length, so blocks share chunks
WIDTH = 4


def _block(i: int) -> np.ndarray:
    return np.full((ROWS, WIDTH), i, dtype="i4")


def _check_blocks(z: chunkzip.Array, n: int) -> None:
    """Every block of ROWS rows holds one writer id, and every id 1..n appears once."""
    data = z[...]
    assert data.shape == (n * ROWS, WIDTH)
    blocks = data.reshape(n, ROWS * WIDTH)
    whole = (blocks == blocks[:, :1]).all(axis=1)
    assert whole.all(), f"{int((~whole).sum())} of {n} blocks partly overwritten"
    assert sorted(blocks[:, 0].tolist()) == list(range(1, n + 1))


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_thread_appends_keep_every_block(tmp_path, zarr_format):
    sync = chunkzip.ThreadSynchronizer()
    z = chunkzip.zeros((0, WIDTH), chunks=(7, WIDTH), dtype="i4", store=str(tmp_path / "a"),
                       synchronizer=sync, zarr_format=zarr_format)
    n, nthreads = 100, 8
    todo = list(range(1, n + 1))
    lock = threading.Lock()
    errors = []

    def worker() -> None:
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop()
                z.append(_block(i))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(nthreads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _check_blocks(z, n)
    _check_blocks(chunkzip.open_array(str(tmp_path / "a"), mode="r"), n)


def test_thread_appends_through_separate_handles(tmp_path):
    """Each thread opens its own Array: the metadata is re-read inside the lock."""
    store = str(tmp_path / "a")
    chunkzip.zeros((0, WIDTH), chunks=(5, WIDTH), dtype="i4", store=store, zarr_format=2)
    sync = chunkzip.ThreadSynchronizer()
    n = 40

    def worker(ids: list[int]) -> None:
        z = chunkzip.open_array(store, mode="r+", synchronizer=sync)
        for i in ids:
            z.append(_block(i))

    threads = [threading.Thread(target=worker, args=(list(range(k, n + 1, 4)),)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check_blocks(chunkzip.open_array(store, mode="r"), n)


def _process_worker(args: tuple) -> None:
    store, lockdir, ids = args
    z = chunkzip.open_array(store, mode="r+", synchronizer=chunkzip.ProcessSynchronizer(lockdir))
    for i in ids:
        z.append(_block(i))


def test_process_appends_keep_every_block(tmp_path):
    store, lockdir = str(tmp_path / "a"), str(tmp_path / "locks")
    chunkzip.zeros((0, WIDTH), chunks=(7, WIDTH), dtype="i4", store=store, zarr_format=2)
    n, nproc = 48, 4
    jobs = [(store, lockdir, list(range(k, n + 1, nproc))) for k in range(1, nproc + 1)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(nproc) as pool:
        pool.map(_process_worker, jobs)
    _check_blocks(chunkzip.open_array(store, mode="r"), n)


def test_resize_takes_the_array_lock(tmp_path):
    """Concurrent resizes and appends: the final shape is the last writer's, never a mix."""
    sync = chunkzip.ThreadSynchronizer()
    z = chunkzip.zeros((0, WIDTH), chunks=(4, WIDTH), dtype="i4", synchronizer=sync, zarr_format=2)
    barrier = threading.Barrier(4)

    def grow(k: int) -> None:
        barrier.wait()
        for _ in range(10):
            z.append(_block(k))

    threads = [threading.Thread(target=grow, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = z[...]
    assert data.shape == (40 * ROWS, WIDTH)
    counts = np.bincount(data[:, 0], minlength=5)
    assert counts[1:].tolist() == [10 * ROWS] * 4
    blocks = data.reshape(40, ROWS * WIDTH)
    assert (blocks == blocks[:, :1]).all()


def test_views_refuse_resize_and_append():
    z = chunkzip.zeros(10, chunks=5, dtype="i4")
    v = z.view()
    with pytest.raises(PermissionError):
        v.append(np.zeros(3, "i4"))
    with pytest.raises(PermissionError):
        v.shape = (20,)
