"""Turn a pytest-benchmark JSON file into a Markdown table of ratios to chunkzip.

Usage: python bench/report.py bench/results.json
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict


def main(path: str) -> None:
    with open(path) as f:
        results = json.load(f)["benchmarks"]
    groups: dict[str, dict[str, float]] = defaultdict(dict)
    for b in results:
        lib = b["param"] if b.get("param") else b["name"].split("[")[-1].rstrip("]")
        groups[b["group"]][lib] = b["stats"]["median"]
    libs = sorted({lib for g in groups.values() for lib in g}, key=lambda n: (n != "chunkzip", n))
    others = [lib for lib in libs if lib != "chunkzip"]
    print("| workload | " + " | ".join(f"{lib} (s)" for lib in libs) + " | "
          + " | ".join(f"{o} / chunkzip" for o in others) + " |")
    print("|---" * (1 + len(libs) + len(others)) + "|")
    for group, times in groups.items():
        cz = times.get("chunkzip")
        cells = [f"{times[lib]:.4f}" if lib in times else "-" for lib in libs]
        ratios = [f"{times[o] / cz:.2f}x" if cz and o in times else "-" for o in others]
        print(f"| {group} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json")
