/* chunkzip C library: the public Blosc functions and the frame validator. */
#include <pthread.h>
#include <string.h>

#include "blosc1.h"
#include "checksum.h"
#include "cz_internal.h"

#include "blosc2.h" /* blosc2_init (libblosc2 of the python-blosc2 wheel) */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void do_init(void) {
  blosc2_init();
  cz_checksum_init();
}

void cz_lib_init(void) { pthread_once(&init_once, do_init); }

int cz_blosc_check_frame(const uint8_t *p, size_t n, int64_t *nbytes_out) {
  cz_blosc_frame fi;
  char msg[256];
  if (p == NULL) return cz_fail(CZ_EINVAL, "Blosc frame: NULL source");
  if (cz_blosc1_check_frame(p, n, &fi, msg, sizeof(msg)) != 0) return cz_fail(CZ_ECORRUPT, "%s", msg);
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
  cz_blosc_frame fi;
  char msg[256];
  int r;
  cz_lib_init();
  if (src == NULL) return cz_fail(CZ_EINVAL, "Blosc frame: NULL source");
  if (cz_blosc1_check_frame((const uint8_t *)src, srcsize, &fi, msg, sizeof(msg)) != 0)
    return cz_fail(CZ_ECORRUPT, "%s", msg);
  if (dst == NULL && fi.nbytes) return cz_fail(CZ_EINVAL, "Blosc decompress: NULL destination");
  if ((size_t)fi.nbytes > dst_capacity)
    return cz_fail(CZ_EDEST, "Blosc frame holds %d bytes, destination has %zu", (int)fi.nbytes,
                   dst_capacity);
  r = cz_blosc1_decompress_frame((const uint8_t *)src, &fi, dst, 1, msg, sizeof(msg));
  if (r == CZ_BLOSC_ENOMEM) return cz_fail(CZ_ENOMEM, "%s", msg);
  if (r != 0) return cz_fail(CZ_ECORRUPT, "corrupt Blosc frame: %s", msg);
  return fi.nbytes;
}
