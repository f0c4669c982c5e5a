/* chunkzip C library: the public Blosc functions and the frame validator. */
#include <pthread.h>
#include <string.h>

#include "blosc1.h"
#include "blosc1_frame.h"
#include "checksum.h"
#include "cz_internal.h"

/* c-blosc2 (libblosc2 of the python-blosc2 wheel); declared here so that the public
   header does not depend on blosc2.h. */
#include "blosc2.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void) {
  blosc2_init();
  cz_checksum_init();
}

void cz_lib_init(void) { pthread_once(&init_once, do_init); }

int cz_blosc_check_frame(const uint8_t *p, size_t n, int64_t *nbytes_out) {
  /* the one frame validator (csrc/blosc1_frame.h), as Blosc.decode and the read kernel */
  cz_frame_info fi;
  size_t vnbytes = 0;
  int rc;
  if (p == NULL) return cz_fail(CZ_EINVAL, "Blosc frame: NULL source");
  if (n > (size_t)INT64_MAX) n = (size_t)INT64_MAX;
  rc = cz_blosc1_frame_check(p, (int64_t)n, -1, &fi);
  if (rc != CZ_FRAME_OK) return cz_fail(CZ_ECORRUPT, "%s", cz_blosc1_frame_error(rc));
  if (fi.nbytes > 0 && blosc1_cbuffer_validate(p, (size_t)fi.cbytes, &vnbytes) < 0)
    return cz_fail(CZ_ECORRUPT, "corrupt Blosc frame (header validation failed)");
  *nbytes_out = fi.nbytes;
  return 0;
}

int cz_blosc_compcode(const char *cname) {
  if (cname == NULL) return -1;
  if (strcmp(cname, "blosclz") == 0) return CZ_BLOSC_BLOSCLZ;
  if (strcmp(cname, "lz4") == 0) return CZ_BLOSC_LZ4;
  if (strcmp(cname, "lz4hc") == 0) return CZ_BLOSC_LZ4HC;
  if (strcmp(cname, "zlib") == 0) return CZ_BLOSC_ZLIB;
  if (strcmp(cname, "zstd") == 0) return CZ_BLOSC_ZSTD;
  return -1;
}

size_t cz_blosc_max_compressed_size(size_t nbytes) { return cz_blosc1_max_compressed_size(nbytes); }

int64_t cz_blosc_compress(const void *src, size_t nbytes, size_t typesize, const char *cname,
                          int clevel, int shuffle, size_t blocksize, void *dst,
                          size_t dst_capacity) {
  int compcode = cz_blosc_compcode(cname);
  int64_t r;
  if (compcode < 0)
    return cz_fail(CZ_EINVAL, "unknown Blosc compressor %s%s%s (blosclz, lz4, lz4hc, zlib, zstd)",
                   cname ? "'" : "", cname ? cname : "NULL", cname ? "'" : "");
  if (typesize < 1) return cz_fail(CZ_EINVAL, "Blosc typesize must be >= 1");
  if (clevel < 0 || clevel > 9) return cz_fail(CZ_EINVAL, "Blosc clevel %d is not in 0..9", clevel);
  if (shuffle < 0 || shuffle > 2)
    return cz_fail(CZ_EINVAL, "Blosc shuffle %d is not 0 (none), 1 (byte) or 2 (bit)", shuffle);
  if ((src == NULL && nbytes) || dst == NULL) return cz_fail(CZ_EINVAL, "Blosc compress: NULL buffer");
  if (nbytes > CZ_BLOSC1_MAX_BUFFERSIZE)
    return cz_fail(CZ_EINVAL, "Blosc compress: %zu bytes exceed the format limit of %zu", nbytes,
                   (size_t)CZ_BLOSC1_MAX_BUFFERSIZE);
  if (dst_capacity < cz_blosc1_max_compressed_size(nbytes))
    return cz_fail(CZ_EDEST, "Blosc compress: destination of %zu bytes, need %zu (cz_blosc_max_compressed_size)",
                   dst_capacity, cz_blosc1_max_compressed_size(nbytes));
  r = cz_blosc1_compress(src, nbytes, dst, dst_capacity, clevel, shuffle, typesize, compcode,
                         blocksize, CZ_BLOSC_SPLIT_AUTO);
  if (r == CZ_BLOSC_ENOMEM) return cz_fail(CZ_ENOMEM, "Blosc compress: out of memory");
  if (r < 0) return cz_fail(CZ_EINVAL, "Blosc compress failed (code %lld)", (long long)r);
  return r;
}

int64_t cz_blosc_nbytes(const void *src, size_t srcsize) {
  int64_t nbytes = 0;
  int r = cz_blosc_check_frame((const uint8_t *)src, srcsize, &nbytes);
  return r < 0 ? r : nbytes;
}

int64_t cz_blosc_decompress(const void *src, size_t srcsize, void *dst, size_t dst_capacity) {
  int64_t nbytes = 0;
  int r;
  blosc2_context *ctx;
  blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS;
  cz_lib_init();
  if ((r = cz_blosc_check_frame((const uint8_t *)src, srcsize, &nbytes)) < 0) return r;
  if (dst == NULL && nbytes) return cz_fail(CZ_EINVAL, "Blosc decompress: NULL destination");
  if ((size_t)nbytes > dst_capacity)
    return cz_fail(CZ_EDEST, "Blosc frame holds %lld bytes, destination has %zu", (long long)nbytes,
                   dst_capacity);
  if (nbytes == 0) return 0;
  dp.nthreads = 1;
  ctx = blosc2_create_dctx(dp);
  if (ctx == NULL) return cz_fail(CZ_ENOMEM, "cannot create a Blosc decompression context");
  r = blosc2_decompress_ctx(ctx, src, (int32_t)(srcsize > INT32_MAX ? INT32_MAX : srcsize), dst,
                            (int32_t)nbytes);
  blosc2_free_ctx(ctx);
  if (r != nbytes)
    return cz_fail(CZ_ECORRUPT, "corrupt Blosc frame: decoding failed (c-blosc2 code %d)", r);
  return nbytes;
}
