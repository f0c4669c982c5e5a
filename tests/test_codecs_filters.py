"""Numeric filters: Delta, FixedScaleOffset, Quantize, AsType, PackBits, Shuffle, BitRound."""
from __future__ import annotations

import numcodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chunkzip._ext import _filters
from chunkzip.codecs import get_codec_v3
from chunkzip.codecs.astype import AsType
from chunkzip.codecs.bitround import BitRound
from chunkzip.codecs.delta import Delta
from chunkzip.codecs.fixedscaleoffset import FixedScaleOffset
from chunkzip.codecs.packbits import PackBits
from chunkzip.codecs.quantize import Quantize
from chunkzip.codecs.shuffle import Shuffle

from codec_helpers import (
    check_config,
    check_encode_decode,
    check_numcodecs_cross,
    check_v3_config,
    fuzz_decoder,
)

rng = np.random.default_rng(1)
INT_DTYPES = ["<i1", "<u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"]
FLOAT_DTYPES = ["<f4", "<f8"]


def data_for(dtype: str, n: int = 1000) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (rng.standard_normal(n) * 100).astype(dt)
    if dt.kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=n, dtype=dt, endpoint=True)


# (codec, numcodecs codec, input array, lossless?)
CASES = [
    *[(Delta(dt), numcodecs.Delta(dt), data_for(dt), dt in INT_DTYPES) for dt in INT_DTYPES + FLOAT_DTYPES],
    (Delta(">i4"), numcodecs.Delta(">i4"), data_for("<i4").astype(">i4"), True),
    (Delta("<f2"), numcodecs.Delta("<f2"), np.arange(100, dtype="<f2"), True),
    (Delta("<i8", astype="<i2"), numcodecs.Delta("<i8", astype="<i2"),
     np.arange(1000, dtype="<i8") * 3 + 1000, True),
    (Delta("<c16"), numcodecs.Delta("<c16"), np.arange(50) * (1 + 2j), True),
    (FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="u1"),
     numcodecs.FixedScaleOffset(offset=1000, scale=10, dtype="<f8", astype="u1"),
     np.linspace(1000, 1001, 1000, dtype="<f8"), False),
    (FixedScaleOffset(offset=0.5, scale=2.5, dtype="<f4", astype="<i2"),
     numcodecs.FixedScaleOffset(offset=0.5, scale=2.5, dtype="<f4", astype="<i2"),
     np.linspace(-100, 100, 333, dtype="<f4"), False),
    (FixedScaleOffset(offset=5, scale=1, dtype="<i4", astype="<i2"),
     numcodecs.FixedScaleOffset(offset=5, scale=1, dtype="<i4", astype="<i2"),
     np.arange(1000, dtype="<i4"), True),
    (Quantize(digits=1, dtype="<f8"), numcodecs.Quantize(digits=1, dtype="<f8"),
     np.linspace(0, 1, 1000, dtype="<f8"), False),
    (Quantize(digits=3, dtype="<f8", astype="<f4"), numcodecs.Quantize(digits=3, dtype="<f8", astype="<f4"),
     np.linspace(0, 1, 1000, dtype="<f8"), False),
    (AsType(encode_dtype="<f4", decode_dtype="<f8"), numcodecs.AsType(encode_dtype="<f4", decode_dtype="<f8"),
     np.linspace(0, 1, 1000, dtype="<f8"), False),
    (AsType(encode_dtype="<i2", decode_dtype="<i8"), numcodecs.AsType(encode_dtype="<i2", decode_dtype="<i8"),
     np.arange(1000, dtype="<i8"), True),
    (PackBits(), numcodecs.PackBits(), data_for("?", 1000), True),
    (PackBits(), numcodecs.PackBits(), data_for("?", 1003), True),
    *[(Shuffle(es), numcodecs.Shuffle(es), data_for("<i8", 1000), True) for es in (0, 1, 2, 4, 8, 16)],
]
IDS = [f"{c!r}-{a.dtype.str}-{a.size}" for c, _, a, _ in CASES]


@pytest.mark.parametrize("codec,nc,arr,lossless", CASES, ids=IDS)
def test_encode_decode_all_buffer_types(codec, nc, arr, lossless):
    check_encode_decode(codec, arr, lossless=lossless)
    check_encode_decode(codec, arr.reshape(-1, 10 if arr.size % 10 == 0 else 1), lossless=lossless)


@pytest.mark.parametrize("codec,nc,arr,lossless", CASES, ids=IDS)
def test_numcodecs_cross_decoding(codec, nc, arr, lossless):
    check_numcodecs_cross(codec, nc, arr, identical=True, lossless=lossless)


@pytest.mark.parametrize("codec,nc,arr,lossless", CASES, ids=IDS)
def test_config_round_trip(codec, nc, arr, lossless):
    check_config(codec)
    check_v3_config(codec)
    assert repr(codec) == repr(nc) or isinstance(codec, (Shuffle,))


def test_kind_and_v3_names_follow_zarr_python():
    from zarr.codecs import numcodecs as zn

    pairs = [
        (Delta("<i4"), zn.Delta), (FixedScaleOffset(0, 1, "<f8"), zn.FixedScaleOffset),
        (Quantize(2, "<f8"), zn.Quantize), (AsType("<f4", "<f8"), zn.AsType),
        (PackBits(), zn.PackBits), (BitRound(3), zn.BitRound), (Shuffle(4), zn.Shuffle),
    ]
    from zarr.abc.codec import ArrayArrayCodec, BytesBytesCodec

    for codec, zcls in pairs:
        assert codec.get_v3_config()["name"] == zcls.codec_name
        expected = "array" if issubclass(zcls, ArrayArrayCodec) else "bytes"
        assert issubclass(zcls, (ArrayArrayCodec, BytesBytesCodec))
        assert codec.kind == expected, codec


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
def test_delta_kernel_matches_numpy(dtype):
    arr = data_for(dtype, 10_001)
    enc = Delta(dtype).encode(arr)
    ref = np.empty_like(arr)
    ref[0] = arr[0]
    ref[1:] = np.diff(arr)
    assert enc.tobytes() == ref.tobytes()
    assert Delta(dtype).decode(enc).tobytes() == np.cumsum(enc, dtype=arr.dtype).tobytes()
    assert Delta(dtype).decode(enc).tobytes() == arr.tobytes() or arr.dtype.kind == "f"


def test_delta_in_place_and_empty():
    arr = np.arange(100, dtype="<i4") ** 2
    buf = arr.copy()
    _filters.delta_encode(buf.view("u4"), buf.view("u4"))
    np.testing.assert_array_equal(buf, Delta("<i4").encode(arr))
    _filters.delta_decode(buf.view("u4"), buf.view("u4"))
    np.testing.assert_array_equal(buf, arr)
    assert Delta("<i4").encode(np.zeros(0, "<i4")).size == 0
    assert Delta("<i4").decode(b"").size == 0


def test_delta_config_as_numcodecs():
    assert Delta(dtype="i4").get_config() == {"id": "delta", "dtype": "<i4", "astype": "<i4"}
    assert Delta("<i8", astype="<i2").get_config() == numcodecs.Delta("<i8", astype="<i2").get_config()


def test_bitround():
    for dtype, bits in (("<f2", 10), ("<f4", 23), ("<f8", 52)):
        arr = (rng.standard_normal(1000) * 1000).astype(dtype)
        for keepbits in (0, 1, 5, bits):
            codec, nc = BitRound(keepbits), numcodecs.BitRound(keepbits)
            enc = codec.encode(arr)
            assert enc.dtype == arr.dtype
            assert enc.tobytes() == np.asarray(nc.encode(arr)).tobytes()
            check_encode_decode(codec, arr, lossless=keepbits == bits, ndarray_only=True)
            assert codec.decode(nc.encode(arr)).tobytes() == enc.tobytes()
        with pytest.raises(ValueError):
            BitRound(bits + 1).encode(arr)
    with pytest.raises(TypeError):
        BitRound(3).encode(np.arange(10))
    check_config(BitRound(7))
    check_v3_config(BitRound(7), "numcodecs.bitround")


def test_packbits_layout():
    enc = PackBits().encode(np.array([True, False, True], dtype=bool))
    assert enc.tolist() == [5, 0b10100000]
    assert PackBits().decode(enc).tolist() == [True, False, True]


def test_shuffle_layout():
    data = np.array([0x01020304, 0x05060708], dtype="<u4")
    assert Shuffle(4).encode(data).tolist() == [4, 8, 3, 7, 2, 6, 1, 5]
    with pytest.raises(ValueError):
        Shuffle(4).encode(b"12345")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Delta("|O"),
        lambda: Delta("<U4"),
        lambda: Delta("|S4"),
        lambda: Delta("<i4", astype="<M8[s]"),
        lambda: Delta("not a dtype"),
        lambda: FixedScaleOffset(0, 0, "<f8"),
        lambda: FixedScaleOffset("a", 1, "<f8"),
        lambda: FixedScaleOffset(0, float("nan"), "<f8"),
        lambda: FixedScaleOffset(0, 1, "|O"),
        lambda: Quantize(2, "<i4"),
        lambda: Quantize(2, "<f8", astype="<i2"),
        lambda: Quantize("2", "<f8"),
        lambda: AsType("|O", "<f8"),
        lambda: AsType("<f4", "<U3"),
        lambda: BitRound(-1),
        lambda: BitRound(53),
        lambda: BitRound(2.5),
        lambda: Shuffle(-1),
        lambda: Shuffle("4"),
    ],
)
def test_bad_parameters(make):
    with pytest.raises(ValueError):
        make()


def test_v3_round_trip_by_name():
    codec = get_codec_v3({"name": "numcodecs.delta", "configuration": {"dtype": "<i2"}})
    assert codec == Delta("<i2")


FUZZ = [
    (Delta("<i4"), data_for("<i4", 100)),
    (Delta("<f8", astype="<f4"), data_for("<f8", 100)),
    (FixedScaleOffset(1, 10, "<f8", "<i2"), data_for("<f8", 100)),
    (Quantize(2, "<f4"), data_for("<f4", 100)),
    (AsType("<f4", "<f8"), data_for("<f8", 100)),
    (PackBits(), data_for("?", 77)),
    (Shuffle(4), data_for("<i4", 100)),
    (Shuffle(8), data_for("<i4", 100)),
]


@pytest.mark.parametrize("codec,arr", FUZZ, ids=[repr(c) for c, _ in FUZZ])
def test_fuzz_decoders(codec, arr):
    samples = [codec.encode(arr).tobytes(), codec.encode(arr[:2]).tobytes()]
    fuzz_decoder(codec, samples)()


@settings(max_examples=300, deadline=None)
@given(typesize=st.integers(1, 18), n=st.integers(0, 700), seed=st.integers(0, 2**31))
def test_byte_shuffle_matches_numpy(typesize, n, seed):
    """The byte shuffle (SIMD for 2, 4, 8 and 16-byte elements, loops otherwise) against
    a NumPy transpose, for every element count around the 16-element vector steps, with
    a ragged tail of bytes."""
    from chunkzip._ext import _shuffle

    tail = seed % typesize
    raw = np.random.default_rng(seed).integers(0, 256, n * typesize + tail, dtype=np.uint8)
    body = raw[:n * typesize].reshape(n, typesize)
    want = np.concatenate([body.T.reshape(-1), raw[n * typesize:]])
    got = np.frombuffer(bytes(_shuffle.byte_shuffle(raw, typesize)), np.uint8)
    np.testing.assert_array_equal(got, want)
    back = np.frombuffer(bytes(_shuffle.byte_unshuffle(want, typesize)), np.uint8)
    np.testing.assert_array_equal(back, raw)
