"""Arrays written by zarr-python 2.18 (committed fixture): chunkzip reads their data and
computes the same ``digest``/``hexdigest`` zarr-python 2 printed for them."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chunkzip
from chunkzip.storage import LocalStore, LRUStoreCache, NestedDirectoryStore

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "zarr2_digest")
DIGESTS = json.load(open(os.path.join(HERE, "digests.json")))


def _a_data() -> np.ndarray:
    a = np.zeros((25, 10), "i4")
    a[3:17] = np.arange(140).reshape(14, 10)
    return a


@pytest.mark.parametrize("wrap", ["plain", "lru"])
def test_digest_and_data_of_zarr2_arrays(wrap):
    def store(name, cls=LocalStore):
        s = cls(os.path.join(HERE, name), read_only=True)
        return LRUStoreCache(s, max_size=None) if wrap == "lru" else s

    a = chunkzip.open_array(store("a"), mode="r")
    np.testing.assert_array_equal(a[...], _a_data())
    assert a.attrs["units"] == "m"
    assert a.hexdigest() == DIGESTS["a"]
    assert a.digest().hex() == DIGESTS["a"]
    e = chunkzip.open_array(store("e"), mode="r")
    assert e.nchunks_initialized == 0 and e.hexdigest() == DIGESTS["e"]
    g = chunkzip.open_array(store("g"), path="sub/arr", mode="r")
    np.testing.assert_array_equal(g[...], np.full(7, 5, "u1"))
    assert g.name == "/sub/arr" and g.basename == "arr"
    assert g.hexdigest("md5") == DIGESTS["g/sub/arr"]
    n = chunkzip.open_array(store("n", NestedDirectoryStore), mode="r")
    np.testing.assert_array_equal(n[...], np.full((6, 6), 3, "i2"))
    assert n.hexdigest() == DIGESTS["n"]


def test_digest_of_a_copy_written_by_chunkzip(tmp_path):
    """copy_store copies the stored bytes as they are: the copy has the same digest."""
    src = chunkzip.open_array(LocalStore(os.path.join(HERE, "a"), read_only=True), mode="r")
    n, _, _ = chunkzip.copy_store(src.store, str(tmp_path / "copy"))
    assert n == len(src.store)
    assert chunkzip.open_array(str(tmp_path / "copy"), mode="r").hexdigest() == DIGESTS["a"]
