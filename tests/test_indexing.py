"""Property-based tests of chunkzip.indexing against NumPy, on a simulated chunk store."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chunkzip.indexing import (
    BasicIndexer,
    BlockIndexer,
    ChunkProjection,
    CoordinateIndexer,
    MaskIndexer,
    OrthogonalIndexer,
    indexer_for_getitem,
    is_basic_selection,
    pop_fields,
)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

PAD = -7  # value stored in the padding of edge chunks


# --------------------------------------------------------------------------- #
# simulated chunked array
# --------------------------------------------------------------------------- #

def split(a: np.ndarray, chunks: tuple[int, ...]) -> dict:
    """Full-size, edge-padded chunks of ``a`` keyed by grid coordinates."""
    grid = [range(-(-n // c)) for n, c in zip(a.shape, chunks)]
    store = {}
    for cc in itertools.product(*grid):
        sl = tuple(slice(i * c, i * c + c) for i, c in zip(cc, chunks))
        part = a[sl]
        full = np.full(chunks, PAD, dtype=a.dtype)
        full[tuple(slice(0, d) for d in part.shape)] = part
        store[cc] = full
    return store


def join(store: dict, shape: tuple[int, ...], chunks: tuple[int, ...]) -> np.ndarray:
    a = np.empty(shape, dtype=np.int64)
    for cc, full in store.items():
        sl = tuple(slice(i * c, min(i * c + c, n)) for i, c, n in zip(cc, chunks, shape))
        a[sl] = full[tuple(slice(0, s.stop - s.start) for s in sl)]
    return a


def do_get(a, indexer, chunks):
    store = split(a, chunks)
    out = np.full(indexer.shape, -99, dtype=a.dtype)
    seen = set()
    for p in indexer:
        assert isinstance(p, ChunkProjection)
        assert p.chunk_coords not in seen, "chunk visited twice"
        seen.add(p.chunk_coords)
        chunk = store[p.chunk_coords]
        out[p.out_selection] = chunk[p.chunk_selection]
        check_complete(p, chunk.shape, a.shape, chunks)
    result = indexer.finalize(out)
    assert isinstance(result, np.ndarray)
    if indexer.scalar:
        assert indexer.drop_all
        result = result[()]
    return result


def do_set(a, indexer, chunks, value):
    store = split(a, chunks)
    prepared = indexer.prepare_value(np.asarray(value))
    assert prepared.shape == tuple(indexer.shape)
    for p in indexer:
        store[p.chunk_coords][p.chunk_selection] = prepared[p.out_selection]
    # padding must never be written
    for cc, full in store.items():
        valid = tuple(slice(0, min(c, n - i * c)) for i, c, n in zip(cc, chunks, a.shape))
        mask = np.ones(full.shape, bool)
        mask[valid] = False
        assert (full[mask] == PAD).all(), "padding written"
    return join(store, a.shape, chunks)


def check_complete(p, chunk_shape, shape, chunks):
    """is_complete_chunk is truthful: it holds iff every valid element is hit exactly once."""
    marks = np.zeros(chunk_shape, dtype=np.int64)
    np.add.at(marks, p.chunk_selection, 1)
    valid = tuple(slice(0, min(c, n - i * c)) for i, c, n in zip(p.chunk_coords, chunks, shape))
    v = marks[valid]
    exact = bool((v == 1).all()) and marks.sum() == v.sum()
    assert p.is_complete_chunk == exact, (p, marks)
    if p.is_complete_chunk:  # elements in C order
        probe = np.arange(marks.size).reshape(chunk_shape)
        np.testing.assert_array_equal(np.ravel(probe[p.chunk_selection]), probe[valid].ravel())


# --------------------------------------------------------------------------- #
# strategies
# --------------------------------------------------------------------------- #

@st.composite
def array_and_chunks(draw, min_dims=1, max_dims=4, max_side=7):
    ndim = draw(st.integers(min_dims, max_dims))
    shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, max(1, n + 2))) for n in shape)
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape) + 1
    return a, chunks


def int_index(draw, n):
    return draw(st.integers(-n, n - 1))


def slice_index(draw, n):
    start = draw(st.none() | st.integers(-n - 2, n + 2))
    stop = draw(st.none() | st.integers(-n - 2, n + 2))
    step = draw(st.none() | st.integers(1, 4))
    return slice(start, stop, step)


def int_array_index(draw, n, sort=None):
    vals = draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=8)) if n else []
    if sort is None:
        sort = draw(st.booleans())
    if sort:
        vals = sorted(v % n for v in vals)
    return np.array(vals, dtype=np.int64)


def bool_array_index(draw, n):
    return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


@st.composite
def basic_case(draw):
    a, chunks = draw(array_and_chunks())
    sel = []
    for n in a.shape:
        if n and draw(st.booleans()):
            sel.append(int_index(draw, n))
        else:
            sel.append(slice_index(draw, n))
    k = draw(st.integers(0, len(sel)))
    if draw(st.booleans()):  # a prefix, Ellipsis, then a suffix of the axes
        j = draw(st.integers(0, len(sel) - k))
        sel = sel[:k] + [Ellipsis] + sel[len(sel) - j:]
    else:
        sel = sel[:k]  # trailing dims omitted
    return a, chunks, tuple(sel)


@st.composite
def ortho_case(draw):
    a, chunks = draw(array_and_chunks())
    sel = []
    for n in a.shape:
        kind = draw(st.sampled_from(["int", "slice", "iarr", "barr"] if n else ["slice", "iarr", "barr"]))
        if kind == "int":
            sel.append(int_index(draw, n))
        elif kind == "slice":
            sel.append(slice_index(draw, n))
        elif kind == "iarr":
            sel.append(int_array_index(draw, n))
        else:
            sel.append(bool_array_index(draw, n))
    return a, chunks, tuple(sel)


def ortho_numpy(a, sel):
    """Orthogonal selection with NumPy: arrays through np.ix_, ints dropped."""
    idx = []
    for s, n in zip(sel, a.shape):
        if isinstance(s, slice):
            idx.append(np.arange(n)[s])
        elif isinstance(s, np.ndarray):
            idx.append(np.flatnonzero(s) if s.dtype == bool else s % max(n, 1))
        else:
            idx.append(np.array([s % n]))
    r = a[np.ix_(*idx)] if idx else a
    drop = tuple(i for i, s in enumerate(sel) if isinstance(s, int))
    return r.reshape([d for i, d in enumerate(r.shape) if i not in drop])


def ortho_numpy_set(a, sel, value):
    b = a.copy()
    idx = []
    for s, n in zip(sel, a.shape):
        if isinstance(s, slice):
            idx.append(np.arange(n)[s])
        elif isinstance(s, np.ndarray):
            idx.append(np.flatnonzero(s) if s.dtype == bool else s % max(n, 1))
        else:
            idx.append(np.array([s % n]))
    target_shape = tuple(len(i) for i in idx)
    v = np.broadcast_to(value, ortho_numpy(a, sel).shape).reshape(target_shape)
    b[np.ix_(*idx)] = v
    return b


@st.composite
def coord_case(draw):
    a, chunks = draw(array_and_chunks())
    if 0 in a.shape:
        npts_shape = (0,)
    else:
        npts_shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    coords = []
    for n in a.shape:
        if 0 in a.shape:
            coords.append(np.zeros(npts_shape, np.int64))
            continue
        shp = npts_shape if draw(st.booleans()) else (1,) * len(npts_shape)
        coords.append(np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(shp)),
                                             max_size=int(np.prod(shp))))).reshape(shp))
    return a, chunks, tuple(coords)


@st.composite
def mask_case(draw):
    a, chunks = draw(array_and_chunks())
    density = draw(st.sampled_from([0.0, 0.2, 0.7, 1.0]))
    seed = draw(st.integers(0, 2**31))
    mask = np.random.default_rng(seed).random(a.shape) < density
    return a, chunks, mask


@st.composite
def block_case(draw):
    a, chunks = draw(array_and_chunks())
    sel = []
    for n, c in zip(a.shape, chunks):
        nb = -(-n // c)
        if nb and draw(st.booleans()):
            sel.append(draw(st.integers(-nb, nb - 1)))
        else:
            sel.append(slice(draw(st.none() | st.integers(-nb - 1, nb + 1)),
                             draw(st.none() | st.integers(-nb - 1, nb + 1))))
    return a, chunks, tuple(sel)


def block_numpy_sel(sel, shape, chunks):
    out = []
    for s, n, c in zip(sel, shape, chunks):
        nb = -(-n // c)
        if isinstance(s, int):
            b = s % nb
            out.append(slice(b * c, (b + 1) * c))
        else:
            lo, hi, _ = s.indices(nb)
            out.append(slice(lo * c, max(lo, hi) * c))
    return tuple(out)


def values_for(shape, draw_scalar):
    return -np.arange(1, int(np.prod(shape)) + 1, dtype=np.int64).reshape(shape) if not draw_scalar \
        else np.int64(-5)


# --------------------------------------------------------------------------- #
# basic
# --------------------------------------------------------------------------- #

@SETTINGS
@given(basic_case(), st.booleans())
def test_basic(case, scalar_value):
    a, chunks, sel = case
    ix = BasicIndexer(sel, a.shape, chunks)
    expected = a[sel]
    got = do_get(a, ix, chunks)
    np.testing.assert_array_equal(got, expected)
    assert np.shape(got) == np.shape(expected)
    assert ix.scalar == (np.ndim(expected) == 0 and Ellipsis not in sel and len(sel) == a.ndim)
    # set
    value = values_for(np.shape(expected), scalar_value)
    b = a.copy()
    b[sel] = value
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), b)
    # basic projections are plain slices/ints (fast copies, direct decode of whole chunks)
    for p in ix:
        assert all(isinstance(s, (int, slice)) for s in p.chunk_selection)
        assert all(isinstance(s, slice) for s in p.out_selection)
    # dispatch
    ix2 = indexer_for_getitem(sel, a.shape, chunks)
    assert isinstance(ix2, BasicIndexer)


def test_basic_0d():
    a = np.array(42)
    for sel in [(), Ellipsis, (Ellipsis,)]:
        ix = indexer_for_getitem(sel, (), ())
        got = do_get(a, ix, ())
        exp = a[sel]
        assert np.shape(got) == np.shape(exp) and got == exp
        assert ix.scalar == (sel == ())
        np.testing.assert_array_equal(do_set(a, ix, (), 7), np.array(7))


def test_basic_errors():
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 5"):
        BasicIndexer((0, 5), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 3"):
        BasicIndexer(-4, (3, 5), (2, 2))
    with pytest.raises(IndexError, match="too many indices"):
        BasicIndexer((0, 0, 0), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="step must be positive"):
        BasicIndexer(slice(None, None, -1), (3,), (2,))
    with pytest.raises(IndexError, match="step must be positive"):
        BasicIndexer(slice(None, None, 0), (3,), (2,))
    with pytest.raises(IndexError, match="single ellipsis"):
        BasicIndexer((Ellipsis, Ellipsis), (3,), (2,))
    with pytest.raises(IndexError):
        BasicIndexer(1.0, (3,), (2,))
    with pytest.raises(IndexError):
        indexer_for_getitem(1.5, (3,), (2,))
    with pytest.raises(IndexError, match="integer or boolean"):
        indexer_for_getitem([1.0, 2.0], (3,), (2,))


def test_complete_chunk_edge():
    ix = BasicIndexer(slice(None), (5,), (3,))
    ps = list(ix)
    assert [p.is_complete_chunk for p in ps] == [True, True]
    assert ps[1].chunk_selection == (slice(0, 2),)
    ix = BasicIndexer(slice(0, 4), (5,), (3,))
    assert [p.is_complete_chunk for p in ix] == [True, False]


# --------------------------------------------------------------------------- #
# orthogonal
# --------------------------------------------------------------------------- #

@SETTINGS
@given(ortho_case(), st.booleans())
def test_orthogonal(case, scalar_value):
    a, chunks, sel = case
    ix = OrthogonalIndexer(sel, a.shape, chunks)
    expected = ortho_numpy(a, sel)
    got = do_get(a, ix, chunks)
    assert np.shape(got) == expected.shape
    np.testing.assert_array_equal(got, expected)
    value = values_for(expected.shape, scalar_value)
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), ortho_numpy_set(a, sel, value))


def test_orthogonal_slices_preferred():
    # sorted contiguous runs become slices on both sides
    ix = OrthogonalIndexer((np.array([0, 1, 2, 5, 6]),), (10,), (3,))
    ps = list(ix)
    assert [p.chunk_selection for p in ps] == [(slice(0, 3),), (slice(2, 3),), (slice(0, 1),)]
    assert [p.out_selection for p in ps] == [(slice(0, 3),), (slice(3, 4),), (slice(4, 5),)]
    assert [p.is_complete_chunk for p in ps] == [True, False, False]


def test_orthogonal_does_not_mutate():
    idx = np.array([3, -1, 0, -2])
    keep = idx.copy()
    list(OrthogonalIndexer((idx, idx), (5, 5), (2, 2)))
    np.testing.assert_array_equal(idx, keep)
    coords = (np.array([-1, 0]), np.array([2, -3]))
    keep = [c.copy() for c in coords]
    list(CoordinateIndexer(coords, (5, 5), (2, 2)))
    for c, k in zip(coords, keep):
        np.testing.assert_array_equal(c, k)


def test_orthogonal_errors():
    with pytest.raises(IndexError, match="boolean index did not match.*axis 1"):
        OrthogonalIndexer((slice(None), np.array([True, False])), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="1-D"):
        OrthogonalIndexer(np.array([[0, 1]]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 5"):
        OrthogonalIndexer((slice(None), [0, 5]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 3"):
        OrthogonalIndexer(([-4],), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="integer or boolean"):
        OrthogonalIndexer(([0.5],), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="too many"):
        OrthogonalIndexer(([0], [0], [0]), (3, 5), (2, 2))


# --------------------------------------------------------------------------- #
# coordinate / mask
# --------------------------------------------------------------------------- #

@SETTINGS
@given(coord_case(), st.booleans())
def test_coordinate(case, scalar_value):
    a, chunks, coords = case
    ix = CoordinateIndexer(coords, a.shape, chunks)
    expected = a[coords]
    got = do_get(a, ix, chunks)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    value = values_for(expected.shape, scalar_value)
    b = a.copy()
    b[coords] = value  # repeated coordinates: last wins, as in NumPy
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), b)


@SETTINGS
@given(mask_case(), st.booleans())
def test_mask(case, scalar_value):
    a, chunks, mask = case
    ix = MaskIndexer(mask, a.shape, chunks)
    expected = a[mask]
    got = do_get(a, ix, chunks)
    np.testing.assert_array_equal(got, expected)
    value = values_for(expected.shape, scalar_value)
    b = a.copy()
    b[mask] = value
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), b)
    if a.ndim:
        assert isinstance(indexer_for_getitem(mask, a.shape, chunks), MaskIndexer)


def test_coordinate_complete_chunk():
    # every element of each chunk exactly once, in shuffled order
    shape, chunks = (5, 4), (2, 3)
    rng = np.random.default_rng(0)
    perm = rng.permutation(20)
    coords = np.unravel_index(perm, shape)
    ix = CoordinateIndexer(coords, shape, chunks)
    assert all(p.is_complete_chunk for p in ix)
    a = np.arange(20).reshape(shape)
    np.testing.assert_array_equal(do_get(a, ix, chunks), a[coords])


def test_coordinate_and_mask_errors():
    with pytest.raises(IndexError, match="one integer array per dimension"):
        CoordinateIndexer(([0, 1],), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="out of bounds for axis 1 with size 5"):
        CoordinateIndexer(([0, 1], [1, 7]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="broadcast"):
        CoordinateIndexer(([0, 1], [1, 2, 3]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="integer or boolean"):
        CoordinateIndexer(([0.0], [1.5]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="mask shape"):
        MaskIndexer(np.ones((3, 4), bool), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="boolean"):
        MaskIndexer(np.ones((3, 5), int), (3, 5), (2, 2))


def test_coordinate_stable_grouping():
    # out_selection of a chunk keeps the original order of repeated points
    ix = CoordinateIndexer((np.array([5, 0, 5, 1, 5]),), (6,), (2,))
    ps = list(ix)
    assert [p.chunk_coords for p in ps] == [(0,), (2,)]
    np.testing.assert_array_equal(ps[0].out_selection, [1, 3])
    np.testing.assert_array_equal(ps[1].out_selection, [0, 2, 4])


# --------------------------------------------------------------------------- #
# blocks
# --------------------------------------------------------------------------- #

@SETTINGS
@given(block_case(), st.booleans())
def test_block(case, scalar_value):
    a, chunks, sel = case
    ix = BlockIndexer(sel, a.shape, chunks)
    nsel = block_numpy_sel(sel, a.shape, chunks)
    expected = a[nsel]
    got = do_get(a, ix, chunks)
    np.testing.assert_array_equal(got, expected)
    assert all(p.is_complete_chunk for p in ix)
    value = values_for(expected.shape, scalar_value)
    b = a.copy()
    b[nsel] = value
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), b)


def test_block_errors():
    with pytest.raises(IndexError, match="block index 4 is out of bounds for axis 0 with 4 blocks"):
        BlockIndexer(4, (10,), (3,))
    with pytest.raises(IndexError, match="block index -5"):
        BlockIndexer(-5, (10,), (3,))
    with pytest.raises(IndexError, match="step 1"):
        BlockIndexer(slice(0, 2, 2), (10,), (3,))
    with pytest.raises(IndexError, match="integers and slices"):
        BlockIndexer([0, 1], (10,), (3,))


# --------------------------------------------------------------------------- #
# [] dispatch: NumPy semantics
# --------------------------------------------------------------------------- #

@st.composite
def getitem_case(draw):
    a, chunks = draw(array_and_chunks(max_side=6))
    items = []
    nconsumed = 0
    nitems = draw(st.integers(0, a.ndim + 1))
    for _ in range(nitems):
        if nconsumed >= a.ndim:
            if draw(st.booleans()):
                items.append(None)
            continue
        n = a.shape[nconsumed]
        kinds = ["slice", "iarr", "list", "none", "barr", "iarr2d", "ell"]
        if n:
            kinds += ["int", "int", "npint"]
        kind = draw(st.sampled_from(kinds))
        if kind == "ell":
            if any(x is Ellipsis for x in items):
                continue
            items.append(Ellipsis)
            continue  # consumes a variable number of axes; keep it simple
        if kind == "none":
            items.append(None)
            continue
        nconsumed += 1
        if kind == "int":
            items.append(int_index(draw, n))
        elif kind == "npint":
            items.append(np.int32(int_index(draw, n)))
        elif kind == "slice":
            items.append(slice_index(draw, n))
        elif kind == "iarr":
            items.append(int_array_index(draw, n))
        elif kind == "list":
            items.append([int(x) for x in int_array_index(draw, n)])
        elif kind == "iarr2d":
            v = int_array_index(draw, n)
            items.append(v[: (len(v) // 2) * 2].reshape(-1, 2) if len(v) >= 2 else v)
        else:
            items.append(bool_array_index(draw, n))
    if len(items) == 1 and draw(st.booleans()):
        return a, chunks, items[0]
    return a, chunks, tuple(items)


def check_getitem(a, chunks, sel, scalar_value=False):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            expected = a[sel]
    except (IndexError, ValueError, DeprecationWarning):
        with pytest.raises((IndexError, ValueError)):
            indexer_for_getitem(sel, a.shape, chunks)
        return
    if a.size == 0:
        # NumPy skips the length check of Boolean indices on empty arrays; we keep it and
        # refuse a Boolean index whose length does not match its axis (a deliberate difference).
        try:
            indexer_for_getitem(sel, a.shape, chunks)
        except IndexError as e:
            if "boolean" in str(e).lower():
                return
            raise
    ix = indexer_for_getitem(sel, a.shape, chunks)
    got = do_get(a, ix, chunks)
    assert np.shape(got) == np.shape(expected), (type(ix), sel)
    np.testing.assert_array_equal(got, expected)
    assert isinstance(got, np.ndarray) == isinstance(expected, np.ndarray)
    value = values_for(np.shape(expected), scalar_value)
    b = a.copy()
    b[sel] = value
    np.testing.assert_array_equal(do_set(a, ix, chunks, value), b)


@SETTINGS
@given(getitem_case(), st.booleans())
def test_getitem_matches_numpy(case, scalar_value):
    a, chunks, sel = case
    check_getitem(a, chunks, sel, scalar_value)


@pytest.mark.parametrize("sel,kind", [
    ((1, [1, 3]), OrthogonalIndexer),
    (([1, 1], [1, 3]), CoordinateIndexer),
    ((-1, [-1, 0]), OrthogonalIndexer),
    (([0, 2], slice(None)), OrthogonalIndexer),
    ((Ellipsis, [4, 0, 4]), OrthogonalIndexer),
    ((np.array([True, False, True]),), OrthogonalIndexer),
    ((slice(None), np.array([True, False, True, False, True])), OrthogonalIndexer),
    ((np.arange(15).reshape(3, 5) % 3 == 0,), MaskIndexer),
    (([[0, 1], [2, 2]], [[1, 3], [0, 0]]), CoordinateIndexer),
    ((np.int64(1), np.array(2)), BasicIndexer),
    ((None, 1, Ellipsis), None),
    (([0, 2], None, [1, 3]), None),
    (([0, 2],), OrthogonalIndexer),
    (([[0, 2], [1, 1]],), None),
    ((slice(1, None), [[0, 4], [4, 4]]), None),
    (([[0, 2], [1, 1]], 3), None),
    ((np.array([True, False, True]), [0, 4]), CoordinateIndexer),
])
def test_getitem_forms(sel, kind):
    a = np.arange(15).reshape(3, 5)
    ix = indexer_for_getitem(sel, a.shape, (2, 2))
    if kind is not None:
        assert isinstance(ix, kind)
    check_getitem(a, (2, 2), sel)


def test_getitem_3d_separated_advanced():
    a = np.arange(60).reshape(3, 4, 5)
    for sel in [(0, slice(None), [1, 2]), ([0, 2], slice(1, 3), [1, 2]), (slice(None), 1, [3, 0]),
                (1, 2, [3, 0]), ([[0, 1]], slice(None), [[1], [2]]), (np.ones((3, 4), bool),),
                (slice(None), np.ones((4, 5), bool)), ([0, 1], [1, 2]), (Ellipsis, None, [0, 4]),
                (0, slice(None), [[1, 2], [2, -1]]), ([[2, 2], [0, 1]], 1), (slice(None), [[3]], 0),
                (1, [[3, 0], [0, 3]], slice(1, 4, 2)), (np.array([True, False, True]), 0, [1, 4])]:
        for chunks in [(2, 3, 2), (1, 1, 1), (5, 5, 5)]:
            check_getitem(a, chunks, sel)


def test_getitem_0d():
    a = np.array(3)
    for sel in [(), Ellipsis, None, (None, Ellipsis), True, False, np.array(True)]:
        check_getitem(a, (), sel)


def test_getitem_zero_size():
    a = np.zeros((0, 3), dtype=np.int64)
    for sel in [(), slice(None), (slice(None), 1), ([], 0), (slice(None), [0, 2])]:
        check_getitem(a, (2, 2), sel)


def test_getitem_errors():
    with pytest.raises(IndexError, match="out of bounds"):
        indexer_for_getitem(([0, 3], [0, 1]), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="boolean index did not match"):
        indexer_for_getitem(np.array([True, False]), (3, 5), (2, 2))
    with pytest.raises(IndexError):
        indexer_for_getitem(np.ones((2, 2), bool), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="too many"):
        indexer_for_getitem((0, 0, 0), (3, 5), (2, 2))
    with pytest.raises(IndexError, match="pop_fields"):
        indexer_for_getitem("foo", (3, 5), (2, 2))
    with pytest.raises(IndexError):
        indexer_for_getitem({"a": 1}, (3, 5), (2, 2))


def test_prepare_value_errors():
    ix = BasicIndexer(slice(0, 3), (5,), (2,))
    with pytest.raises(ValueError, match=r"could not broadcast value of shape \(4,\)"):
        ix.prepare_value(np.arange(4))
    # extra leading length-1 axes are accepted, as in NumPy
    assert ix.prepare_value(np.zeros((1, 1, 3))).shape == (3,)
    ix = CoordinateIndexer(([0, 1], [1, 1]), (3, 5), (2, 2))
    with pytest.raises(ValueError, match="could not broadcast"):
        ix.prepare_value(np.arange(3))


def test_is_basic_selection():
    assert is_basic_selection((1, slice(None), Ellipsis))
    assert is_basic_selection(np.int8(1))
    assert not is_basic_selection(([1],))
    assert not is_basic_selection((None,))


# --------------------------------------------------------------------------- #
# fields
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("sel,fields,rest", [
    ("foo", "foo", Ellipsis),
    (("foo", slice(0, 2)), "foo", (slice(0, 2),)),
    ((slice(0, 2), "foo"), "foo", (slice(0, 2),)),
    ((slice(0, 2), "foo", 1), "foo", (slice(0, 2), 1)),
    (["foo", "bar"], ["foo", "bar"], Ellipsis),
    ((0, ["foo"]), ["foo"], (0,)),
    (("foo", "bar", 1), ["foo", "bar"], (1,)),
    (((0, 1), "foo"), "foo", ((0, 1),)),
    ((0, slice(None)), None, (0, slice(None))),
    ([0, 1], None, [0, 1]),
])
def test_pop_fields(sel, fields, rest):
    f, r = pop_fields(sel)
    assert f == fields
    assert r == rest


# --------------------------------------------------------------------------- #
# the spec's advanced-indexing examples, in pure NumPy form
# --------------------------------------------------------------------------- #

def spec_get(a, sel, chunks, kind):
    ix = kind(sel, a.shape, chunks)
    return do_get(a, ix, chunks)


def spec_set(a, sel, chunks, kind, value):
    ix = kind(sel, a.shape, chunks)
    return do_set(a, ix, chunks, value)


def test_spec_examples():
    z = np.arange(10) ** 2
    np.testing.assert_array_equal(spec_get(z, [2, 5], (3,), CoordinateIndexer), [4, 25])
    z = spec_set(z, [2, 5], (3,), CoordinateIndexer, [-1, -2])
    np.testing.assert_array_equal(z, [0, 1, -1, 9, 16, -2, 36, 49, 64, 81])

    z = np.arange(15).reshape(3, 5)
    np.testing.assert_array_equal(spec_get(z, ([0, 2], [1, 3]), (2, 2), CoordinateIndexer), [1, 13])
    z = spec_set(z, ([0, 2], [1, 3]), (2, 2), CoordinateIndexer, [-1, -2])
    assert z[0, 1] == -1 and z[2, 3] == -2
    z = spec_set(z, ([0, 2], [1, 3]), (2, 2), CoordinateIndexer, [-3, -4])
    np.testing.assert_array_equal(do_get(z, indexer_for_getitem(([0, 2], [1, 3]), z.shape, (2, 2)), (2, 2)),
                                  [-3, -4])
    np.testing.assert_array_equal(do_get(z, indexer_for_getitem((1, [1, 3]), z.shape, (2, 2)), (2, 2)),
                                  do_get(z, indexer_for_getitem(([1, 1], [1, 3]), z.shape, (2, 2)), (2, 2)))

    z = np.arange(10) ** 2
    sel = np.zeros_like(z, dtype=bool)
    sel[2] = sel[5] = True
    np.testing.assert_array_equal(spec_get(z, sel, (3,), MaskIndexer), [4, 25])
    z = spec_set(z, sel, (3,), MaskIndexer, [-1, -2])
    assert z[2] == -1 and z[5] == -2

    z = np.arange(15).reshape(3, 5)
    sel = np.zeros_like(z, dtype=bool)
    sel[0, 1] = sel[2, 3] = True
    np.testing.assert_array_equal(spec_get(z, sel, (2, 2), MaskIndexer), [1, 13])
    z = spec_set(z, sel, (2, 2), MaskIndexer, [-1, -2])
    assert z[0, 1] == -1 and z[2, 3] == -2

    z = np.arange(15).reshape(3, 5)
    np.testing.assert_array_equal(spec_get(z, ([0, 2], slice(None)), (2, 2), OrthogonalIndexer), z[[0, 2]])
    np.testing.assert_array_equal(spec_get(z, (slice(None), [1, 3]), (2, 2), OrthogonalIndexer), z[:, [1, 3]])
    np.testing.assert_array_equal(spec_get(z, ([0, 2], [1, 3]), (2, 2), OrthogonalIndexer), [[1, 3], [11, 13]])
    z = spec_set(z, ([0, 2], [1, 3]), (2, 2), OrthogonalIndexer, [[-1, -2], [-3, -4]])
    np.testing.assert_array_equal(z[np.ix_([0, 2], [1, 3])], [[-1, -2], [-3, -4]])
    z = np.arange(15).reshape(3, 5)
    np.testing.assert_array_equal(spec_get(z, ([0, 2], slice(None)), (2, 2), OrthogonalIndexer),
                                  do_get(z, indexer_for_getitem(([0, 2], slice(None)), z.shape, (2, 2)), (2, 2)))

    z = np.arange(100).reshape(10, 10)
    np.testing.assert_array_equal(spec_get(z, 1, (3, 3), BlockIndexer), z[3:6])
    np.testing.assert_array_equal(spec_get(z, (0, slice(1, 3)), (3, 3), BlockIndexer), z[0:3, 3:9])
    z = np.zeros((6, 6), dtype=np.int64)
    z = spec_set(z, (1, 0), (2, 2), BlockIndexer, 1)
    assert z[2:4, 0:2].tolist() == [[1, 1], [1, 1]] and z.sum() == 4
    z = spec_set(z, (slice(None), 2), (2, 2), BlockIndexer, 7)
    assert (z[:, 4:6] == 7).all() and z.sum() == 4 + 7 * 12
    np.testing.assert_array_equal(spec_get(z, (2, slice(1, 3)), (2, 2), BlockIndexer), z[4:6, 2:6])


def test_large_point_selection_is_vectorised():
    # 200k points over 10k chunks: must be quick (no Python loop per point)
    import time
    rng = np.random.default_rng(1)
    shape, chunks = (1000, 1000), (10, 10)
    coords = (rng.integers(0, 1000, 200_000), rng.integers(0, 1000, 200_000))
    t = time.perf_counter()
    ix = CoordinateIndexer(coords, shape, chunks)
    n = sum(1 for _ in ix)
    assert n == 10_000
    assert time.perf_counter() - t < 5


@pytest.mark.parametrize("bound", [5, 1 << 16, (1 << 16) + 1, 1 << 32, 1 << 40])
def test_stable_argsort(bound):
    from chunkzip.indexing import _stable_argsort
    rng = np.random.default_rng(bound % 1000)
    keys = rng.integers(0, min(bound, 1 << 40), 5000)
    keys[:100] = keys[100:200]  # ties
    np.testing.assert_array_equal(_stable_argsort(keys, bound), np.argsort(keys, kind="stable"))
