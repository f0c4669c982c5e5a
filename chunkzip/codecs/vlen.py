"""Variable-length object codecs: ``vlen-utf8``, ``vlen-bytes`` and ``vlen-array``.

The encoding is numcodecs' (a uint32 little-endian item count, then for each item a
uint32 little-endian byte length and the bytes), so chunks are interchangeable with
zarr-python. The loops live in :mod:`chunkzip._ext._vlen`.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .._ext import _vlen
from .abc import Codec
from .registry import register_codec

__all__ = ["VLenUTF8", "VLenBytes", "VLenArray"]


def as_object_items(buf: Any) -> np.ndarray:
    """Return ``buf`` as a 1-D contiguous object array of items (no copy when possible).

    ndarrays are flattened in memory order (``order='A'``, as numcodecs does), lists and
    tuples become one item per element (nested sequences are not broadcast), anything
    else is a single item.
    """
    if isinstance(buf, np.ndarray):
        arr = buf if buf.dtype == object else buf.astype(object)
    elif isinstance(buf, (list, tuple)):
        arr = np.empty(len(buf), dtype=object)
        for i, item in enumerate(buf):
            arr[i] = item
        return arr
    else:
        arr = np.empty((), dtype=object)
        arr[()] = buf
    flat = arr.reshape(-1, order="A")
    if not flat.flags.c_contiguous:
        flat = np.ascontiguousarray(flat)
    return flat


def as_byte_buffer(buf: Any) -> Any:
    """Return ``buf`` (bytes-like or ndarray) as a 1-D contiguous uint8 buffer."""
    if isinstance(buf, (bytes, bytearray)):
        return buf
    if isinstance(buf, np.ndarray):
        if buf.dtype.hasobject:
            raise TypeError("cannot decode an object array; expected encoded bytes")
        if not (buf.flags.c_contiguous or buf.flags.f_contiguous):
            buf = np.ascontiguousarray(buf)
        return buf.reshape(-1, order="A").view(np.uint8)
    try:
        return np.frombuffer(buf, dtype=np.uint8)
    except (ValueError, BufferError):
        # non-contiguous exporters: one copy
        return np.frombuffer(memoryview(buf).tobytes(order="A"), dtype=np.uint8)


def _decode_into(fn: Any, buf: Any, out: Any, *args: Any) -> np.ndarray:
    """Run a ``_vlen`` decoder, filling ``out`` (any shape) when given."""
    data = as_byte_buffer(buf)
    if out is None:
        return fn(data, *args)
    if not isinstance(out, np.ndarray) or out.dtype != object:
        raise ValueError("out must be an object ndarray")
    if out.flags.c_contiguous or out.flags.f_contiguous:
        flat = out.reshape(-1, order="A")  # a view for contiguous arrays
        fn(data, *args, flat)
    else:
        tmp = fn(data, *args)
        if tmp.size != out.size:
            raise ValueError(f"out has {out.size} items but the buffer holds {tmp.size}")
        out[...] = tmp.reshape(out.shape)
    return out


class _VLenBase(Codec):
    kind: ClassVar[str] = "object"

    def __init__(self) -> None:
        pass

    def get_v3_config(self) -> dict:
        """Return the Zarr v3 form, exactly as zarr-python 3 writes it."""
        return {"name": self.v3_name, "configuration": {}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class VLenUTF8(_VLenBase):
    """Encode an object array of variable-length unicode strings as UTF-8.

    ``None`` items are written as empty strings (as numcodecs does). A core codec of
    Zarr v3 (``vlen-utf8``, used with the ``string`` data type).

    Examples
    --------
    >>> import numpy as np
    >>> codec = VLenUTF8()
    >>> codec.decode(codec.encode(np.array(["foo", "bär"], dtype=object)))
    array(['foo', 'bär'], dtype=object)
    """

    codec_id: ClassVar[str] = "vlen-utf8"
    v3_name: ClassVar[str] = "vlen-utf8"

    def encode(self, buf: Any) -> bytes:
        """Encode the strings of ``buf`` (flattened in memory order)."""
        return _vlen.encode_utf8(as_object_items(buf))

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Decode to a 1-D object array of ``str``, or fill the object array ``out``."""
        return _decode_into(_vlen.decode_utf8, buf, out)


class VLenBytes(_VLenBase):
    """Encode an object array of variable-length byte strings.

    ``None`` items are written as empty byte strings. A core codec of Zarr v3
    (``vlen-bytes``, used with the ``bytes`` data type).
    """

    codec_id: ClassVar[str] = "vlen-bytes"
    v3_name: ClassVar[str] = "vlen-bytes"

    def encode(self, buf: Any) -> bytes:
        """Encode the byte strings of ``buf`` (flattened in memory order)."""
        return _vlen.encode_bytes(as_object_items(buf))

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Decode to a 1-D object array of ``bytes``, or fill the object array ``out``."""
        return _decode_into(_vlen.decode_bytes, buf, out)


class VLenArray(Codec):
    """Encode an object array whose items are 1-D arrays of one dtype (a ragged array).

    Parameters
    ----------
    dtype : dtype-like
        Data type of the items, e.g. ``'<i8'``; must have a fixed size and no objects.

    Notes
    -----
    Items are converted with ``np.ascontiguousarray(item, dtype)``; ``None`` is written
    as an empty array and a scalar as a one-element array. Decoded items are new arrays
    that own their memory. Zarr v3 has no data type for ragged arrays, so arrays using
    this codec are stored as Zarr v2.
    """

    codec_id: ClassVar[str] = "vlen-array"
    kind: ClassVar[str] = "object"
    _config_keys: ClassVar[tuple[str, ...]] = ("dtype",)

    def __init__(self, dtype: Any) -> None:
        dt = np.dtype(dtype)
        if dt.hasobject or dt.itemsize == 0:
            raise ValueError(f"VLenArray needs a fixed-size dtype without objects, got {dt!r}")
        self._dtype = dt
        self.dtype = dt.str

    def encode(self, buf: Any) -> bytes:
        """Encode the items of ``buf`` (flattened in memory order)."""
        return _vlen.encode_array(as_object_items(buf), self._dtype)

    def decode(self, buf: Any, out: np.ndarray | None = None) -> np.ndarray:
        """Decode to a 1-D object array of 1-D arrays, or fill the object array ``out``."""
        return _decode_into(_vlen.decode_array, buf, out, self._dtype)

    def __repr__(self) -> str:
        return f"VLenArray(dtype={self.dtype!r})"


for _cls in (VLenUTF8, VLenBytes, VLenArray):
    register_codec(_cls)
