"""Advanced indexing through real arrays (both formats) against NumPy, and structured fields."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip.storage import MemoryStore

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def array_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 7)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 9)) for _ in range(ndim))  # incl. chunks larger than the array
    fmt = draw(st.sampled_from([2, 3]))
    dtype = draw(st.sampled_from(["i2", "f8", "u1", "c8"]))
    return shape, chunks, fmt, dtype


def make(shape, chunks, fmt, dtype):
    a = (np.arange(int(np.prod(shape))) % 113).astype(dtype).reshape(shape)
    z = cz.array(a, chunks=chunks, zarr_format=fmt)
    return a, z


def ortho_sel(draw, shape):
    sel = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "ints", "bools"]))
        if kind == "int":
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            sel.append(slice(draw(st.integers(0, n)), draw(st.integers(0, n)), draw(st.integers(1, 3))))
        elif kind == "ints":
            sel.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6)), dtype=int))
        else:
            sel.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool))
    return tuple(sel)


def numpy_ortho(a, sel):
    """NumPy equivalent of an orthogonal selection: index one axis at a time."""
    out = a
    axis = 0
    for s in sel:
        if isinstance(s, (int, np.integer)):
            out = np.take(out, s, axis=axis)
        else:
            out = out[(slice(None),) * axis + (s,)]
            axis += 1
    return out


@SETTINGS
@given(case=array_case(), data=st.data())
def test_orthogonal_get_set(case, data):
    a, z = make(*case)
    sel = ortho_sel(data.draw, a.shape)
    expected = numpy_ortho(a, sel)
    np.testing.assert_array_equal(z.get_orthogonal_selection(sel), expected)
    np.testing.assert_array_equal(z.oindex[sel], expected)
    value = (np.arange(expected.size) + 200).astype(a.dtype).reshape(expected.shape)
    b = a.copy()
    # apply to NumPy through an index grid (orthogonal assignment)
    grids = []
    for n, s in zip(a.shape, sel):
        grids.append(np.arange(n)[s] if not isinstance(s, (int, np.integer)) else np.array([s % n]))
    mesh = np.ix_(*grids)
    b[mesh] = value.reshape([len(g) for g in grids])
    z.oindex[sel] = value
    np.testing.assert_array_equal(z[...], b)


@SETTINGS
@given(case=array_case(), data=st.data())
def test_coordinate_get_set(case, data):
    a, z = make(*case)
    npts = data.draw(st.integers(0, 12))
    coords = tuple(np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=npts, max_size=npts)), dtype=int)
                   for n in a.shape)
    np.testing.assert_array_equal(z.get_coordinate_selection(coords), a[coords])
    np.testing.assert_array_equal(z.vindex[coords], a[coords])
    if a.ndim > 1:
        np.testing.assert_array_equal(z[coords], a[coords])  # NumPy semantics for []
    value = (np.arange(npts) + 100).astype(a.dtype)
    b = a.copy()
    b[coords] = value  # repeated coordinates: last wins, as in NumPy
    z.vindex[coords] = value
    np.testing.assert_array_equal(z[...], b)


@SETTINGS
@given(case=array_case(), data=st.data())
def test_mask_get_set(case, data):
    a, z = make(*case)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=a.size, max_size=a.size)), dtype=bool).reshape(a.shape)
    np.testing.assert_array_equal(z.get_mask_selection(mask), a[mask])
    np.testing.assert_array_equal(z.vindex[mask], a[mask])
    np.testing.assert_array_equal(z[mask], a[mask])
    b = a.copy()
    b[mask] = 7
    z[mask] = 7
    np.testing.assert_array_equal(z[...], b)


@SETTINGS
@given(case=array_case(), data=st.data())
def test_block_get_set(case, data):
    a, z = make(*case)
    grid = z.cdata_shape
    sel, region = [], []
    for g, c, n in zip(grid, z.chunks, a.shape):
        if data.draw(st.booleans()):
            i = data.draw(st.integers(-g, g - 1))
            sel.append(i)
            i %= g
            region.append(slice(i * c, min((i + 1) * c, n)))
        else:
            lo, hi = sorted(data.draw(st.lists(st.integers(0, g), min_size=2, max_size=2)))
            sel.append(slice(lo, hi))
            region.append(slice(lo * c, min(hi * c, n)))
    sel, region = tuple(sel), tuple(region)
    np.testing.assert_array_equal(z.get_block_selection(sel), a[region])
    np.testing.assert_array_equal(z.blocks[sel], a[region])
    b = a.copy()
    b[region] = 3
    z.blocks[sel] = 3
    np.testing.assert_array_equal(z[...], b)


def test_numpy_style_getitem_forms():
    a = np.arange(60).reshape(3, 4, 5)
    z = cz.array(a, chunks=(2, 3, 2))
    for sel in [(1, [1, 3]), ([0, 2], [1, 3]), ([[0], [2]], [1, 3]), (Ellipsis, [0, -1]), ([2, 0, 2], slice(None)),
                (slice(None), [True, False, True, True]), (0, slice(None), [4, 0]), ([0, 2], slice(1, 3), [1, 3]),
                (-1, -2, -3), (np.s_[::2], None, 1)]:
        np.testing.assert_array_equal(z[sel], a[sel], err_msg=str(sel))


def test_spec_advanced_indexing_examples():
    z = cz.array(np.arange(10) ** 2)
    np.testing.assert_array_equal(z.get_coordinate_selection([2, 5]), [4, 25])
    z.set_coordinate_selection([2, 5], [-1, -2])
    np.testing.assert_array_equal(z[:], [0, 1, -1, 9, 16, -2, 36, 49, 64, 81])
    z = cz.array(np.arange(15).reshape(3, 5))
    np.testing.assert_array_equal(z.get_coordinate_selection(([0, 2], [1, 3])), [1, 13])
    np.testing.assert_array_equal(z[1, [1, 3]], z[[1, 1], [1, 3]])
    np.testing.assert_array_equal(z.oindex[[0, 2], [1, 3]], [[1, 3], [11, 13]])
    z.oindex[[0, 2], [1, 3]] = [[-1, -2], [-3, -4]]
    np.testing.assert_array_equal(z[:], [[0, -1, 2, -2, 4], [5, 6, 7, 8, 9], [10, -3, 12, -4, 14]])
    z = cz.array(np.arange(100).reshape(10, 10), chunks=(3, 3))
    np.testing.assert_array_equal(z.get_block_selection(1), z[3:6])
    np.testing.assert_array_equal(z.blocks[0, 1:3], np.arange(100).reshape(10, 10)[0:3, 3:9])
    z = cz.zeros((6, 6), dtype=int, chunks=2)
    z.set_block_selection((1, 0), 1)
    z.blocks[:, 2] = 7
    expected = np.zeros((6, 6), dtype=int)
    expected[2:4, 0:2] = 1
    expected[:, 4:6] = 7
    np.testing.assert_array_equal(z[...], expected)
    np.testing.assert_array_equal(z.blocks[2, 1:3], expected[4:6, 2:6])


@pytest.mark.parametrize("sel,exc", [
    ((slice(None), [0, 9]), IndexError),            # out of bounds
    (np.ones((2, 2), dtype=bool), IndexError),      # wrong mask shape
    ((np.zeros((2, 2), dtype=int), slice(None)), IndexError),  # multi-dimensional orthogonal indexer
    ((0, 0, 0), IndexError),                        # too many indices
    ((1.5, 0), IndexError),                         # float index
])
def test_bad_orthogonal_and_mask_selections(sel, exc):
    z = cz.zeros((4, 5), chunks=2, dtype="i4")
    before = dict(z.store._map)
    with pytest.raises((exc, ValueError)):
        if isinstance(sel, np.ndarray):
            z.vindex[sel] = 1
        else:
            z.oindex[sel] = 1
    assert dict(z.store._map) == before  # nothing written


def test_coordinate_errors():
    z = cz.zeros((4, 5), chunks=2)
    with pytest.raises(IndexError):
        z.vindex[[0, 4], [0, 0]]
    with pytest.raises((IndexError, ValueError)):
        z.vindex[[0, 1], [0, 1, 2]]  # shapes do not broadcast
    with pytest.raises(IndexError):
        z.get_block_selection((2, 0))


STRUCT = [("foo", "S3"), ("bar", "i4"), ("baz", "f8")]


@pytest.mark.parametrize("fmt", [2, 3])
def test_structured_fields_every_selection_kind(fmt):
    a = np.array([(b"aaa", 1, 4.2), (b"bbb", 2, 8.4), (b"ccc", 3, 12.6)], dtype=STRUCT)
    z = cz.array(a, chunks=2, zarr_format=fmt)
    np.testing.assert_array_equal(z["foo"], a["foo"])
    np.testing.assert_array_equal(z["baz"], a["baz"])
    np.testing.assert_array_equal(z.get_basic_selection(slice(0, 2), fields="bar"), a["bar"][0:2])
    np.testing.assert_array_equal(z.get_coordinate_selection([0, 2], fields=["foo", "baz"]), a[["foo", "baz"]][[0, 2]])
    np.testing.assert_array_equal(z.get_orthogonal_selection([2, 0], fields="bar"), a["bar"][[2, 0]])
    np.testing.assert_array_equal(z.get_mask_selection(np.array([True, False, True]), fields="foo"), a["foo"][[0, 2]])
    np.testing.assert_array_equal(z.get_block_selection(1, fields="baz"), a["baz"][2:])
    np.testing.assert_array_equal(z["foo", 0:2], a["foo"][0:2])
    np.testing.assert_array_equal(z[0:2, "foo"], a["foo"][0:2])
    # writes of one field keep the others
    z["bar"] = [10, 20, 30]
    z.set_coordinate_selection([1], [99.5], fields="baz")
    b = a.copy()
    b["bar"] = [10, 20, 30]
    b["baz"][1] = 99.5
    np.testing.assert_array_equal(z[...], b)
    with pytest.raises(IndexError):
        z.get_basic_selection(0, fields="nope")


def test_nested_and_subarray_fields_v2():
    dt = np.dtype([("pos", "f4", (3,)), ("meta", [("id", "u2"), ("ok", "?")])])
    a = np.zeros(5, dtype=dt)
    a["pos"] = np.arange(15).reshape(5, 3)
    a["meta"]["id"] = np.arange(5)
    z = cz.array(a, chunks=2)
    assert z.zarr_format == 2  # no v3 form for nested fields
    np.testing.assert_array_equal(z[...], a)
    np.testing.assert_array_equal(z["pos"], a["pos"])
    reopened = cz.open_array(z.store, mode="r")
    np.testing.assert_array_equal(reopened[1:4], a[1:4])


def test_single_element_reads_match():
    a = np.arange(10000, dtype="i4").reshape(100, 100)
    z = cz.array(a, chunks=(32, 32), store=MemoryStore())
    rng = np.random.default_rng(1)
    for _ in range(50):
        i, j = rng.integers(0, 100, 2)
        assert z[i, j] == a[i, j]
