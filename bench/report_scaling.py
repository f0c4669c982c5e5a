"""Markdown table of bench_scaling.py: seconds, GB/s and time per MiB relative to the
smallest array (1.00 = linear), and the peak memory of a full read.

Usage: python bench/report_scaling.py bench/scaling.json
"""
from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path) as f:
        results = json.load(f)["benchmarks"]
    by_group: dict[str, list] = {}
    for b in results:
        group = b["group"] or ("scaling: peak memory of a full read" if "peak" in b["name"] else b["name"])
        by_group.setdefault(group, []).append(b)
    for group, bs in by_group.items():
        bs.sort(key=lambda b: b["extra_info"]["mib"])
        if "memory" in group:
            print(f"| {group}: array (MiB) | output (MiB) | peak RSS growth (MiB) | beyond the output (MiB) |")
            print("|---|---|---|---|")
            for b in bs:
                e = b["extra_info"]
                print(f"| {e['mib']} | {e['output_mib']:.0f} | {e['peak_growth_mib']:.1f} | {e['overhead_mib']:.1f} |")
        else:
            base = bs[0]["stats"]["min"] / bs[0]["extra_info"]["mib"]
            vm = any("vmstat" in b["extra_info"] for b in bs)
            print(f"| {group}: array (MiB) | best (s) | GB/s | time per MiB vs {bs[0]['extra_info']['mib']} MiB |"
                  + (" huge-page faults / fallbacks / compaction stalls |" if vm else ""))
            print("|---|---|---|---|" + ("---|" if vm else ""))
            for b in bs:
                mib, t = b["extra_info"]["mib"], b["stats"]["min"]
                v = b["extra_info"].get("vmstat", {})
                cell = f" {v.get('thp_fault_alloc', '-')} / {v.get('thp_fault_fallback', '-')} / " \
                       f"{v.get('compact_stall', '-')} |" if vm else ""
                print(f"| {mib} | {t:.3f} | {mib * 2**20 / t / 1e9:.2f} | {t / mib / base:.2f} |" + cell)
        print()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/scaling.json")
