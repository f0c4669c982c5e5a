/* The one validator of Blosc chunks, shared by the Blosc codec (_ext/_blosc.pyx) and the
 * nogil read kernel (_ext/_copy.pyx), so that both accept exactly the same frames.
 *
 * A chunk of the Zarr `blosc` codec is a Blosc1 frame as c-blosc 1.x (numcodecs,
 * zarr-python, tensorstore) writes and reads it: format version 2 (c-blosc 1.21 refuses
 * version 1 frames too), a 16-byte header,
 *
 *   byte 0      format version (2)    byte 1   compressor format version (1)
 *   byte 2      flags: 0x01 byte shuffle, 0x02 memcpyed, 0x04 bit shuffle,
 *               0x10 not split, bits 5-7 compressor (0 blosclz, 1 lz4, 3 zlib, 4 zstd)
 *   byte 3      typesize (>= 1)
 *   bytes 4-15  nbytes, blocksize, cbytes (little-endian int32)
 *
 * then, unless memcpyed, one int32 start offset per block.  Newer c-blosc2 frames
 * (extended header, "special value" chunks whose contents are zeros, NaNs or
 * *uninitialised memory*, lazy chunks) are not Zarr `blosc` chunks and are refused.
 *
 * Plain C, no allocation, no global state: callable without the GIL.
 */
#ifndef CZ_BLOSC1_FRAME_H
#define CZ_BLOSC1_FRAME_H

#include <stdint.h>

typedef struct {
    int64_t nbytes;     /* decoded size */
    int64_t cbytes;     /* frame size */
    int64_t blocksize;
    int typesize;
    int flags;
    int version;
} cz_frame_info;

enum {
    CZ_FRAME_OK = 0,
    CZ_FRAME_SHORT,       /* fewer than 16 bytes */
    CZ_FRAME_VERSION,     /* not a Blosc1 frame (format version) */
    CZ_FRAME_FLAGS,       /* flags no Blosc1 writer sets (e.g. an extended header) */
    CZ_FRAME_COMPRESSOR,  /* unknown compressor code */
    CZ_FRAME_TYPESIZE,    /* typesize 0 */
    CZ_FRAME_SIZES,       /* negative or over-limit sizes */
    CZ_FRAME_EXPECTED,    /* nbytes differs from the chunk's decoded size */
    CZ_FRAME_CBYTES,      /* cbytes differs from the buffer length */
    CZ_FRAME_BLOCKSIZE,   /* blocksize 0 or larger than nbytes */
    CZ_FRAME_MEMCPYED,    /* memcpyed frame whose size is not nbytes + 16 */
    CZ_FRAME_OFFSETS,     /* block start table outside the frame */
    CZ_FRAME_RATIO,       /* nbytes impossible for a frame of cbytes */
    CZ_FRAME_STREAMS,     /* a block's stream sizes outside the frame, or not positive */
    CZ_FRAME_NCODES
};

/* Largest decoded size of one frame (c-blosc's BLOSC_MAX_BUFFERSIZE). */
#define CZ_FRAME_MAX_NBYTES ((int64_t)INT32_MAX - 16)
/* Legitimate Blosc1 frames cannot expand more than this (zstd of constant data is the
 * extreme: a few bytes per block of up to 256 KiB). */
#define CZ_FRAME_MAX_RATIO 65536

static inline int32_t cz_frame_le32(const uint8_t *p) {
    return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                     ((uint32_t)p[3] << 24));
}

/* Check the frame p[0:n]; `expected` is the chunk's decoded size in bytes, or -1 when
 * the caller does not know it.  Fills *fi (header fields) and returns CZ_FRAME_OK or
 * an error code (see cz_blosc1_frame_error). */
static inline int cz_blosc1_frame_check(const uint8_t *p, int64_t n, int64_t expected,
                                        cz_frame_info *fi) {
    int64_t nblocks, i, start, table_end;
    int compcode;
    if (n < 16)
        return CZ_FRAME_SHORT;
    fi->version = p[0];
    fi->flags = p[2];
    fi->typesize = p[3];
    fi->nbytes = cz_frame_le32(p + 4);
    fi->blocksize = cz_frame_le32(p + 8);
    fi->cbytes = cz_frame_le32(p + 12);
    if (fi->version != 2)
        return CZ_FRAME_VERSION;
    if ((fi->flags & 0x08) || (fi->flags & 0x05) == 0x05)
        return CZ_FRAME_FLAGS;
    compcode = fi->flags >> 5;
    /* every compressor c-blosc 1.x knows has format version 1 (byte 1); c-blosc refuses
       other values, except in memcpyed frames, where nothing is decompressed */
    if (!(fi->flags & 0x02) && ((compcode != 0 && compcode != 1 && compcode != 3 && compcode != 4) ||
                                p[1] != 1))
        return CZ_FRAME_COMPRESSOR;
    if (fi->typesize < 1)
        return CZ_FRAME_TYPESIZE;
    if (fi->nbytes < 0 || fi->blocksize < 0 || fi->cbytes < 16 || fi->nbytes > CZ_FRAME_MAX_NBYTES)
        return CZ_FRAME_SIZES;
    if (expected >= 0 && fi->nbytes != expected)
        return CZ_FRAME_EXPECTED;
    if (fi->cbytes != n)
        return CZ_FRAME_CBYTES;
    if (fi->nbytes == 0)
        return fi->cbytes == 16 ? CZ_FRAME_OK : CZ_FRAME_CBYTES;
    if (fi->blocksize <= 0 || fi->blocksize > fi->nbytes)
        return CZ_FRAME_BLOCKSIZE;
    if (fi->flags & 0x02)
        return fi->cbytes == fi->nbytes + 16 ? CZ_FRAME_OK : CZ_FRAME_MEMCPYED;
    nblocks = (fi->nbytes + fi->blocksize - 1) / fi->blocksize;
    table_end = 16 + 4 * nblocks;
    if (table_end > fi->cbytes)
        return CZ_FRAME_OFFSETS;
    if (fi->nbytes > fi->cbytes * (int64_t)CZ_FRAME_MAX_RATIO)
        return CZ_FRAME_RATIO;
    for (i = 0; i < nblocks; i++) {
        int64_t bsize = fi->blocksize, pos, csize;
        int j, nstreams = 1;
        int leftover = (i == nblocks - 1) && (fi->nbytes % fi->blocksize) != 0;
        start = cz_frame_le32(p + 16 + 4 * i);
        if (start < table_end || start >= fi->cbytes)
            return CZ_FRAME_OFFSETS;
        if (leftover)
            bsize = fi->nbytes % fi->blocksize;
        /* c-blosc 1.x splits a full block into typesize streams unless told not to */
        if (!(fi->flags & 0x10) && fi->typesize <= 16 && bsize / fi->typesize >= 128 && !leftover)
            nstreams = fi->typesize;
        /* each stream: int32 size > 0, then that many bytes inside the frame (c-blosc2
           also reads size 0 or < 0 as a run of one byte value: not Blosc1) */
        pos = start;
        for (j = 0; j < nstreams; j++) {
            if (pos + 4 > fi->cbytes)
                return CZ_FRAME_STREAMS;
            csize = cz_frame_le32(p + pos);
            pos += 4;
            if (csize <= 0 || csize > fi->cbytes - pos)
                return CZ_FRAME_STREAMS;
            pos += csize;
        }
    }
    return CZ_FRAME_OK;
}

static inline const char *cz_blosc1_frame_error(int code) {
    switch (code) {
    case CZ_FRAME_OK: return "ok";
    case CZ_FRAME_SHORT: return "not a Blosc frame: a header needs 16 bytes";
    case CZ_FRAME_VERSION: return "not a Blosc1 frame (format version byte); only frames as "
                                  "numcodecs/c-blosc 1.x write them are Zarr blosc chunks";
    case CZ_FRAME_FLAGS: return "not a Blosc1 frame (header flags of a newer Blosc format)";
    case CZ_FRAME_COMPRESSOR: return "corrupt Blosc header: unknown compressor or compressor format version";
    case CZ_FRAME_TYPESIZE: return "corrupt Blosc header: typesize 0";
    case CZ_FRAME_SIZES: return "corrupt Blosc header: negative or over-limit sizes";
    case CZ_FRAME_EXPECTED: return "Blosc frame decodes to a different size than the chunk";
    case CZ_FRAME_CBYTES: return "truncated or padded Blosc frame: header size differs from the buffer";
    case CZ_FRAME_BLOCKSIZE: return "corrupt Blosc header: bad blocksize";
    case CZ_FRAME_MEMCPYED: return "corrupt Blosc header: memcpyed frame size mismatch";
    case CZ_FRAME_OFFSETS: return "corrupt Blosc frame: block offsets outside the frame";
    case CZ_FRAME_RATIO: return "corrupt Blosc header: decoded size impossible for the frame size";
    case CZ_FRAME_STREAMS: return "corrupt Blosc frame: a block's compressed streams do not fit the frame";
    }
    return "corrupt Blosc frame";
}

#endif
