"""dtype habits of zarr-python 2 code: records with object fields are refused, sub-array
dtypes add dimensions, a record fill value of b'' is the zero record, bad ``fields``."""
from __future__ import annotations

import numpy as np
import pytest

import chunkzip

OBJ_RECORD = np.dtype([("a", "i4"), ("b", object)])


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("compressor", [None, "default"])
def test_object_fields_are_refused(zarr_format, compressor):
    kw = {} if compressor == "default" else {"compressor": None}
    with pytest.raises(ValueError, match="object fields"):
        chunkzip.zeros(5, dtype=OBJ_RECORD, zarr_format=zarr_format, **kw)
    with pytest.raises(ValueError, match="object fields"):
        chunkzip.array(np.zeros(3, dtype=OBJ_RECORD), zarr_format=zarr_format, **kw)
    with pytest.raises(ValueError, match="object fields"):
        chunkzip.zeros(5, dtype=np.dtype([("s", [("o", object)])]), zarr_format=2)


def test_object_fields_in_stored_metadata_are_refused():
    store = {}
    chunkzip.zeros(4, dtype=[("a", "i4"), ("b", "i8")], store=store, zarr_format=2)
    import json

    doc = json.loads(store[".zarray"])
    doc["dtype"] = [["a", "<i4"], ["b", "|O"]]
    store[".zarray"] = json.dumps(doc).encode()
    with pytest.raises(chunkzip.MetadataError, match="object fields"):
        chunkzip.open_array(store, mode="r")


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("fill_value", ["default", None, 1.5])
def test_subarray_dtype_adds_dimensions(zarr_format, fill_value):
    kw = {} if fill_value == "default" else {"fill_value": fill_value}
    z = chunkzip.create(3, dtype="(2, 2)f4", zarr_format=zarr_format, **kw)
    assert z.shape == (3, 2, 2) and z.dtype == np.float32
    if fill_value == 1.5:
        np.testing.assert_array_equal(z[...], np.full((3, 2, 2), 1.5, "f4"))
    data = np.arange(12, dtype="f4").reshape(3, 2, 2)
    z[...] = data
    np.testing.assert_array_equal(z[...], data)
    z[1] = np.ones((2, 2), "f4")
    data[1] = 1
    np.testing.assert_array_equal(z[...], data)
    np.testing.assert_array_equal(chunkzip.open_array(z.store, mode="r")[...], data)


def test_subarray_dtype_chunks_and_zarr_python(tmp_path):
    z = chunkzip.zeros(10, chunks=4, dtype="(3,)i2", store=str(tmp_path / "s"), zarr_format=2)
    assert z.shape == (10, 3) and z.chunks == (4, 4)
    z[:] = np.arange(30, dtype="i2").reshape(10, 3)
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "s"), mode="r")[...], z[...])


REC = np.dtype([("a", "i4"), ("b", "f8"), ("c", "S3")])


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_record_fill_value_empty_bytes_is_zero_record(zarr_format):
    z = chunkzip.create(4, dtype=REC, fill_value=b"", zarr_format=zarr_format)
    np.testing.assert_array_equal(z[...], np.zeros(4, REC))
    z2 = chunkzip.open_array(z.store, mode="r")
    np.testing.assert_array_equal(z2[...], np.zeros(4, REC))
    with pytest.raises(ValueError):
        chunkzip.create(4, dtype=REC, fill_value=b"\x01\x02", zarr_format=zarr_format)
    raw = np.array([(7, 2.5, b"xy")], REC).tobytes()
    z3 = chunkzip.create(2, dtype=REC, fill_value=raw, zarr_format=zarr_format)
    assert z3[0] == np.array((7, 2.5, b"xy"), REC)


@pytest.mark.parametrize("fields", [slice(None), 3, [1, 2], ("a", 1)])
def test_bad_fields_raise_index_error(fields):
    z = chunkzip.zeros(3, dtype=REC)
    with pytest.raises(IndexError):
        z.get_basic_selection(slice(None), fields=fields)
    with pytest.raises(IndexError):
        z.set_basic_selection(slice(None), np.zeros(3, REC), fields=fields)


def test_good_fields_still_work():
    z = chunkzip.zeros(3, dtype=REC)
    z.set_basic_selection(slice(None), np.arange(3, dtype="i4"), fields="a")
    np.testing.assert_array_equal(z.get_basic_selection(slice(None), fields="a"), np.arange(3))
    np.testing.assert_array_equal(z.get_basic_selection(slice(None), fields=["a", "b"])["a"], np.arange(3))
