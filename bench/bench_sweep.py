"""Codec sweep of a 64 MiB float32 array: chunkzip.sweep vs the hand-written loop people run
today (zarr-python reads the same number of sampled chunks, numcodecs applies the same
configurations one after the other).

Run:  python -m pytest bench/bench_sweep.py --benchmark-json=bench/sweep.json
      (pytest-benchmark, three rounds per case; then python bench/report.py bench/sweep.json)
Or:   python bench/bench_sweep.py          (interleaved rounds, best of each, printed as a table)

The array: 4096 x 4096 float32 (a random walk along rows), chunks 256 x 256 (256 KiB),
Zarr v2, Blosc lz4. Both sides try the default grid of ``chunkzip.sweep.candidates('f4')``
on ``sample='auto'`` chunks (8 of 256 here: 2 MiB).
"""
from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

SHAPE = (4096, 4096)
CHUNKS = (256, 256)


def make_array(path: str) -> None:
    import chunkzip as cz

    rng = np.random.default_rng(0)
    data = np.cumsum(rng.normal(size=SHAPE).astype("f4"), axis=1, dtype="f4")
    cz.array(data, chunks=CHUNKS, store=path, zarr_format=2)


def n_samples() -> int:
    from chunkzip.sweep import DEFAULT_SAMPLE_BYTES

    return max(1, DEFAULT_SAMPLE_BYTES // (math.prod(CHUNKS) * 4))


def run_chunkzip(path: str, threads: int) -> list[dict]:
    import chunkzip as cz

    return cz.sweep(cz.open(path, mode="r"), threads=threads, progress=False)


def run_numcodecs_loop(path: str) -> list[dict]:
    """What one writes by hand today: read a few chunks, then for every configuration encode
    and decode them, timing both and computing the ratio."""
    import numcodecs
    import zarr

    from chunkzip.sweep import candidates, sample_regions

    z = zarr.open_array(path, mode="r")
    chunks = [np.ascontiguousarray(z[r]) for r in sample_regions(SHAPE, CHUNKS, n_samples())]
    nbytes = sum(c.nbytes for c in chunks)
    rows = []
    for cfg in candidates("f4"):
        chain = [numcodecs.get_codec(dict(c)) for c in (cfg if isinstance(cfg, list) else [cfg])]
        t0 = time.perf_counter()
        encoded = []
        for c in chunks:
            x = c.reshape(-1)
            for codec in chain:
                x = codec.encode(x)
            encoded.append(x)
        t1 = time.perf_counter()
        for e in encoded:
            for codec in reversed(chain):
                e = codec.decode(e)
        t2 = time.perf_counter()
        size = sum(np.asarray(e).nbytes if isinstance(e, np.ndarray) else len(e) for e in encoded)
        rows.append({"codec": cfg, "ratio": nbytes / size, "encode_mbps": nbytes / 1e6 / (t1 - t0),
                     "decode_mbps": nbytes / 1e6 / (t2 - t1)})
    return rows


CASES = {
    "chunkzip.sweep, 2 threads": lambda p: run_chunkzip(p, 2),
    "chunkzip.sweep, 1 thread": lambda p: run_chunkzip(p, 1),
    "numcodecs loop (zarr-python reads)": run_numcodecs_loop,
}


@pytest.fixture(scope="module")
def array_path(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("sweep") / "f32.zarr")
    make_array(path)
    return path


@pytest.mark.parametrize("case", list(CASES))
def test_sweep_64mib_float32(benchmark, array_path, case):
    pytest.importorskip("numcodecs")
    pytest.importorskip("zarr")
    benchmark.group = f"codec sweep, 64 MiB float32, {n_samples()} sampled chunks"
    rows = benchmark.pedantic(CASES[case], args=(array_path,), rounds=3, iterations=1)
    benchmark.extra_info["configurations"] = len(rows)
    assert len(rows) >= 60


def main(rounds: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "f32.zarr")
        make_array(path)
        best = {name: math.inf for name in CASES}
        counts = {}
        for _ in range(rounds):  # interleaved: every case once per round
            for name, fn in CASES.items():
                t0 = time.perf_counter()
                counts[name] = len(fn(path))
                best[name] = min(best[name], time.perf_counter() - t0)
    ref = best["chunkzip.sweep, 2 threads"]
    print(f"64 MiB float32 (4096x4096, chunks 256x256), {n_samples()} sampled chunks, best of {rounds}")
    print("| sweep | configurations | time (s) | time / chunkzip (2 threads) |")
    print("|---|---|---|---|")
    for name in CASES:
        print(f"| {name} | {counts[name]} | {best[name]:.2f} | {best[name] / ref:.2f}x |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
