# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batched whole-chunk writes to files: gather, encode and store many chunks in one nogil call.

Python describes the batch once: per chunk the element offset of its region in the
value (``starts``) and the region's extent (``extents``: the chunk shape, or less for
an edge chunk, whose rest is written as the fill value), and per chunk the target file
path.  Each chunk is encoded straight from the caller's array when its region has the
chunk's memory layout, else gathered into a scratch chunk first; then it is written
with one ``open`` (a new temporary file next to the target) + ``write`` + ``rename``.
Several threads may run the same call: each takes the next chunk from a shared
counter, so one thread encodes while another waits in the file system.

Anything unusual (a missing directory, a leftover temporary file, an I/O or encoder
error) is not an error here: the chunk's status is set to 1 and the caller writes that
chunk on its generic path, which raises the proper error.
"""
from libc.errno cimport errno, EINTR
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, strlen, strrchr
from posix.fcntl cimport O_CREAT, O_EXCL, O_WRONLY, open as c_open
from posix.unistd cimport close as c_close, unlink, write as c_write

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_GET_SIZE

cdef extern from "<stdio.h>" nogil:
    int rename(const char *old, const char *new)
    int snprintf(char *s, size_t n, const char *fmt, ...)

cdef extern from "<fcntl.h>" nogil:
    enum: O_CLOEXEC

cdef extern from "blosc1.h" nogil:
    int64_t cz_blosc1_compress(const void *src, size_t nbytes, void *dest, size_t destsize,
                               int clevel, int doshuffle, size_t typesize, int compcode,
                               size_t blocksize, int splitmode)

cdef extern from "cz_atomic.h" nogil:
    long long cz_next_index(long long *counter)

cdef enum:
    MAXDIM = 64
    KIND_RAW = 0
    KIND_BLOSC = 1
    PATHMAX = 4096


cdef void _gather(int d, int ndim, const int64_t *ext, const int64_t *vstr, const int64_t *cstr,
                  int64_t isz, const uint8_t *s, uint8_t *t) noexcept nogil:
    """Copy the region ``ext`` of the value (strides ``vstr``) into the chunk (``cstr``)."""
    cdef int64_t i, n = ext[d]
    if d == ndim - 1:
        if vstr[d] == isz and cstr[d] == isz:
            memcpy(t, s, <size_t>(n * isz))
        else:
            for i in range(n):
                memcpy(t + i * cstr[d], s + i * vstr[d], <size_t>isz)
        return
    for i in range(n):
        _gather(d + 1, ndim, ext, vstr, cstr, isz, s + i * vstr[d], t + i * cstr[d])


cdef int _store(const char *path, const char *tag, const uint8_t *data, int64_t n) noexcept nogil:
    """Write ``data`` to ``path`` atomically: a new temporary file ``.cztmp-<tag>-<name>``
    in the same directory, then ``rename``.  0 ok, 1 failed (nothing left behind)."""
    cdef char tmp[PATHMAX]
    cdef const char *slash = strrchr(path, b'/')
    cdef int64_t dlen, done = 0
    cdef ssize_t w
    cdef int fd
    if slash == NULL:
        return 1
    dlen = slash - path + 1
    if dlen + strlen(tag) + strlen(slash + 1) + 16 >= PATHMAX:
        return 1
    memcpy(tmp, path, <size_t>dlen)
    snprintf(tmp + dlen, <size_t>(PATHMAX - dlen), ".cztmp-%s-%s", tag, slash + 1)
    fd = c_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    if fd < 0:
        return 1
    while done < n:
        w = c_write(fd, data + done, <size_t>(n - done))
        if w < 0:
            if errno == EINTR:
                continue
            c_close(fd)
            unlink(tmp)
            return 1
        done += w
    if c_close(fd) != 0 or rename(tmp, path) != 0:
        unlink(tmp)
        return 1
    return 0


def write_chunks(list paths, bytes tag, int kind, value, chunk_shape, chunk_strides, value_strides,
                 const int64_t[:, ::1] starts, const int64_t[:, ::1] extents, fill,
                 int clevel, int shuffle, int typesize, int compcode, Py_ssize_t blocksize,
                 uint8_t[::1] status, int64_t[::1] counter):
    """Encode and write whole chunks taken from ``value``; return how many this call
    left to the caller (``status[k] = 1``).

    ``paths[k]``: chunk k's file (bytes; its directory must exist).  ``tag``: makes the
    temporary names unique to this process and call.  ``value``: any NumPy array of
    the array's dtype; ``value_strides`` its strides in bytes (0 for broadcast or
    dropped dimensions).  ``starts[k, d]`` / ``extents[k, d]``: chunk k's region in
    ``value`` (first element, length) per dimension; a region shorter than the chunk
    is an edge chunk, padded with ``fill`` (itemsize bytes).  ``chunk_strides``: the
    chunk's strides in its memory order.  ``kind``: RAW (0, the bytes as they are) or
    BLOSC (1, a Blosc1 frame with ``clevel``, ``shuffle``, ``typesize``, ``compcode``,
    ``blocksize``).  Chunks are shared between concurrent calls through ``counter``.
    """
    cdef int ndim = len(chunk_shape), d
    cdef int64_t cshape[MAXDIM]
    cdef int64_t cstr[MAXDIM]
    cdef int64_t vstr[MAXDIM]
    cdef int64_t ext[MAXDIM]
    cdef const uint8_t[::1] fillv = fill
    cdef int64_t isz = fillv.shape[0], nbytes = isz, k, i, n, count
    cdef Py_ssize_t nchunks = len(paths)
    cdef const char **pp
    cdef const char *tagp = PyBytes_AS_STRING(tag)
    cdef const uint8_t *base
    cdef const uint8_t *src
    cdef const uint8_t *data
    cdef uint8_t *scratch = NULL
    cdef uint8_t *cbuf = NULL
    cdef bint direct, partial
    cdef int64_t nfail = 0
    if ndim > MAXDIM or len(value_strides) != ndim or starts.shape[1] != ndim \
            or extents.shape[1] != ndim or starts.shape[0] != nchunks or extents.shape[0] != nchunks:
        raise ValueError("write_chunks: inconsistent tables")
    if nchunks == 0 or isz == 0:
        return 0
    for d in range(ndim):
        cshape[d] = chunk_shape[d]
        cstr[d] = chunk_strides[d]
        vstr[d] = value_strides[d]
        nbytes *= cshape[d]
    for x in paths:
        if not PyBytes_Check(x):
            raise TypeError("paths must be bytes")
    base = <const uint8_t *><size_t>value.__array_interface__["data"][0]
    count = nbytes // isz
    pp = <const char **>malloc(sizeof(char *) * nchunks)
    scratch = <uint8_t *>malloc(<size_t>nbytes)
    cbuf = <uint8_t *>malloc(<size_t>(nbytes + 16))
    if pp == NULL or scratch == NULL or cbuf == NULL:
        free(pp); free(scratch); free(cbuf)
        raise MemoryError()
    for k in range(nchunks):
        pp[k] = PyBytes_AS_STRING(paths[k])  # ``paths`` keeps them alive
    try:
        with nogil:
            while True:
                k = cz_next_index(<long long *>&counter[0])
                if k >= nchunks:
                    break
                src = base
                direct = True
                partial = False
                for d in range(ndim):
                    ext[d] = extents[k, d]
                    src += starts[k, d] * vstr[d]
                    if ext[d] != cshape[d]:
                        partial = True
                    if cshape[d] > 1 and vstr[d] != cstr[d]:
                        direct = False
                if direct and not partial:
                    data = src
                else:
                    if partial:
                        for i in range(count):
                            memcpy(scratch + i * isz, &fillv[0], <size_t>isz)
                    if ndim == 0:
                        memcpy(scratch, src, <size_t>isz)
                    else:
                        _gather(0, ndim, ext, vstr, cstr, isz, src, scratch)
                    data = scratch
                if kind == KIND_RAW:
                    n = nbytes
                else:
                    n = cz_blosc1_compress(data, <size_t>nbytes, cbuf, <size_t>(nbytes + 16), clevel,
                                           shuffle, <size_t>typesize, compcode, <size_t>blocksize, -1)
                    data = cbuf
                if n < 0 or _store(pp[k], tagp, data, n):
                    status[k] = 1
                    nfail += 1
    finally:
        free(pp); free(scratch); free(cbuf)
    return nfail
