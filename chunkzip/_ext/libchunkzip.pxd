# The C API of chunkzip (csrc/chunkzip.h, libchunkzip.so) and its codec kernels, for Cython.
#
#     from chunkzip._ext.libchunkzip cimport cz_blosc_compress, cz_crc32c
#
# Build the extension with include_dirs=[chunkzip.get_include()],
# library_dirs=[chunkzip.get_library_dir()], libraries=["chunkzip"] and the library
# directory as runtime_library_dirs (see examples/cython).  Every function is nogil:
# none touches Python objects, and the kernels are thread safe.
from libc.stddef cimport size_t
from libc.stdint cimport int64_t, uint8_t, uint32_t


cdef extern from "chunkzip.h" nogil:
    enum:
        CZ_MAX_NDIM
        CZ_EINVAL
        CZ_ENOTFOUND
        CZ_EMETADATA
        CZ_EUNSUPPORTED
        CZ_EBOUNDS
        CZ_EREADONLY
        CZ_ECORRUPT
        CZ_EIO
        CZ_ENOMEM
        CZ_EDEST
    const char *cz_version()
    const char *cz_last_error()
    int cz_last_error_code()
    size_t cz_blosc_max_compressed_size(size_t nbytes)
    int64_t cz_blosc_compress(const void *src, size_t nbytes, size_t typesize, const char *cname,
                              int clevel, int shuffle, size_t blocksize, void *dst, size_t dst_capacity)
    int64_t cz_blosc_decompress(const void *src, size_t srcsize, void *dst, size_t dst_capacity)
    int64_t cz_blosc_nbytes(const void *src, size_t srcsize)
    ctypedef struct cz_array:
        pass
    cz_array *cz_open(const char *path, const char *mode)
    int cz_ndim(const cz_array *a)
    int cz_shape(const cz_array *a, int64_t *shape)
    int cz_chunks(const cz_array *a, int64_t *chunks)
    const char *cz_dtype(const cz_array *a)
    int cz_itemsize(const cz_array *a)
    int cz_read(cz_array *a, const int64_t *start, const int64_t *stop, void *out)
    int cz_write(cz_array *a, const int64_t *start, const int64_t *stop, const void *src)
    void cz_close(cz_array *a)


cdef extern from "chunkzip/shuffle.h" nogil:
    void cz_byte_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_byte_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_bit_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)
    void cz_bit_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize)


cdef extern from "chunkzip/checksum.h" nogil:
    void cz_checksum_init()
    uint32_t cz_crc32c(uint32_t crc, const void *data, size_t len)
    uint32_t cz_fletcher32(const void *data, size_t len)


cdef extern from "chunkzip/blosc1.h" nogil:
    int64_t cz_blosc1_compress(const void *src, size_t nbytes, void *dest, size_t destsize,
                               int clevel, int doshuffle, size_t typesize, int compcode,
                               size_t blocksize, int splitmode)
