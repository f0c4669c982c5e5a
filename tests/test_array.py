"""Array behaviour against NumPy as the oracle: creation, basic get/set, resize, append."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip.codecs import Zstd

FORMATS = [2, 3]


@st.composite
def shape_chunks(draw, max_dims=3):
    ndim = draw(st.integers(1, max_dims))
    shape = tuple(draw(st.integers(0, 12)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 14)) for _ in range(ndim))
    return shape, chunks


def basic_selection(draw, shape):
    sel = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "int", "full"] if n else ["slice", "full"]))
        if kind == "int":
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "full":
            sel.append(slice(None))
        else:
            start = draw(st.none() | st.integers(-n - 2, n + 2))
            stop = draw(st.none() | st.integers(-n - 2, n + 2))
            step = draw(st.none() | st.integers(1, 4))
            sel.append(slice(start, stop, step))
    return tuple(sel)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), sc=shape_chunks(), fmt=st.sampled_from(FORMATS), order=st.sampled_from("CF"))
def test_basic_get_set_matches_numpy(data, sc, fmt, order):
    shape, chunks = sc
    a = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    z = cz.array(a, chunks=chunks, zarr_format=fmt, order=order, compressor=Zstd(level=1), fill_value=-1)
    np.testing.assert_array_equal(z[...], a)
    sel = basic_selection(data.draw, shape)
    np.testing.assert_array_equal(z[sel], a[sel])
    value = np.asarray(data.draw(st.integers(-50, 50)), dtype="i4")
    expected = a.copy()
    expected[sel] = value
    z[sel] = value
    np.testing.assert_array_equal(z[...], expected)
    region = expected[sel]
    if region.ndim:
        arr_value = np.arange(region.size, dtype="i4").reshape(region.shape) * 7
        expected[sel] = arr_value
        z[sel] = arr_value
        np.testing.assert_array_equal(z[...], expected)


def test_spec_reading_and_writing():
    z = cz.zeros((1000, 1000), chunks=(100, 100), dtype="i4")
    assert z.nchunks == 100 and z.nchunks_initialized == 0
    z[:] = 42
    z[0, :] = np.arange(1000)
    z[:, 0] = np.arange(1000)
    assert z[0, 0] == 0 and z[-1, -1] == 42
    np.testing.assert_array_equal(z[0, :], np.arange(1000))
    np.testing.assert_array_equal(z[:, 0], np.arange(1000))
    full = z[:]
    assert full.shape == (1000, 1000) and full[5, 5] == 42
    assert z.nchunks_initialized == 100


def test_scalar_broadcast_and_numpy_broadcasting():
    z = cz.zeros((6, 8), chunks=(4, 3), dtype="f8")
    z[1:5, :] = np.arange(8)  # (8,) broadcast over rows
    a = np.zeros((6, 8))
    a[1:5, :] = np.arange(8)
    np.testing.assert_array_equal(z[...], a)
    z[:, 2] = 7.5
    a[:, 2] = 7.5
    np.testing.assert_array_equal(z[...], a)
    assert isinstance(z[0, 0], np.floating)
    with pytest.raises(ValueError):
        z[0:2, 0:3] = np.ones((3, 2))


def test_zero_dim_and_empty_arrays():
    z = cz.zeros((), dtype="i8")
    assert z[()] == 0 and z[...].shape == ()
    z[()] = 5
    assert z[...] == 5 and z.nchunks == 1
    e = cz.zeros((0, 5), chunks=(2, 2))
    assert e[...].shape == (0, 5)
    e[...] = 3
    assert e.nchunks_initialized == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_resize_shrink_then_grow_shows_fill_not_stale_data(fmt):
    z = cz.full((10, 10), -1, chunks=(4, 4), dtype="i4", zarr_format=fmt)
    z[:] = 7
    z.resize(5, 6)
    assert z.shape == (5, 6)
    z.resize((10, 10))
    expected = np.full((10, 10), -1, dtype="i4")
    expected[:5, :6] = 7
    np.testing.assert_array_equal(z[...], expected)
    # chunks wholly outside the shrunk shape were deleted
    z.resize(3, 3)
    assert z.nchunks_initialized == 1


def test_spec_resize_and_append():
    z = cz.zeros(shape=(10000, 10000), chunks=(1000, 1000))
    z[:] = 42
    z.resize((20000, 10000))
    assert z.shape == (20000, 10000)
    assert z[15000, 5] == 0 and z[5, 5] == 42
    a = np.arange(10000000, dtype="i4").reshape(10000, 1000)
    z = cz.array(a, chunks=(1000, 100))
    assert z.shape == (10000, 1000)
    assert z.append(a) == (20000, 1000)
    assert z.append(np.vstack([a, a]), axis=1) == (20000, 2000)
    np.testing.assert_array_equal(z[10000:10005, :1000], a[:5])
    np.testing.assert_array_equal(z[:, 1000:], np.vstack([a, a]))


def test_append_errors():
    z = cz.zeros((4, 4), chunks=2)
    with pytest.raises(ValueError, match="dimensions"):
        z.append(np.zeros(4))
    with pytest.raises(ValueError, match="shape"):
        z.append(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="axis"):
        z.append(np.zeros((4, 4)), axis=3)


def test_properties_and_repr():
    z = cz.zeros((100, 50), chunks=(30, 20), dtype=">f4", zarr_format=2)
    assert z.shape == (100, 50) and z.chunks == (30, 20) and z.ndim == 2
    assert z.dtype == np.dtype(">f4") and z.size == 5000 and z.nbytes == 20000
    assert z.cdata_shape == (4, 3) and z.nchunks == 12 and len(z) == 100
    assert z.order == "C" and z.read_only is False and z.path == ""
    assert "(100, 50)" in repr(z)
    z[:] = 1
    assert z.nbytes_stored > 0
    np.testing.assert_array_equal(np.asarray(z), np.ones((100, 50), dtype=">f4"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_empty_chunks_false_deletes_fill_chunks(fmt):
    z = cz.zeros((40,), chunks=(10,), dtype="u1", write_empty_chunks=False, zarr_format=fmt)
    z[:] = 100
    assert z.nchunks_initialized == 4
    z[:] = 0
    assert z.nchunks_initialized == 0
    z[5] = 1
    assert z.nchunks_initialized == 1
    z[5] = 0
    assert z.nchunks_initialized == 0
    w = cz.zeros((40,), chunks=(10,), dtype="u1")  # default True
    w[:] = 0
    assert w.nchunks_initialized == 4


def test_nan_fill_and_empty_chunks():
    z = cz.full((20,), np.nan, chunks=5, dtype="f8", write_empty_chunks=False)
    z[:] = np.nan
    assert z.nchunks_initialized == 0
    assert np.isnan(z[...]).all()


@pytest.mark.parametrize("chunks,expected", [
    ((100, None), (100, 10000)), ((None, 100), (10000, 100)), ((1000, 1000), (1000, 1000)),
    (True, (625, 625)), (False, (10000, 10000)), ((100, -1), (100, 10000)), (500, (500, 500)),
])
def test_spec_chunk_options(chunks, expected):
    assert cz.zeros((10000, 10000), chunks=chunks, dtype="i4").chunks == expected


def test_order_f_roundtrip_and_info():
    a = np.arange(10000, dtype="i4").reshape(100, 100).T
    for fmt in FORMATS:
        f = cz.array(a, chunks=(30, 30), order="F", zarr_format=fmt)
        assert f.order == "F"
        np.testing.assert_array_equal(f[...], a)
        reopened = cz.open_array(f.store, mode="r")
        assert reopened.order == "F"
        np.testing.assert_array_equal(reopened[...], a)


def test_info_reports_everything():
    z = cz.array(np.arange(1000, dtype="i4"), chunks=100, compressor=Zstd(level=1))
    text = repr(z.info)
    for label in ["Type", "Zarr format", "Data type", "Shape", "Chunk shape", "Order", "Read-only",
                  "Compressor", "Filters", "Store type", "No. bytes", "No. bytes stored", "Storage ratio",
                  "Chunks initialized"]:
        assert label in text
    assert "Zstd(level=1" in text and "10/10" in text
    assert "<table" in z.info._repr_html_()


def test_attrs_persist(tmp_path):
    for fmt in FORMATS:
        p = str(tmp_path / f"a{fmt}.zarr")
        z = cz.open(p, mode="w", shape=5, zarr_format=fmt)
        z.attrs["foo"] = "bar"
        z.attrs.update(n=3)
        z2 = cz.open(p, mode="r")
        assert dict(z2.attrs) == {"foo": "bar", "n": 3}
        with pytest.raises(PermissionError):
            z2.attrs["x"] = 1


def test_equality_and_pickle_memory_store():
    z1 = cz.array(np.arange(100000))
    s = pickle.dumps(z1)
    assert len(s) > 5000
    z2 = pickle.loads(s)
    assert z1 == z2 or np.all(z1[:] == z2[:])
    np.testing.assert_array_equal(z1[:], z2[:])


def test_pickle_directory_store_is_small(tmp_path):
    z3 = cz.open(str(tmp_path / "walnuts.zarr"), mode="w", shape=100000, dtype="i8")
    z3[:] = np.arange(100000)
    s = pickle.dumps(z3)
    assert len(s) < 400
    z4 = pickle.loads(s)
    assert z3 == z4
    np.testing.assert_array_equal(z3[:], z4[:])


def test_dtype_datetime_assignment_from_strings():
    z = cz.array(["2007-07-13", "2006-01-13", "2010-08-13"], dtype="M8[D]")
    assert z[0] == np.datetime64("2007-07-13")
    z[0] = "1999-12-31"
    np.testing.assert_array_equal(z[:], np.array(["1999-12-31", "2006-01-13", "2010-08-13"], dtype="M8[D]"))
    e = cz.empty(3, dtype="M8[ns]")
    assert np.isnat(e[...]).all()


def test_fixed_length_strings():
    z = cz.zeros(10, dtype="S6")
    z[0] = b"Hello"
    z[1] = b"world!"
    np.testing.assert_array_equal(z[:], np.array([b"Hello", b"world!"] + [b""] * 8, dtype="S6"))
    greetings = ["¡Hola mundo!", "Hej Världen!", "Servus Woid!", "Hei maailma!", "Xin chào thế giới"]
    u = cz.array(greetings * 100, dtype="U20")
    assert u.dtype == np.dtype("<U20") and u.shape == (500,)
    assert list(u[:5]) == greetings


def test_scalar_write_to_whole_edge_chunk_by_mask_keeps_padding_at_fill():
    z = cz.full(7, -1, chunks=4, dtype="i4")
    z.vindex[np.ones(7, dtype=bool)] = 5
    z.resize(8)
    np.testing.assert_array_equal(z[:], [5, 5, 5, 5, 5, 5, 5, -1])
