"""Arrays as dask sources and sinks on a ``distributed.LocalCluster`` of two worker
processes, over a local directory store and over S3 (moto's server on 127.0.0.1): the
arrays are pickled to the workers, which re-open their stores there."""
from __future__ import annotations

import numpy as np
import pytest

import chunkzip as cz

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1", worker_dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def s3():
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    import s3fs

    from remote_servers import moto_s3

    with moto_s3() as opts:
        s3fs.S3FileSystem(**opts).mkdir("dist")
        yield opts


def _roundtrip(client, make_store):
    src = np.arange(48 * 30, dtype="i8").reshape(48, 30)
    a = cz.array(src, chunks=(10, 7), **make_store("a.zarr"))
    x = da.from_array(a, chunks=(20, 14))
    total = client.compute((x * 2).sum()).result()
    assert total == int(src.sum() * 2)
    np.testing.assert_array_equal(client.compute(x[5:40, 3:29] + 1).result(), src[5:40, 3:29] + 1)
    b = cz.zeros((48, 30), chunks=(12, 10), dtype="i8", **make_store("b.zarr"))
    y = da.from_array(src, chunks=(12, 10)) - 5  # aligned with b's chunks: no two tasks share one
    client.compute(da.store(y, b, lock=False, compute=False)).result()
    np.testing.assert_array_equal(b[...], src - 5)
    assert len(client.scheduler_info()["workers"]) == 2


def test_dask_distributed_local_store(client, tmp_path):
    _roundtrip(client, lambda name: {"store": str(tmp_path / name)})


def test_dask_distributed_s3_store(client, s3):
    _roundtrip(client, lambda name: {"store": f"s3://dist/{name}", "storage_options": s3})
