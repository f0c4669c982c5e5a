"""Array creation and opening: argument normalisation, then :class:`~chunkzip.array.Array`."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import config
from .array import Array
from .codecs.registry import get_codec
from .metadata import V2_ARRAY_KEY, V3_KEY, MetadataError, build, default_fill_value, normalize_dtype
from .nodes import NodeNotFoundError
from .storage import normalize_store_like
from .storage.base import normalize_path

_DEFAULT = object()
_ZERO = object()  # zeros(): the dtype's own zero (b'' for 'S', '' for 'U', a zero record, ...)
_MODES = ("r", "r+", "a", "w", "w-", "x")


class ArrayNotFoundError(NodeNotFoundError):
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

    Metadata that cannot be read (not JSON, a missing or unknown ``node_type``) is a
    MetadataError -- or, with ``strict=False`` (to replace it), 'corrupt'."""
    from .nodes import read_node

    try:
        node = read_node(store, path)
    except MetadataError:
        if strict:
            raise
        return "corrupt"
    if node is None:
        return None
    return "group" if node.kind == "group" else f"array{node.zarr_format}"


def _clear(store: Any, path: str) -> None:
    p = _prefix(path)
    store.delete_many(list(store.list_prefix(p)))
    clean = getattr(store, "remove_stale_temp_files", None)
    if clean is not None:  # leftovers of killed writers (LocalStore)
        clean(p)


def open_args(store: Any, mode: str, path: str | None,
              storage_options: dict | None = None) -> tuple[Any, str]:
    """Check ``mode``; return the store (read-only for mode 'r') and the normalised path."""
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    return normalize_store_like(store, read_only=(mode == "r"), storage_options=storage_options), normalize_path(path)


def _load(store: Any, path: str, *, read_only: bool, synchronizer: Any, write_empty_chunks: Any,
          zarr_format: int | None = None, chunk_store: Any = None, cache_metadata: bool = True) -> Array:
    meta = read_array_meta(store, path, zarr_format)
    clean = getattr(store, "remove_stale_temp_files", None)
    if clean is not None and not (read_only or store.read_only):
        clean(_prefix(path), recursive=False)  # metadata temp files of killed writers (cheap: one directory)
    wec = config.get("write_empty_chunks") if write_empty_chunks is None else bool(write_empty_chunks)
    chunk_st = normalize_store_like(chunk_store) if chunk_store is not None else None
    return Array(store, path, meta, read_only=read_only or store.read_only, synchronizer=synchronizer,
                 write_empty_chunks=wec, chunk_store=chunk_st, cache_metadata=cache_metadata)


def read_array_meta(store: Any, path: str, zarr_format: int | None = None) -> Any:
    """Read and validate the metadata of the array at ``path`` (v3, or v2 with its attributes)."""
    from .nodes import prefix, read_node

    node = read_node(store, path, zarr_format)
    if node is None:
        fmt = f"Zarr v{zarr_format} " if zarr_format is not None else ""
        raise ArrayNotFoundError(f"no {fmt}array found at path {path!r} in {store!r}")
    if node.kind == "group":
        raise ArrayNotFoundError(f"path {path!r} in {store!r} holds a group (Zarr v{node.zarr_format}), not an "
                                 "array; open it with chunkzip.open_group() or chunkzip.open()")
    return node.array_meta(prefix(path) + (V3_KEY if node.zarr_format == 3 else V2_ARRAY_KEY))


# ----------------------------------------------------------------------------- creation
def create(shape: Any, chunks: Any = True, dtype: Any = None, compressor: Any = _DEFAULT,
           fill_value: Any = _DEFAULT, order: str = "C", store: Any = None, synchronizer: Any = None,
           overwrite: bool = False, path: str | None = None, filters: Any = None, object_codec: Any = None,
           dimension_separator: str | None = None, write_empty_chunks: bool | None = None,
           zarr_format: int | None = None, attributes: dict | None = None, read_only: bool = False,
           dimension_names: Any = None, compressors: Any = None, shards: Any = None,
           storage_options: dict | None = None, chunk_store: Any = None, cache_metadata: bool = True,
           **kwargs: Any) -> Array:
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
    chunk_store : path, MutableMapping or Store, optional
        Where the chunks go; the metadata stays in ``store`` (default: chunks in ``store``).
    cache_metadata : bool
        False re-reads the metadata before every access, so that changes made through
        another Array object or process (a resize) are seen.

    Returns
    -------
    Array
    """
    if kwargs:
        raise TypeError(f"create() got unexpected keyword argument(s) {sorted(kwargs)}")
    obj_codec = _object_codec_for(dtype, object_codec)
    dt = normalize_dtype(dtype)
    if dt.subdtype is not None:
        # a sub-array dtype adds trailing dimensions, as in zarr-python 2 and NumPy
        from .chunks import normalize_shape

        shape, dt = normalize_shape(shape) + dt.shape, dt.base
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
    if fmt == 2 and dimension_names is not None:  # v2 keeps them where xarray does
        attributes = {**(attributes or {}), "_ARRAY_DIMENSIONS": list(dimension_names)}
    if fill_value is _DEFAULT:
        fill_value = default_fill_value(dt, fmt)
    elif fill_value is _ZERO:
        fill_value = np.zeros((), dtype=dt)[()] if dt.kind != "O" else default_fill_value(dt, fmt)
    st = normalize_store_like(store, storage_options=storage_options)
    chunk_st = normalize_store_like(chunk_store, storage_options=storage_options) if chunk_store is not None else None
    path = normalize_path(path)
    if st.read_only or (chunk_st is not None and chunk_st.read_only):
        bad = st if st.read_only else chunk_st
        raise PermissionError(f"cannot create an array in read-only store {bad!r}")
    if dimension_separator is None and fmt == 2:
        dimension_separator = getattr(st, "dimension_separator", None)
    meta = build(shape, chunks, dt, zarr_format=fmt, fill_value=fill_value, order=order, filters=flts,
                 compressors=comps, object_codec=obj_codec, separator=dimension_separator,
                 attributes=attributes, dimension_names=dimension_names, shards=shards)
    if _exists(st, path, strict=not overwrite) is not None:
        if not overwrite:
            raise ContainsArrayError(f"an array or group already exists at path {path!r} in {st!r}; "
                                     "use overwrite=True or mode='w' to replace it")
        _clear(st, path)
        if chunk_st is not None:
            _clear(chunk_st, path)
    wec = config.get("write_empty_chunks") if write_empty_chunks is None else bool(write_empty_chunks)
    z = Array(st, path, meta, read_only=False, synchronizer=synchronizer, write_empty_chunks=wec,
              chunk_store=chunk_st, cache_metadata=cache_metadata)
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
               chunk_store: Any = None, cache_metadata: bool = True, **kwargs: Any) -> Array:
    """Open an array, creating it when the mode allows.

    Modes: ``'r'`` read only (must exist), ``'r+'`` read/write (must exist), ``'a'``
    read/write, created if missing, ``'w'`` create (replacing what is there), ``'w-'``/``'x'``
    create, failing if something exists. Creation keywords are those of :func:`create`.
    ``store`` may be a URL (``s3://bucket/x.zarr``, ``https://host/x.zarr``) opened with
    ``storage_options``.
    """
    st, path = open_args(store, mode, path, storage_options)
    if mode in ("r", "r+"):
        return _load(st, path, read_only=(mode == "r"), synchronizer=synchronizer,
                     write_empty_chunks=write_empty_chunks, zarr_format=zarr_format, chunk_store=chunk_store,
                     cache_metadata=cache_metadata)
    if mode == "a" and _exists(st, path) is not None:
        return _load(st, path, read_only=False, synchronizer=synchronizer,
                     write_empty_chunks=write_empty_chunks, zarr_format=zarr_format, chunk_store=chunk_store,
                     cache_metadata=cache_metadata)
    if shape is None:
        raise ArrayNotFoundError(f"no array at path {path!r} in {st!r}, and no shape given to create one")
    return create(shape, store=st, path=path, overwrite=(mode == "w"), zarr_format=zarr_format,
                  synchronizer=synchronizer, write_empty_chunks=write_empty_chunks, chunk_store=chunk_store,
                  cache_metadata=cache_metadata, **kwargs)


def open_like(a: Any, path: Any, **kwargs: Any) -> Array:
    """Open (creating if needed) an array at ``path`` (a path, mapping or store) with the
    shape, chunks, dtype, codecs and fill value of ``a``; keywords as :func:`open_array`."""
    _like(a, kwargs)
    if isinstance(a, Array):
        kwargs.setdefault("fill_value", a.fill_value)
    shape = kwargs.pop("shape", a.shape if isinstance(a, Array) else np.shape(a))
    return open_array(path, shape=shape, **kwargs)


def open(store: Any = None, mode: str = "a", *, path: str | None = None, zarr_format: int | None = None,  # noqa: A001
         use_consolidated: bool | None = None, storage_options: dict | None = None, **kwargs: Any) -> Any:
    """Open the array or group at ``store``/``path``, whichever is there.

    ``store`` may be a URL (``s3://bucket/x.zarr``, ``https://host/x.zarr``, ``zip::...``)
    opened with ``storage_options``.

    Consolidated metadata is used when the group has some (``use_consolidated=False``
    reads the files instead). When nothing is there and the mode allows creating, an
    array is created when ``shape`` is given (see :func:`open_array`), otherwise a group
    (see :func:`chunkzip.open_group`). ``store`` may be a URL opened with ``storage_options``.

    Returns
    -------
    Array or Group
    """
    from .hierarchy import open_group_at, open_node
    from .nodes import read_node

    st, path = open_args(store, mode, path, storage_options)
    node = read_node(st, path, zarr_format) if mode != "w" else None
    if node is None and mode in ("r", "r+"):
        raise ArrayNotFoundError(f"no array or group found at path {path!r} in {st!r}")
    if node is not None and node.kind == "array" and mode in ("r", "r+", "a") and not set(kwargs) - {
            "synchronizer", "write_empty_chunks"}:
        return open_node(st, path, node, read_only=(mode == "r"), **kwargs)  # already read: no second read
    if node is not None and node.kind == "array" or node is None and "shape" in kwargs:
        return open_array(st, mode=mode, path=path, zarr_format=zarr_format, **kwargs)
    return open_group_at(st, path, node, mode=mode, zarr_format=zarr_format, use_consolidated=use_consolidated,
                         **kwargs)


def save(store: Any, arr: Any, *, path: str | None = None, **kwargs: Any) -> None:
    """Save a NumPy array to ``store``, replacing what is there."""
    array(arr, store=store, path=path, overwrite=True, **kwargs)


def load(store: Any, *, path: str | None = None) -> np.ndarray:
    """Load the array at ``store``/``path`` into memory as a NumPy array."""
    return open_array(store, mode="r", path=path)[...]
