"""The chunked array."""
from __future__ import annotations

import contextlib
import itertools
import math
from typing import Any, Iterator

import numpy as np

from . import indexing
from .attrs import Attributes
from .chunks import cdata_shape
from .metadata import V2_ARRAY_KEY, V2_ATTRS_KEY, V3_KEY, ArrayMeta, json_dumps
from .pipeline import Pipeline


class ReadOnlyError(PermissionError):
    """Raised on writes, resizes and appends to a read-only array."""


class Array:
    """A chunked, compressed N-dimensional array in a Zarr v2 or v3 store.

    Create arrays with :func:`chunkzip.zeros`, :func:`chunkzip.open` and friends rather
    than directly. Indexing follows NumPy: ``z[...]`` reads, ``z[...] = v`` writes;
    ``z.oindex``, ``z.vindex`` and ``z.blocks`` give orthogonal, coordinate/mask and block
    selections.
    """

    #: Called after the array's metadata is stored (set by a group holding consolidated metadata).
    _on_metadata_written: Any = None

    def __init__(self, store: Any, path: str, meta: ArrayMeta, read_only: bool = False,
                 synchronizer: Any = None, write_empty_chunks: bool = True, chunk_store: Any = None,
                 cache_metadata: bool = True) -> None:
        self._store = store
        self._chunk_store = chunk_store
        self._path = path
        self._meta = meta
        self._read_only = read_only
        self._synchronizer = synchronizer
        self._write_empty_chunks = write_empty_chunks
        self._cache_metadata = bool(cache_metadata)
        self._is_view = False
        self._prefix = path + "/" if path else ""
        self._attrs = Attributes(self)
        self._pipeline = Pipeline(meta, self.chunk_store, self._prefix, synchronizer, write_empty_chunks)

    # ------------------------------------------------------------------ properties
    @property
    def store(self) -> Any:
        """The store holding the array."""
        return self._store

    @property
    def chunk_store(self) -> Any:
        """The store holding the chunks (``store`` unless created with ``chunk_store=``)."""
        return self._store if self._chunk_store is None else self._chunk_store

    @property
    def path(self) -> str:
        """The array's path inside its store ('' for the root)."""
        return self._path

    @property
    def name(self) -> str | None:
        """The path with a leading ``/`` (h5py's convention); None at the store's root."""
        return "/" + self._path if self._path else None

    @property
    def basename(self) -> str | None:
        """The last component of :attr:`name`; None at the store's root."""
        return self._path.rsplit("/", 1)[-1] if self._path else None

    @property
    def cache_metadata(self) -> bool:
        """False: the metadata is read again before every access."""
        return self._cache_metadata

    @property
    def is_view(self) -> bool:
        """True for arrays made by :meth:`view` / :meth:`astype`."""
        return self._is_view

    @property
    def read_only(self) -> bool:
        """Whether writes are refused; assignable, as in zarr-python 2 (a store opened
        read-only still refuses writes)."""
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._read_only = bool(value)

    @property
    def synchronizer(self) -> Any:
        return self._synchronizer

    @property
    def metadata(self) -> ArrayMeta:
        return self._meta

    @property
    def zarr_format(self) -> int:
        return self._meta.zarr_format

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape; assigning it resizes the array (see :meth:`resize`)."""
        if not self._cache_metadata:
            self._refresh_metadata()
        return self._meta.shape

    @shape.setter
    def shape(self, value: Any) -> None:
        self.resize(value)

    @property
    def chunks(self) -> tuple[int, ...]:
        """The chunk shape (the inner chunk shape of a sharded array, as zarr-python 3)."""
        return self._meta.inner_chunks

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard shape of a sharded (v3 ``sharding_indexed``) array, else None."""
        return self._meta.chunks if self._meta.sharding is not None else None

    @property
    def _grid(self) -> tuple[int, ...]:
        """The stored grid: shards when sharded, else chunks (what indexers split by)."""
        return self._meta.chunks

    @property
    def dtype(self) -> np.dtype:
        return self._meta.dtype

    @property
    def fill_value(self) -> Any:
        return self._meta.fill_value

    @property
    def order(self) -> str:
        return self._meta.order

    @property
    def compressor(self) -> Any:
        """The (first) compressor, or None."""
        return self._meta.compressors[0] if self._meta.compressors else None

    @property
    def compressors(self) -> tuple:
        """All bytes→bytes codecs, in order."""
        return tuple(self._meta.compressors)

    @property
    def filters(self) -> list | None:
        """Filters (including an object codec), or None when there are none."""
        fs = list(self._meta.filters) + ([self._meta.serializer] if self._meta.serializer else [])
        return fs or None

    @property
    def write_empty_chunks(self) -> bool:
        return self._write_empty_chunks

    @property
    def dimension_names(self) -> list | None:
        return self._meta.dimension_names

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes the array takes uncompressed."""
        return self.size * self.dtype.itemsize

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks along each dimension."""
        return cdata_shape(self.shape, self.chunks)

    @property
    def nchunks(self) -> int:
        return math.prod(self.cdata_shape)

    @property
    def nchunks_initialized(self) -> int:
        """Number of chunks that are stored (inside the array's shape)."""
        grid = cdata_shape(self.shape, self._grid)
        n = 0
        for k in self._pipeline.chunk_keys():
            c = self._pipeline.parse_key(k)
            if c is not None and len(c) == len(grid) and all(i < g for i, g in zip(c, grid)):
                n += 1
        return n

    @property
    def nbytes_stored(self) -> int:
        """Bytes stored for the array: chunks plus metadata."""
        n = self._store.size_prefix(self._prefix)
        if self._chunk_store is not None and self._chunk_store is not self._store:
            n += self._chunk_store.size_prefix(self._prefix)
        return n

    @property
    def attrs(self) -> Attributes:
        """User attributes (``.zattrs`` in v2, ``attributes`` in v3), saved on every change."""
        return self._attrs

    @property
    def info(self) -> Any:
        """A report of the array's properties and storage (text repr and HTML)."""
        from .info import Info

        return Info(self)

    def info_complete(self, progress: bool | None = None) -> Any:
        """:attr:`info` plus what needs every stored chunk read and decoded: the spread of
        per-chunk compression ratios (min/median/max) and the bytes after each codec stage.

        Parameters
        ----------
        progress : bool or None
            Progress bar over the chunks (None: when in a terminal or notebook).
        """
        from .info import Info, complete_rows

        return Info(self, extra=complete_rows(self, progress))

    # ------------------------------------------------------------------ python protocol
    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self[...]
        if not isinstance(a, np.ndarray):
            a = np.asarray(a)
        return a.astype(dtype) if dtype is not None else a

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self._store == other._store and self._path == other._path

    def __hash__(self) -> int:
        return hash((type(self._store).__name__, self._path))

    def __iter__(self) -> Iterator[Any]:
        return self.islice()

    def islice(self, start: int | None = None, end: int | None = None) -> Iterator[Any]:
        """Yield ``self[i]`` for ``i`` in ``range(start, end)`` along the first axis,
        reading one chunk row at a time (not one element per read).

        Parameters
        ----------
        start, end : int, optional
            Non-negative bounds (default the whole first axis; ``end`` past the end stops there).
        """
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        n = self.shape[0]
        start = 0 if start is None else start
        end = n if end is None else end
        for name, v in (("start", start), ("end", end)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        end = min(int(end), n)
        step = self._grid[0]  # one stored chunk (or shard) row at a time
        i = int(start)
        while i < end:
            stop = min(end, (i // step + 1) * step)
            block = self[i:stop]
            for row in block:
                yield row
            i = stop

    def digest(self, hashname: str = "sha1") -> bytes:
        """A checksum of the stored data and metadata, as zarr-python 2 computes it: the
        bytes of every chunk (absent chunks as b'') in C order of the chunk grid, then
        the array metadata document, then the attributes document (v2 ``.zattrs``).

        Parameters
        ----------
        hashname : str
            Any name :func:`hashlib.new` takes.
        """
        import hashlib

        h = hashlib.new(hashname)
        pipe, chunk_store = self._pipeline, self.chunk_store
        grid = [range(n) for n in cdata_shape(self.shape, self._grid)]  # stored keys (shards if sharded)
        for block in _batched(itertools.product(*grid), 256):
            for v in chunk_store.get_many([pipe.key(c) for c in block]):
                h.update(v or b"")
        h.update(self._store.get(self._meta_key()) or b"")
        if self.zarr_format == 2:
            h.update(self._store.get(self._prefix + V2_ATTRS_KEY) or b"")
        return h.digest()

    def hexdigest(self, hashname: str = "sha1") -> str:
        """:meth:`digest` as a hexadecimal string."""
        return self.digest(hashname).hex()

    def __repr__(self) -> str:
        dt = self.dtype.str if self.dtype.kind in "SUV" else str(self.dtype)
        where = f" {self.name}" if self.name else ""
        return f"<chunkzip.Array{where} {self.shape} {dt}>"

    def __reduce__(self) -> tuple:
        # only what re-opens the array: the store (which pickles its data only when it is
        # in memory), the path and the open options; metadata is read again on unpickling
        return _reopen, (self._store, self._path, self._read_only, self._synchronizer, self._write_empty_chunks,
                         self._chunk_store, self._cache_metadata)

    # ------------------------------------------------------------------ metadata I/O
    def _write_metadata(self, meta: ArrayMeta | None = None) -> None:
        """Store ``meta`` (default: the array's own)."""
        self._check_writable()
        meta = self._meta if meta is None else meta
        if meta.zarr_format == 2:
            self._store.set(self._prefix + V2_ARRAY_KEY, meta.encode())
            if meta.attributes:
                self._store.set(self._prefix + V2_ATTRS_KEY, json_dumps(meta.attributes))
            else:
                self._store.delete(self._prefix + V2_ATTRS_KEY)
        else:
            self._store.set(self._prefix + V3_KEY, meta.encode())
        if self._on_metadata_written is not None:  # e.g. a group's consolidated metadata
            self._on_metadata_written(meta)

    def _set_meta(self, meta: ArrayMeta) -> None:
        self._meta = meta
        self._pipeline = Pipeline(meta, self.chunk_store, self._prefix, self._synchronizer, self._write_empty_chunks)

    def _meta_key(self) -> str:
        return self._prefix + (V2_ARRAY_KEY if self._meta.zarr_format == 2 else V3_KEY)

    def _refresh_metadata(self) -> None:
        """Read the metadata again from the store (another writer may have resized)."""
        if self._is_view:
            return
        from .api import read_array_meta

        meta = read_array_meta(self._store, self._path, self._meta.zarr_format)
        if meta != self._meta:
            self._set_meta(meta)

    @contextlib.contextmanager
    def _array_lock(self) -> Iterator[None]:
        """Hold the synchronizer's lock of the metadata key (if any) and re-read the
        metadata inside it: a read-modify-write of the metadata (resize, append) then
        sees every other writer's change."""
        self._check_writable()
        if self._is_view:
            raise PermissionError("operation not permitted for views")
        lock = contextlib.nullcontext() if self._synchronizer is None else self._synchronizer[self._meta_key()]
        with lock:
            if self._synchronizer is not None or not self._cache_metadata:
                self._refresh_metadata()
            yield

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError("this array is read-only (opened with mode='r' or read_only=True)")

    # ------------------------------------------------------------------ reading
    def _read(self, indexer: Any, fields: Any = None, out: Any = None) -> Any:
        if out is not None:
            return self._read_into(indexer, fields, out)
        buf = np.empty(indexer.shape, dtype=self.dtype)
        self._pipeline.read(indexer, buf)
        result = indexer.finalize(buf)
        if fields is not None:
            result = _select_fields(result, fields)
        if getattr(indexer, "scalar", False):
            return result[()]
        if self._meta.order == "F" and result.ndim > 1:
            result = np.asfortranarray(result)  # zarr-python 2 returns F arrays in F order
        return result

    def _read_into(self, indexer: Any, fields: Any, out: Any) -> Any:
        """Read into the caller's ``out``: straight through the pipeline when ``out``
        has the projection's layout, else through a scratch array."""
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a NumPy array, got {type(out).__name__}")
        if not out.flags.writeable:
            raise ValueError("out is read-only")
        if fields is None and out.dtype == self.dtype:
            fin = type(indexer).finalize
            if fin is indexing.Indexer.finalize and out.shape == tuple(indexer.shape):
                self._pipeline.read(indexer, out)
                return out
            if fin is indexing.CoordinateIndexer.finalize and out.flags.c_contiguous \
                    and out.shape == tuple(indexer.sel_shape):
                self._pipeline.read(indexer, out.reshape(indexer.shape))  # a view: the points in order
                return out
        result = self._read(indexer, fields)
        result = np.asarray(result)
        if out.shape != result.shape:
            raise ValueError(f"out has shape {out.shape}, the selection has shape {result.shape}")
        if out.dtype != result.dtype:
            raise TypeError(f"out has dtype {out.dtype}, the selection has dtype {result.dtype}")
        out[...] = result
        return out

    def __getitem__(self, selection: Any) -> Any:
        item = self._pipeline.read_item(selection)  # one element: no indexer needed
        if item is not None:
            return item
        fields, selection = indexing.pop_fields(selection)
        return self._read(indexing.indexer_for_getitem(selection, self.shape, self._grid), fields)

    def get_basic_selection(self, selection: Any = Ellipsis, out: Any = None, fields: Any = None) -> Any:
        """Read a basic selection (ints, slices, Ellipsis).

        ``out``, a writable array of the selection's shape and the array's dtype,
        receives the data (decoded straight into it where the layout allows).
        """
        return self._read(indexing.BasicIndexer(selection, self.shape, self._grid), fields, out)

    def get_orthogonal_selection(self, selection: Any, out: Any = None, fields: Any = None) -> Any:
        """Read an orthogonal selection (each dimension indexed independently).

        ``out``: as in :meth:`get_basic_selection`.
        """
        return self._read(indexing.OrthogonalIndexer(selection, self.shape, self._grid), fields, out)

    def get_coordinate_selection(self, selection: Any, out: Any = None, fields: Any = None) -> Any:
        """Read points given by one integer array per dimension (broadcast together).

        ``out``: as in :meth:`get_basic_selection`.
        """
        return self._read(indexing.CoordinateIndexer(selection, self.shape, self._grid), fields, out)

    def get_mask_selection(self, selection: Any, out: Any = None, fields: Any = None) -> Any:
        """Read the points where a Boolean mask of the array's shape is True.

        ``out``: as in :meth:`get_basic_selection`.
        """
        return self._read(indexing.MaskIndexer(selection, self.shape, self._grid), fields, out)

    def get_block_selection(self, selection: Any, out: Any = None, fields: Any = None) -> Any:
        """Read whole chunks given by chunk-grid indices.

        ``out``: as in :meth:`get_basic_selection`.
        """
        return self._read(indexing.BlockIndexer(selection, self.shape, self._grid), fields, out)

    # ------------------------------------------------------------------ writing
    def _write(self, indexer: Any, value: Any, fields: Any = None) -> None:
        self._check_writable()
        if fields is not None:
            value = self._merge_fields(indexer, value, fields)
        if isinstance(value, Array):
            value = value[...]
        if self.dtype.kind == "O":
            arr = _as_object_array(value, bool(getattr(indexer, "scalar", False)))
        else:
            try:
                arr = np.asarray(value, dtype=self.dtype)
            except (TypeError, ValueError, OverflowError) as e:
                raise ValueError(f"cannot store {type(value).__name__} {value!r:.80} as {self.dtype}: {e}") from None
        if arr.ndim == 0:
            self._pipeline.write(indexer, arr, scalar=True)
        else:
            self._pipeline.write(indexer, indexer.prepare_value(arr), scalar=False)

    def _merge_fields(self, indexer: Any, value: Any, fields: Any) -> np.ndarray:
        """Whole records for a write of some fields: the current records with those fields replaced."""
        names = _field_names(fields)
        for name in names:
            if name not in (self.dtype.names or ()):
                raise IndexError(f"no field {name!r} in dtype {self.dtype}")
        current = np.empty(indexer.shape, dtype=self.dtype)
        self._pipeline.read(indexer, current)
        records = np.array(indexer.finalize(current), copy=True)
        if len(names) == 1:
            records[names[0]] = value
        else:
            value = np.asarray(value)
            for name in names:
                records[name] = value[name]
        return records

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = indexing.pop_fields(selection)
        indexer = indexing.indexer_for_getitem(selection, self.shape, self._grid)
        # a whole-array copy from a chunked source (chunkzip, zarr, h5py, dask): slab by slab
        if (isinstance(value, Array) or (hasattr(value, "chunks") and hasattr(value, "__getitem__")
                                         and hasattr(value, "dtype") and not isinstance(value, np.ndarray))) \
                and fields is None and isinstance(indexer, indexing.BasicIndexer) \
                and indexer.shape == tuple(getattr(value, "shape", ())) and indexer.shape == self.shape:
            from .copying import copy_into

            copy_into(value, self)
            return
        self._write(indexer, value, fields)

    def set_basic_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write a basic selection."""
        self._write(indexing.BasicIndexer(selection, self.shape, self._grid), value, fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write an orthogonal selection."""
        self._write(indexing.OrthogonalIndexer(selection, self.shape, self._grid), value, fields)

    def set_coordinate_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write points given by one integer array per dimension."""
        self._write(indexing.CoordinateIndexer(selection, self.shape, self._grid), value, fields)

    def set_mask_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write the points where a Boolean mask is True."""
        self._write(indexing.MaskIndexer(selection, self.shape, self._grid), value, fields)

    def set_block_selection(self, selection: Any, value: Any, fields: Any = None) -> None:
        """Write whole chunks given by chunk-grid indices."""
        self._write(indexing.BlockIndexer(selection, self.shape, self._grid), value, fields)

    @property
    def oindex(self) -> "_Accessor":
        """Orthogonal indexing: ``z.oindex[[0, 2], :]``."""
        return _Accessor(self, self.get_orthogonal_selection, self.set_orthogonal_selection)

    @property
    def vindex(self) -> "_Accessor":
        """Coordinate (or mask) indexing: ``z.vindex[[0, 2], [1, 3]]``, ``z.vindex[mask]``."""
        return _Accessor(self, self._get_vindex, self._set_vindex)

    @property
    def blocks(self) -> "_Accessor":
        """Block indexing by chunk-grid coordinates: ``z.blocks[0, 1:3]``."""
        return _Accessor(self, self.get_block_selection, self.set_block_selection)

    def _vindexer(self, selection: Any) -> Any:
        sel = selection if isinstance(selection, tuple) else (selection,)
        if len(sel) == 1 and np.asarray(sel[0]).dtype == bool:
            return indexing.MaskIndexer(sel[0], self.shape, self._grid)
        return indexing.CoordinateIndexer(selection, self.shape, self._grid)

    def _get_vindex(self, selection: Any, fields: Any = None) -> Any:
        return self._read(self._vindexer(selection), fields)

    def _set_vindex(self, selection: Any, value: Any, fields: Any = None) -> None:
        self._write(self._vindexer(selection), value, fields)

    # ------------------------------------------------------------------ resize / append
    def resize(self, *shape: Any) -> None:
        """Change the shape. Chunks wholly outside the new shape are deleted, and the cut
        part of edge chunks is reset to the fill value (so growing again shows no stale data).

        The steps are ordered so that a failure at any of them (a corrupt edge chunk, a
        full disk) leaves the array readable and nothing lost: trimmed edge chunks are
        rewritten first (all read before any is written), then the new metadata, and
        chunks outside the new shape are deleted last.

        With a synchronizer, the change holds the array's metadata lock (see :meth:`append`).
        """
        with self._array_lock():
            self._resize_nosync(shape)

    def _resize_nosync(self, shape: tuple) -> None:
        from .chunks import normalize_shape

        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        new_shape = normalize_shape(shape)
        if len(new_shape) != self.ndim:
            raise ValueError(f"resize cannot change the number of dimensions ({self.shape} -> {new_shape})")
        old_shape = self.shape
        old_pipeline = self._pipeline
        new_meta = self._meta.with_shape(new_shape)
        new_grid = cdata_shape(new_shape, self._grid)
        doomed = []
        trimmed = []
        for key in old_pipeline.chunk_keys():
            coords = old_pipeline.parse_key(key)
            if coords is None or len(coords) != self.ndim:
                continue
            if any(c >= g for c, g in zip(coords, new_grid)):
                doomed.append(key)
            elif any(n < o and (c + 1) * ch > n for c, ch, n, o in zip(coords, self._grid, new_shape, old_shape)):
                trimmed.append(coords)
        # 1. reset the part of kept edge chunks that now lies outside the array: decode
        # them all first, so that a corrupt one stops the resize before anything changed
        edges = []
        for coords in trimmed:
            chunk = old_pipeline.read_chunk(coords)
            if chunk is not None:
                edges.append((coords, chunk))
        for coords, chunk in edges:
            chunk = chunk.copy()
            for axis, (c, ch, n) in enumerate(zip(coords, self._grid, new_shape)):
                keep = max(0, min(ch, n - c * ch))
                if keep < ch:
                    idx = [slice(None)] * self.ndim
                    idx[axis] = slice(keep, None)
                    chunk[tuple(idx)] = old_pipeline.fill
            with old_pipeline._lock(old_pipeline.key(coords)):
                self.chunk_store.set(old_pipeline.key(coords), old_pipeline.codec.encode(chunk))
        # 2. the new shape; 3. only then delete what lies outside it
        self._write_metadata(new_meta)
        self._set_meta(new_meta)
        self.chunk_store.delete_many(doomed)

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Append ``data`` along ``axis``; return the new shape.

        With a synchronizer, the whole append (re-read the shape, resize, write the new
        region) holds the lock of the array's metadata key, so concurrent appends from
        threads or processes each get their own region and lose no data.
        """
        self._check_writable()
        data = data if isinstance(data, Array) else np.asanyarray(data)
        with self._array_lock():
            if data.ndim != self.ndim:
                raise ValueError(f"data has {data.ndim} dimensions, the array has {self.ndim}")
            if not -self.ndim <= axis < self.ndim:
                raise ValueError(f"axis {axis} is out of range for {self.ndim} dimensions")
            axis %= self.ndim
            shape = self._meta.shape
            for i, (a, b) in enumerate(zip(shape, data.shape)):
                if i != axis and a != b:
                    raise ValueError(f"shape of data {data.shape} does not match the array's {shape} "
                                     f"except along axis {axis}")
            old = shape[axis]
            new_shape = tuple(s + (data.shape[axis] if i == axis else 0) for i, s in enumerate(shape))
            self._resize_nosync(new_shape)
            region = tuple(slice(old, new_shape[axis]) if i == axis else slice(None) for i in range(self.ndim))
            self[region] = data
        return new_shape

    # ------------------------------------------------------------------ views
    def view(self, shape: Any = None, chunks: Any = None, dtype: Any = None, fill_value: Any = None,
             filters: Any = None, read_only: bool | None = None, synchronizer: Any = None) -> "Array":
        """An array over the same stored chunks with some properties overridden.

        Parameters
        ----------
        shape, chunks : int or tuple of ints, optional
            Read the chunks with another shape / chunk shape (the chunk bytes must fit).
        dtype : dtype-like, optional
            Reinterpret the chunk bytes as this dtype.
        fill_value : scalar, optional
            Value for chunks that are not stored.
        filters : list of Codec, optional
            Replace the array→array filters.
        read_only, synchronizer : optional
            Default: the array's own.

        Views are never resized or appended to (``PermissionError``); writes through a
        writable view change the stored chunks.
        """
        from dataclasses import replace

        from .chunks import normalize_chunks, normalize_shape

        meta = self._meta
        changes: dict[str, Any] = {}
        new_dtype = meta.dtype if dtype is None else np.dtype(dtype)
        if dtype is not None:
            changes["dtype"] = new_dtype
        new_shape = meta.shape if shape is None else normalize_shape(shape)
        if shape is not None:
            changes["shape"] = new_shape
        if chunks is not None:
            changes["chunks"] = normalize_chunks(chunks, new_shape, new_dtype.itemsize)
        if len(changes.get("chunks", meta.chunks)) != len(new_shape):
            raise ValueError(f"chunks {changes.get('chunks', meta.chunks)} do not match shape {new_shape}")
        if fill_value is not None:
            changes["fill_value"] = np.asarray(fill_value, dtype=new_dtype)[()]
        elif dtype is not None and meta.fill_value is not None and new_dtype.kind != "O":
            changes["fill_value"] = np.asarray(meta.fill_value).astype(new_dtype)[()]
        if filters is not None:
            from .codecs.registry import get_codec

            changes["filters"] = [get_codec(f) for f in filters]
        v = Array(self._store, self._path, replace(meta, **changes),
                  read_only=self._read_only if read_only is None else read_only,
                  synchronizer=self._synchronizer if synchronizer is None else synchronizer,
                  write_empty_chunks=self._write_empty_chunks, chunk_store=self._chunk_store)
        v._is_view = True
        return v

    def astype(self, dtype: Any) -> "Array":
        """A read-only view converting the data to ``dtype`` as it is read.

        Examples
        --------
        >>> import numpy as np, chunkzip
        >>> z = chunkzip.array(np.arange(4, dtype="u1"), chunks=2)
        >>> z.astype("f4")[:]
        array([0., 1., 2., 3.], dtype=float32)
        """
        from .codecs.astype import AsType

        dtype = np.dtype(dtype)
        conv = AsType(encode_dtype=self.dtype, decode_dtype=dtype)
        return self.view(filters=[conv] + list(self._meta.filters), dtype=dtype, read_only=True)


def _reopen(store: Any, path: str, read_only: bool, synchronizer: Any, write_empty_chunks: bool,
            chunk_store: Any = None, cache_metadata: bool = True) -> Array:
    """Unpickle an :class:`Array` by opening it again."""
    from .api import open_array

    return open_array(store, path=path, mode="r" if read_only else "r+", synchronizer=synchronizer,
                      write_empty_chunks=write_empty_chunks, chunk_store=chunk_store,
                      cache_metadata=cache_metadata)


def _batched(it: Any, n: int) -> Iterator[list]:
    """Lists of up to ``n`` items of ``it``."""
    it = iter(it)
    while True:
        block = list(itertools.islice(it, n))
        if not block:
            return
        yield block


class _Accessor:
    """``z.oindex[...]`` / ``z.vindex[...]`` / ``z.blocks[...]``."""

    def __init__(self, array: Array, getter: Any, setter: Any) -> None:
        self._array, self._get, self._set = array, getter, setter

    def __getitem__(self, selection: Any) -> Any:
        fields, selection = indexing.pop_fields(selection)
        return self._get(selection, fields=fields)

    def __setitem__(self, selection: Any, value: Any) -> None:
        fields, selection = indexing.pop_fields(selection)
        self._set(selection, value, fields=fields)


def _field_names(fields: Any) -> list[str]:
    """``fields`` (a name or a list of names) as a list; IndexError for anything else."""
    if isinstance(fields, str):
        return [fields]
    if isinstance(fields, (list, tuple)) and all(isinstance(f, str) for f in fields):
        return list(fields)
    raise IndexError(f"fields must be a field name or a list of field names, got {fields!r}")


def _select_fields(result: np.ndarray, fields: Any) -> np.ndarray:
    names = _field_names(fields)
    for name in names:
        if result.dtype.names is None or name not in result.dtype.names:
            raise IndexError(f"no field {name!r} in dtype {result.dtype}")
    if isinstance(fields, str):
        return result[fields]
    return np.ascontiguousarray(result[names]) if len(names) > 1 else result[names]


def _as_object_array(value: Any, single: bool) -> np.ndarray:
    """An object ndarray for ``value``; ``single`` (an all-integer selection) keeps the
    value whole as one item, e.g. a list stored by the JSON codec or a ragged row."""
    if single or isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        one = np.empty((), dtype=object)
        one[()] = value
        return one
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    try:
        return np.fromiter(value, dtype=object, count=len(value))
    except (TypeError, ValueError):
        return np.array(value, dtype=object)
