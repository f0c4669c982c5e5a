"""Interoperability with tensorstore (drivers ``zarr`` for v2 and ``zarr3`` for v3).

Both directions: chunkzip writes → tensorstore reads, and tensorstore writes → chunkzip
reads. Writes are partial, so never-written chunks (tensorstore also drops chunks equal to
the fill value) must read as the fill value on both sides. tensorstore has no datetime,
string or object data types and reads structured v2 arrays one field at a time.
"""
from __future__ import annotations

import base64
import json
import math
import os

import numpy as np
import pytest
import tensorstore as ts

import chunkzip as cz
import chunkzip.codecs

SHAPE = (37, 23)
CHUNKS = (10, 7)
REGION = (slice(0, 30), slice(0, 15))
DIRECTIONS = ["cz->ts", "ts->cz"]
DRIVER = {2: "zarr", 3: "zarr3"}


# ----------------------------------------------------------------------------- helpers
def czc(name: str, **kwargs):
    """A chunkzip codec, or skip when another engineer has not finished that class yet."""
    try:
        cls = getattr(chunkzip.codecs, name)
    except (AttributeError, ImportError) as e:
        pytest.skip(f"chunkzip.codecs.{name} not available yet ({type(e).__name__}: {e})")
    return cls(**kwargs)


def sample(dtype, shape, seed=0) -> np.ndarray:
    dt = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dt.fields is not None:
        out = np.zeros(n, dtype=dt)
        for i, name in enumerate(dt.names):
            sub = dt.fields[name][0]
            base, inner = sub.subdtype if sub.subdtype is not None else (sub, ())
            out[name] = sample(base, (n,) + tuple(inner), seed + i + 1)
        return out.reshape(shape)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(info.min, info.max, size=n, endpoint=True, dtype=dt.newbyteorder("="))
        flat[:2] = [info.min, info.max]
    elif dt.kind == "f":
        flat = (rng.standard_normal(n) * 100).astype(dt)
        flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    elif dt.kind == "c":
        flat = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dt)
        flat[:3] = [complex(np.nan, 1), complex(np.inf, -2), complex(0, -np.inf)]
    elif dt.kind == "b":
        flat = rng.random(n) < 0.5
    elif dt.kind == "S":
        letters = np.frombuffer(b"abcXYZ019-_ \x01\xff", dtype="S1")
        flat = np.array([b"".join(rng.choice(letters, rng.integers(0, dt.itemsize + 1))) for _ in range(n)], dtype=dt)
    else:  # pragma: no cover
        raise ValueError(dt)
    return np.asarray(flat, dtype=dt).reshape(shape)


def expected_after_region_write(data: np.ndarray, fill) -> np.ndarray:
    exp = np.empty(data.shape, dtype=data.dtype)
    exp[...] = fill
    exp[REGION] = data[REGION]
    return exp


def assert_same(got, expected) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    if expected.dtype.fields is not None:
        assert got.dtype.names == expected.dtype.names
        for name in expected.dtype.names:
            assert_same(got[name], expected[name])
        return
    assert got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("="), (got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected, strict=False)


def ts_open(path: str, fmt: int, **spec):
    return ts.open({"driver": DRIVER[fmt], "kvstore": {"driver": "file", "path": path}, **spec}).result()


def ts_read(path: str, fmt: int) -> np.ndarray:
    return ts_open(path, fmt).read().result()


def _is_bytes(dt: np.dtype) -> bool:
    return dt.kind == "S"


def assert_ts_reads(path: str, fmt: int, expected: np.ndarray) -> None:
    """Compare what tensorstore reads with ``expected``, a structured array field by field.

    tensorstore shows ``|S<n>`` as ``char`` with an extra inner dimension of length n, and its
    Python binding hands ``char`` arrays out as empty ``|S0`` items, so for byte strings only
    the shape is checked here (the bytes are checked in the tensorstore → chunkzip direction).
    """
    dt = expected.dtype
    fields = dt.names if dt.fields is not None else (None,)
    for name in fields:
        sub = dt.fields[name][0] if name is not None else dt
        base, inner = sub.subdtype if sub.subdtype is not None else (sub, ())
        t = ts_open(path, fmt, **({"field": name} if name is not None else {}))
        exp = expected[name] if name is not None else expected
        if _is_bytes(base):
            assert tuple(t.shape) == expected.shape + (base.itemsize,)
            continue
        assert tuple(t.shape) == expected.shape + tuple(inner)
        assert_same(t.read().result(), exp)


def _json_float(v: float):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def fill_json(fill, dt: np.dtype):
    """The metadata form of a fill value (written here by hand, independently of chunkzip)."""
    if fill is None:
        return None
    if dt.fields is not None or dt.kind == "S":
        return base64.standard_b64encode(np.array(fill, dtype=dt).tobytes()).decode("ascii")
    if dt.kind == "b":
        return bool(fill)
    if dt.kind in "iu":
        return int(fill)
    if dt.kind == "f":
        return _json_float(float(fill))
    if dt.kind == "c":
        return [_json_float(complex(fill).real), _json_float(complex(fill).imag)]
    raise ValueError(dt)


_V3_NAMES = {"b1": "bool", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64", "u1": "uint8",
             "u2": "uint16", "u4": "uint32", "u8": "uint64", "f2": "float16", "f4": "float32", "f8": "float64",
             "c8": "complex64", "c16": "complex128"}


def ts_create(path: str, fmt: int, dtype, fill, *, shape=SHAPE, chunks=CHUNKS, order="C", compressor=None,
              codecs=None, separator=None, attributes=None):
    """Create an array with tensorstore from explicit metadata.

    v2: ``compressor`` is a numcodecs-style dict; v3: ``codecs`` lists the bytes→bytes codecs
    that follow the ``bytes`` codec.
    """
    dt = np.dtype(dtype)
    if fmt == 2:
        meta = {"shape": list(shape), "chunks": list(chunks), "dtype": dt.descr if dt.fields else dt.str,
                "fill_value": fill_json(fill, dt), "order": order, "compressor": compressor, "filters": None}
        if dt.fields is not None:
            meta["dtype"] = [list(d) if len(d) == 2 else [d[0], d[1], list(d[2])] for d in dt.descr]
        if separator:
            meta["dimension_separator"] = separator
    else:
        chain = []
        if order == "F":
            chain.append({"name": "transpose", "configuration": {"order": list(range(len(shape)))[::-1]}})
        endian = "big" if dt.byteorder == ">" else "little"
        chain.append({"name": "bytes", "configuration": {"endian": endian}} if dt.itemsize > 1 else {"name": "bytes"})
        chain += codecs or []
        meta = {"shape": list(shape), "data_type": _V3_NAMES[dt.str[1:]],
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunks)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": separator or "/"}},
                "fill_value": fill_json(fill, dt), "codecs": chain}
        if attributes:
            meta["attributes"] = attributes
    spec = {"driver": DRIVER[fmt], "kvstore": {"driver": "file", "path": path}, "metadata": meta}
    if dt.fields is not None:
        spec["field"] = dt.names[0]  # tensorstore opens structured arrays one field at a time
    return ts.open(spec, create=True).result()


def _ts_value(value: np.ndarray) -> np.ndarray:
    if _is_bytes(value.dtype):  # |S<n> -> n chars along an extra inner dimension
        return np.ascontiguousarray(value).view("S1").reshape(value.shape + (value.dtype.itemsize,))
    return value


def ts_write(path: str, fmt: int, dtype, sel, value) -> None:
    dt = np.dtype(dtype)
    if dt.fields is not None:
        for name in dt.names:
            ts_open(path, fmt, field=name)[sel].write(_ts_value(np.ascontiguousarray(value[name]))).result()
    else:
        ts_open(path, fmt)[sel].write(_ts_value(value)).result()


# ----------------------------------------------------------------------------- dtypes x fill values
STRUCT = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S3")])
STRUCT_SUB = np.dtype([("x", "<u2"), ("y", "<f4", (2,))])

DTYPE_CASES = [
    ("int8", "i1", -7, (2, 3)),
    ("int16", "i2", -300, (2, 3)),
    ("int32", "i4", 123456, (2, 3)),
    ("int64", "i8", -(2**63), (2, 3)),
    ("uint8", "u1", 255, (2, 3)),
    ("uint16", "u2", 4242, (2, 3)),
    ("uint32", "u4", 2**32 - 1, (2, 3)),
    ("uint64", "u8", 2**64 - 1, (2, 3)),
    ("float16", "f2", np.nan, (2, 3)),
    ("float32", "f4", np.inf, (2, 3)),
    ("float64-nan", "f8", np.nan, (2, 3)),
    ("float64-neginf", "f8", -np.inf, (2, 3)),
    ("bool", "?", True, (2, 3)),
    ("complex64", "c8", complex(np.nan, 1.5), (2, 3)),
    ("complex128", "c16", complex(2.5, -np.inf), (2, 3)),
    (">i4", ">i4", -123456, (2, 3)),
    (">f8", ">f8", np.nan, (2, 3)),
    ("S6", "S6", b"ab", (2,)),
    ("struct", STRUCT, np.array((3, 1.5, b"xy"), dtype=STRUCT)[()], (2,)),
    ("struct-subarray", STRUCT_SUB, np.array((9, [1.5, -2]), dtype=STRUCT_SUB)[()], (2,)),
]
DTYPE_PARAMS = [pytest.param(dt, fill, fmt, d, id=f"{name}-v{fmt}-{d}")
                for name, dt, fill, fmts in DTYPE_CASES for fmt in fmts for d in DIRECTIONS]


@pytest.mark.parametrize("dtype,fill,fmt,direction", DTYPE_PARAMS)
def test_dtypes(tmp_path, dtype, fill, fmt, direction):
    path = str(tmp_path / "a.zarr")
    dt = np.dtype(dtype)
    data = sample(dt, SHAPE)
    expected = expected_after_region_write(data, fill)
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dt, fill_value=fill, zarr_format=fmt,
                    compressor=None)
        z[REGION] = data[REGION]
        assert_ts_reads(path, fmt, expected)
    else:
        ts_create(path, fmt, dt, fill)
        ts_write(path, fmt, dt, REGION, data[REGION])
        z = cz.open(path, mode="r")
        assert_same(z[...], expected)
        assert_same(z[5:33, 3:20], expected[5:33, 3:20])


# ----------------------------------------------------------------------------- codecs
_SHUFFLE_V3 = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}


def _blosc_cases():
    return [(f"blosc-{cname}-{shuffle}", ("i4", "f8", "u2")[shuffle], (2, 3))
            for cname in ("lz4", "zstd", "zlib", "blosclz") for shuffle in (0, 1, 2)]


CODEC_CASES = [
    ("none", "f8", (2, 3)),
    ("zstd", "i4", (2, 3)),
    ("gzip", "i2", (2, 3)),
    ("zlib", "u8", (2,)),
    ("bz2", "f8", (2,)),
    ("zstd+crc32c", "f8", (3,)),
    ("crc32c", "i4", (3,)),
    *_blosc_cases(),
    ("blosc-lz4-1-bs64", "i4", (2, 3)),
    ("blosc-zstd-2-bs128", "f8", (2, 3)),
    ("blosc-lz4-1", "c16", (2, 3)),
    ("blosc-lz4-2", "u1", (2, 3)),
]


def _blosc_spec(spec: str):
    parts = spec.split("-")
    return parts[1], int(parts[2]), (int(parts[3][2:]) if len(parts) > 3 else 0)


def cz_codec_kwargs(spec: str) -> dict:
    if spec == "none":
        return {"compressor": None}
    if spec == "zstd":
        return {"compressor": czc("Zstd", level=3)}
    if spec == "gzip":
        return {"compressor": czc("GZip", level=5)}
    if spec == "zlib":
        return {"compressor": czc("Zlib", level=1)}
    if spec == "bz2":
        return {"compressor": czc("BZ2", level=9)}
    if spec == "zstd+crc32c":
        return {"compressors": [czc("Zstd", level=1), czc("CRC32C")]}
    if spec == "crc32c":
        return {"compressors": [czc("CRC32C")]}
    if spec.startswith("blosc-"):
        cname, shuffle, blocksize = _blosc_spec(spec)
        return {"compressor": czc("Blosc", cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize)}
    raise ValueError(spec)


def ts_codec_kwargs(spec: str, fmt: int, dt: np.dtype) -> dict:
    if fmt == 2:
        v2 = {"none": None, "zstd": {"id": "zstd", "level": 3}, "gzip": {"id": "gzip", "level": 5},
              "zlib": {"id": "zlib", "level": 1}, "bz2": {"id": "bz2", "level": 9}}
        if spec in v2:
            return {"compressor": v2[spec]}
        cname, shuffle, blocksize = _blosc_spec(spec)
        return {"compressor": {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle,
                               "blocksize": blocksize}}
    v3 = {"none": [], "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
          "gzip": [{"name": "gzip", "configuration": {"level": 5}}],
          "zstd+crc32c": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}, {"name": "crc32c"}],
          "crc32c": [{"name": "crc32c"}]}
    if spec in v3:
        return {"codecs": v3[spec]}
    cname, shuffle, blocksize = _blosc_spec(spec)
    return {"codecs": [{"name": "blosc", "configuration": {
        "cname": cname, "clevel": 5, "shuffle": _SHUFFLE_V3[shuffle], "typesize": dt.itemsize,
        "blocksize": blocksize}}]}


def _codec_data(dt: np.dtype) -> np.ndarray:
    base = np.add.outer(np.arange(SHAPE[0]) * 3, np.arange(SHAPE[1]))
    if dt.kind not in "iuf":
        return sample(dt, SHAPE, seed=7)
    if dt.kind == "f":
        return (base * 0.5 + np.sin(base)).astype(dt)
    return (base * 7 - 100).astype(dt)


CODEC_PARAMS = [pytest.param(spec, dt, fmt, d, id=f"{spec}-{np.dtype(dt).str}-v{fmt}-{d}")
                for spec, dt, fmts in CODEC_CASES for fmt in fmts for d in DIRECTIONS]


@pytest.mark.parametrize("spec,dtype,fmt,direction", CODEC_PARAMS)
def test_codecs(tmp_path, spec, dtype, fmt, direction):
    path = str(tmp_path / "a.zarr")
    dt = np.dtype(dtype)
    data = _codec_data(dt)
    fill = np.zeros((), dt)[()]
    expected = expected_after_region_write(data, fill)
    kwargs = cz_codec_kwargs(spec)  # skips when chunkzip lacks the codec
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dt, fill_value=fill, zarr_format=fmt, **kwargs)
        z[REGION] = data[REGION]
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, dt, fill, **ts_codec_kwargs(spec, fmt, dt))
        ts_write(path, fmt, dt, REGION, data[REGION])
        assert_same(cz.open(path, mode="r")[...], expected)


# ----------------------------------------------------------------------------- layouts
LAYOUT_FORMATS = [pytest.param(fmt, d, id=f"v{fmt}-{d}") for fmt in (2, 3) for d in DIRECTIONS]


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_order_F(tmp_path, fmt, direction):
    path = str(tmp_path / "a.zarr")
    data = sample("i4", SHAPE, seed=3)
    expected = expected_after_region_write(data, -1)
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i4", fill_value=-1, order="F",
                    zarr_format=fmt, compressor=czc("Zstd", level=1))
        z[REGION] = data[REGION]
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, "i4", -1, order="F",
                  **ts_codec_kwargs("zstd", fmt, np.dtype("i4")))
        ts_write(path, fmt, "i4", REGION, data[REGION])
        z = cz.open(path, mode="r")
        assert z.order == "F"
        assert_same(z[...], expected)
        assert_same(z[3:35:2, 1:20:3], expected[3:35:2, 1:20:3])


@pytest.mark.parametrize("fmt,sep,direction", [
    pytest.param(2, "/", d, id=f"v2-slash-{d}") for d in DIRECTIONS] + [
    pytest.param(3, ".", d, id=f"v3-dot-{d}") for d in DIRECTIONS])
def test_dimension_separator(tmp_path, fmt, sep, direction):
    path = str(tmp_path / "a.zarr")
    data = sample("u2", SHAPE, seed=4)
    expected = expected_after_region_write(data, 7)
    first_key = {2: "0/0", 3: "c.0.0"}[fmt]
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype="u2", fill_value=7, zarr_format=fmt,
                    dimension_separator=sep, compressor=None)
        z[REGION] = data[REGION]
        assert os.path.isfile(os.path.join(path, first_key))
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, "u2", 7, separator=sep)
        ts_write(path, fmt, "u2", REGION, data[REGION])
        assert os.path.isfile(os.path.join(path, first_key))
        assert_same(cz.open(path, mode="r")[...], expected)


def _stored_chunks(path: str) -> set[str]:
    out = set()
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path).replace(os.sep, "/")
            if not rel.startswith(".z") and rel != "zarr.json":
                out.add(rel)
    return out


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_missing_chunks_read_as_fill(tmp_path, fmt, direction):
    """write_empty_chunks=False in chunkzip; tensorstore never stores chunks equal to the fill value."""
    path = str(tmp_path / "a.zarr")
    fill = np.nan
    data = sample("f4", SHAPE, seed=5)
    data[:10] = fill
    data[10:20, :7] = fill
    k = (lambda i, j: f"{i}.{j}") if fmt == 2 else (lambda i, j: f"c/{i}/{j}")
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype="f4", fill_value=fill, zarr_format=fmt,
                    compressor=None, write_empty_chunks=False)
        z[...] = sample("f4", SHAPE, seed=6)
        z[...] = data
    else:
        ts_create(path, fmt, "f4", fill)
        ts_write(path, fmt, "f4", (slice(None), slice(None)), data)
    stored = _stored_chunks(path)
    assert k(0, 0) not in stored and k(0, 3) not in stored and k(1, 0) not in stored
    assert k(1, 1) in stored and len(stored) == 4 * 4 - 4 - 1
    got = ts_read(path, fmt) if direction == "cz->ts" else cz.open(path, mode="r")[...]
    assert_same(got, data)


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_zero_dimensional(tmp_path, fmt, direction):
    p1, p2 = str(tmp_path / "written.zarr"), str(tmp_path / "unwritten.zarr")
    if direction == "cz->ts":
        z = cz.open(p1, mode="w", shape=(), dtype="f8", fill_value=np.nan, zarr_format=fmt, compressor=None)
        z[...] = 2.5
        cz.open(p2, mode="w", shape=(), dtype="i2", fill_value=-9, zarr_format=fmt, compressor=None)
        read = lambda p: ts_read(p, fmt)  # noqa: E731
    else:
        ts_create(p1, fmt, "f8", np.nan, shape=(), chunks=())
        ts_write(p1, fmt, "f8", (), np.array(2.5))
        ts_create(p2, fmt, "i2", -9, shape=(), chunks=())
        read = lambda p: cz.open(p, mode="r")[...]  # noqa: E731
    assert os.path.isfile(os.path.join(p1, "0" if fmt == 2 else "c"))
    assert_same(read(p1), np.array(2.5))
    assert_same(read(p2), np.array(-9, dtype="i2"))


@pytest.mark.parametrize("shape,chunks", [((0, 5), (3, 2)), ((4, 0), (3, 2))], ids=["0x5", "4x0"])
@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_empty_arrays(tmp_path, fmt, direction, shape, chunks):
    path = str(tmp_path / "a.zarr")
    if direction == "cz->ts":
        z = cz.open(path, mode="w", shape=shape, chunks=chunks, dtype="i4", zarr_format=fmt, compressor=None)
        z[...] = np.zeros(shape, "i4")
        t = ts_open(path, fmt)
        assert tuple(t.shape) == shape and tuple(t.chunk_layout.read_chunk.shape) == chunks
        got = t.read().result()
    else:
        ts_create(path, fmt, "i4", 0, shape=shape, chunks=chunks)
        z = cz.open(path, mode="r")
        assert z.shape == shape and z.chunks == chunks
        got = z[...]
    assert_same(got, np.zeros(shape, "i4"))


def test_v3_attributes(tmp_path):
    """tensorstore keeps v3 ``attributes``; chunkzip reads them and its own are kept by tensorstore."""
    p1, p2 = str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")
    attrs = {"x": [1, 2.5, "three", None], "nested": {"é": {}}}
    ts_create(p1, 3, "i2", 0, attributes=attrs)
    assert cz.open(p1, mode="r").attrs.asdict() == attrs
    z = cz.open(p2, mode="w", shape=SHAPE, chunks=CHUNKS, dtype="i2", zarr_format=3, compressor=None)
    z.attrs.update(attrs)
    t = ts_open(p2, 3)
    t[0:3, 0:3].write(np.ones((3, 3), "i2")).result()
    assert json.loads(open(os.path.join(p2, "zarr.json")).read())["attributes"] == attrs
    assert cz.open(p2, mode="r").attrs.asdict() == attrs
