"""Encode/decode throughput of chunkzip's codecs vs numcodecs (pytest-benchmark).

Run:  python -m pytest bench/bench_codecs.py --benchmark-only --benchmark-json=bench.json
Then: python bench/bench_codecs.py bench.json      (prints MB/s and chunkzip/numcodecs ratios)

All codecs see the same 4 MiB int32 buffer (a random walk: compressible, not trivial).
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

NBYTES = 4 * 1024 * 1024


def _data() -> np.ndarray:
    rng = np.random.default_rng(12345)
    return np.cumsum(rng.integers(-8, 9, size=NBYTES // 4), dtype=np.int32)


def _codecs(lib: str) -> dict:
    if lib == "chunkzip":
        from chunkzip.codecs.checksums import CRC32C
        from chunkzip.codecs.delta import Delta
        from chunkzip.codecs.lz4 import LZ4
        from chunkzip.codecs.zlib import Zlib
        from chunkzip.codecs.zstd import Zstd
    else:
        from numcodecs import CRC32C, LZ4, Delta, Zlib, Zstd
    return {
        "zstd": Zstd(level=1),
        "lz4": LZ4(),
        "zlib": Zlib(level=1),
        "delta": Delta(dtype="<i4"),
        "crc32c": CRC32C(),
    }


CODECS = ["zstd", "lz4", "zlib", "delta", "crc32c"]
LIBS = ["chunkzip", "numcodecs"]


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return _data()


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", CODECS)
def test_encode(benchmark, data, name, lib):
    codec = _codecs(lib)[name]
    benchmark.group = f"{name}-encode"
    benchmark.extra_info["nbytes"] = data.nbytes
    benchmark(codec.encode, data)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("name", CODECS)
def test_decode(benchmark, data, name, lib):
    codec = _codecs(lib)[name]
    enc = codec.encode(data)
    out = np.empty_like(data)
    benchmark.group = f"{name}-decode"
    benchmark.extra_info["nbytes"] = data.nbytes
    # decode into a preallocated chunk, as the read pipeline does
    benchmark(codec.decode, enc, out)
    np.testing.assert_array_equal(out.view(data.dtype), data)


def report(path: str) -> None:
    """Print MB/s per codec and library and the chunkzip/numcodecs speed ratio."""
    with open(path) as f:
        results = json.load(f)["benchmarks"]
    speed = {}
    for b in results:
        name, lib = b["params"]["name"], b["params"]["lib"]
        op = "encode" if b["name"].startswith("test_encode") else "decode"
        speed[(name, op, lib)] = NBYTES / b["stats"]["median"] / 1e6
    print(f"{'codec':8} {'op':7} {'chunkzip MB/s':>14} {'numcodecs MB/s':>15} {'ratio':>7}")
    for name in CODECS:
        for op in ("encode", "decode"):
            ours, theirs = speed.get((name, op, "chunkzip")), speed.get((name, op, "numcodecs"))
            if ours and theirs:
                print(f"{name:8} {op:7} {ours:14.0f} {theirs:15.0f} {ours / theirs:6.2f}x")


if __name__ == "__main__":
    report(sys.argv[1] if len(sys.argv) > 1 else "bench.json")
