"""Checksum codecs: CRC32, CRC32C, Adler32, Fletcher32 (numcodecs layouts)."""
from __future__ import annotations

import os
import zlib

import google_crc32c
import numcodecs
import numpy as np
import pytest
from numcodecs.fletcher32 import Fletcher32 as NCFletcher32

from chunkzip._ext import _filters
from chunkzip.codecs import get_codec, get_codec_v3
from chunkzip.codecs.checksums import CRC32, CRC32C, Adler32, Fletcher32

from codec_helpers import (
    check_config,
    check_encode_decode,
    check_numcodecs_cross,
    check_v3_config,
    fuzz_decoder,
    test_arrays,
)

CASES = [
    (CRC32(), numcodecs.CRC32()),
    (CRC32(location="end"), numcodecs.CRC32(location="end")),
    (CRC32C(), numcodecs.CRC32C()),
    (CRC32C(location="start"), numcodecs.CRC32C(location="start")),
    (Adler32(), numcodecs.Adler32()),
    (Adler32(location="end"), numcodecs.Adler32(location="end")),
    (Fletcher32(), NCFletcher32()),
]
IDS = [repr(c) for c, _ in CASES]
ARRAYS = test_arrays()


@pytest.mark.parametrize("codec,nc", CASES, ids=IDS)
def test_encode_decode_all_buffer_types(codec, nc):
    for arr in ARRAYS:
        check_encode_decode(codec, arr)
    check_encode_decode(codec, np.zeros(0, dtype="u1"))


@pytest.mark.parametrize("codec,nc", CASES, ids=IDS)
def test_numcodecs_cross_decoding(codec, nc):
    for arr in ARRAYS:
        check_numcodecs_cross(codec, nc, arr, identical=True)


@pytest.mark.parametrize("codec,nc", CASES, ids=IDS)
def test_config_round_trip(codec, nc):
    check_config(codec)
    check_v3_config(codec)
    assert codec.kind == "bytes"


def test_configs_match_numcodecs():
    assert CRC32().get_config() == {"id": "crc32"}
    assert CRC32(location="end").get_config() == {"id": "crc32", "location": "end"}
    assert CRC32C().get_config() == {"id": "crc32c"}
    assert get_codec({"id": "crc32c", "location": "end"}) == CRC32C()
    assert get_codec({"id": "adler32", "location": "start"}) == Adler32()
    assert Fletcher32().get_config() == {"id": "fletcher32"}


def test_layouts():
    data = b"chunkzip"
    assert CRC32().encode(data) == zlib.crc32(data).to_bytes(4, "little") + data
    assert CRC32(location="end").encode(data) == data + zlib.crc32(data).to_bytes(4, "little")
    assert Adler32().encode(data) == zlib.adler32(data).to_bytes(4, "little") + data
    assert CRC32C().encode(data) == data + google_crc32c.value(data).to_bytes(4, "little")
    assert Fletcher32().encode(b"abc") == b"abc" + bytes.fromhex("62c4c525")  # HDF5 value


def test_crc32c_is_the_zarr_v3_core_codec():
    assert CRC32C().get_v3_config() == {"name": "crc32c"}
    assert get_codec_v3({"name": "crc32c"}) == CRC32C()
    assert get_codec_v3("crc32c") == CRC32C()
    assert CRC32C(location="start").get_v3_config() == {
        "name": "numcodecs.crc32c", "configuration": {"location": "start"}
    }
    check_v3_config(CRC32C(location="start"), "numcodecs.crc32c")
    assert get_codec_v3({"name": "numcodecs.crc32c", "configuration": {}}) == CRC32C()
    check_v3_config(CRC32(), "numcodecs.crc32")
    check_v3_config(Adler32(), "numcodecs.adler32")
    check_v3_config(Fletcher32(), "numcodecs.fletcher32")


def test_crc32c_matches_zarr_python_core_codec():
    import asyncio

    from zarr.codecs import Crc32cCodec
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.buffer.cpu import Buffer
    from zarr.core.dtype import UInt8

    spec = ArraySpec(
        shape=(1000,), dtype=UInt8(), fill_value=0,
        config=ArrayConfig(order="C", write_empty_chunks=True),
        prototype=default_buffer_prototype(),
    )
    data = os.urandom(1000)
    [enc] = asyncio.run(Crc32cCodec().encode([(Buffer.from_bytes(data), spec)]))
    assert enc.to_bytes() == CRC32C().encode(data)
    [dec] = asyncio.run(Crc32cCodec().decode([(Buffer.from_bytes(CRC32C().encode(data)), spec)]))
    assert dec.to_bytes() == data


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1001, 65_537, 1 << 20])
def test_crc32c_kernels(n):
    data = os.urandom(n)
    expected = google_crc32c.value(data)
    assert _filters.crc32c(data) == expected
    assert _filters.crc32c_software(data) == expected
    # unaligned starts and chained updates
    for k in (1, 3, 5):
        if n > k:
            assert _filters.crc32c(memoryview(data)[k:]) == google_crc32c.value(data[k:])
    half = n // 2
    assert _filters.crc32c(data[half:], _filters.crc32c(data[:half])) == expected
    assert _filters.crc32c_software(data[half:], _filters.crc32c_software(data[:half])) == expected


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 719, 720, 721, 1440, 100_001])
def test_fletcher32_matches_numcodecs(n):
    for data in (os.urandom(n), b"\xff" * n, b"\x00" * n):
        assert Fletcher32().encode(data) == bytes(NCFletcher32().encode(data))


@pytest.mark.parametrize("codec,nc", CASES, ids=IDS)
def test_corruption_detected(codec, nc):
    enc = bytearray(codec.encode(np.arange(100, dtype="<i4")))
    enc[len(enc) // 2] ^= 0x10
    with pytest.raises(RuntimeError):
        codec.decode(bytes(enc))
    with pytest.raises(ValueError):
        codec.decode(b"abc")


def test_decode_returns_payload_view():
    enc = CRC32C().encode(b"hello world")
    dec = CRC32C().decode(enc)
    assert bytes(dec) == b"hello world"


@pytest.mark.parametrize("make", [lambda: CRC32(location="middle"), lambda: CRC32C(location=0),
                                  lambda: Adler32(location="START")])
def test_bad_parameters(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("codec,nc", CASES, ids=IDS)
def test_fuzz_decoders(codec, nc):
    samples = [codec.encode(np.arange(50, dtype="<i4")), codec.encode(b""), codec.encode(b"x")]
    fuzz_decoder(codec, samples)()
