"""An xarray backend: ``xr.open_dataset(path_or_url, engine="chunkzip")``.

Registered as the ``chunkzip`` entry point of ``xarray.backends`` (``pyproject.toml``).
Variables are lazy (:class:`ChunkzipBackendArray` reads through chunkzip's indexing:
basic, orthogonal and vectorised selections), dask-backed with ``chunks={}`` (one dask
chunk per stored chunk, through ``preferred_chunks``). Dimension names come from
``dimension_names`` (Zarr v3) or the ``_ARRAY_DIMENSIONS`` attribute (v2, as xarray writes
it). CF decoding (masks, scales, times) is xarray's own, applied as for its ``zarr``
engine: a v2 array's fill value is its ``_FillValue``; v3 arrays keep the ``_FillValue``
attribute xarray wrote. Groups come from :func:`chunkzip.open_group`, which reads
consolidated metadata when the store has some.
"""
from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

try:
    from xarray.backends import BackendArray, BackendEntrypoint
except ImportError as e:  # pragma: no cover - only imported through xarray's entry points
    raise ImportError("the chunkzip xarray backend needs xarray: pip install 'chunkzip[xarray]'") from e

from .storage import normalize_store_like

__all__ = ["ChunkzipBackendArray", "ChunkzipBackendEntrypoint", "open_group_for_xarray"]

DIMENSION_KEY = "_ARRAY_DIMENSIONS"


class ChunkzipBackendArray(BackendArray):
    """A chunkzip array as xarray's lazily indexed backend array."""

    def __init__(self, array: Any) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)

    def get_array(self) -> Any:
        return self.array

    def __getitem__(self, key: Any) -> Any:
        from xarray.core import indexing

        if isinstance(key, indexing.VectorizedIndexer):
            method = self._vindex
        elif isinstance(key, indexing.OuterIndexer):
            method = self._oindex
        else:
            method = self._basic
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.VECTORIZED, method)

    def _basic(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array[key])

    def _oindex(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array.oindex[key])

    def _vindex(self, key: tuple) -> np.ndarray:
        return np.asarray(self.array.vindex[key])


def _dimensions(name: str, array: Any) -> tuple[tuple[str, ...], dict]:
    """Dimension names and user attributes (without ``_ARRAY_DIMENSIONS``) of ``array``."""
    attrs = dict(array.attrs)
    if array.zarr_format == 3:
        dims = array.dimension_names
        if dims is None and DIMENSION_KEY in attrs:
            dims = attrs.pop(DIMENSION_KEY)
    else:
        dims = attrs.pop(DIMENSION_KEY, None)
    if dims is None:
        if array.ndim == 0:
            return (), attrs
        where = "dimension_names metadata" if array.zarr_format == 3 else f"the {DIMENSION_KEY!r} attribute"
        raise KeyError(f"array {name!r} has no dimension names ({where}); xarray needs them to open it")
    dims = tuple(dims)
    if len(dims) != array.ndim or any(not isinstance(d, str) for d in dims):
        raise ValueError(f"array {name!r}: dimension names {list(dims)!r} do not name its {array.ndim} "
                         "dimensions with strings")
    return dims, attrs


def _variable(name: str, array: Any, fill_value_as_mask: bool) -> Any:
    from xarray import Variable
    from xarray.core import indexing

    dims, attrs = _dimensions(name, array)
    chunks = tuple(array.chunks)
    encoding: dict[str, Any] = {"chunks": chunks, "preferred_chunks": dict(zip(dims, chunks))}
    if fill_value_as_mask:
        if array.fill_value is not None:
            attrs["_FillValue"] = array.fill_value
    else:
        if array.zarr_format == 3:
            encoding["fill_value"] = array.fill_value
        if "_FillValue" in attrs:
            attrs["_FillValue"] = _decode_fill_value(attrs["_FillValue"], array.dtype)
    data = indexing.LazilyIndexedArray(ChunkzipBackendArray(array))
    return Variable(dims, data, attrs, encoding)


def _decode_fill_value(value: Any, dtype: np.dtype) -> Any:
    """The ``_FillValue`` attribute as xarray's zarr engine writes it (base64 floats)."""
    try:
        from xarray.backends.zarr import FillValueCoder
    except ImportError:  # pragma: no cover - older xarray
        return value
    return FillValueCoder.decode(value, dtype)


def _data_store(group: Any, fill_value_as_mask: bool) -> Any:
    from xarray.backends.common import AbstractDataStore
    from xarray.core.utils import FrozenDict

    class ChunkzipDataStore(AbstractDataStore):
        """One chunkzip group as an xarray data store (variables = its arrays)."""

        def get_variables(self) -> Any:
            return FrozenDict((n, _variable(n, a, fill_value_as_mask)) for n, a in group.arrays())

        def get_attrs(self) -> dict:
            return {k: v for k, v in dict(group.attrs).items() if not k.lower().startswith("_nc")}

        def get_dimensions(self) -> dict:
            dims: dict[str, int] = {}
            for n, a in group.arrays():
                for d, size in zip(_dimensions(n, a)[0], a.shape):
                    if dims.setdefault(d, size) != size:
                        raise ValueError(f"dimension {d!r} has sizes {dims[d]} and {size} (array {n!r})")
            return dims

        def close(self) -> None:
            pass

    return ChunkzipDataStore()


def open_group_for_xarray(filename_or_obj: Any, group: str | None = None, storage_options: dict | None = None,
                          consolidated: bool | None = None) -> Any:
    """The chunkzip group xarray reads: a path, URL, mapping or store, and a group path."""
    from . import open_group

    if isinstance(filename_or_obj, os.PathLike):
        filename_or_obj = os.fspath(filename_or_obj)
    store = normalize_store_like(filename_or_obj, read_only=True, storage_options=storage_options)
    return open_group(store, mode="r", path=group, use_consolidated=consolidated)


class ChunkzipBackendEntrypoint(BackendEntrypoint):
    """``engine="chunkzip"``: Zarr v2/v3 stores (paths, ``s3://``/``https://``/... URLs
    with ``storage_options``, mappings, chunkzip stores) read through chunkzip."""

    description = "Open Zarr v2 and v3 stores (local or remote) with chunkzip"
    url = "https://github.com/chunkzip/chunkzip"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "mask_and_scale", "decode_times",
                               "concat_characters", "decode_coords", "use_cftime", "decode_timedelta", "group",
                               "storage_options", "consolidated", "use_zarr_fill_value_as_mask")

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if isinstance(filename_or_obj, (str, os.PathLike)):
            return os.path.splitext(os.fspath(filename_or_obj).rstrip("/"))[1].lower() == ".zarr"
        return False

    def open_dataset(self, filename_or_obj: Any, *, drop_variables: str | Iterable[str] | None = None,
                     mask_and_scale: bool = True, decode_times: Any = True, concat_characters: bool = True,
                     decode_coords: Any = True, use_cftime: bool | None = None, decode_timedelta: Any = None,
                     group: str | None = None, storage_options: dict | None = None, consolidated: bool | None = None,
                     use_zarr_fill_value_as_mask: bool | None = None) -> Any:
        """Open one group as a Dataset (see :func:`xarray.open_dataset`; the extra keywords
        are those of xarray's ``zarr`` engine)."""
        grp = open_group_for_xarray(filename_or_obj, group, storage_options, consolidated)
        return self._dataset(grp, use_zarr_fill_value_as_mask, drop_variables=drop_variables,
                             mask_and_scale=mask_and_scale, decode_times=decode_times,
                             concat_characters=concat_characters, decode_coords=decode_coords,
                             use_cftime=use_cftime, decode_timedelta=decode_timedelta)

    @staticmethod
    def _dataset(grp: Any, use_zarr_fill_value_as_mask: bool | None, **decode: Any) -> Any:
        from xarray.backends.store import StoreBackendEntrypoint

        mask = use_zarr_fill_value_as_mask
        if mask is None:
            mask = grp.zarr_format == 2  # xarray's zarr engine: v2 fill values mask, v3 use _FillValue
        return StoreBackendEntrypoint().open_dataset(_data_store(grp, mask), **decode)

    def open_groups_as_dict(self, filename_or_obj: Any, *, group: str | None = None,
                            storage_options: dict | None = None, consolidated: bool | None = None,
                            use_zarr_fill_value_as_mask: bool | None = None, **decode: Any) -> dict:
        """Every group below ``group`` (itself included) as a Dataset, keyed by its path
        (``"/"``, ``"/a"``, ``"/a/b"``)."""
        root = open_group_for_xarray(filename_or_obj, group, storage_options, consolidated)
        out = {"/": self._dataset(root, use_zarr_fill_value_as_mask, **decode)}
        for path, member in root.members(max_depth=None):
            if not hasattr(member, "arrays"):
                continue
            out["/" + path] = self._dataset(member, use_zarr_fill_value_as_mask, **decode)
        return out

    def open_datatree(self, filename_or_obj: Any, **kwargs: Any) -> Any:
        """The group tree as an :class:`xarray.DataTree`."""
        from xarray import DataTree

        return DataTree.from_dict(self.open_groups_as_dict(filename_or_obj, **kwargs))
