"""New chunk files written anonymous (``O_TMPFILE`` + ``linkat``) against a named
temporary file + ``rename``, A/B in one process through ``_write._set_tmpfile``.

Modes: ``rename`` (0: the portable path, as on a file system without ``O_TMPFILE``),
``linkat`` (1: every new file anonymous; an existing one costs a failed ``linkat``,
then link to a temporary name + ``rename``), ``adaptive`` (2, the default: as 1
until a call meets an existing file, then the portable path for the rest of it).

Workloads (Zarr v2, Blosc lz4 clevel 5 byte shuffle, the shapes of ``bench_peers.py``
and ``bench_sharding.py``): 4,000,000 int32 in 1,000 chunk files; 4096x4096 int32 in
256² chunks (256 files); the same in 1024² shards of 256² inner chunks (Zarr v3,
16 shard files); 4,000,000 int32 in 400,000-element shards of 4,000-element inner
chunks (10 shard files).  Each is written *fresh* (a new array, so every file is new;
creating it is not timed) and as a *rewrite* (every file exists), each after ``sync``.
Rounds rotate the order of the modes; the best of the rounds is reported, wall time
and its median, and the process's best CPU time (all threads), with the ratios to
``rename`` (best / median).

Run::

    python bench/bench_tmpfile.py [--rounds 9]
    pytest bench/bench_tmpfile.py --benchmark-json=bench/tmpfile.json   # pytest-benchmark, + zarrs
    python bench/bench_tmpfile.py --report bench/tmpfile.json
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the in-place build
sys.path.insert(0, HERE)

from bench_sharding import INNER1, INNER2, SHARD1, SHARD2, make_data  # noqa: E402
from orders import order_for_round  # noqa: E402

MODES = {"rename": 0, "linkat": 1, "adaptive": 2}


def _create(path: str, d: np.ndarray, chunks: tuple, shards: tuple | None):
    import chunkzip as cz
    from chunkzip.codecs import Blosc

    comp = Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE)
    if shards is None:
        return cz.open(path, mode="w", shape=d.shape, chunks=chunks, dtype="i4", zarr_format=2, compressor=comp)
    return cz.create(d.shape, chunks=chunks, shards=shards, dtype="i4", store=path, compressor=comp)


def _timed(times: dict, key: tuple, a, d: np.ndarray) -> None:
    """``a[...] = d``, timed (wall and CPU seconds of the whole process, all threads)
    after ``sync`` (no write-back of an earlier round is left to slow this one down);
    appended to ``times[key]``."""
    os.sync()
    c, t = time.process_time(), time.perf_counter()
    a[...] = d
    t, c = time.perf_counter() - t, time.process_time() - c
    times.setdefault(key, []).append((t, c))


WORKLOADS = {
    "1-D 1,000 chunk files": ("d1", (4000,), None),
    "2-D 4096² in 256² chunks": ("d2", (256, 256), None),
    "2-D 4096² in 1024² shards": ("d2", INNER2, SHARD2),
}


def _mode_runs(root: str, d: np.ndarray, chunks: tuple, shards: tuple | None, fresh: bool) -> tuple[dict, dict]:
    """Per mode: a run writing ``d`` (switching to the mode for that write only) and its
    untimed set-up (a new array for fresh writes, else the one kept array)."""
    from chunkzip._ext import _write

    kept = _create(os.path.join(root, uuid.uuid4().hex), d, chunks, shards)
    kept[...] = d
    runs, setups = {}, {}
    for name, mode in MODES.items():
        def setup() -> object:
            if not fresh:
                return kept
            path = os.path.join(root, uuid.uuid4().hex)  # removed with ``root``
            return _create(path, d, chunks, shards)

        def run(a, mode=mode) -> None:
            old = _write._set_tmpfile(mode)
            try:
                a[...] = d
            finally:
                _write._set_tmpfile(old)

        runs[name], setups[name] = run, setup
    return runs, setups


def _bench_params() -> list:
    return [(k, fresh) for k in WORKLOADS for fresh in (True, False)]


try:
    import pytest
except ImportError:  # pragma: no cover - the script runs without pytest
    pytest = None

if pytest is not None:
    @pytest.mark.parametrize("workload,fresh", _bench_params())
    def test_new_file_modes(benchmark, tmp_path, workload, fresh):
        """The three modes interleaved per round; fresh chunked writes (Zarr v2) also
        with zarrs where it is installed (Python >= 3.12), the peer to beat there."""
        from bench_peers import interleaved
        from conftest import ZarrsLib

        d2, d1 = make_data()
        name, chunks, shards = WORKLOADS[workload]
        d = d1 if name == "d1" else d2
        runs, setups = _mode_runs(str(tmp_path), d, chunks, shards, fresh)
        if fresh and shards is None and ZarrsLib.available():
            zarrs = ZarrsLib()
            setups["zarrs"] = lambda: zarrs.create(str(tmp_path / uuid.uuid4().hex), d.shape, chunks, "i4")
            runs["zarrs"] = lambda a: zarrs.write(a, np.s_[...], d)
        how = "new files" if fresh else "rewrite"
        interleaved(benchmark, f"write {workload} ({how}): temp+rename vs O_TMPFILE+linkat", runs, setups)


def report(path: str) -> None:
    """Markdown table of a ``pytest bench/bench_tmpfile.py --benchmark-json=PATH`` run:
    each mode's (and zarrs') best round, and the ratios to ``rename``."""
    import json

    with open(path) as f:
        doc = json.load(f)
    cols = list(MODES) + ["zarrs"]
    print(f"<!-- {path}: Python {doc.get('machine_info', {}).get('python_version', '?')} -->")
    print("| workload (ms, best round) | " + " | ".join(cols) + " | linkat / rename | adaptive / rename |")
    print("|---" * (len(cols) + 3) + "|")
    for b in doc["benchmarks"]:
        t = b["extra_info"]["best_s"]
        cells = " | ".join(f"{t[c] * 1e3:.1f}" if c in t else "-" for c in cols)
        print(f"| {b['group']} | {cells} | {t['linkat'] / t['rename']:.2f} | {t['adaptive'] / t['rename']:.2f} |")


def main() -> None:
    from chunkzip._ext import _write

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--report", metavar="JSON", help="print the table of a pytest-benchmark run instead")
    args = ap.parse_args()
    if args.report:
        return report(args.report)
    d2, d1 = make_data()
    workloads = {
        "1-D 1,000 chunk files": (d1, (4000,), None),
        "2-D 4096² in 256² chunks": (d2, (256, 256), None),
        "2-D 4096² in 1024² shards": (d2, INNER2, SHARD2),
        "1-D in 400,000-element shards": (d1, INNER1, SHARD1),
    }
    times: dict = {}
    old = _write._set_tmpfile(2)
    names = list(MODES)
    with tempfile.TemporaryDirectory(prefix="czbench-") as root:
        kept = {k: _create(os.path.join(root, f"kept{i}"), *w) for i, (k, w) in enumerate(workloads.items())}
        for a, (d, _, _) in zip(kept.values(), workloads.values()):
            a[...] = d
        try:
            for r in range(args.rounds):
                order = order_for_round(names, r)
                for k, (d, c, s) in workloads.items():
                    for mode in order:
                        _write._set_tmpfile(MODES[mode])
                        path = os.path.join(root, uuid.uuid4().hex)
                        fresh = _create(path, d, c, s)
                        _timed(times, (k, "fresh", mode), fresh, d)
                        shutil.rmtree(path)
                        _timed(times, (k, "rewrite", mode), kept[k], d)
        finally:
            _write._set_tmpfile(old)
        for k, (d, _, _) in workloads.items():
            np.testing.assert_array_equal(kept[k][::7], d[::7])
            leftovers = [f for _, _, fs in os.walk(root) for f in fs if f.startswith(".cztmp")]
            assert not leftovers, leftovers
    print(f"{args.rounds} rounds, modes interleaved; ms of wall time, best / median (best CPU time of all threads)")
    print("| workload | write | rename | linkat | adaptive | linkat / rename | adaptive / rename |")
    print("|---|---|---|---|---|---|---|")
    for k in workloads:
        for how in ("fresh", "rewrite"):
            ts = [np.array(times[k, how, m]) * 1e3 for m in names]
            w = [t[:, 0].min() for t in ts]
            med = [np.median(t[:, 0]) for t in ts]
            c = [t[:, 1].min() for t in ts]
            cells = " | ".join(f"{w[i]:.1f} / {med[i]:.1f} ({c[i]:.0f})" for i in range(3))
            print(f"| {k} | {how} | {cells} | {w[1] / w[0]:.2f} / {med[1] / med[0]:.2f} "
                  f"| {w[2] / w[0]:.2f} / {med[2] / med[0]:.2f} |")


if __name__ == "__main__":
    main()
