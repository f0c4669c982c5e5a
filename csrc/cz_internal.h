/*
 * chunkzip C library: internal declarations shared by the library's sources
 * (cz_error.c, cz_blosc.c, cz_codecs.c, cz_metadata.c, cz_array.c, cz_io.c, ndcopy.c).
 * Not installed; the public API is chunkzip.h.
 */
#ifndef CHUNKZIP_INTERNAL_H
#define CHUNKZIP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chunkzip.h"
#include "json.h"

/* Largest decoded chunk (and inner chunk) the library handles: c-blosc's limit. */
#define CZ_MAX_CHUNK_BYTES ((int64_t)INT32_MAX - 32)
/* Largest shard (sum of its decoded inner chunks). */
#define CZ_MAX_SHARD_BYTES ((int64_t)1 << 34)
#define CZ_MAX_BB_CODECS 8

/* ---- errors (cz_error.c) ---- */
int cz_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void cz_fail_keep(int code); /* set the code, keep the current message */
int cz_fail_prefix(int code, const char *prefix); /* "prefix: <current message>" */

/* ---- one-time initialisation (cz_blosc.c) ---- */
void cz_lib_init(void);
/* Validate a Blosc frame header against srcsize; on success store nbytes. */
int cz_blosc_check_frame(const uint8_t *src, size_t srcsize, int64_t *nbytes);
int cz_blosc_compcode(const char *cname);

/* ---- N-d strided copy (ndcopy.c) ----
   Copies an ndim box of `shape` elements of `itemsize` bytes; strides in bytes
   (a 0 stride repeats, e.g. to broadcast a fill value). */
void cz_copy_nd(int ndim, const int64_t *shape, size_t itemsize, uint8_t *dst,
                const int64_t *dst_strides, const uint8_t *src, const int64_t *src_strides);
void cz_c_strides(int ndim, const int64_t *shape, size_t itemsize, int64_t *strides);
void cz_byteswap(uint8_t *buf, size_t nelems, size_t unit);
int64_t cz_prod(int ndim, const int64_t *shape); /* -1 on overflow */

/* ---- codec chains (cz_codecs.c) ---- */
typedef enum { CZ_BB_BLOSC, CZ_BB_ZSTD, CZ_BB_LZ4, CZ_BB_ZLIB, CZ_BB_GZIP, CZ_BB_CRC32C } cz_bb_kind;

typedef struct {
  cz_bb_kind kind;
  int level;       /* blosc clevel, zstd/zlib/gzip level, lz4 acceleration */
  int compcode;    /* blosc */
  int shuffle;     /* blosc: 0/1/2 */
  size_t typesize; /* blosc */
  size_t blocksize;/* blosc */
  int checksum;    /* zstd */
} cz_bb_codec;

typedef struct cz_chain cz_chain;
struct cz_chain {
  int ndim;
  int64_t shape[CZ_MAX_NDIM]; /* decoded shape of one chunk */
  int64_t nbytes;             /* decoded bytes of one chunk */
  size_t itemsize;
  size_t swapunit;            /* 0: native order; else swap units of this size */
  int has_perm;
  int perm[CZ_MAX_NDIM];      /* encoded axis i is decoded axis perm[i] */
  /* array -> bytes is `bytes` unless `inner` is set (sharding_indexed) */
  cz_chain *inner;            /* inner chunk chain */
  cz_chain *index;            /* index chain (fixed size) */
  int64_t index_nbytes;       /* encoded index size */
  int index_at_start;
  int64_t grid[CZ_MAX_NDIM];  /* inner chunks per shard axis */
  int nbb;
  cz_bb_codec bb[CZ_MAX_BB_CODECS];
  const uint8_t *fill;        /* fill value (itemsize bytes, native order), owned by the array */
};

/* Build a chain from a v3 codec list for chunks of `shape`. */
int cz_chain_from_v3(cz_chain *c, const cz_json *codecs, int ndim, const int64_t *shape,
                     size_t itemsize, size_t swapunit_if_big, const uint8_t *fill,
                     const char *where);
void cz_chain_free(cz_chain *c); /* frees inner/index chains (not c itself) */
/* Parse one bytes->bytes codec in v2 (numcodecs) or v3 form. */
int cz_bb_from_json(cz_bb_codec *bb, const cz_json *cfg, const char *name, int v2,
                    size_t itemsize);

/* Decode an encoded chunk into dst (C order, c->nbytes).  Only the region
   [lo, hi) must be valid afterwards (inner chunks of a shard outside it are skipped);
   lo == NULL means everything. */
int cz_chain_decode(const cz_chain *c, const uint8_t *src, size_t n, uint8_t *dst,
                    const int64_t *lo, const int64_t *hi);
/* Encode a chunk (C order, c->nbytes).  *out is malloc'ed; for a shard whose inner
   chunks all equal the fill value *out is NULL (the caller deletes the shard). */
int cz_chain_encode(const cz_chain *c, const uint8_t *src, uint8_t **out, size_t *outlen);
int cz_all_fill(const uint8_t *buf, size_t nelems, const uint8_t *fill, size_t itemsize);

/* ---- files (cz_io.c) ---- */
/* Read a whole file: 1 and *buf malloc'ed, 0 when it does not exist, <0 on error. */
int cz_read_file(const char *path, uint8_t **buf, size_t *len);
/* Replace `path` atomically with `len` bytes (creates parent directories). */
int cz_write_file_atomic(const char *path, const uint8_t *buf, size_t len);
int cz_delete_file(const char *path);

/* ---- array handle ---- */
struct cz_array {
  char *path;
  int writable;
  int zarr_format;
  int ndim;
  int64_t shape[CZ_MAX_NDIM];
  int64_t chunks[CZ_MAX_NDIM];
  size_t itemsize;
  char dtype[16];
  uint8_t fill[16];
  char key_prefix[4];   /* "c" for v3 default encoding, "" otherwise */
  char separator;       /* '/' or '.' */
  cz_chain chain;
};

int cz_parse_metadata(cz_array *a, const char *path);

#endif /* CHUNKZIP_INTERNAL_H */
