"""The ``.info`` report of an array."""
from __future__ import annotations

import html
from typing import Any


def _human(n: int) -> str:
    for unit, size in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n} ({n / size:.1f}{unit})"
    return str(n)


class Info:
    """Diagnostics of an array: its type, format, codecs and storage, computed at once."""

    def __init__(self, array: Any) -> None:
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
        if a.name:
            rows.insert(0, ("Name", a.name))
        self.rows = rows

    def __getitem__(self, key: str) -> str:
        return dict(self.rows)[key]

    def __repr__(self) -> str:
        width = max(len(k) for k, _ in self.rows)
        return "\n".join(f"{k:<{width}} : {v}" for k, v in self.rows)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in self.rows)
        return f"<table class='chunkzip-info'><tbody>{body}</tbody></table>"


class GroupInfo(Info):
    """Diagnostics of a group: format, store and members (direct members only)."""

    def __init__(self, group: Any) -> None:  # noqa: D401 - rows only; display as for arrays
        kinds = [node.kind for _, node in group._member_nodes()]
        self.rows = [
            ("Name", group.name),
            ("Type", "chunkzip.Group"),
            ("Zarr format", str(group.zarr_format)),
            ("Read-only", str(group.read_only)),
            ("Consolidated", str(group.consolidated)),
            ("Store type", type(group.store).__name__),
            ("No. members", str(len(kinds))),
            ("No. arrays", str(kinds.count("array"))),
            ("No. groups", str(kinds.count("group"))),
        ]
