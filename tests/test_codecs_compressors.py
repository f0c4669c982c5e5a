"""Compressors: Zstd, LZ4, Zlib, GZip, BZ2, LZMA (numcodecs-compatible)."""
from __future__ import annotations

import gzip
import lzma
import zlib

import numcodecs
import numcodecs.zstd
import numpy as np
import pytest
import zstandard

from chunkzip._ext import _compress
from chunkzip.codecs import get_codec, get_codec_v3
from chunkzip.codecs.bz2 import BZ2
from chunkzip.codecs.lz4 import LZ4
from chunkzip.codecs.lzma import LZMA
from chunkzip.codecs.zlib import GZip, Zlib
from chunkzip.codecs.zstd import Zstd

from codec_helpers import (
    check_config,
    check_encode_decode,
    check_numcodecs_cross,
    check_v3_config,
    fuzz_decoder,
    test_arrays,
)

SPEC_LZMA_FILTERS = [dict(id=lzma.FILTER_DELTA, dist=4), dict(id=lzma.FILTER_LZMA2, preset=1)]

# (our codec, the equivalent numcodecs codec, byte-identical encodings?)
CASES = [
    (Zstd(), numcodecs.Zstd(), True),
    (Zstd(level=1), numcodecs.Zstd(level=1), True),
    (Zstd(level=-3), numcodecs.Zstd(level=-3), True),
    (Zstd(level=9, checksum=True), numcodecs.Zstd(level=9, checksum=True), True),
    (LZ4(), numcodecs.LZ4(), True),
    (LZ4(acceleration=10), numcodecs.LZ4(acceleration=10), True),
    (Zlib(), numcodecs.Zlib(), True),
    (Zlib(level=9), numcodecs.Zlib(level=9), True),
    (GZip(), numcodecs.GZip(), False),  # numcodecs stamps the time into the header
    (GZip(level=6), numcodecs.GZip(level=6), False),
    (BZ2(), numcodecs.BZ2(), True),
    (BZ2(level=9), numcodecs.BZ2(level=9), True),
    (LZMA(), numcodecs.LZMA(), True),
    (LZMA(preset=1, check=lzma.CHECK_CRC32), numcodecs.LZMA(preset=1, check=lzma.CHECK_CRC32), True),
    (LZMA(filters=SPEC_LZMA_FILTERS), numcodecs.LZMA(filters=SPEC_LZMA_FILTERS), True),
    (LZMA(format=lzma.FORMAT_ALONE, preset=2), numcodecs.LZMA(format=lzma.FORMAT_ALONE, preset=2), True),
]
IDS = [repr(c) for c, _, _ in CASES]
ARRAYS = test_arrays()
ZSTD_SAME_VERSION = _compress.ZSTD_VERSION_NUMBER == numcodecs.zstd.VERSION_NUMBER


@pytest.mark.parametrize("codec", [c for c, _, _ in CASES], ids=IDS)
def test_encode_decode_all_buffer_types(codec):
    for arr in ARRAYS:
        check_encode_decode(codec, arr)
    check_encode_decode(codec, np.zeros(0, dtype="u1"))


@pytest.mark.parametrize("codec", [c for c, _, _ in CASES], ids=IDS)
def test_config_round_trip(codec):
    check_config(codec)
    check_v3_config(codec)


def test_v3_names():
    check_v3_config(Zstd(level=3, checksum=True), "zstd")
    check_v3_config(GZip(level=5), "gzip")
    check_v3_config(LZ4(), "numcodecs.lz4")
    check_v3_config(Zlib(), "numcodecs.zlib")
    check_v3_config(BZ2(), "numcodecs.bz2")
    check_v3_config(LZMA(filters=SPEC_LZMA_FILTERS), "numcodecs.lzma")
    assert get_codec_v3({"name": "zstd", "configuration": {"level": 5, "checksum": False}}) == Zstd(5)
    # the names numcodecs.zarr3 used are read too
    assert get_codec_v3({"name": "numcodecs.zstd", "configuration": {"level": 5}}) == Zstd(5)
    assert get_codec_v3({"name": "numcodecs.gzip", "configuration": {"level": 2}}) == GZip(2)


def test_v3_names_match_zarr_python():
    zarr_codecs = pytest.importorskip("zarr.codecs")
    from zarr.registry import get_codec_class

    assert get_codec_class("zstd") is zarr_codecs.ZstdCodec
    assert get_codec_class("gzip") is zarr_codecs.GzipCodec
    for codec in (LZ4(), Zlib(), BZ2(), LZMA()):
        get_codec_class(codec.get_v3_config()["name"])  # known to zarr-python 3


@pytest.mark.parametrize("codec,nc,identical", CASES, ids=IDS)
def test_numcodecs_cross_decoding(codec, nc, identical):
    if isinstance(codec, Zstd) and not ZSTD_SAME_VERSION:
        identical = False
    # numcodecs passes ``filters`` when decoding XZ streams, which lzma refuses
    nc_decodes = not (isinstance(codec, LZMA) and codec.filters and codec.format != lzma.FORMAT_RAW)
    for arr in ARRAYS:
        check_numcodecs_cross(codec, nc, arr, identical=identical, nc_decodes=nc_decodes)


def test_gzip_deflate_stream_matches_numcodecs():
    arr = ARRAYS[0]
    ours, theirs = GZip(level=3).encode(arr), numcodecs.GZip(level=3).encode(arr)
    assert ours[:3] == theirs[:3] == b"\x1f\x8b\x08"
    # the member header differs (mtime, OS byte); the deflate data and trailer do not
    assert ours[10:] == theirs[10:]
    assert GZip().encode(arr) == GZip().encode(arr)  # deterministic: mtime 0
    assert gzip.decompress(ours) == arr.tobytes()


def test_gzip_multiple_members():
    a, b = b"first member " * 10, b"second member " * 10
    data = gzip.compress(a) + gzip.compress(b)
    assert GZip().decode(data) == a + b


def test_spec_lzma_example_round_trip():
    codec = LZMA(filters=SPEC_LZMA_FILTERS)
    data = np.arange(100_000, dtype="int32")
    enc = codec.encode(data)
    assert len(enc) < data.nbytes // 10
    dec = np.frombuffer(codec.decode(enc), dtype="int32")
    np.testing.assert_array_equal(dec, data)
    out = np.empty_like(data)
    codec.decode(enc, out=out)
    np.testing.assert_array_equal(out, data)
    cfg = codec.get_config()
    assert cfg["filters"] == [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 1}]
    assert get_codec(cfg).decode(enc) == data.tobytes()
    # numcodecs writes the same stream (its decoder cannot read it: it passes filters)
    assert numcodecs.LZMA(filters=SPEC_LZMA_FILTERS).encode(data) == enc


def test_lzma_raw_format_needs_and_uses_filters():
    filters = [dict(id=lzma.FILTER_LZMA2, preset=1)]
    codec = LZMA(format=lzma.FORMAT_RAW, filters=filters)
    data = np.arange(5000, dtype="<i4")
    enc = codec.encode(data)
    assert codec.decode(enc) == data.tobytes()
    assert numcodecs.LZMA(format=lzma.FORMAT_RAW, filters=filters).decode(enc) == data.tobytes()
    auto = LZMA(format=lzma.FORMAT_AUTO)
    assert auto.decode(LZMA().encode(data)) == data.tobytes()
    with pytest.raises(ValueError):
        auto.encode(data)


def test_zstd_frames_without_content_size():
    data = np.arange(50_000, dtype="<i4").tobytes()
    cobj = zstandard.ZstdCompressor(level=3).compressobj()
    streamed = cobj.compress(data) + cobj.flush()
    assert zstandard.get_frame_parameters(streamed).content_size == zstandard.CONTENTSIZE_UNKNOWN
    assert Zstd().decode(streamed) == data
    out = bytearray(len(data))
    assert Zstd().decode(streamed, out=out) is out and bytes(out) == data
    with pytest.raises(ValueError):
        Zstd().decode(streamed, out=bytearray(len(data) + 1))
    with pytest.raises(DECODE_ERRORS_ZSTD):
        Zstd().decode(streamed[:-7])


DECODE_ERRORS_ZSTD = (ValueError, RuntimeError)


def test_zstd_concatenated_frames_and_empty():
    a, b = b"a" * 1000, bytes(range(256)) * 10
    data = Zstd().encode(a) + Zstd(level=5).encode(b)
    assert Zstd().decode(data) == a + b
    assert Zstd().decode(Zstd().encode(b"")) == b""
    assert LZ4().decode(LZ4().encode(b"")) == b""


def test_zstd_checksum_detects_corruption():
    data = np.arange(10_000, dtype="<i4")
    enc = bytearray(Zstd(checksum=True).encode(data))
    enc[-1] ^= 0xFF  # the stored checksum
    with pytest.raises(RuntimeError):
        Zstd().decode(bytes(enc))


def test_huge_size_claims_are_refused_before_allocating():
    # LZ4: a 20-byte buffer whose prefix claims 2 GiB
    with pytest.raises(RuntimeError):
        LZ4().decode((2**31 - 1).to_bytes(4, "little") + b"\x00" * 16)
    with pytest.raises(RuntimeError):
        LZ4().decode((2**31).to_bytes(4, "little") + b"\x00" * 16)
    # Zstd: single-segment frame header with an 8-byte content size of 1 TiB, one empty
    # raw last block
    frame = b"\x28\xb5\x2f\xfd" + b"\xe0" + (2**40).to_bytes(8, "little") + b"\x01\x00\x00"
    with pytest.raises(RuntimeError):
        Zstd().decode(frame)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Zstd(level=2**40),
        lambda: Zstd(level="3"),
        lambda: Zstd(level=1.5),
        lambda: LZ4(acceleration="fast"),
        lambda: LZ4(acceleration=2**40),
        lambda: Zlib(level=10),
        lambda: Zlib(level=-2),
        lambda: GZip(level=11),
        lambda: BZ2(level=0),
        lambda: BZ2(level=10),
        lambda: LZMA(format=7),
        lambda: LZMA(check=99),
        lambda: LZMA(preset=12),
        lambda: LZMA(preset=1, filters=[dict(id=lzma.FILTER_LZMA2)]),
        lambda: LZMA(filters=[dict(id=12345)]),
        lambda: LZMA(filters=["lzma2"]),
        lambda: LZMA(format=lzma.FORMAT_RAW),
    ],
)
def test_bad_parameters(make):
    with pytest.raises(ValueError):
        make()


def test_bad_config_via_registry():
    with pytest.raises(ValueError):
        get_codec({"id": "zstd", "level": 3, "bogus": 1})
    with pytest.raises(ValueError):
        get_codec({"id": "lzma", "format": 9})


def test_bad_input_types():
    for codec in (Zstd(), LZ4(), Zlib(), GZip(), BZ2(), LZMA()):
        with pytest.raises((TypeError, ValueError)):
            codec.encode(np.array([object(), object()]))
        with pytest.raises((TypeError, ValueError)):
            codec.encode(12345)


def test_out_must_be_writable():
    enc = Zstd().encode(b"abcd")
    with pytest.raises(ValueError):
        Zstd().decode(enc, out=b"\x00" * 4)
    with pytest.raises(ValueError):
        Zlib().decode(Zlib().encode(b"abcd"), out=b"\x00" * 4)


def test_non_contiguous_input_is_encoded_in_c_order():
    arr = np.arange(400, dtype="<i4").reshape(20, 20)[:, ::2]
    for codec in (Zstd(), LZ4(), Zlib(), GZip(), BZ2(), LZMA()):
        assert codec.decode(codec.encode(arr)) == np.ascontiguousarray(arr).tobytes()


def _samples(codec):
    rng = np.random.default_rng(0)
    return [
        bytes(codec.encode(np.arange(300, dtype="<i4"))),
        bytes(codec.encode(rng.integers(0, 255, 500, dtype="u1"))),
        bytes(codec.encode(b"")),
    ]


FUZZ_CODECS = [Zstd(), Zstd(checksum=True), LZ4(), Zlib(), GZip(), BZ2(), LZMA(),
               LZMA(filters=SPEC_LZMA_FILTERS),
               LZMA(format=lzma.FORMAT_RAW, filters=[dict(id=lzma.FILTER_LZMA2, preset=1)])]


@pytest.mark.parametrize("codec", FUZZ_CODECS, ids=[repr(c) for c in FUZZ_CODECS])
def test_fuzz_decoders(codec):
    fuzz_decoder(codec, _samples(codec))()


def test_decode_releases_nothing_it_should_not():
    # decoding into a caller's buffer leaves the rest of the program's data alone
    data = np.arange(1000, dtype="<i4")
    enc = Zstd().encode(data)
    big = np.full(2000, -1, dtype="<i4")
    Zstd().decode(enc, out=big[500:1500])
    assert (big[:500] == -1).all() and (big[1500:] == -1).all()
    np.testing.assert_array_equal(big[500:1500], data)


def test_raw_zlib_stream_from_other_encoders():
    data = bytes(range(256)) * 40
    for level in (0, 1, 6, 9):
        enc = zlib.compress(data, level)
        out = bytearray(len(data))
        assert Zlib().decode(enc, out=out) is out and bytes(out) == data
    with pytest.raises((ValueError, RuntimeError)):
        Zlib().decode(zlib.compress(data)[:-3], out=bytearray(len(data)))


def test_out_must_be_contiguous():
    data = np.arange(100, dtype="<i4")
    strided = np.empty(200, dtype="<i4")[::2]
    for codec in (Zstd(), LZ4(), Zlib(), GZip(), BZ2(), LZMA()):
        with pytest.raises(ValueError):
            codec.decode(codec.encode(data), out=strided)


def test_concurrent_use_from_threads():
    # per-call contexts: many threads encoding/decoding at once give correct results
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    chunks = [np.cumsum(rng.integers(-3, 4, 20_000)).astype("<i4") for _ in range(16)]
    for codec in (Zstd(level=3, checksum=True), LZ4(), Zlib()):
        def roundtrip(arr, codec=codec):
            out = np.empty_like(arr)
            codec.decode(codec.encode(arr), out=out)
            return np.array_equal(out, arr)

        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(roundtrip, chunks * 4))


def test_reprs_as_numcodecs_prints_them():
    assert repr(Zstd(level=1)) == "Zstd(level=1)" == repr(numcodecs.Zstd(level=1))
    assert repr(Zstd(level=1, checksum=True)) == "Zstd(level=1, checksum=True)"
    assert repr(LZ4()) == "LZ4(acceleration=1)" == repr(numcodecs.LZ4())
    assert repr(Zlib(level=3)) == "Zlib(level=3)"
    assert repr(LZMA(filters=SPEC_LZMA_FILTERS)) == repr(numcodecs.LZMA(filters=SPEC_LZMA_FILTERS))
