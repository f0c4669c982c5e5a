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
from interop_common import (
    BLOSC_CODEC_CASES, CHUNKS, EMPTY_CHUNKS_FILL, NUMERIC_DTYPE_CASES, REGION, SHAPE, SHUFFLE_V3, STRUCT,
    STRUCT_SUB, assert_fill_chunks_not_stored, assert_same, blosc_spec, check_cz_reads, check_empty,
    check_zero_dim, codec_data, codec_params, cz_read_empty, cz_write_empty, cz_write_region,
    cz_write_without_empty_chunks, cz_write_zero_dim, czc, data_with_fill_chunks, dtype_params,
    expected_after_region_write, first_chunk_key, layout_params, sample, separator_params,
)

DIRECTIONS = ["cz->ts", "ts->cz"]
DRIVER = {2: "zarr", 3: "zarr3"}


# ----------------------------------------------------------------------------- helpers
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
DTYPE_CASES = [
    # (id, dtype, fill value, formats)
    *NUMERIC_DTYPE_CASES,
    ("S6", "S6", b"ab", (2,)),
    ("struct", STRUCT, np.array((3, 1.5, b"xy"), dtype=STRUCT)[()], (2,)),
    ("struct-subarray", STRUCT_SUB, np.array((9, [1.5, -2]), dtype=STRUCT_SUB)[()], (2,)),
]
DTYPE_PARAMS = dtype_params(DTYPE_CASES, DIRECTIONS)


@pytest.mark.parametrize("dtype,fill,fmt,direction", DTYPE_PARAMS)
def test_dtypes(tmp_path, dtype, fill, fmt, direction):
    path = str(tmp_path / "a.zarr")
    dt = np.dtype(dtype)
    data = sample(dt, SHAPE)
    expected = expected_after_region_write(data, fill)
    if direction == "cz->ts":
        cz_write_region(path, fmt, dt, fill, data, compressor=None)
        assert_ts_reads(path, fmt, expected)
    else:
        ts_create(path, fmt, dt, fill)
        ts_write(path, fmt, dt, REGION, data[REGION])
        check_cz_reads(path, expected, (slice(5, 33), slice(3, 20)))


# ----------------------------------------------------------------------------- codecs
CODEC_CASES = [
    ("none", "f8", (2, 3)),
    ("zstd", "i4", (2, 3)),
    ("gzip", "i2", (2, 3)),
    ("zlib", "u8", (2,)),
    ("bz2", "f8", (2,)),
    ("zstd+crc32c", "f8", (3,)),
    ("crc32c", "i4", (3,)),
    *BLOSC_CODEC_CASES,
]


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
        cname, shuffle, blocksize = blosc_spec(spec)
        return {"compressor": czc("Blosc", cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize)}
    raise ValueError(spec)


def ts_codec_kwargs(spec: str, fmt: int, dt: np.dtype) -> dict:
    if fmt == 2:
        v2 = {"none": None, "zstd": {"id": "zstd", "level": 3}, "gzip": {"id": "gzip", "level": 5},
              "zlib": {"id": "zlib", "level": 1}, "bz2": {"id": "bz2", "level": 9}}
        if spec in v2:
            return {"compressor": v2[spec]}
        cname, shuffle, blocksize = blosc_spec(spec)
        return {"compressor": {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle,
                               "blocksize": blocksize}}
    v3 = {"none": [], "zstd": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
          "gzip": [{"name": "gzip", "configuration": {"level": 5}}],
          "zstd+crc32c": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}, {"name": "crc32c"}],
          "crc32c": [{"name": "crc32c"}]}
    if spec in v3:
        return {"codecs": v3[spec]}
    cname, shuffle, blocksize = blosc_spec(spec)
    return {"codecs": [{"name": "blosc", "configuration": {
        "cname": cname, "clevel": 5, "shuffle": SHUFFLE_V3[shuffle], "typesize": dt.itemsize,
        "blocksize": blocksize}}]}


CODEC_PARAMS = codec_params(CODEC_CASES, DIRECTIONS)


@pytest.mark.parametrize("spec,dtype,fmt,direction", CODEC_PARAMS)
def test_codecs(tmp_path, spec, dtype, fmt, direction):
    path = str(tmp_path / "a.zarr")
    dt = np.dtype(dtype)
    data = codec_data(dt)
    fill = np.zeros((), dt)[()]
    expected = expected_after_region_write(data, fill)
    kwargs = cz_codec_kwargs(spec)  # skips when chunkzip lacks the codec
    if direction == "cz->ts":
        cz_write_region(path, fmt, dt, fill, data, **kwargs)
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, dt, fill, **ts_codec_kwargs(spec, fmt, dt))
        ts_write(path, fmt, dt, REGION, data[REGION])
        check_cz_reads(path, expected)


# ----------------------------------------------------------------------------- layouts
LAYOUT_FORMATS = layout_params(DIRECTIONS)


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_order_F(tmp_path, fmt, direction):
    path = str(tmp_path / "a.zarr")
    data = sample("i4", SHAPE, seed=3)
    expected = expected_after_region_write(data, -1)
    if direction == "cz->ts":
        cz_write_region(path, fmt, "i4", -1, data, order="F", compressor=czc("Zstd", level=1))
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, "i4", -1, order="F",
                  **ts_codec_kwargs("zstd", fmt, np.dtype("i4")))
        ts_write(path, fmt, "i4", REGION, data[REGION])
        z = check_cz_reads(path, expected, (slice(3, 35, 2), slice(1, 20, 3)))
        assert z.order == "F"


@pytest.mark.parametrize("fmt,sep,direction", separator_params([(2, "/", "v2-slash"), (3, ".", "v3-dot")], DIRECTIONS))
def test_dimension_separator(tmp_path, fmt, sep, direction):
    path = str(tmp_path / "a.zarr")
    data = sample("u2", SHAPE, seed=4)
    expected = expected_after_region_write(data, 7)
    first_key = first_chunk_key(fmt, sep)
    if direction == "cz->ts":
        cz_write_region(path, fmt, "u2", 7, data, dimension_separator=sep, compressor=None)
        assert os.path.isfile(os.path.join(path, first_key))
        assert_same(ts_read(path, fmt), expected)
    else:
        ts_create(path, fmt, "u2", 7, separator=sep)
        ts_write(path, fmt, "u2", REGION, data[REGION])
        assert os.path.isfile(os.path.join(path, first_key))
        check_cz_reads(path, expected)


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_missing_chunks_read_as_fill(tmp_path, fmt, direction):
    """write_empty_chunks=False in chunkzip; tensorstore never stores chunks equal to the fill value."""
    path = str(tmp_path / "a.zarr")
    data = data_with_fill_chunks()
    if direction == "cz->ts":
        cz_write_without_empty_chunks(path, fmt, data)
    else:
        ts_create(path, fmt, "f4", EMPTY_CHUNKS_FILL)
        ts_write(path, fmt, "f4", (slice(None), slice(None)), data)
    assert_fill_chunks_not_stored(path, fmt)
    got = ts_read(path, fmt) if direction == "cz->ts" else cz.open(path, mode="r")[...]
    assert_same(got, data)


@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_zero_dimensional(tmp_path, fmt, direction):
    p1, p2 = str(tmp_path / "written.zarr"), str(tmp_path / "unwritten.zarr")
    if direction == "cz->ts":
        cz_write_zero_dim(p1, p2, fmt)
        read = lambda p: ts_read(p, fmt)  # noqa: E731
    else:
        ts_create(p1, fmt, "f8", np.nan, shape=(), chunks=())
        ts_write(p1, fmt, "f8", (), np.array(2.5))
        ts_create(p2, fmt, "i2", -9, shape=(), chunks=())
        read = lambda p: cz.open(p, mode="r")[...]  # noqa: E731
    check_zero_dim(read, p1, p2, fmt)


@pytest.mark.parametrize("shape,chunks", [((0, 5), (3, 2)), ((4, 0), (3, 2))], ids=["0x5", "4x0"])
@pytest.mark.parametrize("fmt,direction", LAYOUT_FORMATS)
def test_empty_arrays(tmp_path, fmt, direction, shape, chunks):
    path = str(tmp_path / "a.zarr")
    if direction == "cz->ts":
        cz_write_empty(path, fmt, shape, chunks)
        t = ts_open(path, fmt)
        assert tuple(t.shape) == shape and tuple(t.chunk_layout.read_chunk.shape) == chunks
        got = t.read().result()
    else:
        ts_create(path, fmt, "i4", 0, shape=shape, chunks=chunks)
        got = cz_read_empty(path, shape, chunks)
    check_empty(path, got, shape)


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
