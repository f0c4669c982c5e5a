"""Size-bounded decoding for the streaming compressors (bz2, gzip, zlib, lzma).

A decoder never produces more than it may: into ``out`` at most ``len(out)`` bytes (and
one more to tell "too long" from "exact"), otherwise at most :data:`MAX_DECODED_BYTES`.
A decompression bomb -- a few hundred bytes of bz2 that expand to gigabytes -- therefore
costs at most one chunk's worth of memory and is reported as corrupt.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from chunkzip._ext._filters import as_byte_array, out_byte_array

from ..validate import MAX_CHUNK_BYTES

#: Largest output of a decode without ``out`` (the largest chunk chunkzip accepts).
MAX_DECODED_BYTES = MAX_CHUNK_BYTES


def check_out(out: Any) -> np.ndarray:
    """A writable, contiguous, non-object byte view of ``out`` (any size), or a clear
    ValueError; codecs call this before decoding into a caller's buffer."""
    return out_byte_array(out, _nbytes_of(out))


def _nbytes_of(out: Any) -> int:
    if isinstance(out, np.ndarray):
        if out.dtype.hasobject:
            raise ValueError("out must not be an object array")
        return out.nbytes
    try:
        return memoryview(out).nbytes
    except TypeError:
        raise ValueError(f"out must be a writable contiguous buffer, got {type(out).__name__}") from None


def stream_decode(name: str, new: Callable[[], Any], error: type | tuple, buf: Any, out: Any = None,
                  members: bool = True, padding: bool = False) -> Any:
    """Decode ``buf`` with decompressor objects from ``new()`` (zlib/bz2/lzma style:
    ``decompress(data, max_length)``, ``eof``, ``unused_data``), stopping one byte past the
    limit.

    ``members``: further streams may follow the first (bz2, gzip, xz concatenations);
    False: one stream, anything after it ignored (as ``zlib.decompress`` does).
    ``padding``: trailing NUL bytes after the last stream are allowed (gzip).
    Returns ``bytes``, or ``out`` filled (its size must be the decoded size exactly).
    """
    data = memoryview(as_byte_array(buf))
    if out is not None:
        target = check_out(out)
        limit = target.nbytes
    else:
        target, limit = None, MAX_DECODED_BYTES
    if not data.nbytes:
        raise ValueError(f"{name} decompression error: empty input")
    parts: list[bytes] = []
    total = 0
    try:
        while True:
            d = new()
            piece = d.decompress(data, limit + 1 - total)
            total += len(piece)
            parts.append(piece)
            if total > limit:
                raise ValueError(f"{name} decompression error: the data decode to more than "
                                 f"{limit} bytes" + (" (the size of out)" if out is not None else
                                                     " (the largest chunk); the input is corrupt"))
            if not d.eof:
                raise ValueError(f"{name} decompression error: truncated input")
            rest = d.unused_data
            if not members or not rest or (padding and not rest.strip(b"\x00")):
                break
            data = memoryview(rest)
    except error as e:
        raise RuntimeError(f"{name} decompression error: {e}") from None
    except EOFError as e:
        raise ValueError(f"{name} decompression error: truncated input ({e})") from None
    dec = parts[0] if len(parts) == 1 else b"".join(parts)
    if target is None:
        return dec
    if len(dec) != limit:
        raise ValueError(f"out has {limit} bytes, but the decoded data has {len(dec)} bytes")
    target[...] = np.frombuffer(dec, dtype=np.uint8)
    return out
