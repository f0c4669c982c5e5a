# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Byte shuffle and bit shuffle of contiguous buffers (kernels in csrc/shuffle.c).

Every function takes any C- or F-contiguous buffer (bytes, bytearray, memoryview,
ndarray of any non-object dtype, array.array, ...), treats it as a flat run of bytes
made of ``nbytes // typesize`` elements of ``typesize`` bytes, and returns a
``numpy.ndarray`` of ``uint8`` of the same length -- or ``out``, filled, when given
(``out`` must be a writable contiguous buffer of the same byte length).

* ``byte_shuffle``: ``dest[j*n + i] = src[i*typesize + j]``; the ``nbytes % typesize``
  trailing bytes are copied unchanged.  ``typesize == 1`` is a copy.
* ``bit_shuffle``: the bitshuffle-library layout (as Blosc uses it) applied to the first
  ``(n // 8) * 8`` elements; the remaining bytes are copied unchanged.

The ``*_unshuffle`` functions are the exact inverses.  The GIL is released around the
kernels.  ``out`` may be the same buffer as ``src`` (the source is then copied first).
"""
import numpy as np

from libc.stdint cimport uint8_t, uintptr_t
from libc.string cimport memcpy
from libc.stdlib cimport malloc, free

cdef extern from "shuffle.h" nogil:
    void cz_byte_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_byte_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_bit_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_bit_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)

ctypedef void (*kernel_t)(const uint8_t *src, uint8_t *dest, size_t nbytes,
                          size_t typesize) noexcept nogil


from chunkzip._ext.buffers import as_u8 as _as_u8

cdef object _run(kernel_t kernel, object src, object typesize, object out):
    cdef Py_ssize_t ts = typesize
    if ts < 1:
        raise ValueError(f"typesize must be >= 1, got {typesize}")
    cdef const uint8_t[::1] s = _as_u8(src)
    cdef Py_ssize_t n = s.shape[0]
    cdef uint8_t[::1] d
    cdef uint8_t *tmp = NULL
    cdef const uint8_t *sp
    result = None
    if out is None:
        result = np.empty(n, dtype=np.uint8)
        d = result
    else:
        d = _as_u8(out, writable=True)
        if d.shape[0] != n:
            raise ValueError(f"out has {d.shape[0]} bytes, expected {n}")
        result = out
    if n == 0:
        return result
    sp = &s[0]
    # Overlapping input and output (e.g. in-place): work from a private copy.
    if (<uintptr_t>sp < <uintptr_t>(&d[0]) + <uintptr_t>n and
            <uintptr_t>(&d[0]) < <uintptr_t>sp + <uintptr_t>n):
        tmp = <uint8_t *>malloc(<size_t>n)
        if tmp == NULL:
            raise MemoryError()
    try:
        with nogil:
            if tmp != NULL:
                memcpy(tmp, sp, <size_t>n)
                sp = tmp
            kernel(sp, &d[0], <size_t>n, <size_t>ts)
    finally:
        free(tmp)
    return result


def byte_shuffle(src, typesize, out=None):
    """Byte-shuffle ``src`` (elements of ``typesize`` bytes); see the module docstring."""
    return _run(cz_byte_shuffle, src, typesize, out)


def byte_unshuffle(src, typesize, out=None):
    """Inverse of :func:`byte_shuffle`."""
    return _run(cz_byte_unshuffle, src, typesize, out)


def bit_shuffle(src, typesize, out=None):
    """Bit-shuffle ``src`` (elements of ``typesize`` bytes); see the module docstring."""
    return _run(cz_bit_shuffle, src, typesize, out)


def bit_unshuffle(src, typesize, out=None):
    """Inverse of :func:`bit_shuffle`."""
    return _run(cz_bit_unshuffle, src, typesize, out)
