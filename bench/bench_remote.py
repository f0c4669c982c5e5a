"""Reads over HTTP with 20 ms of latency per answer, chunkzip vs zarr-python 3 (fsspec,
async), both reading the same URL from the same server in the same run.

The arrays: 2048 x 2048 int32 in 128 x 128 chunks (256 chunks), Zarr v3: ``a.zarr`` with
Blosc lz4 (cheap to decode), ``z.zarr`` with Blosc zstd level 5 (about 3x the decode
work), ``g.zarr`` with gzip level 5 (decoded on the generic per-chunk path, the most
decode work), ``s.zarr`` sharded (512 x 512 shards of the same Blosc lz4 chunks). The server is a threaded ``http.server`` on 127.0.0.1 that sleeps 20 ms before
each answer, so one chunk at a time would take 256 x 20 ms = 5.1 s for a full read.

``chunkzip`` decodes each group of chunks as it arrives (``pipeline.STREAM_READS``);
``chunkzip (batch)`` is the same library waiting for the whole batch before decoding,
for the before/after comparison. The server logs every request; the table gives, per
read, the requests made and the round trips they took (requests that start more than
half a latency after the first of their wave begin a new one).

Run: ``pytest bench/bench_remote.py --benchmark-json=bench/remote.json`` then
``python bench/report.py bench/remote.json``; or ``python bench/bench_remote.py`` (from
``bench/``) for best of interleaved rounds (the libraries alternate within every round).
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

from conftest import ChunkzipLib, ZarrLib  # bench/conftest.py: the peers' read calls

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")

SHAPE, CHUNKS, LATENCY = (2048, 2048), (128, 128), 0.020
RNG = np.random.default_rng(7)
POINTS = tuple(RNG.integers(0, n, 1000) for n in SHAPE)
WINDOW = np.s_[100:400, 1000:1300]  # unaligned, touches 4 x 4 = 16 chunks
#: name -> (array, read)
WORKLOADS = {
    "full read (256 chunks)": ("a.zarr", lambda lib, a: lib.read(a, np.s_[...])),
    "unaligned window (16 chunks)": ("a.zarr", lambda lib, a: lib.read(a, WINDOW)),
    "1,000 random points": ("a.zarr", lambda lib, a: lib.vindex(a, POINTS)),
    "full read, Blosc zstd-5 (256 chunks)": ("z.zarr", lambda lib, a: lib.read(a, np.s_[...])),
    "full read, gzip-5 (256 chunks)": ("g.zarr", lambda lib, a: lib.read(a, np.s_[...])),
    "full read, sharded (16 shards of 16 chunks)": ("s.zarr", lambda lib, a: lib.read(a, np.s_[...])),
    "window in a shard, sharded (4 chunks)": ("s.zarr", lambda lib, a: lib.read(a, np.s_[130:380, 650:890])),
}
EXPECT = {"full read (256 chunks)": lambda d: d, "unaligned window (16 chunks)": lambda d: d[WINDOW],
          "1,000 random points": lambda d: d[POINTS], "full read, Blosc zstd-5 (256 chunks)": lambda d: d, "full read, gzip-5 (256 chunks)": lambda d: d,
          "full read, sharded (16 shards of 16 chunks)": lambda d: d,
          "window in a shard, sharded (4 chunks)": lambda d: d[130:380, 650:890]}


def make_data() -> np.ndarray:
    base = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE)
    return base + np.random.default_rng(0).integers(0, 64, SHAPE, dtype=np.int32)


def write(root: str, data: np.ndarray) -> None:
    import chunkzip as cz
    from chunkzip.codecs import Blosc

    from chunkzip.codecs import GZip

    for name, codec in (("a.zarr", Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)),
                        ("z.zarr", Blosc(cname="zstd", clevel=5, shuffle=Blosc.SHUFFLE)), ("g.zarr", GZip(level=5))):
        z = cz.open(os.path.join(root, name), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=3,
                    compressor=codec)
        z[...] = data
    z = cz.open(os.path.join(root, "s.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, shards=(512, 512), dtype="i4",
                zarr_format=3, compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
    z[...] = data


class Server:
    """The tests' HTTP server (tests/remote_servers.py) in its own process, so that its
    threads do not compete for the readers' GIL. ``requests()`` returns the requests it
    received since the previous call: ``(arrival time, method, path, Range)``."""

    CODE = ("import sys, json; sys.path.insert(0, sys.argv[1]);"
            "from remote_servers import FaultyHTTPServer;"
            "srv = FaultyHTTPServer(sys.argv[2], delay=float(sys.argv[3])).__enter__();"
            "print(srv.url, flush=True)\n"
            "for line in sys.stdin:\n"
            "    log = list(srv.faults.log); srv.faults.log.clear(); print(json.dumps(log), flush=True)")

    def __init__(self, root: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", self.CODE, TESTS, root, str(LATENCY)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()

    def requests(self) -> list:
        import json

        self.proc.stdin.write("log\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


@contextlib.contextmanager
def http_server(root: str):
    """Yield a running :class:`Server`."""
    srv = Server(root)
    try:
        yield srv
    finally:
        srv.close()


def round_trips(log: list) -> int:
    """Waves of requests: a request arriving more than half a latency after the first
    request of the current wave starts a new wave (the client waited for an answer)."""
    waves, first = 0, None
    for t, *_ in sorted(log):
        if first is None or t - first > LATENCY / 2:
            waves, first = waves + 1, t
    return waves


class Chunkzip(ChunkzipLib):
    stream = True

    def open(self, url):
        import chunkzip as cz

        return cz.open(url, mode="r")

    def _call(self, fn, *args):
        from chunkzip import pipeline

        saved, pipeline.STREAM_READS = pipeline.STREAM_READS, self.stream
        try:
            return fn(*args)
        finally:
            pipeline.STREAM_READS = saved

    def read(self, arr, sel):
        return self._call(super().read, arr, sel)

    def vindex(self, arr, coords):
        return self._call(super().vindex, arr, coords)


class ChunkzipBatch(Chunkzip):
    """chunkzip with the whole batch fetched before decoding (before streaming reads)."""
    name = "chunkzip (batch)"
    stream = False


class ZarrPython(ZarrLib):
    def open(self, url):
        import zarr

        return zarr.open_array(url, mode="r")


LIBS = [Chunkzip(), ChunkzipBatch(), ZarrPython()]


@pytest.fixture(scope="module")
def served():
    pytest.importorskip("aiohttp")
    data = make_data()
    with tempfile.TemporaryDirectory() as root:
        write(root, data)
        with http_server(root) as srv:
            yield srv.url, data


@pytest.fixture(params=LIBS, ids=[lib.name for lib in LIBS])
def lib(request):
    if request.param.name == "zarr-python":
        pytest.importorskip("zarr")
    return request.param


@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_remote_read(benchmark, lib, served, workload):
    base, data = served
    benchmark.group = f"HTTP, 20 ms latency: {workload}"
    name, fn = WORKLOADS[workload]
    arr = lib.open(f"{base}/{name}")
    result = benchmark.pedantic(fn, args=(lib, arr), rounds=3, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(np.asarray(result), EXPECT[workload](data))


def main(rounds: int = 5) -> None:
    """Best of ``rounds`` interleaved rounds per workload; prints a Markdown table with
    the requests and round trips of each library's best read (from the server's log)."""
    data = make_data()
    with tempfile.TemporaryDirectory() as root:
        write(root, data)
        with http_server(root) as srv:
            arrays = {(lib.name, name): lib.open(f"{srv.url}/{name}") for lib in LIBS
                      for name in ("a.zarr", "z.zarr", "g.zarr", "s.zarr")}
            srv.requests()  # opening is not part of the reads
            best: dict[tuple[str, str], tuple[float, int, int]] = {}
            for _ in range(rounds):
                for wname, (name, fn) in WORKLOADS.items():
                    for lib in LIBS:
                        t0 = time.perf_counter()
                        result = fn(lib, arrays[(lib.name, name)])
                        dt = time.perf_counter() - t0
                        log = srv.requests()
                        np.testing.assert_array_equal(np.asarray(result), EXPECT[wname](data))
                        key = (wname, lib.name)
                        if dt < best.get(key, (float("inf"),))[0]:
                            best[key] = (dt, len(log), round_trips(log))
    names = [lib.name for lib in LIBS]
    print("| workload (HTTP, 20 ms per answer) | " + " | ".join(f"{n} (s)" for n in names)
          + " | chunkzip / zarr-python | requests (round trips): " + ", ".join(names) + " |")
    print("|---|" + "---|" * len(names) + "---|---|")
    for wname in WORKLOADS:
        cells = [f"{best[(wname, n)][0]:.3f}" for n in names]
        ratio = best[(wname, "chunkzip")][0] / best[(wname, "zarr-python")][0]
        reqs = ", ".join(f"{best[(wname, n)][1]} ({best[(wname, n)][2]})" for n in names)
        print(f"| {wname} | " + " | ".join(cells) + f" | {ratio:.2f} | {reqs} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
