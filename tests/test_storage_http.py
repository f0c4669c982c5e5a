"""Reading arrays over HTTP (fsspec + aiohttp) from a real threaded server on 127.0.0.1
that can delay, fail, cut or hang answers; NumPy is the oracle, zarr-python reads the
same URLs."""
from __future__ import annotations

import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip.storage import FsspecStore, StoreIOError

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

from remote_servers import FaultyHTTPServer  # noqa: E402

SHAPE, CHUNKS = (60, 50), (8, 7)
DATA = np.arange(SHAPE[0] * SHAPE[1], dtype=np.int32).reshape(SHAPE) * 3 - 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    for fmt in (2, 3):
        z = cz.open(str(root / f"v{fmt}.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4",
                    zarr_format=fmt, fill_value=-5)
        z[...] = DATA
    z = cz.open(str(root / "zstd.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="f8",
                compressor=cz.codecs.Zstd(level=1))
    z[...] = DATA / 7
    z = cz.open(str(root / "sparse.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", fill_value=9)
    z[:8, :7] = 1  # one chunk stored, the rest missing on the server (404 -> fill value)
    z = cz.open(str(root / "sharded.zarr"), mode="w", shape=SHAPE, chunks=(4, 5), shards=(16, 25), dtype="i4")
    z[...] = DATA
    with zipfile.ZipFile(root / "a.zip", "w") as zf:
        base = root / "v3.zarr"
        for dirpath, _, files in os.walk(base):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, base))
    with FaultyHTTPServer(str(root)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    with server.fresh(), cz.config.set(io_retries=2, io_timeout=10.0):
        yield


@pytest.mark.parametrize("fmt", [2, 3])
def test_http_read_matches_numpy_and_zarr_python(server, fmt):
    url = f"{server.url}/v{fmt}.zarr"
    z = cz.open(url, mode="r")
    assert isinstance(z.store if hasattr(z, "store") else z._store, FsspecStore)
    np.testing.assert_array_equal(z[...], DATA)
    np.testing.assert_array_equal(z[3:41, 5:49:3], DATA[3:41, 5:49:3])
    np.testing.assert_array_equal(z.vindex[[0, 59, 17], [49, 0, 23]], DATA[[0, 59, 17], [49, 0, 23]])
    zarr = pytest.importorskip("zarr")
    ref = zarr.open_array(url, mode="r")
    np.testing.assert_array_equal(ref[...], z[...])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_http_random_selections(server, data):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    sel = tuple(slice(data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n)), data.draw(st.integers(1, 4)))
                for n in SHAPE)
    np.testing.assert_array_equal(z[sel], DATA[sel])
    pts = data.draw(st.integers(1, 30))
    idx = tuple(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=pts, max_size=pts))) for n in SHAPE)
    np.testing.assert_array_equal(z.vindex[idx], DATA[idx])


def test_http_generic_codec_path_and_missing_chunks(server):
    z = cz.open(f"{server.url}/zstd.zarr", mode="r")
    np.testing.assert_array_equal(z[5:33, 2:40], (DATA / 7)[5:33, 2:40])
    s = cz.open(f"{server.url}/sparse.zarr", mode="r")
    expect = np.full(SHAPE, 9, np.int32)
    expect[:8, :7] = 1
    np.testing.assert_array_equal(s[...], expect)


def test_http_sharded_reads_ranges(server):
    z = cz.open(f"{server.url}/sharded.zarr", mode="r")
    np.testing.assert_array_equal(z[...], DATA)
    server.faults.clear()
    np.testing.assert_array_equal(z[17:19, 26:29], DATA[17:19, 26:29])  # one inner chunk
    # the shard's index (a suffix range), then the inner chunk's range: two requests
    assert server.faults.requests.count("/sharded.zarr/c/1/1") == 2


def test_http_chained_zip_url(server):
    z = cz.open(f"zip::{server.url}/a.zip", mode="r")
    np.testing.assert_array_equal(z[...], DATA)
    assert z._store.read_only


def test_http_is_read_only(server):
    z = cz.open(f"{server.url}/v3.zarr", mode="a")
    with pytest.raises((PermissionError, cz.ReadOnlyError)):
        z[0, 0] = 1
    with pytest.raises(PermissionError):
        cz.zeros(5, store=f"{server.url}/new.zarr")


def test_http_ranges(server):
    store = FsspecStore.from_url(f"{server.url}/v3.zarr")
    whole = store.get("zarr.json")
    got = store.get_ranges([("zarr.json", 0, 10), ("zarr.json", 5, None), ("zarr.json", -7, None),
                            ("zarr.json", -7, 3), ("missing", 0, 4), ("zarr.json", 3, 0),
                            ("zarr.json", len(whole) - 2, 100)])
    assert got == [whole[:10], whole[5:], whole[-7:], whole[-7:-4], None, b"", whole[-2:]]
    assert store.get_range("zarr.json", 2, 5) == whole[2:7]


def test_http_retries_then_succeeds(server):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    server.faults.set(r"/c/1/2$", "status", times=2, status=503)
    np.testing.assert_array_equal(z[...], DATA)
    assert sum(r.endswith("/c/1/2") for r in server.faults.requests) == 3
    server.faults.set(r"/c/2/2$", "close", times=1)
    np.testing.assert_array_equal(z[16:24, 14:21], DATA[16:24, 14:21])


@pytest.mark.parametrize("mode", ["status", "close"])
def test_http_persistent_failure_names_key_and_url(server, mode):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    server.faults.set(r"/c/3/1$", mode)
    with cz.config.set(io_retries=1):
        with pytest.raises(StoreIOError) as info:
            z[...]
    msg = str(info.value)
    assert "'v3.zarr/c/3/1'" not in msg and "c/3/1" in msg and f"{server.url}/v3.zarr" in msg
    assert "after 2 attempts" in msg
    assert sum(r.endswith("/c/3/1") for r in server.faults.requests) == 2
    server.faults.clear()
    np.testing.assert_array_equal(z[...], DATA)  # the store still works


def test_http_timeout(server):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    server.faults.set(r"/c/0/0$", "hang", hang=3.0)
    with cz.config.set(io_retries=0, io_timeout=0.3):
        with pytest.raises(StoreIOError, match=r"c/0/0.*io_timeout=0.3"):
            z[:8, :7]


def test_http_credentials_not_in_errors(server):
    secret = "hunter2-secret"
    url = server.url.replace("http://", f"http://alice:{secret}@") + "/v3.zarr"
    store = FsspecStore.from_url(url, storage_options={"headers": {"Authorization": f"Bearer {secret}-tok"}})
    server.faults.set(r"zarr\.json$", "status", status=500)
    with cz.config.set(io_retries=0):
        with pytest.raises(StoreIOError) as info:
            store.get("zarr.json")
    assert secret not in str(info.value) and "zarr.json" in str(info.value)
    assert secret not in repr(store)


def test_http_concurrency_is_bounded(server):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    server.faults.delay = 0.02
    with cz.config.set(io_concurrency=4):
        np.testing.assert_array_equal(z[...], DATA)  # 64 chunks
    assert 2 <= server.faults.max_inflight <= 4
    server.faults.clear()
    with cz.config.set(io_concurrency=1):
        np.testing.assert_array_equal(z[:16, :14], DATA[:16, :14])
    assert server.faults.max_inflight == 1


def test_http_pickles_small(server):
    z = cz.open(f"{server.url}/v3.zarr", mode="r")
    s = pickle.dumps(z)
    assert len(s) < 1000
    np.testing.assert_array_equal(pickle.loads(s)[...], DATA)


def test_io_config_validation():
    for bad in ({"io_concurrency": 0}, {"io_retries": -1}, {"io_timeout": 0}, {"io_concurrency": True}):
        with pytest.raises(ValueError):
            cz.config.set(**bad)
    with pytest.raises(ValueError, match="storage_options"):
        cz.open("some/local/path", mode="w", shape=3, storage_options={"anon": True})
