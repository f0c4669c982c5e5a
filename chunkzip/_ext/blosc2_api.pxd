# c-blosc2's C API as chunkzip uses it (the header ships in the python-blosc2 wheel).
# One declaration for every extension that calls it.
from libc.stdint cimport int16_t, int32_t


cdef extern from "blosc2.h" nogil:
    ctypedef struct blosc2_context:
        pass
    ctypedef struct blosc2_dparams:
        int16_t nthreads
        void *schunk
        void *postfilter
        void *postparams
        int32_t typesize
    blosc2_context *blosc2_create_dctx(blosc2_dparams dparams)
    void blosc2_free_ctx(blosc2_context *context)
    int blosc2_decompress_ctx(blosc2_context *context, const void *src, int32_t srcsize,
                              void *dest, int32_t destsize)
    int blosc2_getitem_ctx(blosc2_context *context, const void *src, int32_t srcsize,
                           int start, int nitems, void *dest, int32_t destsize)
    int blosc2_getitem_bytes_ctx(blosc2_context *context, const void *src, int32_t srcsize,
                                 int32_t start, int32_t nbytes, void *dest, int32_t destsize)
    int blosc1_cbuffer_validate(const void *cbuffer, size_t cbytes, size_t *nbytes)
    void blosc2_init()


cdef inline blosc2_context *new_dctx(int nthreads, int typesize) noexcept nogil:
    """A fresh decompression context (no postfilter, no super-chunk); NULL on failure."""
    cdef blosc2_dparams dp
    dp.nthreads = <int16_t>(1 if nthreads < 1 else (nthreads if nthreads < 256 else 256))
    dp.schunk = NULL
    dp.postfilter = NULL
    dp.postparams = NULL
    dp.typesize = <int32_t>(typesize if typesize > 0 else 1)
    return blosc2_create_dctx(dp)
