"""Codec sweep: which codec, level and filter compress *this* array best, and how fast.

:func:`sweep` applies every candidate codec configuration to a sample of the array's chunks
and reports, per configuration, the compression ratio, the encode and decode speeds and
whether the round trip was exact. The configurations are numcodecs-style config dicts (a
list of them for a filter chain, filters first), so that ``registry.get_codec(cfg)`` (or
:func:`build_chain`) rebuilds the codecs and ``chunkzip.create(..., filters=chain[:-1],
compressor=chain[-1])`` uses them.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Sequence, Union

import numpy as np

from .chunks import chunk_region, normalize_chunks
from .codecs.abc import Codec
from .codecs.registry import get_codec
from .progress import progress_bar

__all__ = ["sweep", "candidates", "build_chain", "describe", "pareto_front", "sample_regions",
           "DEFAULT_SAMPLE_BYTES"]

CodecConfig = Union[dict, list]
"""One configuration: a codec config dict, or a list of them (a chain, applied in order)."""

DEFAULT_SAMPLE_BYTES = 2 << 20
"""``sample="auto"`` takes as many chunks as fit in this many bytes (at least one)."""
MAX_AUTO_SAMPLE = 256
"""... and at most this many chunks."""

_BLOSC_CNAMES = ("lz4", "lz4hc", "zstd", "zlib", "blosclz")
_BLOSC_LEVELS = (1, 5, 9)
#: Blosc's zstd maps clevel 9 to zstd level 22 (about 1 MB/s); 7 (zstd 13) is the strongest
#: level a sweep tries by default
_BLOSC_ZSTD_LEVELS = (1, 5, 7)
_BLOSC_SHUFFLES = (0, 1, 2)  # no, byte, bit shuffle
_SHUFFLE_NAMES = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: "autoshuffle"}
_MANTISSA_BITS = {2: 10, 4: 23, 8: 52}
#: BitRound mantissa bits kept per float size: about 5 and 3 significant decimal digits
#: (float16: 2 and 1), (float64: 11 and 6)
_KEEPBITS = {2: (7, 4), 4: (16, 10), 8: (36, 20)}
_QUANTIZE_DIGITS = (4, 2)


# ----------------------------------------------------------------------------- the grid
def candidates(dtype: Any) -> list[CodecConfig]:
    """The configurations :func:`sweep` tries by default for data of ``dtype``.

    Blosc with lz4, lz4hc, zstd, zlib and blosclz, each without, with byte and with bit
    shuffle, at levels 1, 5 and 9 (zstd: 1, 5 and 7, i.e. zstd levels 1, 9 and 13); Zstd (levels 1, 3, 9), LZ4, Zlib and GZip (levels 1, 5,
    9), BZ2 (1, 9) and LZMA (presets 1, 6); and filter chains suited to the dtype: Delta in
    front of Blosc/Zstd for integers, and for floats the lossy BitRound (two precisions) and
    Quantize (2 and 4 decimal digits) in front of Blosc.
    """
    dt = np.dtype(dtype)
    if dt.kind == "O":
        raise ValueError("a codec sweep needs a fixed-size dtype, not object")
    grid: list[CodecConfig] = [
        {"id": "blosc", "cname": cname, "clevel": level, "shuffle": shuffle, "blocksize": 0}
        for cname in _BLOSC_CNAMES for shuffle in _BLOSC_SHUFFLES
        for level in (_BLOSC_ZSTD_LEVELS if cname == "zstd" else _BLOSC_LEVELS)]
    grid += [{"id": "zstd", "level": level, "checksum": False} for level in (1, 3, 9)]
    grid += [{"id": "lz4", "acceleration": 1}]
    grid += [{"id": codec_id, "level": level} for codec_id in ("zlib", "gzip") for level in (1, 5, 9)]
    grid += [{"id": "bz2", "level": level} for level in (1, 9)]
    grid += [{"id": "lzma", "format": 1, "check": -1, "preset": preset, "filters": None} for preset in (1, 6)]
    if dt.kind in "iu" and dt.itemsize in (1, 2, 4, 8):
        delta = {"id": "delta", "dtype": dt.str, "astype": dt.str}
        grid += [[delta, {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle, "blocksize": 0}]
                 for cname, shuffle in (("lz4", 1), ("zstd", 1), ("zstd", 2))]
        grid += [[delta, {"id": "zstd", "level": 3, "checksum": False}]]
    if dt.kind == "f" and dt.itemsize in _KEEPBITS:
        for keepbits in _KEEPBITS[dt.itemsize]:
            grid += [[{"id": "bitround", "keepbits": keepbits},
                      {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle, "blocksize": 0}]
                     for cname, shuffle in (("zstd", 2), ("lz4", 1))]
        if dt.itemsize in (4, 8):
            grid += [[{"id": "quantize", "digits": digits, "dtype": dt.str, "astype": dt.str},
                      {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 2, "blocksize": 0}]
                     for digits in _QUANTIZE_DIGITS]
    return grid


def _normalize_config(cfg: Any) -> CodecConfig:
    """A codec, config dict, or sequence of them → a config dict or a list of dicts."""
    if isinstance(cfg, (list, tuple)):
        if not cfg:
            raise ValueError("an empty codec chain cannot be swept")
        out = [_normalize_config(c) for c in cfg]
        return out[0] if len(out) == 1 else out
    return get_codec(cfg).get_config()


def build_chain(config: CodecConfig) -> list[Codec]:
    """The codecs of one configuration (a config dict or a list of them), in encoding order."""
    items = config if isinstance(config, list) else [config]
    return [get_codec(c) for c in items]


def describe(config: CodecConfig) -> str:
    """A short label of a configuration, e.g. ``bitround:10+blosc:zstd:5:bitshuffle``."""
    if isinstance(config, list):
        return "+".join(describe(c) for c in config)
    cid = config["id"]
    if cid == "blosc":
        return f"blosc:{config['cname']}:{config['clevel']}:{_SHUFFLE_NAMES.get(config['shuffle'], config['shuffle'])}"
    key = {"zstd": "level", "zlib": "level", "gzip": "level", "bz2": "level", "lzma": "preset",
           "bitround": "keepbits", "quantize": "digits", "lz4": "acceleration"}.get(cid)
    if key is not None and key in config:
        return f"{cid}:{config[key]}"
    return cid


def _precision(config: CodecConfig, dtype: np.dtype) -> str | None:
    """What a lossy filter keeps, stated in words (None for a lossless chain)."""
    for c in (config if isinstance(config, list) else [config]):
        if c["id"] == "bitround":
            bits = _MANTISSA_BITS.get(dtype.itemsize)
            return f"{c['keepbits']} of {bits} mantissa bits" if bits else f"{c['keepbits']} mantissa bits"
        if c["id"] == "quantize":
            return f"{c['digits']} decimal digits"
    return None


# ----------------------------------------------------------------------------- sampling
def sample_regions(shape: tuple[int, ...], chunks: tuple[int, ...], sample: int | None,
                   coords: np.ndarray | None = None, seed: int = 0) -> list[tuple[slice, ...]]:
    """Regions of ``sample`` chunks (all when None) of an array of ``shape`` cut in ``chunks``.

    The chunks are drawn at random (reproducibly, by ``seed``) among ``coords`` (rows of
    chunk grid coordinates, e.g. those stored) or, when None, among all chunks.
    """
    grid = tuple(-(-s // c) for s, c in zip(shape, chunks))
    total = len(coords) if coords is not None else math.prod(grid)
    if total == 0:
        return []
    k = total if sample is None else min(sample, total)
    picked = np.arange(total) if k == total else np.sort(np.random.default_rng(seed).choice(total, k, replace=False))
    if coords is not None:
        rows = np.asarray(coords)[picked]
    elif grid:
        rows = np.stack(np.unravel_index(picked, grid), axis=1)
    else:
        rows = np.zeros((1, 0), dtype=np.intp)
    return [chunk_region(tuple(int(c) for c in row), shape, chunks) for row in rows]


def _samples(data: Any, chunks: Any, sample: int | str | None) -> list[np.ndarray]:
    """Contiguous copies of the sampled chunks of ``data`` (an Array or array-like)."""
    from .array import Array

    shape = tuple(int(s) for s in data.shape)
    if math.prod(shape) == 0:
        raise ValueError(f"nothing to sample: the array has shape {shape}")
    dtype = np.dtype(data.dtype)
    coords = None
    if isinstance(data, Array) and chunks is None:
        from .copying import _StoredChunks

        grid_chunks = data.chunks
        stored = _StoredChunks(data).coords
        coords = stored if len(stored) else None  # all chunks missing: sample the fill value
    elif chunks is None:
        grid_chunks = tuple(int(c) for c in getattr(data, "chunks", None) or ()) or None
        if grid_chunks is None or len(grid_chunks) != len(shape):
            grid_chunks = normalize_chunks(True, shape, dtype.itemsize)
    else:
        grid_chunks = normalize_chunks(chunks, shape, dtype.itemsize)
    if sample == "auto":
        sample = max(1, min(MAX_AUTO_SAMPLE, DEFAULT_SAMPLE_BYTES // max(1, math.prod(grid_chunks) * dtype.itemsize)))
    regions = sample_regions(shape, grid_chunks, sample, coords)
    return [np.ascontiguousarray(np.asarray(data[r], dtype=dtype)) for r in regions]


# ----------------------------------------------------------------------------- measuring
def _flat_bytes(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(x).reshape(-1).view(np.uint8)
    return np.frombuffer(x, dtype=np.uint8)


def _encode(chain: list[Codec], chunk: np.ndarray) -> Any:
    data: Any = chunk.reshape(-1)
    for codec in chain:
        data = codec.encode(data)
    return data


def _decode(chain: list[Codec], enc: Any) -> Any:
    data = enc
    for codec in reversed(chain):
        data = codec.decode(data)
    return data


def _timed_map(pool: ThreadPoolExecutor, fn: Any, items: Sequence[Any], repeat: int) -> tuple[list, float]:
    best, out = math.inf, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = list(pool.map(fn, items))
        best = min(best, time.perf_counter() - t0)
    return out, best


def _max_abs_error(samples: list[np.ndarray], decoded: list[Any]) -> float | None:
    if samples[0].dtype.kind not in "iuf":
        return None
    err = 0.0
    for s, d in zip(samples, decoded):
        raw = _flat_bytes(d)
        if raw.nbytes != s.nbytes:
            return math.inf
        diff = np.abs(raw.view(s.dtype).astype(np.float64) - s.reshape(-1).astype(np.float64))
        if diff.size and not np.all(np.isnan(diff)):
            err = max(err, float(np.nanmax(diff)))
    return err


def _measure(config: CodecConfig, samples: list[np.ndarray], pool: ThreadPoolExecutor, repeat: int) -> dict:
    chain = build_chain(config)
    try:
        encoded, t_enc = _timed_map(pool, lambda c: _encode(chain, c), samples, repeat)
        decoded, t_dec = _timed_map(pool, lambda e: _decode(chain, e), encoded, repeat)
    except Exception as e:
        raise ValueError(f"codec configuration {config!r} failed on the sampled chunks: "
                         f"{type(e).__name__}: {e}") from e
    nbytes = sum(s.nbytes for s in samples)
    nbytes_encoded = sum(_flat_bytes(e).nbytes for e in encoded)
    lossless = all(_flat_bytes(d).nbytes == s.nbytes and np.array_equal(_flat_bytes(d), _flat_bytes(s))
                   for s, d in zip(samples, decoded))
    return {
        "codec": config,
        "name": describe(config),
        "ratio": nbytes / nbytes_encoded if nbytes_encoded else math.inf,
        "encode_mbps": nbytes / 1e6 / t_enc if t_enc > 0 else math.inf,
        "decode_mbps": nbytes / 1e6 / t_dec if t_dec > 0 else math.inf,
        "lossless": lossless,
        "precision": _precision(config, samples[0].dtype),
        "max_abs_error": 0.0 if lossless else _max_abs_error(samples, decoded),
        "nbytes": nbytes,
        "nbytes_encoded": nbytes_encoded,
    }


def pareto_front(rows: Sequence[dict], keys: Sequence[str] = ("ratio", "encode_mbps", "decode_mbps")) -> list[bool]:
    """For each row, whether it is on the Pareto front: no other row *of the same kind*
    (lossless or lossy) is at least as good in every one of ``keys`` and better in one."""
    if not rows:
        return []
    values = np.array([[r[k] for k in keys] for r in rows], dtype=np.float64)
    kind = np.array([bool(r["lossless"]) for r in rows])
    ge = np.all(values[:, None, :] >= values[None, :, :], axis=2)  # ge[j, i]: j >= i everywhere
    gt = np.any(values[:, None, :] > values[None, :, :], axis=2)
    dominated = np.any(ge & gt & (kind[:, None] == kind[None, :]), axis=0)
    return [not d for d in dominated.tolist()]


def sweep(data: Any, codecs: Iterable[Any] | None = None, chunks: Any = None, sample: int | str | None = "auto",
          threads: int | None = None, *, repeat: int = 1, progress: bool | None = None) -> list[dict]:
    """Try codec configurations on a sample of the chunks of ``data``; one row per configuration.

    Parameters
    ----------
    data : Array or array-like
        A chunkzip Array (only the sampled chunks are read; stored chunks are preferred to
        never-written ones) or a NumPy array (or anything with ``shape``, ``dtype`` and
        slicing).
    codecs : iterable, optional
        Configurations to try: codec config dicts, codecs, or lists of them (chains, filters
        first). Default: :func:`candidates` for the dtype.
    chunks : int or tuple, optional
        Chunk shape to cut the samples with (default: the array's own chunks, or a guess).
    sample : int, "auto" or None
        Number of chunks sampled; ``"auto"`` (default) as many as fit in 2 MiB (at least
        one, at most 256); None takes every chunk, i.e. the whole array.
    threads : int, optional
        Threads encoding and decoding the sampled chunks in parallel, one chunk per task
        (default: ``chunkzip.config.get('threads')``).
    repeat : int
        Timing rounds per configuration; the best is reported.
    progress : bool or None
        Progress bar over the configurations (None: when in a terminal or notebook).

    Returns
    -------
    list of dict
        Sorted by ratio (best first), each with ``codec`` (the configuration), ``name`` (a
        short label), ``ratio`` (bytes of the samples / bytes encoded), ``encode_mbps`` and
        ``decode_mbps`` (MB/s of uncompressed data, 1 MB = 10**6 bytes), ``lossless`` (the
        round trip gave back every bit), ``precision`` (what a lossy filter keeps, or None),
        ``max_abs_error``, ``nbytes``, ``nbytes_encoded`` and ``pareto`` (on the front of
        ratio, encode and decode speed among the rows of the same losslessness).

    Examples
    --------
    >>> import numpy as np, chunkzip as cz
    >>> rows = cz.sweep(np.arange(100_000, dtype="i4"), codecs=[{"id": "zstd", "level": 1}], threads=1)
    >>> rows[0]["name"], rows[0]["lossless"]
    ('zstd:1', True)
    """
    from . import config as _config

    if sample is not None and sample != "auto" and (
            isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or sample < 1):
        raise ValueError(f"sample must be a positive number of chunks, 'auto' or None (all), got {sample!r}")
    n_threads = _config.get("threads") if threads is None else threads
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int, got {repeat!r}")
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        data = np.asarray(data)
    dtype = np.dtype(data.dtype)
    if dtype.kind == "O":
        raise ValueError("a codec sweep needs a fixed-size dtype, not object")
    configs = candidates(dtype) if codecs is None else [_normalize_config(c) for c in codecs]
    if not configs:
        raise ValueError("no codec configurations to sweep")
    samples = _samples(data, chunks, sample if sample in (None, "auto") else int(sample))
    rows = []
    bar = progress_bar(progress, len(configs), "sweep", unit="config")
    try:
        with ThreadPoolExecutor(max_workers=int(n_threads), thread_name_prefix="chunkzip-sweep") as pool:
            for cfg in configs:
                rows.append(_measure(cfg, samples, pool, repeat))
                bar.update(1)
    finally:
        bar.close()
    for row, front in zip(rows, pareto_front(rows)):
        row["pareto"] = front
    rows.sort(key=lambda r: (-r["ratio"], -r["encode_mbps"]))
    return rows
