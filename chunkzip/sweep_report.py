"""Presenting :func:`chunkzip.sweep` results: a text table, JSON, and a ratio-vs-speed plot."""
from __future__ import annotations

import json
import math
from typing import Any, Sequence

__all__ = ["format_table", "to_json", "plot", "PlotUnavailableError"]


class PlotUnavailableError(ImportError):
    """Plotting needs matplotlib, which is not installed."""


def _num(x: float, fmt: str) -> str:
    return "inf" if math.isinf(x) else format(x, fmt)


def format_table(rows: Sequence[dict], top: int | None = None) -> str:
    """A readable table of sweep rows, best ratio first, Pareto-front rows marked ``*``.

    ``top`` keeps only the first ``top`` rows of the sorted table.
    """
    ordered = sorted(rows, key=lambda r: (-r["ratio"], -r["encode_mbps"]))
    if top is not None:
        ordered = ordered[:top]
    header = ("", "codec", "ratio", "enc MB/s", "dec MB/s", "lossless")
    body = [("*" if r.get("pareto") else "", r["name"], _num(r["ratio"], ".3f"), _num(r["encode_mbps"], ".0f"),
             _num(r["decode_mbps"], ".0f"), "yes" if r["lossless"] else f"no ({r.get('precision') or 'lossy'})")
            for r in ordered]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    right = {2, 3, 4}

    def fmt(line: Sequence[str]) -> str:
        return "  ".join(str(v).rjust(w) if i in right else str(v).ljust(w)
                         for i, (v, w) in enumerate(zip(line, widths))).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in body]
    nbytes = rows[0]["nbytes"] if rows else 0
    lines.append(f"{len(rows)} configurations on {nbytes} sampled bytes; * = Pareto front "
                 "(ratio, encode and decode speed; lossless and lossy rows separately)")
    return "\n".join(lines)


def to_json(rows: Sequence[dict], indent: int | None = 1) -> str:
    """The rows as JSON (infinite numbers as null); each ``codec`` rebuilds with
    :func:`chunkzip.sweep.build_chain`."""
    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return json.dumps([{k: clean(v) for k, v in r.items()} for r in rows], indent=indent)


def plot(rows: Sequence[dict], path: str, title: str | None = None) -> None:
    """Save a PNG (or any format matplotlib writes by extension) with two panels: ratio
    against encode and against decode speed, the Pareto front drawn as a line, lossy
    chains in a second colour.

    Raises
    ------
    PlotUnavailableError
        When matplotlib is not installed (``pip install 'chunkzip[plot]'``).
    """
    try:
        from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    except ImportError:
        raise PlotUnavailableError("plotting needs matplotlib: pip install 'chunkzip[plot]'") from None

    from .sweep import pareto_front

    fig = Figure(figsize=(11, 4.5), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, label in ((axes[0], "encode_mbps", "encode"), (axes[1], "decode_mbps", "decode")):
        for lossless, colour, name in ((True, "tab:blue", "lossless"), (False, "tab:orange", "lossy")):
            group = [r for r in rows if bool(r["lossless"]) == lossless and math.isfinite(r[key])]
            if not group:
                continue
            ax.scatter([r[key] for r in group], [r["ratio"] for r in group], s=14, color=colour, alpha=0.6,
                       label=name)
            front = sorted((r for r, f in zip(group, pareto_front(group, ("ratio", key))) if f),
                           key=lambda r: r[key])
            ax.plot([r[key] for r in front], [r["ratio"] for r in front], "-o", color=colour, ms=4)
            for r in front:
                ax.annotate(r["name"], (r[key], r["ratio"]), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(f"{label} speed (MB/s)")
        ax.grid(True, alpha=0.3)
    ratios = [r["ratio"] for r in rows if math.isfinite(r["ratio"]) and r["ratio"] > 0]
    if ratios and max(ratios) / min(ratios) > 20:
        axes[0].set_yscale("log")
    axes[0].set_ylabel("compression ratio")
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(title or "chunkzip codec sweep (lines: Pareto front)")
    fig.savefig(path, dpi=120)
