"""Whole-chunk writes through ``_ext._write`` (chunkzip/chunk_writer.py) against NumPy,
the generic per-chunk path and zarr-python: random shapes, chunkings (edge chunks),
orders, formats and key separators (nested directories), dtypes, compressors,
selections mixing whole and partial chunks, broadcast and strided values."""
from __future__ import annotations

import os
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import chunk_writer
from chunkzip.codecs import Blosc
from chunkzip.storage import LocalStore

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
DTYPES = ["<i4", "u1", ">f8", "<c8", [("a", "<i2"), ("b", "u1")]]


@st.composite
def case(draw):
    ndim = draw(st.integers(1, 3))
    chunks = tuple(draw(st.integers(1, 7)) for _ in range(ndim))
    shape = tuple(draw(st.integers(1, 3 * c + 2)) for c in chunks)
    return dict(shape=shape, chunks=chunks, order=draw(st.sampled_from("CF")),
                fmt=draw(st.sampled_from([2, 3])), sep=draw(st.sampled_from([".", "/"])),
                dtype=draw(st.sampled_from(range(len(DTYPES)))),
                comp=draw(st.sampled_from(["lz4", "zstd-bit", "none"])), seed=draw(st.integers(0, 2**31)))


def make(c, path):
    dt = np.dtype(DTYPES[c["dtype"]])
    comp = {"lz4": Blosc("lz4", 5, 1), "zstd-bit": Blosc("zstd", 3, 2), "none": None}[c["comp"]]
    kw = dict(zarr_format=2, compressor=comp, dimension_separator=c["sep"]) if c["fmt"] == 2 else \
        dict(zarr_format=3, compressors=[comp] if comp else None)
    fill = None if dt.names else np.zeros((), dt)[()] + 5
    return cz.create(shape=c["shape"], chunks=c["chunks"], dtype=dt, store=LocalStore(path),
                     order=c["order"], fill_value=fill, **kw)


def rand(shape, dt, rng):
    raw = rng.integers(0, 250, int(np.prod(shape, dtype=np.int64)) * dt.itemsize, dtype=np.uint8)
    return np.frombuffer(raw.tobytes(), dt).reshape(shape).copy()


@SETTINGS
@given(c=case(), data=st.data())
def test_writes_match_numpy(c, data, tmp_path):
    rng = np.random.default_rng(c["seed"])
    path = str(tmp_path / uuid.uuid4().hex)
    z = make(c, path)
    dt = z.dtype
    a = np.full(c["shape"], z.fill_value if z.fill_value is not None else np.zeros((), dt)[()], dt)
    full = rand(c["shape"], dt, rng)
    if data.draw(st.booleans()):  # a strided / reversed view as the value
        big = rand(tuple(2 * n for n in c["shape"]), dt, rng)
        full = big[tuple(slice(None, None, 2) for _ in c["shape"])][::-1]
    z[...] = full
    a[...] = full
    sel = tuple(slice(data.draw(st.integers(0, n)), data.draw(st.integers(0, n))) for n in c["shape"])
    part = rand(a[sel].shape, dt, rng)
    z[sel] = part
    a[sel] = part
    i = data.draw(st.integers(0, c["shape"][0] - 1))
    z[i] = a[i] = rand(a[i].shape, dt, rng)[()]  # a dropped axis (whole chunks when chunks[0] == 1)
    if dt.names is None:
        z[..., :1] = np.asarray(a[..., :1][(0,) * (len(c["shape"]) - 1)])  # a broadcast value
        a[..., :1] = a[..., :1][(0,) * (len(c["shape"]) - 1)]
    np.testing.assert_array_equal(cz.open(path, mode="r")[...], a)
    left = [n for _, _, files in os.walk(path) for n in files if n.startswith(".cztmp")]
    assert not left


@pytest.mark.parametrize("fmt", [2, 3])
def test_same_files_as_generic_path(tmp_path, monkeypatch, fmt):
    a = np.arange(37 * 23, dtype="<i4").reshape(37, 23) % 97
    kw = dict(zarr_format=fmt, chunks=(8, 5), dtype="i4")
    from chunkzip._ext import _write

    calls = []
    monkeypatch.setattr(_write, "write_chunks", lambda *args, f=_write.write_chunks: calls.append(1) or f(*args))
    z1 = cz.open(str(tmp_path / "k"), mode="w", shape=a.shape, **kw)
    z1[...] = a
    assert calls  # the kernel wrote them
    monkeypatch.setattr(chunk_writer, "write_whole_chunks", lambda *args: None)
    z2 = cz.open(str(tmp_path / "g"), mode="w", shape=a.shape, **kw)
    z2[...] = a
    for key in z2._pipeline.chunk_keys():
        assert z1.store.get(key) == z2.store.get(key), key


def test_zarr_python_reads(tmp_path):
    zarr = pytest.importorskip("zarr")
    a = np.arange(100 * 30, dtype="<f8").reshape(100, 30)
    for fmt in (2, 3):
        path = str(tmp_path / f"z{fmt}")
        z = cz.open(path, mode="w", shape=a.shape, chunks=(7, 8), dtype="f8", zarr_format=fmt)
        z[...] = a
        np.testing.assert_array_equal(zarr.open_array(path, mode="r")[...], a)


def test_falls_back_on_leftover_temp_file(tmp_path, monkeypatch):
    # a leftover temporary file with the kernel's name: that chunk goes the generic way
    store = LocalStore(str(tmp_path / "a"))
    z = cz.open(store, mode="w", shape=(40,), chunks=(10,), dtype="i2", zarr_format=2)
    monkeypatch.setattr(store, "write_targets", lambda keys, f=store.write_targets: (f(keys)[0], b"T"))
    open(os.path.join(store.root, ".cztmp-T-2"), "wb").close()
    z[...] = np.arange(40, dtype="i2")
    np.testing.assert_array_equal(z[...], np.arange(40))
    assert sorted(store.list_prefix("")) == [".zarray", "0", "1", "2", "3"]


def test_missing_directory_and_read_only(tmp_path):
    path = str(tmp_path / "a")
    z = cz.open(path, mode="w", shape=(6, 6), chunks=(3, 3), dtype="u1", zarr_format=3)
    z[...] = 1
    import shutil

    shutil.rmtree(os.path.join(path, "c"))  # behind the store's back: made again
    z[...] = np.arange(36, dtype="u1").reshape(6, 6)
    np.testing.assert_array_equal(z[...], np.arange(36).reshape(6, 6))
    r = cz.open(path, mode="r")
    with pytest.raises(PermissionError):
        r[...] = 0
    np.testing.assert_array_equal(cz.open(path, mode="r")[...], np.arange(36).reshape(6, 6))


def test_synchronizer_and_empty_chunks_use_generic_path(tmp_path):
    z = cz.open(str(tmp_path / "a"), mode="w", shape=(20,), chunks=(5,), dtype="i4", zarr_format=2,
                write_empty_chunks=False, fill_value=0)
    v = np.zeros(20, "i4")
    v[7] = 3
    z[...] = v
    assert sorted(z.store.list_prefix("")) == [".zarray", "1"]
    s = cz.open(str(tmp_path / "b"), mode="w", shape=(20,), chunks=(5,), dtype="i4", zarr_format=2,
                synchronizer=cz.ThreadSynchronizer())
    s[...] = v
    np.testing.assert_array_equal(s[...], v)
