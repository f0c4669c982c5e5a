# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Typed kernels of the variable-length ("vlen") object codecs.

Wire format (identical to numcodecs ``VLenUTF8`` / ``VLenBytes`` / ``VLenArray``)::

    uint32 LE  item count N
    N times:   uint32 LE  byte length L, then L bytes of payload

The payload is UTF-8 text (vlen-utf8), raw bytes (vlen-bytes) or the raw memory of a
1-D array of a fixed dtype (vlen-array). ``None`` items encode as zero-length payloads.

The Python layer (``chunkzip.codecs.vlen``) normalises inputs: encoders receive a 1-D
object ndarray, decoders a 1-D contiguous uint8 buffer and an optional 1-D contiguous
object ndarray to fill. Every buffer is validated completely (a pass without any Python
work) before anything is allocated, so a corrupt or hostile buffer can neither crash the
process nor make it allocate more than a small multiple of the buffer's own size.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_Check, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_Check
from libc.stdint cimport uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cimport numpy as cnp
import numpy as np

cnp.import_array()


cdef extern from "numpy/arrayobject.h":
    # not declared by numpy's pxd because it steals a reference to ``descr``
    object PyArray_Empty(int nd, cnp.npy_intp* dims, cnp.PyArray_Descr* descr, int fortran)


cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object text, Py_ssize_t* size) except NULL
    object PyUnicode_DecodeUTF8(const char* data, Py_ssize_t size, const char* errors)


cdef enum:
    HEADER = 4
    ERR_HEADER = -1       # fewer than 4 bytes
    ERR_COUNT = -2        # count cannot fit in the buffer
    ERR_ITEM_HEADER = -3  # an item's length field runs past the end
    ERR_ITEM_DATA = -4    # an item's payload runs past the end
    ERR_ITEMSIZE = -5     # payload not a whole number of elements (vlen-array)

cdef extern from *:
    """
    #define CZ_EXCEEDS_U32(x) ((unsigned long long)(x) > 0xFFFFFFFFull)
    """
    bint CZ_EXCEEDS_U32(Py_ssize_t x) nogil


cdef inline uint32_t load_le32(const unsigned char* p) noexcept nogil:
    return (<uint32_t>p[0]) | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)


cdef inline void store_le32(unsigned char* p, uint32_t v) noexcept nogil:
    p[0] = v & 0xFF
    p[1] = (v >> 8) & 0xFF
    p[2] = (v >> 16) & 0xFF
    p[3] = (v >> 24) & 0xFF


cdef Py_ssize_t scan(const unsigned char* p, Py_ssize_t size, Py_ssize_t itemsize,
                     Py_ssize_t* where) noexcept nogil:
    """Validate the whole buffer; return the item count or a negative ERR_* code.

    ``where`` receives the index of the offending item on item errors.
    """
    cdef uint64_t n, length
    cdef Py_ssize_t i, pos
    if size < HEADER:
        return ERR_HEADER
    n = load_le32(p)
    # every item needs at least its 4-byte length field
    if n > <uint64_t>((size - HEADER) // HEADER):
        return ERR_COUNT
    pos = HEADER
    for i in range(<Py_ssize_t>n):
        if size - pos < HEADER:
            where[0] = i
            return ERR_ITEM_HEADER
        length = load_le32(p + pos)
        pos += HEADER
        if length > <uint64_t>(size - pos):
            where[0] = i
            return ERR_ITEM_DATA
        if itemsize > 1 and length % <uint64_t>itemsize != 0:
            where[0] = i
            return ERR_ITEMSIZE
        pos += <Py_ssize_t>length
    return <Py_ssize_t>n


cdef Py_ssize_t checked_count(const unsigned char[::1] buf, Py_ssize_t itemsize) except -1:
    cdef Py_ssize_t where = 0
    cdef Py_ssize_t size = buf.shape[0]
    cdef Py_ssize_t n
    cdef const unsigned char* p = &buf[0] if size > 0 else NULL
    if size < HEADER:
        n = ERR_HEADER
    else:
        n = scan(p, size, itemsize, &where)
    if n >= 0:
        return n
    if n == ERR_HEADER:
        raise ValueError(f"corrupt vlen buffer: {size} bytes, too short for the 4-byte header")
    if n == ERR_COUNT:
        raise ValueError(
            f"corrupt vlen buffer: header claims {load_le32(p)} items, "
            f"more than {size} bytes can hold"
        )
    if n == ERR_ITEM_HEADER:
        raise ValueError(f"corrupt vlen buffer: length of item {where} runs past the end of the data")
    if n == ERR_ITEM_DATA:
        raise ValueError(f"corrupt vlen buffer: data of item {where} runs past the end of the data")
    raise ValueError(
        f"corrupt vlen buffer: byte length of item {where} is not a multiple of the "
        f"item size {itemsize}"
    )


cdef cnp.ndarray prepare_out(Py_ssize_t n, object out):
    cdef cnp.ndarray arr
    if out is None:
        return np.empty(n, dtype=object)
    arr = <cnp.ndarray?>out
    if arr.dtype != np.dtype(object) or arr.ndim != 1 or not arr.flags.c_contiguous:
        raise ValueError("out must be a 1-D contiguous object array")
    if arr.shape[0] != n:
        raise ValueError(f"out has {arr.shape[0]} items but the buffer holds {n}")
    if not arr.flags.writeable:
        raise ValueError("out is read-only")
    return arr


cdef inline void put(PyObject** data, Py_ssize_t i, object value) noexcept:
    cdef PyObject* old = data[i]
    Py_INCREF(value)
    data[i] = <PyObject*>value
    Py_XDECREF(old)


cdef Py_ssize_t check_items(cnp.ndarray items) except -1:
    if items.dtype != np.dtype(object) or items.ndim != 1 or not items.flags.c_contiguous:
        raise TypeError("expected a 1-D contiguous object array")
    if CZ_EXCEEDS_U32(items.shape[0]):
        raise ValueError(f"too many items for the vlen format: {items.shape[0]}")
    return items.shape[0]


cdef bytes write_buffer(Py_ssize_t n, const char** ptrs, const Py_ssize_t* lens, Py_ssize_t total):
    cdef bytes result = PyBytes_FromStringAndSize(NULL, total)
    cdef unsigned char* dst = <unsigned char*>PyBytes_AS_STRING(result)
    cdef Py_ssize_t i, pos = HEADER
    store_le32(dst, <uint32_t>n)
    for i in range(n):
        store_le32(dst + pos, <uint32_t>lens[i])
        pos += HEADER
        if lens[i]:
            memcpy(dst + pos, ptrs[i], lens[i])
            pos += lens[i]
    return result


cdef bytes encode_text_or_bytes(cnp.ndarray items, bint text):
    cdef Py_ssize_t n = check_items(items)
    cdef PyObject** data = <PyObject**>cnp.PyArray_DATA(items)
    cdef Py_ssize_t i, length, total = HEADER + HEADER * n
    cdef const char** ptrs = <const char**>malloc(max(n, 1) * sizeof(char*))
    cdef Py_ssize_t* lens = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef object item
    try:
        if ptrs == NULL or lens == NULL:
            raise MemoryError()
        for i in range(n):
            item = <object>data[i]
            if item is None:
                ptrs[i] = NULL
                length = 0
            elif text and PyUnicode_Check(item):
                ptrs[i] = PyUnicode_AsUTF8AndSize(item, &length)
            elif not text and PyBytes_Check(item):
                ptrs[i] = PyBytes_AS_STRING(item)
                length = PyBytes_GET_SIZE(item)
            else:
                raise TypeError(
                    f"item {i}: expected {'str' if text else 'bytes'} or None, "
                    f"got {type(item).__name__}"
                )
            if CZ_EXCEEDS_U32(length):
                raise ValueError(f"item {i} is too long for the vlen format ({length} bytes)")
            lens[i] = length
            total += length
        # The item pointers stay valid: ``items`` holds references to every object and
        # the GIL is held throughout, so nothing can replace them before the copy.
        return write_buffer(n, ptrs, lens, total)
    finally:
        free(ptrs)
        free(lens)


def encode_utf8(cnp.ndarray items):
    """Encode a 1-D object array of ``str`` (or None, written as "") as vlen-utf8 bytes."""
    return encode_text_or_bytes(items, True)


def encode_bytes(cnp.ndarray items):
    """Encode a 1-D object array of ``bytes`` (or None, written as b"") as vlen-bytes."""
    return encode_text_or_bytes(items, False)


def encode_array(cnp.ndarray items, cnp.dtype dtype):
    """Encode a 1-D object array of 1-D array-likes (or None) as vlen-array bytes.

    Each item is converted with ``np.ascontiguousarray(item, dtype)``; a scalar counts as
    one element, an item of two or more dimensions is an error.
    """
    cdef Py_ssize_t n = check_items(items)
    cdef PyObject** data = <PyObject**>cnp.PyArray_DATA(items)
    cdef Py_ssize_t i, length, total = HEADER + HEADER * n
    cdef list keep = [None] * n
    cdef const char** ptrs = <const char**>malloc(max(n, 1) * sizeof(char*))
    cdef Py_ssize_t* lens = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef object item
    cdef cnp.ndarray arr
    try:
        if ptrs == NULL or lens == NULL:
            raise MemoryError()
        for i in range(n):
            item = <object>data[i]
            if item is None:
                ptrs[i] = NULL
                lens[i] = 0
                continue
            if (cnp.PyArray_Check(item) and cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>item)
                    and <PyObject*>cnp.PyArray_DESCR(<cnp.ndarray>item) == <PyObject*>dtype):
                arr = <cnp.ndarray>item
            else:
                arr = np.ascontiguousarray(item, dtype=dtype)
            if arr.ndim > 1:
                raise ValueError(f"item {i}: only 1-dimensional arrays are supported, got shape {(<object>arr).shape}")
            keep[i] = arr
            length = arr.nbytes
            if CZ_EXCEEDS_U32(length):
                raise ValueError(f"item {i} is too long for the vlen format ({length} bytes)")
            ptrs[i] = <const char*>cnp.PyArray_DATA(arr)
            lens[i] = length
            total += length
        return write_buffer(n, ptrs, lens, total)
    finally:
        free(ptrs)
        free(lens)


def decode_utf8(const unsigned char[::1] buf, out=None):
    """Decode vlen-utf8 ``buf`` into a new (or the given 1-D) object array of ``str``."""
    cdef Py_ssize_t n = checked_count(buf, 1)
    cdef cnp.ndarray result = prepare_out(n, out)
    cdef PyObject** dst = <PyObject**>cnp.PyArray_DATA(result)
    cdef const unsigned char* p
    cdef Py_ssize_t i = 0, length, pos = HEADER
    if n == 0:
        return result
    p = &buf[0]
    try:
        for i in range(n):
            length = load_le32(p + pos)
            pos += HEADER
            put(dst, i, PyUnicode_DecodeUTF8(<const char*>(p + pos), length, "strict"))
            pos += length
    except UnicodeDecodeError as e:
        raise ValueError(f"corrupt vlen-utf8 buffer: item {i} is not valid UTF-8 ({e.reason})") from e
    return result


def decode_bytes(const unsigned char[::1] buf, out=None):
    """Decode vlen-bytes ``buf`` into a new (or the given 1-D) object array of ``bytes``."""
    cdef Py_ssize_t n = checked_count(buf, 1)
    cdef cnp.ndarray result = prepare_out(n, out)
    cdef PyObject** dst = <PyObject**>cnp.PyArray_DATA(result)
    cdef const unsigned char* p
    cdef Py_ssize_t i, length, pos = HEADER
    if n == 0:
        return result
    p = &buf[0]
    for i in range(n):
        length = load_le32(p + pos)
        pos += HEADER
        put(dst, i, PyBytes_FromStringAndSize(<const char*>(p + pos), length))
        pos += length
    return result


def decode_array(const unsigned char[::1] buf, cnp.dtype dtype, out=None):
    """Decode vlen-array ``buf``: each item becomes a new 1-D array of ``dtype``."""
    cdef Py_ssize_t itemsize = dtype.itemsize
    if itemsize <= 0 or dtype.hasobject:
        raise ValueError(f"vlen-array needs a fixed-size dtype without objects, got {dtype}")
    cdef Py_ssize_t n = checked_count(buf, itemsize)
    cdef cnp.ndarray result = prepare_out(n, out)
    cdef PyObject** dst = <PyObject**>cnp.PyArray_DATA(result)
    cdef const unsigned char* p
    cdef Py_ssize_t i, length, pos = HEADER
    cdef cnp.npy_intp dim
    cdef cnp.ndarray arr
    if n == 0:
        return result
    p = &buf[0]
    for i in range(n):
        length = load_le32(p + pos)
        pos += HEADER
        dim = length // itemsize
        Py_INCREF(dtype)  # PyArray_Empty steals a reference to the descriptor
        arr = PyArray_Empty(1, &dim, <cnp.PyArray_Descr*>dtype, 0)
        if length:
            memcpy(cnp.PyArray_DATA(arr), p + pos, length)
        put(dst, i, arr)
        pos += length
    return result
