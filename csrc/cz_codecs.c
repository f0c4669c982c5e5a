/*
 * chunkzip C library: codec chains.  A chain turns one encoded chunk into its decoded
 * C-order array and back:  array->array (transpose), one array->bytes (bytes, or
 * sharding_indexed with its own inner and index chains), then bytes->bytes (blosc,
 * zstd, lz4, zlib, gzip, crc32c).  Every decoder checks sizes against what the
 * metadata says before it writes into a buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "blosc1.h"
#include "checksum.h"
#include "cz_internal.h"

/* ---- inner compressors exported by libblosc2 (no headers ship in the wheel) ---- */
int LZ4_compress_fast(const char *src, char *dst, int srcSize, int dstCapacity, int acceleration);
int LZ4_compressBound(int inputSize);
int LZ4_decompress_safe(const char *src, char *dst, int compressedSize, int dstCapacity);
size_t ZSTD_compressBound(size_t srcSize);
size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t compressedSize);
unsigned long long ZSTD_getFrameContentSize(const void *src, size_t srcSize);
unsigned ZSTD_isError(size_t code);
typedef struct ZSTD_CCtx_s ZSTD_CCtx;
ZSTD_CCtx *ZSTD_createCCtx(void);
size_t ZSTD_freeCCtx(ZSTD_CCtx *cctx);
size_t ZSTD_CCtx_setParameter(ZSTD_CCtx *cctx, int param, int value);
size_t ZSTD_compress2(ZSTD_CCtx *cctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize);
#define CZ_ZSTD_c_compressionLevel 100
#define CZ_ZSTD_c_checksumFlag 201
#define CZ_ZSTD_CONTENTSIZE_UNKNOWN (0ULL - 1)
#define CZ_ZSTD_CONTENTSIZE_ERROR (0ULL - 2)

/* zlib-ng's native stream (zlib-ng.h, 2.x) */
typedef struct {
  const uint8_t *next_in;
  uint32_t avail_in;
  size_t total_in;
  uint8_t *next_out;
  uint32_t avail_out;
  size_t total_out;
  const char *msg;
  void *state;
  void *(*zalloc)(void *, unsigned, unsigned);
  void (*zfree)(void *, void *);
  void *opaque;
  int data_type;
  uint32_t adler;
  unsigned long reserved;
} cz_zng_stream;
int32_t zng_inflateInit2(cz_zng_stream *strm, int32_t windowBits);
int32_t zng_inflate(cz_zng_stream *strm, int32_t flush);
int32_t zng_inflateEnd(cz_zng_stream *strm);
int32_t zng_deflateInit2(cz_zng_stream *strm, int32_t level, int32_t method, int32_t windowBits,
                         int32_t memLevel, int32_t strategy);
int32_t zng_deflate(cz_zng_stream *strm, int32_t flush);
int32_t zng_deflateEnd(cz_zng_stream *strm);
size_t zng_deflateBound(cz_zng_stream *strm, size_t sourceLen);
#define CZ_Z_FINISH 4
#define CZ_Z_STREAM_END 1

/* ---------------------------------------------------------------------------------- */

static const cz_json *member(const cz_json *o, const char *k) { return cz_json_get(o, k); }

static int get_int(const cz_json *cfg, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                   int64_t *out, const char *codec) {
  const cz_json *v = member(cfg, key);
  if (!v || v->type == CZ_JSON_NULL) {
    *out = dflt;
    return 0;
  }
  if (cz_json_int64(v, out) || *out < lo || *out > hi)
    return cz_fail(CZ_EMETADATA, "codec %s: '%s' must be an integer in [%lld, %lld]", codec, key,
                   (long long)lo, (long long)hi);
  return 0;
}

int cz_bb_from_json(cz_bb_codec *bb, const cz_json *cfg, const char *name, int v2, size_t itemsize) {
  int64_t v;
  int r;
  memset(bb, 0, sizeof(*bb));
  if (strcmp(name, "blosc") == 0 || strcmp(name, "numcodecs.blosc") == 0) {
    const cz_json *cn = member(cfg, "cname"), *sh = member(cfg, "shuffle");
    bb->kind = CZ_BB_BLOSC;
    bb->compcode = cz_blosc_compcode(cn && cn->type == CZ_JSON_STRING ? cn->str : "lz4");
    if (bb->compcode < 0 || (cn && cn->type != CZ_JSON_STRING))
      return cz_fail(CZ_EUNSUPPORTED, "codec blosc: unsupported cname %s",
                     cn && cn->type == CZ_JSON_STRING ? cn->str : "(not a string)");
    if ((r = get_int(cfg, "clevel", 0, 9, 5, &v, "blosc")) < 0) return r;
    bb->level = (int)v;
    if (sh && sh->type == CZ_JSON_STRING) {
      if (strcmp(sh->str, "noshuffle") == 0) bb->shuffle = 0;
      else if (strcmp(sh->str, "shuffle") == 0) bb->shuffle = 1;
      else if (strcmp(sh->str, "bitshuffle") == 0) bb->shuffle = 2;
      else return cz_fail(CZ_EMETADATA, "codec blosc: unknown shuffle '%s'", sh->str);
    } else {
      if ((r = get_int(cfg, "shuffle", -1, 2, 1, &v, "blosc")) < 0) return r;
      /* numcodecs' AUTOSHUFFLE: bit shuffle for 1-byte items, byte shuffle otherwise */
      bb->shuffle = v == -1 ? (itemsize == 1 ? 2 : 1) : (int)v;
    }
    if ((r = get_int(cfg, "typesize", 1, 255, (int64_t)itemsize, &v, "blosc")) < 0) return r;
    bb->typesize = v2 ? itemsize : (size_t)v;
    if ((r = get_int(cfg, "blocksize", 0, INT32_MAX, 0, &v, "blosc")) < 0) return r;
    bb->blocksize = (size_t)v;
  } else if (strcmp(name, "zstd") == 0 || strcmp(name, "numcodecs.zstd") == 0) {
    const cz_json *ck = member(cfg, "checksum");
    bb->kind = CZ_BB_ZSTD;
    if ((r = get_int(cfg, "level", -131072, 22, 0, &v, "zstd")) < 0) return r;
    bb->level = (int)v;
    bb->checksum = ck && ck->type == CZ_JSON_TRUE;
  } else if (strcmp(name, "lz4") == 0 || strcmp(name, "numcodecs.lz4") == 0) {
    bb->kind = CZ_BB_LZ4;
    if ((r = get_int(cfg, "acceleration", INT32_MIN, INT32_MAX, 1, &v, "lz4")) < 0) return r;
    bb->level = v < 1 ? 1 : (int)v;
  } else if (strcmp(name, "zlib") == 0 || strcmp(name, "numcodecs.zlib") == 0 ||
             strcmp(name, "gzip") == 0 || strcmp(name, "numcodecs.gzip") == 0) {
    bb->kind = strstr(name, "gzip") ? CZ_BB_GZIP : CZ_BB_ZLIB;
    if ((r = get_int(cfg, "level", -1, 9, bb->kind == CZ_BB_GZIP ? 5 : 1, &v, name)) < 0) return r;
    bb->level = (int)v;
  } else if (strcmp(name, "crc32c") == 0 || strcmp(name, "numcodecs.crc32c") == 0) {
    bb->kind = CZ_BB_CRC32C;
  } else {
    return cz_fail(CZ_EUNSUPPORTED, "unsupported codec '%s' (the C library handles bytes, transpose, "
                   "blosc, zstd, lz4, zlib, gzip, crc32c and sharding_indexed)", name);
  }
  return 0;
}

void cz_chain_free(cz_chain *c) {
  if (!c) return;
  if (c->inner) {
    cz_chain_free(c->inner);
    free(c->inner);
    c->inner = NULL;
  }
  if (c->index) {
    cz_chain_free(c->index);
    free(c->index);
    c->index = NULL;
  }
}

static int is_named(const cz_json *cod, const char **name, const cz_json **cfg) {
  const cz_json *n;
  if (cod->type == CZ_JSON_STRING) { /* a bare name is allowed for codecs without configuration */
    *name = cod->str;
    *cfg = NULL;
    return 1;
  }
  n = member(cod, "name");
  if (cod->type != CZ_JSON_OBJECT || !n || n->type != CZ_JSON_STRING) return 0;
  *name = n->str;
  *cfg = member(cod, "configuration");
  return 1;
}

static int parse_shape_list(const cz_json *v, int ndim, int64_t *out, const char *what) {
  int i;
  if (!v || v->type != CZ_JSON_ARRAY || (int)v->len != ndim)
    return cz_fail(CZ_EMETADATA, "%s must be a list of %d integers", what, ndim);
  for (i = 0; i < ndim; i++)
    if (cz_json_int64(v->items[i], &out[i]) || out[i] < 1)
      return cz_fail(CZ_EMETADATA, "%s must hold integers >= 1", what);
  return 0;
}

int cz_chain_from_v3(cz_chain *c, const cz_json *codecs, int ndim, const int64_t *shape,
                     size_t itemsize, size_t swapunit_if_big, const uint8_t *fill, const char *where) {
  size_t k;
  int have_a2b = 0, i, r;
  memset(c, 0, sizeof(*c));
  c->ndim = ndim;
  memcpy(c->shape, shape, sizeof(int64_t) * (size_t)ndim);
  c->itemsize = itemsize;
  c->fill = fill;
  c->nbytes = cz_prod(ndim, shape);
  if (c->nbytes < 0 || c->nbytes > CZ_MAX_SHARD_BYTES / (int64_t)itemsize)
    return cz_fail(CZ_EUNSUPPORTED, "%s: chunk of %lld elements is too large", where, (long long)c->nbytes);
  c->nbytes *= (int64_t)itemsize;
  if (!codecs || codecs->type != CZ_JSON_ARRAY || codecs->len == 0)
    return cz_fail(CZ_EMETADATA, "%s: 'codecs' must be a non-empty list", where);
  for (k = 0; k < codecs->len; k++) {
    const char *name;
    const cz_json *cfg;
    if (!is_named(codecs->items[k], &name, &cfg))
      return cz_fail(CZ_EMETADATA, "%s: codec %zu has no name", where, k);
    if (!have_a2b) {
      if (strcmp(name, "transpose") == 0) {
        const cz_json *ord = member(cfg, "order");
        int seen[CZ_MAX_NDIM] = {0}, perm[CZ_MAX_NDIM];
        if (ord && ord->type == CZ_JSON_STRING && (strcmp(ord->str, "C") == 0 || strcmp(ord->str, "F") == 0)) {
          for (i = 0; i < ndim; i++) perm[i] = ord->str[0] == 'C' ? i : ndim - 1 - i;
        } else {
          if (!ord || ord->type != CZ_JSON_ARRAY || (int)ord->len != ndim)
            return cz_fail(CZ_EMETADATA, "%s: transpose order must list %d axes", where, ndim);
          for (i = 0; i < ndim; i++) {
            int64_t ax;
            if (cz_json_int64(ord->items[i], &ax) || ax < 0 || ax >= ndim || seen[ax])
              return cz_fail(CZ_EMETADATA, "%s: transpose order is not a permutation", where);
            seen[ax] = 1;
            perm[i] = (int)ax;
          }
        }
        if (c->has_perm) { /* compose: encoded axis i = previous encoded axis perm[i] */
          int np[CZ_MAX_NDIM];
          for (i = 0; i < ndim; i++) np[i] = c->perm[perm[i]];
          memcpy(c->perm, np, sizeof(np));
        } else {
          memcpy(c->perm, perm, sizeof(perm));
        }
        c->has_perm = 0;
        for (i = 0; i < ndim; i++)
          if (c->perm[i] != i) c->has_perm = 1;
        if (!c->has_perm) continue;
        continue;
      }
      if (strcmp(name, "bytes") == 0 || strcmp(name, "endian") == 0) {
        const cz_json *e = member(cfg, "endian");
        if (e && e->type == CZ_JSON_STRING && strcmp(e->str, "big") == 0) c->swapunit = swapunit_if_big;
        else if (e && e->type == CZ_JSON_STRING && strcmp(e->str, "little") != 0)
          return cz_fail(CZ_EMETADATA, "%s: bytes endian must be 'little' or 'big'", where);
        else if ((!e || e->type == CZ_JSON_NULL) && itemsize > 1)
          return cz_fail(CZ_EMETADATA, "%s: bytes codec needs 'endian' for %zu-byte items", where, itemsize);
        have_a2b = 1;
        continue;
      }
      if (strcmp(name, "sharding_indexed") == 0) {
        const cz_json *loc = member(cfg, "index_location");
        int64_t inner_shape[CZ_MAX_NDIM], ishape[CZ_MAX_NDIM + 1];
        int64_t n_inner;
        int j;
        if (c->has_perm) /* keep the shard grid simple: reorder inside the inner chain instead */
          return cz_fail(CZ_EUNSUPPORTED, "%s: transpose before sharding_indexed is not supported", where);
        if ((r = parse_shape_list(member(cfg, "chunk_shape"), ndim, inner_shape,
                                  "sharding_indexed chunk_shape")) < 0)
          return r;
        for (j = 0; j < ndim; j++) {
          if (shape[j] % inner_shape[j])
            return cz_fail(CZ_EMETADATA, "%s: shard shape is not a multiple of the inner chunk shape", where);
          c->grid[j] = shape[j] / inner_shape[j];
        }
        if (loc && loc->type == CZ_JSON_STRING && strcmp(loc->str, "start") == 0) c->index_at_start = 1;
        else if (loc && !(loc->type == CZ_JSON_STRING && strcmp(loc->str, "end") == 0))
          return cz_fail(CZ_EMETADATA, "%s: index_location must be 'start' or 'end'", where);
        c->inner = (cz_chain *)calloc(1, sizeof(cz_chain));
        c->index = (cz_chain *)calloc(1, sizeof(cz_chain));
        if (!c->inner || !c->index) return cz_fail(CZ_ENOMEM, "out of memory");
        if ((r = cz_chain_from_v3(c->inner, member(cfg, "codecs"), ndim, inner_shape, itemsize,
                                  swapunit_if_big, fill, "sharding_indexed inner codecs")) < 0)
          return r;
        if (c->inner->nbytes > CZ_MAX_CHUNK_BYTES)
          return cz_fail(CZ_EUNSUPPORTED, "%s: inner chunk of %lld bytes is too large", where,
                         (long long)c->inner->nbytes);
        memcpy(ishape, c->grid, sizeof(int64_t) * (size_t)ndim);
        ishape[ndim] = 2;
        {
          static const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
          const cz_json *ic = member(cfg, "index_codecs");
          if ((r = cz_chain_from_v3(c->index, ic, ndim + 1, ishape, 8, 8, ones,
                                    "sharding_indexed index_codecs")) < 0)
            return r;
        }
        if (c->index->inner)
          return cz_fail(CZ_EUNSUPPORTED, "%s: a sharded shard index is not supported", where);
        n_inner = c->index->nbytes;
        for (j = 0; j < c->index->nbb; j++) {
          if (c->index->bb[j].kind != CZ_BB_CRC32C)
            return cz_fail(CZ_EUNSUPPORTED, "%s: index_codecs must have a fixed size (bytes, crc32c)", where);
          n_inner += 4;
        }
        c->index_nbytes = n_inner;
        have_a2b = 1;
        continue;
      }
      if (strcmp(name, "vlen-utf8") == 0 || strcmp(name, "vlen-bytes") == 0)
        return cz_fail(CZ_EUNSUPPORTED, "%s: unsupported codec '%s' (variable-length data)", where, name);
      if (strcmp(name, "blosc") && strcmp(name, "zstd") && strcmp(name, "gzip") && strcmp(name, "crc32c") &&
          strncmp(name, "numcodecs.", 10))
        return cz_fail(CZ_EUNSUPPORTED, "%s: unsupported codec '%s'", where, name);
      return cz_fail(CZ_EMETADATA, "%s: codec '%s' comes before the array->bytes codec", where, name);
    }
    if (c->nbb == CZ_MAX_BB_CODECS) return cz_fail(CZ_EUNSUPPORTED, "%s: too many codecs", where);
    if ((r = cz_bb_from_json(&c->bb[c->nbb], cfg, name, 0, itemsize)) < 0) {
      if (r == CZ_EUNSUPPORTED && strcmp(name, "transpose") == 0)
        return cz_fail(CZ_EMETADATA, "%s: transpose after the array->bytes codec", where);
      return r;
    }
    c->nbb++;
  }
  if (!have_a2b) return cz_fail(CZ_EMETADATA, "%s: no array->bytes codec (bytes or sharding_indexed)", where);
  if (!c->inner && c->nbytes > CZ_MAX_CHUNK_BYTES)
    return cz_fail(CZ_EUNSUPPORTED, "%s: chunk of %lld bytes is too large (at most %lld)", where,
                   (long long)c->nbytes, (long long)CZ_MAX_CHUNK_BYTES);
  return 0;
}

/* ---------------------------------------------------------------------------------- */
/* bytes -> bytes stages                                                              */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Inflate (zlib or gzip wrapper) with a bounded, growing output. */
static int inflate_all(const uint8_t *src, size_t n, int gzip, int64_t expect, uint8_t **out, size_t *outlen) {
  cz_zng_stream s;
  size_t cap = expect >= 0 ? (size_t)expect + 1 : (n * 4 + 64);
  uint8_t *buf;
  int32_t r;
  if (n > UINT32_MAX) return cz_fail(CZ_EUNSUPPORTED, "%s stream too large", gzip ? "gzip" : "zlib");
  buf = (uint8_t *)malloc(cap);
  if (!buf) return cz_fail(CZ_ENOMEM, "out of memory");
  memset(&s, 0, sizeof(s));
  if (zng_inflateInit2(&s, gzip ? 31 : 15) != 0) {
    free(buf);
    return cz_fail(CZ_ENOMEM, "cannot initialise zlib");
  }
  s.next_in = src;
  s.avail_in = (uint32_t)n;
  for (;;) {
    s.next_out = buf + s.total_out;
    s.avail_out = (uint32_t)((cap - s.total_out) > UINT32_MAX ? UINT32_MAX : cap - s.total_out);
    r = zng_inflate(&s, CZ_Z_FINISH);
    if (r == CZ_Z_STREAM_END) break;
    if (s.avail_out == 0 && (r == 0 || r == -5) && expect < 0 && cap < (size_t)CZ_MAX_SHARD_BYTES) {
      uint8_t *nb = (uint8_t *)realloc(buf, cap * 2);
      if (!nb) { zng_inflateEnd(&s); free(buf); return cz_fail(CZ_ENOMEM, "out of memory"); }
      buf = nb;
      cap *= 2;
      continue;
    }
    zng_inflateEnd(&s);
    free(buf);
    return cz_fail(CZ_ECORRUPT, "corrupt or truncated %s stream%s", gzip ? "gzip" : "zlib",
                   s.avail_out == 0 ? " (decodes to more bytes than expected)" : "");
  }
  *outlen = s.total_out;
  zng_inflateEnd(&s);
  *out = buf;
  return 0;
}

/* Decode one stage; *out is malloc'ed (or points into src for crc32c, *owned = 0).
   `expect` is the decoded size when known, else -1; `direct` (expect bytes) may
   receive the result to save a copy (then *out == direct). */
static int bb_decode(const cz_bb_codec *bb, const uint8_t *src, size_t n, int64_t expect,
                     uint8_t *direct, uint8_t **out, size_t *outlen, int *owned) {
  *owned = 1;
  *out = NULL;
  *outlen = 0;
  switch (bb->kind) {
    case CZ_BB_CRC32C: {
      uint32_t want, got;
      if (n < 4) return cz_fail(CZ_ECORRUPT, "crc32c: %zu bytes cannot hold a checksum", n);
      want = rd32(src + n - 4);
      got = cz_crc32c(0, src, n - 4);
      if (want != got)
        return cz_fail(CZ_ECORRUPT, "crc32c checksum mismatch (stored %08x, computed %08x)", want, got);
      *out = (uint8_t *)src;
      *outlen = n - 4;
      *owned = 0;
      return 0;
    }
    case CZ_BB_BLOSC: {
      int64_t nb;
      int64_t r = cz_blosc_nbytes(src, n);
      uint8_t *b;
      if (r < 0) return (int)r;
      nb = r;
      if (expect >= 0 && nb != expect)
        return cz_fail(CZ_ECORRUPT, "Blosc frame holds %lld bytes, the chunk has %lld", (long long)nb,
                       (long long)expect);
      b = direct ? direct : (uint8_t *)malloc(nb ? (size_t)nb : 1);
      if (!b) return cz_fail(CZ_ENOMEM, "out of memory");
      r = cz_blosc_decompress(src, n, b, (size_t)nb);
      if (r < 0) {
        if (!direct) free(b);
        return (int)r;
      }
      *out = b;
      *outlen = (size_t)nb;
      *owned = direct ? 0 : 1;
      return 0;
    }
    case CZ_BB_ZSTD: {
      unsigned long long cs = ZSTD_getFrameContentSize(src, n);
      size_t r;
      uint8_t *b;
      if (cs == CZ_ZSTD_CONTENTSIZE_ERROR) return cz_fail(CZ_ECORRUPT, "not a Zstandard frame");
      if (cs == CZ_ZSTD_CONTENTSIZE_UNKNOWN) {
        if (expect < 0) return cz_fail(CZ_EUNSUPPORTED, "Zstandard frame without a content size");
        cs = (unsigned long long)expect;
      }
      if ((expect >= 0 && cs != (unsigned long long)expect) || cs > (unsigned long long)CZ_MAX_SHARD_BYTES)
        return cz_fail(CZ_ECORRUPT, "Zstandard frame holds %llu bytes, expected %lld", cs, (long long)expect);
      b = direct ? direct : (uint8_t *)malloc(cs ? (size_t)cs : 1);
      if (!b) return cz_fail(CZ_ENOMEM, "out of memory");
      r = ZSTD_decompress(b, (size_t)cs, src, n);
      if (ZSTD_isError(r) || r != cs) {
        if (!direct) free(b);
        return cz_fail(CZ_ECORRUPT, "corrupt or truncated Zstandard frame");
      }
      *out = b;
      *outlen = (size_t)cs;
      *owned = direct ? 0 : 1;
      return 0;
    }
    case CZ_BB_LZ4: {
      uint32_t nb;
      int r;
      uint8_t *b;
      if (n < 4) return cz_fail(CZ_ECORRUPT, "lz4: %zu bytes cannot hold the size prefix", n);
      nb = rd32(src);
      if ((expect >= 0 && (int64_t)nb != expect) || nb > INT32_MAX || n - 4 > INT32_MAX)
        return cz_fail(CZ_ECORRUPT, "lz4 block says %u bytes, expected %lld", nb, (long long)expect);
      b = direct ? direct : (uint8_t *)malloc(nb ? nb : 1);
      if (!b) return cz_fail(CZ_ENOMEM, "out of memory");
      r = LZ4_decompress_safe((const char *)src + 4, (char *)b, (int)(n - 4), (int)nb);
      if (r != (int)nb) {
        if (!direct) free(b);
        return cz_fail(CZ_ECORRUPT, "corrupt or truncated lz4 block");
      }
      *out = b;
      *outlen = nb;
      *owned = direct ? 0 : 1;
      return 0;
    }
    case CZ_BB_ZLIB:
    case CZ_BB_GZIP: {
      int r = inflate_all(src, n, bb->kind == CZ_BB_GZIP, expect, out, outlen);
      if (r < 0) return r;
      if (expect >= 0 && (int64_t)*outlen != expect) {
        free(*out);
        return cz_fail(CZ_ECORRUPT, "%s stream holds %zu bytes, expected %lld",
                       bb->kind == CZ_BB_GZIP ? "gzip" : "zlib", *outlen, (long long)expect);
      }
      return 0;
    }
  }
  return cz_fail(CZ_EINVAL, "unknown codec");
}

/* Encode one stage into a malloc'ed buffer. */
static int bb_encode(const cz_bb_codec *bb, const uint8_t *src, size_t n, uint8_t **out, size_t *outlen) {
  uint8_t *b = NULL;
  switch (bb->kind) {
    case CZ_BB_CRC32C:
      if (!(b = (uint8_t *)malloc(n + 4))) break;
      memcpy(b, src, n);
      wr32(b + n, cz_crc32c(0, src, n));
      *out = b;
      *outlen = n + 4;
      return 0;
    case CZ_BB_BLOSC: {
      size_t cap = cz_blosc1_max_compressed_size(n);
      int64_t r;
      if (n > CZ_BLOSC1_MAX_BUFFERSIZE) return cz_fail(CZ_EUNSUPPORTED, "chunk too large for Blosc");
      if (!(b = (uint8_t *)malloc(cap))) break;
      r = cz_blosc1_compress(src, n, b, cap, bb->level, bb->shuffle, bb->typesize, bb->compcode,
                             bb->blocksize, CZ_BLOSC_SPLIT_AUTO);
      if (r < 0) {
        free(b);
        return cz_fail(CZ_EINVAL, "Blosc compression failed (code %lld)", (long long)r);
      }
      *out = b;
      *outlen = (size_t)r;
      return 0;
    }
    case CZ_BB_ZSTD: {
      size_t cap = ZSTD_compressBound(n), r;
      ZSTD_CCtx *cc = ZSTD_createCCtx();
      if (!cc || !(b = (uint8_t *)malloc(cap))) {
        if (cc) ZSTD_freeCCtx(cc);
        break;
      }
      ZSTD_CCtx_setParameter(cc, CZ_ZSTD_c_compressionLevel, bb->level);
      ZSTD_CCtx_setParameter(cc, CZ_ZSTD_c_checksumFlag, bb->checksum);
      r = ZSTD_compress2(cc, b, cap, src, n);
      ZSTD_freeCCtx(cc);
      if (ZSTD_isError(r)) {
        free(b);
        return cz_fail(CZ_EINVAL, "Zstandard compression failed");
      }
      *out = b;
      *outlen = r;
      return 0;
    }
    case CZ_BB_LZ4: {
      int cap, r;
      if (n > 0x7E000000) return cz_fail(CZ_EUNSUPPORTED, "chunk too large for lz4");
      cap = LZ4_compressBound((int)n);
      if (!(b = (uint8_t *)malloc((size_t)cap + 4))) break;
      wr32(b, (uint32_t)n);
      r = LZ4_compress_fast((const char *)src, (char *)b + 4, (int)n, cap, bb->level);
      if (r <= 0 && n > 0) {
        free(b);
        return cz_fail(CZ_EINVAL, "lz4 compression failed");
      }
      *out = b;
      *outlen = (size_t)r + 4;
      return 0;
    }
    case CZ_BB_ZLIB:
    case CZ_BB_GZIP: {
      cz_zng_stream s;
      size_t cap;
      int32_t r;
      if (n > UINT32_MAX / 2) return cz_fail(CZ_EUNSUPPORTED, "chunk too large for zlib");
      memset(&s, 0, sizeof(s));
      if (zng_deflateInit2(&s, bb->level, 8, bb->kind == CZ_BB_GZIP ? 31 : 15, 8, 0) != 0)
        return cz_fail(CZ_ENOMEM, "cannot initialise zlib");
      cap = zng_deflateBound(&s, n) + 32;
      if (!(b = (uint8_t *)malloc(cap))) {
        zng_deflateEnd(&s);
        break;
      }
      s.next_in = src;
      s.avail_in = (uint32_t)n;
      s.next_out = b;
      s.avail_out = (uint32_t)cap;
      r = zng_deflate(&s, CZ_Z_FINISH);
      *outlen = s.total_out;
      zng_deflateEnd(&s);
      if (r != CZ_Z_STREAM_END) {
        free(b);
        return cz_fail(CZ_EINVAL, "zlib compression failed");
      }
      *out = b;
      return 0;
    }
  }
  return cz_fail(CZ_ENOMEM, "out of memory");
}

/* ---------------------------------------------------------------------------------- */

int cz_all_fill(const uint8_t *buf, size_t nelems, const uint8_t *fill, size_t itemsize) {
  size_t i;
  for (i = 0; i < nelems; i++)
    if (memcmp(buf + i * itemsize, fill, itemsize) != 0) return 0;
  return 1;
}

/* Strides (bytes) of the decoded array seen in the encoded (transposed) axis order. */
static void perm_strides(const cz_chain *c, int64_t *eshape, int64_t *src_strides_dec_order) {
  int64_t cs[CZ_MAX_NDIM];
  int i;
  cz_c_strides(c->ndim, c->shape, c->itemsize, cs);
  for (i = 0; i < c->ndim; i++) {
    eshape[i] = c->shape[c->perm[i]];
    src_strides_dec_order[i] = cs[c->perm[i]];
  }
}

/* Fill a sub-box of a C-order array of `shape` with the fill value. */
static void fill_box(const cz_chain *c, uint8_t *dst, const int64_t *shape, const int64_t *lo,
                     const int64_t *ext) {
  int64_t st[CZ_MAX_NDIM], zero[CZ_MAX_NDIM] = {0};
  int i;
  cz_c_strides(c->ndim, shape, c->itemsize, st);
  for (i = 0; i < c->ndim; i++) dst += lo[i] * st[i];
  cz_copy_nd(c->ndim, ext, c->itemsize, dst, st, c->fill, zero);
}

static int decode_shard(const cz_chain *c, const uint8_t *src, size_t n, uint8_t *dst,
                        const int64_t *lo, const int64_t *hi) {
  const cz_chain *in = c->inner;
  int64_t ninner = c->index->nbytes / 16, k;
  const uint8_t *ibytes;
  uint8_t *index = NULL, *scratch = NULL;
  int64_t dst_st[CZ_MAX_NDIM], in_st[CZ_MAX_NDIM];
  int r = 0, d;
  if ((int64_t)n < c->index_nbytes)
    return cz_fail(CZ_ECORRUPT, "shard of %zu bytes cannot hold its %lld-byte index", n, (long long)c->index_nbytes);
  ibytes = c->index_at_start ? src : src + n - c->index_nbytes;
  index = (uint8_t *)malloc((size_t)c->index->nbytes);
  scratch = (uint8_t *)malloc((size_t)in->nbytes);
  if (!index || !scratch) {
    r = cz_fail(CZ_ENOMEM, "out of memory");
    goto done;
  }
  if ((r = cz_chain_decode(c->index, ibytes, (size_t)c->index_nbytes, index, NULL, NULL)) < 0) {
    cz_fail_prefix(r, "shard index");
    goto done;
  }
  cz_c_strides(c->ndim, c->shape, c->itemsize, dst_st);
  cz_c_strides(c->ndim, in->shape, c->itemsize, in_st);
  for (k = 0; k < ninner; k++) {
    int64_t pos[CZ_MAX_NDIM], rem = k, off, nb;
    uint8_t *d0 = dst;
    uint64_t uo, un;
    for (d = c->ndim - 1; d >= 0; d--) {
      pos[d] = (rem % c->grid[d]) * in->shape[d];
      rem /= c->grid[d];
    }
    if (lo) {
      for (d = 0; d < c->ndim; d++)
        if (pos[d] >= hi[d] || pos[d] + in->shape[d] <= lo[d]) break;
      if (d < c->ndim) continue; /* not needed */
    }
    memcpy(&uo, index + 16 * k, 8);
    memcpy(&un, index + 16 * k + 8, 8);
    if (uo == UINT64_MAX && un == UINT64_MAX) {
      fill_box(c, dst, c->shape, pos, in->shape);
      continue;
    }
    if (uo > (uint64_t)n || un > (uint64_t)n - uo) {
      r = cz_fail(CZ_ECORRUPT, "shard index points outside the shard (inner chunk %lld: offset %llu, "
                  "%llu bytes, shard %zu bytes)", (long long)k, (unsigned long long)uo,
                  (unsigned long long)un, n);
      goto done;
    }
    off = (int64_t)uo;
    nb = (int64_t)un;
    if ((r = cz_chain_decode(in, src + off, (size_t)nb, scratch, NULL, NULL)) < 0) goto done;
    for (d = 0; d < c->ndim; d++) d0 += pos[d] * dst_st[d];
    cz_copy_nd(c->ndim, in->shape, c->itemsize, d0, dst_st, scratch, in_st);
  }
done:
  free(index);
  free(scratch);
  return r;
}

int cz_chain_decode(const cz_chain *c, const uint8_t *src, size_t n, uint8_t *dst,
                    const int64_t *lo, const int64_t *hi) {
  const uint8_t *cur = src;
  size_t curlen = n;
  uint8_t *owned_buf = NULL;
  int plain = !c->inner && !c->has_perm; /* bytes straight into dst */
  int r = 0, k;
  uint8_t *a2b_in = NULL;

  for (k = c->nbb - 1; k >= 0; k--) {
    int64_t expect = -1;
    uint8_t *out = NULL;
    size_t outlen = 0;
    int owned = 0;
    if (!c->inner) { /* decoded size of this stage = chunk bytes + crc32c stages after it */
      int j;
      expect = c->nbytes;
      for (j = 0; j < k; j++) {
        if (c->bb[j].kind != CZ_BB_CRC32C) break;
        expect += 4;
      }
      if (j < k) expect = -1;
    }
    r = bb_decode(&c->bb[k], cur, curlen, expect, (plain && expect == c->nbytes && k == 0) ? dst : NULL,
                  &out, &outlen, &owned);
    if (r < 0) goto done;
    if (owned) {
      free(owned_buf);
      owned_buf = out;
    }
    cur = out;
    curlen = outlen;
  }
  if (c->inner) {
    if (c->has_perm) lo = hi = NULL;
    r = decode_shard(c, cur, curlen, dst, lo, hi);
    goto done;
  }
  if ((int64_t)curlen != c->nbytes) {
    r = cz_fail(CZ_ECORRUPT, "chunk decodes to %zu bytes, expected %lld", curlen, (long long)c->nbytes);
    goto done;
  }
  if (c->has_perm) {
    int64_t eshape[CZ_MAX_NDIM], dst_st[CZ_MAX_NDIM], src_st[CZ_MAX_NDIM];
    perm_strides(c, eshape, dst_st); /* dst strides in encoded axis order */
    cz_c_strides(c->ndim, eshape, c->itemsize, src_st);
    cz_copy_nd(c->ndim, eshape, c->itemsize, dst, dst_st, cur, src_st);
  } else if (cur != dst) {
    memcpy(dst, cur, curlen);
  }
  if (c->swapunit) cz_byteswap(dst, (size_t)c->nbytes / c->swapunit, c->swapunit);
done:
  (void)a2b_in;
  free(owned_buf);
  return r;
}

static void put_le64(uint8_t *p, uint64_t v) {
  int i;
  for (i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int encode_shard(const cz_chain *c, const uint8_t *src, uint8_t **out, size_t *outlen) {
  const cz_chain *in = c->inner;
  int64_t ninner = c->index->nbytes / 16, k, base;
  int64_t src_st[CZ_MAX_NDIM], in_st[CZ_MAX_NDIM];
  uint8_t *index = (uint8_t *)malloc((size_t)c->index->nbytes);
  uint8_t *scratch = (uint8_t *)malloc((size_t)in->nbytes);
  uint8_t *body = NULL, *enc_index = NULL, *res;
  size_t bodylen = 0, bodycap = 0, enc_len = 0;
  int r = 0, d, any = 0;
  size_t nelem = (size_t)(in->nbytes / (int64_t)c->itemsize);
  *out = NULL;
  *outlen = 0;
  if (!index || !scratch) {
    r = cz_fail(CZ_ENOMEM, "out of memory");
    goto done;
  }
  cz_c_strides(c->ndim, c->shape, c->itemsize, src_st);
  cz_c_strides(c->ndim, in->shape, c->itemsize, in_st);
  for (k = 0; k < ninner; k++) {
    int64_t rem = k;
    const uint8_t *s0 = src;
    uint8_t *enc;
    size_t elen;
    for (d = c->ndim - 1; d >= 0; d--) {
      s0 += (rem % c->grid[d]) * in->shape[d] * src_st[d];
      rem /= c->grid[d];
    }
    cz_copy_nd(c->ndim, in->shape, c->itemsize, scratch, in_st, s0, src_st);
    if (cz_all_fill(scratch, nelem, c->fill, c->itemsize)) {
      put_le64(index + 16 * k, UINT64_MAX);
      put_le64(index + 16 * k + 8, UINT64_MAX);
      continue;
    }
    if ((r = cz_chain_encode(in, scratch, &enc, &elen)) < 0) goto done;
    if (bodylen + elen > bodycap) {
      size_t nc = (bodylen + elen) * 2;
      uint8_t *nb = (uint8_t *)realloc(body, nc);
      if (!nb) {
        free(enc);
        r = cz_fail(CZ_ENOMEM, "out of memory");
        goto done;
      }
      body = nb;
      bodycap = nc;
    }
    memcpy(body + bodylen, enc, elen);
    free(enc);
    put_le64(index + 16 * k, (uint64_t)bodylen);
    put_le64(index + 16 * k + 8, (uint64_t)elen);
    bodylen += elen;
    any = 1;
  }
  if (!any) goto done; /* every inner chunk is empty: no shard */
  base = c->index_at_start ? c->index_nbytes : 0;
  if (base)
    for (k = 0; k < ninner; k++) {
      uint64_t o;
      memcpy(&o, index + 16 * k, 8);
      if (o != UINT64_MAX) put_le64(index + 16 * k, o + (uint64_t)base);
    }
  if ((r = cz_chain_encode(c->index, index, &enc_index, &enc_len)) < 0) goto done;
  res = (uint8_t *)malloc(bodylen + enc_len);
  if (!res) {
    r = cz_fail(CZ_ENOMEM, "out of memory");
    goto done;
  }
  if (c->index_at_start) {
    memcpy(res, enc_index, enc_len);
    if (bodylen) memcpy(res + enc_len, body, bodylen);
  } else {
    if (bodylen) memcpy(res, body, bodylen);
    memcpy(res + bodylen, enc_index, enc_len);
  }
  *out = res;
  *outlen = bodylen + enc_len;
done:
  free(index);
  free(scratch);
  free(body);
  free(enc_index);
  return r;
}

int cz_chain_encode(const cz_chain *c, const uint8_t *src, uint8_t **out, size_t *outlen) {
  uint8_t *cur = NULL;
  size_t curlen = (size_t)c->nbytes;
  int r, k;
  *out = NULL;
  *outlen = 0;
  if (c->inner) {
    if ((r = encode_shard(c, src, &cur, &curlen)) < 0) return r;
    if (!cur) return 0;
  } else {
    cur = (uint8_t *)malloc(curlen ? curlen : 1);
    if (!cur) return cz_fail(CZ_ENOMEM, "out of memory");
    if (c->has_perm) {
      int64_t eshape[CZ_MAX_NDIM], src_st[CZ_MAX_NDIM], dst_st[CZ_MAX_NDIM];
      perm_strides(c, eshape, src_st);
      cz_c_strides(c->ndim, eshape, c->itemsize, dst_st);
      cz_copy_nd(c->ndim, eshape, c->itemsize, cur, dst_st, src, src_st);
    } else {
      memcpy(cur, src, curlen);
    }
    if (c->swapunit) cz_byteswap(cur, curlen / c->swapunit, c->swapunit);
  }
  for (k = 0; k < c->nbb; k++) {
    uint8_t *next = NULL;
    size_t nlen = 0;
    r = bb_encode(&c->bb[k], cur, curlen, &next, &nlen);
    free(cur);
    if (r < 0) return r;
    cur = next;
    curlen = nlen;
  }
  *out = cur;
  *outlen = curlen;
  return 0;
}
