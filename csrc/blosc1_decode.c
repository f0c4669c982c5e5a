/*
 * chunkzip: validation and decoding of Blosc frames, shared by the Python codec
 * (chunkzip/_ext/_blosc.pyx) and the C library (cz_blosc.c).  See blosc1.h.
 *
 * Decoding goes through libblosc2 (the python-blosc2 wheel), which reads Blosc1 and
 * Blosc2 frames, after the header has been checked against the buffer, with one
 * repair: c-blosc2 decodes the ragged end of a bit-shuffled Blosc1 frame wrongly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blosc1.h"
#include "blosc1_frame.h"
#include "blosc2.h"


static int32_t le32(const uint8_t *p) {
  return (int32_t)((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
                   ((uint32_t)p[3] << 24));
}

static void put_le32(uint8_t *p, int32_t v) {
  uint32_t u = (uint32_t)v;
  p[0] = (uint8_t)u;
  p[1] = (uint8_t)(u >> 8);
  p[2] = (uint8_t)(u >> 16);
  p[3] = (uint8_t)(u >> 24);
}

static int bad(char *msg, size_t msglen, int code, const char *text) {
  if (msglen) snprintf(msg, msglen, "%s", text);
  return code;
}

int cz_blosc1_check_frame(const uint8_t *p, size_t n, cz_blosc_frame *fi, char *msg,
                          size_t msglen) {
  /* the rules live in one place, csrc/blosc1_frame.h (only Blosc1 frames as c-blosc 1.x
     and numcodecs write them); this adds c-blosc2's own header check and a message */
  cz_frame_info ci;
  size_t vnbytes = 0;
  int rc = cz_blosc1_frame_check(p, n > (size_t)INT64_MAX ? INT64_MAX : (int64_t)n, -1, &ci);
  if (n >= 16) {
    fi->version = ci.version;
    fi->flags = ci.flags;
    fi->typesize = ci.typesize;
    fi->nbytes = (int32_t)ci.nbytes;
    fi->blocksize = (int32_t)ci.blocksize;
    fi->cbytes = (int32_t)ci.cbytes;
  }
  if (rc == CZ_FRAME_CBYTES) {
    if (msglen)
      snprintf(msg, msglen, "%s (header: %lld bytes, buffer: %zu)", cz_blosc1_frame_error(rc),
               (long long)ci.cbytes, n);
    return CZ_BLOSC_ECORRUPT;
  }
  if (rc != CZ_FRAME_OK) return bad(msg, msglen, CZ_BLOSC_ECORRUPT, cz_blosc1_frame_error(rc));
  if (fi->nbytes > 0 && blosc1_cbuffer_validate(p, (size_t)fi->cbytes, &vnbytes) < 0)
    return bad(msg, msglen, CZ_BLOSC_ECORRUPT, "corrupt Blosc frame (header validation failed)");
  return 0;
}

static blosc2_context *new_dctx(int nthreads, int typesize) {
  blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS;
  dp.nthreads = (int16_t)(nthreads < 1 ? 1 : (nthreads < 256 ? nthreads : 256));
  dp.typesize = typesize > 0 ? typesize : 1;
  return blosc2_create_dctx(dp);
}

static int32_t last_block_size(const cz_blosc_frame *fi) {
  int32_t r = fi->nbytes % fi->blocksize;
  return r ? r : fi->blocksize;
}

/* Bytes at the end that c-blosc2 decodes wrongly, or 0: in a bit-shuffled Blosc1
   (format 2) frame the last block may end with size % typesize bytes that do not form
   a whole element; c-blosc 1.x leaves them unshuffled, c-blosc2 returns wrong bytes. */
int32_t cz_blosc1_bitshuffle_tail(const cz_blosc_frame *fi) {
  if (fi->version > 2 || (fi->flags & 0x07) != 0x04 || fi->nbytes <= 0 || fi->blocksize <= 0 ||
      fi->typesize <= 1)
    return 0;
  if (fi->nbytes % fi->blocksize == 0 && !(fi->flags & 0x10))
    return 0; /* a split full block: not a frame c-blosc writes with a ragged end */
  return last_block_size(fi) % fi->typesize;
}

/* Decode the last block again, unshuffled, and copy its last `tail` bytes to
   dest[nbytes - tail:].  Its single stream is wrapped in a one-block frame without the
   bit-shuffle flag and decoded by c-blosc2 like any other frame. */
static int fix_tail(const uint8_t *src, const cz_blosc_frame *fi, int32_t tail, uint8_t *dest,
                    char *msg, size_t msglen) {
  int64_t nblocks = ((int64_t)fi->nbytes + fi->blocksize - 1) / fi->blocksize;
  int32_t last = last_block_size(fi);
  int64_t bstart = le32(src + 16 + 4 * (nblocks - 1)), csize;
  uint8_t *mini, *block;
  blosc2_context *ctx;
  int rc;
  if (bstart < 16 + 4 * nblocks || bstart + 4 > fi->cbytes)
    return bad(msg, msglen, CZ_BLOSC_ECORRUPT, "corrupt Blosc frame: bad block offset");
  csize = le32(src + bstart);
  if (csize <= 0 || bstart + 4 + csize > fi->cbytes)
    return bad(msg, msglen, CZ_BLOSC_ECORRUPT, "corrupt Blosc frame: bad stream size");
  mini = (uint8_t *)malloc((size_t)(24 + csize));
  block = (uint8_t *)malloc((size_t)last);
  ctx = new_dctx(1, 1);
  if (!mini || !block || !ctx) {
    free(mini);
    free(block);
    if (ctx) blosc2_free_ctx(ctx);
    return bad(msg, msglen, CZ_BLOSC_ENOMEM, "could not create a Blosc decompression context");
  }
  mini[0] = 2;
  mini[1] = src[1];
  mini[2] = (uint8_t)((fi->flags & 0xE0) | 0x10); /* same codec, no shuffle, one stream */
  mini[3] = 1;
  put_le32(mini + 4, last);
  put_le32(mini + 8, last);
  put_le32(mini + 12, (int32_t)(24 + csize));
  put_le32(mini + 16, 20);
  memcpy(mini + 20, src + bstart, (size_t)(4 + csize));
  rc = blosc2_decompress_ctx(ctx, mini, (int32_t)(24 + csize), block, last);
  blosc2_free_ctx(ctx);
  if (rc == last) memcpy(dest + fi->nbytes - tail, block + last - tail, (size_t)tail);
  free(mini);
  free(block);
  if (rc != last) {
    if (msglen) snprintf(msg, msglen, "error during Blosc decompression: %d (corrupt frame)", rc);
    return CZ_BLOSC_ECODEC;
  }
  return 0;
}

int cz_blosc1_decompress_frame_ctx(const uint8_t *src, const cz_blosc_frame *fi, void *dest,
                                   void *dctx, char *msg, size_t msglen) {
  int rc;
  int32_t tail;
  if (fi->nbytes == 0) return 0;
  rc = blosc2_decompress_ctx((blosc2_context *)dctx, src, fi->cbytes, dest, fi->nbytes);
  if (rc != fi->nbytes) {
    if (msglen)
      snprintf(msg, msglen, "error during Blosc decompression: %d (corrupt or unsupported frame)",
               rc);
    return CZ_BLOSC_ECODEC;
  }
  tail = cz_blosc1_bitshuffle_tail(fi);
  if (tail) return fix_tail(src, fi, tail, (uint8_t *)dest, msg, msglen);
  return 0;
}

void *cz_blosc1_new_dctx(int nthreads, int typesize) { return new_dctx(nthreads, typesize); }

void cz_blosc1_free_dctx(void *dctx) {
  if (dctx) blosc2_free_ctx((blosc2_context *)dctx);
}

int cz_blosc1_decompress_frame(const uint8_t *src, const cz_blosc_frame *fi, void *dest,
                               int nthreads, char *msg, size_t msglen) {
  blosc2_context *ctx;
  int rc;
  if (fi->nbytes == 0) return 0;
  ctx = new_dctx(nthreads, fi->typesize);
  if (ctx == NULL)
    return bad(msg, msglen, CZ_BLOSC_ENOMEM, "could not create a Blosc decompression context");
  rc = cz_blosc1_decompress_frame_ctx(src, fi, dest, ctx, msg, msglen);
  blosc2_free_ctx(ctx);
  return rc;
}
