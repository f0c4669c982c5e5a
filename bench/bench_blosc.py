"""Blosc encode/decode throughput: chunkzip vs numcodecs (c-blosc 1.x) vs python-blosc2.

Run:  python -m pytest bench/bench_blosc.py --benchmark-only -q
      python bench/bench_blosc.py          # plain table with MB/s and ratios

Same 4 MiB int32 buffer for everyone (an arange-like ramp and a random-walk), lz4 and
zstd, byte shuffle, clevel 5, one thread everywhere.  python-blosc2 writes its own
(Blosc2) frame format; it is the c-blosc2 speed reference.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from chunkzip.codecs.blosc import Blosc

N = (4 << 20) // 4  # 4 MiB of int32


def _datasets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    return {
        "arange": (np.arange(N, dtype=np.int64) * 3 // 2).astype(np.int32),
        "randomwalk": np.cumsum(rng.integers(-20, 21, N)).astype(np.int32),
    }


DATA = _datasets()
CNAMES = ["lz4", "zstd"]


def _libs(cname: str):
    """name -> (encode, decode) callables taking/returning buffers."""
    import blosc2
    import numcodecs
    from numcodecs import blosc as ncblosc

    ncblosc.use_threads = False
    numcodecs.blosc.set_nthreads(1)
    blosc2.set_nthreads(1)
    ours = Blosc(cname, 5, Blosc.SHUFFLE)
    theirs = numcodecs.Blosc(cname, 5, numcodecs.Blosc.SHUFFLE)
    b2codec = {"lz4": blosc2.Codec.LZ4, "zstd": blosc2.Codec.ZSTD}[cname]

    def b2_encode(a):
        return blosc2.compress2(a, typesize=4, clevel=5, codec=b2codec,
                                filters=[blosc2.Filter.SHUFFLE], nthreads=1)

    def b2_decode(c):
        return blosc2.decompress2(c, nthreads=1)

    import chunkzip.codecs.blosc as czb
    czb.use_threads = False

    return {
        "chunkzip": (ours.encode, ours.decode),
        "numcodecs": (theirs.encode, theirs.decode),
        "blosc2": (b2_encode, b2_decode),
    }


@pytest.mark.parametrize("dataset", list(DATA))
@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("lib", ["chunkzip", "numcodecs", "blosc2"])
def test_encode(benchmark, lib, cname, dataset):
    enc, _ = _libs(cname)[lib]
    a = DATA[dataset]
    benchmark.group = f"encode-{cname}-{dataset}"
    out = benchmark(enc, a)
    benchmark.extra_info["ratio"] = a.nbytes / len(out)


@pytest.mark.parametrize("dataset", list(DATA))
@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("lib", ["chunkzip", "numcodecs", "blosc2"])
def test_decode(benchmark, lib, cname, dataset):
    enc, dec = _libs(cname)[lib]
    a = DATA[dataset]
    c = enc(a)
    benchmark.group = f"decode-{cname}-{dataset}"
    out = benchmark(dec, c)
    assert bytes(out) == a.tobytes()


def _best(f, arg, reps: int = 7) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        f(arg)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    mb = N * 4 / 1e6
    print(f"{'case':34s} {'lib':10s} {'enc MB/s':>9s} {'dec MB/s':>9s} {'cratio':>7s}"
          f" {'enc vs':>7s} {'dec vs':>7s}")
    for dataset, a in DATA.items():
        for cname in CNAMES:
            libs = _libs(cname)
            rows = {}
            for name, (enc, dec) in libs.items():
                c = enc(a)
                assert bytes(dec(c)) == a.tobytes()
                rows[name] = (mb / _best(enc, a), mb / _best(dec, c), a.nbytes / len(c))
            ref_e, ref_d, _ = rows["chunkzip"]
            for name, (e, d, r) in rows.items():
                print(f"{dataset + '/' + cname + '/shuffle':34s} {name:10s} {e:9.0f} {d:9.0f}"
                      f" {r:7.1f} {ref_e / e:7.2f} {ref_d / d:7.2f}")
    print("'enc vs'/'dec vs': chunkzip throughput divided by that library's (>1: we are faster)")


if __name__ == "__main__":
    main()
