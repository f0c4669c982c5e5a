"""Bad arguments, bad metadata, corrupt chunks, modes, read-only arrays and store safety."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chunkzip as cz
from chunkzip.storage import LocalStore, MemoryStore


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(shape=(-1, 5)), ValueError, "negative"),
    (dict(shape=(10,), chunks=0), ValueError, "positive"),
    (dict(shape=(10,), chunks=(2, 2)), ValueError, "more dimensions"),
    (dict(shape=(10,), dtype="not-a-dtype"), TypeError, "dtype"),
    (dict(shape=(10,), dtype="M8"), ValueError, "unit"),
    (dict(shape=(10,), order="X"), ValueError, "order"),
    (dict(shape=(10,), zarr_format=4), ValueError, "zarr_format"),
    (dict(shape=(10,), dtype=object), ValueError, "object codec"),
    (dict(shape=(10,), dimension_separator="-"), ValueError, "separator"),
    (dict(shape=(10,), dtype="i4", fill_value="abc"), ValueError, "fill_value"),
    (dict(shape=(10,), nonsense=1), TypeError, "nonsense"),
])
def test_bad_creation_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cz.create(**kwargs)


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        cz.open(MemoryStore(), mode="q", shape=3)


def test_index_errors():
    z = cz.zeros((5, 5), chunks=2)
    with pytest.raises(IndexError):
        z[5, 0]
    with pytest.raises(IndexError):
        z[0, 0, 0]
    with pytest.raises(IndexError):
        z[-6]
    with pytest.raises(ValueError):
        z[:, :] = np.ones((4, 4))
    before = z.nchunks_initialized
    with pytest.raises(IndexError):
        z[0, 10] = 1
    assert z.nchunks_initialized == before  # nothing written


def test_modes(tmp_path):
    p = str(tmp_path / "m.zarr")
    with pytest.raises(cz.ArrayNotFoundError):
        cz.open(p, mode="r")
    with pytest.raises(cz.ArrayNotFoundError):
        cz.open(p, mode="r+")
    z = cz.open(p, mode="w-", shape=4, dtype="i4")
    z[:] = 3
    with pytest.raises(cz.ContainsArrayError):
        cz.open(p, mode="w-", shape=4)
    with pytest.raises(cz.ContainsArrayError):
        cz.zeros(4, store=p)
    a = cz.open(p, mode="a")
    assert a[0] == 3
    rplus = cz.open(p, mode="r+")
    rplus[0] = 9
    w = cz.open(p, mode="w", shape=2, dtype="i4")
    assert w.shape == (2,) and w.nchunks_initialized == 0


def test_read_only_refuses_writes(tmp_path):
    p = str(tmp_path / "ro.zarr")
    cz.open(p, mode="w", shape=(4, 4), chunks=2)[:] = 1
    z = cz.open(p, mode="r")
    assert z.read_only
    for action in (lambda: z.__setitem__(0, 5), lambda: z.resize(2, 2), lambda: z.append(np.ones((1, 4))),
                   lambda: z.set_basic_selection(0, 1)):
        with pytest.raises(PermissionError, match="read-only"):
            action()
    np.testing.assert_array_equal(z[...], np.ones((4, 4)))


def _write_meta(store, key, doc):
    store.set(key, json.dumps(doc).encode() if not isinstance(doc, bytes) else doc)


V2 = {"zarr_format": 2, "shape": [10], "chunks": [5], "dtype": "<i4", "compressor": None,
      "fill_value": 0, "order": "C", "filters": None}
V3 = {"zarr_format": 3, "node_type": "array", "shape": [10], "data_type": "int32",
      "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}},
      "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
      "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}


@pytest.mark.parametrize("key,base,patch,field", [
    (".zarray", V2, b"{not json", "invalid JSON"),
    (".zarray", V2, {"shape": "ten"}, "shape"),
    (".zarray", V2, {"chunks": [5, 5]}, "chunks"),
    (".zarray", V2, {"chunks": [0]}, "chunks"),
    (".zarray", V2, {"dtype": "<q9"}, "dtype"),
    (".zarray", V2, {"compressor": {"id": "no-such-codec"}}, "compressor"),
    (".zarray", V2, {"filters": [{"id": "nope"}]}, "filters"),
    (".zarray", V2, {"order": "Z"}, "order"),
    (".zarray", V2, {"fill_value": "abc"}, "fill_value"),
    (".zarray", V2, {"zarr_format": 7}, "zarr_format"),
    ("zarr.json", V3, {"data_type": "int33"}, "data_type"),
    ("zarr.json", V3, {"codecs": [{"name": "bytes"}, {"name": "nope"}]}, "codecs"),
    ("zarr.json", V3, {"codecs": []}, "codecs"),
    ("zarr.json", V3, {"chunk_grid": {"name": "irregular"}}, "chunk_grid"),
    ("zarr.json", V3, {"fill_value": [1, 2]}, "fill_value"),
    ("zarr.json", V3, {"zarr_format": 3, "shape": [10, 10]}, "chunk_grid"),
])
def test_bad_metadata_names_file_and_field(key, base, patch, field):
    store = MemoryStore()
    doc = patch if isinstance(patch, bytes) else {**base, **patch}
    _write_meta(store, key, doc)
    with pytest.raises((cz.MetadataError, cz.ArrayNotFoundError)) as info:
        cz.open_array(store, mode="r")
    msg = str(info.value)
    assert field in msg
    if isinstance(info.value, cz.MetadataError):
        assert key in msg


@pytest.mark.parametrize("fmt", [2, 3])
def test_corrupt_or_wrong_size_chunk_raises_naming_the_key(fmt):
    store = MemoryStore()
    z = cz.zeros(10, chunks=5, dtype="i4", store=store, zarr_format=fmt)
    z[:] = 1
    key = "0" if fmt == 2 else "c/0"
    store.set(key, b"\x00" * 7)  # wrong size
    with pytest.raises(cz.ChunkDecodeError, match="expected|could not be decoded"):
        z[:]
    with pytest.raises(cz.ChunkDecodeError, match=repr(key).strip("'")):
        z[0]


def test_garbage_compressed_chunk_is_a_clear_error():
    from chunkzip.codecs import Zstd

    store = MemoryStore()
    z = cz.zeros(10, chunks=5, dtype="i4", store=store, compressor=Zstd(), zarr_format=2)
    z[:] = 1
    store.set("1", b"garbage-garbage-garbage")
    np.testing.assert_array_equal(z[:5], np.ones(5))
    with pytest.raises(cz.ChunkDecodeError, match="'1'"):
        z[5:]


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../../b", "a//b", "", "a\\b"])
def test_store_refuses_keys_leaving_root(tmp_path, key):
    store = LocalStore(str(tmp_path / "root"))
    with pytest.raises(ValueError):
        store.set(key, b"x")
    with pytest.raises(ValueError):
        store.get(key)


@pytest.mark.parametrize("path", ["../up", "/../x", "a/../../b"])
def test_path_argument_cannot_leave_store(tmp_path, path):
    with pytest.raises(ValueError):
        cz.zeros(3, store=str(tmp_path / "s"), path=path)


def test_local_store_writes_atomically_and_cleans_temp_files(tmp_path):
    store = LocalStore(str(tmp_path / "s"))
    store.set("a/b", b"old")
    # a failing write (a value that cannot be written) leaves the old value and no temp file
    with pytest.raises(TypeError):
        store.set("a/b", object())  # type: ignore[arg-type]
    assert store.get("a/b") == b"old"
    leftovers = [f for f in os.listdir(tmp_path / "s" / "a") if f != "b"]
    assert leftovers == []


def test_killed_writer_never_leaves_torn_chunks(tmp_path):
    """A process killed in the middle of writing big chunks leaves each chunk old or new."""
    p = str(tmp_path / "k.zarr")
    z = cz.open(p, mode="w", shape=(64, 256 * 256), chunks=(1, 256 * 256), dtype="i8", compressor=None)
    z[:] = 1
    script = textwrap.dedent(f"""
        import numpy as np, chunkzip as cz, os, signal, threading
        z = cz.open({p!r}, mode="r+")
        threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
        for _ in range(1000):
            z[:] = 2
            z[:] = 1
    """)
    subprocess.run([sys.executable, "-c", script], timeout=120)
    z = cz.open(p, mode="r")
    data = z[...]
    for row in data:  # every chunk is wholly old or wholly new
        assert len(np.unique(row)) == 1
    stray = [f for _, _, files in os.walk(p) for f in files if f.startswith(".cztmp-")]
    assert len(stray) <= 2  # at most the files being written at the moment of the kill
