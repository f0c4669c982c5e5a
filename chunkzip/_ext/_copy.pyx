# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batched chunk -> selection reads: fetch, decode and copy many chunks in one nogil call.

Python describes a read once per *batch* (not per chunk):

* product selections (basic / orthogonal / block): per dimension, a table of the
  dimension's projections -- for each, the in-chunk element indices (``src``) and the
  output indices (``dst``) along that axis -- and per chunk one projection id per
  dimension (``combo``).  The copy is the Cartesian product of the per-axis index lists.
* point selections (coordinate / mask): per chunk a range of element offsets into the
  chunk (in its memory order) and of element positions in the 1-D output.

Each chunk comes either as a bytes object (``None``: missing), as a ``(bytes, offset,
length)`` tuple (an inner chunk inside a shard's bytes, read in place) or as a file path
read here with open/read (a missing file: missing).  Missing chunks write the fill value.
Chunks are decoded (no compression, or one Blosc frame via c-blosc2 with one context
per call) into a scratch buffer -- or straight into the output when the chunk is wholly
selected and the output region has the chunk's layout -- and the selected part copied.

Anything unusual (a frame of the wrong size, a corrupt frame, an unreadable file) is
not an error here: the chunk's status is set to 1 and the caller handles that chunk on
its generic path, which raises the proper error.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_Check
from libc.errno cimport errno, ENOENT, ENOTDIR
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy
from posix.fcntl cimport O_CLOEXEC, O_NONBLOCK, O_RDONLY, open as c_open
from posix.stat cimport fstat, struct_stat
from posix.types cimport off_t
from posix.unistd cimport close as c_close, read as c_read, pread as c_pread

import numpy as np

from chunkzip._ext.blosc1_api cimport cz_blosc_frame, cz_blosc1_bitshuffle_tail, cz_blosc1_check_frame

from chunkzip._ext.blosc2_api cimport (
    blosc2_context, blosc2_decompress_ctx, blosc2_free_ctx, blosc2_init,
    blosc2_getitem_ctx,
    new_dctx,
)

blosc2_init()

cdef extern from "cz_atomic.h" nogil:
    long long cz_next_index(long long *counter)
    long long cz_peek_index(long long *counter)

cdef extern from "cz_stream_copy.h" nogil:
    void cz_stream_copy(uint8_t *dst, const uint8_t *src, size_t n)
    void cz_stream_fence()

#: outputs of at least this many bytes get their copied rows with non-temporal stores
#: (csrc/cz_stream_copy.h).  Measured on the 2-core dev machine (1 MiB L2 per core, 32 MiB
#: L3), medians of read / read-then-sum: 16 MB 4.8 / 7.6 -> 3.5 / 6.3 ms, 4 MB (a
#: 1000x1000 window) 1.87 / 2.58 -> 1.57 / 2.31, 1 MB 0.77 / 0.90 -> 0.70 / 0.90; at
#: 256 KiB even, the caller's later pass over the output no faster with ordinary stores
STREAM_MIN_BYTES = 1 << 20

cdef enum:
    MAXDIM = 64
    KIND_RAW = 0
    KIND_BLOSC = 1

#: codec kinds the kernel decodes
RAW = KIND_RAW
BLOSC = KIND_BLOSC


cdef struct Batch:
    int kind              # RAW or BLOSC
    int ndim
    int64_t itemsize
    int64_t nbytes        # decoded chunk size
    const int64_t *chunk_shape
    const int64_t *sstr   # chunk strides (bytes) in its memory order
    const int64_t *dstr   # output strides (bytes) per array dim; 0 for dropped dims
    const uint8_t *fill   # itemsize bytes
    uint8_t *out
    # per chunk source
    const uint8_t **src
    int64_t *srclen
    int *fds              # per chunk: an open file to pread the chunk from (-1: none)
    int64_t *foff         # its offset in that file (length: srclen)
    bint from_files
    # file buffer, scratch chunk, Blosc context (per call)
    uint8_t *fbuf
    int64_t fcap
    uint8_t *scratch
    blosc2_context *dctx
    int nthreads          # Blosc threads allowed for a frame of several blocks
    int dctx_threads      # the threads dctx was made with


cdef int _fetch(Batch *b, int64_t k, const uint8_t **data, int64_t *size) noexcept nogil:
    """Compressed bytes of chunk k: 0 ok, 2 missing, 1 cannot (caller falls back).

    Files are read up to the largest valid chunk plus one byte, never further: a chunk
    that is longer (a symlink to ``/dev/zero``, garbage), a directory (EISDIR) or a FIFO
    (opened non-blocking: EAGAIN or an empty read) goes to the generic path, which
    reports it."""
    cdef int fd
    cdef struct_stat st
    cdef int64_t n, got, maxlen
    cdef ssize_t r
    cdef uint8_t *nb
    if not b.from_files:
        if b.fds[k] >= 0:
            return _pread_range(b, k, data, size)
        if b.src[k] == NULL:
            return 2 if b.srclen[k] == 0 else 1
        data[0] = b.src[k]
        size[0] = b.srclen[k]
        return 0
    if b.src[k] == NULL:
        return 1
    fd = c_open(<const char *>b.src[k], O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    if fd < 0:
        return 2 if (errno == ENOENT or errno == ENOTDIR) else 1
    maxlen = b.nbytes + (16 if b.kind == KIND_BLOSC else 0)
    if b.fcap == 0:
        # small chunks: room for any valid chunk, so no fstat per file; big ones: the
        # file's size (compressed frames are often much smaller, and a buffer above
        # malloc's mmap threshold costs a page fault per page)
        b.fcap = maxlen + 1
        if b.fcap > (1 << 20):
            if fstat(fd, &st) != 0:
                c_close(fd)
                return 1
            if st.st_size + 1 < b.fcap:
                b.fcap = st.st_size + 1
        b.fbuf = <uint8_t *>malloc(<size_t>b.fcap)
        if b.fbuf == NULL:
            b.fcap = 0
            c_close(fd)
            return 1
    got = 0
    while True:  # read until EOF, or one byte past the largest valid chunk
        if got == b.fcap:
            if got > maxlen:  # too long for a valid chunk
                c_close(fd)
                return 1
            if fstat(fd, &st) != 0:
                c_close(fd)
                return 1
            n = st.st_size + 1
            if n <= b.fcap:
                n = b.fcap * 2
            if n > maxlen + 1:
                n = maxlen + 1
            nb = <uint8_t *>realloc(b.fbuf, <size_t>n)
            if nb == NULL:
                c_close(fd)
                return 1
            b.fbuf, b.fcap = nb, n
        r = c_read(fd, b.fbuf + got, <size_t>(b.fcap - got))
        if r < 0:
            c_close(fd)
            return 1
        if r == 0:
            break
        got += r
    c_close(fd)
    if got > maxlen:
        return 1
    data[0] = b.fbuf
    size[0] = got
    return 0


cdef int _pread_range(Batch *b, int64_t k, const uint8_t **data, int64_t *size) noexcept nogil:
    """Chunk k from its ``(fd, offset, length)`` source: 0 ok, 1 cannot (longer than any
    valid chunk, a short read: the caller's generic path reports it)."""
    cdef int64_t n = b.srclen[k], got = 0
    cdef ssize_t r
    cdef uint8_t *nb
    if n > b.nbytes + (16 if b.kind == KIND_BLOSC else 0):
        return 1
    if b.fcap < n or b.fbuf == NULL:
        nb = <uint8_t *>realloc(b.fbuf, <size_t>(n if n else 1))
        if nb == NULL:
            return 1
        b.fbuf, b.fcap = nb, (n if n else 1)
    while got < n:
        r = c_pread(b.fds[k], b.fbuf + got, <size_t>(n - got), <off_t>(b.foff[k] + got))
        if r <= 0:
            return 1
        got += r
    data[0] = b.fbuf
    size[0] = n
    return 0


cdef void _batch_free(Batch *b) noexcept:
    if b.dctx != NULL:
        blosc2_free_ctx(b.dctx)
    free(b.fbuf); free(b.scratch); free(b.src); free(b.srclen); free(b.fds); free(b.foff)


cdef inline uint8_t *_scratch(Batch *b) noexcept nogil:
    """The scratch chunk, allocated at the first chunk that needs it (a read of missing
    chunks allocates nothing); NULL when out of memory."""
    if b.scratch == NULL:
        b.scratch = <uint8_t *>malloc(<size_t>(b.nbytes if b.nbytes else 1))
    return b.scratch


cdef int _decode_blocks(Batch *b, const uint8_t *p, const cz_blosc_frame *fi, uint8_t *dest,
                       int64_t lo, int64_t hi) noexcept nogil:
    """Decode only the whole Blosc blocks holding bytes ``[lo, hi)``, each straight into
    its place in ``dest``: 0 ok, 1 cannot, 2 not worth it (every block is needed, or the
    frame is decoded with several threads, which the whole-frame call does better).

    One ``blosc2_getitem_ctx`` call per block, each asking for exactly that block: c-blosc2
    then decodes it in place instead of into its temporary buffer and copying the part
    asked for, so a partial decode costs the blocks it decodes and nothing more (a window's
    edge chunks skip the blocks outside it at no extra cost)."""
    cdef int64_t bs = fi.blocksize, ts = fi.typesize if fi.typesize > 0 else 1
    cdef int64_t nblocks = (fi.nbytes + bs - 1) // bs
    cdef int64_t first = lo // bs, last = (hi - 1) // bs, j, start, size
    if last >= nblocks:
        last = nblocks - 1
    if last - first + 1 >= nblocks or bs % ts or fi.nbytes % ts:
        return 2
    if b.dctx_threads > 1 and 2 * (hi - lo) > fi.nbytes:
        return 2
    for j in range(first, last + 1):
        start = j * bs
        size = bs if start + bs <= fi.nbytes else fi.nbytes - start
        if blosc2_getitem_ctx(b.dctx, p, <int32_t>fi.cbytes, <int>(start // ts), <int>(size // ts),
                              dest + start, <int32_t>size) != size:
            return 1
    return 0


cdef int _decode(Batch *b, const uint8_t *p, int64_t n, uint8_t *dest,
                 int64_t lo=0, int64_t hi=-1) noexcept nogil:
    """Decode one chunk into dest (b.nbytes bytes): 0 ok, 1 cannot.

    Only bytes ``[lo, hi)`` of the chunk are needed (``hi`` < 0: all): when they lie
    in a small part of a frame of several blocks, only the blocks holding them are
    decoded (``blosc2_getitem_ctx``), into their place in ``dest``; other bytes of
    ``dest`` are then left undefined."""
    cdef int typesize
    cdef int64_t nbytes, blocksize, cbytes, ts, first_item, end_item
    cdef cz_blosc_frame fi
    cdef int nthr, rc
    if b.kind == KIND_RAW:
        if n != b.nbytes:
            return 1
        memcpy(dest, p, <size_t>n)
        return 0
    # the frame validator of the codec and the C library (csrc/blosc1_decode.c); a frame
    # it rejects, or one whose bit-shuffled tail c-blosc2 decodes wrongly, goes to the codec
    if cz_blosc1_check_frame(p, <size_t>n, &fi, NULL, 0) != 0 or fi.nbytes != b.nbytes:
        return 1
    if cz_blosc1_bitshuffle_tail(&fi):
        return 1
    nbytes, blocksize, cbytes, typesize = fi.nbytes, fi.blocksize, fi.cbytes, fi.typesize
    if nbytes == 0:
        return 0
    if b.dctx == NULL:
        # several Blosc threads only pay off for big frames of several blocks (as in
        # _blosc.decompress); batches of many chunks run with one thread per caller
        nthr = 1
        if b.nthreads > 1 and fi.nbytes >= 256 * 1024 and fi.nbytes > fi.blocksize:
            nthr = b.nthreads
        b.dctx = new_dctx(nthr, fi.typesize)
        b.dctx_threads = nthr
        if b.dctx == NULL:
            return 1
    if 0 <= lo < hi and 0 < fi.blocksize < fi.nbytes:
        rc = _decode_blocks(b, p, &fi, dest, lo, hi)
        if rc != 2:
            return rc
    if 0 <= lo < hi and 2 * (hi - lo) <= fi.nbytes and 0 < fi.blocksize < fi.nbytes:
        ts = fi.typesize if fi.typesize > 0 else 1
        first_item = lo // ts
        end_item = (hi + ts - 1) // ts
        if end_item * ts > fi.nbytes:
            end_item = fi.nbytes // ts
        if first_item < end_item and lo >= first_item * ts and hi <= end_item * ts:
            if blosc2_getitem_ctx(b.dctx, p, <int32_t>fi.cbytes, <int>first_item,
                                  <int>(end_item - first_item), dest + first_item * ts,
                                  <int32_t>((end_item - first_item) * ts)) \
                    != (end_item - first_item) * ts:
                return 1
            return 0
    if blosc2_decompress_ctx(b.dctx, p, <int32_t>fi.cbytes, dest, <int32_t>fi.nbytes) != fi.nbytes:
        return 1
    return 0


cdef inline void _copy_items(uint8_t *t, const uint8_t *s, int64_t isz) noexcept nogil:
    if isz == 4:
        (<uint32_t *>t)[0] = (<const uint32_t *>s)[0]
    elif isz == 8:
        (<uint64_t *>t)[0] = (<const uint64_t *>s)[0]
    elif isz == 2:
        (<uint16_t *>t)[0] = (<const uint16_t *>s)[0]
    elif isz == 1:
        t[0] = s[0]
    else:
        memcpy(t, s, <size_t>isz)


cdef void _copy_rec(int d, int ndim, const int64_t **sidx, const int64_t **didx,
                    const int64_t *lens, const int64_t *sstr, const int64_t *dstr,
                    bint inner_run, int64_t isz, const uint8_t *s, uint8_t *t,
                    const uint8_t *compact, bint stream) noexcept nogil:
    """Copy the product selection; ``compact[d]``: dim d's projection is a run stored
    as its first index only (its i-th indices are ``si[0] + i`` and ``di[0] + i``);
    ``stream``: copy runs with non-temporal stores (the caller fences)."""
    cdef int64_t i, n = lens[d], ss = sstr[d], ds = dstr[d]
    cdef const int64_t *si = sidx[d]
    cdef const int64_t *di = didx[d]
    if d == ndim - 1:
        if inner_run:
            if stream:
                cz_stream_copy(t + di[0] * ds, s + si[0] * ss, <size_t>(n * isz))
            else:
                memcpy(t + di[0] * ds, s + si[0] * ss, <size_t>(n * isz))
        elif compact[d]:
            for i in range(n):
                _copy_items(t + (di[0] + i) * ds, s + (si[0] + i) * ss, isz)
        else:
            for i in range(n):
                _copy_items(t + di[i] * ds, s + si[i] * ss, isz)
        return
    if compact[d]:
        for i in range(n):
            _copy_rec(d + 1, ndim, sidx, didx, lens, sstr, dstr, inner_run, isz,
                      s + (si[0] + i) * ss, t + (di[0] + i) * ds, compact, stream)
        return
    for i in range(n):
        _copy_rec(d + 1, ndim, sidx, didx, lens, sstr, dstr, inner_run, isz,
                  s + si[i] * ss, t + di[i] * ds, compact, stream)


cdef void _byte_span(int ndim, const int64_t **sidx, const int64_t *lens, const int64_t *sstr,
                     const uint8_t *compact, const uint8_t[::1] run, const int64_t[:, ::1] combo,
                     int64_t k, int64_t isz, int64_t *lo, int64_t *hi) noexcept nogil:
    """Bytes ``[lo, hi)`` of chunk k's memory that its selection touches."""
    cdef int d
    cdef int64_t i, mn, mx, x
    lo[0] = 0
    hi[0] = isz
    for d in range(ndim):
        if lens[d] <= 0:
            hi[0] = -1  # nothing selected: no partial decode
            return
        if compact[d] or run[combo[k, d]]:
            mn, mx = sidx[d][0], sidx[d][0] + lens[d] - 1
        else:
            mn = mx = sidx[d][0]
            for i in range(1, lens[d]):
                x = sidx[d][i]
                if x < mn:
                    mn = x
                elif x > mx:
                    mx = x
        lo[0] += mn * sstr[d]
        hi[0] += mx * sstr[d]


cdef int _batch_setup(Batch *b, const uint8_t[::1] fillv, uint8_t[::1] outv, bint from_files,
                      int nthreads, list sources, Py_ssize_t lo, Py_ssize_t hi) except -1:
    """Common set-up of a batch (``b.kind``, ``ndim``, ``itemsize`` and ``nbytes`` already
    set): output and fill pointers, scratch chunk, and the borrowed source buffers, taken
    under the GIL (``sources`` keeps them alive for the call)."""
    cdef Py_ssize_t k
    b.fill = &fillv[0]
    b.out = &outv[0] if outv.shape[0] else NULL
    b.from_files = from_files
    b.fbuf, b.fcap, b.dctx, b.nthreads, b.dctx_threads = NULL, 0, NULL, nthreads, 0
    b.scratch = NULL  # allocated when a chunk needs it (_scratch)
    b.src = <const uint8_t **>malloc(sizeof(uint8_t *) * (hi - lo))
    b.srclen = <int64_t *>malloc(sizeof(int64_t) * (hi - lo))
    b.fds = <int *>malloc(sizeof(int) * (hi - lo))
    b.foff = <int64_t *>malloc(sizeof(int64_t) * (hi - lo))
    if b.src == NULL or b.srclen == NULL or b.fds == NULL or b.foff == NULL:
        free(b.src); free(b.srclen); free(b.fds); free(b.foff)
        raise MemoryError("out of memory for the chunk table of a read")
    cdef Py_ssize_t o, n
    cdef long long fd
    for k in range(hi - lo):
        x = sources[lo + k]
        b.fds[k] = -1
        if x is None:
            b.src[k], b.srclen[k] = NULL, 0
        elif PyBytes_Check(x):
            b.src[k], b.srclen[k] = <const uint8_t *>PyBytes_AS_STRING(x), PyBytes_GET_SIZE(x)
        elif type(x) is tuple and len(<tuple>x) == 3 and PyBytes_Check((<tuple>x)[0]):
            # (buffer, offset, length): an inner chunk inside a shard's bytes, no copy
            o, n = (<tuple>x)[1], (<tuple>x)[2]
            if o < 0 or n < 0 or o > PyBytes_GET_SIZE((<tuple>x)[0]) - n:
                b.src[k], b.srclen[k] = NULL, -1
            else:
                b.src[k] = <const uint8_t *>PyBytes_AS_STRING((<tuple>x)[0]) + o
                b.srclen[k] = n
        elif type(x) is tuple and len(<tuple>x) == 3 and type((<tuple>x)[0]) is int and not from_files:
            # (fd, offset, length): an inner chunk of a shard file the caller keeps open,
            # read here with pread (on the kernel's threads, overlapping the decoding)
            fd, o, n = (<tuple>x)[0], (<tuple>x)[1], (<tuple>x)[2]
            b.src[k] = NULL
            if fd < 0 or o < 0 or n < 0:
                b.srclen[k] = -1
            else:
                b.fds[k], b.foff[k], b.srclen[k] = fd, o, n
        else:
            b.src[k], b.srclen[k] = NULL, -1
    return 0


def read_product(list sources, bint from_files, int kind, out, chunk_shape, chunk_strides,
                 out_strides, fill, const int64_t[:, ::1] combo, const int64_t[::1] off,
                 const int64_t[::1] src_idx, const int64_t[::1] dst_idx,
                 const uint8_t[::1] run, uint8_t[::1] status, int64_t[::1] counter, int nthreads=1,
                 plen=None):
    """Read the chunks of a product selection into ``out`` (C-contiguous).

    Several threads may run this on the same arguments at once: each takes the next
    chunk from the shared ``counter`` (``counter[0]``, atomically incremented) until
    none is left.  Returns the number of chunks this call left to the caller
    (``status[k] = 1``).

    ``sources[k]``: bytes, a file path (bytes, ``from_files``) or None (missing).
    ``combo[k, d]``: projection id g along dim d; its indices are
    ``src_idx[off[g]:off[g+1]]`` (in the chunk) and ``dst_idx[...]`` (in ``out``);
    ``run[g]``: both are runs of consecutive indices.  ``status[k]`` is set to 1 for
    chunks the caller must handle itself.  ``plen`` (int64, one per projection), when
    given, holds the projections' lengths, and a run projection then stores only its
    first indices (``off[g + 1] - off[g] == 1``): the tables stay one entry per chunk
    for long axes of small chunks instead of one per element.
    """
    cdef Batch b
    cdef int ndim = len(chunk_shape), d
    cdef int64_t cshape[MAXDIM]
    cdef int64_t sstr[MAXDIM]
    cdef int64_t dstr[MAXDIM]
    cdef int64_t zeros[MAXDIM]
    cdef int64_t lens[MAXDIM]
    cdef const int64_t *sidx[MAXDIM]
    cdef const int64_t *didx[MAXDIM]
    cdef uint8_t compact[MAXDIM]
    cdef const int64_t[::1] plenv
    cdef bint has_plen = plen is not None
    cdef const uint8_t[::1] fillv = fill
    cdef uint8_t[::1] outv = out.reshape(-1).view(np.uint8)
    cdef int64_t k, g, rc, size, doff, lo_b, hi_b
    cdef const uint8_t *data
    cdef uint8_t *dest
    cdef bint direct, inner_run
    cdef bint stream = outv.shape[0] >= STREAM_MIN_BYTES
    cdef Py_ssize_t lo = 0, hi = len(sources)
    cdef int64_t nfail = 0
    if ndim > MAXDIM:
        raise ValueError("too many dimensions")
    if hi <= lo:
        return 0
    if combo.shape[1] != ndim:
        raise ValueError("combo has the wrong number of dimensions")
    if cz_peek_index(<long long *>&counter[0]) >= hi:
        return 0  # a helper that woke after every chunk was taken: no set-up
    b.kind, b.ndim = kind, ndim
    b.itemsize = fillv.shape[0]
    b.nbytes = b.itemsize
    for d in range(ndim):
        cshape[d] = chunk_shape[d]
        sstr[d] = chunk_strides[d]
        dstr[d] = out_strides[d]
        zeros[d] = 0
        if cshape[d] < 0 or (cshape[d] > 0 and b.nbytes > (<int64_t>0x7FFFFFFFFFFFFFFF) // cshape[d]):
            raise ValueError(f"chunk shape {tuple(chunk_shape)} overflows the chunk byte size")
        compact[d] = 0
        b.nbytes *= cshape[d]
    if has_plen:
        plenv = plen
        if plenv.shape[0] != run.shape[0] or off.shape[0] != run.shape[0] + 1:
            raise ValueError("plen, run and off disagree in length")
    _batch_setup(&b, fillv, outv, from_files, nthreads, sources, lo, hi)
    try:
        with nogil:
            while True:
                k = cz_next_index(<long long *>&counter[0])
                if k >= hi:
                    break
                doff = 0
                direct = True
                for d in range(ndim):
                    g = combo[k, d]
                    if has_plen:
                        lens[d] = plenv[g]
                        compact[d] = run[g] and lens[d] != off[g + 1] - off[g]
                    else:
                        lens[d] = off[g + 1] - off[g]
                    sidx[d] = &src_idx[off[g]]
                    didx[d] = &dst_idx[off[g]]
                    doff += didx[d][0] * dstr[d]
                    if direct and not (run[g] and lens[d] == cshape[d] and sidx[d][0] == 0
                                       and (dstr[d] == sstr[d] or (dstr[d] == 0 and cshape[d] == 1))):
                        direct = False
                inner_run = ndim > 0 and run[combo[k, ndim - 1]] and sstr[ndim - 1] == b.itemsize \
                    and dstr[ndim - 1] == b.itemsize
                rc = _fetch(&b, k - lo, &data, &size)
                if rc == 1:
                    status[k] = 1
                    nfail += 1
                    continue
                if rc == 2:  # missing: the fill value
                    if ndim == 0:
                        memcpy(b.out, b.fill, <size_t>b.itemsize)
                    else:
                        _copy_rec(0, ndim, sidx, didx, lens, zeros, dstr, False, b.itemsize,
                                  b.fill, b.out, compact, False)
                    continue
                if direct:
                    dest, lo_b, hi_b = b.out + doff, 0, -1
                else:
                    dest = _scratch(&b)
                    _byte_span(ndim, sidx, lens, sstr, compact, run, combo, k, b.itemsize,
                               &lo_b, &hi_b)
                if dest == NULL or _decode(&b, data, size, dest, lo_b, hi_b):
                    status[k] = 1
                    nfail += 1
                    continue
                if direct:
                    continue
                if ndim == 0:
                    memcpy(b.out, b.scratch, <size_t>b.itemsize)
                else:
                    _copy_rec(0, ndim, sidx, didx, lens, sstr, dstr, inner_run, b.itemsize,
                              b.scratch, b.out, compact, stream)
            if stream:
                cz_stream_fence()
    finally:
        _batch_free(&b)
    return nfail


def read_points(list sources, bint from_files, int kind, out, Py_ssize_t chunk_nbytes, fill,
                const int64_t[::1] bounds, const int64_t[::1] flat, const int64_t[::1] dpos,
                uint8_t[::1] status, int64_t[::1] counter, int nthreads=1):
    """Read the chunks of a point selection into the 1-D contiguous ``out`` (chunks
    shared between concurrent calls through ``counter`` as in :func:`read_product`).

    Chunk k's points are ``bounds[k]..bounds[k+1]``: element offsets ``flat[i]`` into the
    chunk (memory order) go to ``out[dpos[i]]`` (``dpos`` empty: to ``out[i]``).
    """
    cdef Batch b
    cdef const uint8_t[::1] fillv = fill
    cdef uint8_t[::1] outv = out.reshape(-1).view(np.uint8)
    cdef int64_t k, i, rc, size, isz, p, lo_b, hi_b
    cdef const uint8_t *data
    cdef const uint8_t *s
    cdef bint ident = dpos.shape[0] == 0
    cdef Py_ssize_t lo = 0, hi = len(sources)
    cdef int64_t nfail = 0
    if hi <= lo or cz_peek_index(<long long *>&counter[0]) >= hi:
        return 0
    b.kind, b.ndim = kind, 1
    isz = b.itemsize = fillv.shape[0]
    if chunk_nbytes < 0:
        raise ValueError(f"bad chunk size {chunk_nbytes}")
    b.nbytes = chunk_nbytes
    _batch_setup(&b, fillv, outv, from_files, nthreads, sources, lo, hi)
    try:
        with nogil:
            while True:
                k = cz_next_index(<long long *>&counter[0])
                if k >= hi:
                    break
                rc = _fetch(&b, k - lo, &data, &size)
                if rc == 1:
                    status[k] = 1
                    nfail += 1
                    continue
                if rc == 2:
                    s = b.fill
                else:
                    # only the blocks holding this chunk's points need decoding
                    lo_b, hi_b = 0, -1
                    if bounds[k + 1] > bounds[k]:
                        lo_b = hi_b = flat[bounds[k]]
                        for i in range(bounds[k] + 1, bounds[k + 1]):
                            if flat[i] < lo_b:
                                lo_b = flat[i]
                            elif flat[i] > hi_b:
                                hi_b = flat[i]
                        lo_b, hi_b = lo_b * isz, (hi_b + 1) * isz
                    if _scratch(&b) == NULL or _decode(&b, data, size, b.scratch, lo_b, hi_b):
                        status[k] = 1
                        nfail += 1
                        continue
                    s = b.scratch
                for i in range(bounds[k], bounds[k + 1]):
                    p = i if ident else dpos[i]
                    _copy_items(b.out + p * isz, s if rc == 2 else s + flat[i] * isz, isz)
    finally:
        _batch_free(&b)
    return nfail


cdef inline int64_t _qdiv(int64_t x, int64_t c, double inv) noexcept nogil:
    """x // c for 0 <= x < 2**52 without a hardware division."""
    cdef int64_t q = <int64_t>(<double>x * inv)
    if q * c > x:
        q -= 1
    elif (q + 1) * c <= x:
        q += 1
    return q


def group_points(list coords, tuple chunks, tuple grid):
    """Group points by chunk (a stable counting sort by chunk id).

    ``coords``: one contiguous int64 array per dimension (in bounds).  Returns
    ``(order, local, lin, bounds, ids, run)``: ``order`` the stable permutation that
    sorts the points by chunk (None when they already are), ``local`` the in-chunk
    coordinates per dimension and ``lin`` their C-order offsets (both in sorted
    order), ``bounds`` the start of each chunk's run of points (plus ``m``), ``ids``
    the chunks' linear grid ids and ``run[j]`` whether chunk j's ``lin`` strictly
    increases.  Returns None when the grid is too large for a counting sort.
    """
    cdef int ndim = len(coords), d
    cdef Py_ssize_t m = len(coords[0]) if ndim else 0
    cdef int64_t cs[MAXDIM]
    cdef int64_t gs[MAXDIM]
    cdef double inv[MAXDIM]
    cdef const int64_t *cp[MAXDIM]
    cdef int64_t *lp[MAXDIM]
    cdef int64_t G = 1, i, g, x, q, idv, lv, prev, nch, p, acc
    cdef bint sorted_ = True
    cdef const int64_t[::1] cv
    cdef int64_t[::1] lv_
    if ndim == 0 or ndim > MAXDIM or m == 0:
        return None
    for d in range(ndim):
        if chunks[d] < 1 or chunks[d] * grid[d] >= 2 ** 52:
            return None  # (the float quotient is exact only well inside 2**53)
        cs[d] = chunks[d]
        gs[d] = grid[d]
        G *= gs[d]
        inv[d] = 1.0 / <double>cs[d]
    keep = []
    for d in range(ndim):
        cv = coords[d]
        if cv.shape[0] != m:
            raise ValueError("coordinate arrays differ in length")
        keep.append(cv)
        cp[d] = &cv[0]
    ids_a = np.empty(m, np.int64)
    cdef int64_t[::1] ids = ids_a
    with nogil:  # chunk ids; already grouped?
        prev = -1
        for i in range(m):
            idv = 0
            for d in range(ndim):
                idv = idv * gs[d] + _qdiv(cp[d][i], cs[d], inv[d])
            ids[i] = idv
            if idv < prev:
                sorted_ = False
            prev = idv
    if not sorted_ and G > 4 * <int64_t>m + 65536:
        return None
    lin_a = np.empty(m, np.int64)
    local = [np.empty(m, np.int64) for _ in range(ndim)]
    for d in range(ndim):
        lv_ = local[d]
        lp[d] = &lv_[0]
    cdef int64_t[::1] lin = lin_a
    order_a = None
    cdef int64_t[::1] order
    cdef int64_t[::1] cnt
    if sorted_:
        with nogil:
            for i in range(m):
                lv = 0
                for d in range(ndim):
                    x = cp[d][i]
                    x = x - _qdiv(x, cs[d], inv[d]) * cs[d]
                    lp[d][i] = x
                    lv = lv * cs[d] + x
                lin[i] = lv
    else:
        order_a = np.empty(m, np.int64)
        order = order_a
        cnt_a = np.zeros(G + 1, np.int64)
        cnt = cnt_a
        with nogil:
            for i in range(m):
                cnt[ids[i] + 1] += 1
            acc = 0
            for g in range(G + 1):
                acc += cnt[g]
                cnt[g] = acc
            for i in range(m):
                p = cnt[ids[i]]
                cnt[ids[i]] = p + 1
                order[p] = i
                lv = 0
                for d in range(ndim):
                    x = cp[d][i]
                    x = x - _qdiv(x, cs[d], inv[d]) * cs[d]
                    lp[d][p] = x
                    lv = lv * cs[d] + x
                lin[p] = lv
            # ids in sorted order (reusing the array): cnt[g] is now the end of chunk g
            p = 0
            for g in range(G):
                while p < cnt[g]:
                    ids[p] = g
                    p += 1
    bounds_a = np.empty(m + 1, np.int64)
    run_a = np.empty(m, np.uint8)
    cdef int64_t[::1] bnd = bounds_a
    cdef uint8_t[::1] run = run_a
    with nogil:
        nch = 0
        bnd[0] = 0
        run[0] = 1
        for i in range(1, m):
            if ids[i] != ids[i - 1]:
                nch += 1
                bnd[nch] = i
                run[nch] = 1
            elif lin[i] <= lin[i - 1]:
                run[nch] = 0
        nch += 1
        bnd[nch] = m
    bounds_a = bounds_a[:nch + 1]
    return order_a, local, lin_a, bounds_a, ids_a[bounds_a[:-1]], run_a[:nch]


# -- shard indexes ------------------------------------------------------------------------
cdef extern from "checksum.h" nogil:
    uint32_t cz_crc32c(uint32_t crc, const void *data, size_t length)


cdef inline uint64_t _load_u64(const uint8_t *p, bint big_endian) noexcept nogil:
    cdef uint64_t v = 0
    cdef int i
    if big_endian:
        for i in range(8):
            v = (v << 8) | p[i]
    else:
        for i in range(7, -1, -1):
            v = (v << 8) | p[i]
    return v


cdef extern from "stdlib.h" nogil:
    void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *) noexcept nogil)


cdef int _cmp_range(const void *a, const void *b) noexcept nogil:
    cdef uint64_t x = (<const uint64_t *>a)[0], y = (<const uint64_t *>b)[0]
    return -1 if x < y else (1 if x > y else 0)


cdef bint _ranges_disjoint(const uint64_t[:, ::1] iv, const uint8_t[::1] sv, Py_ssize_t n) noexcept nogil:
    """The stored ranges, sorted by offset, do not overlap (Morton-ordered writers such
    as zarr-python lay inner chunks out in another order than the index's C order)."""
    cdef Py_ssize_t i, m = 0
    cdef bint ok = True
    cdef uint64_t *r = <uint64_t *>malloc(<size_t>(16 * n if n else 16))
    if r == NULL:
        return False
    for i in range(n):
        if sv[i]:
            r[2 * m], r[2 * m + 1] = iv[i, 0], iv[i, 0] + iv[i, 1]
            m += 1
    qsort(r, <size_t>m, 16, _cmp_range)
    for i in range(1, m):
        if r[2 * i] < r[2 * i - 1]:
            ok = False
            break
    free(r)
    return ok


def shard_index(raw, Py_ssize_t n, bint checksum, bint big_endian, int64_t data_start, int64_t data_end):
    """Decode and check the index of a shard of ``n`` inner chunks in one nogil pass.

    ``raw``: the encoded index (``16 n`` bytes of (offset, nbytes) pairs, plus the
    CRC32C when ``checksum``).  Every stored range must lie in ``[data_start,
    data_end)`` (``data_end`` < 0: end unknown), entries must be wholly empty (both all
    ones) or wholly stored, and no two stored ranges may overlap.

    Returns ``(index, stored)`` -- an (n, 2) uint64 array and a Boolean mask -- or None
    when the index fails any check: the caller then takes the general path, which
    words the error.
    """
    cdef const uint8_t[::1] v = raw
    cdef Py_ssize_t i
    cdef uint64_t o, ln, prev_end = 0
    cdef uint64_t EMPTY_ = 0xFFFFFFFFFFFFFFFF
    cdef uint64_t lim = 1
    cdef const uint8_t *p
    cdef bint ok = True, in_order = True
    cdef uint32_t crc, stored_crc
    if n < 0 or v.shape[0] != 16 * n + (4 if checksum else 0) or data_start < 0:
        return None
    index = np.empty((n, 2), dtype=np.uint64)
    stored = np.empty(n, dtype=np.bool_)
    cdef uint64_t[:, ::1] iv = index
    cdef uint8_t[::1] sv = stored.view(np.uint8)
    if n == 0:
        return index, stored
    p = &v[0]
    lim = lim << 62
    with nogil:
        if checksum:
            crc = cz_crc32c(0, p, <size_t>(16 * n))
            stored_crc = <uint32_t>p[16 * n] | (<uint32_t>p[16 * n + 1] << 8) | \
                (<uint32_t>p[16 * n + 2] << 16) | (<uint32_t>p[16 * n + 3] << 24)
            ok = crc == stored_crc
        prev_end = <uint64_t>data_start
        i = 0
        while ok and i < n:
            o = _load_u64(p + 16 * i, big_endian)
            ln = _load_u64(p + 16 * i + 8, big_endian)
            iv[i, 0], iv[i, 1] = o, ln
            if o == EMPTY_ and ln == EMPTY_:
                sv[i] = 0
            elif o >= lim or ln >= lim or o < <uint64_t>data_start or \
                    (data_end >= 0 and o + ln > <uint64_t>data_end):
                ok = False
            else:
                sv[i] = 1
                if o < prev_end:
                    in_order = False
                prev_end = o + ln
            i += 1
        if ok and not in_order:
            ok = _ranges_disjoint(iv, sv, n)
    return (index, stored) if ok else None
