"""Reads over HTTP with 20 ms of latency per answer, chunkzip vs zarr-python 3 (fsspec,
async), both reading the same URL from the same server in the same run.

The array: 2048 x 2048 int32 in 128 x 128 chunks (256 chunks, Blosc lz4), Zarr v3. The
server is a threaded ``http.server`` on 127.0.0.1 that sleeps 20 ms before each answer,
so one chunk at a time would take 256 x 20 ms = 5.1 s for the full read.

Run: ``pytest bench/bench_remote.py --benchmark-json=bench/remote.json`` then
``python bench/report.py bench/remote.json``; or ``python bench/bench_remote.py`` for best
of interleaved rounds (chunkzip and zarr-python alternate within every round).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")

SHAPE, CHUNKS, LATENCY = (2048, 2048), (128, 128), 0.020
RNG = np.random.default_rng(7)
POINTS = tuple(RNG.integers(0, n, 1000) for n in SHAPE)
WINDOW = np.s_[100:400, 1000:1300]  # unaligned, touches 4 x 4 = 16 chunks
WORKLOADS = {
    "full read (256 chunks)": lambda lib, a: lib.read(a, np.s_[...]),
    "unaligned window (16 chunks)": lambda lib, a: lib.read(a, WINDOW),
    "1,000 random points": lambda lib, a: lib.vindex(a, POINTS),
}


def make_data() -> np.ndarray:
    base = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE)
    return base + np.random.default_rng(0).integers(0, 64, SHAPE, dtype=np.int32)


def write(root: str, data: np.ndarray) -> None:
    import chunkzip as cz
    from chunkzip.codecs import Blosc

    z = cz.open(os.path.join(root, "a.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=3,
                compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
    z[...] = data


@contextlib.contextmanager
def http_server(root: str):
    """The tests' HTTP server (tests/remote_servers.py) in its own process, so that its
    threads do not compete for the readers' GIL; yields its base URL."""
    code = ("import sys, threading; sys.path.insert(0, sys.argv[1]);"
            "from remote_servers import FaultyHTTPServer;"
            "srv = FaultyHTTPServer(sys.argv[2], delay=float(sys.argv[3])).__enter__();"
            "print(srv.url, flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", code, TESTS, root, str(LATENCY)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.stdin.close()
        proc.wait(10)


class Chunkzip:
    name = "chunkzip"

    def open(self, url):
        import chunkzip as cz

        return cz.open(url, mode="r")

    def read(self, a, sel):
        return a[sel]

    def vindex(self, a, pts):
        return a.vindex[pts]


class ZarrPython(Chunkzip):
    name = "zarr-python"

    def open(self, url):
        import zarr

        return zarr.open_array(url, mode="r")


LIBS = [Chunkzip(), ZarrPython()]


@pytest.fixture(scope="module")
def served():
    pytest.importorskip("aiohttp")
    data = make_data()
    with tempfile.TemporaryDirectory() as root:
        write(root, data)
        with http_server(root) as base:
            yield base + "/a.zarr", data


@pytest.fixture(params=LIBS, ids=[lib.name for lib in LIBS])
def lib(request):
    if request.param.name == "zarr-python":
        pytest.importorskip("zarr")
    return request.param


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_remote_read(benchmark, lib, served, workload):
    url, data = served
    benchmark.group = f"HTTP, 20 ms latency: {workload}"
    arr = lib.open(url)
    fn = WORKLOADS[workload]
    result = benchmark.pedantic(fn, args=(lib, arr), rounds=3, iterations=1, warmup_rounds=1)
    expect = {"full read (256 chunks)": data, "unaligned window (16 chunks)": data[WINDOW],
              "1,000 random points": data[POINTS]}[workload]
    np.testing.assert_array_equal(np.asarray(result), expect)


def main(rounds: int = 5) -> None:
    """Best of ``rounds`` interleaved rounds per workload; prints a Markdown table."""
    data = make_data()
    with tempfile.TemporaryDirectory() as root:
        write(root, data)
        with http_server(root) as base:
            url = base + "/a.zarr"
            arrays = {lib.name: lib.open(url) for lib in LIBS}
            best: dict[tuple[str, str], float] = {}
            for _ in range(rounds):
                for wname, fn in WORKLOADS.items():
                    for lib in LIBS:
                        t0 = time.perf_counter()
                        fn(lib, arrays[lib.name])
                        dt = time.perf_counter() - t0
                        key = (wname, lib.name)
                        best[key] = min(best.get(key, float("inf")), dt)
    print("| workload (HTTP, 20 ms per answer) | chunkzip (s) | zarr-python 3 (s) | chunkzip / zarr-python |")
    print("|---|---|---|---|")
    for wname in WORKLOADS:
        c, z = best[(wname, "chunkzip")], best[(wname, "zarr-python")]
        print(f"| {wname} | {c:.3f} | {z:.3f} | {c / z:.2f} |")


if __name__ == "__main__":
    main()
