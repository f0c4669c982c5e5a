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
    sel = sel[:k]  # trailing dims omitted
    if draw(st.booleans()):
        i = draw(st.integers(0, len(sel)))
        sel = sel[:i] + [Ellipsis] + sel[i:]
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
