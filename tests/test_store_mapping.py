"""Stores as MutableMappings, as zarr-python 2 code uses them; NestedDirectoryStore;
LRUStoreCache.  One class of tests run against every store."""
from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest
from zarr2_stores import STORES, skip_without_delete

import chunkzip
from chunkzip.storage import LocalStore, LRUStoreCache, MemoryStore, NestedDirectoryStore, Store, \
    normalize_store_like


@pytest.fixture(params=[k for k in STORES if k not in ("dict", "mapping")])
def store(request, tmp_path) -> Store:
    s = normalize_store_like(STORES[request.param](str(tmp_path)))
    yield s
    s.close()


class TestMutableMapping:
    def test_set_get_del(self, store, request):
        skip_without_delete(request.node.callspec.params["store"])
        assert "a" not in store
        with pytest.raises(KeyError):
            store["a"]
        store["a"] = b"xyz"
        assert "a" in store
        assert store["a"] == b"xyz"
        store["a"] = b"new"
        assert store["a"] == b"new"
        del store["a"]
        assert "a" not in store
        with pytest.raises(KeyError):
            del store["a"]
        assert store.get("a") is None

    def test_buffers_and_bad_values(self, store):
        store["n"] = np.arange(4, dtype="<u2")
        assert store["n"] == np.arange(4, dtype="<u2").tobytes()
        store["b"] = bytearray(b"ab")
        store["m"] = memoryview(b"cd")
        assert (store["b"], store["m"]) == (b"ab", b"cd")
        with pytest.raises(TypeError):
            store["s"] = "text"
        with pytest.raises(TypeError):
            store["o"] = object()
        assert "s" not in store and "o" not in store

    def test_keys_len_iter(self, store):
        keys = {"a", "b/c", "b/d/e", ".zarray"}
        for k in keys:
            store[k] = k.encode()
        assert set(store) == keys
        assert set(store.keys()) == keys
        assert len(store) == 4
        assert dict(store.items()) == {k: k.encode() for k in keys}
        assert sorted(store.values()) == sorted(k.encode() for k in keys)

    def test_mapping_mixins(self, store, request):
        skip_without_delete(request.node.callspec.params["store"])
        store.update({"x": b"1", "y/z": b"2"})
        assert store.pop("x") == b"1"
        assert store.pop("x", None) is None
        assert store.setdefault("w", b"3") == b"3"
        store.clear()
        assert len(store) == 0

    def test_getsize_and_rmdir(self, store, request):
        skip_without_delete(request.node.callspec.params["store"])
        store["g/a"] = b"12345"
        store["g/h/b"] = b"123"
        store["other"] = b"1"
        assert store.getsize("g/a") == 5
        assert store.getsize("g") == 8
        assert store.getsize() == 9
        assert store.getsize("missing") == 0
        store.rmdir("g")
        assert set(store) == {"other"}
        store.rmdir()
        assert len(store) == 0

    def test_zip_cannot_delete(self, store, request):
        if request.node.callspec.params["store"] != "zip":
            pytest.skip("zip stores only")
        store["a"] = b"1"
        with pytest.raises(NotImplementedError):
            del store["a"]
        assert store["a"] == b"1"
        store["g/b"] = b"12"
        assert store.getsize("g") == 2 and store.getsize() == 3

    def test_context_manager(self, store):
        with store as s:
            s["k"] = b"v"
            assert s is store
        # closing a plain store keeps its data readable where it lives

    def test_invalid_keys(self, store):
        for bad in ("../x", "/abs", "a//b", "a/./b"):
            with pytest.raises(ValueError):
                store[bad] = b"1"

    def test_read_only(self, tmp_path):
        s = LocalStore(str(tmp_path / "ro"))
        s["a"] = b"1"
        ro = LocalStore(str(tmp_path / "ro"), read_only=True)
        assert ro["a"] == b"1"
        with pytest.raises(PermissionError):
            ro["a"] = b"2"
        with pytest.raises(PermissionError):
            del ro["a"]
        with pytest.raises(PermissionError):
            ro.rmdir()
        assert s["a"] == b"1"


def test_any_mutable_mapping_is_a_store():
    from zarr2_stores import PlainMapping

    m = PlainMapping()
    z = chunkzip.zeros((4, 4), chunks=2, store=m, zarr_format=2, dtype="i2")
    z[1:3, 1:3] = 7
    assert ".zarray" in m and "0.0" in m
    np.testing.assert_array_equal(chunkzip.open_array(m, mode="r")[...], z[...])


def test_store_equality_and_pickle(tmp_path):
    a, b = LocalStore(str(tmp_path)), LocalStore(str(tmp_path))
    assert a == b and hash(a) == hash(b)
    n = NestedDirectoryStore(str(tmp_path))
    assert n != a
    assert a.path == n.path == str(tmp_path)
    n2 = pickle.loads(pickle.dumps(n))
    assert type(n2) is NestedDirectoryStore and n2 == n
    c = LRUStoreCache(a, max_size=100)
    assert c == c and c != LRUStoreCache(a, max_size=100)
    c["k"] = b"v"
    c2 = pickle.loads(pickle.dumps(c))
    assert c2["k"] == b"v" and c2.hits == 0 and c2.max_size == 100


def test_nested_directory_store_layout(tmp_path):
    s = NestedDirectoryStore(str(tmp_path / "n"))
    z = chunkzip.zeros((4, 6), chunks=(2, 3), store=s, dtype="u1", zarr_format=2)
    z[:] = np.arange(24, dtype="u1").reshape(4, 6)
    assert os.path.isfile(tmp_path / "n" / "1" / "1")
    assert z.metadata.separator == "/"
    assert chunkzip.zeros(3, store=s, path="v3", zarr_format=3).metadata.separator == "/"
    # zarr-python reads what the nested store wrote
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "n"), mode="r")[...], z[...])


class CountingStore(MemoryStore):
    """Counts the reads that reach it (not a mock: a real MemoryStore)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key):
        self.reads += 1
        return super().get(key)

    def get_many(self, keys):
        keys = list(keys)
        self.reads += len(keys)
        return [MemoryStore.get(self, k) for k in keys]


class TestLRUStoreCache:
    def test_hits_misses_and_reads(self):
        base = CountingStore()
        data = np.arange(100, dtype="i4")
        chunkzip.array(data, chunks=10, store=base, zarr_format=2)
        cache = LRUStoreCache(base, max_size=None)
        zc = chunkzip.open_array(cache, mode="r")
        base.reads = 0
        np.testing.assert_array_equal(zc[:], data)
        first = base.reads
        assert first >= 10 and cache.misses >= 10
        hits = cache.hits
        np.testing.assert_array_equal(zc[:], data)
        assert base.reads == first  # the second read never reaches the store
        assert cache.hits >= hits + 10

    def test_size_bound_evicts_least_recently_used(self):
        base = MemoryStore()
        for i in range(5):
            base[f"k{i}"] = bytes(10)
        cache = LRUStoreCache(base, max_size=30)
        for i in range(3):
            cache[f"k{i}"]
        assert cache.current_size == 30
        cache["k0"]  # k0 becomes the most recent: k1 is evicted next
        cache["k3"]
        assert cache.current_size == 30
        before = cache.misses
        cache["k0"]
        assert cache.misses == before  # still cached
        cache["k1"]
        assert cache.misses == before + 1  # was evicted
        base["big"] = bytes(100)
        assert cache["big"] == bytes(100)  # larger than the bound: served, not cached
        assert cache.current_size <= 30

    def test_writes_go_through_and_update(self):
        base = MemoryStore()
        cache = LRUStoreCache(base, max_size=1000)
        cache["a"] = b"1"
        assert base["a"] == b"1" and cache["a"] == b"1"
        cache["a"] = b"2"
        assert cache["a"] == b"2" and base["a"] == b"2"
        assert "b" not in cache
        cache["b"] = b"3"
        assert set(cache) == {"a", "b"}  # the key cache was invalidated
        del cache["a"]
        assert "a" not in cache and "a" not in base

    def test_invalidate_sees_outside_changes(self):
        base = MemoryStore()
        base["a"] = b"old"
        cache = LRUStoreCache(base, max_size=None)
        assert cache["a"] == b"old" and list(cache) == ["a"]
        base["a"] = b"new"
        base["b"] = b"x"
        assert cache["a"] == b"old" and list(cache) == ["a"]
        cache.invalidate_values()
        assert cache["a"] == b"new"
        cache.invalidate_keys()
        assert sorted(cache) == ["a", "b"]
        base["a"] = b"newer"
        cache.invalidate()
        assert cache["a"] == b"newer"

    def test_bad_max_size(self):
        with pytest.raises(ValueError):
            LRUStoreCache(MemoryStore(), max_size=-1)

    def test_threads_share_one_cache(self):
        base = MemoryStore()
        values = {f"k{i}": os.urandom(64) for i in range(64)}
        for k, v in values.items():
            base[k] = v
        cache = LRUStoreCache(base, max_size=64 * 20)
        errors = []

        def reader(seed: int) -> None:
            rng = np.random.default_rng(seed)
            try:
                for i in rng.integers(0, 64, 400):
                    k = f"k{i}"
                    if cache[k] != values[k]:
                        errors.append(k)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=reader, args=(s,)) for s in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert cache.current_size <= 64 * 20
        assert cache.hits + cache.misses == 6 * 400
