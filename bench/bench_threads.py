"""Full-array read (64 MiB int32, 256x256 chunks, Blosc lz4) over the chunk pool size x the
number of Blosc threads x ``chunkzip.codecs.blosc.use_threads``: is there oversubscription?

``use_threads=None`` (default) lets Blosc use its threads only when decoding on the main
thread, i.e. when the chunk pool has one thread and chunks are decoded inline; pool
workers decode single-threaded. ``False`` never uses Blosc threads; ``True`` always does
(pool threads x Blosc threads: the oversubscribed case, for comparison).

Run: ``pytest bench/bench_threads.py --benchmark-json=bench/threads.json`` then
``python bench/bench_threads.py bench/threads.json`` for the table (wall and CPU time).
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np
import pytest


@pytest.mark.parametrize("use_threads", [None, False, True], ids=lambda v: f"use_threads={v}")
@pytest.mark.parametrize("blosc_threads", [1, 2], ids=lambda n: f"blosc={n}")
@pytest.mark.parametrize("pool", [1, 2], ids=lambda n: f"pool={n}")
def test_full_read_threads(benchmark, big_path, data, pool, blosc_threads, use_threads):
    import chunkzip as cz
    from chunkzip.codecs import blosc

    benchmark.group = "full read (64 MiB int32, 256x256 chunks, Blosc lz4)"
    z = cz.open(big_path, mode="r")
    previous = blosc.set_nthreads(blosc_threads)
    saved_use = blosc.use_threads
    blosc.use_threads = use_threads
    cpu: list[float] = []

    def read():
        c0 = time.process_time()
        out = z[...]
        cpu.append(time.process_time() - c0)
        return out

    try:
        with cz.config.set(threads=pool):
            result = benchmark(read)
    finally:
        blosc.set_nthreads(previous)
        blosc.use_threads = saved_use
    np.testing.assert_array_equal(result, data)
    benchmark.extra_info.update(pool=pool, blosc_threads=blosc_threads, use_threads=str(use_threads),
                                cpu_median=float(np.median(cpu)))


def report(path: str) -> None:
    with open(path) as f:
        results = json.load(f)["benchmarks"]
    print("| pool | Blosc nthreads | use_threads | wall median (s) | CPU median (s) | GB/s |")
    print("|---|---|---|---|---|---|")
    for b in sorted(results, key=lambda b: (b["extra_info"]["pool"], b["extra_info"]["blosc_threads"],
                                            b["extra_info"]["use_threads"])):
        e, med = b["extra_info"], b["stats"]["median"]
        print(f"| {e['pool']} | {e['blosc_threads']} | {e['use_threads']} | {med:.4f} | "
              f"{e['cpu_median']:.4f} | {64 * 2**20 / med / 1e9:.2f} |")


if __name__ == "__main__":
    report(sys.argv[1] if len(sys.argv) > 1 else "bench/threads.json")
