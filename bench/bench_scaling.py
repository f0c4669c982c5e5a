"""How chunkzip's full read and full write grow from 16 MiB to 1 GiB, and the peak memory
of a full read.

int32 arrays of 2048², 4096², 8192² and 16384² elements (16, 64, 256, 1024 MiB) in
256x256 chunks, Zarr v2, Blosc lz4 clevel 5 byte shuffle.  ``extra_info`` holds the
size, so ``python bench/report_scaling.py`` prints seconds, GB/s and the time per
MiB relative to the 16 MiB case (1.00 = linear).  The peak-memory test reads each
array in a fresh process and reports the growth of its peak RSS over the output size.
Two more rows explain where a full read is not linear: the same read into a touched
``out=`` (no page faults), and ``np.empty`` + fill alone (what a fresh output costs: from
32 MiB up glibc maps every new array afresh and the kernel zeroes its pages on first
touch, in 2 MiB huge pages that may need direct compaction on a fragmented machine; the
kernel's counters for that are in ``extra_info['vmstat']``).

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
    v0 = _vmstat()
    out = benchmark.pedantic(lambda: z[...], rounds=5, iterations=1, warmup_rounds=1)
    v1 = _vmstat()
    benchmark.extra_info["vmstat"] = {k: v1[k] - v0[k] for k in v0}
    np.testing.assert_array_equal(out[::997, ::991], a[::997, ::991])


def _vmstat(keys=("thp_fault_alloc", "thp_fault_fallback", "compact_stall")) -> dict[str, int]:
    """Kernel counters of huge-page faults and direct compaction (Linux; empty elsewhere)."""
    try:
        with open("/proc/vmstat") as f:
            return {k: int(v) for k, v in (line.split() for line in f) if k in keys}
    except OSError:
        return {}


def test_full_read_into_out(benchmark, case):
    """The same read into one output array, touched before: no page faults.  The
    difference from ``test_full_read`` is the cost of a fresh output (the kernel zeroes
    every new page on first touch), which ``test_touch_baseline`` measures alone."""
    import chunkzip as cz

    n, a, path = case
    z = cz.open(path, mode="r")
    out = np.zeros_like(a)
    benchmark.group = "scaling: full read into a touched out="
    benchmark.extra_info["mib"] = a.nbytes >> 20
    benchmark.pedantic(lambda: z.get_basic_selection(..., out=out), rounds=5, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(out[::997, ::991], a[::997, ::991])


def test_touch_baseline(benchmark, case):
    """No chunkzip: a new array of the output's size written once (``np.empty`` + fill),
    i.e. the page faults and zeroing a fresh output costs; with the huge-page and
    compaction counters of the kernel over the rounds."""
    n, a, _ = case
    benchmark.group = "scaling: np.empty + fill (fresh-output baseline)"
    benchmark.extra_info["mib"] = a.nbytes >> 20
    v0 = _vmstat()
    benchmark.pedantic(lambda: np.empty_like(a).fill(1), rounds=3, iterations=1, warmup_rounds=1)
    v1 = _vmstat()
    benchmark.extra_info["vmstat"] = {k: v1[k] - v0[k] for k in v0}


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
