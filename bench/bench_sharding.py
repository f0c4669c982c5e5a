"""Sharded Zarr v3 arrays: chunkzip vs zarr-python 3, tensorstore and zarrs, side by side.

Workloads (issue 11): a 4096x4096 int32 array in 1024x1024 shards of 256x256 inner
chunks, Blosc lz4 byte-shuffle inside -- full write, full read, an unaligned 1000x1000
window, one inner chunk, 1,000 single elements, 100,000 random points; a 1-D
4,000,000-element int32 array in 400,000-element shards of 4,000-element inner chunks --
full write and full read.

Every library reads the same files (written by zarr-python); each write workload writes
its own array. Rounds are interleaved (round r runs every library once per workload, in
orders where each library follows each other equally often: ``orders.py``) and
the best of the rounds is reported, with ratios peer / chunkzip (> 1: chunkzip faster).

zarrs (the Rust codec pipeline for zarr-python) needs Python >= 3.12: its column runs in
a persistent worker process (this same file, ``--worker zarrs``) under
``$ZARRS_PYTHON`` (default ``/work/venv312/bin/python``) and is interleaved with the others
through a pipe. Without that interpreter the column is left out.

Run::

    python bench/bench_sharding.py [--rounds 8] [--json out.json]

(a multiple of 4 rounds, or of 6 without zarrs, completes the balanced orders)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the in-place build
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from orders import order_for_round  # noqa: E402

SHAPE2, SHARD2, INNER2 = (4096, 4096), (1024, 1024), (256, 256)
SHAPE1, SHARD1, INNER1 = (4_000_000,), (400_000,), (4_000,)
RNG = np.random.default_rng(42)
POINTS = tuple(RNG.integers(0, n, 100_000) for n in SHAPE2)
SINGLES = [tuple(int(RNG.integers(0, n)) for n in SHAPE2) for _ in range(1000)]
WINDOW = np.s_[100:1100, 300:1300]
ONE_INNER = np.s_[256:512, 512:768]

WORKLOADS = [
    ("write2", "2-D full write (64 MiB int32, 1024² shards of 256² chunks)"),
    ("read2", "2-D full read"),
    ("window", "2-D unaligned 1000x1000 window"),
    ("inner", "2-D one inner chunk"),
    ("singles", "2-D 1,000 single elements"),
    ("points", "2-D 100,000 random points (vindex)"),
    ("write1", "1-D full write (4M int32, 400k shards of 4k chunks)"),
    ("read1", "1-D full read"),
]


def make_data():
    rng = np.random.default_rng(0)
    d2 = (np.cumsum(rng.integers(-3, 4, size=SHAPE2[0] * SHAPE2[1])) % 100_000).astype("i4").reshape(SHAPE2)
    d1 = (np.cumsum(rng.integers(-3, 4, size=SHAPE1[0])) % 100_000).astype("i4")
    return d2, d1


# ----------------------------------------------------------------------------- adapters
class ChunkzipLib:
    name = "chunkzip"

    def __init__(self):
        import chunkzip as cz
        from chunkzip.codecs import Blosc

        self.cz, self.comp = cz, Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)

    def open(self, path):
        return self.cz.open(path, mode="r")

    def create(self, path, shape, shards, inner):
        return self.cz.create(shape, chunks=inner, shards=shards, dtype="i4", store=path, compressor=self.comp,
                              overwrite=True)

    def read(self, a, sel):
        return a[sel]

    def write(self, a, sel, v):
        a[sel] = v

    def vindex(self, a, pts):
        return a.vindex[pts]


class ZarrLib:
    name = "zarr-python"

    def __init__(self):
        import zarr
        from zarr.codecs import BloscCodec

        self.zarr, self.comp = zarr, BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")

    def open(self, path):
        return self.zarr.open_array(path, mode="r")

    def create(self, path, shape, shards, inner):
        return self.zarr.create_array(store=path, shape=shape, chunks=inner, shards=shards, dtype="i4",
                                      compressors=[self.comp], overwrite=True)

    def read(self, a, sel):
        return a[sel]

    def write(self, a, sel, v):
        a[sel] = v

    def vindex(self, a, pts):
        return a.vindex[pts]


class ZarrsLib(ZarrLib):
    name = "zarrs"

    def __init__(self):
        super().__init__()
        import zarrs  # noqa: F401

        self.zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})


class TensorstoreLib:
    name = "tensorstore"

    def __init__(self):
        import tensorstore as ts

        self.ts = ts

    def open(self, path):
        return self.ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}}).result()

    def create(self, path, shape, shards, inner):
        meta = {"shape": list(shape), "data_type": "int32", "fill_value": 0,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shards)}},
                "codecs": [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": list(inner),
                    "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                               {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                                   "typesize": 4, "blocksize": 0}}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "end"}}]}
        return self.ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": path}, "metadata": meta,
                             "create": True, "delete_existing": True}).result()

    def read(self, a, sel):
        return a[sel].read().result()

    def write(self, a, sel, v):
        a[sel].write(v).result()

    def vindex(self, a, pts):
        return a.vindex[pts].read().result()


LIBS = {"chunkzip": ChunkzipLib, "zarr-python": ZarrLib, "tensorstore": TensorstoreLib, "zarrs": ZarrsLib}


# ----------------------------------------------------------------------------- one library's runner
class Runner:
    """Holds one library's open arrays and runs one workload at a time (timed)."""

    def __init__(self, lib, root, d2, d1):
        self.lib, self.root, self.d2, self.d1 = lib, root, d2, d1
        self.r2 = lib.open(os.path.join(root, "ref2"))
        self.r1 = lib.open(os.path.join(root, "ref1"))
        mine = os.path.join(root, lib.name)
        self.w2 = lib.create(os.path.join(mine, "w2"), SHAPE2, SHARD2, INNER2)
        self.w1 = lib.create(os.path.join(mine, "w1"), SHAPE1, SHARD1, INNER1)

    def run(self, w):
        lib = self.lib
        t = time.perf_counter()
        if w == "write2":
            lib.write(self.w2, np.s_[...], self.d2)
        elif w == "read2":
            r = lib.read(self.r2, np.s_[...])
        elif w == "window":
            r = lib.read(self.r2, WINDOW)
        elif w == "inner":
            r = lib.read(self.r2, ONE_INNER)
        elif w == "singles":
            r = [lib.read(self.r2, i) for i in SINGLES]
        elif w == "points":
            r = lib.vindex(self.r2, POINTS)
        elif w == "write1":
            lib.write(self.w1, np.s_[...], self.d1)
        elif w == "read1":
            r = lib.read(self.r1, np.s_[...])
        dt = time.perf_counter() - t
        # check outside the timed part
        if w == "write2":
            r, exp = lib.read(self.w2, np.s_[::255, ::255]), self.d2[::255, ::255]
        elif w == "write1":
            r, exp = lib.read(self.w1, np.s_[::997]), self.d1[::997]
        else:
            exp = {"read2": self.d2, "window": self.d2[WINDOW], "inner": self.d2[ONE_INNER], "read1": self.d1,
                   "points": self.d2[POINTS], "singles": [self.d2[i] for i in SINGLES]}[w]
        np.testing.assert_array_equal(np.asarray(r), np.asarray(exp))
        return dt


def worker(name):
    """``--worker NAME``: read the data root from stdin, then one workload per line."""
    root = sys.stdin.readline().strip()
    d2, d1 = make_data()
    runner = Runner(LIBS[name](), root, d2, d1)
    print("ready", flush=True)
    for line in sys.stdin:
        w = line.strip()
        if not w:
            break
        print(repr(runner.run(w)), flush=True)


class RemoteRunner:
    def __init__(self, python, name, root):
        self.p = subprocess.Popen([python, os.path.abspath(__file__), "--worker", name], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.p.stdin.write(root + "\n")
        self.p.stdin.flush()
        if self.p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{name} worker failed to start")

    def run(self, w):
        self.p.stdin.write(w + "\n")
        self.p.stdin.flush()
        return float(self.p.stdout.readline())

    def close(self):
        self.p.stdin.write("\n")
        self.p.stdin.flush()
        self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--json")
    ap.add_argument("--worker")
    ap.add_argument("--only", nargs="*", help="workload names")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)
    d2, d1 = make_data()
    with tempfile.TemporaryDirectory(prefix="czbench-") as root:
        ref = ZarrLib()  # the shared read files, written by zarr-python
        ref.write(ref.create(os.path.join(root, "ref2"), SHAPE2, SHARD2, INNER2), np.s_[...], d2)
        ref.write(ref.create(os.path.join(root, "ref1"), SHAPE1, SHARD1, INNER1), np.s_[...], d1)
        runners = {n: Runner(LIBS[n](), root, d2, d1) for n in ("chunkzip", "zarr-python", "tensorstore")}
        py312 = os.environ.get("ZARRS_PYTHON", "/work/venv312/bin/python")
        if os.path.exists(py312):
            runners["zarrs"] = RemoteRunner(py312, "zarrs", root)
        names = list(runners)
        work = [w for w in WORKLOADS if not args.only or w[0] in args.only]
        best = {(w, n): float("inf") for w, _ in work for n in names}
        for r in range(args.rounds):
            for w, _ in work:
                order = order_for_round(names, r)  # each library after each other equally often
                for n in order:
                    best[w, n] = min(best[w, n], runners[n].run(w))
        if "zarrs" in runners:
            runners["zarrs"].close()
    peers = [n for n in names if n != "chunkzip"]
    head = "| workload | " + " | ".join(f"{n} (s)" for n in names) + " | " + \
        " | ".join(f"{p} / chunkzip" for p in peers) + " |"
    print(head)
    print("|" + "---|" * (1 + len(names) + len(peers)))
    for w, label in work:
        c = best[w, "chunkzip"]
        cells = [f"{best[w, n]:.4f}" for n in names] + [f"{best[w, p] / c:.2f}x" for p in peers]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({f"{w}/{n}": t for (w, n), t in best.items()}, f, indent=1)


if __name__ == "__main__":
    main()
