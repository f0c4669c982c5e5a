"""The ``.info`` report of an array."""
from __future__ import annotations

import html
import threading
from typing import Any

import numpy as np


def _human(n: int) -> str:
    for unit, size in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n} ({n / size:.1f}{unit})"
    return str(n)


class Info:
    """Diagnostics of an array: its type, format, codecs and storage, computed at once."""

    def __init__(self, array: Any, extra: list[tuple[str, str]] | None = None) -> None:
        a = array
        stored = a.nbytes_stored
        dt = a.dtype.str if a.dtype.kind in "SUV" else str(a.dtype)
        rows = [
            ("Type", "chunkzip.Array"),
            ("Zarr format", str(a.zarr_format)),
            ("Data type", dt),
            ("Fill value", repr(a.fill_value.item() if hasattr(a.fill_value, "item") else a.fill_value)),
            ("Shape", str(a.shape)),
            ("Chunk shape", str(a.chunks)),
            ("Order", a.order),
            ("Read-only", str(a.read_only)),
            ("Compressor", repr(a.compressor) if len(a.compressors) <= 1 else repr(list(a.compressors))),
            ("Filters", repr(a.filters) if a.filters else "None"),
            ("Store type", type(a.store).__name__),
            ("No. bytes", _human(a.nbytes)),
            ("No. bytes stored", _human(stored)),
            ("Storage ratio", f"{a.nbytes / stored:.1f}" if stored else "-"),
            ("Chunks initialized", f"{a.nchunks_initialized}/{a.nchunks}"),
        ]
        if getattr(a, "shards", None) is not None:
            import math

            nshards = math.prod(-(-s // c) for s, c in zip(a.shape, a.shards))
            per = math.prod(s // c for s, c in zip(a.shards, a.chunks))
            at = [k for k, _ in rows].index("Chunk shape")
            rows.insert(at, ("Shard shape", str(a.shards)))
            rows[-1] = ("Shards initialized", f"{a.nchunks_initialized}/{nshards}")
            rows.append(("Inner chunks", f"{a.nchunks} ({per} per shard)"))
        if a.name:
            rows.insert(0, ("Name", a.name))
        self.rows = rows + list(extra or [])

    def __getitem__(self, key: str) -> str:
        return dict(self.rows)[key]

    def __repr__(self) -> str:
        width = max(len(k) for k, _ in self.rows)
        return "\n".join(f"{k:<{width}} : {v}" for k, v in self.rows)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in self.rows)
        return f"<table class='chunkzip-info'><tbody>{body}</tbody></table>"


def _stage_nbytes(data: Any) -> int | None:
    """Bytes of one codec stage's output, or None when not measurable (object items)."""
    if isinstance(data, np.ndarray):
        return None if data.dtype.kind == "O" else int(data.nbytes)
    try:
        return memoryview(data).nbytes
    except TypeError:
        return None


def complete_rows(array: Any, progress: bool | None = None) -> list[tuple[str, str]]:
    """The extra rows of ``Array.info_complete()``: every stored chunk is read and decoded
    stage by stage to measure the bytes after each codec and the spread of the per-chunk
    compression ratios."""
    from .pipeline import run_batched
    from .progress import progress_bar

    pipe = array._pipeline
    codec = pipe.codec
    stages = codec.stages
    keys = pipe.chunk_keys()
    lock = threading.Lock()
    stored: list[int] = []
    totals: list[int | None] = [0] * len(stages)  # bytes *output* by each stage, summed
    bar = progress_bar(progress, len(keys), "info")

    def one(key: str) -> None:
        raw = pipe.store.get(key)
        if raw is None:  # deleted meanwhile
            return
        sizes: list[int | None] = [None] * len(stages)
        data: Any = raw
        for i in reversed(range(len(stages))):
            sizes[i] = _stage_nbytes(data)
            data = stages[i].decode(data)
        with lock:
            stored.append(len(raw))
            for i, n in enumerate(sizes):
                totals[i] = None if n is None or totals[i] is None else totals[i] + n
            bar.update(1)

    try:
        run_batched(one, keys, codec.nbytes)
    finally:
        bar.close()
    rows = [("Chunks stored", str(len(stored)))]
    if not stored:
        return rows
    if not codec.is_object:
        ratios = codec.nbytes / np.maximum(np.array(stored, dtype=np.float64), 1)
        rows.append(("Chunk ratio min/median/max",
                     f"{ratios.min():.2f} / {float(np.median(ratios)):.2f} / {ratios.max():.2f}"))
        rows.append(("Bytes before codecs", _human(codec.nbytes * len(stored))))
    for i, (stage, total) in enumerate(zip(stages, totals)):
        name = stage.codec_id if [s.codec_id for s in stages].count(stage.codec_id) == 1 else f"{stage.codec_id} #{i + 1}"
        rows.append((f"Bytes after {name}", "-" if total is None else _human(total)))
    return rows
