"""How chunkzip's full read and full write grow from 16 MiB to 1 GiB, and the peak memory
of a full read.

int32 arrays of 2048², 4096², 8192² and 16384² elements (16, 64, 256, 1024 MiB) in
256x256 chunks, Zarr v2, Blosc lz4 clevel 5 byte shuffle.  ``extra_info`` holds the
size, so ``python bench/report_scaling.py`` prints seconds, GB/s and the time per
MiB relative to the 16 MiB case (1.00 = linear).  The peak-memory test reads each
array in a fresh process and reports the growth of its peak RSS over the output size.

Run: ``pytest bench/bench_scaling.py --benchmark-json=bench/scaling.json`` (about 1 GiB
of RAM per array and 1.3 GB of disk for the largest).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import _write_chunkzip

SIDES = [2048, 4096, 8192, 16384]
CHUNKS = (256, 256)


def _make(n: int) -> np.ndarray:
    a = np.arange(n * n, dtype=np.int32).reshape(n, n)
    a += np.random.default_rng(0).integers(0, 64, (n, n), dtype=np.int32)
    return a


@pytest.fixture(scope="module", params=SIDES, ids=[f"{n * n * 4 >> 20}MiB" for n in SIDES])
def case(request, tmp_path_factory):
    n = request.param
    a = _make(n)
    path = str(tmp_path_factory.mktemp("scaling") / f"a{n}.zarr")
    _write_chunkzip(path, a, CHUNKS)
    yield n, a, path
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def test_full_read(benchmark, case):
    import chunkzip as cz

    n, a, path = case
    z = cz.open(path, mode="r")
    benchmark.group = "scaling: full read"
    benchmark.extra_info["mib"] = a.nbytes >> 20
    out = benchmark.pedantic(lambda: z[...], rounds=3, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(out[::997, ::991], a[::997, ::991])


def test_full_write(benchmark, case, tmp_path):
    import chunkzip as cz
    from chunkzip.codecs import Blosc

    n, a, _ = case
    z = cz.open(str(tmp_path / "w.zarr"), mode="w", shape=a.shape, chunks=CHUNKS, dtype="i4", zarr_format=2,
                compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
    benchmark.group = "scaling: full write"
    benchmark.extra_info["mib"] = a.nbytes >> 20

    def run():
        z[...] = a

    benchmark.pedantic(run, rounds=3, iterations=1)
    np.testing.assert_array_equal(z[::997, ::991], a[::997, ::991])


_PEAK = r"""
import sys
sys.path.insert(0, {root!r})
import chunkzip as cz

def hwm():  # peak RSS of this process in KiB (VmHWM; ru_maxrss is inherited across exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

z = cz.open({path!r}, mode="r")
z[:8, :8]  # extensions loaded, pool started
before = hwm()
out = z[...]
after = hwm()
print(before, after, out.nbytes)
"""


def test_peak_memory_full_read(benchmark, case):
    """Peak RSS growth of a full read minus the output: the kernel's working memory
    (a file buffer and a scratch chunk per thread) and anything else a read keeps."""
    n, a, path = case
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _PEAK.format(root=root, path=path)

    def run():
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=root).stdout.split()

    benchmark.group = "scaling: peak memory of a full read"
    before, after, nbytes = map(int, benchmark.pedantic(run, rounds=1, iterations=1))
    benchmark.extra_info.update(mib=a.nbytes >> 20, output_mib=nbytes / 2**20,
                                peak_growth_mib=(after - before) / 1024,
                                overhead_mib=(after - before) / 1024 - nbytes / 2**20)
