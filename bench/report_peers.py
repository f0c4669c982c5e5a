"""Markdown table of bench_peers.py results: each library's best round, and chunkzip's
time as a fraction of the best peer's (< 1: chunkzip is faster).

Usage: python bench/report_peers.py bench/peers.json [more.json ...] (several files: one
table each, e.g. two runs to show the spread)
"""
from __future__ import annotations

import json
import sys

ORDER = ["chunkzip", "tensorstore", "zarr-python", "zarrs", "plain Python"]


def _row(name: str, times: dict[str, float], libs: list[str]) -> str:
    cells = [f"{times[lib] * 1e3:.1f}" if lib in times else "-" for lib in libs]
    peers = [t for lib, t in times.items() if lib not in ("chunkzip", "plain Python")]
    ratio = f"{times['chunkzip'] / min(peers):.2f}" if peers and "chunkzip" in times else "-"
    return f"| {name} | " + " | ".join(cells) + f" | {ratio} |"


def report(path: str) -> None:
    with open(path) as f:
        doc = json.load(f)
    rows = []
    for b in doc["benchmarks"]:
        info = b.get("extra_info", {})
        if "best_s" in info:
            rows.append((b["group"], info["best_s"]))
        for phase, times in info.get("phases", {}).items():
            rows.append((f"cold start: {phase}", times))
    libs = [lib for lib in ORDER if any(lib in t for _, t in rows)]
    print(f"<!-- {path}: {doc.get('machine_info', {}).get('python_version', '?')} -->")
    print("| workload (ms, best round) | " + " | ".join(libs) + " | chunkzip / best peer |")
    print("|---" * (len(libs) + 2) + "|")
    for name, times in rows:
        print(_row(name, times, libs))


if __name__ == "__main__":
    for p in sys.argv[1:] or ["bench/peers.json"]:
        report(p)
        print()
