"""The C library (libchunkzip.so, chunkzip.h) and its Cython API, tested from the outside.

The package is installed into a temporary target (``pip install --no-deps --target``, C
library only, to keep the build short) and a test driver (tests/capi/cz_check.c) and the
example (examples/c) are compiled with ``cc`` against that installed copy.  Values are
checked both ways against NumPy, zarr-python and chunkzip; bad inputs must give an error
code and a message.  One run of the driver's whole repertoire happens under
AddressSanitizer (leaks included).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chunkzip

zarr = pytest.importorskip("zarr")
numcodecs = pytest.importorskip("numcodecs")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CC = shutil.which("cc") or shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="no C compiler")

LIB_SOURCES = ["cz_error", "cz_blosc", "cz_codecs", "cz_metadata", "cz_array", "cz_io", "ndcopy", "json",
               "blosc1", "blosclz_enc", "shuffle", "checksum"]


def _blosc2_dirs() -> tuple[str, str]:
    import blosc2

    root = os.path.dirname(blosc2.__file__)
    return os.path.join(root, "include"), os.path.join(root, "lib")


# ---------------------------------------------------------------------------------------------
# the installed copy and the programs compiled against it


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """Install chunkzip (C library, headers, pxd) into a temporary target; return its paths."""
    base = tmp_path_factory.mktemp("capi")
    src = base / "src"
    ignore = shutil.ignore_patterns("*.so", "*.o", "build", "*.egg-info", "__pycache__", ".git",
                                    "lib", "include", ".hypothesis", ".benchmarks", "*.c~")
    src.mkdir()
    for name in ("csrc", "chunkzip", "examples"):
        shutil.copytree(os.path.join(ROOT, name), src / name, ignore=ignore)
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    target = base / "site"
    env = dict(os.environ, CHUNKZIP_BUILD_ONLY="libchunkzip")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-q", "--target", str(target), str(src)],
        env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # get_include()/get_library_dir() of the installed copy (its package cannot be imported
    # here: the Python extensions were left out of this build)
    spec = importlib.util.spec_from_file_location("installed_clib", target / "chunkzip" / "clib.py")
    clib = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clib)
    return {"target": str(target), "include": clib.get_include(), "libdir": clib.get_library_dir(),
            "base": base}


def _cc(installed, sources, out, extra=()):
    inc, lib = installed["include"], installed["libdir"]
    cmd = [CC, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", *sources, "-o", str(out), f"-I{inc}",
           f"-L{lib}", "-lchunkzip", f"-Wl,-rpath,{lib}", "-pthread", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, " ".join(cmd) + "\n" + proc.stderr
    return str(out)


@pytest.fixture(scope="session")
def cz_check(installed):
    return _cc(installed, [os.path.join(ROOT, "tests", "capi", "cz_check.c")],
               installed["base"] / "cz_check")


def run(prog, *args, ok=True):
    proc = subprocess.run([prog, *map(str, args)], capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def c_read(prog, path, start, stop, dtype, tmp_path, mode="r"):
    out = tmp_path / "box.bin"
    run(prog, "read", path, mode, out, _box(start), _box(stop))
    shape = tuple(b - a for a, b in zip(start, stop))
    return np.fromfile(out, dtype=np.dtype(dtype).newbyteorder("=")).reshape(shape)


def c_write(prog, path, start, data, tmp_path):
    inp = tmp_path / "in.bin"
    np.ascontiguousarray(data).astype(data.dtype.newbyteorder("=")).tofile(inp)
    stop = [a + n for a, n in zip(start, data.shape)]
    run(prog, "write", path, "r+", inp, _box(start), _box(stop))


def c_error(prog, *args):
    proc = run(prog, *args, ok=False)
    assert proc.returncode == 3, proc.stderr + proc.stdout
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith("ERROR "), line
    code, msg = line[6:].split(": ", 1)
    assert msg, "an empty error message"
    return int(code), msg


def _box(v):
    return ",".join(map(str, v)) if len(v) else "-"


def _random_box(rng, shape):
    start = [int(rng.integers(0, n)) if n else 0 for n in shape]
    stop = [int(rng.integers(a + 1, n + 1)) if n else 0 for a, n in zip(start, shape)]
    return start, stop


# C error codes (chunkzip.h)
EINVAL, ENOTFOUND, EMETADATA, EUNSUPPORTED, EBOUNDS, EREADONLY, ECORRUPT = -1, -2, -3, -4, -5, -6, -7


# ---------------------------------------------------------------------------------------------
# installation


def test_installed_layout(installed):
    inc, lib = installed["include"], installed["libdir"]
    assert os.path.isfile(os.path.join(inc, "chunkzip.h"))
    for h in ("blosc1.h", "shuffle.h", "checksum.h"):
        assert os.path.isfile(os.path.join(inc, "chunkzip", h))
    assert os.path.isfile(os.path.join(installed["target"], "chunkzip", "_ext", "libchunkzip.pxd"))
    assert lib.startswith(installed["target"])
    dyn = subprocess.run(["readelf", "-d", os.path.join(lib, "libchunkzip.so")], capture_output=True,
                         text=True)
    if dyn.returncode == 0:
        assert "$ORIGIN/../../blosc2/lib" in dyn.stdout
        assert "libblosc2.so" in dyn.stdout


def test_in_tree_paths():
    try:
        inc, lib = chunkzip.get_include(), chunkzip.get_library_dir()
    except FileNotFoundError as exc:
        pytest.skip(f"C library not built in place: {exc}")
    assert os.path.isfile(os.path.join(inc, "chunkzip.h"))
    assert os.path.isfile(os.path.join(lib, "libchunkzip.so"))


def test_misuse_gives_codes_and_messages(cz_check):
    out = run(cz_check, "misuse").stdout.split()
    assert out == [chunkzip.__version__, "0"]


# ---------------------------------------------------------------------------------------------
# Python writes, C reads; C writes, Python reads

V3_COMPRESSORS = {
    "none": lambda: None,
    "blosc-lz4": lambda: zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),
    "blosc-zstd-bit": lambda: zarr.codecs.BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"),
    "zstd": lambda: zarr.codecs.ZstdCodec(level=3, checksum=True),
    "gzip": lambda: zarr.codecs.GzipCodec(level=4),
    "crc32c": lambda: zarr.codecs.Crc32cCodec(),
    "zlib": lambda: numcodecs.zarr3.Zlib(level=2),
    "lz4": lambda: numcodecs.zarr3.LZ4(),
}
V2_COMPRESSORS = {
    "none": lambda: None,
    "blosc-lz4": lambda: numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
    "blosc-auto": lambda: numcodecs.Blosc(cname="blosclz", clevel=9, shuffle=-1),
    "zstd": lambda: numcodecs.Zstd(level=1),
    "gzip": lambda: numcodecs.GZip(level=6),
    "zlib": lambda: numcodecs.Zlib(level=1),
    "lz4": lambda: numcodecs.LZ4(),
}
DTYPES = ["<i4", "<f8", "|u1", "|b1", "<i2", "<u8", "<c8", "<f2"]


def _values(rng, shape, dtype):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -1000), min(info.max, 100000), shape).astype(dt)


def _fill(dtype):
    return {"b": True, "c": 1 + 2j, "f": -2.5}.get(np.dtype(dtype).kind, 7)


def _zarr_array(path, fmt, codec, shape, chunks, dtype, **kw):
    if fmt == 3 and codec in ("zlib", "lz4"):
        pytest.importorskip("numcodecs.zarr3")
    comps = (V3_COMPRESSORS if fmt == 3 else V2_COMPRESSORS)[codec]()
    return zarr.create_array(path, shape=shape, chunks=chunks, dtype=dtype, compressors=comps,
                             fill_value=kw.pop("fill_value", _fill(dtype)), zarr_format=fmt, **kw)


CASES = [(3, c, d) for c, d in zip(V3_COMPRESSORS, DTYPES)] + \
        [(2, c, d) for c, d in zip(V2_COMPRESSORS, reversed(DTYPES))] + \
        [(3, "blosc-lz4", d) for d in ("<u8", "|b1", "<c8", "<f2")] + [(2, "blosc-lz4", "<f4")]


@pytest.mark.parametrize("fmt,codec,dtype", CASES, ids=[f"v{f}-{c}-{d}" for f, c, d in CASES])
def test_both_ways_with_zarr_python(cz_check, tmp_path, fmt, codec, dtype):
    rng = np.random.default_rng(abs(hash((fmt, codec, dtype))) % 2**32)
    shape, chunks = (23, 31), (6, 8)  # edge chunks on both axes
    path = str(tmp_path / "a.zarr")
    z = _zarr_array(path, fmt, codec, shape, chunks, dtype)
    expect = np.full(shape, _fill(dtype), dtype=dtype)
    data = _values(rng, shape, dtype)
    expect[:15] = data[:15]
    z[:15] = data[:15]  # the chunks below row 18 stay missing (fill value)
    for _ in range(3):
        start, stop = _random_box(rng, shape)
        got = c_read(cz_check, path, start, stop, dtype, tmp_path)
        np.testing.assert_array_equal(got, expect[tuple(slice(a, b) for a, b in zip(start, stop))])
    for _ in range(2):  # unaligned boxes, into missing chunks and over edges
        start, stop = _random_box(rng, shape)
        box = _values(rng, [b - a for a, b in zip(start, stop)], dtype)
        c_write(cz_check, path, start, box, tmp_path)
        expect[tuple(slice(a, b) for a, b in zip(start, stop))] = box
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], expect)
    np.testing.assert_array_equal(c_read(cz_check, path, (0, 0), shape, dtype, tmp_path), expect)
    if not (fmt == 3 and codec in ("zlib", "lz4", "crc32c")):  # chunkzip names those differently
        np.testing.assert_array_equal(chunkzip.open(path, mode="r")[:], expect)


@pytest.mark.parametrize("fmt", [2, 3])
def test_chunkzip_written_arrays(cz_check, tmp_path, fmt):
    rng = np.random.default_rng(fmt)
    x = rng.integers(-5000, 5000, (3, 17, 12)).astype("<i4")
    path = str(tmp_path / "c.zarr")
    z = chunkzip.array(x, chunks=(2, 5, 7), store=path, zarr_format=fmt)
    info = run(cz_check, "info", path).stdout.split()
    assert info == ["3", "<i4", "4", "3", "17", "12", "|", "2", "5", "7"]
    np.testing.assert_array_equal(c_read(cz_check, path, (1, 3, 2), (3, 16, 12), "<i4", tmp_path),
                                  x[1:3, 3:16, 2:12])
    y = rng.integers(-5000, 5000, (2, 9, 5)).astype("<i4")
    c_write(cz_check, path, (0, 8, 7), y, tmp_path)
    x[0:2, 8:17, 7:12] = y
    np.testing.assert_array_equal(chunkzip.open(path, mode="r")[:], x)
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], x)
    del z


def test_orders_endianness_and_key_encodings(cz_check, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 10, 11))
    layouts = [
        dict(zarr_format=2, order="F", dtype="<f8"),
        dict(zarr_format=2, dtype=">f8", chunk_key_encoding={"name": "v2", "separator": "/"}),
        dict(zarr_format=3, dtype="f8", chunk_key_encoding={"name": "v2", "separator": "."}),
        dict(zarr_format=3, dtype="f8", chunk_key_encoding={"name": "default", "separator": "."},
             serializer=zarr.codecs.BytesCodec(endian="big"),
             filters=[zarr.codecs.TransposeCodec(order=(2, 0, 1))]),
    ]
    for i, kw in enumerate(layouts):
        path = str(tmp_path / f"l{i}.zarr")
        fmt = kw.pop("zarr_format")
        order = kw.pop("order", None)
        if order:
            kw["config"] = {"order": order}
        z = zarr.create_array(path, shape=x.shape, chunks=(4, 3, 5), fill_value=0.0, zarr_format=fmt, **kw)
        z[:] = x
        np.testing.assert_array_equal(c_read(cz_check, path, (1, 2, 3), (9, 10, 11), "<f8", tmp_path),
                                      x[1:, 2:, 3:], err_msg=str(kw))
        y = rng.standard_normal((5, 6, 7))
        c_write(cz_check, path, (2, 1, 4), y, tmp_path)
        x2 = x.copy()
        x2[2:7, 1:7, 4:11] = y
        np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], x2, err_msg=str(kw))


def test_fill_values_and_scalars(cz_check, tmp_path):
    for fmt in (2, 3):
        path = str(tmp_path / f"nan{fmt}.zarr")
        zarr.create_array(path, shape=(5, 4), chunks=(2, 2), dtype="f4", fill_value=np.nan, zarr_format=fmt)
        assert np.isnan(c_read(cz_check, path, (0, 0), (5, 4), "<f4", tmp_path)).all()
        path = str(tmp_path / f"big{fmt}.zarr")
        zarr.create_array(path, shape=(3,), chunks=(2,), dtype="u8", fill_value=2**64 - 2, zarr_format=fmt)
        assert (c_read(cz_check, path, (0,), (3,), "<u8", tmp_path) == 2**64 - 2).all()
        path = str(tmp_path / f"s{fmt}.zarr")
        z = zarr.create_array(path, shape=(), dtype="i8", fill_value=-3, zarr_format=fmt)
        assert c_read(cz_check, path, (), (), "<i8", tmp_path) == -3
        c_write(cz_check, path, (), np.array(123456789012, "<i8"), tmp_path)
        assert z[()] == 123456789012
        assert chunkzip.open(path, mode="r")[()] == 123456789012


SHARDINGS = [
    dict(shards=(8, 12), chunks=(4, 4), compressors=zarr.codecs.BloscCodec(cname="lz4"), dtype="i4"),
    dict(shards=(6, 6), chunks=(3, 2), compressors=zarr.codecs.ZstdCodec(level=0), dtype="f8"),
    dict(shards=(10, 8), chunks=(5, 4), compressors=None, dtype="u2"),
]


@pytest.mark.parametrize("kw", SHARDINGS, ids=["blosc", "zstd", "raw"])
def test_sharding_both_ways(cz_check, tmp_path, kw):
    rng = np.random.default_rng(len(kw["shards"]) + kw["shards"][0])
    shape = (21, 25)
    path = str(tmp_path / "s.zarr")
    z = zarr.create_array(path, shape=shape, fill_value=3, **kw)
    x = np.full(shape, 3, kw["dtype"])
    x[:, :13] = _values(rng, (21, 13), kw["dtype"])
    z[:, :13] = x[:, :13]
    info = run(cz_check, "info", path).stdout.split()
    assert info[-2:] == list(map(str, kw["shards"]))
    for _ in range(3):
        start, stop = _random_box(rng, shape)
        np.testing.assert_array_equal(c_read(cz_check, path, start, stop, kw["dtype"], tmp_path),
                                      x[start[0]:stop[0], start[1]:stop[1]])
    for start in ((1, 9), (14, 17)):
        y = _values(rng, (6, 7), kw["dtype"])
        c_write(cz_check, path, start, y, tmp_path)
        x[start[0]:start[0] + 6, start[1]:start[1] + 7] = y
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], x)


def test_sharding_index_at_start_and_nested_codecs(cz_check, tmp_path):
    path = str(tmp_path / "start.zarr")
    sharding = zarr.codecs.ShardingCodec(
        chunk_shape=(2, 3), index_location="start",
        codecs=[zarr.codecs.TransposeCodec(order=(1, 0)), zarr.codecs.BytesCodec(),
                zarr.codecs.GzipCodec(level=1), zarr.codecs.Crc32cCodec()])
    z = zarr.create_array(path, shape=(9, 10), chunks=(4, 6), serializer=sharding, dtype="i8",
                          fill_value=0, compressors=None)
    x = np.arange(90, dtype="i8").reshape(9, 10) - 40
    z[:] = x
    np.testing.assert_array_equal(c_read(cz_check, path, (1, 1), (9, 10), "<i8", tmp_path), x[1:, 1:])
    c_write(cz_check, path, (3, 2), np.full((4, 5), 77, "<i8"), tmp_path)
    x[3:7, 2:7] = 77
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], x)
    # a shard whose inner chunks all become the fill value is deleted
    c_write(cz_check, path, (0, 0), np.zeros((4, 6), "<i8"), tmp_path)
    assert not os.path.exists(os.path.join(path, "c", "0", "0"))
    x[:4, :6] = 0
    np.testing.assert_array_equal(zarr.open_array(path, mode="r")[:], x)


def test_concurrent_reads(cz_check, tmp_path):
    path = str(tmp_path / "t.zarr")
    x = np.random.default_rng(1).integers(0, 9, (64, 64)).astype("i4")
    zarr.create_array(path, shape=x.shape, chunks=(8, 8), shards=(16, 16), dtype="i4")[:] = x
    assert run(cz_check, "threads", path, 8, 5).stdout.strip() == "same"


# ---------------------------------------------------------------------------------------------
# Blosc frames


@pytest.mark.parametrize("cname,shuffle,typesize", [("lz4", 1, 4), ("zstd", 2, 8), ("blosclz", 0, 1),
                                                     ("zlib", 1, 2), ("lz4hc", 2, 4)])
def test_blosc_frames_match_python_and_numcodecs(cz_check, tmp_path, cname, shuffle, typesize):
    from chunkzip._ext import _blosc

    data = (np.arange(50000, dtype="<u8") * 2654435761 % 1000).astype(f"<u{typesize}").tobytes()
    (tmp_path / "raw").write_bytes(data)
    run(cz_check, "bcompress", tmp_path / "raw", tmp_path / "frame", typesize, cname, 5, shuffle, 0)
    frame = (tmp_path / "frame").read_bytes()
    assert frame == _blosc.compress(data, typesize, clevel=5, shuffle=shuffle, cname=cname)
    assert numcodecs.blosc.decompress(frame) == data
    theirs = numcodecs.Blosc(cname=cname, clevel=5, shuffle=shuffle).encode(data)
    (tmp_path / "theirs").write_bytes(theirs)
    run(cz_check, "bdecompress", tmp_path / "theirs", tmp_path / "back", len(data))
    assert (tmp_path / "back").read_bytes() == data
    code, msg = c_error(cz_check, "bdecompress", tmp_path / "theirs", tmp_path / "back", len(data) - 1)
    assert code == -10 and "destination" in msg


# ---------------------------------------------------------------------------------------------
# bad inputs


@pytest.fixture
def good_v3(tmp_path):
    path = str(tmp_path / "g.zarr")
    z = zarr.create_array(path, shape=(10, 10), chunks=(5, 5), dtype="i4",
                          compressors=zarr.codecs.BloscCodec(cname="lz4"))
    z[:] = np.arange(100, dtype="i4").reshape(10, 10)
    return path


def test_corrupt_chunks(cz_check, tmp_path, good_v3):
    chunk = os.path.join(good_v3, "c", "0", "1")
    frame = bytearray(open(chunk, "rb").read())
    with open(chunk, "wb") as f:  # truncated
        f.write(frame[:len(frame) // 2])
    code, msg = c_error(cz_check, "read", good_v3, "r", tmp_path / "o", "0,0", "10,10")
    assert code == ECORRUPT and "truncated" in msg and "c/0/1" in msg
    lying = bytearray(frame)
    lying[4:8] = (5 * 5 * 4 * 2).to_bytes(4, "little")  # claims twice the chunk's bytes
    with open(chunk, "wb") as f:
        f.write(lying)
    code, msg = c_error(cz_check, "read", good_v3, "r", tmp_path / "o", "0,5", "5,10")
    assert code == ECORRUPT
    lying = bytearray(frame)
    lying[12:16] = (len(frame) + 100).to_bytes(4, "little")  # claims more bytes than the file has
    with open(chunk, "wb") as f:
        f.write(lying)
    code, msg = c_error(cz_check, "read", good_v3, "r", tmp_path / "o", "0,5", "5,10")
    assert code == ECORRUPT and "truncated" in msg
    with open(chunk, "wb") as f:  # garbage
        f.write(b"\x02\x01" + bytes(range(200)))
    code, _ = c_error(cz_check, "read", good_v3, "r", tmp_path / "o", "0,5", "5,10")
    assert code == ECORRUPT
    # a write over the corrupt chunk's partial box fails too, and leaves the file alone
    before = open(chunk, "rb").read()
    np.zeros((2, 2), "<i4").tofile(tmp_path / "in")
    code, _ = c_error(cz_check, "write", good_v3, "r+", tmp_path / "in", "0,5", "2,7")
    assert code == ECORRUPT and open(chunk, "rb").read() == before
    # other chunks still read
    np.testing.assert_array_equal(c_read(cz_check, good_v3, (5, 0), (10, 10), "<i4", tmp_path),
                                  np.arange(50, 100).reshape(5, 10))


def test_bad_checksums_and_shard_indexes(cz_check, tmp_path):
    path = str(tmp_path / "crc.zarr")
    zarr.create_array(path, shape=(4,), chunks=(4,), dtype="i4", compressors=zarr.codecs.Crc32cCodec())[:] = 1
    chunk = os.path.join(path, "c", "0")
    data = bytearray(open(chunk, "rb").read())
    data[0] ^= 1
    open(chunk, "wb").write(data)
    code, msg = c_error(cz_check, "read", path, "r", tmp_path / "o", "0", "4")
    assert code == ECORRUPT and "crc32c" in msg
    path = str(tmp_path / "sh.zarr")
    zarr.create_array(path, shape=(4,), chunks=(2,), shards=(4,), dtype="i4", compressors=None)[:] = 5
    shard = os.path.join(path, "c", "0")
    data = bytearray(open(shard, "rb").read())
    index_at = len(data) - 2 * 16 - 4
    body = data[:index_at]
    index = bytearray(data[index_at:index_at + 32])
    index[16:24] = (1000).to_bytes(8, "little")  # second inner chunk starts past the end
    crc = bytes(numcodecs.CRC32C().encode(np.frombuffer(bytes(index), "u1"))[-4:])
    open(shard, "wb").write(bytes(body) + bytes(index) + crc)
    code, msg = c_error(cz_check, "read", path, "r", tmp_path / "o", "0", "4")
    assert code == ECORRUPT and "outside the shard" in msg
    open(shard, "wb").write(bytes(data[:10]))  # shorter than its index
    code, msg = c_error(cz_check, "read", path, "r", tmp_path / "o", "0", "4")
    assert code == ECORRUPT and "index" in msg


def test_out_of_bounds_and_read_only(cz_check, tmp_path, good_v3):
    for start, stop in (("0,0", "11,10"), ("-1,0", "2,2"), ("5,5", "4,6")):
        code, msg = c_error(cz_check, "read", good_v3, "r", tmp_path / "o", start, stop)
        assert code == EBOUNDS and "outside" in msg
    np.zeros((2, 2), "<i4").tofile(tmp_path / "in")
    code, msg = c_error(cz_check, "write", good_v3, "r", tmp_path / "in", "0,0", "2,2")
    assert code == EREADONLY and "read-only" in msg
    np.testing.assert_array_equal(zarr.open_array(good_v3, mode="r")[:2, :2], [[0, 1], [10, 11]])


def test_unsupported_and_missing(cz_check, tmp_path):
    code, msg = c_error(cz_check, "info", tmp_path / "nothing")
    assert code == ENOTFOUND and "no array" in msg
    path = str(tmp_path / "bz2.zarr")
    zarr.create_array(path, shape=(4,), chunks=(2,), dtype="i4", compressors=numcodecs.BZ2(), zarr_format=2)
    code, msg = c_error(cz_check, "info", path)
    assert code == EUNSUPPORTED and "bz2" in msg
    path = str(tmp_path / "delta.zarr")
    zarr.create_array(path, shape=(4,), chunks=(2,), dtype="i4", filters=[numcodecs.Delta("i4")], zarr_format=2)
    code, msg = c_error(cz_check, "info", path)
    assert code == EUNSUPPORTED and "delta" in msg
    path = str(tmp_path / "str.zarr")
    zarr.create_array(path, shape=(4,), chunks=(2,), dtype=str, zarr_format=3)
    code, msg = c_error(cz_check, "info", path)
    assert code == EUNSUPPORTED
    path = str(tmp_path / "grp.zarr")
    zarr.open_group(path, mode="w", zarr_format=3)
    code, msg = c_error(cz_check, "info", path)
    assert code == ENOTFOUND and "group" in msg


MALFORMED = [
    ('{"zarr_format": 3, "node_type": "array", "shape": [4', "malformed JSON"),
    ('{"zarr_format": 3, "node_type": "array", "shape": "4"}', "shape"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [0]}}}', "chunk_shape"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int33"}', "int33"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}, "fill_value": 1.5, '
     '"codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}', "fill_value"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}, "fill_value": 0, '
     '"codecs": [{"name": "gzip", "configuration": {"level": 1}}]}', "gzip"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}, "fill_value": 0, '
     '"codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "bitround"}]}',
     "bitround"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2000000000]}}, "fill_value": 0,'
     ' "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}]}', "too large"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32", '
     '"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4]}}, "fill_value": 0,'
     ' "codecs": [{"name": "sharding_indexed", "configuration": {"chunk_shape": [3], "codecs": '
     '[{"name": "bytes", "configuration": {"endian": "little"}}], "index_codecs": []}}]}', "multiple"),
    ("[" * 200 + "]" * 200, "deep"),
    ('{"zarr_format": 3, "node_type": "array", "shape": [4], "data_type": "int32"}\x00', "trailing"),
]


@pytest.mark.parametrize("text,needle", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_metadata(cz_check, tmp_path, text, needle):
    path = tmp_path / "m.zarr"
    path.mkdir()
    (path / "zarr.json").write_text(text)
    code, msg = c_error(cz_check, "info", path)
    assert code in (EMETADATA, EUNSUPPORTED) and needle in msg, msg


def test_malformed_v2_metadata(cz_check, tmp_path):
    path = tmp_path / "m2.zarr"
    path.mkdir()
    base = {"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": "<i4", "compressor": None,
            "fill_value": 0, "order": "C", "filters": None}
    import json

    for change, needle in (({"order": "K"}, "order"), ({"dtype": "<i3"}, "dtype"), ({"chunks": [2, 2]}, "chunks"),
                           ({"compressor": {"cname": "lz4"}}, "id"), ({"zarr_format": 4}, "zarr_format"),
                           ({"fill_value": "zero"}, "fill_value")):
        (path / ".zarray").write_text(json.dumps({**base, **change}))
        code, msg = c_error(cz_check, "info", path)
        assert code in (EMETADATA, EUNSUPPORTED) and needle in msg, (change, msg)


# ---------------------------------------------------------------------------------------------
# the examples


def test_c_example(installed, tmp_path):
    work = tmp_path / "ex"
    shutil.copytree(os.path.join(ROOT, "examples", "c"), work)
    make = shutil.which("make")
    if make:
        proc = subprocess.run([make, "-C", str(work), f"INC={installed['include']}", f"LIB={installed['libdir']}",
                               "CFLAGS=-O2 -std=c99 -Wall -Wextra -Werror"], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        prog = str(work / "window")
    else:
        prog = _cc(installed, [str(work / "window.c")], work / "window")
    x = np.arange(10000, dtype="i4").reshape(100, 100)
    path = str(tmp_path / "demo.zarr")
    chunkzip.array(x, chunks=(32, 32), store=path)
    out = run(prog, path).stdout
    assert "100 x 100 <i4" in out and " ".join(map(str, x[10, 20:26])) in " ".join(out.split())
    x[10:15, 20:26] *= -1
    np.testing.assert_array_equal(chunkzip.open(path, mode="r")[:], x)


@pytest.mark.stress  # cythonize + compile: ~15-40 s on a busy 2-core machine
def test_cython_example(tmp_path):
    pytest.importorskip("Cython")
    try:
        chunkzip.get_library_dir()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    work = tmp_path / "cy"
    shutil.copytree(os.path.join(ROOT, "examples", "cython"), work)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), CFLAGS="-O0")
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = np.arange(20000, dtype="<i4").tobytes()
    code = ("import czdemo, numcodecs; d = open('data', 'rb').read(); "
            "frame, crc = czdemo.roundtrip(d); assert numcodecs.blosc.decompress(frame) == d; print(crc)")
    (work / "data").write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    expect = int.from_bytes(bytes(numcodecs.CRC32C().encode(np.frombuffer(data, "u1"))[-4:]), "little")
    assert int(proc.stdout) == expect


# ---------------------------------------------------------------------------------------------
# AddressSanitizer


def test_address_sanitizer(installed, tmp_path):
    """Library sources and driver built with -fsanitize=address,undefined; run good and bad inputs."""
    probe = subprocess.run([CC, "-fsanitize=address", "-x", "c", "-", "-o", str(tmp_path / "probe")],
                           input="int main(void){return 0;}", capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the compiler has no AddressSanitizer")
    inc, lib = _blosc2_dirs()
    prog = tmp_path / "cz_check_asan"
    srcs = [os.path.join(ROOT, "csrc", f"{n}.c") for n in LIB_SOURCES]
    cmd = [CC, "-std=c99", "-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=undefined", *srcs, os.path.join(ROOT, "tests", "capi", "cz_check.c"),
           "-I", os.path.join(ROOT, "csrc"), "-I", inc, "-L", lib, "-lblosc2", f"-Wl,-rpath,{lib}", "-lm",
           "-pthread", "-o", str(prog)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99",
               UBSAN_OPTIONS="exitcode=98")
    rng = np.random.default_rng(0)

    def sanitized(*args):
        p = subprocess.run([str(prog), *map(str, args)], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode not in (98, 99) and "Sanitizer" not in p.stderr, p.stderr
        return p

    # good paths: each codec family, sharding, threads, writes
    paths = []
    for i, (fmt, codec) in enumerate([(3, "blosc-lz4"), (3, "zstd"), (3, "gzip"), (2, "lz4"), (2, "zlib")]):
        path = str(tmp_path / f"a{i}.zarr")
        z = _zarr_array(path, fmt, codec, (13, 11), (4, 5), "<i4")
        z[:7] = rng.integers(0, 100, (7, 11)).astype("i4")
        paths.append(path)
    path = str(tmp_path / "sh.zarr")
    zarr.create_array(path, shape=(13, 11), chunks=(2, 5), shards=(4, 10), dtype="i4")[:5] = 9
    paths.append(path)
    np.full((5, 6), 3, "<i4").tofile(tmp_path / "in")
    for path in paths:
        assert sanitized("read", path, "r", tmp_path / "o", "1,2", "13,11").returncode == 0
        assert sanitized("write", path, "r+", tmp_path / "in", "6,4", "11,10").returncode == 0
        assert sanitized("threads", path, 3, 2).returncode == 0
    assert sanitized("misuse").returncode == 0
    # bad paths: corrupt chunk, out of bounds, read-only, missing array, malformed metadata
    chunk = os.path.join(paths[0], "c", "0", "0")
    open(chunk, "wb").write(open(chunk, "rb").read()[:40])
    assert sanitized("read", paths[0], "r", tmp_path / "o", "0,0", "13,11").returncode == 3
    assert sanitized("read", paths[1], "r", tmp_path / "o", "0,0", "14,11").returncode == 3
    assert sanitized("write", paths[1], "r", tmp_path / "in", "0,0", "5,6").returncode == 3
    assert sanitized("info", tmp_path / "missing").returncode == 3
    for text, _ in MALFORMED:
        bad = tmp_path / "bad.zarr"
        bad.mkdir(exist_ok=True)
        (bad / "zarr.json").write_text(text)
        assert sanitized("info", bad).returncode == 3
    (tmp_path / "frame").write_bytes(b"\x02\x01\x10\x04" + (10**6).to_bytes(4, "little") * 2 + (40).to_bytes(4, "little")
                                     + bytes(24))
    assert sanitized("bdecompress", tmp_path / "frame", tmp_path / "o", 10**6).returncode == 3
