/*
 * chunkzip: writer of Blosc1 frames (format version 2, 16-byte header), the frame kind
 * that c-blosc 1.x (numcodecs, zarr-python, tensorstore) and c-blosc2 all read.
 *
 * Frame layout (all integers little endian):
 *   [0]  format version (2)         [1]  codec format version (1)
 *   [2]  flags: 0x01 byte shuffle, 0x02 memcpyed, 0x04 bit shuffle,
 *               0x10 blocks not split into typesize streams, bits 5-7 codec format
 *               (0 blosclz, 1 lz4/lz4hc, 3 zlib, 4 zstd)
 *   [3]  typesize (1 when the element size exceeds 255)
 *   [4:8] nbytes   [8:12] blocksize   [12:16] ctbytes (whole frame, header included)
 * memcpyed frame: header + the raw bytes.  Otherwise: nblocks int32 block offsets
 * ("bstarts", from the frame start), then per block one stream, or typesize streams
 * when split, each an int32 size followed by the data; a size equal to the stream's
 * uncompressed length means the stream is stored raw.
 *
 * Everything here is thread safe: no global state, scratch is allocated per call.
 */
#ifndef CHUNKZIP_BLOSC1_H
#define CHUNKZIP_BLOSC1_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Compressor codes (numbering of c-blosc). */
enum {
  CZ_BLOSC_BLOSCLZ = 0,
  CZ_BLOSC_LZ4 = 1,
  CZ_BLOSC_LZ4HC = 2,
  CZ_BLOSC_ZLIB = 4,
  CZ_BLOSC_ZSTD = 5
};

/* Shuffle modes. */
enum { CZ_BLOSC_NOSHUFFLE = 0, CZ_BLOSC_SHUFFLE = 1, CZ_BLOSC_BITSHUFFLE = 2 };

/* Split modes: -1 automatic (split for every codec but zstd, like c-blosc's
   forward-compatible default), 0 never, 1 always. */
enum { CZ_BLOSC_SPLIT_AUTO = -1, CZ_BLOSC_SPLIT_NEVER = 0, CZ_BLOSC_SPLIT_ALWAYS = 1 };

#define CZ_BLOSC1_HEADER 16
/* Largest input: c-blosc2 (our decoder) refuses nbytes above INT32_MAX - 32. */
#define CZ_BLOSC1_MAX_BUFFERSIZE ((size_t)INT32_MAX - 32)
/* Largest block c-blosc2 accepts. */
#define CZ_BLOSC1_MAX_BLOCKSIZE ((size_t)536866816)

/* Error codes (negative return values). */
#define CZ_BLOSC_EPARAM (-1)    /* invalid clevel, shuffle, typesize or compressor */
#define CZ_BLOSC_EDEST (-2)     /* destination smaller than nbytes + 16 */
#define CZ_BLOSC_ENOMEM (-3)    /* scratch allocation failed */
#define CZ_BLOSC_ETOOBIG (-4)   /* nbytes above CZ_BLOSC1_MAX_BUFFERSIZE */
#define CZ_BLOSC_ECODEC (-5)    /* the inner compressor (or decoder) failed unexpectedly */
#define CZ_BLOSC_ECORRUPT (-6)  /* frame header inconsistent with itself or its buffer */

/* Destination size that always suffices for cz_blosc1_compress. */
static inline size_t cz_blosc1_max_compressed_size(size_t nbytes) {
  return nbytes + CZ_BLOSC1_HEADER;
}

/* Block size the writer uses: `blocksize` == 0 picks one automatically (larger
   blocks for higher clevel and for zstd/zlib/lz4hc); an explicit value is rounded
   down to a multiple of typesize.  The result never exceeds nbytes. */
size_t cz_blosc1_blocksize(size_t nbytes, size_t typesize, int clevel, int compcode,
                           size_t blocksize, int splitmode);

/* Write a Blosc1 frame of `src` (nbytes) into `dest` (destsize >= nbytes + 16).
   typesize >= 1 (values above 255 are stored as 1, as c-blosc does);
   clevel 0..9 (0 = memcpyed frame); doshuffle 0/1/2; compcode CZ_BLOSC_*;
   blocksize 0 = automatic; splitmode -1/0/1.
   Returns the frame size (> 0) or a negative CZ_BLOSC_E* code. */
int64_t cz_blosc1_compress(const void *src, size_t nbytes, void *dest, size_t destsize,
                           int clevel, int doshuffle, size_t typesize, int compcode,
                           size_t blocksize, int splitmode);

/* BloscLZ encoder (csrc/blosclz_enc.c): writes a stream that c-blosc's and
   c-blosc2's blosclz decoders read.  Returns the compressed size, or 0 when the
   output would not fit in `maxout` bytes (the caller then stores the data raw). */
int cz_blosclz_compress(int clevel, const uint8_t *src, size_t srclen, uint8_t *dest,
                        size_t maxout);

/* ---- reading (csrc/blosc1_decode.c; needs libblosc2) ---------------------------- */

/* Header fields of a Blosc frame (any format version). */
typedef struct {
  int32_t nbytes, cbytes, blocksize;
  int typesize, flags, version;
} cz_blosc_frame;

/* Check a frame header against the n bytes of its buffer (sizes, block offsets table,
   expansion ratio, c-blosc2's own validation) before anything is decoded.  Returns 0
   and fills *fi, or CZ_BLOSC_ECORRUPT with a message in msg (msglen bytes). */
int cz_blosc1_check_frame(const uint8_t *src, size_t n, cz_blosc_frame *fi, char *msg,
                          size_t msglen);

/* Decode a frame checked by cz_blosc1_check_frame into dest (fi->nbytes bytes) with
   `nthreads` c-blosc2 threads.  Returns 0, or CZ_BLOSC_ECODEC / CZ_BLOSC_ECORRUPT /
   CZ_BLOSC_ENOMEM with a message. */
/* Bytes at the end of a bit-shuffled Blosc1 frame that c-blosc2 decodes wrongly (the
   ragged end of the last block); cz_blosc1_decompress_frame repairs them. 0 if none. */
int32_t cz_blosc1_bitshuffle_tail(const cz_blosc_frame *fi);

int cz_blosc1_decompress_frame(const uint8_t *src, const cz_blosc_frame *fi, void *dest,
                               int nthreads, char *msg, size_t msglen);

#ifdef __cplusplus
}
#endif

#endif /* CHUNKZIP_BLOSC1_H */
