"""Shared checks for chunkzip's numeric codecs (compressors, filters, checksums).

Every codec goes through the same helpers: encode from ndarray / bytes / bytearray /
array.array / memoryview; decode from several buffer types and into ``out``; config
round trips through JSON, ``get_codec`` and ``get_codec_v3``; equality and repr;
cross-decoding with the real numcodecs; and a bounded fuzz of every decoder.
"""
from __future__ import annotations

import array
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkzip.codecs import Codec, get_codec, get_codec_v3

# Exceptions a decoder may raise on bad input; anything else (or a crash) is a bug.
DECODE_ERRORS = (ValueError, RuntimeError)

_TYPECODES = {
    "i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I",
    "i8": "q", "u8": "Q", "f4": "f", "f8": "d",
}


def test_arrays() -> list[np.ndarray]:
    """A few arrays of different dtypes, shapes and orders (fixed seed)."""
    rng = np.random.default_rng(42)
    return [
        np.arange(1000, dtype="<i4"),
        np.arange(1000, dtype="<i8").reshape(10, 100, order="F"),
        np.linspace(1000, 1001, 1000, dtype="<f8"),
        np.linspace(-1, 1, 1000, dtype="<f4").reshape(10, 100),
        rng.integers(0, 4, size=(4, 5, 50), dtype="<u2"),
        rng.integers(-1000, 1000, size=777, dtype="<i2"),
        rng.integers(0, 2, size=1000, dtype="?"),
        np.frombuffer(b"chunkzip " * 100, dtype="u1"),
    ]


test_arrays.__test__ = False  # not a test, despite its name


def buffer_forms(arr: np.ndarray) -> list[Any]:
    """``arr``'s bytes as ndarray, bytes, bytearray, memoryview and (if possible) array.array."""
    raw = arr.tobytes(order="A")
    forms: list[Any] = [arr, raw, bytearray(raw), memoryview(raw)]
    tc = _TYPECODES.get(arr.dtype.str[1:])
    if tc is not None and arr.dtype.isnative:
        a = array.array(tc)
        a.frombytes(raw)
        forms.append(a)
    return forms


def as_bytes(obj: Any) -> bytes:
    """The bytes of an encoded/decoded result (ndarray, bytes, memoryview...)."""
    if isinstance(obj, np.ndarray):
        return obj.tobytes(order="A")
    return bytes(memoryview(obj).cast("B")) if not isinstance(obj, bytes) else obj


def check_encode_decode(
    codec: Codec, arr: np.ndarray, lossless: bool = True, ndarray_only: bool = False
) -> bytes:
    """Encode ``arr`` from every buffer form and decode back; return the encoding.

    All forms must encode to the same bytes; the decoding (lossless codecs) must give
    back ``arr``'s bytes, also when decoding into ``out`` and from every encoded form.
    """
    forms = [arr] if ndarray_only else buffer_forms(arr)
    encodings = [as_bytes(codec.encode(form)) for form in forms]
    enc = encodings[0]
    for other in encodings[1:]:
        assert other == enc, f"{codec!r}: encoding depends on the input buffer type"
    expected = arr.tobytes(order="A")
    decoded_default = as_bytes(codec.decode(enc))
    if lossless:
        assert decoded_default == expected
    else:
        assert len(decoded_default) == len(expected)
    for form in (enc, bytearray(enc), memoryview(enc), np.frombuffer(enc, dtype="u1")):
        assert as_bytes(codec.decode(form)) == decoded_default
    # decode into out: same dtype/shape as the original, and a flat byte buffer
    out = np.empty_like(arr)
    res = codec.decode(enc, out=out)
    assert res is out
    assert out.tobytes(order="A") == decoded_default
    ba = bytearray(len(expected))
    assert codec.decode(enc, out=ba) is ba
    assert bytes(ba) == decoded_default
    # a wrong-sized out is refused with a clear error
    with pytest.raises(ValueError):
        codec.decode(enc, out=np.empty(arr.nbytes + 8, dtype="u1"))
    if arr.nbytes:
        with pytest.raises(ValueError):
            codec.decode(enc, out=np.empty(max(arr.nbytes - 1, 0), dtype="u1"))
    return enc


def check_config(codec: Codec) -> None:
    """Config round trip through JSON and get_codec; equality, hash and repr."""
    cfg = codec.get_config()
    assert cfg["id"] == codec.codec_id
    restored = get_codec(json.loads(json.dumps(cfg)))
    assert type(restored) is type(codec)
    assert restored == codec
    assert hash(restored) == hash(codec)
    assert restored.get_config() == cfg
    assert repr(restored) == repr(codec)
    assert repr(codec).startswith(type(codec).__name__ + "(")


def check_v3_config(codec: Codec, expected_name: str | None = None) -> None:
    """Zarr v3 form round trip through JSON and get_codec_v3."""
    entry = codec.get_v3_config()
    if expected_name is not None:
        assert entry["name"] == expected_name
    restored = get_codec_v3(json.loads(json.dumps(entry)))
    assert type(restored) is type(codec)
    assert restored == codec


def check_numcodecs_cross(
    codec: Codec,
    nc_codec: Any,
    arr: np.ndarray,
    identical: bool = True,
    lossless: bool = True,
    nc_decodes: bool = True,
) -> None:
    """numcodecs decodes what we encode and vice versa; identical bytes where deterministic."""
    ours = as_bytes(codec.encode(arr))
    theirs = as_bytes(nc_codec.encode(arr))
    if identical:
        assert ours == theirs, f"{codec!r}: encoding differs from numcodecs'"
    assert get_codec(nc_codec.get_config()) == codec
    assert codec.get_config() == nc_codec.get_config()
    expected = arr.tobytes(order="A")
    if lossless:
        if nc_decodes:
            assert as_bytes(nc_codec.decode(ours)) == expected
        assert as_bytes(codec.decode(theirs)) == expected
    else:
        assert as_bytes(codec.decode(theirs)) == as_bytes(nc_codec.decode(theirs))
        assert as_bytes(codec.decode(ours)) == as_bytes(nc_codec.decode(ours))


def mutations() -> st.SearchStrategy:
    """(kind, position, byte value, garbage) describing how to damage a valid encoding."""
    return st.tuples(
        st.sampled_from(["truncate", "flip", "set", "append", "garbage", "prefix"]),
        st.integers(min_value=0, max_value=10**6),
        st.integers(min_value=0, max_value=255),
        st.binary(min_size=0, max_size=64),
    )


def damage(enc: bytes, kind: str, pos: int, value: int, garbage: bytes) -> bytes:
    if not enc or kind == "garbage":
        return garbage
    i = pos % len(enc)
    if kind == "truncate":
        return enc[:i]
    if kind == "flip":
        return enc[:i] + bytes([enc[i] ^ (1 << (value % 8))]) + enc[i + 1:]
    if kind == "set":
        return enc[:i] + bytes([value]) + enc[i + 1:]
    if kind == "append":
        return enc + garbage
    return garbage + enc  # prefix


def fuzz_decoder(codec: Codec, samples: list[bytes]):
    """A hypothesis test feeding damaged encodings to ``codec.decode``.

    Only the exceptions in DECODE_ERRORS may come out; no crash, hang or huge allocation.
    """

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(idx=st.integers(min_value=0, max_value=len(samples) - 1), how=mutations())
    def run(idx: int, how: tuple) -> None:
        data = damage(samples[idx], *how)
        try:
            res = codec.decode(data)
        except DECODE_ERRORS:
            return
        # whatever decodes must be a buffer of sane size
        assert len(as_bytes(res)) <= max(64 * 1024 * 1024, 300 * len(data))

    return run
