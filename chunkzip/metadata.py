"""Array metadata for Zarr v2 (``.zarray``/``.zattrs``) and v3 (``zarr.json``).

One in-memory form, :class:`ArrayMeta`, serves both formats. Its codec chain is held the
same way for both: ``filters`` (applied to the chunk array, in order), an optional object
``serializer`` (v3 ``vlen-utf8``/``vlen-bytes``; in v2 the object codec stays in ``filters``
as zarr-python writes it) and ``compressors`` (bytes→bytes). Endianness lives in ``dtype``
(v2, as the file says) or in the v3 ``bytes`` codec (``endian``), and ``order='F'`` is the v3
``transpose`` codec.
"""
from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .chunks import normalize_chunks, normalize_shape
from .codecs.abc import Codec
from .codecs.registry import get_codec, get_codec_v3
from .validate import _Error, check_dtype, check_shape, validate
from .sharding import ShardingSpec

V2_ARRAY_KEY = ".zarray"
V2_ATTRS_KEY = ".zattrs"
V2_GROUP_KEY = ".zgroup"
V3_KEY = "zarr.json"


class MetadataError(ValueError):
    """Metadata that cannot be read: names the file and the field."""


def _err(key: str, fieldname: str, msg: str) -> MetadataError:
    return MetadataError(f"{key}: field {fieldname!r}: {msg}")


# ----------------------------------------------------------------------------- dtypes
_V3_SIMPLE = {
    "bool": "b1", "int8": "i1", "int16": "i2", "int32": "i4", "int64": "i8",
    "uint8": "u1", "uint16": "u2", "uint32": "u4", "uint64": "u8",
    "float16": "f2", "float32": "f4", "float64": "f8", "complex64": "c8", "complex128": "c16",
}
_V3_SIMPLE_REV = {np.dtype(v).str[1:]: k for k, v in _V3_SIMPLE.items()}


def normalize_dtype(dtype: Any) -> np.dtype:
    """Return a NumPy dtype; ``str``/``bytes`` and ``'array:T'`` become object."""
    if dtype is None:
        return np.dtype("f8")
    if dtype is str or dtype is bytes:
        return np.dtype(object)
    if isinstance(dtype, str) and dtype.startswith("array:"):
        return np.dtype(object)
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"unknown dtype {dtype!r}: {e}") from None
    if dt.kind in "mM" and np.datetime_data(dt)[0] == "generic":
        raise ValueError(f"datetime64/timedelta64 dtypes need a unit, e.g. 'M8[D]'; got {dt}")
    if dt.kind in "SU" and dt.itemsize == 0:
        raise ValueError(f"fixed-length string dtypes need a length, e.g. 'S6' or 'U20'; got {dt}")
    return dt


def dtype_to_v2(dt: np.dtype) -> Any:
    """The ``.zarray`` form of a dtype: a type string, or a list of fields."""
    if dt.fields is None:
        return dt.str
    out = []
    for name in dt.names:
        sub = dt.fields[name][0]
        if sub.subdtype is not None:
            base, shp = sub.subdtype
            out.append([name, dtype_to_v2(base), list(shp)])
        else:
            out.append([name, dtype_to_v2(sub)])
    return out


def dtype_from_v2(value: Any, key: str = V2_ARRAY_KEY) -> np.dtype:
    def conv(v: Any, depth: int) -> Any:
        if depth > 32:
            raise ValueError("structured dtype nested too deeply")
        if isinstance(v, list):
            fields = []
            for f in v:
                if not (isinstance(f, list) and len(f) in (2, 3) and isinstance(f[0], str)):
                    raise ValueError(f"a field must be [name, type] or [name, type, shape], got {f!r}")
                if len(f) == 3 and not (isinstance(f[2], list) and all(
                        isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31 for n in f[2])):
                    raise ValueError(f"bad sub-array shape {f[2]!r}")
                fields.append(tuple([f[0], conv(f[1], depth + 1)] + ([tuple(f[2])] if len(f) > 2 else [])))
            return fields
        if not isinstance(v, str):
            raise ValueError("a type string or a list of fields is expected")
        return v

    if value is None:
        raise _err(key, "dtype", "missing")
    try:
        dt = np.dtype(conv(value, 0))
        check_dtype(dt, "dtype")
        check_no_object_fields(dt)
    except _Error as e:
        raise _err(key, "dtype", str(e)) from None
    except (TypeError, ValueError, IndexError, KeyError, RecursionError, OverflowError, MemoryError) as e:
        raise _err(key, "dtype", f"unsupported dtype {_short(value)} ({e})") from None
    return dt


def check_no_object_fields(dt: np.dtype) -> None:
    """Refuse structured or sub-array dtypes holding Python objects: their chunks would
    store memory addresses (zarr-python 2 refuses them without an object codec too)."""
    if dt.hasobject and dt.kind != "O":
        raise ValueError(f"dtype {dt} has object fields; use dtype=object with an object codec "
                         "(e.g. JSON, MsgPack or Pickle) for records holding Python objects")


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def dtype_to_v3(dt: np.dtype, serializer: Codec | None) -> Any:
    if dt.kind == "O":
        if serializer is not None and serializer.codec_id == "vlen-utf8":
            return "string"
        if serializer is not None and serializer.codec_id == "vlen-bytes":
            return "variable_length_bytes"
        raise ValueError("object arrays in Zarr v3 need a vlen-utf8 or vlen-bytes object codec")
    if dt.fields is not None:
        fields = []
        for name in dt.names:
            sub = dt.fields[name][0]
            if sub.subdtype is not None or sub.fields is not None:
                raise ValueError("nested or sub-array fields have no Zarr v3 form; use zarr_format=2")
            fields.append([name, dtype_to_v3(sub, None)])
        return {"name": "structured", "configuration": {"fields": fields}}
    if dt.kind == "U":
        return {"name": "fixed_length_utf32", "configuration": {"length_bytes": dt.itemsize}}
    if dt.kind == "S":
        return {"name": "null_terminated_bytes", "configuration": {"length_bytes": dt.itemsize}}
    if dt.kind in "mM":
        unit, count = np.datetime_data(dt)
        name = "numpy.datetime64" if dt.kind == "M" else "numpy.timedelta64"
        return {"name": name, "configuration": {"unit": unit, "scale_factor": count}}
    key = dt.str[1:]
    if key in _V3_SIMPLE_REV:
        return _V3_SIMPLE_REV[key]
    raise ValueError(f"dtype {dt} has no Zarr v3 form; use zarr_format=2")


def dtype_from_v3(value: Any, key: str = V3_KEY) -> np.dtype:
    if isinstance(value, str):
        if value in _V3_SIMPLE:
            return np.dtype(_V3_SIMPLE[value])
        if value in ("string", "variable_length_bytes", "bytes"):
            return np.dtype(object)
        raise _err(key, "data_type", f"unknown data type {value!r}")
    if isinstance(value, dict) and "name" in value:
        try:
            dt = _dtype_from_v3_dict(value, key, 0)
            check_dtype(dt, "data_type")
            return dt
        except _Error as e:
            raise _err(key, "data_type", str(e)) from None
        except (KeyError, TypeError, ValueError, IndexError, RecursionError, OverflowError) as e:
            if isinstance(e, MetadataError):
                raise
            raise _err(key, "data_type", f"bad configuration {_short(value)} ({e})") from None
    raise _err(key, "data_type", f"unknown data type {_short(value)}")


def _dtype_from_v3_dict(value: dict, key: str, depth: int) -> np.dtype:
    name, cfg = value["name"], value.get("configuration") or {}
    if not isinstance(cfg, dict):
        raise ValueError("configuration must be a JSON object")
    if depth > 32:
        raise ValueError("structured data type nested too deeply")

    def length() -> int:
        n = cfg["length_bytes"]
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"length_bytes must be a positive integer, got {n!r}")
        return n

    if name == "fixed_length_utf32":
        n = length()
        if n % 4:
            raise ValueError(f"length_bytes {n} is not a multiple of 4")
        return np.dtype(f"<U{n // 4}")
    if name in ("null_terminated_bytes", "fixed_length_bytes"):
        return np.dtype(f"S{length()}")
    if name in ("numpy.datetime64", "numpy.timedelta64"):
        kind = "M8" if name.endswith("datetime64") else "m8"
        scale, unit = cfg.get("scale_factor", 1), cfg["unit"]
        if isinstance(scale, bool) or not isinstance(scale, int) or not 0 < scale < 2**31 \
                or not isinstance(unit, str) or not unit.isalpha():
            raise ValueError(f"bad unit {unit!r} / scale_factor {scale!r}")
        return np.dtype(f"<{kind}[{scale}{unit}]")
    if name == "structured":
        fields = cfg["fields"]
        if not isinstance(fields, list) or not all(
                isinstance(f, list) and len(f) == 2 and isinstance(f[0], str) for f in fields):
            raise ValueError("fields must be a list of [name, data_type] pairs")
        return np.dtype([(f[0], _dtype_from_v3_dict(f[1], key, depth + 1) if isinstance(f[1], dict)
                          else dtype_from_v3(f[1], key)) for f in fields])
    raise ValueError(f"unknown data type {name!r}")


# ----------------------------------------------------------------------------- fill values
def default_fill_value(dt: np.dtype, zarr_format: int) -> Any:
    if dt.kind == "O":
        return None if zarr_format == 2 else ""
    if dt.kind in "mM":
        return np.array("NaT", dtype=dt)[()] if zarr_format == 3 else np.zeros((), dt)[()]
    return np.zeros((), dtype=dt)[()]


def normalize_fill_value(value: Any, dt: np.dtype) -> Any:
    """Cast a user fill value to the dtype (``None`` stays ``None``)."""
    if value is None or dt.kind == "O":
        return value
    try:
        if dt.fields is not None and isinstance(value, (bytes, bytearray)):
            if len(value) == 0:  # zarr-python reads b"" as the all-zero record
                return np.zeros((), dtype=dt)[()]
            if len(value) != dt.itemsize:
                raise ValueError(f"fill_value of {len(value)} bytes for a {dt.itemsize}-byte record")
            return np.frombuffer(bytes(value), dtype=dt)[0]
        arr = np.array(value, dtype=dt)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"fill_value {value!r} cannot be stored as {dt}: {e}") from None
    if arr.shape != ():
        raise ValueError(f"fill_value must be a scalar, got {value!r}")
    if dt.kind in "iu" and not isinstance(value, (np.generic, np.ndarray)):
        # compare exactly: float() rounds 64-bit integers (2**64 - 1 would look unrepresentable)
        exact = int(value) if isinstance(value, (int, np.integer)) or (
            isinstance(value, float) and value.is_integer()) else None
        if exact is None or exact != int(arr):
            raise ValueError(f"fill_value {value!r} is not representable as {dt}")
    return arr[()]


def _float_json(v: float) -> Any:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def _float_from_json(v: Any, dt: np.dtype, key: str) -> float:
    if isinstance(v, str):
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if v in special:
            return special[v]
        if v.startswith("0x"):
            raw = bytes.fromhex(v[2:])
            fmt = {2: ">e", 4: ">f", 8: ">d"}.get(len(raw))
            if fmt is None:
                raise _err(key, "fill_value", f"bad hex float {v!r}")
            return struct.unpack(fmt, raw)[0]
        raise _err(key, "fill_value", f"bad float {v!r}")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _err(key, "fill_value", f"expected a number for {dt}, got {v!r}")
    return float(v)


def fill_value_to_json(value: Any, dt: np.dtype, zarr_format: int) -> Any:
    if value is None:
        return None
    if dt.kind == "O":
        if isinstance(value, (bytes, bytearray)):  # vlen-bytes: base64, as zarr-python writes it
            return base64.standard_b64encode(bytes(value)).decode("ascii")
        return value if isinstance(value, (str, int, float, bool)) else None
    if dt.fields is not None or dt.kind == "V":
        return base64.standard_b64encode(np.array(value, dtype=dt).tobytes()).decode("ascii")
    if dt.kind == "S":
        # all itemsize bytes, NUL-padded: tensorstore requires exactly that many ("Expected 6
        # base64-encoded bytes"); zarr-python reads padded and unpadded forms alike
        return base64.standard_b64encode(np.array(value, dtype=dt).tobytes()).decode("ascii")
    if dt.kind == "U":
        return str(value)
    if dt.kind == "b":
        return bool(value)
    if dt.kind in "iu":
        return int(value)
    if dt.kind in "mM":
        return int(np.array(value, dtype=dt).view("i8"))
    if dt.kind == "f":
        return _float_json(float(value))
    if dt.kind == "c":
        return [_float_json(float(value.real)), _float_json(float(value.imag))]
    raise ValueError(f"cannot encode fill value {value!r} for {dt}")


def fill_value_from_json(v: Any, dt: np.dtype, key: str) -> Any:
    if v is None:
        return None
    if dt.kind == "O":
        return v
    try:
        if dt.fields is not None or dt.kind == "V" or dt.kind == "S":
            if not isinstance(v, str):
                raise _err(key, "fill_value", f"expected base64-encoded bytes for {dt}, got {_short(v)}")
            raw = base64.b64decode(v, validate=True)
            if dt.kind == "S":
                if len(raw) > dt.itemsize:
                    raise _err(key, "fill_value", f"{len(raw)} bytes do not fit {dt}")
                return np.array(raw, dtype=dt)[()]
            if len(raw) != dt.itemsize:
                raise _err(key, "fill_value", f"{len(raw)} bytes, a {dt} element has {dt.itemsize}")
            return np.frombuffer(raw, dtype=dt)[0]
        if dt.kind == "U":
            if not isinstance(v, str):
                raise _err(key, "fill_value", f"expected a string for {dt}, got {_short(v)}")
            if len(v) > dt.itemsize // 4:
                raise _err(key, "fill_value", f"{_short(v)} is longer than {dt} holds")
            return np.array(v, dtype=dt)[()]
        if dt.kind == "b":
            if not isinstance(v, bool) and v not in (0, 1):
                raise _err(key, "fill_value", f"expected true/false, got {_short(v)}")
            return np.bool_(v)
        if dt.kind in "iu":
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if isinstance(v, bool) or not isinstance(v, int):
                raise _err(key, "fill_value", f"expected an integer for {dt}, got {v!r}")
            return np.array(v, dtype=dt)[()]
        if dt.kind in "mM":
            if isinstance(v, str) and v == "NaT":
                return np.array("NaT", dtype=dt)[()]
            if isinstance(v, bool) or not isinstance(v, int):
                raise _err(key, "fill_value", f"expected an integer for {dt}, got {_short(v)}")
            return np.array(v, dtype="i8").view(dt)[()]
        if dt.kind == "f":
            return dt.type(_float_from_json(v, dt, key))
        if dt.kind == "c":
            if not (isinstance(v, list) and len(v) == 2):
                raise _err(key, "fill_value", f"expected [real, imag] for {dt}, got {v!r}")
            return dt.type(complex(_float_from_json(v[0], dt, key), _float_from_json(v[1], dt, key)))
    except MetadataError:
        raise
    except (TypeError, ValueError, OverflowError, base64.binascii.Error) as e:
        raise _err(key, "fill_value", f"{v!r} is not valid for {dt} ({e})") from None
    raise _err(key, "fill_value", f"unsupported dtype {dt}")


# ----------------------------------------------------------------------------- array metadata
@dataclass
class ArrayMeta:
    """Everything the ``.zarray``/``zarr.json`` document says about an array."""

    zarr_format: int
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    order: str = "C"
    filters: list[Codec] = field(default_factory=list)
    serializer: Codec | None = None
    compressors: list[Codec] = field(default_factory=list)
    endian: str = "<"  # v3 bytes codec; v2 arrays keep the byte order in dtype
    separator: str = "."
    key_encoding: str = "v2"  # "v2": i.j ; "default": c/i/j (v3)
    dimension_names: list | None = None
    attributes: dict = field(default_factory=dict)
    #: v3 sharding: ``chunks`` is then the shard shape (the stored grid) and the codec
    #: chain above is the inner chunks' chain
    sharding: ShardingSpec | None = None

    def inner_meta(self) -> "ArrayMeta":
        """The metadata of one shard seen as an array of inner chunks (sharded arrays)."""
        spec = self.sharding
        return replace(self, shape=tuple(self.chunks), chunks=spec.chunk_shape, sharding=spec.nested)

    @property
    def inner_chunks(self) -> tuple[int, ...]:
        """The chunk shape inside a shard (``chunks`` when unsharded); for nested sharding
        the first level's, as zarr-python 3 reports it."""
        return self.sharding.chunk_shape if self.sharding is not None else self.chunks

    def with_shape(self, shape: tuple[int, ...]) -> "ArrayMeta":
        meta = replace(self, shape=tuple(shape))
        try:
            validate(meta)
        except _Error as e:
            raise _err("new shape", e.fieldname, str(e)) from None
        return meta

    # -- chunk keys ----------------------------------------------------------------
    def chunk_key(self, coords: tuple[int, ...]) -> str:
        if self.key_encoding == "default":
            return "c" + "".join(self.separator + str(i) for i in coords) if coords else "c"
        return self.separator.join(map(str, coords)) if coords else "0"

    @property
    def object_codec(self) -> Codec | None:
        if self.serializer is not None:
            return self.serializer
        return next((f for f in self.filters if f.kind == "object"), None)

    # -- serialisation --------------------------------------------------------------
    def to_json(self) -> dict:
        return self._to_v2() if self.zarr_format == 2 else self._to_v3()

    def _to_v2(self) -> dict:
        if len(self.compressors) > 1:
            raise ValueError("Zarr v2 arrays hold at most one compressor")
        doc = {
            "zarr_format": 2,
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": dtype_to_v2(self.dtype),
            "compressor": _v2_codec_config(self.compressors[0]) if self.compressors else None,
            "fill_value": fill_value_to_json(self.fill_value, self.dtype, 2),
            "order": self.order,
            "filters": [_v2_codec_config(f) for f in self.filters] or None,
        }
        if self.separator != ".":
            doc["dimension_separator"] = self.separator
        return doc

    def _to_v3(self) -> dict:
        codecs: list[dict] = []
        if self.order == "F" and len(self.shape) > 1:
            codecs.append({"name": "transpose", "configuration": {"order": list(range(len(self.shape)))[::-1]}})
        codecs += [f.get_v3_config() for f in self.filters]
        if self.serializer is not None:
            codecs.append(self.serializer.get_v3_config())
        elif self.dtype.itemsize > 1 and self.dtype.kind not in "SV" and not (
            self.dtype.fields is not None and all(self.dtype.fields[n][0].itemsize == 1 for n in self.dtype.names)
        ):
            codecs.append({"name": "bytes", "configuration": {"endian": "little" if self.endian == "<" else "big"}})
        else:
            codecs.append({"name": "bytes"})
        codecs += [c.get_v3_config() for c in self.compressors]
        if self.sharding is not None:
            codecs = [self.sharding.to_config(codecs)]
        if self.key_encoding == "default":
            cke = {"name": "default", "configuration": {"separator": self.separator}}
        else:
            cke = {"name": "v2", "configuration": {"separator": self.separator}}
        doc = {
            "zarr_format": 3,
            "node_type": "array",
            "shape": list(self.shape),
            "data_type": dtype_to_v3(self.dtype, self.serializer),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.chunks)}},
            "chunk_key_encoding": cke,
            "fill_value": fill_value_to_json(self.fill_value, self.dtype, 3),
            "codecs": codecs,
            "attributes": self.attributes,
        }
        if self.dimension_names is not None:
            doc["dimension_names"] = list(self.dimension_names)
        return doc

    def encode(self) -> bytes:
        return json_dumps(self.to_json())


def _v2_codec_config(codec: Codec) -> dict:
    """The ``.zarray`` form of a codec config.

    Zstd's ``checksum: false`` is left out: it is the default everywhere, numcodecs before 0.13
    has no such parameter, and tensorstore refuses the member ("Object includes extra members:
    \"checksum\"").
    """
    cfg = codec.get_config()
    if cfg.get("id") == "zstd" and cfg.get("checksum") is False:
        cfg.pop("checksum")
    return cfg


def json_dumps(doc: Any) -> bytes:
    return json.dumps(doc, indent=4, sort_keys=False, allow_nan=False, default=_json_default).encode("utf-8")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"object of type {type(o).__name__} is not JSON serialisable")


def load_json(raw: bytes, key: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise MetadataError(f"{key}: invalid JSON ({e})") from None
    except RecursionError:
        raise MetadataError(f"{key}: invalid JSON (nested too deeply)") from None


def _int_tuple(doc: dict, name: str, key: str) -> tuple[int, ...]:
    try:
        return check_shape(doc.get(name), name)
    except _Error as e:
        raise _err(key, name, str(e)) from None


def _v2_codec(config: Any, key: str, fieldname: str) -> Codec:
    if not isinstance(config, dict) or not isinstance(config.get("id"), str):
        raise _err(key, fieldname, f"expected a codec configuration {{\"id\": ..., ...}}, got {_short(config)}")
    return _make_codec(get_codec, config, key, fieldname)


def _make_codec(factory: Any, config: Any, key: str, fieldname: str) -> Codec:
    """A codec from its configuration; a codec refusing its parameters (whatever it
    raises) becomes a MetadataError naming the document and the field."""
    try:
        return factory(config)
    except MetadataError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as e:
        raise _err(key, fieldname, f"{type(e).__name__}: {e}") from None


def parse_v2(doc: Any, key: str = V2_ARRAY_KEY) -> ArrayMeta:
    """Build :class:`ArrayMeta` from a parsed ``.zarray`` document."""
    if not isinstance(doc, dict):
        raise MetadataError(f"{key}: expected a JSON object")
    if doc.get("zarr_format") != 2:
        raise _err(key, "zarr_format", f"expected 2, got {doc.get('zarr_format')!r}")
    shape = _int_tuple(doc, "shape", key)
    chunks = _int_tuple(doc, "chunks", key)
    if len(chunks) != len(shape):
        raise _err(key, "chunks", f"{list(chunks)} does not match the {len(shape)} dimensions of shape {list(shape)}")
    if any(c == 0 for c in chunks):
        raise _err(key, "chunks", f"chunk lengths must be positive, got {list(chunks)}")
    dt = dtype_from_v2(doc.get("dtype"), key)
    order = doc.get("order", "C")
    if order not in ("C", "F"):
        raise _err(key, "order", f"expected 'C' or 'F', got {order!r}")
    sep = doc.get("dimension_separator", ".") or "."
    if sep not in (".", "/"):
        raise _err(key, "dimension_separator", f"expected '.' or '/', got {sep!r}")
    comp = doc.get("compressor")
    compressors = [_v2_codec(comp, key, "compressor")] if comp is not None else []
    flts = doc.get("filters")
    if flts is not None and not isinstance(flts, list):
        raise _err(key, "filters", f"expected a list or null, got {_short(flts)}")
    filters = [_v2_codec(f, key, "filters") for f in (flts or [])]
    fill = fill_value_from_json(doc.get("fill_value"), dt, key)
    meta = ArrayMeta(2, shape, chunks, dt, fill, order, filters, None, compressors,
                     endian=dt.byteorder if dt.byteorder in "<>" else "<", separator=sep, key_encoding="v2")
    _vlen_bytes_fill_from_json(meta, key)
    return finish(meta, key)


def parse_v3(doc: Any, key: str = V3_KEY) -> ArrayMeta:
    """Build :class:`ArrayMeta` from a parsed ``zarr.json`` array document."""
    if not isinstance(doc, dict):
        raise MetadataError(f"{key}: expected a JSON object")
    if doc.get("zarr_format") != 3:
        raise _err(key, "zarr_format", f"expected 3, got {doc.get('zarr_format')!r}")
    if doc.get("node_type") != "array":
        raise _err(key, "node_type", f"expected 'array', got {doc.get('node_type')!r}")
    shape = _int_tuple(doc, "shape", key)
    grid = doc.get("chunk_grid")
    if not isinstance(grid, dict) or grid.get("name") != "regular":
        raise _err(key, "chunk_grid", f"only the regular chunk grid is supported, got {_short(grid)}")
    gcfg = _config_of(grid, key, "chunk_grid")
    try:
        chunks = check_shape(gcfg.get("chunk_shape"), "chunk_grid")
    except _Error as e:
        raise _err(key, "chunk_grid", f"chunk_shape: {e}") from None
    if len(chunks) != len(shape) or any(c == 0 for c in chunks):
        raise _err(key, "chunk_grid", f"chunk_shape {list(chunks)} does not fit shape {list(shape)}")
    if "data_type" not in doc:
        raise _err(key, "data_type", "missing")
    dt = dtype_from_v3(doc.get("data_type"), key)
    cke = doc.get("chunk_key_encoding")
    cke = {"name": "default"} if cke is None else cke
    enc = cke.get("name") if isinstance(cke, dict) else None
    if enc not in ("default", "v2"):
        raise _err(key, "chunk_key_encoding", f"unsupported {_short(cke)}")
    sep = _config_of(cke, key, "chunk_key_encoding").get("separator", "/" if enc == "default" else ".")
    if sep not in (".", "/"):
        raise _err(key, "chunk_key_encoding", f"bad separator {_short(sep)}")
    if doc.get("storage_transformers"):
        raise _err(key, "storage_transformers", "storage transformers are not supported")
    codecs = doc.get("codecs")
    if not isinstance(codecs, list) or not codecs:
        raise _err(key, "codecs", f"expected a non-empty list, got {_short(codecs)}")
    order, filters, serializer, compressors, endian, sharding = _parse_chain(codecs, len(shape), key)
    if sharding is not None:
        try:
            sharding.check_shard_shape(chunks, key)
        except ValueError as e:
            raise _err(key, "codecs", str(e)) from None
    fill = fill_value_from_json(doc.get("fill_value"), dt, key)
    attrs = doc.get("attributes")
    attrs = {} if attrs is None else attrs
    if not isinstance(attrs, dict):
        raise _err(key, "attributes", f"expected a JSON object, got {_short(attrs)}")
    meta = ArrayMeta(3, shape, chunks, dt, fill, order, filters, serializer, compressors, endian=endian,
                     separator=sep, key_encoding=enc, dimension_names=doc.get("dimension_names"),
                     attributes=attrs, sharding=sharding)
    _vlen_bytes_fill_from_json(meta, key)
    return finish(meta, key)


def _config_of(entry: dict, key: str, fieldname: str) -> dict:
    """The ``configuration`` member of a v3 entry: a JSON object (absent: empty)."""
    cfg = entry.get("configuration")
    if cfg is None:
        return {}
    if not isinstance(cfg, dict):
        raise _err(key, fieldname, f"configuration must be a JSON object, got {_short(cfg)}")
    return cfg


def _parse_chain(codecs: Any, ndim: int, key: str, depth: int = 0) -> tuple:
    """Parse a v3 codec list into (order, filters, serializer, compressors, endian,
    sharding); a ``sharding_indexed`` serializer contributes its inner chain."""
    if not isinstance(codecs, list) or not codecs:
        raise _err(key, "codecs", f"expected a non-empty list, got {_short(codecs)}")
    if depth > 8:
        raise _err(key, "codecs", "sharding_indexed nested too deeply")
    order, filters, serializer, compressors, endian = "C", [], None, [], "<"
    sharding = None
    seen_serializer = False
    for entry in codecs:
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise _err(key, "codecs", f"expected {{\"name\": str, \"configuration\": {{...}}}}, got {_short(entry)}")
        name = entry["name"]
        cfg = _config_of(entry, key, "codecs")
        if sharding is not None:
            raise _err(key, "codecs", f"codec {name!r} after sharding_indexed is not supported")
        if name == "transpose":
            perm = cfg.get("order", [])
            if not isinstance(perm, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in perm):
                raise _err(key, "codecs", f"transpose order must be a list of integers, got {_short(perm)}")
            n = ndim
            if perm == list(range(n)):
                continue
            if perm == list(range(n))[::-1]:
                order = "F"
                continue
            raise _err(key, "codecs", f"transpose order {perm} is not supported (only C or F)")
        if name == "bytes":
            e = cfg.get("endian", "little")
            if e not in ("little", "big"):
                raise _err(key, "codecs", f"bytes endian must be 'little' or 'big', got {_short(e)}")
            endian = "<" if e == "little" else ">"
            seen_serializer = True
            continue
        if name == "sharding_indexed":
            if seen_serializer or filters or order != "C":
                raise _err(key, "codecs", "codecs before sharding_indexed are not supported")
            order, filters, serializer, compressors, endian, nested = _parse_chain(cfg.get("codecs"), ndim, key, depth + 1)
            try:
                sharding = ShardingSpec.from_config(cfg, nested, key)
            except ValueError as e:
                raise _err(key, "codecs", str(e)) from None
            if len(sharding.chunk_shape) != ndim:
                raise _err(key, "codecs", f"sharding_indexed chunk_shape {list(sharding.chunk_shape)} does not "
                                          f"have {ndim} dimensions")
            if nested is not None:
                try:
                    nested.check_shard_shape(sharding.chunk_shape, key)
                except ValueError as e:
                    raise _err(key, "codecs", str(e)) from None
            seen_serializer = True
            continue
        codec = _make_codec(get_codec_v3, entry, key, "codecs")
        if codec.kind == "object":
            serializer, seen_serializer = codec, True
        elif seen_serializer:
            compressors.append(codec)
        else:
            filters.append(codec)
    if not seen_serializer:
        raise _err(key, "codecs", "no array→bytes codec (bytes, vlen-utf8, ...) in the chain")
    return order, filters, serializer, compressors, endian, sharding


def _vlen_bytes_fill_from_json(meta: ArrayMeta, key: str) -> None:
    """The JSON fill value of a ``vlen-bytes`` array is base64 (zarr-python writes ``""`` for b"")."""
    oc = meta.object_codec
    if oc is not None and oc.codec_id == "vlen-bytes" and isinstance(meta.fill_value, str):
        try:
            meta.fill_value = base64.standard_b64decode(meta.fill_value.encode("ascii"))
        except (ValueError, base64.binascii.Error) as e:
            raise _err(key, "fill_value", f"{meta.fill_value!r} is not base64-encoded bytes ({e})") from None


def finish(meta: ArrayMeta, key: str = "array metadata") -> ArrayMeta:
    """Validate (:func:`chunkzip.validate.validate`: every path ends here) and fill
    dtype-dependent codec parameters (e.g. Blosc typesize)."""
    try:
        validate(meta)
    except _Error as e:
        raise _err(key, e.fieldname, str(e)) from None
    item = meta.dtype if meta.dtype.kind != "O" else np.dtype("u1")
    meta.compressors = [c.evolve(item) for c in meta.compressors]
    meta.filters = [f.evolve(item) for f in meta.filters]
    return meta


def build(shape: Any, chunks: Any, dtype: Any, *, zarr_format: int, fill_value: Any, order: str,
          filters: list[Codec], compressors: list[Codec], object_codec: Codec | None,
          separator: str | None, attributes: dict | None, dimension_names: list | None,
          shards: Any = None) -> ArrayMeta:
    """Validate creation arguments and return the metadata of a new array."""
    shape = normalize_shape(shape)
    dt = normalize_dtype(dtype)
    check_no_object_fields(dt)
    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, got {zarr_format!r}")
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    sharding = None
    if shards is not None:
        from .sharding import normalize_shards

        chunks, sharding = normalize_shards(shards, chunks, shape, max(dt.itemsize, 1), zarr_format)
    else:
        chunks = normalize_chunks(chunks, shape, max(dt.itemsize, 1))
    if dt.kind == "O" and object_codec is None:
        raise ValueError("an object array needs an object codec, e.g. object_codec=VLenUTF8(), JSON() or "
                         "Pickle(); or use dtype=str / dtype=bytes")
    if dt.kind != "O" and object_codec is not None:
        raise ValueError(f"object_codec is only for dtype=object arrays, not {dt}")
    if fill_value is None and zarr_format == 3:
        fill_value = default_fill_value(dt, 3)
    fill_value = normalize_fill_value(fill_value, dt)
    if object_codec is not None and object_codec.codec_id == "vlen-bytes" and isinstance(fill_value, str):
        fill_value = fill_value.encode("utf-8")  # e.g. the default "": a bytes array's fill is bytes
    serializer = None
    if zarr_format == 2:
        filters = ([object_codec] if object_codec is not None else []) + list(filters)
        sep = separator or "."
        enc = "v2"
        endian = dt.byteorder if dt.byteorder in "<>" else "<"
    else:
        serializer = object_codec
        sep = separator or "/"
        enc = "default"
        endian = ">" if dt.byteorder == ">" else "<"
        if dt.fields is None:
            dt = dt.newbyteorder("=") if dt.byteorder in "<>" else dt
        fill_value = normalize_fill_value(fill_value, dt)
    if sep not in (".", "/"):
        raise ValueError(f"dimension_separator must be '.' or '/', got {sep!r}")
    meta = ArrayMeta(zarr_format, shape, chunks, dt, fill_value, order, list(filters), serializer,
                     list(compressors), endian=endian, separator=sep, key_encoding=enc,
                     dimension_names=list(dimension_names) if dimension_names is not None else None,
                     attributes=dict(attributes or {}), sharding=sharding)
    meta = finish(meta)
    meta.to_json()  # fail now, not at the first write, if the combination cannot be stored
    return meta
