"""Helpers shared by the interoperability suites (``test_interop_zarr.py``, ``test_interop_tensorstore.py``).

Test data, comparisons, the case lists both suites run, and the chunkzip half of each
two-way test: chunkzip writes a partial region (or the layout case) here, and the checks
of what chunkzip reads back live here too. What belongs to one foreign library (how it
creates, writes and reads arrays, its codec settings, the direction names) stays in its
test module.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import chunkzip as cz
import chunkzip.codecs

SHAPE = (37, 23)
CHUNKS = (10, 7)
REGION = (slice(0, 30), slice(0, 15))  # leaves chunk row 3 and chunk column 3 unwritten, column 2 partial

STRUCT = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S3")])
STRUCT_SUB = np.dtype([("x", "<u2"), ("y", "<f4", (2,))])

SHUFFLE_V3 = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}


# ----------------------------------------------------------------------------- data and comparisons
def czc(name: str, **kwargs):
    """A chunkzip codec, or skip when another engineer has not finished that class yet."""
    try:
        cls = getattr(chunkzip.codecs, name)
    except (AttributeError, ImportError) as e:
        pytest.skip(f"chunkzip.codecs.{name} not available yet ({type(e).__name__}: {e})")
    return cls(**kwargs)


def sample(dtype, shape, seed=0) -> np.ndarray:
    """Deterministic data covering the dtype's range and its special values."""
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
    elif dt.kind in "mM":
        unit = np.datetime_data(dt)[0]
        span = 10**15 if unit == "ns" else 10**6
        flat = rng.integers(-span, span, size=n).astype("i8").view(dt.newbyteorder("="))
        flat[1] = np.array("NaT", dtype=dt)
    elif dt.kind == "S":
        letters = np.frombuffer(b"abcXYZ019-_ \x01\xff", dtype="S1")
        flat = np.array([b"".join(rng.choice(letters, rng.integers(0, dt.itemsize + 1))) for _ in range(n)], dtype=dt)
    elif dt.kind == "U":
        chars = list("abcXYZ019 éüß漢字😀")
        flat = np.array(["".join(rng.choice(chars, rng.integers(0, dt.itemsize // 4 + 1))) for _ in range(n)],
                        dtype=dt)
    else:  # pragma: no cover
        raise ValueError(dt)
    return np.asarray(flat, dtype=dt).reshape(shape)


def expected_after_region_write(data: np.ndarray, fill) -> np.ndarray:
    exp = np.empty(data.shape, dtype=data.dtype)
    exp[...] = fill
    exp[REGION] = data[REGION]
    return exp


def assert_same(got, expected) -> None:
    """Equal values (NaN == NaN, NaT == NaT) and the same dtype up to byte order."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    if expected.dtype.fields is not None:
        assert got.dtype.names == expected.dtype.names
        for name in expected.dtype.names:
            assert_same(got[name], expected[name])
        return
    assert got.dtype.newbyteorder("=") == expected.dtype.newbyteorder("="), (got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected, strict=False)


def codec_data(dt: np.dtype) -> np.ndarray:
    """Smooth data, so that compressors and shuffles have something to do."""
    base = np.add.outer(np.arange(SHAPE[0]) * 3, np.arange(SHAPE[1]))
    if dt.kind not in "iuf":
        return sample(dt, SHAPE, seed=7)
    if dt.kind == "f":
        return (base * 0.5 + np.sin(base)).astype(dt)
    return (base * 7 - 100).astype(dt)


def stored_chunks(path: str) -> set[str]:
    """The chunk keys stored below ``path`` (every file but the metadata)."""
    out = set()
    for root, _, files in os.walk(path):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), path).replace(os.sep, "/")
            if not rel.startswith(".z") and rel != "zarr.json":
                out.add(rel)
    return out


# ----------------------------------------------------------------------------- cases and parameters
# (id, dtype, fill value, formats): the data types both foreign libraries support in v2 and v3
NUMERIC_DTYPE_CASES = [
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
]


def blosc_cases() -> list[tuple]:
    """Every Blosc compressor with every shuffle, as (spec, dtype, formats)."""
    return [(f"blosc-{cname}-{shuffle}", ("i4", "f8", "u2")[shuffle], (2, 3))
            for cname in ("lz4", "zstd", "zlib", "blosclz") for shuffle in (0, 1, 2)]


# (spec, dtype, formats): several blocks per Blosc frame (forced small blocksize) and wide types
BLOSC_CODEC_CASES = [
    *blosc_cases(),
    ("blosc-lz4-1-bs64", "i4", (2, 3)),
    ("blosc-zstd-2-bs128", "f8", (2, 3)),
    ("blosc-lz4-1", "c16", (2, 3)),
    ("blosc-lz4-2", "u1", (2, 3)),
]


def blosc_spec(spec: str) -> tuple[str, int, int]:
    """``blosc-<cname>-<shuffle>[-bs<blocksize>]`` -> (cname, shuffle, blocksize)."""
    parts = spec.split("-")
    blocksize = int(parts[3][2:]) if len(parts) > 3 else 0
    return parts[1], int(parts[2]), blocksize


def dtype_params(cases, directions) -> list:
    return [pytest.param(dt, fill, fmt, d, id=f"{name}-v{fmt}-{d}")
            for name, dt, fill, fmts in cases for fmt in fmts for d in directions]


def _dtype_id(dt) -> str:
    return np.dtype(dt).str if np.dtype(dt).fields is None else "struct"


def codec_params(cases, directions) -> list:
    return [pytest.param(spec, dt, fmt, d, id=f"{spec}-{_dtype_id(dt)}-v{fmt}-{d}")
            for spec, dt, fmts in cases for fmt in fmts for d in directions]


def layout_params(directions) -> list:
    return [pytest.param(fmt, d, id=f"v{fmt}-{d}") for fmt in (2, 3) for d in directions]


def separator_params(cases, directions) -> list:
    """``cases``: (format, separator, id prefix), e.g. (2, "/", "v2-slash")."""
    return [pytest.param(fmt, sep, d, id=f"{name}-{d}") for fmt, sep, name in cases for d in directions]


def first_chunk_key(fmt: int, sep: str) -> str:
    if fmt == 2:
        return "0/0" if sep == "/" else "0.0"
    return "c/0/0" if sep == "/" else "c.0.0"


# ----------------------------------------------------------------------------- chunkzip's half of the tests
def cz_write_region(path: str, fmt: int, dtype, fill, data: np.ndarray, **kwargs):
    """A SHAPE/CHUNKS array written by chunkzip in REGION only (``kwargs``: codecs, order, ...)."""
    z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype=dtype, fill_value=fill, zarr_format=fmt,
                **kwargs)
    z[REGION] = data[REGION]
    return z


def check_cz_reads(path: str, expected: np.ndarray, *parts):
    """chunkzip reads ``expected`` whole and, for each selection in ``parts``, in part."""
    z = cz.open(path, mode="r")
    assert_same(z[...], expected)
    for sel in parts:
        assert_same(z[sel], expected[sel])
    return z


EMPTY_CHUNKS_FILL = np.nan


def data_with_fill_chunks() -> np.ndarray:
    """f4 data in which chunk row 0 and chunk (1, 0) hold only the fill value (NaN)."""
    data = sample("f4", SHAPE, seed=5)
    data[:10] = EMPTY_CHUNKS_FILL        # chunk row 0: all fill -> not stored
    data[10:20, :7] = EMPTY_CHUNKS_FILL  # chunk (1, 0): all fill -> not stored
    return data


def cz_write_without_empty_chunks(path: str, fmt: int, data: np.ndarray):
    """Every chunk stored first, then overwritten with ``data``: chunks of fill values are deleted."""
    z = cz.open(path, mode="w", shape=SHAPE, chunks=CHUNKS, dtype="f4", fill_value=EMPTY_CHUNKS_FILL,
                zarr_format=fmt, compressor=None, write_empty_chunks=False)
    z[...] = sample("f4", SHAPE, seed=6)
    assert _chunk_key(fmt, 0, 0) in stored_chunks(path)
    z[...] = data
    return z


def _chunk_key(fmt: int, i: int, j: int) -> str:
    return f"{i}.{j}" if fmt == 2 else f"c/{i}/{j}"


def assert_fill_chunks_not_stored(path: str, fmt: int) -> None:
    """After writing ``data_with_fill_chunks()``: exactly the chunks of fill values are missing."""
    stored = stored_chunks(path)
    k = lambda i, j: _chunk_key(fmt, i, j)  # noqa: E731
    assert k(0, 0) not in stored and k(0, 3) not in stored and k(1, 0) not in stored
    assert k(1, 1) in stored and k(3, 3) in stored
    assert len(stored) == 4 * 4 - 4 - 1


def cz_write_zero_dim(p1: str, p2: str, fmt: int) -> None:
    """0-d arrays: ``p1`` f8 (fill NaN) written with 2.5, ``p2`` i2 (fill -9) never written."""
    z = cz.open(p1, mode="w", shape=(), dtype="f8", fill_value=np.nan, zarr_format=fmt, compressor=None)
    z[...] = 2.5
    cz.open(p2, mode="w", shape=(), dtype="i2", fill_value=-9, zarr_format=fmt, compressor=None)


def check_zero_dim(read, p1: str, p2: str, fmt: int) -> None:
    """The arrays of ``cz_write_zero_dim`` (or the same made by another library), read with ``read(path)``."""
    assert os.path.isfile(os.path.join(p1, "0" if fmt == 2 else "c"))
    assert_same(read(p1), np.array(2.5))
    assert_same(read(p2), np.array(-9, dtype="i2"))


def cz_write_empty(path: str, fmt: int, shape, chunks):
    z = cz.open(path, mode="w", shape=shape, chunks=chunks, dtype="i4", zarr_format=fmt, compressor=None)
    z[...] = np.zeros(shape, "i4")
    return z


def cz_read_empty(path: str, shape, chunks) -> np.ndarray:
    z = cz.open(path, mode="r")
    assert z.shape == shape and z.chunks == chunks
    return z[...]


def check_empty(path: str, got, shape) -> None:
    assert_same(got, np.zeros(shape, "i4"))
    assert stored_chunks(path) == set()
