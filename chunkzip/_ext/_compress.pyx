# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Thin typed wrappers over the Zstd, LZ4 and zlib-ng code inside libblosc2.

Every C call runs without the GIL, with a compression/decompression context created
for that call only. Outputs are allocated once at the compressor's bound and shrunk
in place; decoders write straight into a caller's buffer when one is given. Sizes are
``size_t``/``Py_ssize_t`` throughout (LZ4 itself is limited to ~2 GiB per block).
"""
from cpython.buffer cimport (
    PyBUF_ANY_CONTIGUOUS,
    PyBUF_WRITABLE,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from cpython.bytes cimport PyBytes_AS_STRING
from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF, Py_XDECREF
from libc.stdint cimport int32_t, uint8_t, uint32_t
from libc.string cimport memcpy

import numpy as np


cdef extern from "Python.h":
    # raw forms, so the new reference can be resized in place before Cython owns it
    PyObject* _new_bytes "PyBytes_FromStringAndSize"(const char* v, Py_ssize_t n)
    int _resize_bytes "_PyBytes_Resize"(PyObject** b, Py_ssize_t n)


# Prototypes of the libraries bundled in libblosc2 (no zstd.h / lz4.h / zlib-ng.h ship
# with the wheel); they follow the upstream public headers.
cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    typedef struct ZSTD_CCtx_s ZSTD_CCtx;
    typedef struct ZSTD_DCtx_s ZSTD_DCtx;
    ZSTD_CCtx* ZSTD_createCCtx(void);
    size_t ZSTD_freeCCtx(ZSTD_CCtx* cctx);
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx* cctx, int param, int value);
    size_t ZSTD_compress2(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity,
                          const void* src, size_t srcSize);
    ZSTD_DCtx* ZSTD_createDCtx(void);
    size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx);
    size_t ZSTD_decompressDCtx(ZSTD_DCtx* dctx, void* dst, size_t dstCapacity,
                               const void* src, size_t srcSize);
    unsigned long long ZSTD_findDecompressedSize(const void* src, size_t srcSize);
    unsigned long long ZSTD_getFrameContentSize(const void* src, size_t srcSize);
    size_t ZSTD_findFrameCompressedSize(const void* src, size_t srcSize);
    size_t ZSTD_compressBound(size_t srcSize);
    unsigned ZSTD_isError(size_t code);
    const char* ZSTD_getErrorName(size_t code);
    int ZSTD_maxCLevel(void);
    int ZSTD_minCLevel(void);
    unsigned ZSTD_versionNumber(void);
    #define CZ_ZSTD_C_LEVEL 100
    #define CZ_ZSTD_C_CONTENTSIZE 200
    #define CZ_ZSTD_C_CHECKSUM 201
    #define CZ_ZSTD_UNKNOWN (0ULL - 1)
    #define CZ_ZSTD_ERROR (0ULL - 2)

    int LZ4_compress_fast(const char* src, char* dst, int srcSize, int dstCapacity,
                          int acceleration);
    int LZ4_decompress_safe(const char* src, char* dst, int compressedSize,
                            int dstCapacity);
    int LZ4_compressBound(int inputSize);
    int LZ4_versionNumber(void);
    #define CZ_LZ4_MAX_INPUT 0x7E000000

    int32_t zng_uncompress2(uint8_t* dest, size_t* destLen, const uint8_t* source,
                            size_t* sourceLen);
    """
    ctypedef struct ZSTD_CCtx
    ctypedef struct ZSTD_DCtx
    ZSTD_CCtx* ZSTD_createCCtx() nogil
    size_t ZSTD_freeCCtx(ZSTD_CCtx* cctx) nogil
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx* cctx, int param, int value) nogil
    size_t ZSTD_compress2(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity,
                          const void* src, size_t srcSize) nogil
    ZSTD_DCtx* ZSTD_createDCtx() nogil
    size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx) nogil
    size_t ZSTD_decompressDCtx(ZSTD_DCtx* dctx, void* dst, size_t dstCapacity,
                               const void* src, size_t srcSize) nogil
    unsigned long long ZSTD_findDecompressedSize(const void* src, size_t srcSize) nogil
    unsigned long long ZSTD_getFrameContentSize(const void* src, size_t srcSize) nogil
    size_t ZSTD_findFrameCompressedSize(const void* src, size_t srcSize) nogil
    size_t ZSTD_compressBound(size_t srcSize) nogil
    unsigned ZSTD_isError(size_t code) nogil
    const char* ZSTD_getErrorName(size_t code) nogil
    int ZSTD_maxCLevel() nogil
    int ZSTD_minCLevel() nogil
    unsigned ZSTD_versionNumber() nogil
    int CZ_ZSTD_C_LEVEL, CZ_ZSTD_C_CONTENTSIZE, CZ_ZSTD_C_CHECKSUM
    unsigned long long CZ_ZSTD_UNKNOWN, CZ_ZSTD_ERROR

    int LZ4_compress_fast(const char* src, char* dst, int srcSize, int dstCapacity,
                          int acceleration) nogil
    int LZ4_decompress_safe(const char* src, char* dst, int compressedSize,
                            int dstCapacity) nogil
    int LZ4_compressBound(int inputSize) nogil
    int LZ4_versionNumber() nogil
    int CZ_LZ4_MAX_INPUT

    int32_t zng_uncompress2(uint8_t* dest, size_t* destLen, const uint8_t* source,
                            size_t* sourceLen) nogil


#: largest output of a decode without ``out`` (chunkzip.validate.MAX_CHUNK_BYTES)
MAX_DECODED_BYTES = 2**31 - 1 - 16

ZSTD_MIN_LEVEL = ZSTD_minCLevel()
ZSTD_MAX_LEVEL = ZSTD_maxCLevel()
ZSTD_VERSION_NUMBER = ZSTD_versionNumber()
LZ4_VERSION_NUMBER = LZ4_versionNumber()
LZ4_MAX_INPUT_SIZE = CZ_LZ4_MAX_INPUT

# A Zstd block holds at most 128 KiB and costs at least 4 bytes (3-byte header + 1 RLE
# byte): a frame claiming more than this ratio is corrupt, so refuse before allocating.
cdef size_t _ZSTD_MAX_RATIO = 32768
# An LZ4 sequence byte can extend a match by at most 255 bytes.
cdef size_t _LZ4_MAX_RATIO = 255


# -- buffer helpers --------------------------------------------------------------------
cdef int _get_src(object obj, Py_buffer* view) except -1:
    """Read-only contiguous view of any buffer-protocol object.

    Strided ndarrays are copied to C order first (``view.obj`` keeps the copy alive).
    """
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError("object arrays cannot be compressed as raw bytes; add an object codec")
        if not (obj.flags.c_contiguous or obj.flags.f_contiguous):
            obj = np.ascontiguousarray(obj)
    try:
        PyObject_GetBuffer(obj, view, PyBUF_ANY_CONTIGUOUS)
    except TypeError:
        raise TypeError(
            f"expected a bytes-like object or ndarray, got {type(obj).__name__}"
        ) from None
    except (BufferError, ValueError):
        raise ValueError(
            "expected a contiguous buffer (bytes, bytearray, memoryview, array.array or "
            f"ndarray), got a non-contiguous {type(obj).__name__}"
        ) from None
    return 0


cdef int _check_not_object(object obj) except -1:
    """Refuse buffers of Python object pointers (writing bytes there corrupts memory)."""
    if isinstance(obj, (bytes, bytearray)):
        return 0
    if isinstance(obj, np.ndarray):
        dt = obj.dtype
    else:
        try:
            dt = np.asarray(memoryview(obj)).dtype
        except (TypeError, ValueError, NotImplementedError):
            return 0  # not a buffer NumPy understands: PyObject_GetBuffer decides
    if dt.hasobject:
        raise ValueError("out must not be an object array")
    return 0


cdef int _get_writable(object obj, Py_buffer* view) except -1:
    """Writable contiguous view of ``out`` (not an object array)."""
    _check_not_object(obj)
    try:
        PyObject_GetBuffer(obj, view, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
    except (BufferError, TypeError, ValueError):
        raise ValueError(
            f"out must be a writable contiguous buffer, got {type(obj).__name__}"
        ) from None
    return 0


cdef int _get_out(object obj, Py_buffer* view, size_t expected) except -1:
    """Writable contiguous view of ``out`` whose size must be ``expected`` bytes."""
    _get_writable(obj, view)
    if <size_t>view.len != expected:
        n = view.len
        PyBuffer_Release(view)
        raise ValueError(f"out has {n} bytes, but the decoded data has {expected} bytes")
    return 0


cdef object _own_bytes(PyObject** raw, Py_ssize_t n):
    """Shrink the fresh bytes object ``*raw`` to ``n`` bytes and return it as an object."""
    if _resize_bytes(raw, n) < 0:  # on failure *raw was freed and set to NULL
        raise MemoryError()
    result = <object>raw[0]
    Py_DECREF(result)  # hand the original reference over to ``result``
    raw[0] = NULL
    return result


cdef PyObject* _alloc_bytes(size_t n) except NULL:
    if n > <size_t>0x7FFFFFFFFFFFFFFF:
        raise MemoryError()
    cdef PyObject* raw = _new_bytes(NULL, <Py_ssize_t>n)
    if raw == NULL:
        raise MemoryError()
    return raw


# -- Zstd -------------------------------------------------------------------------------
def zstd_compress(src, int level=0, bint checksum=False):
    """Compress ``src`` into one Zstd frame (content size recorded; optional checksum)."""
    cdef Py_buffer sb
    cdef PyObject* raw = NULL
    cdef ZSTD_CCtx* cctx = NULL
    cdef size_t bound, r = 0
    cdef char* dst
    cdef bint nomem = False
    _get_src(src, &sb)
    try:
        bound = ZSTD_compressBound(<size_t>sb.len)
        raw = _alloc_bytes(bound)
        dst = PyBytes_AS_STRING(<object>raw)
        with nogil:
            cctx = ZSTD_createCCtx()
            if cctx == NULL:
                nomem = True
            else:
                r = ZSTD_CCtx_setParameter(cctx, CZ_ZSTD_C_LEVEL, level)
                if not ZSTD_isError(r):
                    r = ZSTD_CCtx_setParameter(cctx, CZ_ZSTD_C_CHECKSUM, 1 if checksum else 0)
                if not ZSTD_isError(r):
                    r = ZSTD_compress2(cctx, dst, bound, sb.buf, <size_t>sb.len)
                ZSTD_freeCCtx(cctx)
        if nomem:
            raise MemoryError("cannot create a Zstd compression context")
        if ZSTD_isError(r):
            raise RuntimeError(f"Zstd compression error: {ZSTD_getErrorName(r).decode()}")
        return _own_bytes(&raw, <Py_ssize_t>r)
    finally:
        Py_XDECREF(raw)
        PyBuffer_Release(&sb)


def zstd_content_size(src):
    """Total decompressed size of the Zstd frame(s) in ``src``; -1 when a frame does not
    record it; raises ValueError when ``src`` is not Zstd data."""
    cdef Py_buffer sb
    cdef unsigned long long n
    _get_src(src, &sb)
    try:
        with nogil:
            n = ZSTD_findDecompressedSize(sb.buf, <size_t>sb.len)
    finally:
        PyBuffer_Release(&sb)
    if n == CZ_ZSTD_ERROR:
        raise ValueError("Zstd decompression error: invalid or truncated frame")
    if n == CZ_ZSTD_UNKNOWN:
        return -1
    return n


cdef size_t _zstd_decode_into(char* dst, size_t cap, Py_buffer* sb) except? 0:
    """One Zstd decompression of ``sb`` into ``dst[:cap]`` without the GIL, with a fresh
    context; returns Zstd's result (a size, or an error code for ZSTD_isError)."""
    cdef ZSTD_DCtx* dctx
    cdef size_t r = 0
    cdef bint nomem = False
    with nogil:
        dctx = ZSTD_createDCtx()
        if dctx == NULL:
            nomem = True
        else:
            r = ZSTD_decompressDCtx(dctx, dst, cap, sb.buf, <size_t>sb.len)
            ZSTD_freeDCtx(dctx)
    if nomem:
        raise MemoryError("cannot create a Zstd decompression context")
    return r


cdef object _zstd_unsized(Py_buffer* sb, object out):
    """Decode frames that do not record their content size (streaming encoders), at
    most into ``out``'s size -- or the ratio bound, capped at MAX_DECODED_BYTES -- and
    report data that do not fit as corrupt, instead of growing without bound."""
    cdef Py_buffer ob
    cdef bint have_out = False
    cdef PyObject* raw = NULL
    cdef size_t cap, r = 0
    cdef char* dst
    cdef char dummy[1]
    try:
        if out is not None:
            _get_writable(out, &ob)
            have_out = True
            cap = <size_t>ob.len
            dst = <char*>ob.buf if cap else dummy
        else:
            cap = <size_t>sb.len * _ZSTD_MAX_RATIO + 1024
            if cap > <size_t>MAX_DECODED_BYTES:
                cap = <size_t>MAX_DECODED_BYTES
            raw = _alloc_bytes(cap)
            dst = PyBytes_AS_STRING(<object>raw)
        r = _zstd_decode_into(dst, cap, sb)
        if ZSTD_isError(r):
            msg = ZSTD_getErrorName(r).decode()
            if "too small" in msg:
                raise ValueError(f"Zstd decompression error: the data decode to more than {cap} bytes"
                                 + (" (the size of out)" if have_out else "; the input is corrupt"))
            raise RuntimeError(f"Zstd decompression error: {msg}")
        if have_out:
            if r != cap:
                raise ValueError(f"out has {cap} bytes, but the decoded data has {r} bytes")
            return out
        return _own_bytes(&raw, <Py_ssize_t>r)
    finally:
        Py_XDECREF(raw)
        if have_out:
            PyBuffer_Release(&ob)


def zstd_decompress(src, out=None):
    """Decompress Zstd frame(s); into ``out`` (exact size required) when given."""
    cdef Py_buffer sb
    cdef Py_buffer ob
    cdef bint have_out = False
    cdef PyObject* raw = NULL
    cdef unsigned long long total
    cdef size_t n, r = 0
    cdef char* dst
    _get_src(src, &sb)
    try:
        if sb.len == 0:
            raise ValueError("Zstd decompression error: empty input")
        with nogil:
            total = ZSTD_findDecompressedSize(sb.buf, <size_t>sb.len)
        if total == CZ_ZSTD_ERROR:
            raise RuntimeError("Zstd decompression error: invalid or truncated frame")
        if total == CZ_ZSTD_UNKNOWN:
            return _zstd_unsized(&sb, out)
        n = <size_t>total
        if out is not None:
            _get_out(out, &ob, n)
            have_out = True
            dst = <char*>ob.buf
        else:
            if n / _ZSTD_MAX_RATIO > <size_t>sb.len + 1:
                raise RuntimeError(
                    f"Zstd decompression error: frame claims {n} bytes from "
                    f"{sb.len} compressed bytes; the input is corrupt"
                )
            raw = _alloc_bytes(n)
            dst = PyBytes_AS_STRING(<object>raw)
        r = _zstd_decode_into(dst, n, &sb)
        if ZSTD_isError(r):
            raise RuntimeError(f"Zstd decompression error: {ZSTD_getErrorName(r).decode()}")
        if r != n:
            raise RuntimeError(f"Zstd decompression error: expected {n} bytes, got {r}")
        if have_out:
            return out
        return _own_bytes(&raw, <Py_ssize_t>n)
    finally:
        Py_XDECREF(raw)
        if have_out:
            PyBuffer_Release(&ob)
        PyBuffer_Release(&sb)


# -- LZ4 (numcodecs layout: little-endian uint32 size, then one raw LZ4 block) ----------
def lz4_compress(src, int acceleration=1):
    """Compress ``src`` as numcodecs' LZ4 codec does (4-byte LE size + LZ4 block)."""
    cdef Py_buffer sb
    cdef PyObject* raw = NULL
    cdef int bound, r = 0, n
    cdef uint8_t* dst
    _get_src(src, &sb)
    try:
        if sb.len > CZ_LZ4_MAX_INPUT:
            raise ValueError(
                f"LZ4 cannot compress {sb.len} bytes in one block (max {CZ_LZ4_MAX_INPUT})"
            )
        n = <int>sb.len
        bound = LZ4_compressBound(n)
        raw = _alloc_bytes(<size_t>bound + 4)
        dst = <uint8_t*>PyBytes_AS_STRING(<object>raw)
        dst[0] = <uint8_t>(n & 0xFF)
        dst[1] = <uint8_t>((n >> 8) & 0xFF)
        dst[2] = <uint8_t>((n >> 16) & 0xFF)
        dst[3] = <uint8_t>((n >> 24) & 0xFF)
        with nogil:
            r = LZ4_compress_fast(<const char*>sb.buf, <char*>(dst + 4), n, bound, acceleration)
        if r <= 0:
            raise RuntimeError(f"LZ4 compression error: {r}")
        return _own_bytes(&raw, <Py_ssize_t>r + 4)
    finally:
        Py_XDECREF(raw)
        PyBuffer_Release(&sb)


def lz4_decompress(src, out=None):
    """Decompress numcodecs' LZ4 layout; into ``out`` (exact size required) when given."""
    cdef Py_buffer sb
    cdef Py_buffer ob
    cdef bint have_out = False
    cdef PyObject* raw = NULL
    cdef const uint8_t* s
    cdef uint32_t n
    cdef size_t payload
    cdef int r = 0
    cdef char dummy[1]
    cdef char* dst
    _get_src(src, &sb)
    try:
        if sb.len < 5:
            raise ValueError("LZ4 decompression error: input too short")
        s = <const uint8_t*>sb.buf
        n = (<uint32_t>s[0]) | (<uint32_t>s[1] << 8) | (<uint32_t>s[2] << 16) | (<uint32_t>s[3] << 24)
        payload = <size_t>sb.len - 4
        if n > <uint32_t>CZ_LZ4_MAX_INPUT or payload > <size_t>0x7FFFFFFF:
            raise RuntimeError(f"LZ4 decompression error: invalid size header ({n} bytes)")
        if out is not None:
            _get_out(out, &ob, n)
            have_out = True
            dst = <char*>ob.buf
        else:
            if n > payload * _LZ4_MAX_RATIO + 64:
                raise RuntimeError(
                    f"LZ4 decompression error: header claims {n} bytes from {payload} "
                    "compressed bytes; the input is corrupt"
                )
            raw = _alloc_bytes(n)
            dst = PyBytes_AS_STRING(<object>raw)
        if n == 0:
            dst = dummy
        with nogil:
            r = LZ4_decompress_safe(<const char*>(s + 4), dst, <int>payload, <int>n)
        if r < 0:
            raise RuntimeError("LZ4 decompression error: corrupt or truncated input")
        if <uint32_t>r != n:
            raise RuntimeError(f"LZ4 decompression error: expected {n} bytes, got {r}")
        if have_out:
            return out
        return _own_bytes(&raw, <Py_ssize_t>n)
    finally:
        Py_XDECREF(raw)
        if have_out:
            PyBuffer_Release(&ob)
        PyBuffer_Release(&sb)


# -- zlib (decode only: encoding goes through CPython's zlib for numcodecs-identical bytes)
def zlib_decompress_into(src, out):
    """Inflate a zlib stream straight into ``out``, which must match the size exactly."""
    cdef Py_buffer sb
    cdef Py_buffer ob
    cdef size_t dlen, slen, expected
    cdef int32_t r
    cdef uint8_t dummy[1]
    _get_src(src, &sb)
    try:
        _get_writable(out, &ob)
        try:
            expected = <size_t>ob.len
            dlen = expected
            slen = <size_t>sb.len
            with nogil:
                r = zng_uncompress2(<uint8_t*>ob.buf if expected else dummy, &dlen,
                                    <const uint8_t*>sb.buf, &slen)
            if r == -5:  # Z_BUF_ERROR: input ended early, or output does not fit
                raise ValueError(
                    "zlib decompression error: truncated input, or decoded data larger "
                    f"than out ({expected} bytes)"
                )
            if r != 0:
                raise RuntimeError(f"zlib decompression error: invalid data (code {r})")
            if expected == 0 and dlen != 0:
                dlen = 1
            if dlen != expected:
                raise ValueError(
                    f"out has {expected} bytes, but the decoded data has {dlen} bytes"
                )
        finally:
            PyBuffer_Release(&ob)
    finally:
        PyBuffer_Release(&sb)
    return out
