"""Hostile input (issue 9): one regression test per finding, numbered as in the issue.

Every test here failed (or crashed the interpreter) before the fixes: crafted metadata
and chunk files must give a clear exception -- or the right value -- never a crash, a
hang, memory exhaustion, uninitialised memory, a silent misread or lost data.
"""
from __future__ import annotations

import base64
import bz2
import gzip
import json
import lzma
import os
import resource
import struct
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import zlib

import numpy as np
import pytest

import chunkzip as cz
from chunkzip import config, pipeline
from chunkzip.codecs import BZ2, LZ4, LZMA, Blosc, GZip, Zlib, Zstd
from chunkzip.metadata import MetadataError
from chunkzip.pipeline import ChunkDecodeError
from chunkzip.storage import LocalStore, MemoryStore

# the folder holding the chunkzip under test (site-packages when installed, the source
# tree for an in-place build): subprocesses must import that same one
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(cz.__file__)))


def _both_paths(fn):
    """Run ``fn`` on the kernel read path and on the generic one."""
    for fast in (True, False):
        pipeline.FAST_READ = fast
        try:
            fn()
        finally:
            pipeline.FAST_READ = True


def _v2(store, doc, chunks=None):
    base = {"zarr_format": 2, "shape": [10], "chunks": [5], "dtype": "<i4", "compressor": None,
            "fill_value": 0, "order": "C", "filters": None}
    base.update(doc)
    store[".zarray"] = json.dumps(base).encode()
    for k, v in (chunks or {}).items():
        store[k] = v
    return store


def _v3(store, doc):
    base = {"zarr_format": 3, "node_type": "array", "shape": [10], "data_type": "int32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0, "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}
    base.update(doc)
    store["zarr.json"] = json.dumps(base).encode()
    return store


def _open_fails(store, match=None):
    with pytest.raises(MetadataError, match=match):
        cz.open_array(MemoryStore(store), mode="r")


# -- 1. heap overflow: a list fill value of a string dtype ----------------------------------
def test_1_list_fill_value_of_string_dtype():
    _open_fails(_v2({}, {"dtype": "<U3", "fill_value": ["abc"] * 5000}), "fill_value")
    _open_fails(_v3({}, {"data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 12}},
                         "fill_value": ["abc"] * 5000}), "fill_value")


# -- 2. chunk byte size wrapping to 0 in the kernel ------------------------------------------
def test_2_chunks_beyond_the_chunk_byte_limit():
    empty = Blosc().encode(b"")
    _open_fails(_v2({}, {"shape": [2**40], "chunks": [2**62]}, {"0": empty}), "chunks")
    _open_fails(_v3({}, {"shape": [2**40], "chunk_grid": {"name": "regular", "configuration":
                                                          {"chunk_shape": [2**62]}}}), "chunk_grid")
    from chunkzip._ext import _copy  # the kernel refuses a wrapping chunk shape by itself too

    out = np.zeros(1, "i4")
    with pytest.raises(ValueError, match="overflows"):
        _copy.read_product([None], False, 1, out, (2**62, 2**3), (4, 4), (4, 4), b"\0" * 4,
                           np.zeros((1, 2), np.int64), np.array([0, 1, 2], np.int64),
                           np.zeros(2, np.int64), np.zeros(2, np.int64), np.ones(2, np.uint8),
                           np.zeros(1, np.uint8), np.zeros(1, np.int64))


# -- 3. Blosc2 "uninit" special chunks --------------------------------------------------------
def _uninit_chunk(nbytes: int, typesize: int = 4) -> bytes:
    hdr = bytearray(32)
    hdr[0], hdr[1], hdr[2], hdr[3] = 5, 1, 0x05, typesize
    struct.pack_into("<iii", hdr, 4, nbytes, nbytes, 32)
    hdr[31] = 0x40  # BLOSC2_SPECIAL_UNINIT << 4
    return bytes(hdr)


def test_3_blosc2_uninit_chunk_is_not_data():
    with pytest.raises(ValueError, match="Blosc1"):
        Blosc().decode(_uninit_chunk(400))
    z = cz.zeros(200, chunks=100, dtype="i4", zarr_format=2)
    z[:] = 7
    z.store.set("0", _uninit_chunk(400))

    def read():
        with pytest.raises(ChunkDecodeError, match="Blosc1"):
            z[:]
        with pytest.raises(ChunkDecodeError):
            z[5]
    _both_paths(read)


# -- 4. one frame validator for the kernel and the codec --------------------------------------
def test_4_kernel_and_codec_agree_on_bad_headers():
    z = cz.array(np.arange(1000, dtype="i4"), chunks=1000, zarr_format=2,
                 compressor=Blosc("lz4", 5, Blosc.SHUFFLE, blocksize=1024))
    good = bytearray(z.store.get("0"))
    for pos, value in ((8, 8000), (8, 0), (12, len(good) + 1), (4, 3996)):  # blocksize, cbytes, nbytes
        bad = bytearray(good)
        struct.pack_into("<i", bad, pos, value)
        z.store.set("0", bytes(bad))
        with pytest.raises((ValueError, RuntimeError)):
            Blosc().decode(bytes(bad))

        def read():
            with pytest.raises(ChunkDecodeError):
                z[:]
        _both_paths(read)


def test_4_only_what_c_blosc_1_reads_is_a_blosc_chunk():
    """Frames c-blosc 1.x (numcodecs) refuses but c-blosc2 would decode -- format version
    1, a compressor format version other than 1, a stream of size 0 (a c-blosc2 run of
    zeros) -- are refused on both paths (found by tests/test_fuzz.py)."""
    numcodecs = pytest.importorskip("numcodecs")
    z = cz.array(np.arange(1024, dtype="i4"), chunks=1024, zarr_format=2,
                 compressor=Blosc("zstd", 3, Blosc.SHUFFLE, blocksize=1024))
    good = z.store.get("0")
    first_stream = struct.unpack_from("<i", good, 16)[0]
    for pos, value in ((0, 1), (1, 0), (1, 2), (first_stream, 0)):
        bad = bytearray(good)
        if pos == first_stream:
            struct.pack_into("<i", bad, pos, value)
        else:
            bad[pos] = value
        with pytest.raises(RuntimeError):
            numcodecs.blosc.decompress(bytes(bad))
        z.store.set("0", bytes(bad))

        def read():
            with pytest.raises(ChunkDecodeError):
                z[:]
        _both_paths(read)


# -- 5. decompression bombs --------------------------------------------------------------------
_MEMBER = 8 << 20  # 8 MiB of zeros per concatenated stream: 128 streams make a 1 GiB bomb


@pytest.fixture(scope="module")
def bombs():
    zeros = bytes(_MEMBER)
    zstd_member = Zstd(level=1).encode(zeros)
    zstd_member = _strip_zstd_content_size(zstd_member)
    return {
        "bz2": (BZ2(), bz2.compress(zeros, 9) * 128),
        "gzip": (GZip(), gzip.compress(zeros, 1, mtime=0) * 128),
        "lzma": (LZMA(), lzma.compress(zeros, preset=0) * 128),
        "zstd": (Zstd(), zstd_member * 128),
        "zlib": (Zlib(), zlib.compress(bytes(256 << 20), 1)),  # zlib: one stream (256 MiB)
    }


def _strip_zstd_content_size(frame: bytes) -> bytes:
    """The same frame without its content size (as streaming encoders write it)."""
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor(level=1, write_content_size=False).compress(bytes(_MEMBER))


@pytest.mark.parametrize("name", ["bz2", "gzip", "lzma", "zstd", "zlib"])
def test_5_decompression_bombs_stop_at_the_expected_size(bombs, name):
    codec, bomb = bombs[name]
    out = np.empty(4096, np.uint8)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError):
            codec.decode(bomb, out=out)
        z = cz.zeros(8192, chunks=4096, dtype="u1", zarr_format=2, compressor=codec)
        z.store.set("0", bomb)
        with pytest.raises(ChunkDecodeError):
            z[:]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20, peak


# -- 6. a read of a missing chunk allocates nothing chunk-sized -------------------------------
def test_6_missing_chunk_read_under_a_memory_limit(tmp_path):
    code = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {PKG_PARENT!r})
        import numpy as np, chunkzip as cz
        z = cz.open_array({str(tmp_path / "big")!r}, mode="w", shape=(2**30,), chunks=(2**27,),
                          dtype="u8", fill_value=42, zarr_format=2)
        vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + (400 << 20), resource.RLIM_INFINITY))
        assert z[5] == 42 and z[2**30 - 1] == 42
        assert (z[10:20] == 42).all()
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "ok", r.stderr[-2000:]


@pytest.mark.parametrize("fmt, key, compressor", [(2, "0", {"id": "zstd", "level": 1}),
                                                 (2, "0", {"id": "blosc", "cname": "lz4", "clevel": 5,
                                                           "shuffle": 1, "blocksize": 0}),
                                                 (3, "c/0", None)])
def test_7_huge_sparse_chunk_file_is_refused_unread(tmp_path, fmt, key, compressor):
    # a chunk file far larger than any valid chunk (1 TiB, sparse: no disk used) is an
    # error naming the key on every read path and on a partial write, never an allocation
    from chunkzip.codecs.registry import get_codec

    kw = {"compressor": get_codec(compressor) if compressor else None} if fmt == 2 else {}
    z = cz.open_array(str(tmp_path / "a"), mode="w", shape=(100,), chunks=(10,), dtype="i4",
                      zarr_format=fmt, **kw)
    z[:] = np.arange(100)
    with open(tmp_path / "a" / key, "r+b") as f:
        f.truncate(1 << 40)

    def read_fails():
        with pytest.raises(ValueError, match=key):
            z[:]
    _both_paths(read_fails)
    with pytest.raises(ValueError, match=key):
        z[3] = 1
    np.testing.assert_array_equal(z[10:], np.arange(10, 100))


# -- 7. special files in a directory store -----------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "mkfifo"), reason="POSIX only")
def test_7_special_files_in_a_directory_store(tmp_path):
    z = cz.open_array(str(tmp_path / "a"), mode="w", shape=(20,), chunks=(10,), dtype="i4", zarr_format=2)
    z[:] = 1
    chunk = tmp_path / "a" / "0"
    os.unlink(chunk)
    os.symlink("/dev/zero", chunk)

    def read_fails():
        with pytest.raises(OSError, match="regular file"):
            z[:]
    _both_paths(read_fails)
    os.unlink(chunk)
    os.mkfifo(chunk)
    result = []

    def read_fifo():
        try:
            z[:]
        except OSError as e:
            result.append(e)
    t = threading.Thread(target=read_fifo, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "a FIFO chunk hangs the read"
    assert result and "regular file" in str(result[0])
    os.unlink(chunk)
    # a symlinked directory inside the store must not let writes or deletions land
    # outside the root
    y = cz.open_array(str(tmp_path / "b"), mode="w", shape=(4, 4), chunks=(2, 2), dtype="i4",
                      zarr_format=3)
    y[:] = 1
    outside = tmp_path / "outside"
    os.rename(tmp_path / "b" / "c", outside)
    os.symlink(outside, tmp_path / "b" / "c")
    before = sorted(str(p.relative_to(outside)) for p in outside.rglob("*"))
    y2 = cz.open_array(str(tmp_path / "b"), mode="r+")
    with pytest.raises(PermissionError, match="outside the store root"):
        y2[:] = 2
    with pytest.raises(PermissionError, match="outside the store root"):
        y2.store.delete("c/0/0")
    y2.resize(0, 0)  # (chunk listings do not follow the link: nothing to delete there)
    assert sorted(str(p.relative_to(outside)) for p in outside.rglob("*")) == before
    assert {(outside / "0" / "0").read_bytes()} == {(outside / "1" / "1").read_bytes()}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_7_special_files_as_shards(tmp_path):
    """Shards are read with ranged reads: the same refusal of FIFOs and directories."""
    z = cz.create((8, 8), chunks=(2, 2), shards={"shape": (4, 4)}, dtype="i4", store=str(tmp_path / "s"),
                  zarr_format=3)
    z[:] = 3
    shard = tmp_path / "s" / "c" / "1" / "1"
    os.unlink(shard)
    os.mkfifo(shard)
    result = []

    def read():
        try:
            z[:]
        except OSError as e:
            result.append(e)
    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(30)
    assert not t.is_alive(), "a FIFO shard hangs the read"
    assert result and "regular file" in str(result[0])
    os.unlink(shard)
    os.mkdir(shard)
    with pytest.raises(IsADirectoryError):
        z[:]
    assert (z[:4, :4] == 3).all()


# -- 8. resize: a failure at any step leaves the old array readable -----------------------------
class _FailingStore(MemoryStore):
    fail_keys: tuple = ()

    def set(self, key, value):
        if key.endswith(self.fail_keys):
            raise OSError(28, "No space left on device (simulated)")
        super().set(key, value)

    def delete(self, key):
        if key.endswith(self.fail_keys):
            raise OSError(5, "Input/output error (simulated)")
        super().delete(key)


@pytest.mark.parametrize("fmt", [2, 3])
def test_8_resize_orders_its_steps(fmt):
    a = np.arange(100, dtype="i4")
    store = _FailingStore()
    z = cz.array(a, chunks=10, store=store, zarr_format=fmt)
    meta_key = ".zarray" if fmt == 2 else "zarr.json"
    store.fail_keys = (meta_key,)  # the metadata write fails (a full disk)
    with pytest.raises(OSError):
        z.resize(35)
    store.fail_keys = ()
    z2 = cz.open_array(store, mode="r")
    assert z2.shape == (100,)
    np.testing.assert_array_equal(z2[:35], a[:35])
    np.testing.assert_array_equal(z2[40:], a[40:])  # the chunks outside were not deleted
    # a corrupt edge chunk stops the resize before anything changed
    edge = "3" if fmt == 2 else "c/3"
    store.set(edge, b"garbage")
    with pytest.raises(ChunkDecodeError):
        z.resize(35)
    z3 = cz.open_array(store, mode="r")
    assert z3.shape == (100,)
    np.testing.assert_array_equal(z3[40:], a[40:])


# -- 9. attributes and temp files --------------------------------------------------------------
@pytest.mark.parametrize("fmt", [2, 3])
def test_9_failed_attribute_write_keeps_the_stored_attributes(fmt):
    store = _FailingStore()
    z = cz.zeros(10, store=store, zarr_format=fmt)
    z.attrs["a"] = 1
    store.fail_keys = (".zattrs", "zarr.json")
    with pytest.raises(OSError):
        z.attrs["b"] = 2
    with pytest.raises(OSError):
        del z.attrs["a"]
    assert z.attrs.asdict() == {"a": 1}
    store.fail_keys = ()
    assert cz.open_array(store, mode="r").attrs.asdict() == {"a": 1}


def test_9_temp_files_of_killed_writers_are_cleaned(tmp_path):
    root = tmp_path / "t"
    z = cz.open_array(str(root), mode="w", shape=(10,), chunks=(5,), dtype="i4", zarr_format=3)
    z[:] = 1
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = [root / f".cztmp-{dead}-1-1", root / "c" / f".cztmp-{dead}-1-2"]
    fresh_live = root / f".cztmp-{os.getpid()}-1-3"  # a live writer's file: kept
    for p in stale + [fresh_live]:
        p.write_bytes(b"partial")
        os.utime(p, (1, 1e9))
    os.utime(fresh_live, None)
    cz.open_array(str(root), mode="r+")  # open for writing: the array's own directory
    assert not stale[0].exists() and stale[1].exists() and fresh_live.exists()
    cz.open_array(str(root), mode="w", shape=(10,), chunks=(5,), dtype="i4")  # mode='w': everything stale
    assert not stale[1].exists() and fresh_live.exists()


# -- 10. silent misreads of bad metadata --------------------------------------------------------
@pytest.mark.parametrize("doc, field", [
    ({"codecs": [{"name": "bytes", "configuration": {"endian": "middle"}}]}, "codecs"),
    ({"data_type": "DELETE"}, "data_type"),
])
def test_10_v3_silent_misreads(doc, field):
    d = _v3({}, doc)
    raw = json.loads(d["zarr.json"])
    for k in [k for k, v in raw.items() if v == "DELETE"]:
        del raw[k]
    d["zarr.json"] = json.dumps(raw).encode()
    _open_fails(d, field)


@pytest.mark.parametrize("dtype, fill", [
    ("<U3", {"a": 1}), ("<U3", "abcdef"), ("|S4", "!!!!"), ("|S2", base64.b64encode(b"abc").decode()),
    ([["a", "<i4"], ["b", "<f8"]], base64.b64encode(b"\0" * 5).decode()), ("|b1", -7), ("|b1", "x"),
    ("<i4", 2**40), ("<i4", 1.5), ("<M8[s]", "soon"),
])
def test_10_fill_values_of_exactly_the_dtype(dtype, fill):
    _open_fails(_v2({}, {"dtype": dtype, "fill_value": fill}), "fill_value")


@pytest.mark.parametrize("doc, field", [
    ({"dtype": "<U0"}, "dtype"), ({"dtype": "|S0"}, "dtype"), ({"dtype": "(3,)|S1"}, "dtype"),
    ({"dtype": None}, "dtype"), ({"shape": [2**64], "chunks": [10]}, "shape"),
    ({"shape": [10], "chunks": [2**63]}, "chunks"),
    ({"compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 2**70}}, "compressor"),
])
def test_10_v2_bounds(doc, field):
    d = _v2({}, doc)
    if "dtype" in doc and doc["dtype"] is None:
        raw = json.loads(d[".zarray"])
        del raw["dtype"]
        d[".zarray"] = json.dumps(raw).encode()
    _open_fails(d, field)


def test_10_shapes_beyond_int64_and_zero_length_strings_on_create():
    z = cz.zeros((10, 10), chunks=5, dtype="i4")
    with pytest.raises(ValueError):
        z.resize(2**64, 10)
    assert z.shape == (10, 10)
    for dt in ("<U0", "|S0"):
        with pytest.raises(ValueError):
            cz.zeros(10, dtype=dt)
    # create() takes a sub-array dtype as zarr-python 2 does (issue 16): trailing dimensions
    # of the base dtype, so no stored metadata ever holds one (metadata that does is refused)
    z = cz.zeros(10, dtype="(3,)|S1")
    assert z.shape == (10, 3) and z.dtype == np.dtype("S1")


# -- 11. cryptic errors become MetadataError naming file and field -----------------------------
@pytest.mark.parametrize("doc, field", [
    ({"chunk_grid": ["regular"]}, "chunk_grid"),
    ({"chunk_grid": {"name": "regular", "configuration": "x"}}, "chunk_grid"),
    ({"chunk_key_encoding": "default"}, "chunk_key_encoding"),
    ({"chunk_key_encoding": {"name": "default", "configuration": [1]}}, "chunk_key_encoding"),
    ({"codecs": [{"name": "bytes", "configuration": [1]}]}, "codecs"),
    ({"codecs": [{"name": 5}]}, "codecs"),
    ({"codecs": [{"name": "bytes"}, {"name": "gzip", "configuration": "x"}]}, "codecs"),
    ({"codecs": [{"name": "transpose", "configuration": {"order": 5}}, {"name": "bytes"}]}, "codecs"),
    ({"data_type": {"name": "structured", "configuration": {"fields": [["a"]]}}}, "data_type"),
    ({"data_type": {"name": "structured", "configuration": {"fields": {"a": "int8"}}}}, "data_type"),
    ({"data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}}}, "data_type"),
    ({"attributes": [1, 2]}, "attributes"),
    ({"dimension_names": 5}, "dimension_names"),
    ({"dimension_names": ["x", "y"]}, "dimension_names"),
    ({"shape": [2**63]}, "shape"),
    ({"node_type": "banana"}, "node_type"),
])
def test_11_v3_errors_name_the_field(doc, field):
    _open_fails(_v3({}, doc), f"zarr.json: field '{field}'")


@pytest.mark.parametrize("doc, field", [
    ({"dtype": [["a"]]}, "dtype"), ({"dtype": {"a": 1}}, "dtype"), ({"compressor": "zstd"}, "compressor"),
    ({"compressor": {"id": 5}}, "compressor"), ({"filters": {"id": "delta"}}, "filters"),
    ({"chunks": [2**63]}, "chunks"),
])
def test_11_v2_errors_name_the_field(doc, field):
    _open_fails(_v2({}, doc), f".zarray: field '{field}'")


def test_11_deep_nesting_and_paths():
    store = {"zarr.json": b"[" * 100_000 + b"]" * 100_000}
    with pytest.raises(MetadataError, match="nested too deeply"):
        cz.open_array(MemoryStore(store), mode="r")
    nested: object = "<i4"
    for i in range(200):
        nested = [["f", nested]]
    _open_fails(_v2({}, {"dtype": nested}), "dtype")
    with pytest.raises(ValueError, match="segments"):
        cz.zeros(3, store=MemoryStore(), path="/".join(["a"] * 2000))


def test_11_missing_node_type_and_replacing_a_corrupt_zarr_json(tmp_path):
    doc = _v3({}, {})
    raw = json.loads(doc["zarr.json"])
    del raw["node_type"]
    with pytest.raises(MetadataError, match="node_type"):
        cz.open_array(MemoryStore({"zarr.json": json.dumps(raw).encode()}), mode="r")
    store = LocalStore(str(tmp_path / "c"))
    store.set("zarr.json", b"{not json")
    with pytest.raises(MetadataError):
        cz.open_array(store, mode="r")
    z = cz.open_array(store, mode="w", shape=(4,), dtype="i4")
    z[:] = 3
    assert (cz.open_array(store, mode="r")[:] == 3).all()


# -- 12. smaller ones ----------------------------------------------------------------------------
def test_12_a_chunk_that_is_a_directory_is_an_error(tmp_path):
    z = cz.open_array(str(tmp_path / "d"), mode="w", shape=(20,), chunks=(10,), dtype="i4", zarr_format=2)
    z[:] = 5
    os.unlink(tmp_path / "d" / "1")
    os.mkdir(tmp_path / "d" / "1")

    def read():
        with pytest.raises(IsADirectoryError):
            z[:]
    _both_paths(read)


def test_12_bytes_path_is_refused():
    with pytest.raises(TypeError, match="path must be a str"):
        cz.zeros(3, store=MemoryStore(), path=b"x")


def test_12_allow_pickle_block_is_scoped_to_the_calling_context():
    seen = {}
    inside = threading.Event()
    done = threading.Event()

    def other_thread():
        inside.wait(10)
        seen["other"] = config.get("allow_pickle")
        done.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with config.set(allow_pickle=True):
        seen["here"] = config.get("allow_pickle")
        inside.set()
        done.wait(10)
    t.join()
    assert seen == {"here": True, "other": False}
    assert config.get("allow_pickle") is False
    # chunkzip's own worker threads run in the caller's context
    from chunkzip.codecs import Pickle

    a = np.array([{"k": i} for i in range(64)], dtype=object)
    with config.set(allow_pickle=True, threads=2):
        z = cz.array(a, chunks=4, object_codec=Pickle(), zarr_format=2)
        pipeline_min = pipeline.PARALLEL_MIN_CHUNK_BYTES
        pipeline.PARALLEL_MIN_CHUNK_BYTES = 1  # use the pool even for these small chunks
        try:
            assert list(z[:]) == list(a)
        finally:
            pipeline.PARALLEL_MIN_CHUNK_BYTES = pipeline_min
    with pytest.raises(Exception):
        z[:]


# -- decoding into an ``out`` a codec cannot safely fill (from issue 16, bug 1) -----------------
_BYTES_CODECS = [Zstd(), LZ4(), Zlib(), GZip(), BZ2(), LZMA(), Blosc()]


@pytest.mark.parametrize("codec", _BYTES_CODECS, ids=lambda c: c.codec_id)
@pytest.mark.parametrize("kind", ["object", "object-memoryview", "small", "large", "read-only",
                                  "non-contiguous"])
def test_decode_into_an_unfit_out_is_refused(codec, kind):
    enc = codec.encode(np.arange(10))
    out = {"object": lambda: np.empty(10, object), "object-memoryview": lambda: memoryview(np.empty(10, object)),
           "small": lambda: np.empty(5), "large": lambda: np.empty(20),
           "read-only": lambda: np.frombuffer(bytes(80), np.float64),
           "non-contiguous": lambda: np.empty(20)[::2]}[kind]()
    with pytest.raises((ValueError, TypeError)):
        codec.decode(enc, out=out)
    del out  # (an object array filled with bytes crashed here)
    got = np.empty(10, np.int64)
    codec.decode(enc, out=got)
    np.testing.assert_array_equal(got, np.arange(10))
