# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Read plans for box selections of sharded arrays (``chunkzip.sharded_io``).

A box (a window, a row band, a whole read) touches the Cartesian product of a run of
inner chunk ids per dimension.  Planning it in Python cost more than decoding a small
window (a 1000x1000 window of 25 inner chunks in 4 shards: ~0.15 ms of grouping with
NumPy, ~0.1 ms of building the kernel's per-chunk sources); here it is a few
microseconds, and it never lists the product's coordinates.
"""
from libc.stdint cimport int64_t, uint8_t, uint64_t

import numpy as np

from chunkzip._ext.odometer cimport odometer_next

cdef enum:
    MAXDIM = 64


def product_combo(list counts):
    """``combo`` of ``_copy.read_product``: per chunk of the Cartesian product (C order) of
    ``counts[d]`` projections along each dimension, its projection id along each
    dimension (ids numbered dimension after dimension); (nchunks, ndim) int64."""
    cdef int ndim = len(counts), d
    cdef int64_t cnt[MAXDIM]
    cdef int64_t first[MAXDIM]
    cdef int64_t odo[MAXDIM]
    cdef int64_t zero[MAXDIM]
    cdef int64_t n = 1, k
    if ndim > MAXDIM:
        raise ValueError("product_combo: too many dimensions")
    for d in range(ndim):
        cnt[d] = counts[d]
        if cnt[d] < 0:
            raise ValueError("product_combo: negative count")
        first[d] = 0 if d == 0 else first[d - 1] + cnt[d - 1]
        odo[d] = 0
        zero[d] = 0
        n *= cnt[d]
    combo_a = np.empty((n, ndim), np.int64)
    cdef int64_t[:, ::1] combo = combo_a
    for k in range(n):  # the product's chunks in C order
        for d in range(ndim):
            combo[k, d] = first[d] + odo[d]
        odometer_next(odo, zero, cnt, ndim)
    return combo_a


def box_shards(list chunk_ids, tuple per, tuple shape, tuple chunks):
    """The inner chunks of the product (C order) of ``chunk_ids[d]`` (ascending inner
    chunk ids along dimension d), grouped by shard.

    ``per``: inner chunks per shard along each dimension; ``shape`` the array shape,
    ``chunks`` the inner chunk shape.  Returns per shard touched ``(shard coords, pos,
    loc, whole)``: the positions of its inner chunks in the product (as
    :func:`product_combo` numbers them), their C-order positions in the shard (int64
    arrays, ascending ``pos``), and whether they are all of the shard's inner chunks that
    lie inside the array.  None when some ``chunk_ids[d]`` does not strictly ascend (the
    caller groups such selections itself).
    """
    cdef int ndim = len(chunk_ids), d
    cdef int64_t cnt[MAXDIM]
    cdef int64_t pdim[MAXDIM]
    cdef int64_t cstr[MAXDIM]
    cdef int64_t lstr[MAXDIM]
    cdef int64_t nruns[MAXDIM]
    cdef int64_t rstart[MAXDIM]
    cdef int64_t rend[MAXDIM]
    cdef int64_t rsh[MAXDIM]
    cdef int64_t zero[MAXDIM]
    cdef int64_t ridx[MAXDIM]
    cdef const int64_t *ip[MAXDIM]
    cdef int64_t j, m, acc, valid, sh, c
    cdef const int64_t[::1] v
    if ndim < 1 or ndim > MAXDIM or len(per) != ndim or len(shape) != ndim or len(chunks) != ndim:
        raise ValueError("box_shards: dimensions disagree")
    keep = []
    for d in range(ndim):
        a = np.ascontiguousarray(chunk_ids[d], dtype=np.int64)
        v = a
        keep.append(a)
        cnt[d] = v.shape[0]
        if cnt[d] == 0:
            return []
        ip[d] = &v[0]
        pdim[d] = per[d]
        c = chunks[d]
        if pdim[d] < 1 or c < 1:
            raise ValueError("box_shards: bad shard or chunk shape")
        for j in range(1, cnt[d]):
            if ip[d][j] <= ip[d][j - 1]:
                return None
        if ip[d][0] < 0 or ip[d][cnt[d] - 1] * c >= shape[d]:
            raise ValueError("box_shards: chunk id outside the array")
    # C-order strides of the product and of the inner grid of a shard
    acc = 1
    for d in range(ndim - 1, -1, -1):
        cstr[d] = acc
        acc *= cnt[d]
    acc = 1
    for d in range(ndim - 1, -1, -1):
        lstr[d] = acc
        acc *= pdim[d]
    # runs of one shard along each dimension (ids ascend, so each shard is one run)
    runs = []
    for d in range(ndim):
        rl = []
        j = 0
        while j < cnt[d]:
            sh = ip[d][j] // pdim[d]
            m = j + 1
            while m < cnt[d] and ip[d][m] // pdim[d] == sh:
                m += 1
            rl.append((sh, j, m))
            j = m
        runs.append(rl)
        nruns[d] = len(rl)
        ridx[d] = 0
        zero[d] = 0
    groups = []
    while True:
        m = 1
        whole = True
        sc = []
        for d in range(ndim):
            sh, rstart[d], rend[d] = runs[d][ridx[d]]
            rsh[d] = sh
            sc.append(sh)
            m *= rend[d] - rstart[d]
            # inner chunks of this shard inside the array along d
            c = chunks[d]
            valid = (shape[d] - sh * pdim[d] * c + c - 1) // c
            if rend[d] - rstart[d] != (valid if valid < pdim[d] else pdim[d]):
                whole = False
        pos_a = np.empty(m, np.int64)
        loc_a = np.empty(m, np.int64)
        _fill_group(ndim, rstart, rend, rsh, pdim, cstr, lstr, ip, pos_a, loc_a)
        groups.append((tuple(sc), pos_a, loc_a, whole))
        if not odometer_next(ridx, zero, nruns, ndim):
            break
    return groups


cdef void _fill_group(int ndim, const int64_t *rstart, const int64_t *rend, const int64_t *rsh,
                      const int64_t *pdim, const int64_t *cstr, const int64_t *lstr,
                      const int64_t **ip, int64_t[::1] pos, int64_t[::1] loc) noexcept:
    """pos/loc of the shard whose run along d is ``[rstart[d], rend[d])`` (C order)."""
    cdef int64_t odo[MAXDIM]
    cdef int64_t k, p, l, j
    cdef int d
    for d in range(ndim):
        odo[d] = rstart[d]
    for k in range(pos.shape[0]):
        p = 0
        l = 0
        for d in range(ndim):
            j = odo[d]
            p += j * cstr[d]
            l += (ip[d][j] - rsh[d] * pdim[d]) * lstr[d]
        pos[k] = p
        loc[k] = l
        odometer_next(odo, rstart, rend, ndim)


def place_located(list sources, pos, const int64_t[::1] loc, const uint64_t[:, ::1] index,
                  const uint8_t[::1] stored, target):
    """The read kernel's sources of a shard's inner chunks ``loc`` (C-order positions in
    the shard), from its checked ``index`` (n, 2) and ``stored`` mask
    (``sharding.read_index``): ``sources[pos[i]] = (target, offset, length)`` where
    ``stored[loc[i]]`` (``pos`` None: ``i``); ``target`` is the shard's bytes or a file
    descriptor open on it (the kernel checks the range against either before reading)."""
    cdef Py_ssize_t k, m = loc.shape[0], n = index.shape[0], ns = len(sources)
    cdef int64_t j, p
    cdef const int64_t[::1] pv
    cdef bint ident = pos is None
    if stored.shape[0] != n:
        raise ValueError("place_located: index and mask differ in length")
    if not ident:
        pv = pos
        if pv.shape[0] != m:
            raise ValueError("place_located: positions and chunks differ in length")
    for k in range(m):
        j = loc[k]
        p = k if ident else pv[k]
        if j < 0 or j >= n or p < 0 or p >= ns:
            raise IndexError("place_located: inner chunk or position out of range")
        if stored[j]:
            sources[p] = (target, <long long>index[j, 0], <long long>index[j, 1])


def place(list sources, const int64_t[::1] pos, const uint64_t[:, ::1] ent, bytes buf, long long base):
    """``sources[pos[i]] = (buf, ent[i, 0] - base, ent[i, 1])``: inner chunks whose bytes
    lie in ``buf`` (a shard, or a range of one starting at ``base``), for the read kernel
    (which checks each range against ``buf`` before touching it)."""
    cdef Py_ssize_t i, m = pos.shape[0], n = len(sources)
    if ent.shape[0] != m:
        raise ValueError("place: positions and index entries differ in length")
    for i in range(m):
        if pos[i] < 0 or pos[i] >= n:
            raise IndexError("place: position outside the sources")
        sources[pos[i]] = (buf, <long long>ent[i, 0] - base, <long long>ent[i, 1])
