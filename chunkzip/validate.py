"""The one validator of array metadata: every path (create, open v2, open v3, resize) ends here.

What it accepts is what the read and write paths -- and the nogil C kernels, which trust
it -- can handle without overflow or surprise: shapes and chunks within int64, a dtype
of positive and bounded item size (no top-level sub-array), a chunk whose byte size fits
:data:`MAX_CHUNK_BYTES` (its product computed in Python integers, so it cannot wrap), and
a fill value that is exactly one element of the dtype. Anything else is a
:class:`~chunkzip.metadata.MetadataError` naming the document and the field.

Also here: small JSON type checks (:func:`check_type`) that the parsers use field by
field, so malformed documents never end in ``AttributeError``/``TypeError``/
``IndexError`` deep in the code.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Largest decoded chunk (bytes). Blosc frames hold at most 2 GiB - 16 bytes, LZ4 blocks
#: about as much; a larger declared chunk is refused when the metadata is read or built.
MAX_CHUNK_BYTES = 2**31 - 1 - 16
#: Largest item size (bytes) of a dtype, e.g. a structured record.
MAX_ITEMSIZE = 2**24
#: Largest extent of one dimension (and of one chunk dimension).
MAX_EXTENT = 2**63 - 1
#: Most dimensions an array may have (NumPy's limit).
MAX_NDIM = 64


class _Error(ValueError):
    """Raised by the checks below; the metadata module turns it into MetadataError."""

    def __init__(self, fieldname: str, msg: str) -> None:
        super().__init__(msg)
        self.fieldname = fieldname


def check_type(value: Any, types: type | tuple, fieldname: str, what: str) -> Any:
    """Return ``value`` if it is an instance of ``types`` (bool is never an int)."""
    ok = isinstance(value, types)
    if ok and isinstance(value, bool):
        ok = bool in (types if isinstance(types, tuple) else (types,))
    if not ok:
        raise _Error(fieldname, f"expected {what}, got {type(value).__name__} {_short(value)}")
    return value


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def check_shape(shape: Any, fieldname: str) -> tuple[int, ...]:
    """A tuple of ints in ``[0, MAX_EXTENT]`` with at most ``MAX_NDIM`` entries."""
    if not isinstance(shape, (tuple, list)):
        raise _Error(fieldname, f"expected a list of integers, got {_short(shape)}")
    if len(shape) > MAX_NDIM:
        raise _Error(fieldname, f"{len(shape)} dimensions; at most {MAX_NDIM} are supported")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise _Error(fieldname, f"expected a list of integers, got {_short(shape)}")
        if not 0 <= s <= MAX_EXTENT:
            raise _Error(fieldname, f"{s} is outside [0, 2**63 - 1]")
    return tuple(int(s) for s in shape)


def check_dtype(dt: np.dtype, fieldname: str) -> None:
    """Item size positive and bounded; no top-level sub-array dtype."""
    if dt.subdtype is not None:
        raise _Error(fieldname, f"sub-array dtype {dt} is not an element type (it would change the "
                                "array's shape); use a structured dtype with a sub-array field")
    if dt.itemsize <= 0:
        raise _Error(fieldname, f"dtype {dt} has no bytes per element (e.g. 'S0'/'U0' need a length)")
    if dt.itemsize > MAX_ITEMSIZE:
        raise _Error(fieldname, f"dtype {dt} has {dt.itemsize} bytes per element; at most "
                                f"{MAX_ITEMSIZE} are supported")


def check_chunk_bytes(chunks: tuple[int, ...], itemsize: int, fieldname: str) -> int:
    """The decoded chunk size in bytes (exact), at most ``MAX_CHUNK_BYTES``."""
    nbytes = math.prod(chunks) * itemsize
    if nbytes > MAX_CHUNK_BYTES:
        raise _Error(fieldname, f"chunks {list(chunks)} of {itemsize}-byte items make {nbytes} bytes "
                                f"per chunk; at most {MAX_CHUNK_BYTES} are supported")
    return nbytes


def check_fill_value(fill: Any, dt: np.dtype) -> None:
    """``fill`` is None or exactly one element of ``dt`` (no list, no other dtype)."""
    if fill is None or dt.kind == "O":
        return
    if isinstance(fill, np.ndarray) or not isinstance(fill, np.generic) or np.asarray(fill).shape != ():
        raise _Error("fill_value", f"expected one {dt} element, got {_short(fill)}")
    # NumPy scalars are native-endian, and string scalars as long as their value
    fd = np.asarray(fill).dtype
    if fd.kind != dt.kind or (fd.itemsize > dt.itemsize if dt.kind in "SU" else fd.itemsize != dt.itemsize):
        raise _Error("fill_value", f"fill value of dtype {fd}, expected {dt}")


def validate(meta: Any) -> None:
    """Check an :class:`~chunkzip.metadata.ArrayMeta`; raise ``_Error`` naming the field."""
    shape_field = "shape"
    chunk_field = "chunks" if meta.zarr_format == 2 else "chunk_grid"
    dtype_field = "dtype" if meta.zarr_format == 2 else "data_type"
    shape = check_shape(meta.shape, shape_field)
    chunks = check_shape(meta.chunks, chunk_field)
    if len(chunks) != len(shape):
        raise _Error(chunk_field, f"{list(chunks)} does not match the {len(shape)} dimensions of "
                                  f"shape {list(shape)}")
    if any(c == 0 for c in chunks):
        raise _Error(chunk_field, f"chunk lengths must be positive, got {list(chunks)}")
    dt = meta.dtype
    if not isinstance(dt, np.dtype):
        raise _Error(dtype_field, f"not a dtype: {_short(dt)}")
    check_dtype(dt, dtype_field)
    spec = getattr(meta, "sharding", None)
    if spec is None:
        check_chunk_bytes(chunks, dt.itemsize, chunk_field)
    else:  # the codecs decode inner chunks; a shard's index has 16 bytes per inner chunk
        outer = chunks
        while spec is not None:
            inner = check_shape(spec.chunk_shape, "codecs")
            if len(inner) != len(outer) or any(c == 0 or o % c for o, c in zip(outer, inner)):
                raise _Error("codecs", f"inner chunks {list(inner)} do not divide the shard {list(outer)}")
            n = math.prod(o // c for o, c in zip(outer, inner))
            if 16 * n > MAX_CHUNK_BYTES:
                raise _Error("codecs", f"{n} inner chunks per shard: the shard index would exceed "
                                       f"{MAX_CHUNK_BYTES} bytes")
            outer, spec = inner, spec.nested
        check_chunk_bytes(outer, dt.itemsize, "codecs")
    if meta.endian not in ("<", ">"):
        raise _Error("codecs", f"endian must be little or big, got {meta.endian!r}")
    check_fill_value(meta.fill_value, dt)
    if not isinstance(meta.attributes, dict):
        raise _Error("attributes", f"expected a JSON object, got {_short(meta.attributes)}")
    names = meta.dimension_names
    if names is not None:
        if not isinstance(names, (list, tuple)) or len(names) != len(shape) or not all(
                n is None or isinstance(n, str) for n in names):
            raise _Error("dimension_names", f"expected {len(shape)} names (strings or null), "
                                            f"got {_short(names)}")
