"""Checks shared by the object-store test modules (S3 through s3fs, GCS through gcsfs, S3
through obstore): the same array life cycle and the same ranged reads, run against each
real server."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np


def check_array_lifecycle(open_array: Callable[..., Any], fmt: int, shape: tuple, chunks: tuple,
                          update: tuple) -> tuple[Any, np.ndarray, list]:
    """Create an array with ``open_array(mode, **kw)`` (fill value 3, empty chunks not
    written), write random values, update the region ``update`` (several chunks, read-
    modify-write), then read it back whole, strided and by coordinates, and list its
    chunks. Returns ``(array, expected values, chunk keys listed)`` for the caller's
    further checks."""
    expect = np.full(shape, 3, dtype="f4")
    z = open_array("w", shape=shape, chunks=chunks, dtype="f4", fill_value=3, zarr_format=fmt,
                   write_empty_chunks=False)
    values = np.random.default_rng(fmt).standard_normal(shape).astype("f4")
    z[...] = values
    expect[...] = values
    z[update] = -1.5
    expect[update] = -1.5
    r = open_array("r")
    np.testing.assert_array_equal(r[...], expect)
    rows, cols = shape
    np.testing.assert_array_equal(r[3:rows - 3:2, 1:20], expect[3:rows - 3:2, 1:20])
    pts = ([1, rows - 1, 20], [cols - 1, 0, 15])
    np.testing.assert_array_equal(r.vindex[pts], expect[pts])
    store = r._store
    chunk_keys = [k for k in store.list_prefix("") if "json" not in k and not k.startswith(".z")]
    assert len(chunk_keys) == -(-rows // chunks[0]) * -(-cols // chunks[1])
    assert ("c" if fmt == 3 else "0.0") in store.list_dir("")
    return z, expect, chunk_keys


def check_ranges(store: Any) -> None:
    """Ranged reads (from the start, suffixes, past the end, missing keys) and sizes."""
    blob = bytes(range(256)) * 4
    store.set_many([("x/blob", blob), ("x/small", b"abc")])
    assert store.get_ranges([("x/blob", 10, 20), ("x/blob", -16, None), ("x/blob", -16, 4), ("x/blob", 1000, None),
                             ("x/nope", 0, 1), ("x/small", 1, 100)]) == [
        blob[10:30], blob[-16:], blob[-16:-12], blob[1000:], None, b"bc"]
    assert store.getsize("x/blob") == 1024 and store.getsize("x/nope") == 0
