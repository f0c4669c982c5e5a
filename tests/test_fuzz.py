"""Fuzzing: mutated chunk files and metadata documents, for every codec (issue 9).

Each example takes a valid array (written by chunkzip), mutates one stored chunk or its
metadata document, and reads it back on both read paths (the nogil kernel and the
generic per-chunk one). The only acceptable outcomes are:

* a clear exception (:class:`MetadataError` for a document, :class:`ChunkDecodeError`
  or ``ValueError``/``RuntimeError``/``OSError`` for a chunk) -- never a crash, a hang,
  ``TypeError``/``AttributeError``/``IndexError``/``RecursionError``/``OverflowError``;
* or the values a reference decoder gives for the same bytes: numcodecs (which
  zarr-python uses) for chunks; and the two read paths always agree.

Bounded for CI (a few hundred examples, well under a minute); set
``CHUNKZIP_FUZZ_LONG=1`` (optionally ``CHUNKZIP_FUZZ_EXAMPLES=N``) for a long run, e.g.
under AddressSanitizer (see the issue 9 note for the commands).
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip import pipeline
from chunkzip.metadata import MetadataError
from chunkzip.pipeline import ChunkDecodeError
from chunkzip.storage import LocalStore, MemoryStore

numcodecs = pytest.importorskip("numcodecs")

LONG = os.environ.get("CHUNKZIP_FUZZ_LONG", "") not in ("", "0")
EXAMPLES = int(os.environ.get("CHUNKZIP_FUZZ_EXAMPLES", "3000" if LONG else "0")) or None
FUZZ = settings(max_examples=EXAMPLES or 12, deadline=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

#: exceptions a damaged chunk may raise when read
CHUNK_ERRORS = (ChunkDecodeError, ValueError, RuntimeError, OSError)

# (id, v2 compressor config, v2 filters) -- every bytes codec, and filter chains in front
CODECS = [
    ("raw", None, None),
    ("blosc-lz4-shuffle", {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}, None),
    ("blosc-zstd-bitshuffle", {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 256}, None),
    ("blosc-blosclz-noshuffle", {"id": "blosc", "cname": "blosclz", "clevel": 9, "shuffle": 0, "blocksize": 0}, None),
    ("blosc-zlib", {"id": "blosc", "cname": "zlib", "clevel": 1, "shuffle": 1, "blocksize": 0}, None),
    ("zstd", {"id": "zstd", "level": 1}, None),
    ("lz4", {"id": "lz4", "acceleration": 1}, None),
    ("zlib", {"id": "zlib", "level": 1}, None),
    ("gzip", {"id": "gzip", "level": 1}, None),
    ("bz2", {"id": "bz2", "level": 1}, None),
    ("lzma", {"id": "lzma", "format": 1, "check": -1, "preset": 1, "filters": None}, None),
    ("delta-zlib", {"id": "zlib", "level": 1}, [{"id": "delta", "dtype": "<i4"}]),
    ("shuffle-zstd", {"id": "zstd", "level": 1}, [{"id": "shuffle", "elementsize": 4}]),
    ("crc32", None, [{"id": "crc32"}]),
]
SHAPE, CHUNKS = (40, 30), (16, 16)
DATA = (np.arange(np.prod(SHAPE), dtype="<i4").reshape(SHAPE) // 7) * 3


def _array(name: str, store, fmt: int = 2):
    _, comp, filters = next(c for c in CODECS if c[0] == name)
    from chunkzip.codecs.registry import get_codec

    kw = dict(compressor=get_codec(comp) if comp else None,
              filters=[get_codec(f) for f in filters] if filters else None)
    if fmt == 3 and filters:
        kw = dict(compressors=[get_codec(f) for f in filters] + ([get_codec(comp)] if comp else []))
        if filters[0]["id"] in ("delta", "shuffle"):
            pytest.skip("array→array filters with v3 codec names: covered by v2")
    return cz.array(DATA, chunks=CHUNKS, dtype="<i4", store=store, zarr_format=fmt, fill_value=-1, **kw)


_STORED: dict = {}


def _fresh(name: str, store):
    """The array ``name`` in ``store``: written once per codec, then copied in."""
    if name not in _STORED:
        mem = MemoryStore()
        _array(name, mem)
        _STORED[name] = {k: mem.get(k) for k in mem.list_prefix("")}
    for k, v in _STORED[name].items():
        store.set(k, v)
    return cz.open_array(store, mode="r+")


def _reference_chunk(name: str, raw: bytes) -> np.ndarray | None:
    """What numcodecs makes of ``raw`` (None when it refuses it)."""
    _, comp, filters = next(c for c in CODECS if c[0] == name)
    data = raw
    try:
        if comp is not None:
            data = numcodecs.get_codec(dict(comp)).decode(data)
        for f in reversed(filters or []):
            data = numcodecs.get_codec(dict(f)).decode(data)
        buf = np.frombuffer(bytes(memoryview(data).cast("B")) if not isinstance(data, np.ndarray)
                            else np.ascontiguousarray(data).tobytes(), dtype="<i4")
    except Exception:
        return None
    if buf.size != CHUNKS[0] * CHUNKS[1]:
        return None
    return buf.reshape(CHUNKS)


def _read_both(z):
    """Read ``z`` on both paths; return the result or the exception of each."""
    results = []
    for fast in (True, False):
        pipeline.FAST_READ = fast
        try:
            results.append(z[...])
        except CHUNK_ERRORS as e:
            results.append(e)
        finally:
            pipeline.FAST_READ = True
    return results


@st.composite
def mutations(draw, n: int):
    """A list of edits to a buffer of ``n`` bytes: byte writes, int32 writes (header
    fields), truncation, extension."""
    ops = draw(st.lists(st.one_of(
        st.tuples(st.just("byte"), st.integers(0, max(n - 1, 0)), st.integers(0, 255)),
        st.tuples(st.just("i32"), st.integers(0, 40), st.sampled_from(
            [0, 1, -1, 2**31 - 1, -2**31, 16, 32, 255, 256, 1024, 4096, 4 * 256, 2**24]) | st.integers(-2**31, 2**31 - 1)),
        st.tuples(st.just("cut"), st.integers(0, n), st.just(0)),
        st.tuples(st.just("grow"), st.integers(1, 64), st.integers(0, 255)),
    ), min_size=1, max_size=4))
    return ops


def _apply(raw: bytes, ops) -> bytes:
    b = bytearray(raw)
    for op, a, v in ops:
        if op == "byte" and b:
            b[a % len(b)] = v
        elif op == "i32" and len(b) >= a + 4:
            struct.pack_into("<i", b, a, v)
        elif op == "cut":
            del b[a:]
        elif op == "grow":
            b += bytes([v]) * a
    return bytes(b)


@pytest.mark.parametrize("name", [c[0] for c in CODECS])
@FUZZ
@given(data=st.data())
def test_fuzz_chunks(name, data, tmp_path_factory):
    local = data.draw(st.booleans(), label="local store")
    store = LocalStore(str(tmp_path_factory.mktemp("f"))) if local else MemoryStore()
    z = _fresh(name, store)
    key = data.draw(st.sampled_from(["0.0", "1.1", "2.1"]), label="chunk")
    good = store.get(key)
    ops = data.draw(mutations(len(good)), label="edits")
    bad = _apply(good, ops)
    store.set(key, bad)
    fast, slow = _read_both(z)
    ref = _reference_chunk(name, bad)
    i, j = map(int, key.split("."))
    region = (slice(i * 16, (i + 1) * 16), slice(j * 16, (j + 1) * 16))
    for got in (fast, slow):
        if isinstance(got, BaseException):
            continue
        # a decoded chunk must be what numcodecs decodes (edge chunks: their in-array part)
        assert ref is not None, f"{name}: chunk {key} decoded although numcodecs refuses it"
        part = got[region]
        np.testing.assert_array_equal(part, ref[:part.shape[0], :part.shape[1]])
        rest = got.copy()
        rest[region] = DATA[region]
        np.testing.assert_array_equal(rest, DATA)
    if not isinstance(fast, BaseException) and not isinstance(slow, BaseException):
        np.testing.assert_array_equal(fast, slow)


def _json_values():
    leaf = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from([0, 1, -1, 2**31, 2**63, 2**64])
            | st.floats(allow_nan=False) | st.text(max_size=8)
            | st.sampled_from(["<i4", "|S0", "<U0", "(3,)|S1", "bytes", "little", "middle", "regular", "default",
                               "v2", "array", "group", "int32", "NaN", "zstd", "blosc", "/", "."]))
    return st.recursive(leaf, lambda ch: st.lists(ch, max_size=3) | st.dictionaries(
        st.sampled_from(["name", "configuration", "id", "endian", "order", "chunk_shape", "separator",
                         "fields", "length_bytes", "level", "cname", "blocksize", "x"]), ch, max_size=3),
        max_leaves=8)


def _paths(doc, prefix=()):
    """Every (path) to a value inside a JSON document."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _set_path(doc, path, value, delete: bool):
    if not path:
        return value
    cur = doc
    for p in path[:-1]:
        cur = cur[p]
    if delete and isinstance(cur, dict):
        del cur[path[-1]]
    else:
        cur[path[-1]] = value
    return doc


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("name", ["raw", "blosc-lz4-shuffle", "zstd", "gzip", "crc32"])
@FUZZ
@given(data=st.data())
def test_fuzz_metadata(fmt, name, data):
    store = MemoryStore()
    _array(name, store, fmt)
    key = ".zarray" if fmt == 2 else "zarr.json"
    doc = json.loads(store.get(key))
    for _ in range(data.draw(st.integers(1, 3), label="n edits")):
        paths = list(_paths(doc))
        path = data.draw(st.sampled_from(paths), label="path")
        doc = _set_path(doc, path, data.draw(_json_values(), label="value"),
                        data.draw(st.booleans(), label="delete"))
    store.set(key, json.dumps(doc).encode())
    try:
        z = cz.open_array(store, mode="r")
    except MetadataError:
        return
    except ValueError as e:  # e.g. "holds a group", a missing array
        assert type(e).__name__ in ("MetadataError",), repr(e)
        return
    except FileNotFoundError:
        return
    except FileExistsError:  # ContainsArrayError: the document now says "group"
        return
    fast, slow = _read_both(z)
    if not isinstance(fast, BaseException) and not isinstance(slow, BaseException):
        np.testing.assert_array_equal(fast, slow)


@FUZZ
@given(raw=st.binary(max_size=200) | st.sampled_from([b"[" * 50_000, b'{"a":' * 20_000]))
def test_fuzz_garbage_documents(raw):
    for key in (".zarray", "zarr.json"):
        try:
            cz.open_array(MemoryStore({key: raw}), mode="r")
        except (MetadataError, FileNotFoundError, FileExistsError):
            pass
