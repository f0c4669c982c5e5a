"""Object codecs: vlen-utf8, vlen-bytes, vlen-array, json2, msgpack2, pickle, categorize.

Every encoding is compared byte for byte with numcodecs and decoded both ways.
"""
from __future__ import annotations

import array
import json
import pickle

import numcodecs
import numcodecs.pickles
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip.config
from chunkzip.codecs import get_codec, get_codec_v3
from chunkzip.codecs.categorize import Categorize
from chunkzip.codecs.json import JSON
from chunkzip.codecs.msgpacks import MsgPack
from chunkzip.codecs.pickles import Pickle, UnsafeDecodeError
from chunkzip.codecs.vlen import VLenArray, VLenBytes, VLenUTF8

GREETINGS = [
    "¡Hola mundo!", "Hej Världen!", "Servus Woid!", "Hei maailma!", "Xin chào thế giới",
    "Njatjeta Botë!", "Γεια σου κόσμε!", "こんにちは世界", "世界，你好！", "Helló, világ!",
    "Zdravo svete!", "เฮลโลเวิลด์",
]


def objects(*values: object) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (no broadcasting of sequences)."""
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        arr[i] = v
    return arr


@pytest.fixture(scope="module")
def text_data() -> np.ndarray:
    arr = np.array(GREETINGS * 10000, dtype=object)
    assert arr.shape == (120000,)
    return arr


@pytest.fixture(scope="module")
def bytes_data() -> np.ndarray:
    return np.array([g.encode("utf-8") for g in GREETINGS] * 10000, dtype=object)


@pytest.fixture()
def numcodecs_pickle_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numcodecs.pickles, "ALLOW_UNSAFE_PICKLE_DECODE", True, raising=False)


def assert_object_equal(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    for x, y in zip(a.ravel(), b.ravel()):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
        else:
            assert type(x) is type(y) and x == y


# -- vlen-utf8 / vlen-bytes -----------------------------------------------------------------
def test_vlen_utf8_greetings(text_data: np.ndarray) -> None:
    ours, ref = VLenUTF8(), numcodecs.VLenUTF8()
    enc = ours.encode(text_data)
    assert isinstance(enc, bytes)
    assert enc == bytes(ref.encode(text_data))
    assert_object_equal(ours.decode(enc), text_data)
    assert_object_equal(ref.decode(enc), text_data)
    assert_object_equal(ours.decode(ref.encode(text_data)), text_data)


def test_vlen_bytes_greetings(bytes_data: np.ndarray) -> None:
    ours, ref = VLenBytes(), numcodecs.VLenBytes()
    enc = ours.encode(bytes_data)
    assert enc == bytes(ref.encode(bytes_data))
    assert_object_equal(ours.decode(enc), bytes_data)
    assert_object_equal(ref.decode(enc), bytes_data)
    assert_object_equal(ours.decode(ref.encode(bytes_data)), bytes_data)


def test_vlen_none_and_empty_items() -> None:
    x = objects("a", None, "", "é")
    enc = VLenUTF8().encode(x)
    assert enc == bytes(numcodecs.VLenUTF8().encode(x))
    assert list(VLenUTF8().decode(enc)) == ["a", "", "", "é"]
    xb = objects(b"a", None, b"")
    enc = VLenBytes().encode(xb)
    assert enc == bytes(numcodecs.VLenBytes().encode(xb))
    assert list(VLenBytes().decode(enc)) == [b"a", b"", b""]
    for codec in (VLenUTF8(), VLenBytes(), VLenArray("<i8")):
        empty = codec.encode(np.empty(0, dtype=object))
        assert empty == b"\x00\x00\x00\x00"
        assert codec.decode(empty).shape == (0,)


def test_vlen_input_forms() -> None:
    codec, ref = VLenUTF8(), numcodecs.VLenUTF8()
    expected = bytes(ref.encode(np.array(["ab", "c"], dtype=object)))
    assert codec.encode(["ab", "c"]) == expected
    assert codec.encode(np.array(["ab", "c"])) == expected  # fixed-width unicode
    assert codec.encode(objects(np.str_("ab"), "c")) == expected  # str subclasses accepted
    two_d = np.array([["a", "b"], ["c", "d"]], dtype=object)
    for order in "CF":
        arr = np.asarray(two_d, order=order)
        assert codec.encode(arr) == bytes(ref.encode(arr))  # memory order, like numcodecs
    assert codec.encode(two_d[:, ::-1]) == bytes(ref.encode(np.ascontiguousarray(two_d[:, ::-1])))
    assert codec.encode(np.array("x", dtype=object)) == bytes(ref.encode(np.array("x", dtype=object)))


@pytest.mark.parametrize("codec, bad", [
    (VLenUTF8(), objects("a", 1)),
    (VLenUTF8(), objects("a", b"x")),
    (VLenBytes(), objects(b"a", "x")),
    (VLenBytes(), objects(b"a", 3.0)),
])
def test_vlen_encode_wrong_item_type(codec: object, bad: np.ndarray) -> None:
    with pytest.raises(TypeError, match="item 1"):
        codec.encode(bad)


def test_vlen_utf8_lone_surrogate_is_an_error() -> None:
    with pytest.raises(UnicodeEncodeError):
        VLenUTF8().encode(objects("\ud800"))


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview, lambda b: np.frombuffer(b, "u1"),
                                  lambda b: array.array("B", b)])
def test_vlen_decode_buffer_types(wrap: object) -> None:
    enc = VLenUTF8().encode(objects(*GREETINGS))
    assert list(VLenUTF8().decode(wrap(enc))) == GREETINGS


def test_vlen_decode_from_wider_ndarray() -> None:
    enc = VLenUTF8().encode(objects("abcd", "efgh"))  # 4 + 2 * 8 = 20 bytes
    as_u4 = np.frombuffer(enc, dtype="<u4")
    assert list(VLenUTF8().decode(as_u4)) == ["abcd", "efgh"]


def test_vlen_decode_into_out() -> None:
    x = np.array([["a", "b", "c"], ["d", "e", "f"]], dtype=object)
    codec = VLenUTF8()
    out = np.empty((2, 3), dtype=object)
    assert codec.decode(codec.encode(x), out=out) is out
    assert_object_equal(out, x)
    xf = np.asfortranarray(x)
    outf = np.empty((2, 3), dtype=object, order="F")
    codec.decode(codec.encode(xf), out=outf)
    assert_object_equal(outf, x)
    strided = np.empty((4, 6), dtype=object)[::2, ::2]
    codec.decode(codec.encode(x), out=strided)
    assert_object_equal(strided, x)
    with pytest.raises(ValueError, match="items"):
        codec.decode(codec.encode(x), out=np.empty(7, dtype=object))
    with pytest.raises(ValueError, match="object"):
        codec.decode(codec.encode(x), out=np.empty(6, dtype="U2"))


# -- vlen-array -----------------------------------------------------------------------------
def ragged(dtype: str = "<i8") -> np.ndarray:
    rng = np.random.default_rng(0)
    items = [rng.integers(-1000, 1000, size=n).astype(dtype) for n in rng.integers(0, 20, size=500)]
    return objects(*items)


@pytest.mark.parametrize("dtype", ["<i8", "<i4", "<u2", ">i8", "<f8", ">f4", "|u1"])
def test_vlen_array_ragged(dtype: str) -> None:
    x = ragged(dtype)
    ours, ref = VLenArray(dtype), numcodecs.VLenArray(dtype)
    enc = ours.encode(x)
    assert enc == bytes(ref.encode(x))
    for dec in (ours.decode(enc), ours.decode(ref.encode(x))):
        assert_object_equal(dec, x)
    assert_object_equal(ref.decode(enc), x)


def test_vlen_array_tutorial_items() -> None:
    x = objects(np.array([1, 3, 5]), np.array([4]), [7, 9, 14], None, 6)
    ours, ref = VLenArray(int), numcodecs.VLenArray(int)
    enc = ours.encode(x)
    assert enc == bytes(ref.encode(x))
    dec = ours.decode(enc)
    assert [d.tolist() for d in dec] == [[1, 3, 5], [4], [7, 9, 14], [], [6]]
    assert all(d.flags.owndata and d.flags.writeable and d.flags.aligned for d in dec)


def test_vlen_array_conversion_and_errors() -> None:
    codec = VLenArray("<i4")
    assert codec.encode(objects(np.array([1, 2], dtype=">i8"))) == bytes(
        numcodecs.VLenArray("<i4").encode(objects(np.array([1, 2], dtype=">i8"))))
    assert codec.encode(objects(np.arange(6)[::2])) == codec.encode(objects(np.array([0, 2, 4])))
    with pytest.raises(ValueError, match="1-dimensional"):
        codec.encode(objects(np.zeros((2, 2))))
    with pytest.raises(ValueError):
        codec.encode(objects("not a number"))
    with pytest.raises(ValueError, match="multiple of the item size"):
        codec.decode(b"\x01\x00\x00\x00\x03\x00\x00\x00abc")
    for bad in ("O", "U", "V0"):
        with pytest.raises(ValueError):
            VLenArray(bad)


def test_vlen_array_decode_into_out() -> None:
    x = ragged()
    out = np.empty(x.shape, dtype=object)
    assert VLenArray("<i8").decode(VLenArray("<i8").encode(x), out=out) is out
    assert_object_equal(out, x)


# -- malformed vlen buffers -----------------------------------------------------------------
MALFORMED = [
    (b"", "too short"),
    (b"\x01\x00\x00", "too short"),
    (b"\xff\xff\xff\xff", "claims 4294967295 items"),
    (b"\xff\xff\xff\x7f" + b"\x00" * 12, "claims"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x00", "claims 2 items"),
    (b"\x02\x00\x00\x00\x01\x00\x00\x00a\x00\x00\x00", "length of item 1"),
    (b"\x01\x00\x00\x00\x05\x00\x00\x00abcd", "data of item 0"),
    (b"\x01\x00\x00\x00\xff\xff\xff\xffabcd", "data of item 0"),
    (b"\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80", "data of item 1"),
]


@pytest.mark.parametrize("codec", [VLenUTF8(), VLenBytes(), VLenArray("|u1")], ids=repr)
@pytest.mark.parametrize("buf, message", MALFORMED)
def test_vlen_malformed(codec: object, buf: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        codec.decode(buf)
    out = np.array(["keep"], dtype=object)
    with pytest.raises(ValueError):
        codec.decode(buf, out=out)
    assert out[0] == "keep"  # validated before anything is written


def test_vlen_utf8_invalid_utf8() -> None:
    with pytest.raises(ValueError, match="item 1 is not valid UTF-8"):
        VLenUTF8().decode(b"\x02\x00\x00\x00\x01\x00\x00\x00a\x02\x00\x00\x00\xc3\x28")


def test_vlen_trailing_bytes_tolerated_like_numcodecs() -> None:
    buf = b"\x01\x00\x00\x00\x01\x00\x00\x00ab"
    assert list(VLenUTF8().decode(buf)) == list(numcodecs.VLenUTF8().decode(buf)) == ["a"]


def test_vlen_decode_rejects_object_input() -> None:
    with pytest.raises(TypeError):
        VLenUTF8().decode(np.array(["a"], dtype=object))


# -- json2 / msgpack2 / pickle ------------------------------------------------------------
MIXED = [
    objects(42, "foo", ["bar", "baz", "qux"], {"a": 1, "b": 2.2}, None, True, -1.5),
    np.array(GREETINGS * 100, dtype=object),
    objects([1, 2], [3, 4]),
    np.array([[1, "a", None], [2.5, "b", {"k": [1]}]], dtype=object),
    np.arange(12, dtype="<i8").reshape(3, 4),
    np.linspace(0, 1, 7),
    np.array(["ab", "c"]),
    np.empty(0, dtype=object),
    np.empty((2, 0), dtype=object),
]


def check_json_like(ours: object, ref: object, x: np.ndarray, exact: bool = True) -> None:
    enc = ours.encode(x)
    assert enc == ref.encode(x)
    expected = ref.decode(enc)
    assert expected.shape == x.shape and expected.dtype == x.dtype
    if exact:
        assert expected.tolist() == x.tolist()
    dec = ours.decode(enc)
    assert dec.shape == x.shape and dec.dtype == x.dtype
    assert dec.tolist() == expected.tolist()


@pytest.mark.parametrize("x", MIXED, ids=range(len(MIXED)))
@pytest.mark.parametrize("kwargs", [{}, {"indent": 2, "sort_keys": False, "ensure_ascii": False},
                                    {"separators": (", ", ": "), "encoding": "utf-16"}])
def test_json(x: np.ndarray, kwargs: dict) -> None:
    ours, ref = JSON(**kwargs), numcodecs.JSON(**kwargs)
    if x.ndim > 1 and x.size == 0:  # numcodecs cannot decode these; we can
        enc = ours.encode(x)
        assert enc == ref.encode(x)
        dec = ours.decode(enc)
        assert dec.shape == x.shape and dec.dtype == x.dtype
        return
    check_json_like(ours, ref, x)


def test_json_0d_and_lists() -> None:
    zero_d = np.array({"a": 1}, dtype=object)
    check_json_like(JSON(), numcodecs.JSON(), zero_d)
    assert JSON().encode([42, "foo", ["bar"]]) == numcodecs.JSON().encode([42, "foo", ["bar"]])


@pytest.mark.parametrize("x", [m for m in MIXED if m.size], ids=range(sum(1 for m in MIXED if m.size)))
@pytest.mark.parametrize("kwargs", [{}, {"use_single_float": True}, {"use_bin_type": False}])
def test_msgpack(x: np.ndarray, kwargs: dict) -> None:
    lossy = kwargs.get("use_single_float", False)  # floats go through float32
    check_json_like(MsgPack(**kwargs), numcodecs.MsgPack(**kwargs), x, exact=not lossy)


def test_msgpack_bytes_items_and_raw() -> None:
    x = objects(b"raw", "text", [b"a"])
    check_json_like(MsgPack(), numcodecs.MsgPack(), x)
    dec = MsgPack(raw=True).decode(MsgPack().encode(objects("text")))
    assert dec.tolist() == [b"text"]


@pytest.mark.parametrize("codec", [JSON(), MsgPack()], ids=repr)
@pytest.mark.parametrize("bad", [[1], {"a": 1}, [1, "<i8", [2]], [1, "zz", [1]], [1, "<i8", [-1]],
                                 [1, "<i8", "x"], [[1], "|O", [1, 1, 1]], ["a", "<i8", [1]],
                                 [1, 2, 3, "|O", [2]], [1, 2, "|O", [2, 1]], [1, 5, [1]]])
def test_json_like_structure_errors(codec: object, bad: object) -> None:
    import msgpack

    buf = json.dumps(bad).encode() if isinstance(codec, JSON) else msgpack.packb(bad)
    with pytest.raises(ValueError):
        codec.decode(buf)


@pytest.mark.parametrize("codec", [JSON(), MsgPack()], ids=repr)
def test_json_like_refuses_huge_claims(codec: object) -> None:
    import msgpack

    bad = ["x", "<U299999999", [1]]  # 22 bytes that would decode to 1.2 GB
    buf = json.dumps(bad).encode() if isinstance(codec, JSON) else msgpack.packb(bad)
    with pytest.raises(ValueError, match="items of"):
        codec.decode(buf)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(JSON_VALUES, max_size=5),
       dtype=st.sampled_from(["|O", "<i8", "<f4", "<U3", "|b1", ",O", "V8", "i8,i8", "(2,)i4", "M8[s]", "zz"]),
       shape=st.lists(st.integers(-1, 4), max_size=3) | JSON_VALUES)
def test_fuzz_json_like_structures(values: list, dtype: str, shape: object) -> None:
    import msgpack

    doc = [*values, dtype, shape]
    for codec, buf in ((JSON(), json.dumps(doc).encode()), (MsgPack(), msgpack.packb(doc))):
        try:
            dec = codec.decode(buf)
        except ValueError:
            continue
        assert isinstance(dec, np.ndarray) and list(dec.shape) == shape


def test_json_like_garbage() -> None:
    for buf in (b"\xff\xfe", b"[1,", b"[" * 100000, b"nope"):
        with pytest.raises(ValueError):
            JSON().decode(buf)
    for buf in (b"\xc1", b"\x93\x01", b"\x91" * 100000, b"\x92\x01\x02extra"):
        with pytest.raises(ValueError):
            MsgPack().decode(buf)


def test_json_like_out() -> None:
    x = MIXED[3]
    for codec in (JSON(), MsgPack()):
        out = np.empty(x.shape, dtype=object)
        assert codec.decode(codec.encode(x), out=out) is out
        assert out.tolist() == x.tolist()
        with pytest.raises(ValueError):
            codec.decode(codec.encode(x), out=np.empty(5, dtype=object))


@pytest.mark.parametrize("x", MIXED, ids=range(len(MIXED)))
def test_pickle_bytes_and_cross_decode(x: np.ndarray, numcodecs_pickle_allowed: None) -> None:
    enc = Pickle().encode(x)
    assert enc == numcodecs.Pickle().encode(x)
    with chunkzip.config.set(allow_pickle=True):
        dec = Pickle().decode(enc)
    assert dec.tolist() == x.tolist() and dec.dtype == x.dtype
    assert numcodecs.Pickle().decode(enc).tolist() == x.tolist()


class _Boom:
    ran = False

    def __reduce__(self) -> tuple:
        return (_Boom._explode, ())

    @staticmethod
    def _explode() -> None:  # pragma: no cover - must never run while refused
        _Boom.ran = True


def test_pickle_refused_by_default_then_allowed_then_refused_again() -> None:
    assert chunkzip.config.get("allow_pickle") is False
    codec = Pickle()
    payload = codec.encode(objects(_Boom()))
    with pytest.raises(UnsafeDecodeError, match=r"chunkzip\.config\.set\(allow_pickle=True\)"):
        codec.decode(payload)
    assert not _Boom.ran
    data = codec.encode(objects("a", 1, [2]))
    with chunkzip.config.set(allow_pickle=True):
        assert codec.decode(data).tolist() == ["a", 1, [2]]
    with pytest.raises(UnsafeDecodeError):
        codec.decode(data)
    assert chunkzip.config.get("allow_pickle") is False
    # metadata cannot opt in: the codec has no such parameter
    with pytest.raises(ValueError, match="allow_pickle"):
        get_codec({"id": "pickle", "protocol": 5, "allow_pickle": True})


def test_pickle_protocols() -> None:
    x = objects("a", {"b": 1})
    for protocol in (2, 4, 5):
        assert Pickle(protocol).encode(x) == numcodecs.Pickle(protocol).encode(x)


# -- categorize -----------------------------------------------------------------------------
def test_categorize_greetings(text_data: np.ndarray) -> None:
    ours, ref = Categorize(GREETINGS, dtype=object), numcodecs.Categorize(GREETINGS, dtype=object)
    x = text_data.copy()
    x[5] = "not a label"
    x[7] = None
    enc = ours.encode(x)
    ref_enc = ref.encode(x)
    assert enc.dtype == ref_enc.dtype == np.uint8
    assert enc.tobytes() == ref_enc.tobytes()
    assert enc[5] == 0 and enc[7] == 0
    for dec in (ours.decode(enc), ours.decode(ref_enc.tobytes())):
        expected = ref.decode(ref_enc)
        assert dec.dtype == expected.dtype and dec.tolist() == expected.tolist()
    assert ref.decode(enc).tolist() == ours.decode(enc).tolist()


def test_categorize_unicode_and_codes() -> None:
    kw = dict(labels=["a", "bb", "ccc"], dtype="<U3", astype="<i2")
    ours, ref = Categorize(**kw), numcodecs.Categorize(**kw)
    x = np.array([["a", "ccc"], ["zz", "bb"]])
    enc = ours.encode(x)
    assert enc.tobytes() == ref.encode(x).tobytes()
    assert ours.decode(enc).tolist() == ref.decode(enc).tolist() == ["a", "ccc", "", "bb"]
    assert ours.decode(np.array([0, 1, 4, -1, 3], dtype="<i2")).tolist() == ["", "a", "", "", "ccc"]
    assert ours.encode(x.tobytes()).tolist() == [1, 3, 0, 2]  # raw bytes of the decoded dtype
    out = np.empty((2, 2), dtype="<U3")
    assert ours.decode(enc, out=out) is out and out.tolist() == [["a", "ccc"], ["", "bb"]]


def test_categorize_unhashable_values_and_limits() -> None:
    codec = Categorize(["a"], dtype=object)
    assert codec.encode(objects(["a"], "a", None)).tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="do not fit"):
        Categorize([str(i) for i in range(300)], dtype=object).encode(objects("1"))
    with pytest.raises(TypeError):
        Categorize(["a"], dtype="<i4")
    with pytest.raises(TypeError):
        Categorize(["a"], dtype=object, astype=object)
    assert Categorize([b"a"], dtype=object).labels == ["a"]


# -- configuration ------------------------------------------------------------------------
ALL_CODECS = [
    (VLenUTF8(), numcodecs.VLenUTF8()),
    (VLenBytes(), numcodecs.VLenBytes()),
    (VLenArray("<i8"), numcodecs.VLenArray("<i8")),
    (VLenArray(">f4"), numcodecs.VLenArray(">f4")),
    (JSON(), numcodecs.JSON()),
    (JSON(indent=4, sort_keys=False, strict=False), numcodecs.JSON(indent=4, sort_keys=False, strict=False)),
    (MsgPack(), numcodecs.MsgPack()),
    (MsgPack(use_single_float=True, raw=True), numcodecs.MsgPack(use_single_float=True, raw=True)),
    (Pickle(), numcodecs.Pickle()),
    (Pickle(protocol=2), numcodecs.Pickle(protocol=2)),
    (Categorize(GREETINGS, dtype=object), numcodecs.Categorize(GREETINGS, dtype=object)),
    (Categorize(["a", "b"], dtype="<U4", astype="<u2"), numcodecs.Categorize(["a", "b"], dtype="<U4", astype="<u2")),
]


@pytest.mark.parametrize("ours, ref", ALL_CODECS, ids=lambda c: repr(c) if not hasattr(c, "get_config") else None)
def test_config_round_trip(ours: object, ref: object) -> None:
    cfg = ours.get_config()
    assert cfg == ref.get_config() or json.loads(json.dumps(cfg)) == json.loads(json.dumps(ref.get_config()))
    assert ours.kind == "object"
    again = get_codec(json.loads(json.dumps(cfg)))
    assert type(again) is type(ours) and again == ours and hash(again) == hash(ours)
    assert repr(again) == repr(ours) == repr(ref)
    assert get_codec(ref) == ours  # a numcodecs codec object is accepted
    assert numcodecs.get_codec(json.loads(json.dumps(cfg))).get_config() == ref.get_config()


@pytest.mark.parametrize("cls, name", [(VLenUTF8, "vlen-utf8"), (VLenBytes, "vlen-bytes")])
def test_v3_vlen(cls: type, name: str) -> None:
    from zarr.codecs import VLenBytesCodec, VLenUTF8Codec

    zarr_cls = VLenUTF8Codec if name == "vlen-utf8" else VLenBytesCodec
    entry = cls().get_v3_config()
    assert entry == zarr_cls().to_dict() == {"name": name, "configuration": {}}
    assert zarr_cls.from_dict(json.loads(json.dumps(entry))) == zarr_cls()
    for form in (entry, {"name": name}, name):
        assert get_codec_v3(form) == cls()


# -- fuzzing ---------------------------------------------------------------------------------
FUZZ_DECODERS = [
    VLenUTF8(), VLenBytes(), VLenArray("<i8"), VLenArray(">u2"), VLenArray("|u1"),
    JSON(), MsgPack(), MsgPack(raw=True), Categorize(["a", "b"], dtype=object),
]
VALID = {
    "vlen-utf8": VLenUTF8().encode(objects(*GREETINGS[:5], None)),
    "vlen-bytes": VLenBytes().encode(objects(b"ab", b"", b"\xff" * 9)),
    "vlen-array": VLenArray("<i8").encode(objects(np.arange(3), np.arange(2), None)),
    "json2": JSON().encode(MIXED[0]),
    "msgpack2": MsgPack().encode(MIXED[3]),
    "categorize": bytes(range(6)),
}


@st.composite
def garbage(draw: st.DrawFn) -> bytes:
    if draw(st.booleans()):
        return draw(st.binary(max_size=64))
    buf = bytearray(draw(st.sampled_from(sorted(VALID.values()))))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "grow", "int"]))
        if action == "flip" and buf:
            i = draw(st.integers(0, len(buf) - 1))
            buf[i] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del buf[draw(st.integers(0, len(buf))):]
        elif action == "grow":
            buf += draw(st.binary(min_size=1, max_size=8))
        elif action == "int" and len(buf) >= 4:
            i = draw(st.integers(0, len(buf) - 4))
            buf[i:i + 4] = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, len(buf)])).to_bytes(4, "little")
    return bytes(buf)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(buf=garbage())
def test_fuzz_decoders(buf: bytes) -> None:
    for codec in FUZZ_DECODERS:
        try:
            codec.decode(buf)
        except ValueError:
            pass
    with pytest.raises(UnsafeDecodeError):
        Pickle().decode(buf)
