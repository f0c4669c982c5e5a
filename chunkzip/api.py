"""Array creation and opening: argument normalisation, then :class:`~chunkzip.array.Array`."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import config
from .array import Array
from .codecs.registry import get_codec
from .metadata import (V2_ARRAY_KEY, V2_ATTRS_KEY, V2_GROUP_KEY, V3_KEY, MetadataError, build,
                       default_fill_value, load_json, normalize_dtype, parse_v2, parse_v3)
from .storage import normalize_store_like
from .storage.base import normalize_path

_DEFAULT = object()
_ZERO = object()  # zeros(): the dtype's own zero (b'' for 'S', '' for 'U', a zero record, ...)
_MODES = ("r", "r+", "a", "w", "w-", "x")


class ArrayNotFoundError(FileNotFoundError):
    """No array is stored at the given store and path."""


class ContainsArrayError(FileExistsError):
    """An array (or group) already exists where a new one was to be created."""


# ----------------------------------------------------------------------------- helpers
def _object_codec_for(dtype: Any, object_codec: Any) -> Any:
    if object_codec is not None:
        return get_codec(object_codec)
    from . import codecs

    if dtype is str:
        return codecs.VLenUTF8()
    if dtype is bytes:
        return codecs.VLenBytes()
    if isinstance(dtype, str) and dtype.startswith("array:"):
        return codecs.VLenArray(dtype[len("array:"):])
    return None


def _default_format(object_codec: Any, dt: np.dtype) -> int:
    """v3, unless the array has no v3 form that zarr-python reads."""
    if object_codec is not None and object_codec.codec_id not in ("vlen-utf8", "vlen-bytes"):
        return 2
    if dt.fields is not None and any(dt.fields[n][0].subdtype is not None or dt.fields[n][0].fields is not None
                                     for n in dt.names):
        return 2
    return 3


def _prefix(path: str) -> str:
    return path + "/" if path else ""


def _exists(store: Any, path: str, strict: bool = True) -> str | None:
    """'array2', 'array3', 'group' or None for what is stored at ``path``.

    A ``zarr.json`` that is not valid JSON, or whose ``node_type`` is missing or neither
    'array' nor 'group', is a MetadataError -- or, with ``strict=False`` (to replace it),
    'corrupt'."""
    p = _prefix(path)
    raw = store.get(p + V3_KEY)
    if raw is not None:
        try:
            doc = load_json(raw, p + V3_KEY)
            if not isinstance(doc, dict):
                raise MetadataError(f"{p + V3_KEY}: expected a JSON object")
            node_type = doc.get("node_type")
            if node_type not in ("array", "group"):
                raise MetadataError(f"{p + V3_KEY}: field 'node_type': expected 'array' or 'group', "
                                    f"got {node_type!r}")
        except MetadataError:
            if strict:
                raise
            return "corrupt"
        return "array3" if node_type == "array" else "group"
    if store.get(p + V2_ARRAY_KEY) is not None:
        return "array2"
    if store.get(p + V2_GROUP_KEY) is not None:
        return "group"
    return None


def _clear(store: Any, path: str) -> None:
    p = _prefix(path)
    store.delete_many(list(store.list_prefix(p)))
    clean = getattr(store, "remove_stale_temp_files", None)
    if clean is not None:  # leftovers of killed writers (LocalStore)
        clean(p)


def _load(store: Any, path: str, *, read_only: bool, synchronizer: Any, write_empty_chunks: Any,
          zarr_format: int | None = None) -> Array:
    p = _prefix(path)
    kind = _exists(store, path)
    if kind is None:
        raise ArrayNotFoundError(f"no array found at path {path!r} in {store!r}")
    if kind == "group":
        raise ContainsArrayError(f"path {path!r} in {store!r} holds a group, not an array")
    fmt = 3 if kind == "array3" else 2
    if zarr_format is not None and zarr_format != fmt:
        raise ArrayNotFoundError(f"the array at {path!r} is Zarr v{fmt}, not v{zarr_format}")
    if fmt == 3:
        meta = parse_v3(load_json(store.get(p + V3_KEY), p + V3_KEY), p + V3_KEY)
    else:
        meta = parse_v2(load_json(store.get(p + V2_ARRAY_KEY), p + V2_ARRAY_KEY), p + V2_ARRAY_KEY)
        raw = store.get(p + V2_ATTRS_KEY)
        if raw is not None:
            attrs = load_json(raw, p + V2_ATTRS_KEY)
            if not isinstance(attrs, dict):
                raise MetadataError(f"{p + V2_ATTRS_KEY}: expected a JSON object")
            meta.attributes = attrs
    clean = getattr(store, "remove_stale_temp_files", None)
    if clean is not None and not (read_only or store.read_only):
        clean(p, recursive=False)  # metadata temp files of killed writers (cheap: one directory)
    wec = config.get("write_empty_chunks") if write_empty_chunks is None else bool(write_empty_chunks)
    return Array(store, path, meta, read_only=read_only or store.read_only, synchronizer=synchronizer,
                 write_empty_chunks=wec)


# ----------------------------------------------------------------------------- creation
def create(shape: Any, chunks: Any = True, dtype: Any = None, compressor: Any = _DEFAULT,
           fill_value: Any = _DEFAULT, order: str = "C", store: Any = None, synchronizer: Any = None,
           overwrite: bool = False, path: str | None = None, filters: Any = None, object_codec: Any = None,
           dimension_separator: str | None = None, write_empty_chunks: bool | None = None,
           zarr_format: int | None = None, attributes: dict | None = None, read_only: bool = False,
           dimension_names: Any = None, compressors: Any = None, shards: Any = None,
           storage_options: dict | None = None, **kwargs: Any) -> Array:
    """Create an array.

    Parameters
    ----------
    shape : int or tuple of ints
    chunks : int, tuple, True, False or None
        Chunk shape; ``True``/``None`` guess one, ``False`` makes a single chunk, ``None``
        or ``-1`` inside a tuple span the whole dimension.
    dtype : dtype-like
        Also ``str`` / ``bytes`` (variable-length strings / bytes) and ``'array:T'`` (ragged).
    compressor : Codec or None
        Default: ``chunkzip.config.get('default_compressor')``; None stores raw bytes.
    fill_value : scalar, optional
        Value of never-written elements (default 0, NaT for datetimes).
    order : {'C', 'F'}
        Memory layout inside chunks.
    store : path, URL, MutableMapping or Store, optional
        Default: a new :class:`~chunkzip.storage.MemoryStore`. URLs (``s3://``, ``gs://``,
        ``memory://``, ...) open a :class:`~chunkzip.storage.FsspecStore`.
    synchronizer : ThreadSynchronizer or ProcessSynchronizer, optional
    overwrite : bool
        Replace what is stored at ``path``.
    path : str, optional
        Location of the array inside the store.
    filters : list of Codec, optional
    object_codec : Codec, optional
        Codec for ``dtype=object`` arrays (VLenUTF8, VLenBytes, VLenArray, JSON, MsgPack, Pickle, Categorize).
    dimension_separator : {'.', '/'}, optional
    write_empty_chunks : bool, optional
        Store chunks equal to the fill value (default True); False deletes them instead.
    zarr_format : {2, 3}, optional
        Default 3, or 2 where the array has no v3 form zarr-python reads.
    attributes : dict, optional
    read_only : bool
    dimension_names : sequence of str, optional (v3 only)
    compressors : list of Codec, optional
        Several bytes→bytes codecs (v3), instead of ``compressor``.
    shards : int or tuple of ints, optional (v3 only)
        Store the chunks in shards of this shape (the ``sharding_indexed`` codec, as
        zarr-python 3's ``shards=``): ``chunks`` is then the inner chunk shape and every
        shard dimension a multiple of it. ``{"shape": ..., "index_location": "start"}``
        puts the shard index at the start instead of the end.
    storage_options : dict, optional
        Options of the fsspec file system when ``store`` is a URL (credentials, endpoint).

    Returns
    -------
    Array
    """
    if kwargs:
        raise TypeError(f"create() got unexpected keyword argument(s) {sorted(kwargs)}")
    obj_codec = _object_codec_for(dtype, object_codec)
    dt = normalize_dtype(dtype)
    fmt = zarr_format if zarr_format is not None else _default_format(obj_codec, dt)
    if compressors is not None:
        if compressor is not _DEFAULT:
            raise ValueError("pass either compressor= or compressors=, not both")
        comps = [get_codec(c) for c in compressors]
    elif compressor is _DEFAULT:
        default = config.get("default_compressor")
        comps = [default] if default is not None else []
    elif compressor is None:
        comps = []
    else:
        comps = [get_codec(compressor)]
    flts = [get_codec(f) for f in (filters or [])]
    if fmt == 3:
        for f in flts:
            if f.kind != "array":
                raise ValueError(f"filter {f!r} is not an array→array codec; with zarr_format=3 pass it "
                                 "in compressors=, or use zarr_format=2")
    if fill_value is _DEFAULT:
        fill_value = default_fill_value(dt, fmt)
    elif fill_value is _ZERO:
        fill_value = np.zeros((), dtype=dt)[()] if dt.kind != "O" else default_fill_value(dt, fmt)
    st = normalize_store_like(store, storage_options=storage_options)
    path = normalize_path(path)
    if st.read_only:
        raise PermissionError(f"cannot create an array in read-only store {st!r}")
    meta = build(shape, chunks, dt, zarr_format=fmt, fill_value=fill_value, order=order, filters=flts,
                 compressors=comps, object_codec=obj_codec, separator=dimension_separator,
                 attributes=attributes, dimension_names=dimension_names, shards=shards)
    if _exists(st, path, strict=not overwrite) is not None:
        if not overwrite:
            raise ContainsArrayError(f"an array or group already exists at path {path!r} in {st!r}; "
                                     "use overwrite=True or mode='w' to replace it")
        _clear(st, path)
    wec = config.get("write_empty_chunks") if write_empty_chunks is None else bool(write_empty_chunks)
    z = Array(st, path, meta, read_only=False, synchronizer=synchronizer, write_empty_chunks=wec)
    z._write_metadata()
    if read_only:
        z._read_only = True
    return z


def zeros(shape: Any, **kwargs: Any) -> Array:
    """Create an array filled with zeros (see :func:`create` for the keywords)."""
    return create(shape, fill_value=_ZERO, **kwargs)


def ones(shape: Any, **kwargs: Any) -> Array:
    """Create an array filled with ones."""
    return create(shape, fill_value=1, **kwargs)


def full(shape: Any, fill_value: Any, **kwargs: Any) -> Array:
    """Create an array filled with ``fill_value``."""
    return create(shape, fill_value=fill_value, **kwargs)


def empty(shape: Any, **kwargs: Any) -> Array:
    """Create an array without writing any chunk (reads give the fill value)."""
    return create(shape, **kwargs)


def array(data: Any, **kwargs: Any) -> Array:
    """Create an array holding ``data`` (array-like, or another Array copied chunk by chunk)."""
    if isinstance(data, Array):
        kwargs.setdefault("dtype", data.dtype)
        if "chunks" not in kwargs and data.shards is not None:
            kwargs.setdefault("shards", data.shards)
        kwargs.setdefault("chunks", data.chunks)
        if data.dtype.kind == "O":
            kwargs.setdefault("object_codec", data._meta.object_codec)
        z = create(data.shape, **kwargs)
        from .copying import copy_into

        copy_into(data, z)
        return z
    dtype = kwargs.get("dtype")
    if dtype is not None and normalize_dtype(dtype).kind == "O":
        from .array import _as_object_array

        arr = _as_object_array(data, False) if not isinstance(data, np.ndarray) else data.astype(object)
    else:
        arr = np.asanyarray(data, dtype=dtype) if dtype is not None else np.asanyarray(data)
        if dtype is None:
            kwargs["dtype"] = arr.dtype
    z = create(arr.shape, **kwargs)
    z[...] = arr
    return z


def _like(a: Any, kwargs: dict) -> dict:
    if isinstance(a, Array):
        if "chunks" not in kwargs and a.shards is not None:
            kwargs.setdefault("shards", a.shards)
        kwargs.setdefault("chunks", a.chunks)
        kwargs.setdefault("dtype", a.dtype)
        kwargs.setdefault("order", a.order)
        kwargs.setdefault("zarr_format", a.zarr_format)
        if "compressor" not in kwargs and "compressors" not in kwargs:
            kwargs["compressors"] = list(a.compressors)
        if a.dtype.kind == "O":
            kwargs.setdefault("object_codec", a._meta.object_codec)
            kwargs.setdefault("filters", [f for f in a._meta.filters if f.kind != "object"] or None)
        else:
            kwargs.setdefault("filters", list(a._meta.filters) or None)
    else:
        a = np.asanyarray(a)
        kwargs.setdefault("dtype", a.dtype)
    return kwargs


def zeros_like(a: Any, **kwargs: Any) -> Array:
    """An array of zeros with the shape, chunks, dtype and codecs of ``a``."""
    return zeros(np.shape(a) if not isinstance(a, Array) else a.shape, **_like(a, kwargs))


def ones_like(a: Any, **kwargs: Any) -> Array:
    """An array of ones like ``a``."""
    return ones(np.shape(a) if not isinstance(a, Array) else a.shape, **_like(a, kwargs))


def full_like(a: Any, fill_value: Any = _DEFAULT, **kwargs: Any) -> Array:
    """An array filled with ``fill_value`` (default: ``a``'s fill value) like ``a``."""
    if fill_value is _DEFAULT:
        fill_value = a.fill_value if isinstance(a, Array) else 0
    return full(np.shape(a) if not isinstance(a, Array) else a.shape, fill_value, **_like(a, kwargs))


def empty_like(a: Any, **kwargs: Any) -> Array:
    """An empty array like ``a`` (same fill value)."""
    if isinstance(a, Array):
        kwargs.setdefault("fill_value", a.fill_value)
    return empty(np.shape(a) if not isinstance(a, Array) else a.shape, **_like(a, kwargs))


# ----------------------------------------------------------------------------- opening
def open_array(store: Any = None, mode: str = "a", shape: Any = None, *, path: str | None = None,
               zarr_format: int | None = None, synchronizer: Any = None,
               write_empty_chunks: bool | None = None, storage_options: dict | None = None,
               **kwargs: Any) -> Array:
    """Open an array, creating it when the mode allows.

    Modes: ``'r'`` read only (must exist), ``'r+'`` read/write (must exist), ``'a'``
    read/write, created if missing, ``'w'`` create (replacing what is there), ``'w-'``/``'x'``
    create, failing if something exists. Creation keywords are those of :func:`create`.
    ``store`` may be a URL (``s3://bucket/x.zarr``, ``https://host/x.zarr``) opened with
    ``storage_options``.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    st = normalize_store_like(store, read_only=(mode == "r"), storage_options=storage_options)
    path = normalize_path(path)
    if mode in ("r", "r+"):
        return _load(st, path, read_only=(mode == "r"), synchronizer=synchronizer,
                     write_empty_chunks=write_empty_chunks, zarr_format=zarr_format)
    if mode == "a" and _exists(st, path) is not None:
        return _load(st, path, read_only=False, synchronizer=synchronizer,
                     write_empty_chunks=write_empty_chunks, zarr_format=zarr_format)
    if shape is None:
        raise ArrayNotFoundError(f"no array at path {path!r} in {st!r}, and no shape given to create one")
    return create(shape, store=st, path=path, overwrite=(mode == "w"), zarr_format=zarr_format,
                  synchronizer=synchronizer, write_empty_chunks=write_empty_chunks, **kwargs)


def open(store: Any = None, mode: str = "a", *, path: str | None = None, **kwargs: Any) -> Array:  # noqa: A001
    """Open (or create) the array at ``store``/``path``; see :func:`open_array`."""
    return open_array(store, mode=mode, path=path, **kwargs)


def save(store: Any, arr: Any, *, path: str | None = None, **kwargs: Any) -> None:
    """Save a NumPy array to ``store``, replacing what is there."""
    array(arr, store=store, path=path, overwrite=True, **kwargs)


def load(store: Any, *, path: str | None = None) -> np.ndarray:
    """Load the array at ``store``/``path`` into memory as a NumPy array."""
    return open_array(store, mode="r", path=path)[...]
