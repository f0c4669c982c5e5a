"""The C library against Python and c-blosc2: full reads and Blosc throughput.

Run:  python -m pytest bench/bench_capi.py --benchmark-only -q
      python bench/bench_capi.py          # plain table, best of interleaved rounds, ratios

* Full read of the 64 MiB int32 array in 256x256 Blosc-lz4 chunks (bench/conftest.py):
  ``cz_read`` of libchunkzip.so (called through ctypes, which releases the GIL; its
  threads: CZ_NUM_THREADS, default the CPU count) against ``chunkzip`` from Python,
  zarr-python and tensorstore, on the same files.
* Blosc compress/decompress MB/s on a 4 MiB int32 buffer, one thread, clevel 5, byte
  shuffle: ``cz_blosc_compress``/``cz_blosc_decompress`` against c-blosc2's own
  ``blosc2_compress_ctx``/``blosc2_decompress_ctx`` (python-blosc2's compress2/decompress2
  with nthreads=1; c-blosc2 writes its own Blosc2 frames, the speed reference).
"""
from __future__ import annotations

import ctypes
import os
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import CHUNKS, SHAPE, ChunkzipLib, TensorstoreLib, ZarrLib, _write_chunkzip  # noqa: E402

N = (4 << 20) // 4  # 4 MiB of int32 for the Blosc rows
CNAMES = ["lz4", "zstd"]


def _clib() -> ctypes.CDLL:
    import chunkzip

    lib = ctypes.CDLL(chunkzip.clib.get_library())
    lib.cz_open.restype = ctypes.c_void_p
    lib.cz_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.cz_read.argtypes = [ctypes.c_void_p] + [ctypes.c_void_p] * 3
    lib.cz_close.argtypes = [ctypes.c_void_p]
    lib.cz_last_error.restype = ctypes.c_char_p
    lib.cz_blosc_compress.restype = ctypes.c_int64
    lib.cz_blosc_compress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_char_p,
                                      ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p,
                                      ctypes.c_size_t]
    lib.cz_blosc_decompress.restype = ctypes.c_int64
    lib.cz_blosc_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
    return lib


class CLib:
    """cz_read of libchunkzip.so into a preallocated NumPy array."""

    name = "C cz_read"

    def __init__(self) -> None:
        self.lib = _clib()

    def open(self, path):
        h = self.lib.cz_open(path.encode(), b"r")
        if not h:
            raise RuntimeError(self.lib.cz_last_error().decode())
        return h

    def read_all(self, h, shape):
        out = np.empty(shape, np.int32)
        start = np.zeros(len(shape), np.int64)
        stop = np.array(shape, np.int64)
        if self.lib.cz_read(h, start.ctypes.data, stop.ctypes.data, out.ctypes.data) != 0:
            raise RuntimeError(self.lib.cz_last_error().decode())
        return out


def _read_funcs(path):
    """name -> zero-argument callable reading the whole array."""
    c = CLib()
    h = c.open(path)
    funcs = {c.name: lambda: c.read_all(h, SHAPE)}
    for lib in (ChunkzipLib(), ZarrLib(), TensorstoreLib()):
        try:
            arr = lib.open(path)
        except ImportError:
            continue
        funcs[lib.name] = (lambda lib=lib, arr=arr: np.asarray(lib.read(arr, (slice(None), slice(None)))))
    return funcs


def _blosc_funcs(cname: str, data: np.ndarray):
    """name -> (compress, decompress) with the frame built once."""
    import blosc2

    lib = _clib()
    nbytes = data.nbytes
    cap = nbytes + 16
    dst = np.empty(cap, np.uint8)
    back = np.empty(nbytes, np.uint8)

    def cz_c():
        r = lib.cz_blosc_compress(data.ctypes.data, nbytes, 4, cname.encode(), 5, 1, 0, dst.ctypes.data, cap)
        assert r > 0
        return r

    size = cz_c()
    frame = dst[:size].copy()

    def cz_d():
        assert lib.cz_blosc_decompress(frame.ctypes.data, size, back.ctypes.data, nbytes) == nbytes

    codec = {"lz4": blosc2.Codec.LZ4, "zstd": blosc2.Codec.ZSTD}[cname]
    b2frame = blosc2.compress2(data, typesize=4, clevel=5, codec=codec, filters=[blosc2.Filter.SHUFFLE], nthreads=1)

    def b2_c():
        return blosc2.compress2(data, typesize=4, clevel=5, codec=codec, filters=[blosc2.Filter.SHUFFLE],
                                nthreads=1)

    def b2_d():
        return blosc2.decompress2(b2frame, nthreads=1)

    return {"C cz_blosc": (cz_c, cz_d, nbytes / size), "c-blosc2": (b2_c, b2_d, nbytes / len(b2frame))}


def _data() -> np.ndarray:
    rng = np.random.default_rng(42)
    return np.cumsum(rng.integers(-20, 21, N)).astype(np.int32)


# ---- pytest-benchmark ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["C cz_read", "chunkzip", "zarr-python", "tensorstore"])
def test_full_read(benchmark, big_path, data, name):
    funcs = _read_funcs(big_path)
    if name not in funcs:
        pytest.skip(f"{name} not installed")
    benchmark.group = "capi-full-read-64MiB"
    out = benchmark(funcs[name])
    np.testing.assert_array_equal(out, data)


@pytest.mark.parametrize("op", ["compress", "decompress"])
@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("name", ["C cz_blosc", "c-blosc2"])
def test_blosc(benchmark, name, cname, op):
    funcs = _blosc_funcs(cname, _data())
    benchmark.group = f"capi-blosc-{op}-{cname}"
    benchmark(funcs[name][0 if op == "compress" else 1])


# ---- plain table -------------------------------------------------------------------------------

def _interleaved_best(funcs: dict, rounds: int) -> dict:
    best = {k: float("inf") for k in funcs}
    for _ in range(rounds):
        for k, f in funcs.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main(rounds: int = 7) -> None:
    import tempfile

    rng = np.random.default_rng(0)
    base = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE)
    data = base + rng.integers(0, 64, SHAPE, dtype=np.int32)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.zarr")
        _write_chunkzip(path, data, CHUNKS)
        funcs = _read_funcs(path)
        for f in funcs.values():
            np.testing.assert_array_equal(f(), data)
        best = _interleaved_best(funcs, rounds)
    ref = best["C cz_read"]
    print(f"full read, {SHAPE[0]}x{SHAPE[1]} int32 (64 MiB), {CHUNKS[0]}x{CHUNKS[1]} Blosc-lz4 chunks, "
          f"best of {rounds} interleaved rounds")
    print(f"{'library':14s} {'seconds':>8s} {'vs C':>6s}")
    for k, t in best.items():
        print(f"{k:14s} {t:8.4f} {t / ref:6.2f}")
    d = _data()
    mb = d.nbytes / 1e6
    print(f"\nBlosc, 4 MiB int32 random walk, clevel 5, shuffle, 1 thread, best of {rounds} interleaved rounds")
    print(f"{'cname':6s} {'library':12s} {'comp MB/s':>9s} {'dec MB/s':>9s} {'ratio':>6s}")
    for cname in CNAMES:
        fs = _blosc_funcs(cname, d)
        comp = _interleaved_best({k: v[0] for k, v in fs.items()}, rounds)
        dec = _interleaved_best({k: v[1] for k, v in fs.items()}, rounds)
        for k, (_, _, ratio) in fs.items():
            print(f"{cname:6s} {k:12s} {mb / comp[k]:9.0f} {mb / dec[k]:9.0f} {ratio:6.1f}")


if __name__ == "__main__":
    main()
