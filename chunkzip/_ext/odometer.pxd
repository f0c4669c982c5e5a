# C-order iteration over a box of an N-d grid, shared by the Cython modules that walk one
# (_plan: the chunks of a read's product and of each shard; _write: a shard's inner chunks).
from libc.stdint cimport int64_t


cdef inline bint odometer_next(int64_t *idx, const int64_t *lo, const int64_t *hi, int ndim) noexcept nogil:
    """Advance ``idx`` to the next point of the box ``[lo, hi)`` in C order (the last
    dimension fastest); False, with ``idx`` back at ``lo``, after the last point."""
    cdef int d = ndim - 1
    while d >= 0:
        idx[d] += 1
        if idx[d] < hi[d]:
            return True
        idx[d] = lo[d]
        d -= 1
    return False
