# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Blosc: write Blosc1 frames (csrc/blosc1.c), read them through c-blosc2.

Blosc1 frames (format version 2, 16-byte header) are what c-blosc 1.x -- numcodecs,
zarr-python, tensorstore -- can read; c-blosc2 itself writes newer frames they reject.
Decoding goes through libblosc2 from the python-blosc2 wheel after the frame has passed
the validator shared with the read kernel (csrc/blosc1_frame.h): only Blosc1 frames, as
numcodecs writes them, are chunks of the Zarr ``blosc`` codec (c-blosc2's own frames,
e.g. its "uninitialised" special chunks, are refused).

Every C call runs without the GIL, with a fresh context per call (no global Blosc
state), so the functions may be called from many threads at once.
"""
import numpy as np

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.object cimport PyObject
from cpython.ref cimport Py_XDECREF
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t
from libc.string cimport memcpy

cdef extern from "Python.h":
    # raw (unmanaged) forms, so that the bytes object can be shrunk in place
    PyObject *_bytes_new "PyBytes_FromStringAndSize" (const char *v, Py_ssize_t n) except NULL
    char *_bytes_ptr "PyBytes_AS_STRING" (PyObject *o)
    int _PyBytes_Resize(PyObject **string, Py_ssize_t newsize) except -1

from chunkzip._ext.blosc1_api cimport cz_blosc_frame, cz_blosc1_bitshuffle_tail, cz_blosc1_check_frame

cdef extern from "blosc1.h" nogil:
    int64_t cz_blosc1_compress(const void *src, size_t nbytes, void *dest, size_t destsize,
                               int clevel, int doshuffle, size_t typesize, int compcode,
                               size_t blocksize, int splitmode)
    size_t cz_blosc1_blocksize(size_t nbytes, size_t typesize, int clevel, int compcode,
                               size_t blocksize, int splitmode)
    size_t CZ_BLOSC1_MAX_BUFFERSIZE
    size_t CZ_BLOSC1_MAX_BLOCKSIZE
    int CZ_BLOSC_ENOMEM
    int CZ_BLOSC_ECORRUPT
    # the frame decoder shared with the C library (csrc/blosc1_decode.c); the validator
    # and the frame fields come from blosc1_api.pxd
    int cz_blosc1_decompress_frame(const uint8_t *src, const cz_blosc_frame *fi, void *dest,
                                   int nthreads, char *msg, size_t msglen)

from chunkzip._ext.blosc2_api cimport (
    blosc2_context, blosc2_free_ctx, blosc2_getitem_bytes_ctx, blosc2_getitem_ctx, blosc2_init,
    new_dctx,
)

# Make sure libblosc2's registries (codecs, filters, I/O) exist before the first call.
# blosc2_init() is idempotent and starts no threads.
blosc2_init()

#: compressor names -> c-blosc compressor codes
CNAMES = {"blosclz": 0, "lz4": 1, "lz4hc": 2, "zlib": 4, "zstd": 5}
#: largest input a frame may hold (c-blosc2 refuses larger ones)
MAX_BUFFERSIZE = CZ_BLOSC1_MAX_BUFFERSIZE
MAX_BLOCKSIZE = CZ_BLOSC1_MAX_BLOCKSIZE

# Below MIN_THREADED_NBYTES decoding with several threads costs more than it gains.
cdef enum:
    MIN_THREADED_NBYTES = 256 * 1024


from chunkzip._ext.buffers import as_u8 as _as_u8

ctypedef cz_blosc_frame frame_info


cdef frame_info _check_frame(const uint8_t *p, Py_ssize_t n, int64_t expected=-1) except *:
    """Validate a Blosc frame against the buffer (and the expected decoded size, when
    not -1) with the validator the read kernel uses too; raise ValueError if it is not
    a valid Blosc1 frame."""
    cdef frame_info fi
    cdef char msg[256]
    if cz_blosc1_check_frame(p, <size_t>n, &fi, msg, sizeof(msg)) != 0:
        raise ValueError(msg.decode())
    if expected >= 0 and fi.nbytes != expected:
        raise ValueError(f"Blosc frame decodes to {fi.nbytes} bytes, the chunk has {expected}")
    return fi


def compress(src, typesize, int clevel=5, int shuffle=1, cname="lz4",
             Py_ssize_t blocksize=0, int split=-1):
    """Compress a contiguous buffer into a Blosc1 frame; return ``bytes``.

    ``typesize``: element size in bytes (>= 1; above 255 the frame records 1).
    ``clevel``: 0-9 (0 stores the data uncompressed).  ``shuffle``: 0 none, 1 byte
    shuffle, 2 bit shuffle, -1 automatic (bit shuffle for typesize 1, else byte).
    ``cname``: blosclz, lz4, lz4hc, zlib or zstd.  ``blocksize``: 0 automatic, else
    rounded down to a multiple of typesize.  ``split``: -1 automatic (like c-blosc),
    0 never, 1 always split blocks into typesize streams.
    """
    cdef Py_ssize_t ts = typesize
    cdef int compcode
    cdef const uint8_t[::1] s
    cdef Py_ssize_t nbytes
    cdef const uint8_t *sp = NULL
    cdef char *dp
    cdef int64_t r
    cdef PyObject *op = NULL
    if ts < 1:
        raise ValueError(f"typesize must be >= 1, got {typesize}")
    if not 0 <= clevel <= 9:
        raise ValueError(f"clevel must be in 0..9, got {clevel}")
    if shuffle == -1:
        shuffle = 2 if ts == 1 else 1
    if not 0 <= shuffle <= 2:
        raise ValueError(f"shuffle must be -1, 0, 1 or 2, got {shuffle}")
    if blocksize < 0:
        raise ValueError(f"blocksize must be >= 0, got {blocksize}")
    if split not in (-1, 0, 1):
        raise ValueError(f"split must be -1, 0 or 1, got {split}")
    if isinstance(cname, bytes):
        cname = cname.decode("ascii", "replace")
    try:
        compcode = CNAMES[cname]
    except (KeyError, TypeError):
        raise ValueError(f"unknown Blosc compressor {cname!r}; "
                         f"expected one of {sorted(CNAMES)}") from None
    s = _as_u8(src)
    nbytes = s.shape[0]
    if <size_t>nbytes > CZ_BLOSC1_MAX_BUFFERSIZE:
        raise ValueError(f"Blosc cannot compress {nbytes} bytes: the format limit is "
                         f"{CZ_BLOSC1_MAX_BUFFERSIZE} bytes")
    if nbytes:
        sp = &s[0]
    op = _bytes_new(NULL, nbytes + 16)
    dp = _bytes_ptr(op)
    with nogil:
        r = cz_blosc1_compress(sp, <size_t>nbytes, dp, <size_t>(nbytes + 16), clevel,
                               shuffle, <size_t>ts, compcode, <size_t>blocksize, split)
    if r < 0:
        Py_XDECREF(op)
        if r == -3:
            raise MemoryError("Blosc compression: out of memory")
        raise RuntimeError(f"Blosc compression failed (error {r})")
    if r != nbytes + 16:
        _PyBytes_Resize(&op, <Py_ssize_t>r)  # on failure op is released and NULL
    dest = <object>op
    Py_XDECREF(op)
    return dest


def blocksize_for(Py_ssize_t nbytes, Py_ssize_t typesize, int clevel=5, cname="lz4",
                  Py_ssize_t blocksize=0, int split=-1):
    """The block size :func:`compress` would use for these parameters."""
    return cz_blosc1_blocksize(<size_t>nbytes, <size_t>typesize, clevel, CNAMES[cname],
                               <size_t>blocksize, split)


def cbuffer_sizes(src):
    """Return ``(nbytes, cbytes, blocksize)`` of a Blosc frame (header validated)."""
    cdef const uint8_t[::1] s = _as_u8(src)
    if s.shape[0] < 16:
        raise ValueError(f"not a Blosc frame: {s.shape[0]} bytes, a header needs 16")
    cdef frame_info fi = _check_frame(&s[0], s.shape[0])
    return fi.nbytes, fi.cbytes, fi.blocksize


def cbuffer_info(src):
    """Return a dict with the header fields of a Blosc frame (header validated)."""
    cdef const uint8_t[::1] s = _as_u8(src)
    if s.shape[0] < 16:
        raise ValueError(f"not a Blosc frame: {s.shape[0]} bytes, a header needs 16")
    cdef frame_info fi = _check_frame(&s[0], s.shape[0])
    flags = fi.flags
    return {
        "version": fi.version, "nbytes": fi.nbytes, "cbytes": fi.cbytes,
        "blocksize": fi.blocksize, "typesize": fi.typesize, "flags": flags,
        "memcpyed": bool(flags & 0x02),
        "shuffle": 2 if flags & 0x04 and not flags & 0x01 else (1 if flags & 0x01 else 0),
        "split": not (flags & 0x10),
        "compformat": flags >> 5,
    }


cdef int _nthreads_for(int nthreads, frame_info *fi) noexcept:
    cdef int64_t nblocks
    if nthreads <= 1 or fi.nbytes < MIN_THREADED_NBYTES or fi.blocksize <= 0:
        return 1
    nblocks = (<int64_t>fi.nbytes + fi.blocksize - 1) // fi.blocksize
    if nblocks < 2:
        return 1
    if nthreads > nblocks:
        return <int>nblocks
    return nthreads if nthreads < 256 else 256


def decompress(src, out=None, int nthreads=1):
    """Decode a Blosc1 frame.

    Returns ``bytes``, or ``out`` filled when given (a writable contiguous buffer of
    exactly the decoded size).  Corrupt or truncated input raises ``ValueError`` or
    ``RuntimeError``; nothing is allocated before the header has been validated.
    """
    cdef const uint8_t[::1] s = _as_u8(src)
    cdef Py_ssize_t n = s.shape[0]
    cdef uint8_t[::1] d
    cdef void *dp
    cdef int rc
    cdef int nthr
    cdef char msg[256]
    if n < 16:
        raise ValueError(f"not a Blosc frame: {n} bytes, a header needs 16")
    cdef frame_info fi = _check_frame(&s[0], n)
    if out is None:
        result = PyBytes_FromStringAndSize(NULL, fi.nbytes)
        dp = PyBytes_AS_STRING(result)
    else:
        d = _as_u8(out, writable=True)
        if d.shape[0] != fi.nbytes:
            raise ValueError(f"out has {d.shape[0]} bytes but the Blosc frame decodes "
                             f"to {fi.nbytes} bytes")
        result = out
        dp = &d[0] if fi.nbytes else NULL
    if fi.nbytes == 0:
        return result
    nthr = _nthreads_for(nthreads, &fi)
    with nogil:
        rc = cz_blosc1_decompress_frame(&s[0], &fi, dp, nthr, msg, sizeof(msg))
    if rc == CZ_BLOSC_ENOMEM:
        raise MemoryError(msg.decode())
    if rc == CZ_BLOSC_ECORRUPT:
        raise ValueError(msg.decode())
    if rc != 0:
        raise RuntimeError(msg.decode())
    return result


def getitem(src, Py_ssize_t start, Py_ssize_t nitems, out=None, typesize=None):
    """Decode only items ``[start, start + nitems)`` of a Blosc frame.

    Items are ``typesize`` bytes; by default the typesize the frame records (which is
    1 for elements wider than 255 bytes -- pass ``typesize`` for those).  Returns
    ``bytes`` (or ``out`` filled) of ``nitems * typesize`` bytes.
    """
    cdef const uint8_t[::1] s = _as_u8(src)
    cdef Py_ssize_t n = s.shape[0]
    cdef uint8_t[::1] d
    cdef void *dp
    cdef int rc
    cdef int64_t ts, want, bstart
    cdef bint by_bytes
    cdef blosc2_context *ctx
    cdef int nthr, tsz
    if n < 16:
        raise ValueError(f"not a Blosc frame: {n} bytes, a header needs 16")
    cdef frame_info fi = _check_frame(&s[0], n)
    if typesize is None or typesize == fi.typesize:
        ts = fi.typesize if fi.typesize else 1
        by_bytes = False
    else:
        ts = typesize
        if ts < 1:
            raise ValueError(f"typesize must be >= 1, got {typesize}")
        by_bytes = True
    if start < 0 or nitems < 0 or (start + nitems) * ts > fi.nbytes:
        raise IndexError(f"items [{start}, {start + nitems}) of {ts} bytes are out of "
                         f"bounds for a {fi.nbytes}-byte Blosc frame")
    want = nitems * ts
    bstart = start * ts
    cdef int32_t tail = cz_blosc1_bitshuffle_tail(&fi)
    if tail and want and bstart + want > fi.nbytes - tail:
        full = decompress(src)
        piece = full[bstart:bstart + want]
        if out is None:
            return piece
        d = _as_u8(out, writable=True)
        if d.shape[0] != want:
            raise ValueError(f"out has {d.shape[0]} bytes, expected {want}")
        np.asarray(d)[:] = np.frombuffer(piece, dtype=np.uint8)
        return out
    if out is None:
        result = PyBytes_FromStringAndSize(NULL, want)
        dp = PyBytes_AS_STRING(result)
    else:
        d = _as_u8(out, writable=True)
        if d.shape[0] != want:
            raise ValueError(f"out has {d.shape[0]} bytes, expected {want}")
        result = out
        dp = &d[0] if want else NULL
    if want == 0:
        return result
    nthr = 1
    tsz = fi.typesize if fi.typesize else 1
    with nogil:
        ctx = new_dctx(nthr, tsz)
        if ctx == NULL:
            rc = -999
        elif by_bytes:
            rc = blosc2_getitem_bytes_ctx(ctx, &s[0], fi.cbytes, <int32_t>bstart,
                                          <int32_t>want, dp, <int32_t>want)
            blosc2_free_ctx(ctx)
        else:
            rc = blosc2_getitem_ctx(ctx, &s[0], fi.cbytes, <int>start, <int>nitems, dp,
                                    <int32_t>want)
            blosc2_free_ctx(ctx)
    if rc == -999:
        raise MemoryError("could not create a Blosc decompression context")
    if rc != want:
        raise RuntimeError(f"error during Blosc getitem: {rc} (corrupt or unsupported frame)")
    return result
