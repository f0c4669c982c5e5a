"""Reads into large outputs copy rows with non-temporal stores (csrc/cz_stream_copy.h).

The streamed copy has its own head (up to 63 bytes to a cache-line boundary), body (64-byte
blocks) and tail (the rest), so it is checked against NumPy on rows of every length and
every alignment of the output, for plain and sharded arrays; with the threshold at 0 every
read streams, at its default only outputs of ``STREAM_MIN_BYTES`` do.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkzip as cz
from chunkzip._ext import _copy
from chunkzip.codecs import Blosc


@pytest.fixture
def always_stream(monkeypatch):
    monkeypatch.setattr(_copy, "STREAM_MIN_BYTES", 0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(itemsize=st.sampled_from([1, 2, 4, 8]), rows=st.integers(1, 9), cols=st.integers(1, 700),
       inner=st.integers(1, 300), sharded=st.booleans(), lo=st.integers(0, 40), hi=st.integers(0, 40),
       seed=st.integers(0, 2**31))
def test_streamed_rows_match_numpy(always_stream, itemsize, rows, cols, inner, sharded, lo, hi, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 255, (rows, cols), dtype=np.uint8).astype(f"u{itemsize}")
    inner = min(inner, cols)
    kw = dict(chunks=(2, inner), shards=(4, inner * 3)) if sharded else dict(chunks=(2, inner))
    z = cz.array(a, zarr_format=3, compressors=[Blosc("lz4", 5, Blosc.SHUFFLE)], **kw)
    np.testing.assert_array_equal(z[...], a)
    sel = np.s_[:, min(lo, cols - 1):max(cols - hi, min(lo, cols - 1) + 1)]
    np.testing.assert_array_equal(z[sel], a[sel])
    # an output that starts off a cache-line boundary
    out = np.empty(a.size * itemsize + 3, np.uint8)[3:].view(a.dtype).reshape(a.shape)
    z.get_basic_selection(Ellipsis, out=out)
    np.testing.assert_array_equal(out, a)


def test_large_output_streams_by_default():
    """A read of at least STREAM_MIN_BYTES (the default threshold) is right, with edges."""
    rows = _copy.STREAM_MIN_BYTES // (4 * 1000) + 7
    a = np.arange(rows * 1000, dtype=np.int32).reshape(rows, 1000)
    z = cz.array(a, chunks=(256, 300), shards=(512, 600), zarr_format=3,
                 compressors=[Blosc("lz4", 5, Blosc.SHUFFLE)])
    assert a.nbytes >= _copy.STREAM_MIN_BYTES
    np.testing.assert_array_equal(z[...], a)
    np.testing.assert_array_equal(z[1:, 3:997], a[1:, 3:997])
