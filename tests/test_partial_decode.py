"""Partial decoding: reads that touch a small part of a Blosc frame of several blocks
decode only those blocks (``blosc2_getitem_ctx`` in ``_ext/_copy.pyx``), single
elements skip the indexer (``Pipeline.read_item``), and the automatic block size gives
mid-sized chunks several blocks.  NumPy is the oracle; numcodecs and tensorstore read
the frames."""
from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip._ext import _blosc
from chunkzip.codecs import Blosc
from chunkzip.storage import LocalStore, MemoryStore

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@st.composite
def case(draw):
    ndim = draw(st.integers(1, 3))
    chunks = tuple(draw(st.integers(4, 40)) for _ in range(ndim))
    shape = tuple(draw(st.integers(1, 2 * c + 3)) for c in chunks)
    return dict(shape=shape, chunks=chunks, order=draw(st.sampled_from("CF")),
                fmt=draw(st.sampled_from([2, 3])),
                dtype=draw(st.sampled_from(["<i4", "<f8", "u1", "<i2", "<c16"])),
                cname=draw(st.sampled_from(["lz4", "zstd", "blosclz"])),
                shuffle=draw(st.sampled_from([0, 1, 2])),
                blocksize=draw(st.sampled_from([16, 64, 100, 256])),
                local=draw(st.booleans()), seed=draw(st.integers(0, 2**31)))


def build(c, tmp_path):
    rng = np.random.default_rng(c["seed"])
    dt = np.dtype(c["dtype"])
    a = (rng.integers(0, 50, c["shape"]).cumsum(axis=-1) % 120).astype(dt)
    comp = Blosc(c["cname"], 5, c["shuffle"], blocksize=c["blocksize"])
    store = LocalStore(str(tmp_path / uuid.uuid4().hex)) if c["local"] else MemoryStore()
    kw = dict(zarr_format=2, compressor=comp) if c["fmt"] == 2 else dict(zarr_format=3, compressors=[comp])
    z = cz.create(shape=c["shape"], chunks=c["chunks"], dtype=dt, store=store, order=c["order"],
                  fill_value=3, **kw)
    z[...] = a
    return a, z


@SETTINGS
@given(c=case(), data=st.data())
def test_partial_reads_match_numpy(c, data, tmp_path):
    a, z = build(c, tmp_path)
    shape = c["shape"]
    for _ in range(5):  # single elements, negative indices too
        idx = tuple(data.draw(st.integers(-n, n - 1)) for n in shape)
        got = z[idx]
        assert type(got) is type(a[idx]) and got == a[idx]
        assert z[tuple(np.int64(i) for i in idx)] == a[idx]
    idx1 = data.draw(st.integers(-shape[0], shape[0] - 1))
    np.testing.assert_array_equal(z[idx1], a[idx1])  # one int on an N-d array: a sub-array
    sel = tuple(slice(data.draw(st.integers(0, n)), data.draw(st.integers(0, n)), data.draw(st.integers(1, 3)))
                for n in shape)
    np.testing.assert_array_equal(z[sel], a[sel])
    pts = tuple(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))) for n in shape)
    m = min(len(p) for p in pts)
    pts = tuple(p[:m] for p in pts)
    np.testing.assert_array_equal(z.vindex[pts], a[pts])
    rows = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    np.testing.assert_array_equal(z.oindex[(rows,) + (slice(None),) * (len(shape) - 1)], a[rows])


def test_single_element_edges(tmp_path):
    a = np.arange(50 * 30, dtype="<i8").reshape(50, 30)
    z = cz.array(a, chunks=(16, 16), store=str(tmp_path / "a.zarr"), zarr_format=2,
                 compressor=Blosc("lz4", 5, 1, blocksize=128))
    assert z[49, 29] == a[49, 29] and z[-1, -30] == a[-1, -30]
    with pytest.raises(IndexError):
        z[50, 0]
    with pytest.raises(IndexError):
        z[0, -31]
    np.testing.assert_array_equal(z[True], a[True])  # a bool is not an element index
    np.testing.assert_array_equal(z[3, ...], a[3, ...])
    z.store.delete("1.1")  # a missing chunk: the fill value
    assert z[20, 20] == z.fill_value
    z.resize(60, 30)  # the pipeline follows the new shape
    assert z[55, 3] == z.fill_value and z[49, 29] == a[49, 29]


def test_only_the_needed_block_is_decoded():
    # corrupt the last block of a frame: an element in the first block still reads
    # (only its block was decoded); reading the whole chunk raises
    a = np.arange(4096, dtype="<i4")
    store = MemoryStore()
    z = cz.array(a, chunks=(4096,), store=store, zarr_format=2, compressor=Blosc("lz4", 5, 1, blocksize=4096))
    frame = bytearray(store.get("0"))
    nbytes, cbytes, blocksize = _blosc.cbuffer_sizes(bytes(frame))
    assert blocksize == 4096 and nbytes // blocksize == 4
    last = int.from_bytes(frame[16 + 12:16 + 16], "little")  # bstarts[3]
    # garbage inside the block's first stream, its size kept: the frame still passes the
    # header and size validation, and only decoding that block fails
    csize = int.from_bytes(frame[last:last + 4], "little")
    frame[last + 4:last + 4 + csize] = b"\xff" * csize
    store.set("0", bytes(frame))
    z = cz.open_array(store, mode="r")
    assert z[5] == 5 and z[1000] == 1000
    np.testing.assert_array_equal(z[10:20], a[10:20])
    with pytest.raises(ValueError):
        z[:]


@pytest.mark.parametrize("cname,nblocks", [("lz4", 4), ("blosclz", 4), ("zstd", 2), ("zlib", 2)])
def test_automatic_blocks_for_mid_sized_chunks(cname, nblocks):
    # a 256 KiB chunk gets several blocks; small and big frames keep one / c-blosc's size
    assert _blosc.blocksize_for(256 * 1024, 4, 5, cname) == 256 * 1024 // nblocks
    assert _blosc.blocksize_for(100_000, 4, 5, cname) == 100_000
    assert _blosc.blocksize_for(4 << 20, 4, 5, cname) >= 256 * 1024


def test_mid_sized_chunks_readable_by_peers(tmp_path):
    numcodecs = pytest.importorskip("numcodecs")
    ts = pytest.importorskip("tensorstore")
    a = np.arange(256 * 512, dtype="<i4").reshape(256, 512) * 7 % 1000
    path = str(tmp_path / "m.zarr")
    z = cz.array(a, chunks=(256, 256), store=path, zarr_format=2, compressor=Blosc("lz4", 5, 1))
    frame = z.store.get("0.1")
    assert _blosc.cbuffer_sizes(frame)[2] == 65536
    dec = np.frombuffer(numcodecs.Blosc().decode(frame), "<i4").reshape(256, 256)
    np.testing.assert_array_equal(dec, a[:, 256:])
    t = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": path}}).result()
    np.testing.assert_array_equal(t.read().result(), a)
    assert z[200, 300] == a[200, 300]


def _corrupt_block(frame: bytes, j: int) -> bytes:
    """The frame with garbage in block j's first stream (its size kept): the frame still
    passes validation, and only decoding that block fails."""
    frame = bytearray(frame)
    start = int.from_bytes(frame[16 + 4 * j:16 + 4 * j + 4], "little")  # bstarts[j]
    csize = int.from_bytes(frame[start:start + 4], "little")
    frame[start + 4:start + 4 + csize] = b"\xff" * csize
    return bytes(frame)


@pytest.mark.parametrize("local", [False, True])
def test_edge_chunks_skip_blocks_outside_the_selection(tmp_path, local):
    # 64x64 int32 chunks in 4 row bands of 16 rows: a window taking rows 20..63 of a
    # chunk (more than half of it) decodes blocks 1..3 only, so a corrupt block 0 is never
    # read; taking row 15 too needs block 0 and fails.  Interior chunks decode whole.
    a = (np.arange(128 * 128, dtype="<i4").reshape(128, 128) * 3) % 1000
    store = LocalStore(str(tmp_path / "w.zarr")) if local else MemoryStore()
    z = cz.array(a, chunks=(64, 64), store=store, zarr_format=2, compressor=Blosc("lz4", 5, 1, blocksize=4096))
    assert _blosc.cbuffer_sizes(store.get("0.0"))[2] == 4096
    for key in ("0.0", "0.1"):
        store.set(key, _corrupt_block(store.get(key), 0))
    z = cz.open_array(store, mode="r")
    for sel in (np.s_[20:128, 5:120], np.s_[16:100, :], np.s_[16:64, 3], np.s_[30:31, 70:71]):
        np.testing.assert_array_equal(z[sel], a[sel])
    np.testing.assert_array_equal(z.oindex[[16, 40, 63, 100], 1:127], a[[16, 40, 63, 100], 1:127])
    for sel in (np.s_[15:128, 5:120], np.s_[:, 64:]):
        with pytest.raises(ValueError):
            z[sel]
