# The Blosc frame validator and its header fields (csrc/blosc1.h, csrc/blosc1_decode.c;
# the rules are in csrc/blosc1_frame.h), declared once for the codec (_blosc) and the
# read kernel (_copy).
from libc.stdint cimport int32_t, uint8_t

cdef extern from "blosc1.h" nogil:
    ctypedef struct cz_blosc_frame:
        int32_t nbytes
        int32_t cbytes
        int32_t blocksize
        int typesize
        int flags
        int version
    int cz_blosc1_check_frame(const uint8_t *src, size_t n, cz_blosc_frame *fi, char *msg,
                              size_t msglen)
    int32_t cz_blosc1_bitshuffle_tail(const cz_blosc_frame *fi)
