"""chunkzip over S3 with two clients, on the same bucket of the same server: s3fs
(``FsspecStore``, botocore signing, aiohttp) and obstore (``ObstoreStore``, the Rust
object_store crate); zarr-python 3 (s3fs) alongside.

The server is moto's standalone S3 server (``moto[server]``) in its own process on
127.0.0.1, so that its CPU does not share the readers' GIL. moto spends milliseconds of
CPU per request, so these are client-plus-server costs per request, not network latency
hiding (``bench_remote.py`` measures that).

The array: 1024 x 1024 int32 in 128 x 128 chunks (64 chunks, Blosc lz4), Zarr v3.

Run: ``pytest bench/bench_s3_backends.py --benchmark-json=bench/s3.json`` then
``python bench/report.py bench/s3.json``; or ``PYTHONPATH=. python bench/bench_s3_backends.py
[rounds]`` (best of interleaved rounds; the clients alternate within every round).
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

SHAPE, CHUNKS, BUCKET = (1024, 1024), (128, 128), "bench"
KEY, SECRET = "testing-key-id", "testing-secret-value"


@contextlib.contextmanager
def moto_server():
    """moto's S3 server in a subprocess; yields its endpoint URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


DATA = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE)
WORKLOADS = {"full read (64 chunks)": lambda a: a[...],
             "full write (64 chunks)": lambda a: a.__setitem__(Ellipsis, DATA)}


@contextlib.contextmanager
def served_arrays():
    """The array written once to a fresh moto server; yields ``{client name: array}``,
    every client on the same bucket and key."""
    import s3fs

    import chunkzip as cz
    from chunkzip.codecs import Blosc
    from chunkzip.storage import FsspecStore, ObstoreStore

    with moto_server() as endpoint:
        fs_opts = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": endpoint, "region_name": "eu-west-1"}}
        ob_opts = {"endpoint": endpoint, "access_key_id": KEY, "secret_access_key": SECRET, "region": "eu-west-1",
                   "client_options": {"allow_http": True}}
        s3fs.S3FileSystem(**fs_opts).mkdir(BUCKET)
        url = f"s3://{BUCKET}/a.zarr"
        stores = {"chunkzip + s3fs": FsspecStore.from_url(url, fs_opts),
                  "chunkzip + obstore": ObstoreStore.from_url(url, ob_opts)}
        z = cz.open(stores["chunkzip + s3fs"], mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=3,
                    compressor=Blosc(cname="lz4", clevel=5, shuffle=Blosc.SHUFFLE))
        z[...] = DATA
        arrays = {name: cz.open(st, mode="r+") for name, st in stores.items()}
        try:
            import zarr

            arrays["zarr-python (s3fs)"] = zarr.open_array(url, mode="r+", storage_options=fs_opts)
        except ImportError:
            pass
        yield arrays


CLIENTS = ["chunkzip + s3fs", "chunkzip + obstore", "zarr-python (s3fs)"]


@pytest.fixture(scope="module")
def arrays():
    pytest.importorskip("s3fs")
    pytest.importorskip("obstore")
    pytest.importorskip("moto.server")
    with served_arrays() as arrs:
        yield arrs


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_s3_client(benchmark, arrays, client, workload):
    if client not in arrays:
        pytest.skip("zarr-python is not installed")
    benchmark.group = f"moto S3: {workload}"
    out = benchmark.pedantic(WORKLOADS[workload], args=(arrays[client],), rounds=3, iterations=1, warmup_rounds=1)
    if out is not None:
        np.testing.assert_array_equal(out, DATA)


def main(rounds: int = 5) -> None:
    data, workloads = DATA, WORKLOADS
    with served_arrays() as arrays:
        best: dict[tuple[str, str], float] = {}
        for _ in range(rounds):
            for wname, fn in workloads.items():
                for name, arr in arrays.items():
                    t0 = time.perf_counter()
                    out = fn(arr)
                    dt = time.perf_counter() - t0
                    if out is not None:
                        np.testing.assert_array_equal(out, data)
                    best[(wname, name)] = min(best.get((wname, name), float("inf")), dt)
    names = list(arrays)
    print("| workload (moto S3 server, loopback) | " + " | ".join(f"{n} (s)" for n in names)
          + " | obstore / s3fs |")
    print("|---|" + "---|" * len(names) + "---|")
    for wname in workloads:
        ratio = best[(wname, "chunkzip + obstore")] / best[(wname, "chunkzip + s3fs")]
        print(f"| {wname} | " + " | ".join(f"{best[(wname, n)]:.3f}" for n in names) + f" | {ratio:.2f} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
