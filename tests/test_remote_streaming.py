"""Streaming remote reads: chunks decoded as their bytes arrive (``Store.iter_batches``,
``pipeline.STREAM_READS``), against a real threaded HTTP server on 127.0.0.1.

NumPy is the oracle; the streamed read must equal the whole-batch read for every
selection kind and for both the kernel path (Blosc) and the generic path (Zstd). The
server's request log checks the bound on fetched-but-not-taken chunks and that an early
close stops the fetching.
"""
from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.storage import FsspecStore, MemoryStore, StoreIOError

pytest.importorskip("fsspec")
pytest.importorskip("aiohttp")

from remote_servers import FaultyHTTPServer  # noqa: E402

SHAPE, CHUNKS = (40, 36), (6, 5)  # 7 x 8 = 56 chunks, edge chunks on both axes
DATA = (np.arange(SHAPE[0] * SHAPE[1], dtype=np.int64).reshape(SHAPE) * 7 - 900).astype(np.int32)
NAMES = ("blosc.zarr", "zstd.zarr", "v2.zarr", "sharded.zarr")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    z = cz.open(str(root / "blosc.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=3)
    z[...] = DATA  # the default Blosc: the batched nogil kernel decodes it
    z = cz.open(str(root / "zstd.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=3,
                compressor=cz.codecs.Zstd(level=3))
    z[...] = DATA  # decoded by the generic per-chunk path
    z = cz.open(str(root / "v2.zarr"), mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", zarr_format=2,
                fill_value=-3)
    z[:20, :] = DATA[:20]  # the lower chunks are missing on the server: fill value
    z = cz.open(str(root / "sharded.zarr"), mode="w", shape=SHAPE, chunks=(3, 5), shards=(12, 10), dtype="i4",
                zarr_format=3, fill_value=-3)
    z[:20, :] = DATA[:20]  # shards below row 24 missing, the shards of rows 12-23 partly empty
    with FaultyHTTPServer(str(root)) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server):
    with server.fresh(), cz.config.set(io_retries=1, io_timeout=10.0):
        yield


def expected(name: str) -> np.ndarray:
    if name in ("v2.zarr", "sharded.zarr"):
        e = np.full(SHAPE, -3, np.int32)
        e[:20] = DATA[:20]
        return e
    return DATA


@pytest.fixture(scope="module")
def arrays(server):
    return {n: cz.open(f"{server.url}/{n}", mode="r") for n in NAMES}


def read_both(fn):
    """``fn()`` streamed and with the whole batch fetched first."""
    saved = pipeline.STREAM_READS
    try:
        pipeline.STREAM_READS = True
        streamed = fn()
        pipeline.STREAM_READS = False
        batched = fn()
    finally:
        pipeline.STREAM_READS = saved
    return streamed, batched


@pytest.mark.parametrize("name", NAMES)
def test_streamed_reads_equal_numpy(arrays, server, name):
    z, e = arrays[name], expected(name)
    sels = [np.s_[...], np.s_[3:29, 4:33], np.s_[::3, 1::4], np.s_[-7:, :11]]
    for sel in sels:
        server.faults.clear()
        streamed, batched = read_both(lambda: z[sel])
        np.testing.assert_array_equal(streamed, e[sel])
        np.testing.assert_array_equal(batched, e[sel])
    rows, cols = np.array([0, 39, 5, 5, 17, 30]), np.array([35, 0, 4, 5, 18, 2])
    streamed, _ = read_both(lambda: z.vindex[rows, cols])
    np.testing.assert_array_equal(streamed, e[rows, cols])
    streamed, _ = read_both(lambda: z.oindex[[1, 13, 38], [0, 20, 35]])
    np.testing.assert_array_equal(streamed, e[np.ix_([1, 13, 38], [0, 20, 35])])
    mask = (np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % 11) == 0
    streamed, _ = read_both(lambda: z.vindex[mask])
    np.testing.assert_array_equal(streamed, e[mask])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_streamed_random_selections(arrays, data):
    name = data.draw(st.sampled_from(NAMES))
    z, e = arrays[name], expected(name)
    sel = tuple(slice(data.draw(st.integers(0, n - 1)), data.draw(st.integers(1, n)), data.draw(st.integers(1, 4)))
                for n in SHAPE)
    npts = data.draw(st.integers(1, 60))
    pts = tuple(np.asarray(data.draw(st.lists(st.integers(-n, n - 1), min_size=npts, max_size=npts)))
                for n in SHAPE)
    with cz.config.set(io_concurrency=data.draw(st.sampled_from([1, 3, 64]))):
        np.testing.assert_array_equal(z[sel], e[sel])
        np.testing.assert_array_equal(z.vindex[pts], e[pts])


def test_iter_batches_yields_every_key_once(server):
    store = FsspecStore.from_url(f"{server.url}/blosc.zarr")
    keys = [f"c/{i}/{j}" for i in range(7) for j in range(8)] + ["c/99/0", "zarr.json"]
    want = store.get_many(keys)
    with cz.config.set(io_concurrency=5):
        groups = list(store.iter_batches(keys))
    got = sorted(i for g in groups for i, _ in g)
    assert got == list(range(len(keys)))
    for g in groups:
        for i, v in g:
            assert v == want[i]
    assert want[-2] is None and want[-1] is not None
    # the default (non-streaming stores): one group, in order
    mem = MemoryStore()
    mem.set("a", b"1")
    assert list(mem.iter_batches(["a", "b"])) == [[(0, b"1"), (1, None)]]
    assert list(mem.iter_batches([])) == []


def test_iter_batches_bounds_what_is_not_taken(server):
    """A consumer that stops taking holds back the fetches: at most io_concurrency
    requests beyond the values already taken, not the whole batch."""
    store = FsspecStore.from_url(f"{server.url}/blosc.zarr")
    keys = [f"c/{i}/{j}" for i in range(7) for j in range(8)]
    server.faults.delay = 0.01
    limit = 3
    with cz.config.set(io_concurrency=limit):
        it = store.iter_batches(keys)
        server.faults.clear()
        taken = len(next(it))
        time.sleep(0.3)  # 30 latencies: an unbounded fetch would have asked for all 56
        asked = len(server.faults.log)
        assert taken <= asked <= limit + taken, (taken, asked)
        it.close()  # an early close cancels the rest: no more requests arrive
        time.sleep(0.1)
        assert len(server.faults.log) <= limit + taken
    assert server.faults.max_inflight <= limit


def test_streamed_read_error_names_key(arrays, server):
    server.faults.set(r"c/2/3$", mode="status", status=500)
    for name in ("blosc.zarr", "zstd.zarr"):
        with pytest.raises(StoreIOError, match=r"c/2/3"):
            arrays[name][...]
    server.faults.clear()
    np.testing.assert_array_equal(arrays["blosc.zarr"][...], DATA)  # and the next read is fine


def test_streamed_read_refuses_oversized_chunk(tmp_path):
    """The generic path checks each arriving chunk's size against the largest valid one."""
    root = tmp_path / "www"
    z = cz.open(str(root / "s.zarr"), mode="w", shape=(8, 8), chunks=(4, 4), dtype="u1", zarr_format=3,
                compressor=cz.codecs.Zstd(level=1))
    z[...] = 1
    with open(root / "s.zarr" / "c" / "1" / "1", "wb") as f:
        f.write(b"\0" * (2 * 16 + (64 << 10) + 1))
    with FaultyHTTPServer(str(root)) as srv:
        r = cz.open(f"{srv.url}/s.zarr", mode="r")
        with pytest.raises(cz.pipeline.ChunkDecodeError, match=r"c/1/1.*more than a valid"):
            r[...]


def test_point_rows_matches_numpy():
    rng = np.random.default_rng(3)
    lens = rng.integers(0, 5, 9)
    bounds = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    rows = np.array([7, 0, 4, 8], np.int64)
    sub, elem = pipeline._point_rows(bounds, rows)
    want = np.concatenate([np.arange(bounds[r], bounds[r + 1]) for r in rows])
    np.testing.assert_array_equal(elem, want)
    np.testing.assert_array_equal(np.diff(sub), lens[rows])


@pytest.mark.parametrize("name", ["blosc.zarr", "zstd.zarr"])
def test_reads_make_one_request_per_chunk(arrays, server, name):
    """A read asks for exactly the chunks it needs, each once, and nothing else (no
    metadata, existence or HEAD requests): a window of 4 x 4 chunks is 16 GETs."""
    z = arrays[name]
    for stream in (True, False):
        saved = pipeline.STREAM_READS
        pipeline.STREAM_READS = stream
        try:
            server.faults.clear()
            z[7:29, 6:24]  # rows 1..4 x columns 1..4 of the 6 x 5 chunk grid
            log = list(server.faults.log)
        finally:
            pipeline.STREAM_READS = saved
        paths = sorted(p for _, _, p, _ in log)
        assert {m for _, m, _, _ in log} == {"GET"}
        assert paths == sorted(f"/{name}/c/{i}/{j}" for i in range(1, 5) for j in range(1, 5))


@pytest.mark.parametrize("name", ["blosc.zarr", "zstd.zarr", "sharded.zarr"])
def test_failed_streamed_read_stops_fetching(arrays, server, name):
    """The first chunk that fails ends the read with its error, and the rest of the
    batch is not fetched any more (56 chunks; at most a few requests are made)."""
    z = arrays[name]
    server.faults.delay = 0.01
    server.faults.set(r"/c/0/0$", mode="status", status=500)
    with cz.config.set(io_concurrency=2, io_retries=0):
        with pytest.raises(StoreIOError, match=r"c/0/0"):
            z[...]
        time.sleep(0.2)
    assert len(server.faults.log) <= 6, len(server.faults.log)
