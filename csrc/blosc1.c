/*
 * chunkzip: Blosc1 frame writer.  See blosc1.h for the frame layout.
 *
 * Inner compressors come from libblosc2 (the python-blosc2 wheel exports the LZ4,
 * Zstandard and zlib-ng symbols it bundles); BloscLZ is our own encoder.  The wheel
 * ships no headers for those libraries, so their prototypes are declared here.
 */
#include <stdlib.h>
#include <string.h>

#include "blosc1.h"
#include "shuffle.h"

/* ---- inner compressors exported by libblosc2 ---------------------------------- */
int LZ4_sizeofState(void);
void *LZ4_initStream(void *buffer, size_t size);
int LZ4_compress_fast_extState_fastReset(void *state, const char *src, char *dst, int srcSize,
                                         int dstCapacity, int acceleration);
int LZ4_sizeofStateHC(void);
int LZ4_compress_HC_extStateHC(void *state, const char *src, char *dst, int srcSize,
                               int maxDstSize, int compressionLevel);
typedef struct ZSTD_CCtx_s ZSTD_CCtx;
ZSTD_CCtx *ZSTD_createCCtx(void);
size_t ZSTD_freeCCtx(ZSTD_CCtx *cctx);
size_t ZSTD_compressCCtx(ZSTD_CCtx *cctx, void *dst, size_t dstCapacity, const void *src,
                         size_t srcSize, int compressionLevel);
unsigned ZSTD_isError(size_t code);
int32_t zng_compress2(uint8_t *dest, size_t *destLen, const uint8_t *source,
                      size_t sourceLen, int32_t level);

#define MIN_BUFFERSIZE 128 /* smaller inputs are stored memcpyed, as c-blosc does */
#define MAX_STREAMS 16     /* automatic splitting only up to this typesize */
#define KiB 1024

static inline void put_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static int compformat_of(int compcode) {
  switch (compcode) {
    case CZ_BLOSC_BLOSCLZ: return 0;
    case CZ_BLOSC_LZ4:
    case CZ_BLOSC_LZ4HC: return 1;
    case CZ_BLOSC_ZLIB: return 3;
    case CZ_BLOSC_ZSTD: return 4;
    default: return -1;
  }
}

/* Whether blocks of `blocksize` bytes are split into typesize streams. */
static int want_split(int splitmode, int compcode, size_t typesize, size_t blocksize) {
  if (typesize < 2 || blocksize < typesize || blocksize % typesize) return 0;
  switch (splitmode) {
    case CZ_BLOSC_SPLIT_NEVER: return 0;
    case CZ_BLOSC_SPLIT_ALWAYS: return 1;
    default:
      /* c-blosc's forward-compatible rule: decoders older than the "don't split" flag
         infer splitting from exactly these conditions, and they never read zstd. */
      return compcode != CZ_BLOSC_ZSTD && typesize <= MAX_STREAMS &&
             blocksize / typesize >= MIN_BUFFERSIZE;
  }
}

size_t cz_blosc1_blocksize(size_t nbytes, size_t typesize, int clevel, int compcode,
                           size_t blocksize, int splitmode) {
  size_t bs;
  int hcr = compcode == CZ_BLOSC_ZSTD || compcode == CZ_BLOSC_ZLIB ||
            compcode == CZ_BLOSC_LZ4HC; /* high-compression-ratio codecs */
  if (typesize < 1) typesize = 1;
  if (typesize > 255) typesize = 1;
  if (nbytes == 0) return 1; /* what c-blosc writes for an empty buffer */
  if (nbytes < typesize) return nbytes;

  if (blocksize) {
    bs = blocksize;
  } else if (nbytes < 32 * KiB) {
    bs = nbytes;
  } else {
    /* base block a typical L1 size, scaled by level: small levels favour speed */
    static const unsigned char mult[10] = {0, 0, 1, 2, 4, 4, 8, 8, 8, 8};
    bs = 32 * KiB;
    if (hcr) bs *= 2;
    if (clevel <= 0) bs /= 4;
    else if (clevel == 1) bs /= 2;
    else bs *= mult[clevel > 9 ? 9 : clevel];
    if (clevel >= 9 && hcr) bs *= 2;
    if (clevel > 0 && want_split(splitmode, compcode, typesize, bs)) {
      /* each of the typesize streams gets the size above, within [64 KiB, 1 MiB] */
      if (bs > 256 * KiB) bs = 256 * KiB;
      bs *= typesize;
      if (bs < 64 * KiB) bs = 64 * KiB;
      if (bs > 1024 * KiB) bs = 1024 * KiB;
    }
    {
      /* A chunk only a few blocks long gets at least 4 blocks (2 for the
         high-ratio codecs) of 32 KiB (64 KiB) or more: reading one element
         (blosc2_getitem) then decodes a quarter (a half) of the frame, for about
         0.5 % (0.3 %) of compression ratio and a few % of full-decode speed;
         frames of 4 MiB and more keep c-blosc's sizes. */
      size_t nparts = hcr ? 2 : 4, minb = hcr ? 64 * KiB : 32 * KiB;
      if (clevel > 0 && nbytes >= nparts * minb && bs > nbytes / nparts) bs = nbytes / nparts;
    }
  }
  if (bs > CZ_BLOSC1_MAX_BLOCKSIZE) bs = CZ_BLOSC1_MAX_BLOCKSIZE;
  if (bs > nbytes) bs = nbytes;
  if (bs >= typesize) {
    bs -= bs % typesize;
  } else {
    bs = typesize <= nbytes ? typesize : nbytes;
  }
  return bs;
}

/* Per-call compressor state. */
typedef struct {
  int compcode;
  int clevel;
  void *lz4_state; /* initialised once per frame, then reset cheaply per stream (LZ4's own
                      per-call initialisation cleared 16 KiB for every 4 KiB stream) */
  void *lz4hc_state;
  ZSTD_CCtx *zstd;
} codec_state;

/* Compress n bytes into at most cap bytes; 0 when it does not fit (store raw). */
static int64_t compress_stream(codec_state *cs, const uint8_t *in, size_t n, uint8_t *out,
                               size_t cap) {
  if (cap == 0) return 0;
  switch (cs->compcode) {
    case CZ_BLOSC_BLOSCLZ:
      return cz_blosclz_compress(cs->clevel, in, n, out, cap);
    case CZ_BLOSC_LZ4: {
      int r;
      if (cap > (size_t)INT32_MAX) cap = (size_t)INT32_MAX;
      r = LZ4_compress_fast_extState_fastReset(cs->lz4_state, (const char *)in, (char *)out, (int)n,
                                               (int)cap, 10 - cs->clevel);
      return r > 0 ? r : 0;
    }
    case CZ_BLOSC_LZ4HC: {
      int r;
      if (cap > (size_t)INT32_MAX) cap = (size_t)INT32_MAX;
      r = LZ4_compress_HC_extStateHC(cs->lz4hc_state, (const char *)in, (char *)out,
                                     (int)n, (int)cap, cs->clevel);
      return r > 0 ? r : 0;
    }
    case CZ_BLOSC_ZLIB: {
      size_t outlen = cap;
      if (zng_compress2(out, &outlen, in, n, cs->clevel) != 0) return 0;
      return (int64_t)outlen;
    }
    case CZ_BLOSC_ZSTD: {
      /* c-blosc's mapping: 1..8 -> 1, 3, ..., 15; 9 -> 22 (zstd's maximum) */
      int level = cs->clevel < 9 ? cs->clevel * 2 - 1 : 22;
      size_t r = ZSTD_compressCCtx(cs->zstd, out, cap, in, n, level);
      if (ZSTD_isError(r)) return 0;
      return (int64_t)r;
    }
    default:
      return CZ_BLOSC_EPARAM;
  }
}

static int64_t write_memcpyed(uint8_t *dest, const uint8_t *src, size_t nbytes) {
  dest[2] |= 0x02;
  put_le32(dest + 12, (uint32_t)(nbytes + CZ_BLOSC1_HEADER));
  if (nbytes) memcpy(dest + CZ_BLOSC1_HEADER, src, nbytes);
  return (int64_t)(nbytes + CZ_BLOSC1_HEADER);
}

int64_t cz_blosc1_compress(const void *src_, size_t nbytes, void *dest_, size_t destsize,
                           int clevel, int doshuffle, size_t typesize, int compcode,
                           size_t blocksize, int splitmode) {
  const uint8_t *src = (const uint8_t *)src_;
  uint8_t *dest = (uint8_t *)dest_;
  int compformat = compformat_of(compcode);
  size_t bs, nblocks, leftover, limit, pos, j;
  int split;
  uint8_t flags = 0;
  uint8_t *tmp = NULL;
  codec_state cs;
  int64_t result;

  if (compformat < 0 || clevel < 0 || clevel > 9 || doshuffle < 0 || doshuffle > 2 ||
      typesize < 1 || (src == NULL && nbytes) || dest == NULL)
    return CZ_BLOSC_EPARAM;
  if (nbytes > CZ_BLOSC1_MAX_BUFFERSIZE) return CZ_BLOSC_ETOOBIG;
  if (destsize < nbytes + CZ_BLOSC1_HEADER) return CZ_BLOSC_EDEST;
  if (typesize > 255) typesize = 1; /* c-blosc: compress as a stream of bytes */

  bs = cz_blosc1_blocksize(nbytes, typesize, clevel, compcode, blocksize, splitmode);
  split = want_split(splitmode, compcode, typesize, bs);
  if (doshuffle == CZ_BLOSC_SHUFFLE) flags |= 0x01;
  if (doshuffle == CZ_BLOSC_BITSHUFFLE) flags |= 0x04;
  if (!split) flags |= 0x10;
  flags |= (uint8_t)(compformat << 5);

  dest[0] = 2; /* Blosc1 format */
  dest[1] = 1; /* codec format version: 1 for every codec */
  dest[2] = flags;
  dest[3] = (uint8_t)typesize;
  put_le32(dest + 4, (uint32_t)nbytes);
  put_le32(dest + 8, (uint32_t)bs);
  put_le32(dest + 12, 0);

  if (clevel == 0 || nbytes < MIN_BUFFERSIZE) return write_memcpyed(dest, src, nbytes);

  nblocks = nbytes / bs;
  leftover = nbytes % bs;
  if (leftover) nblocks++;
  limit = nbytes + CZ_BLOSC1_HEADER; /* a frame this large is no better than memcpyed */
  if (nblocks >= (limit - CZ_BLOSC1_HEADER) / 4) return write_memcpyed(dest, src, nbytes);
  pos = CZ_BLOSC1_HEADER + 4 * nblocks;

  memset(&cs, 0, sizeof(cs));
  cs.compcode = compcode;
  cs.clevel = clevel;
  if (doshuffle != CZ_BLOSC_NOSHUFFLE) {
    tmp = (uint8_t *)malloc(bs);
    if (tmp == NULL) return CZ_BLOSC_ENOMEM;
  }
  if (compcode == CZ_BLOSC_LZ4) {
    cs.lz4_state = malloc((size_t)LZ4_sizeofState());
    if (cs.lz4_state == NULL || LZ4_initStream(cs.lz4_state, (size_t)LZ4_sizeofState()) == NULL) {
      result = CZ_BLOSC_ENOMEM;
      goto done;
    }
  } else if (compcode == CZ_BLOSC_LZ4HC) {
    cs.lz4hc_state = malloc((size_t)LZ4_sizeofStateHC());
    if (cs.lz4hc_state == NULL) {
      result = CZ_BLOSC_ENOMEM;
      goto done;
    }
  } else if (compcode == CZ_BLOSC_ZSTD) {
    cs.zstd = ZSTD_createCCtx();
    if (cs.zstd == NULL) {
      result = CZ_BLOSC_ENOMEM;
      goto done;
    }
  }

  for (j = 0; j < nblocks; j++) {
    const uint8_t *block = src + j * bs;
    size_t bsize = (j == nblocks - 1 && leftover) ? leftover : bs;
    int is_leftover = (j == nblocks - 1 && leftover) ? 1 : 0;
    size_t nstreams, neblock, s;

    put_le32(dest + CZ_BLOSC1_HEADER + 4 * j, (uint32_t)pos);

    if (doshuffle == CZ_BLOSC_SHUFFLE && typesize > 1) {
      cz_byte_shuffle(block, tmp, bsize, typesize);
      block = tmp;
    } else if (doshuffle == CZ_BLOSC_BITSHUFFLE && bsize >= typesize &&
               (bsize / typesize) % 8 == 0) {
      /* format version 2: only blocks with a multiple of 8 elements are bit-shuffled */
      cz_bit_shuffle(block, tmp, bsize, typesize);
      block = tmp;
    }

    nstreams = (split && !is_leftover) ? typesize : 1;
    neblock = bsize / nstreams;
    for (s = 0; s < nstreams; s++) {
      const uint8_t *in = block + s * neblock;
      size_t cap;
      int64_t csize;
      if (pos + 4 >= limit) goto memcpyed;
      cap = limit - (pos + 4);
      if (cap > neblock - 1) cap = neblock - 1; /* csize == neblock means "raw" */
      csize = compress_stream(&cs, in, neblock, dest + pos + 4, cap);
      if (csize < 0) {
        result = CZ_BLOSC_ECODEC;
        goto done;
      }
      if (csize == 0) { /* does not compress: store raw */
        if (pos + 4 + neblock >= limit) goto memcpyed;
        memcpy(dest + pos + 4, in, neblock);
        csize = (int64_t)neblock;
      }
      put_le32(dest + pos, (uint32_t)csize);
      pos += 4 + (size_t)csize;
    }
  }
  if (pos >= limit) goto memcpyed;
  put_le32(dest + 12, (uint32_t)pos);
  result = (int64_t)pos;
  goto done;

memcpyed:
  result = write_memcpyed(dest, src, nbytes);

done:
  free(tmp);
  free(cs.lz4_state);
  free(cs.lz4hc_state);
  if (cs.zstd) ZSTD_freeCCtx(cs.zstd);
  return result;
}
