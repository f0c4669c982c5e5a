# cython: language_level=3
"""Example: a Cython extension calling chunkzip's nogil C kernels and C API."""
from libc.stdint cimport int64_t, uint32_t
from libc.stdlib cimport free, malloc

from chunkzip._ext.libchunkzip cimport (cz_blosc_compress, cz_blosc_decompress,
                                        cz_blosc_max_compressed_size, cz_checksum_init, cz_crc32c,
                                        cz_last_error)

cz_checksum_init()


def roundtrip(const unsigned char[::1] data, int typesize=4, cname=b"lz4"):
    """Compress ``data`` into a Blosc1 frame and back without the GIL; return (frame, crc32c)."""
    cdef size_t n = data.shape[0]
    cdef size_t cap = cz_blosc_max_compressed_size(n)
    cdef const char *cn = cname
    cdef char *frame = <char *>malloc(cap)
    cdef char *back = <char *>malloc(n if n else 1)
    cdef int64_t csize, dsize
    cdef uint32_t crc
    if frame == NULL or back == NULL:
        free(frame)
        free(back)
        raise MemoryError()
    try:
        with nogil:
            csize = cz_blosc_compress(&data[0] if n else NULL, n, typesize, cn, 5, 1, 0, frame, cap)
            dsize = cz_blosc_decompress(frame, csize, back, n) if csize > 0 else -1
            crc = cz_crc32c(0, back, n) if dsize >= 0 else 0
        if csize < 0 or dsize != <int64_t>n:
            raise RuntimeError(cz_last_error().decode())
        return frame[:csize], crc
    finally:
        free(frame)
        free(back)
