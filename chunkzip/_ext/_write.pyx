# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batched whole-chunk writes to files: gather, encode and store many chunks in one nogil call.

Python describes the batch once: per chunk the element offset of its region in the
value (``starts``) and the region's extent (``extents``: the chunk shape, or less for
an edge chunk, whose rest is written as the fill value), and per chunk the target file
path.  Each chunk is encoded straight from the caller's array when its region has the
chunk's memory layout, else gathered into a scratch chunk first; then it is written
atomically: a new file as an anonymous file (``O_TMPFILE``) + ``write`` + ``linkat``
into place, an existing one (or where anonymous files are not supported) through a
temporary file next to the target + ``rename``.
Several threads may run the same call: each takes the next chunk from a shared
counter, so one thread encodes while another waits in the file system.

Whole shards (``write_shards``) take the same pieces one level down: each inner chunk
of a shard is gathered (or taken in place) and encoded straight into the shard's
buffer, inner chunks equal to the fill value are left out (index entry all ones), the
index (``bytes`` little/big endian, optionally + ``crc32c``) goes at the start or the
end, and the shard is written once with the same atomic ``_store`` -- or, for stores
that are not directories, assembled into caller-provided buffers.

Anything unusual (a missing directory, a leftover temporary file, an I/O or encoder
error) is not an error here: the chunk's status is set to 1 and the caller writes that
chunk on its generic path, which raises the proper error.
"""
from libc.errno cimport errno, EEXIST, EINTR
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy, memmove, strlen, strrchr
from posix.fcntl cimport O_CREAT, O_EXCL, O_WRONLY, open as c_open
from posix.unistd cimport close as c_close, unlink, write as c_write

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_GET_SIZE

from chunkzip._ext.odometer cimport odometer_next

cdef extern from "<stdio.h>" nogil:
    int rename(const char *old, const char *new)
    int snprintf(char *s, size_t n, const char *fmt, ...)

cdef extern from "<fcntl.h>" nogil:
    enum: O_CLOEXEC

cdef extern from "blosc1.h" nogil:
    int64_t cz_blosc1_compress(const void *src, size_t nbytes, void *dest, size_t destsize,
                               int clevel, int doshuffle, size_t typesize, int compcode,
                               size_t blocksize, int splitmode)

cdef extern from "checksum.h" nogil:
    void cz_checksum_init()
    uint32_t cz_crc32c(uint32_t crc, const void *data, size_t length)

cdef extern from *:
    """
    /* Reserve a new file's blocks before writing it (Linux; Python.h defines
       _GNU_SOURCE).  On ext4 a file renamed over an existing one has its delayed
       allocations forced (and written back) inside rename, under the directory's
       lock; with the blocks reserved first there is nothing left to force, so
       concurrent shard writes do not queue there.  A hint only: errors are ignored,
       and it never writes zeros (fallocate(2), not posix_fallocate). */
    #if defined(__linux__)
    #include <fcntl.h>
    static int cz_reserve(int fd, long long n) { return fallocate(fd, 0, 0, (off_t)n); }
    #else
    static int cz_reserve(int fd, long long n) { (void)fd; (void)n; return -1; }
    #endif
    static int cz_reserve_min = 64 * 1024;
    """
    int cz_reserve(int fd, long long n) nogil
    int cz_reserve_min

cdef extern from "cz_atomic.h" nogil:
    long long cz_next_index(long long *counter)

cdef enum:
    MAXDIM = 64
    KIND_RAW = 0
    KIND_BLOSC = 1
    PATHMAX = 4096
    BLOSC_OVERHEAD = 16  # cz_blosc1_max_compressed_size(n) == n + 16


cdef struct Encoding:
    # how chunks are encoded: RAW (the bytes as they are) or one Blosc1 frame
    int kind
    int clevel
    int shuffle
    int typesize
    int compcode
    size_t blocksize


cdef struct Layout:
    # one chunk's geometry: its shape and strides (its memory order), the value's
    # strides, the fill value (itemsize bytes) and a scratch chunk for gathers
    int ndim
    int64_t isz
    int64_t nbytes
    int64_t cshape[MAXDIM]
    int64_t cstr[MAXDIM]
    int64_t vstr[MAXDIM]
    const uint8_t *fill
    uint8_t *scratch


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


cdef const uint8_t *_chunk_data(const Layout *L, const uint8_t *src, const int64_t *ext) noexcept nogil:
    """The chunk whose region in the value starts at ``src`` with extent ``ext``, as
    contiguous bytes in its memory layout: ``src`` itself when the region already has
    that layout, else gathered into ``L.scratch`` (a region shorter than the chunk, an
    edge chunk, is padded with the fill value)."""
    cdef bint direct = True, partial = False
    cdef int d
    cdef int64_t i
    for d in range(L.ndim):
        if ext[d] != L.cshape[d]:
            partial = True
        if L.cshape[d] > 1 and L.vstr[d] != L.cstr[d]:
            direct = False
    if direct and not partial:
        return src
    if partial:
        for i in range(L.nbytes // L.isz):
            memcpy(L.scratch + i * L.isz, L.fill, <size_t>L.isz)
    if L.ndim == 0:
        memcpy(L.scratch, src, <size_t>L.isz)
    else:
        _gather(0, L.ndim, ext, L.vstr, L.cstr, L.isz, src, L.scratch)
    return L.scratch


cdef inline const uint8_t *_region(const Layout *L, const uint8_t *base, const int64_t *start,
                                   const int64_t *extent, int64_t *ext) noexcept nogil:
    """A chunk's (or shard's) region in the value: its first byte, from its first
    element ``start`` per dimension; its extent copied into ``ext``."""
    cdef int d
    for d in range(L.ndim):
        ext[d] = extent[d]
        base += start[d] * L.vstr[d]
    return base


cdef int64_t _encode(const Encoding *E, const uint8_t *data, int64_t nbytes, uint8_t *dest,
                     const uint8_t **out) noexcept nogil:
    """Encode one chunk's bytes into ``dest`` (``nbytes + BLOSC_OVERHEAD`` bytes);
    ``*out`` is where the encoded bytes are (``data`` itself for RAW).  Returns their
    size, negative on failure."""
    if E.kind == KIND_RAW:
        out[0] = data
        return nbytes
    out[0] = dest
    return cz_blosc1_compress(data, <size_t>nbytes, dest, <size_t>(nbytes + BLOSC_OVERHEAD), E.clevel,
                              E.shuffle, <size_t>E.typesize, E.compcode, E.blocksize, -1)


cdef bint _all_fill(const uint8_t *p, int64_t nbytes, const uint8_t *fill, int64_t isz) noexcept nogil:
    """Every element of the chunk ``p`` has the fill value's bytes (the first element
    equals it, and the bytes repeat with period ``isz``)."""
    if memcmp(p, fill, <size_t>isz) != 0:
        return False
    return memcmp(p, p + isz, <size_t>(nbytes - isz)) == 0


cdef int _setup(Layout *L, Encoding *E, value, chunk_shape, chunk_strides, value_strides, fill,
                int kind, int clevel, int shuffle, int typesize, int compcode, Py_ssize_t blocksize) except -1:
    """Fill ``L`` and ``E`` from the Python arguments (``L.scratch`` left NULL)."""
    cdef int d
    cdef const uint8_t[::1] fillv = fill
    L.ndim = len(chunk_shape)
    if L.ndim > MAXDIM or len(value_strides) != L.ndim or len(chunk_strides) != L.ndim:
        raise ValueError("inconsistent chunk/value dimensions")
    L.isz = fillv.shape[0]
    L.nbytes = L.isz
    for d in range(L.ndim):
        L.cshape[d] = chunk_shape[d]
        L.cstr[d] = chunk_strides[d]
        L.vstr[d] = value_strides[d]
        L.nbytes *= L.cshape[d]
    L.fill = &fillv[0] if L.isz else NULL  # ``fill`` (bytes) outlives the call
    L.scratch = NULL
    E.kind, E.clevel, E.shuffle, E.typesize, E.compcode = kind, clevel, shuffle, typesize, compcode
    E.blocksize = <size_t>blocksize
    return 0


cdef extern from "cz_linkfile.h" nogil:
    int cz_tmpfile_mode
    int cz_link_empty_ok
    int cz_open_anon(const char *dir)
    int cz_link_anon(int fd, const char *path)


cdef int _write_all(int fd, const uint8_t *data, int64_t n) noexcept nogil:
    """Write ``n`` bytes to ``fd`` (blocks reserved first for a large file).  0 ok."""
    cdef int64_t done = 0
    cdef ssize_t w
    if n >= cz_reserve_min:
        cz_reserve(fd, n)
    while done < n:
        w = c_write(fd, data + done, <size_t>(n - done))
        if w < 0:
            if errno == EINTR:
                continue
            return 1
        done += w
    return 0


cdef int _tmp_name(char *tmp, const char *path, const char *tag) noexcept nogil:
    """``tmp`` := the temporary name ``<dir>/.cztmp-<tag>-<name>`` of ``path``.  0 ok,
    1 no directory part or too long."""
    cdef const char *slash = strrchr(path, b'/')
    cdef int64_t dlen
    if slash == NULL:
        return 1
    dlen = slash - path + 1
    if dlen + strlen(tag) + strlen(slash + 1) + 16 >= PATHMAX:
        return 1
    memcpy(tmp, path, <size_t>dlen)
    snprintf(tmp + dlen, <size_t>(PATHMAX - dlen), ".cztmp-%s-%s", tag, slash + 1)
    return 0


cdef int _close_rename(int fd, const char *tmp, const char *path) noexcept nogil:
    """Close the written file ``tmp`` and rename it to ``path``; on failure remove
    ``tmp``.  0 ok, 1 failed."""
    if c_close(fd) != 0 or rename(tmp, path) != 0:
        unlink(tmp)
        return 1
    return 0


cdef int _store_named(const char *path, const char *tag, const uint8_t *data, int64_t n) noexcept nogil:
    """Write ``data`` to ``path`` atomically through a new named temporary file
    ``.cztmp-<tag>-<name>`` in the same directory, then ``rename``.  0 ok, 1 failed
    (nothing left behind)."""
    cdef char tmp[PATHMAX]
    cdef int fd
    if _tmp_name(tmp, path, tag):
        return 1
    fd = c_open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    if fd < 0:
        return 1
    if _write_all(fd, data, n):
        c_close(fd)
        unlink(tmp)
        return 1
    return _close_rename(fd, tmp, path)


cdef int _store(const char *path, const char *tag, const uint8_t *data, int64_t n,
                int *existed) noexcept nogil:
    """Write ``data`` to ``path`` atomically.  A new file is written anonymous
    (``O_TMPFILE``) and linked into place: one directory operation, and nothing partial
    is ever visible.  When ``path`` exists, the written file is linked to a temporary
    name and renamed over it (``*existed`` set: in mode 2, later calls with the same
    flag write a named temporary file straight away).  Where anonymous files are not
    supported, or switched off, a named temporary file + ``rename``.  0 ok, 1 failed
    (nothing left behind)."""
    cdef char tmp[PATHMAX]
    cdef const char *slash
    cdef int fd, err
    if cz_tmpfile_mode == 0 or (cz_tmpfile_mode == 2 and existed[0]):
        return _store_named(path, tag, data, n)
    slash = strrchr(path, b'/')
    if slash == NULL or slash - path + 1 >= PATHMAX:
        return 1
    memcpy(tmp, path, <size_t>(slash - path + 1))
    tmp[slash - path + 1] = 0
    fd = cz_open_anon(tmp)
    if fd < 0:
        return _store_named(path, tag, data, n)
    if _write_all(fd, data, n):
        c_close(fd)
        return 1
    err = cz_link_anon(fd, path)
    if err == 0:
        return 1 if c_close(fd) != 0 else 0
    if err != EEXIST:  # linking not possible here: the portable way, data written again
        c_close(fd)
        return _store_named(path, tag, data, n)
    existed[0] = 1
    if _tmp_name(tmp, path, tag) or cz_link_anon(fd, tmp) != 0:
        c_close(fd)
        return 1
    return _close_rename(fd, tmp, path)


def write_chunks(list paths, bytes tag, int kind, value, chunk_shape, chunk_strides, value_strides,
                 const int64_t[:, ::1] starts, const int64_t[:, ::1] extents, bytes fill,
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
    cdef Layout L
    cdef Encoding E
    cdef int64_t ext[MAXDIM]
    cdef int64_t k, n
    cdef Py_ssize_t nchunks = len(paths)
    cdef const char **pp
    cdef const char *tagp = PyBytes_AS_STRING(tag)
    cdef const uint8_t *base
    cdef const uint8_t *src
    cdef const uint8_t *data
    cdef uint8_t *cbuf = NULL
    cdef int64_t nfail = 0
    cdef int existed = 0
    _setup(&L, &E, value, chunk_shape, chunk_strides, value_strides, fill, kind, clevel, shuffle, typesize,
           compcode, blocksize)
    if starts.shape[1] != L.ndim or extents.shape[1] != L.ndim or starts.shape[0] != nchunks \
            or extents.shape[0] != nchunks or status.shape[0] < nchunks:
        raise ValueError("write_chunks: inconsistent tables")
    if nchunks == 0 or L.isz == 0:
        return 0
    for x in paths:
        if not PyBytes_Check(x):
            raise TypeError("paths must be bytes")
    base = <const uint8_t *><size_t>value.__array_interface__["data"][0]
    pp = <const char **>malloc(sizeof(char *) * nchunks)
    L.scratch = <uint8_t *>malloc(<size_t>L.nbytes)
    cbuf = <uint8_t *>malloc(<size_t>(L.nbytes + BLOSC_OVERHEAD))
    if pp == NULL or L.scratch == NULL or cbuf == NULL:
        free(pp); free(L.scratch); free(cbuf)
        raise MemoryError()
    for k in range(nchunks):
        pp[k] = PyBytes_AS_STRING(paths[k])  # ``paths`` keeps them alive
    try:
        with nogil:
            while True:
                k = cz_next_index(<long long *>&counter[0])
                if k >= nchunks:
                    break
                src = _region(&L, base, &starts[k, 0], &extents[k, 0], ext)
                n = _encode(&E, _chunk_data(&L, src, ext), L.nbytes, cbuf, &data)
                if n < 0 or _store(pp[k], tagp, data, n, &existed):
                    status[k] = 1
                    nfail += 1
    finally:
        free(pp); free(L.scratch); free(cbuf)
    return nfail


cdef inline void _put_u64(uint8_t *p, uint64_t v, bint big) noexcept nogil:
    cdef int i
    for i in range(8):
        p[(7 - i) if big else i] = <uint8_t>(v >> (8 * i))


cdef int64_t _assemble_shard(const Layout *L, const Encoding *E, const uint8_t *src, const int64_t *sext,
                             const int64_t *per, int64_t ninner, bint at_start, bint checksum, bint big,
                             uint8_t *buf, int64_t *nstored) noexcept nogil:
    """Encode the inner chunks of one shard (region ``src`` / ``sext`` of the value,
    ``per[d]`` inner chunks along each dimension) into ``buf`` with its index; return
    the shard's size (``*nstored``: its inner chunks not empty), negative on an
    encoder failure.  ``buf`` holds ``ninner * (nbytes + BLOSC_OVERHEAD)`` plus
    the index; inner chunks are encoded in place, in index order."""
    cdef int64_t isz_index = 16 * ninner + (4 if checksum else 0)
    cdef uint8_t *index
    cdef uint8_t *dst
    cdef const uint8_t *data
    cdef const uint8_t *csrc
    cdef const uint8_t *enc
    cdef int64_t j, n, pos
    cdef int64_t idx[MAXDIM]
    cdef int64_t zero[MAXDIM]
    cdef int64_t ext[MAXDIM]
    cdef int d
    cdef bint empty
    cdef uint32_t crc
    nstored[0] = 0
    pos = isz_index if at_start else 0
    # the index at the end goes after the data: build it apart, at the buffer's tail
    index = buf if at_start else buf + ninner * (L.nbytes + BLOSC_OVERHEAD)
    for d in range(L.ndim):
        idx[d] = 0
        zero[d] = 0
    for j in range(ninner):
        csrc = src
        empty = False
        for d in range(L.ndim):
            ext[d] = sext[d] - idx[d] * L.cshape[d]
            if ext[d] <= 0:
                empty = True  # an inner chunk past the array's edge (edge shards)
            elif ext[d] > L.cshape[d]:
                ext[d] = L.cshape[d]
            csrc += idx[d] * L.cshape[d] * L.vstr[d]
        if not empty:
            data = _chunk_data(L, csrc, ext)
            empty = _all_fill(data, L.nbytes, L.fill, L.isz)
        if empty:
            _put_u64(index + 16 * j, <uint64_t>0xFFFFFFFFFFFFFFFF, big)
            _put_u64(index + 16 * j + 8, <uint64_t>0xFFFFFFFFFFFFFFFF, big)
        else:
            dst = buf + pos
            n = _encode(E, data, L.nbytes, dst, &enc)
            if n < 0:
                return -1
            if enc != dst:
                memcpy(dst, enc, <size_t>n)
            _put_u64(index + 16 * j, <uint64_t>pos, big)
            _put_u64(index + 16 * j + 8, <uint64_t>n, big)
            pos += n
            nstored[0] += 1
        odometer_next(idx, zero, per, L.ndim)  # next inner chunk in C order
    if checksum:
        crc = cz_crc32c(0, index, <size_t>(16 * ninner))
        for d in range(4):
            index[16 * ninner + d] = <uint8_t>(crc >> (8 * d))
    if at_start:
        return pos
    memmove(buf + pos, index, <size_t>isz_index)
    return pos + isz_index


def shard_bound(int64_t chunk_nbytes, int64_t ninner, bint checksum):
    """Bytes a shard buffer of :func:`write_shards` needs (every inner chunk at its
    largest encoding, plus the index)."""
    return ninner * (chunk_nbytes + BLOSC_OVERHEAD) + 16 * ninner + (4 if checksum else 0)


def write_shards(list targets, bytes tag, int kind, value, chunk_shape, chunk_strides, value_strides,
                 shard_grid, const int64_t[:, ::1] starts, const int64_t[:, ::1] extents, bytes fill,
                 int clevel, int shuffle, int typesize, int compcode, Py_ssize_t blocksize,
                 bint index_at_start, bint index_checksum, bint index_big_endian, bint write_empty,
                 int64_t[::1] sizes, uint8_t[::1] status, int64_t[::1] counter):
    """Encode whole shards taken from ``value`` and write (or assemble) each once;
    return how many this call left to the caller (``status[k] = 1``).

    ``targets[k]``: shard k's file path (bytes; its directory must exist), written
    atomically, or -- for stores that are not directories -- a writable buffer of
    :func:`shard_bound` bytes the shard is assembled into (``sizes[k]`` its size).
    ``starts[k, d]`` / ``extents[k, d]``: shard k's region in ``value``; a region
    shorter than the shard is an edge shard, whose inner chunks past the edge are left
    out and whose partial inner chunks are padded with ``fill``.  ``chunk_shape`` /
    ``chunk_strides``: the inner chunks', ``shard_grid``: inner chunks per shard along
    each dimension.  Inner chunks equal to ``fill`` (bytewise) get an empty index
    entry.  A shard with no stored inner chunk is written as a bare index when
    ``write_empty``, else not written (``status[k] = 2``, ``sizes[k] = 0``: the caller
    deletes it).  Encoding as in :func:`write_chunks`; the index is ``bytes`` (little or
    big endian) with an optional ``crc32c``, at the start or the end.
    """
    cdef Layout L
    cdef Encoding E
    cdef int d
    cdef int64_t per[MAXDIM]
    cdef int64_t sext[MAXDIM]
    cdef int64_t k, n, ninner = 1, bound, nstored
    cdef Py_ssize_t nshards = len(targets)
    cdef bint to_files
    cdef const char **pp = NULL
    cdef uint8_t **bufs = NULL
    cdef const char *tagp = PyBytes_AS_STRING(tag)
    cdef const uint8_t *base
    cdef const uint8_t *src
    cdef uint8_t *buf
    cdef uint8_t *own = NULL
    cdef int64_t nfail = 0
    cdef int existed = 0
    cdef uint8_t[::1] mv
    _setup(&L, &E, value, chunk_shape, chunk_strides, value_strides, fill, kind, clevel, shuffle, typesize,
           compcode, blocksize)
    if len(shard_grid) != L.ndim or starts.shape[1] != L.ndim or extents.shape[1] != L.ndim \
            or starts.shape[0] != nshards or extents.shape[0] != nshards or status.shape[0] < nshards \
            or sizes.shape[0] < nshards:
        raise ValueError("write_shards: inconsistent tables")
    if nshards == 0 or L.isz == 0 or L.ndim == 0:
        return 0
    for d in range(L.ndim):
        per[d] = shard_grid[d]
        ninner *= per[d]
    bound = shard_bound(L.nbytes, ninner, index_checksum)
    to_files = PyBytes_Check(targets[0])
    pp = <const char **>malloc(sizeof(char *) * nshards)
    bufs = <uint8_t **>malloc(sizeof(uint8_t *) * nshards)
    if pp == NULL or bufs == NULL:
        free(pp); free(bufs)
        raise MemoryError()
    try:
        for k in range(nshards):
            x = targets[k]
            if to_files:
                if not PyBytes_Check(x):
                    raise TypeError("targets must all be paths (bytes) or all buffers")
                pp[k] = PyBytes_AS_STRING(x)  # ``targets`` keeps them alive
            else:
                mv = x
                if mv.shape[0] < bound:
                    raise ValueError(f"write_shards: buffer {k} holds {mv.shape[0]} bytes, needs {bound}")
                bufs[k] = &mv[0]  # ``targets`` keeps the buffers alive
        cz_checksum_init()
        base = <const uint8_t *><size_t>value.__array_interface__["data"][0]
        L.scratch = <uint8_t *>malloc(<size_t>L.nbytes)
        if to_files:
            own = <uint8_t *>malloc(<size_t>bound)
        if L.scratch == NULL or (to_files and own == NULL):
            raise MemoryError()
        with nogil:
            while True:
                k = cz_next_index(<long long *>&counter[0])
                if k >= nshards:
                    break
                src = _region(&L, base, &starts[k, 0], &extents[k, 0], sext)
                buf = own if to_files else bufs[k]
                n = _assemble_shard(&L, &E, src, sext, per, ninner, index_at_start, index_checksum,
                                    index_big_endian, buf, &nstored)
                if n >= 0 and nstored == 0 and not write_empty:
                    status[k] = 2
                    sizes[k] = 0
                    continue
                sizes[k] = n
                if n < 0 or (to_files and _store(pp[k], tagp, buf, n, &existed)):
                    status[k] = 1
                    nfail += 1
    finally:
        free(pp); free(bufs); free(L.scratch); free(own)
    return nfail


def _set_reserve_min(int nbytes):
    """Files of at least ``nbytes`` get their blocks reserved before they are written
    (for A/B measurements; a huge value turns it off).  Returns the previous value."""
    global cz_reserve_min
    old = cz_reserve_min
    cz_reserve_min = nbytes
    return old


def _set_tmpfile(int mode):
    """How new files are written (for tests and A/B measurements): 0 a named temporary
    file + ``rename`` always (as on a file system without ``O_TMPFILE``), 1 an anonymous
    file + ``linkat`` whenever the target is new, 2 (the default) as 1 until a call
    meets a target that exists, then named temporary files for the rest of that call.
    Returns the previous mode."""
    global cz_tmpfile_mode
    if mode not in (0, 1, 2):
        raise ValueError(f"_set_tmpfile: mode must be 0, 1 or 2, not {mode}")
    old = cz_tmpfile_mode
    cz_tmpfile_mode = mode
    return old


def _set_link_empty(bint allowed):
    """Whether an anonymous file is linked with ``linkat(fd, "", ..., AT_EMPTY_PATH)``
    (True, the default until refused once) or through ``/proc/self/fd/N`` (False; for
    tests of that path).  Returns the previous setting."""
    global cz_link_empty_ok
    old = bool(cz_link_empty_ok)
    cz_link_empty_ok = allowed
    return old
