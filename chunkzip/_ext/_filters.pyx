# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Kernels for chunkzip's numeric filters and checksum codecs.

Delta encode/decode loops over fused numeric types, CRC32C and Fletcher-32 (C in
``csrc/checksum.c``), checksum framing, and the buffer normalisation shared by the
filter and checksum codecs. Every loop runs without the GIL.
"""
import numpy as np

cimport numpy as cnp
from cpython.buffer cimport PyBUF_ANY_CONTIGUOUS, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

cnp.import_array()


cdef extern from "checksum.h":
    void cz_checksum_init() nogil
    uint32_t cz_crc32c(uint32_t crc, const void* data, size_t length) nogil
    uint32_t cz_crc32c_sw(uint32_t crc, const void* data, size_t length) nogil
    int cz_crc32c_hw_enabled() nogil
    uint32_t cz_fletcher32(const void* data, size_t length) nogil
    uint32_t cz_jenkins_lookup3(const void* data, size_t length, uint32_t initval) nogil


cz_checksum_init()


# -- buffers ----------------------------------------------------------------------------
def as_byte_array(buf) -> np.ndarray:
    """Return a 1-D ``uint8`` view of ``buf`` (ndarray or any buffer-protocol object).

    No copy for contiguous input (C or Fortran order, memory order kept); non-contiguous
    ndarrays are copied in C order. Object arrays are refused.
    """
    cdef cnp.ndarray arr
    if isinstance(buf, np.ndarray):
        arr = <cnp.ndarray>buf
    else:
        try:
            arr = np.asarray(memoryview(buf))
        except TypeError:
            raise TypeError(
                f"expected an ndarray or a bytes-like object, got {type(buf).__name__}"
            ) from None
        except (ValueError, NotImplementedError):
            arr = np.frombuffer(buf, dtype=np.uint8)
    if arr.dtype.hasobject:
        raise TypeError("object arrays cannot be used as a raw buffer")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_IS_F_CONTIGUOUS(arr)):
        arr = np.ascontiguousarray(arr)
    return arr.reshape(-1, order="A").view(np.uint8)


def as_typed_array(buf, dtype) -> np.ndarray:
    """Return a 1-D view of ``buf``'s bytes as ``dtype`` (ValueError if sizes don't fit)."""
    b = as_byte_array(buf)
    dt = np.dtype(dtype)
    if dt.itemsize and b.nbytes % dt.itemsize:
        raise ValueError(
            f"buffer of {b.nbytes} bytes is not a whole number of {dt.str} items"
        )
    return b.view(dt)


def out_byte_array(out, Py_ssize_t nbytes) -> np.ndarray:
    """Return a writable 1-D ``uint8`` view of ``out``; ValueError unless it has ``nbytes``."""
    cdef cnp.ndarray arr
    if isinstance(out, np.ndarray):
        arr = <cnp.ndarray>out
    else:
        try:
            arr = np.asarray(memoryview(out))
        except (TypeError, ValueError, NotImplementedError):
            raise ValueError(
                f"out must be a writable contiguous buffer, got {type(out).__name__}"
            ) from None
    if arr.dtype.hasobject:
        raise ValueError("out must not be an object array")
    if not arr.flags.writeable:
        raise ValueError("out is read-only")
    if not (cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_IS_F_CONTIGUOUS(arr)):
        raise ValueError("out must be contiguous")
    if arr.nbytes != nbytes:
        raise ValueError(f"out has {arr.nbytes} bytes, but the decoded data has {nbytes} bytes")
    return arr.reshape(-1, order="A").view(np.uint8)


def copy_to_out(src, out):
    """Copy the bytes of ``src`` into ``out`` (sizes must match) and return ``out``."""
    s = as_byte_array(src)
    o = out_byte_array(out, s.nbytes)
    o[...] = s
    return out


# -- Delta --------------------------------------------------------------------------------
# Integer data is processed through its unsigned twin, whose wrap-around arithmetic is
# defined in C and equal to NumPy's for the signed type.
ctypedef fused delta_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    float
    double


cdef inline void _delta_encode(const delta_t* src, delta_t* dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef delta_t prev, cur
    if n <= 0:
        return
    if <const void*>dst == <const void*>src:
        # in place: walk backwards so every source value is read before it is replaced
        for i in range(n - 1, 0, -1):
            dst[i] = <delta_t>(dst[i] - dst[i - 1])
        return
    # separate buffers: a plain loop the compiler vectorises (with a runtime overlap check)
    dst[0] = src[0]
    for i in range(1, n):
        dst[i] = <delta_t>(src[i] - src[i - 1])


cdef inline void _delta_decode(const delta_t* src, delta_t* dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef delta_t acc
    if n <= 0:
        return
    acc = src[0]
    dst[0] = acc
    for i in range(1, n):
        acc = <delta_t>(acc + src[i])
        dst[i] = acc


def delta_encode(const delta_t[::1] src, delta_t[::1] dst):
    """``dst[0] = src[0]; dst[i] = src[i] - src[i-1]`` (``dst`` may be ``src``)."""
    if dst.shape[0] != src.shape[0]:
        raise ValueError("src and dst differ in length")
    if src.shape[0]:
        with nogil:
            _delta_encode(&src[0], &dst[0], src.shape[0])


def delta_decode(const delta_t[::1] src, delta_t[::1] dst):
    """Running sum: the inverse of :func:`delta_encode` (``dst`` may be ``src``)."""
    if dst.shape[0] != src.shape[0]:
        raise ValueError("src and dst differ in length")
    if src.shape[0]:
        with nogil:
            _delta_decode(&src[0], &dst[0], src.shape[0])


# -- checksums ----------------------------------------------------------------------------
def crc32c(buf, uint32_t value=0) -> int:
    """CRC32C (Castagnoli) of ``buf``, continuing from ``value`` (0 for a new checksum)."""
    cdef Py_buffer view
    cdef uint32_t r
    PyObject_GetBuffer(_contig(buf), &view, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            r = cz_crc32c(value, view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return r


def crc32c_software(buf, uint32_t value=0) -> int:
    """CRC32C through the portable table-driven path (for tests and benchmarks)."""
    cdef Py_buffer view
    cdef uint32_t r
    PyObject_GetBuffer(_contig(buf), &view, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            r = cz_crc32c_sw(value, view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return r


def crc32c_hardware() -> bool:
    """True when :func:`crc32c` uses the CPU's CRC32 instruction (chosen at run time)."""
    return bool(cz_crc32c_hw_enabled())


def fletcher32(buf) -> int:
    """Fletcher-32 of ``buf`` exactly as HDF5 and numcodecs compute it."""
    cdef Py_buffer view
    cdef uint32_t r
    PyObject_GetBuffer(_contig(buf), &view, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            r = cz_fletcher32(view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return r


def jenkins_lookup3(buf, uint32_t initval=0) -> int:
    """Bob Jenkins' lookup3 hash of ``buf`` as HDF5 and numcodecs compute it."""
    cdef Py_buffer view
    cdef uint32_t r
    PyObject_GetBuffer(_contig(buf), &view, PyBUF_ANY_CONTIGUOUS)
    try:
        with nogil:
            r = cz_jenkins_lookup3(view.buf, <size_t>view.len, initval)
    finally:
        PyBuffer_Release(&view)
    return r


cdef object _contig(object buf):
    if isinstance(buf, np.ndarray):
        return as_byte_array(buf)
    return buf


def attach_checksum(payload, uint32_t value, bint at_end) -> bytes:
    """Return ``payload`` with ``value`` as 4 little-endian bytes before or after it."""
    cdef Py_buffer view
    cdef bytes result
    cdef uint8_t* dst
    cdef uint8_t* head
    PyObject_GetBuffer(_contig(payload), &view, PyBUF_ANY_CONTIGUOUS)
    try:
        result = PyBytes_FromStringAndSize(NULL, view.len + 4)
        dst = <uint8_t*>PyBytes_AS_STRING(result)
        head = dst + view.len if at_end else dst
        head[0] = <uint8_t>(value & 0xFF)
        head[1] = <uint8_t>((value >> 8) & 0xFF)
        head[2] = <uint8_t>((value >> 16) & 0xFF)
        head[3] = <uint8_t>((value >> 24) & 0xFF)
        with nogil:
            memcpy(dst if at_end else dst + 4, view.buf, <size_t>view.len)
    finally:
        PyBuffer_Release(&view)
    return result
