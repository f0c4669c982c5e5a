"""Whole-shard writes: the shard write kernel (``chunkzip.shard_writer``) against the generic
per-shard path it replaced, A/B in one process.

The write workloads of ``bench_sharding.py`` (4096x4096 int32 in 1024² shards of 256²
inner chunks; 4,000,000 int32 in 400,000-element shards of 4,000-element inner chunks;
Blosc lz4 byte-shuffle inside), on a directory store (one atomic file per shard) and on
a MemoryStore (shards assembled in buffers, then ``set_many``). Rounds alternate which
path goes first; the best of the rounds is reported, with the ratio generic / kernel.

Run::

    python bench/bench_shard_write.py [--rounds 9]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the in-place build
sys.path.insert(0, HERE)

from bench_sharding import INNER1, INNER2, SHAPE1, SHAPE2, SHARD1, SHARD2, make_data  # noqa: E402


def main() -> None:
    import chunkzip as cz
    from chunkzip import shard_writer
    from chunkzip.codecs import Blosc
    from chunkzip.storage import MemoryStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    d2, d1 = make_data()
    comp = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    with tempfile.TemporaryDirectory(prefix="czbench-") as root:
        cases = {}
        for label, d, shards, inner in [("2-D", d2, SHARD2, INNER2), ("1-D", d1, SHARD1, INNER1)]:
            for where in ("directory", "memory"):
                store = os.path.join(root, label) if where == "directory" else MemoryStore()
                a = cz.create(d.shape, chunks=inner, shards=shards, dtype="i4", store=store, compressor=comp)
                cases[f"{label} full write, {where} store"] = (a, d)
        best = {(k, fast): float("inf") for k in cases for fast in (True, False)}
        for r in range(args.rounds):
            for k, (a, d) in cases.items():
                for fast in ((True, False) if r % 2 else (False, True)):
                    shard_writer.FAST_WRITE = fast
                    t = time.perf_counter()
                    a[...] = d
                    best[k, fast] = min(best[k, fast], time.perf_counter() - t)
        shard_writer.FAST_WRITE = True
        for k, (a, d) in cases.items():  # both paths wrote the same array: check it once
            np.testing.assert_array_equal(a[::97], d[::97])
    print("| workload | generic path (s) | shard kernel (s) | generic / kernel |")
    print("|---|---|---|---|")
    for k in cases:
        g, f = best[k, False], best[k, True]
        print(f"| {k} | {g:.4f} | {f:.4f} | {g / f:.2f}x |")


if __name__ == "__main__":
    main()
