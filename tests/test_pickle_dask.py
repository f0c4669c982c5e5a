"""Pickling arrays (spec "Pickle support") and arrays as dask sources and sinks, with the
threaded and the processes schedulers."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import chunkzip as cz

da = pytest.importorskip("dask.array")
import dask  # noqa: E402


# ----------------------------------------------------------------------------- pickling
def test_spec_pickle_in_memory_array():
    z1 = cz.array(np.arange(100000))
    s = pickle.dumps(z1)
    assert len(s) > 5000  # relatively large because data have been pickled
    z2 = pickle.loads(s)
    assert z1 == z2
    assert np.all(z1[:] == z2[:])
    z2[0] = -1  # an independent copy
    assert z1[0] == 0 and z1 != z2


def test_spec_pickle_directory_array(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    z3 = cz.open("data/walnuts.zarr", mode="w", shape=100000, dtype="i8")
    z3[:] = np.arange(100000)
    s = pickle.dumps(z3)
    assert len(s) < 200  # small because no data have been pickled
    z4 = pickle.loads(s)
    assert z3 == z4
    assert np.all(z3[:] == z4[:])
    z4[:10] = -1  # same files
    assert (z3[:10] == -1).all()


def test_pickle_keeps_path_options_and_synchronizer(tmp_path):
    store = str(tmp_path / "s.zarr")
    sync = cz.ProcessSynchronizer(tmp_path / "sync")
    z = cz.zeros((10, 10), chunks=(3, 3), store=store, path="g/a", zarr_format=2, synchronizer=sync,
                 write_empty_chunks=False)
    z[1:4] = 5
    z2 = pickle.loads(pickle.dumps(z))
    assert (z2.path, z2.zarr_format, z2.write_empty_chunks, z2.chunks) == ("g/a", 2, False, (3, 3))
    assert z2.synchronizer == sync and z2 == z
    np.testing.assert_array_equal(z2[:], z[:])
    r = pickle.loads(pickle.dumps(cz.open_array(store, path="g/a", mode="r")))
    assert r.read_only
    with pytest.raises(cz.ReadOnlyError):
        r[0, 0] = 1
    t = cz.zeros(5, synchronizer=cz.ThreadSynchronizer())
    t2 = pickle.loads(pickle.dumps(t))
    assert isinstance(t2.synchronizer, cz.ThreadSynchronizer) and t2.synchronizer is not t.synchronizer


def test_pickle_sees_metadata_changes_made_after_pickling(tmp_path):
    z = cz.zeros(10, chunks=5, store=str(tmp_path / "a.zarr"))
    s = pickle.dumps(z)
    z.resize(20)
    assert pickle.loads(s).shape == (20,)  # re-opened, not a snapshot of the metadata


# ----------------------------------------------------------------------------- dask
@pytest.fixture(params=["threads", "processes"])
def scheduler(request):
    if request.param == "processes":
        with dask.config.set({"multiprocessing.context": "spawn"}):
            yield "processes"
    else:
        yield "threads"


def _dir_array(tmp_path, name, data, chunks, **kw):
    return cz.array(data, chunks=chunks, store=str(tmp_path / name), **kw)


def test_dask_source(tmp_path, scheduler):
    data = np.arange(120 * 90, dtype="i4").reshape(120, 90)
    z = _dir_array(tmp_path, "src.zarr", data, (25, 20))
    x = da.from_array(z, chunks=z.chunks)
    assert x.chunks[0][0] == 25
    got = (x * 2 + 1).sum(axis=0).compute(scheduler=scheduler, num_workers=2)
    np.testing.assert_array_equal(got, (data * 2 + 1).sum(axis=0))
    np.testing.assert_array_equal(x[::7, 3].compute(scheduler=scheduler, num_workers=2), data[::7, 3])


def test_dask_source_in_memory_array_threads():
    data = np.random.default_rng(0).random((64, 64))
    z = cz.array(data, chunks=(16, 16))
    x = da.from_array(z, chunks=z.chunks)
    np.testing.assert_allclose(x.mean().compute(scheduler="threads"), data.mean())


def test_dask_sink_chunk_aligned_without_lock(tmp_path, scheduler):
    data = np.arange(100 * 80, dtype="f8").reshape(100, 80)
    z = cz.zeros((100, 80), chunks=(20, 16), dtype="f8", store=str(tmp_path / "out.zarr"))
    assert len(pickle.dumps(z)) < 300  # what the processes scheduler ships to every task
    x = da.from_array(data, chunks=z.chunks)
    da.store(x * 3, z, lock=False, scheduler=scheduler, num_workers=2)
    np.testing.assert_array_equal(z[:], data * 3)


def test_dask_sink_misaligned_with_process_synchronizer(tmp_path, scheduler):
    # dask blocks of 15 rows over chunks of 10 rows: blocks share chunks, so a synchronizer
    data = np.arange(90 * 30, dtype="i4").reshape(90, 30)
    z = cz.zeros((90, 30), chunks=(10, 10), dtype="i4", store=str(tmp_path / "out.zarr"),
                 synchronizer=cz.ProcessSynchronizer(tmp_path / "sync"))
    x = da.from_array(data, chunks=(15, 30))
    da.store(x, z, lock=False, scheduler=scheduler, num_workers=2)
    np.testing.assert_array_equal(z[:], data)


def test_dask_rechunk_between_arrays(tmp_path):
    data = np.arange(60 * 60, dtype="i2").reshape(60, 60)
    src = _dir_array(tmp_path, "a.zarr", data, (60, 1))
    dst = cz.zeros((60, 60), chunks=(1, 60), dtype="i2", store=str(tmp_path / "b.zarr"))
    x = da.from_array(src, chunks=(60, 60)).rechunk(dst.chunks)
    da.store(x, dst, lock=False, scheduler="threads")
    np.testing.assert_array_equal(dst[:], data)
