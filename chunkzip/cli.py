"""Command line: ``python -m chunkzip sweep|info|copy``.

``sweep PATH`` tries codec configurations on a sample of the array's chunks and prints a
table (best ratio first, the Pareto front marked), optionally writing JSON and a PNG plot.
``info PATH`` prints the array's ``.info`` (``--complete`` adds per-chunk ratios and bytes
per codec stage) or a group's tree. ``copy SRC DST`` rechunks or recompresses an array with
the bounded-memory copy. Every error is one line on standard error and a non-zero exit.
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from typing import Any, Sequence

__all__ = ["main", "CliError"]

EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A problem with the command's input, reported as one line and exit status 1."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) and exit status 2."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# ----------------------------------------------------------------------------- argument types
def _chunk_shape(text: str) -> int | tuple[int, ...]:
    """``"100"`` → 100, ``"100,200"`` → (100, 200) (``-1``: the whole dimension)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None
    if not values or any(v == 0 or v < -1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers (or -1) separated by commas, got {text!r}")
    return values[0] if len(values) == 1 and "," not in text else values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e.msg} at column {e.colno}): {text!r}") from None


def _json_object(text: str) -> dict:
    value = _json_value(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _sample(text: str) -> int | str | None:
    if text in ("all", "auto"):
        return None if text == "all" else text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, 'auto' or 'all', got {text!r}") from None


# ----------------------------------------------------------------------------- opening
def _is_url(location: str) -> bool:
    return "://" in location or "::" in location


def _accepts(func: Any, name: str) -> bool:
    return name in inspect.signature(func).parameters


def _open(location: str, path: str | None, storage_options: dict | None = None) -> Any:
    """The array at ``location`` (a directory or URL) and ``path`` inside it, read-only."""
    import chunkzip

    kwargs: dict[str, Any] = {}
    if _is_url(location):
        if not _accepts(chunkzip.open_array, "storage_options"):
            raise CliError(f"{location}: remote URLs are not available in this chunkzip build")
        if storage_options:
            kwargs["storage_options"] = storage_options
    elif storage_options:
        raise CliError("--storage-options applies to URLs only")
    elif not os.path.exists(location):
        raise CliError(f"{location}: no such file or directory")
    return chunkzip.open(location, mode="r", path=path, **kwargs)


def _open_group(location: str, path: str | None) -> Any:
    import chunkzip

    open_group = getattr(chunkzip, "open_group", None)
    if open_group is None:
        raise CliError(f"{location}: holds a group, and groups are not available in this chunkzip build")
    return open_group(location, mode="r", path=path) if path else open_group(location, mode="r")


def _progress(args: argparse.Namespace) -> bool | None:
    return args.progress


# ----------------------------------------------------------------------------- commands
def _cmd_info(args: argparse.Namespace) -> int:
    from .api import ContainsArrayError

    try:
        array = _open(args.location, args.path, args.storage_options)
    except ContainsArrayError:  # a group
        group = _open_group(args.location, args.path)
        tree = getattr(group, "tree", None)
        print(tree() if callable(tree) else group.info)
        return 0
    print(array.info_complete(progress=_progress(args)) if args.complete else array.info)
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from .sweep import sweep
    from .sweep_report import format_table, plot, to_json

    codecs = args.codecs
    if codecs is not None and not isinstance(codecs, list):
        raise CliError("--codecs must be a JSON list of codec configs (or of lists of them, for chains)")
    array = _open(args.location, args.path, args.storage_options)
    if args.plot:
        try:
            import matplotlib  # noqa: F401 - checked before the (long) sweep runs
        except ImportError:
            raise CliError("--plot needs matplotlib: pip install 'chunkzip[plot]'") from None
    rows = sweep(array, codecs=codecs, chunks=args.chunks, sample=args.sample, threads=args.threads,
                 repeat=args.repeat, progress=_progress(args))
    print(format_table(rows, top=args.top))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(to_json(rows))
    if args.plot:
        plot(rows, args.plot, title=f"codec sweep of {args.location}")
    return 0


def _same_place(src: str, dst: str, src_path: str | None, dst_path: str | None) -> bool:
    if "://" in src or "://" in dst:
        return src == dst and (src_path or "") == (dst_path or "")
    return os.path.realpath(src) == os.path.realpath(dst) and (src_path or "") == (dst_path or "")


def _cmd_copy(args: argparse.Namespace) -> int:
    from .api import ContainsArrayError, create
    from .codecs.registry import get_codec
    from .copying import copy

    if _same_place(args.src, args.dst, args.path, args.dst_path):
        raise CliError("SRC and DST are the same array; copy to a new location instead")
    kwargs: dict[str, Any] = {}
    if args.shards is not None:
        if not _accepts(create, "shards"):
            raise CliError("--shards: sharding is not available in this chunkzip build")
        kwargs["shards"] = args.shards
    if args.compressor is not _UNSET:
        comp = args.compressor
        if comp is None:
            kwargs["compressor"] = None
        elif isinstance(comp, list):
            kwargs["compressors"] = [get_codec(c) for c in comp]
        else:
            kwargs["compressor"] = get_codec(comp)
    if args.filters is not _UNSET:
        if args.filters is not None and not isinstance(args.filters, list):
            raise CliError("--filters must be a JSON list of codec configs, or null")
        kwargs["filters"] = [get_codec(c) for c in args.filters or []] or None
    if args.zarr_format is not None:
        kwargs["zarr_format"] = args.zarr_format
    if args.dst_path:
        kwargs["path"] = args.dst_path
    if _is_url(args.dst):
        if not _accepts(create, "storage_options"):
            raise CliError(f"{args.dst}: remote URLs are not available in this chunkzip build")
        if args.storage_options:
            kwargs["storage_options"] = args.storage_options
    source = _open(args.src, args.path, args.storage_options if _is_url(args.src) else None)
    try:
        dest = copy(source, chunks=args.chunks, store=args.dst, progress=_progress(args), max_mem=args.max_mem,
                    overwrite=args.overwrite, **kwargs)
    except ContainsArrayError:
        raise CliError(f"{args.dst} already holds an array or group; pass --overwrite to replace it") from None
    print(f"copied {source.shape} {source.dtype} to {args.dst} (chunks {dest.chunks}, "
          f"{dest.nbytes_stored} bytes stored)")
    return 0


_UNSET: Any = object()


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The ``chunkzip`` argument parser."""
    parser = _Parser(prog="chunkzip", description="Chunked, compressed N-d arrays (Zarr v2/v3): "
                     "codec sweeps, array information and copies.")
    sub = parser.add_subparsers(dest="command", metavar="{sweep,info,copy}", parser_class=_Parser)
    sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--storage-options", type=_json_object, metavar="JSON",
                       help="fsspec options for URLs, e.g. '{\"anon\": true}'")
        p.add_argument("--progress", dest="progress", action="store_true", default=None,
                       help="always show a progress bar (default: only in a terminal)")
        p.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")

    p = sub.add_parser("sweep", help="try codecs on a sample of the array's chunks")
    p.add_argument("location", metavar="PATH_OR_URL")
    p.add_argument("--path", help="path of the array inside the store")
    p.add_argument("--json", metavar="FILE", help="write every row as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="save a ratio-vs-speed plot (needs matplotlib)")
    p.add_argument("--top", type=_positive_int, metavar="N", help="show only the N best ratios")
    p.add_argument("--sample", type=_sample, default="auto", metavar="N",
                   help="chunks sampled: a number, 'all', or 'auto' (default: as many as fit in 2 MiB)")
    p.add_argument("--chunks", type=_chunk_shape, help="cut the samples in these chunks, e.g. 256,256")
    p.add_argument("--threads", type=_positive_int, help="threads encoding/decoding (default: cores)")
    p.add_argument("--repeat", type=_positive_int, default=1, help="timing rounds; the best is kept")
    p.add_argument("--codecs", type=_json_value, help="JSON list of configurations instead of the default grid")
    common(p)
    p.set_defaults(run=_cmd_sweep)

    p = sub.add_parser("info", help="print an array's information or a group's tree")
    p.add_argument("location", metavar="PATH_OR_URL")
    p.add_argument("--path", help="path of the node inside the store")
    p.add_argument("--complete", action="store_true",
                   help="read every chunk: per-chunk ratio spread and bytes per codec stage")
    common(p)
    p.set_defaults(run=_cmd_info)

    p = sub.add_parser("copy", help="copy an array, rechunking or recompressing it")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--path", help="path of the array inside SRC")
    p.add_argument("--dst-path", help="path of the new array inside DST")
    p.add_argument("--chunks", type=_chunk_shape, help="new chunk shape, e.g. 1000,1000")
    p.add_argument("--shards", type=_chunk_shape, help="shard shape (Zarr v3 sharding)")
    p.add_argument("--compressor", type=_json_value, default=_UNSET, metavar="JSON",
                   help='e.g. \'{"id": "zstd", "level": 5}\'; null for none; a list for a v3 chain')
    p.add_argument("--filters", type=_json_value, default=_UNSET, metavar="JSON", help="JSON list of filter configs")
    p.add_argument("--zarr-format", type=int, choices=(2, 3))
    p.add_argument("--max-mem", type=_positive_int, metavar="BYTES", help="memory budget of one slab")
    p.add_argument("--overwrite", action="store_true", help="replace what is at DST")
    common(p)
    p.set_defaults(run=_cmd_copy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Usage errors exit with status 2, failures with status 1; both print one line to
    standard error.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("chunkzip: interrupted", file=sys.stderr)
        return 130
    except CliError as e:
        print(f"chunkzip {args.command}: error: {e}", file=sys.stderr)
    except Exception as e:  # every failure is one line, never a traceback
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"chunkzip {args.command}: error: {type(e).__name__}: {message}", file=sys.stderr)
    return EXIT_ERROR
