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
