"""zarr-python-2 style array tests (one class, run against every store): the members and
habits of zarr-python 2 code -- islice, name/basename, digest, shape setter, out=,
astype/view, order='F', cache_metadata, chunk_store=, open_like.  NumPy is the oracle;
digests are recomputed from the stored bytes as zarr-python 2 documents them."""
from __future__ import annotations

import hashlib
import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr2_stores import NO_DELETE, STORES, skip_without_delete

import chunkzip
from chunkzip.storage import MemoryStore, normalize_store_like


@pytest.fixture(params=list(STORES))
def make_store(request, tmp_path):
    made = []

    def make():
        s = STORES[request.param](str(tmp_path / f"s{len(made)}"))
        made.append(s)
        return s

    yield make
    for s in made:
        if hasattr(s, "close"):
            s.close()


def _create(make_store, shape, chunks, dtype="i4", **kw):
    kw.setdefault("zarr_format", 2)
    return chunkzip.zeros(shape, chunks=chunks, dtype=dtype, store=make_store(), **kw)


def _zarr2_digest(z, hashname="sha1") -> bytes:
    """The digest as zarr-python 2.18 documents it, from the stores' bytes."""
    h = hashlib.new(hashname)
    prefix = z.path + "/" if z.path else ""
    meta = normalize_store_like(z.store)
    chunks = normalize_store_like(z.chunk_store)
    sep = z.metadata.separator
    for idx in itertools.product(*[range(-(-s // c)) for s, c in zip(z.shape, z.chunks)]):
        key = prefix + (sep.join(map(str, idx)) if idx else "0")
        h.update(chunks.get(key) or b"")
    h.update(meta.get(prefix + ".zarray") or b"")
    h.update(meta.get(prefix + ".zattrs") or b"")
    return h.digest()


class TestArrayAgainstEveryStore:
    def test_roundtrip_2d(self, make_store):
        a = np.arange(1000, dtype="i4").reshape(20, 50)
        z = _create(make_store, a.shape, (7, 9))
        z[:] = a
        np.testing.assert_array_equal(z[:], a)
        np.testing.assert_array_equal(z[3:17, 5:44:3], a[3:17, 5:44:3])
        z2 = chunkzip.open_array(z.store, mode="r")
        np.testing.assert_array_equal(z2[...], a)
        assert z.nchunks_initialized == z.nchunks == 3 * 6

    def test_islice_and_iter(self, make_store):
        a = np.arange(60, dtype="i4").reshape(12, 5)
        z = _create(make_store, a.shape, (5, 2))
        z[:] = a
        for start, end in [(None, None), (0, 12), (3, 9), (4, 100), (11, 12), (7, 7)]:
            got = list(z.islice(start, end))
            want = list(a[start:end])
            assert len(got) == len(want)
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.array(list(z)), a)
        with pytest.raises(ValueError):
            list(z.islice(-1))
        with pytest.raises(ValueError):
            list(z.islice(0, -2))
        with pytest.raises(TypeError):
            list(_create(make_store, (), None).islice())

    def test_read_only_is_assignable(self, make_store):
        z = _create(make_store, 6, 3)
        z.read_only = True
        with pytest.raises(PermissionError):
            z[0] = 1
        with pytest.raises(PermissionError):
            z.append(np.zeros(2, "i4"))
        z.read_only = False
        z[0] = 1
        assert z[0] == 1

    def test_name_and_basename(self, make_store):
        store = make_store()
        root = chunkzip.zeros(3, store=store, zarr_format=2)
        assert root.name is None and root.basename is None
        inner = chunkzip.zeros(3, store=store, path="grp/sub/arr", zarr_format=2)
        assert inner.name == "/grp/sub/arr" and inner.basename == "arr"

    def test_digest_as_zarr2_computes_it(self, make_store):
        z = _create(make_store, (25, 10), (10, 4))
        empty = z.hexdigest()
        assert z.digest() == _zarr2_digest(z)
        z[3:17, :] = np.arange(140).reshape(14, 10)
        assert z.digest() == _zarr2_digest(z)
        assert z.hexdigest() != empty
        assert z.hexdigest("md5") == _zarr2_digest(z, "md5").hex()
        z.attrs["units"] = "m"
        assert z.digest() == _zarr2_digest(z)
        assert len(z.hexdigest()) == 40

    def test_shape_setter_and_resize(self, make_store, request):
        skip_without_delete(request.node.callspec.params["make_store"])  # shrinking deletes chunks
        z = _create(make_store, (10, 10), (4, 4))
        z[:] = np.arange(100).reshape(10, 10)
        z.shape = (6, 12)
        assert z.shape == (6, 12)
        want = np.zeros((6, 12), "i4")
        want[:, :10] = np.arange(100).reshape(10, 10)[:6]
        np.testing.assert_array_equal(z[:], want)
        z.shape = (10, 10)  # growing back shows the fill value, never the old data
        want2 = np.zeros((10, 10), "i4")
        want2[:6] = want[:, :10]
        np.testing.assert_array_equal(z[:], want2)
        np.testing.assert_array_equal(chunkzip.open_array(z.store, mode="r")[:], want2)

    def test_append(self, make_store):
        a = np.arange(30, dtype="i4").reshape(10, 3)
        z = _create(make_store, a.shape, (4, 2))
        z[:] = a
        assert z.append(a) == (20, 3)
        with pytest.raises(ValueError):
            z.append(a[:, :2], axis=0)
        assert z.append(np.ones((20, 2), "i4"), axis=1) == (20, 5)
        want = np.hstack([np.vstack([a, a]), np.ones((20, 2), "i4")])
        np.testing.assert_array_equal(z[:], want)

    @pytest.mark.parametrize("kind", ["basic", "orthogonal", "coordinate", "mask", "block"])
    def test_get_selection_out(self, make_store, kind):
        a = np.arange(240, dtype="f8").reshape(12, 20)
        z = _create(make_store, a.shape, (5, 6), dtype="f8")
        z[:] = a
        sel, want = {
            "basic": ((slice(2, 11), slice(None, None, 3)), a[2:11, ::3]),
            "orthogonal": (([0, 4, 11], slice(3, 9)), a[[0, 4, 11]][:, 3:9]),
            "coordinate": (([0, 4, 11], [19, 0, 5]), a[[0, 4, 11], [19, 0, 5]]),
            "mask": (a % 7 == 0, a[a % 7 == 0]),
            "block": ((1, slice(0, 2)), a[5:10, 0:12]),
        }[kind]
        out = np.full(want.shape, -1.0)
        got = getattr(z, f"get_{kind}_selection")(sel, out=out)
        assert got is out
        np.testing.assert_array_equal(out, want)
        with pytest.raises(ValueError):
            getattr(z, f"get_{kind}_selection")(sel, out=np.empty(want.size + 1))

    def test_out_whole_array_decodes_into_caller_buffer(self, make_store):
        a = np.arange(64, dtype="u2").reshape(8, 8)
        z = _create(make_store, a.shape, (4, 4), dtype="u2")
        z[:] = a
        out = np.zeros_like(a)
        assert z.get_basic_selection(out=out) is out
        np.testing.assert_array_equal(out, a)
        with pytest.raises(ValueError):
            z.get_basic_selection(out=np.zeros_like(a)[:, :4])
        ro = np.zeros_like(a)
        ro.flags.writeable = False
        with pytest.raises(ValueError):
            z.get_basic_selection(out=ro)
        with pytest.raises(TypeError):
            z.get_basic_selection(out=np.zeros(a.shape, "f8"))

    def test_astype_and_view(self, make_store):
        a = np.arange(100, dtype="u1")
        z = _create(make_store, a.shape, 10, dtype="u1")
        z[:] = a
        v = z.astype("f4")
        assert v.is_view and v.read_only and v.dtype == np.float32
        np.testing.assert_array_equal(v[:], a.astype("f4"))
        assert v[:].dtype == np.float32
        with pytest.raises(PermissionError):
            v[0] = 1
        b = z.view(dtype=bool)
        np.testing.assert_array_equal(b[:], a.view(bool))
        w = z.view(dtype="u2", shape=50, chunks=5)
        np.testing.assert_array_equal(w[:], a.view("<u2"))
        with pytest.raises(PermissionError):
            w.resize(60)
        f = z.view(fill_value=9)
        np.testing.assert_array_equal(f[:], a)  # every chunk is stored

    def test_order_f(self, make_store):
        a = np.arange(120, dtype="i8").reshape(8, 15)
        z = _create(make_store, a.shape, (3, 4), dtype="i8", order="F")
        z[:] = a
        r = z[:]
        assert r.flags.f_contiguous
        np.testing.assert_array_equal(r, a)
        np.testing.assert_array_equal(z[1:7, 2:14], a[1:7, 2:14])
        zarr = pytest.importorskip("zarr")
        if isinstance(z.store, chunkzip.storage.LocalStore):
            np.testing.assert_array_equal(zarr.open_array(z.store.root, mode="r")[...], a)

    def test_cache_metadata_false_sees_other_writers(self, make_store):
        store = make_store()
        z = chunkzip.zeros(10, chunks=4, dtype="i4", store=store, zarr_format=2)
        fresh = chunkzip.open_array(store, mode="r", cache_metadata=False)
        stale = chunkzip.open_array(store, mode="r")
        assert not fresh.cache_metadata and stale.cache_metadata
        z.append(np.arange(5, dtype="i4"))
        assert fresh.shape == (15,)
        assert stale.shape == (10,)
        np.testing.assert_array_equal(fresh[10:], np.arange(5))
        z.attrs["k"] = 1
        assert fresh.attrs["k"] == 1 and "k" not in stale.attrs
        w = chunkzip.open_array(store, mode="r+", cache_metadata=False)
        w[:] = 3
        z.resize(20)  # another handle grows the array; this one writes the new part
        w[15:] = 4
        np.testing.assert_array_equal(z[:], np.r_[np.full(15, 3), np.full(5, 4)])

    def test_chunk_store(self, make_store, request):
        meta, chunks = make_store(), make_store()
        a = np.arange(50, dtype="i2")
        z = chunkzip.array(a, chunks=10, store=meta, chunk_store=chunks, zarr_format=2)
        ms, cs = normalize_store_like(meta), normalize_store_like(chunks)
        assert set(ms) == {".zarray"}
        assert set(cs) == {str(i) for i in range(5)}
        assert z.chunk_store is chunks or normalize_store_like(z.chunk_store) == cs
        assert "Chunk store type" in repr(z.info) and "Chunk store type" not in repr(chunkzip.zeros(3).info)
        np.testing.assert_array_equal(chunkzip.open_array(meta, mode="r", chunk_store=chunks)[:], a)
        # without the chunk store only fill values are seen
        np.testing.assert_array_equal(chunkzip.open_array(meta, mode="r")[:], np.zeros(50, "i2"))
        assert z.nbytes_stored == ms.getsize() + cs.getsize()
        if request.node.callspec.params["make_store"] in NO_DELETE:
            return
        z.resize(25)
        assert set(cs) == {"0", "1", "2"}
        z2 = pickle.loads(pickle.dumps(z)) if isinstance(ms, chunkzip.storage.LocalStore) else z
        np.testing.assert_array_equal(z2[:], a[:25])

    def test_open_like(self, make_store):
        src = chunkzip.full((6, 7), 5, chunks=(2, 3), dtype="u4", store=make_store(), zarr_format=2,
                            compressor=chunkzip.codecs.Zstd(level=3))
        z = chunkzip.open_like(src, make_store())
        assert (z.shape, z.chunks, z.dtype, z.fill_value) == (src.shape, src.chunks, src.dtype, 5)
        assert z.compressor == chunkzip.codecs.Zstd(level=3)
        np.testing.assert_array_equal(z[:], np.full((6, 7), 5, "u4"))
        n = chunkzip.open_like(np.zeros((3, 4), "f4"), make_store(), chunks=2)
        assert (n.shape, n.dtype, n.chunks) == ((3, 4), np.float32, (2, 2))


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_hypothesis_roundtrip_with_lru_cache_and_chunk_store(data):
    """Random shapes, chunks and selections through an LRU cache over a split store."""
    ndim = data.draw(st.integers(1, 3))
    shape = tuple(data.draw(st.integers(0, 9)) for _ in range(ndim))
    chunks = tuple(data.draw(st.integers(1, 5)) for _ in range(ndim))
    a = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    cache = chunkzip.storage.LRUStoreCache(MemoryStore(), max_size=data.draw(st.sampled_from([None, 0, 64, 4096])))
    z = chunkzip.array(a, chunks=chunks, store={}, chunk_store=cache, zarr_format=2)
    sel = tuple(slice(data.draw(st.integers(0, max(s, 1))), None, data.draw(st.integers(1, 3))) for s in shape)
    np.testing.assert_array_equal(z[sel], a[sel])
    np.testing.assert_array_equal(z[sel], a[sel])  # now (partly) from the cache
    out = np.empty(a[sel].shape, a.dtype)
    np.testing.assert_array_equal(z.get_basic_selection(sel, out=out), a[sel])
