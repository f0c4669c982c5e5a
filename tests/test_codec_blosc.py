"""Blosc codec: our Blosc1 frames must be read by numcodecs (c-blosc 1.x) and
tensorstore, and our decoder must read what numcodecs and python-blosc2 write."""
from __future__ import annotations

import array
import json
import struct
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chunkzip._ext import _blosc
from chunkzip.codecs import blosc as blosc_mod
from chunkzip.codecs.blosc import (AUTOSHUFFLE, BITSHUFFLE, NOSHUFFLE, SHUFFLE, Blosc,
                                   list_compressors)
from chunkzip.codecs.registry import get_codec, get_codec_v3

numcodecs = pytest.importorskip("numcodecs")
from numcodecs import Blosc as NCBlosc  # noqa: E402

CNAMES = ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]
SHUFFLES = [NOSHUFFLE, SHUFFLE, BITSHUFFLE, AUTOSHUFFLE]
TYPESIZES = [1, 2, 4, 8, 16, 3]
# tiny (memcpyed), around the 128-byte threshold, not divisible by blocks or typesize
SIZES = [1, 17, 127, 200, 4099, 70_001, 300_007]

_nc = NCBlosc()


def _data(nbytes: int, seed: int = 0) -> bytes:
    """Compressible but not trivial bytes (a slowly varying walk)."""
    rng = np.random.default_rng(seed + nbytes)
    return (np.cumsum(rng.integers(0, 3, nbytes)) % 251).astype(np.uint8).tobytes()


def _nc_decode(frame: bytes) -> bytes:
    return bytes(_nc.decode(frame))


# -- interoperability with numcodecs (c-blosc 1.x) ---------------------------------------

@pytest.mark.parametrize("typesize", TYPESIZES)
@pytest.mark.parametrize("shuffle", SHUFFLES)
@pytest.mark.parametrize("cname", CNAMES)
def test_roundtrip_and_numcodecs_reads_our_frames(cname, shuffle, typesize):
    codec = Blosc(cname=cname, clevel=5, shuffle=shuffle, typesize=typesize)
    for n in SIZES:
        raw = _data(n)
        frame = codec.encode(raw)  # bytes input: typesize from the codec
        assert frame[0] == 2 and frame[1] == 1
        info = _blosc.cbuffer_info(frame)
        assert info["nbytes"] == n and info["cbytes"] == len(frame)
        assert info["typesize"] == typesize
        assert codec.decode(frame) == raw
        assert _nc_decode(frame) == raw, (cname, shuffle, typesize, n, info)


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("dtype", ["u1", "<i2", "<i4", "<f8", "<c16", "S3"])
def test_ndarray_typesize_from_itemsize(cname, dtype):
    a = (np.arange(25_000) % 97).astype(dtype)
    for shuffle in (SHUFFLE, BITSHUFFLE, AUTOSHUFFLE):
        frame = Blosc(cname, 5, shuffle).encode(a)
        assert _blosc.cbuffer_info(frame)["typesize"] == a.dtype.itemsize
        if shuffle == AUTOSHUFFLE:
            want = BITSHUFFLE if a.dtype.itemsize == 1 else SHUFFLE
            assert _blosc.cbuffer_info(frame)["shuffle"] == want
        assert len(frame) < a.nbytes  # it compresses
        assert _nc_decode(frame) == a.tobytes()
        back = np.empty_like(a)
        assert Blosc().decode(frame, out=back) is back
        np.testing.assert_array_equal(back, a)


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("shuffle", [NOSHUFFLE, SHUFFLE, BITSHUFFLE])
def test_incompressible_gives_memcpyed_frame(cname, shuffle):
    raw = np.random.default_rng(1).integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    frame = Blosc(cname, 9, shuffle, typesize=4).encode(raw)
    info = _blosc.cbuffer_info(frame)
    assert info["memcpyed"] and len(frame) == len(raw) + 16
    assert Blosc().decode(frame) == raw
    assert _nc_decode(frame) == raw


def test_clevel0_and_tiny_inputs_are_memcpyed():
    for n in (1, 5, 127):
        raw = _data(n)
        frame = Blosc("zstd", 5, SHUFFLE, typesize=4).encode(raw)
        assert _blosc.cbuffer_info(frame)["memcpyed"]
        assert _nc_decode(frame) == raw
    raw = _data(10_000)
    frame = Blosc("lz4", 0).encode(raw)
    assert _blosc.cbuffer_info(frame)["memcpyed"] and _nc_decode(frame) == raw


def test_empty_buffer():
    for cname in CNAMES:
        frame = Blosc(cname).encode(b"")
        assert len(frame) == 16 and _blosc.cbuffer_sizes(frame)[0] == 0
        assert Blosc().decode(frame) == b""
        assert len(Blosc().decode(frame, out=bytearray())) == 0


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("blocksize", [128, 1000, 4096, 65_536, 10**7])
def test_explicit_blocksize(cname, blocksize):
    raw = _data(200_003)
    for typesize, shuffle in ((4, SHUFFLE), (8, BITSHUFFLE), (3, SHUFFLE), (1, BITSHUFFLE)):
        frame = Blosc(cname, 5, shuffle, blocksize=blocksize, typesize=typesize).encode(raw)
        bs = _blosc.cbuffer_sizes(frame)[2]
        expected = min(blocksize, len(raw))
        expected -= expected % typesize
        assert bs == expected
        assert Blosc().decode(frame) == raw
        assert _nc_decode(frame) == raw


def test_split_modes():
    raw = _data(100_000)
    for cname in CNAMES:
        for split in (-1, 0, 1):
            frame = _blosc.compress(raw, 4, 5, SHUFFLE, cname, 0, split)
            info = _blosc.cbuffer_info(frame)
            if split == 1:
                assert info["split"]
            if split == 0:
                assert not info["split"]
            if split == -1:
                assert info["split"] == (cname != "zstd")
            assert _blosc.decompress(frame) == raw
            assert _nc_decode(frame) == raw


def test_automatic_blocksize_grows_with_clevel():
    sizes = [_blosc.blocksize_for(4 << 20, 4, clevel, "zstd") for clevel in range(1, 10)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert all(s % 4 == 0 for s in sizes)
    assert _blosc.blocksize_for(1000, 4, 5, "lz4") == 1000


# -- tensorstore reads our frames ----------------------------------------------------------

def _write_zarr_v2(path, a, chunks, codec):
    path.mkdir()
    meta = {"zarr_format": 2, "shape": list(a.shape), "chunks": list(chunks),
            "dtype": a.dtype.str, "compressor": codec.get_config(), "fill_value": 0,
            "order": "C", "filters": None}
    (path / ".zarray").write_text(json.dumps(meta))
    for i in range(-(-a.shape[0] // chunks[0])):
        for j in range(-(-a.shape[1] // chunks[1])):
            block = np.zeros(chunks, dtype=a.dtype)
            part = a[i * chunks[0]:(i + 1) * chunks[0], j * chunks[1]:(j + 1) * chunks[1]]
            block[:part.shape[0], :part.shape[1]] = part
            (path / f"{i}.{j}").write_bytes(codec.encode(block))


@pytest.mark.parametrize("cname", CNAMES)
def test_tensorstore_reads_our_frames(tmp_path, cname):
    ts = pytest.importorskip("tensorstore")
    rng = np.random.default_rng(7)
    cases = [
        ("<i4", (70, 45), (32, 16)),
        ("<f8", (64, 64), (64, 64)),
        ("|u1", (100, 33), (40, 33)),
        ("<i2", (300, 200), (256, 128)),  # larger chunks: several blocks each
    ]
    k = 0
    for dtype, shape, chunks in cases:
        a = (rng.integers(0, 50, shape) + np.arange(shape[1])).astype(dtype)
        for shuffle in (NOSHUFFLE, SHUFFLE, BITSHUFFLE):
            k += 1
            path = tmp_path / f"a{k}"
            _write_zarr_v2(path, a, chunks, Blosc(cname, 5, shuffle))
            t = ts.open({"driver": "zarr", "kvstore": {"driver": "file", "path": str(path)}}
                        ).result()
            np.testing.assert_array_equal(t.read().result(), a)


# -- our decoder reads numcodecs and python-blosc2 frames --------------------------------

@pytest.mark.parametrize("cname", CNAMES)
def test_decode_numcodecs_frames(cname):
    import numcodecs.blosc as ncb

    for shuffle in (NOSHUFFLE, SHUFFLE, BITSHUFFLE):
        for typesize, n in ((1, 1000), (4, 400_000), (8, 80_008), (3, 10_000), (4, 1_000_003)):
            raw = _data(n)
            frame = ncb.compress(raw, cname.encode(), 5, shuffle, 0, typesize)
            assert Blosc().decode(frame) == raw, (shuffle, typesize, n)
            out = bytearray(n)
            Blosc().decode(frame, out=out)
            assert out == raw


@pytest.mark.parametrize("cname", CNAMES)
def test_python_blosc2_frames_are_not_zarr_blosc_chunks(cname):
    """c-blosc2's own frames (extended header; numcodecs cannot read them) are refused
    with a clear error, by the codec and by the read kernel alike (issue 9, finding 3)."""
    blosc2 = pytest.importorskip("blosc2")
    a = (np.arange(2_000) // 7).astype("<i4")
    codec = {"blosclz": blosc2.Codec.BLOSCLZ, "lz4": blosc2.Codec.LZ4,
             "lz4hc": blosc2.Codec.LZ4HC, "zlib": blosc2.Codec.ZLIB,
             "zstd": blosc2.Codec.ZSTD}[cname]
    for filt in (blosc2.Filter.NOFILTER, blosc2.Filter.SHUFFLE, blosc2.Filter.BITSHUFFLE):
        frame = blosc2.compress2(a, typesize=4, clevel=5, filters=[filt], codec=codec)
        with pytest.raises(ValueError, match="not a Blosc1 frame"):
            Blosc().decode(frame)


# -- partial decoding -------------------------------------------------------------------------

@pytest.mark.parametrize("cname", CNAMES)
def test_getitem(cname):
    a = (np.arange(100_000) * 3 // 5).astype("<i8")
    for shuffle in (NOSHUFFLE, SHUFFLE, BITSHUFFLE):
        codec = Blosc(cname, 5, shuffle, blocksize=16_384)
        frame = codec.encode(a)
        for start, nitems in ((0, 1), (12_345, 1), (99_999, 1), (2040, 100), (0, 100_000)):
            got = np.frombuffer(codec.decode_partial(frame, start, nitems, 8), "<i8")
            np.testing.assert_array_equal(got, a[start:start + nitems])
        out = np.empty(3, "<i8")
        assert codec.decode_partial(frame, 500, 3, 8, out=out) is out
        np.testing.assert_array_equal(out, a[500:503])
        with pytest.raises(IndexError):
            codec.decode_partial(frame, 99_999, 2, 8)
        with pytest.raises(ValueError):
            codec.decode_partial(frame, 0, 3, 8, out=np.empty(2, "<i8"))
    # typesize above 255 is stored as 1: items are addressed with the real itemsize
    b = np.arange(3000, dtype="<i8").view("V400")
    frame = Blosc(cname).encode(b)
    assert _blosc.cbuffer_info(frame)["typesize"] == 1
    assert Blosc().decode_partial(frame, 5, 2, 400) == b[5:7].tobytes()


def test_getitem_bitshuffle_ragged_tail():
    raw = _data(100_003)
    frame = Blosc("zstd", 5, BITSHUFFLE, typesize=4).encode(raw)
    assert _blosc.getitem(frame, 100_000, 3, typesize=1) == raw[100_000:]
    assert _blosc.getitem(frame, 24_990, 10) == raw[99_960:100_000]


# -- inputs of every buffer kind ------------------------------------------------------------

def test_buffer_kinds():
    a = np.arange(10_000, dtype="<i4")
    codec = Blosc("lz4", 5, SHUFFLE)
    ref = codec.encode(a)
    for buf in (a.tobytes(), bytearray(a.tobytes()), memoryview(a), array.array("i", a)):
        assert codec.decode(codec.encode(buf)) == a.tobytes()
    f = np.asfortranarray(a.reshape(100, 100))  # F order: encoded in memory order
    assert codec.decode(codec.encode(f)) == f.tobytes(order="F")
    assert codec.encode(a.reshape(100, 100)) == ref
    with pytest.raises(ValueError):
        codec.encode(a[::2])


# -- configuration --------------------------------------------------------------------------

def test_config_v2_json_roundtrip():
    codec = Blosc(cname="zstd", clevel=3, shuffle=BITSHUFFLE, blocksize=0)
    cfg = codec.get_config()
    assert cfg == {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0}
    again = get_codec(json.loads(json.dumps(cfg)))
    assert isinstance(again, Blosc) and again == codec
    assert "typesize" not in Blosc(typesize=4).get_config()
    # numcodecs' own codec objects and configs are accepted
    assert get_codec(NCBlosc(cname="lz4", clevel=5, shuffle=1)) == Blosc()
    assert numcodecs.get_codec(dict(cfg)).get_config() == cfg


def test_config_v3_roundtrip():
    codec = Blosc("lz4", 5, AUTOSHUFFLE).evolve(np.dtype("<f8"))
    cfg = codec.get_v3_config()
    assert cfg == {"name": "blosc", "configuration": {"typesize": 8, "cname": "lz4",
                                                      "clevel": 5, "shuffle": "shuffle",
                                                      "blocksize": 0}}
    back = get_codec_v3(json.loads(json.dumps(cfg)))
    assert back == codec and back.typesize == 8 and back.shuffle == SHUFFLE
    assert Blosc(shuffle=AUTOSHUFFLE).evolve(np.dtype("u1")).shuffle == BITSHUFFLE
    assert Blosc(shuffle=NOSHUFFLE).evolve(np.dtype("u1")).get_v3_config()[
        "configuration"]["shuffle"] == "noshuffle"
    with pytest.raises(ValueError):
        Blosc.from_v3_config({"cname": "lz4", "shuffle": "sideways"})


def test_config_v3_matches_zarr_python():
    zarr_blosc = pytest.importorskip("zarr.codecs").BloscCodec
    ours = Blosc("zstd", 3, BITSHUFFLE, typesize=4).get_v3_config()
    theirs = zarr_blosc(typesize=4, cname="zstd", clevel=3, shuffle="bitshuffle",
                        blocksize=0).to_dict()
    assert ours == theirs
    assert list(ours["configuration"]) == list(theirs["configuration"])


def test_equality_repr_constants():
    assert Blosc() == Blosc("lz4", 5, SHUFFLE, 0)
    assert Blosc() != Blosc("zstd")
    assert hash(Blosc()) == hash(Blosc())
    assert repr(Blosc("zstd", 3, BITSHUFFLE)) == \
        "Blosc(cname='zstd', clevel=3, shuffle=BITSHUFFLE, blocksize=0)"
    assert repr(Blosc()) == "Blosc(cname='lz4', clevel=5, shuffle=SHUFFLE, blocksize=0)"
    assert (Blosc.NOSHUFFLE, Blosc.SHUFFLE, Blosc.BITSHUFFLE, Blosc.AUTOSHUFFLE) == \
        (0, 1, 2, -1)
    assert list_compressors() == ["blosclz", "lz4", "lz4hc", "zlib", "zstd"]


@pytest.mark.parametrize("kwargs", [
    {"clevel": -1}, {"clevel": 10}, {"cname": "snappy"}, {"cname": "LZ4"},
    {"shuffle": 3}, {"shuffle": -2}, {"blocksize": -1}, {"typesize": 0},
    {"clevel": 2.5},
])
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        Blosc(**kwargs)


def test_too_large_input_rejected():
    big = np.empty(2**31 - 16, np.uint8)  # never touched: no real memory used
    with pytest.raises(ValueError, match="limit"):
        Blosc().encode(big)
    with pytest.raises(ValueError):
        _blosc.compress(b"abc", 0, 5, 1, "lz4")  # typesize 0


def test_decode_out_size_mismatch():
    frame = Blosc().encode(np.arange(1000, dtype="<i4"))
    with pytest.raises(ValueError, match="4000"):
        Blosc().decode(frame, out=np.empty(999, "<i4"))
    with pytest.raises(ValueError):
        Blosc().decode(frame, out=bytes(4000))  # read-only


# -- threads ---------------------------------------------------------------------------------

def test_nthreads_and_worker_threads():
    prev = blosc_mod.set_nthreads(2)
    try:
        assert blosc_mod.get_nthreads() == 2
        with pytest.raises(ValueError):
            blosc_mod.set_nthreads(0)
        a = (np.arange(1_000_000) // 3).astype("<i4")
        frame = Blosc("lz4", 5, SHUFFLE, blocksize=65_536).encode(a)
        results = []

        def work():
            results.append(Blosc().decode(frame) == a.tobytes())

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [True] * 4
        for flag in (True, False, None):
            blosc_mod.use_threads = flag
            assert Blosc().decode(frame) == a.tobytes()
    finally:
        blosc_mod.use_threads = None
        blosc_mod.set_nthreads(prev)


# -- corrupt input: always an exception, never a crash, hang or huge allocation --------------

_FRAMES = [
    Blosc(c, 5, s, blocksize=bs).encode((np.arange(n) // 5).astype("<i4"))
    for c, s, bs, n in (("lz4", SHUFFLE, 0, 5000), ("zstd", BITSHUFFLE, 4096, 20_000),
                        ("blosclz", NOSHUFFLE, 0, 3000), ("zlib", SHUFFLE, 2048, 3000),
                        ("lz4hc", BITSHUFFLE, 0, 40), ("lz4", SHUFFLE, 1024, 10_000))
]
_ERRORS = (ValueError, RuntimeError, IndexError)


def _try_decode(buf: bytes) -> None:
    try:
        out = _blosc.decompress(buf)
    except _ERRORS:
        return
    nbytes = _blosc.cbuffer_sizes(buf)[0]
    assert len(out) == nbytes


def _special_blosc2_chunk(buf: bytes) -> bool:
    # c-blosc2 "special value" chunks legitimately expand to any size; keep them small
    return (len(buf) >= 32 and 3 <= buf[0] <= 6 and buf[2] & 5 == 5 and
            (buf[31] >> 4) & 7 != 0 and struct.unpack_from("<i", buf, 4)[0] > 1 << 24)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(_FRAMES))),
       st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
       st.integers(0, 10**6), st.booleans())
def test_fuzz_mutated_frames(which, mutations, cut, truncate):
    buf = bytearray(_FRAMES[which])
    for pos, value in mutations:
        buf[pos % len(buf)] = value
    if truncate:
        buf = buf[:cut % (len(buf) + 1)]
    assume(not _special_blosc2_chunk(bytes(buf)))
    _try_decode(bytes(buf))
    try:
        _blosc.getitem(bytes(buf), 0, 1)
    except _ERRORS:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_garbage(buf):
    assume(not _special_blosc2_chunk(buf))
    _try_decode(buf)


@pytest.mark.parametrize("which", range(len(_FRAMES)))
@pytest.mark.parametrize("claim", [2**31 - 1, 2**31 - 33, 2**30, 10**8])
def test_header_claiming_huge_size(which, claim):
    buf = bytearray(_FRAMES[which])
    struct.pack_into("<i", buf, 4, claim)
    with pytest.raises(_ERRORS):
        _blosc.decompress(bytes(buf))
    struct.pack_into("<i", buf, 8, claim)  # blocksize too
    with pytest.raises(_ERRORS):
        _blosc.decompress(bytes(buf))


def test_truncated_and_garbage_messages():
    frame = _FRAMES[0]
    with pytest.raises(ValueError, match="truncated"):
        Blosc().decode(frame[:-1])
    with pytest.raises(ValueError):
        Blosc().decode(b"\x00" * 15)
    with pytest.raises(ValueError, match="version"):
        Blosc().decode(b"\x09" + frame[1:])
