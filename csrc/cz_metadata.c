/*
 * chunkzip C library: Zarr v2 (.zarray) and v3 (zarr.json) array metadata.
 * Mirrors chunkzip/metadata.py's rules: every size the readers and writers trust is
 * bounded here, once, before any chunk is touched.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cz_internal.h"

typedef struct {
  const char *v3;
  char kind;
  int size;
} dtype_info;

static const dtype_info DTYPES[] = {
    {"bool", 'b', 1},     {"int8", 'i', 1},     {"int16", 'i', 2},      {"int32", 'i', 4},
    {"int64", 'i', 8},    {"uint8", 'u', 1},    {"uint16", 'u', 2},     {"uint32", 'u', 4},
    {"uint64", 'u', 8},   {"float16", 'f', 2},  {"float32", 'f', 4},    {"float64", 'f', 8},
    {"complex64", 'c', 8}, {"complex128", 'c', 16}, {NULL, 0, 0}};

static const dtype_info *find_dtype(char kind, int size) {
  const dtype_info *d;
  for (d = DTYPES; d->v3; d++)
    if (d->kind == kind && d->size == size) return d;
  return NULL;
}

/* IEEE half from double (round to nearest even). */
static uint16_t to_half(double x) {
  union { float f; uint32_t u; } v;
  uint32_t sign, exp, mant;
  v.f = (float)x;
  sign = (v.u >> 16) & 0x8000;
  exp = (v.u >> 23) & 0xff;
  mant = v.u & 0x7fffff;
  if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
  if ((int)exp - 127 > 15) return (uint16_t)(sign | 0x7c00);
  if ((int)exp - 127 < -25) return (uint16_t)sign;
  if ((int)exp - 127 < -14) /* subnormal: a multiple of 2^-24, rounded to nearest even */
    return (uint16_t)(sign | (uint32_t)lrint(fabs((double)v.f) * 16777216.0));
  {
    uint32_t h = (((exp - 112) << 10) | (mant >> 13));
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
}

static int parse_hex_bits(const char *s, uint8_t *out, size_t size) {
  size_t n = strlen(s), i;
  uint64_t v = 0;
  if (n != 2 + 2 * size || size > 8) return -1;
  for (i = 2; i < n; i++) {
    char ch = s[i];
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
          : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = (v << 4) | (uint64_t)d;
  }
  memcpy(out, &v, size); /* little-endian host */
  return 0;
}

/* One real floating fill value (a number, "NaN", "Infinity", "-Infinity" or "0x..."). */
static int float_fill(const cz_json *v, uint8_t *out, int size) {
  double d;
  if (v->type == CZ_JSON_STRING) {
    if (strncmp(v->str, "0x", 2) == 0) return parse_hex_bits(v->str, out, (size_t)size);
    if (strcmp(v->str, "NaN") == 0) d = NAN;
    else if (strcmp(v->str, "Infinity") == 0) d = INFINITY;
    else if (strcmp(v->str, "-Infinity") == 0) d = -INFINITY;
    else return -1;
  } else if (cz_json_double(v, &d)) {
    return -1;
  }
  if (size == 2) {
    uint16_t h = to_half(d);
    memcpy(out, &h, 2);
  } else if (size == 4) {
    float f = (float)d;
    memcpy(out, &f, 4);
  } else {
    memcpy(out, &d, 8);
  }
  return 0;
}

static int parse_fill(cz_array *a, const cz_json *v, char kind) {
  int size = (int)a->itemsize;
  memset(a->fill, 0, sizeof(a->fill));
  if (!v || v->type == CZ_JSON_NULL) return 0; /* v2 "no fill value": zeros, like zarr-python */
  switch (kind) {
    case 'b':
      if (v->type == CZ_JSON_TRUE || v->type == CZ_JSON_FALSE) {
        a->fill[0] = v->type == CZ_JSON_TRUE;
        return 0;
      }
      {
        int64_t i;
        if (!cz_json_int64(v, &i) && (i == 0 || i == 1)) {
          a->fill[0] = (uint8_t)i;
          return 0;
        }
      }
      break;
    case 'i': {
      int64_t i;
      if (cz_json_int64(v, &i)) break;
      if (size < 8 && (i < -((int64_t)1 << (8 * size - 1)) || i >= ((int64_t)1 << (8 * size - 1)))) break;
      memcpy(a->fill, &i, (size_t)size);
      return 0;
    }
    case 'u': {
      uint64_t u;
      if (cz_json_uint64(v, &u)) break;
      if (size < 8 && u >= ((uint64_t)1 << (8 * size))) break;
      memcpy(a->fill, &u, (size_t)size);
      return 0;
    }
    case 'f':
      if (float_fill(v, a->fill, size) == 0) return 0;
      break;
    case 'c':
      if (v->type == CZ_JSON_ARRAY && v->len == 2 && float_fill(v->items[0], a->fill, size / 2) == 0 &&
          float_fill(v->items[1], a->fill + size / 2, size / 2) == 0)
        return 0;
      if (v->type != CZ_JSON_ARRAY && float_fill(v, a->fill, size / 2) == 0) return 0;
      break;
  }
  return cz_fail(CZ_EMETADATA, "fill_value %s%s%s is not a valid %s value",
                 v->type == CZ_JSON_STRING ? "'" : "", v->str ? v->str : "(a JSON value)",
                 v->type == CZ_JSON_STRING ? "'" : "", a->dtype);
}

static int parse_dims(const cz_json *v, int *ndim, int64_t *out, const char *what, int minval) {
  size_t i;
  if (!v || v->type != CZ_JSON_ARRAY) return cz_fail(CZ_EMETADATA, "'%s' must be a list of integers", what);
  if (v->len > CZ_MAX_NDIM) return cz_fail(CZ_EUNSUPPORTED, "'%s': more than %d dimensions", what, CZ_MAX_NDIM);
  if (*ndim >= 0 && (int)v->len != *ndim)
    return cz_fail(CZ_EMETADATA, "'%s' has %zu dimensions, the shape has %d", what, v->len, *ndim);
  for (i = 0; i < v->len; i++)
    if (cz_json_int64(v->items[i], &out[i]) || out[i] < minval)
      return cz_fail(CZ_EMETADATA, "'%s' must hold integers >= %d", what, minval);
  *ndim = (int)v->len;
  return 0;
}

static void set_dtype_name(cz_array *a, char kind, int size) {
  snprintf(a->dtype, sizeof(a->dtype), "%c%c%d", size == 1 ? '|' : '<', kind, size);
}

static size_t swapunit_of(char kind, int size) {
  if (size == 1) return 0;
  return kind == 'c' ? (size_t)size / 2 : (size_t)size;
}

static int parse_v3(cz_array *a, const cz_json *m) {
  const cz_json *nt = cz_json_get(m, "node_type"), *dt = cz_json_get(m, "data_type");
  const cz_json *grid = cz_json_get(m, "chunk_grid"), *gname, *gcfg, *kenc, *st;
  const dtype_info *d;
  int r, chunk_ndim;
  if (!nt || nt->type != CZ_JSON_STRING || strcmp(nt->str, "array") != 0)
    return cz_fail(CZ_ENOTFOUND, "%s holds a %s, not an array", a->path,
                   nt && nt->type == CZ_JSON_STRING ? nt->str : "node without node_type");
  a->ndim = -1;
  if ((r = parse_dims(cz_json_get(m, "shape"), &a->ndim, a->shape, "shape", 0)) < 0) return r;
  if (!dt) return cz_fail(CZ_EMETADATA, "zarr.json has no data_type");
  if (dt->type != CZ_JSON_STRING) return cz_fail(CZ_EUNSUPPORTED, "unsupported data_type (not a plain name)");
  for (d = DTYPES; d->v3; d++)
    if (strcmp(d->v3, dt->str) == 0) break;
  if (!d->v3) return cz_fail(CZ_EUNSUPPORTED, "unsupported data_type '%s'", dt->str);
  a->itemsize = (size_t)d->size;
  set_dtype_name(a, d->kind, d->size);
  gname = cz_json_get(grid, "name");
  gcfg = cz_json_get(grid, "configuration");
  if (!gname || gname->type != CZ_JSON_STRING) return cz_fail(CZ_EMETADATA, "zarr.json: bad chunk_grid");
  if (strcmp(gname->str, "regular") != 0)
    return cz_fail(CZ_EUNSUPPORTED, "unsupported chunk_grid '%s'", gname->str);
  chunk_ndim = a->ndim;
  if ((r = parse_dims(cz_json_get(gcfg, "chunk_shape"), &chunk_ndim, a->chunks, "chunk_shape", 1)) < 0) return r;
  kenc = cz_json_get(m, "chunk_key_encoding");
  strcpy(a->key_prefix, "c");
  a->separator = '/';
  if (kenc) {
    const cz_json *kn = cz_json_get(kenc, "name"), *sep = cz_json_get(cz_json_get(kenc, "configuration"), "separator");
    if (!kn || kn->type != CZ_JSON_STRING) return cz_fail(CZ_EMETADATA, "zarr.json: bad chunk_key_encoding");
    if (strcmp(kn->str, "v2") == 0) {
      a->key_prefix[0] = '\0';
      a->separator = '.';
    } else if (strcmp(kn->str, "default") != 0) {
      return cz_fail(CZ_EUNSUPPORTED, "unsupported chunk_key_encoding '%s'", kn->str);
    }
    if (sep) {
      if (sep->type != CZ_JSON_STRING || (strcmp(sep->str, "/") && strcmp(sep->str, ".")))
        return cz_fail(CZ_EMETADATA, "chunk_key_encoding separator must be '/' or '.'");
      a->separator = sep->str[0];
    }
  }
  st = cz_json_get(m, "storage_transformers");
  if (st && !(st->type == CZ_JSON_ARRAY && st->len == 0))
    return cz_fail(CZ_EUNSUPPORTED, "storage_transformers are not supported");
  if ((r = parse_fill(a, cz_json_get(m, "fill_value"), d->kind)) < 0) return r;
  return cz_chain_from_v3(&a->chain, cz_json_get(m, "codecs"), a->ndim, a->chunks, a->itemsize,
                          swapunit_of(d->kind, d->size), a->fill, "zarr.json");
}

static int parse_v2(cz_array *a, const cz_json *m) {
  const cz_json *dt = cz_json_get(m, "dtype"), *order = cz_json_get(m, "order");
  const cz_json *comp = cz_json_get(m, "compressor"), *filters = cz_json_get(m, "filters");
  const cz_json *sep = cz_json_get(m, "dimension_separator");
  const dtype_info *d;
  char bo, kind;
  int size = 0, r, chunk_ndim, i;
  char *endp;
  a->ndim = -1;
  if ((r = parse_dims(cz_json_get(m, "shape"), &a->ndim, a->shape, "shape", 0)) < 0) return r;
  chunk_ndim = a->ndim;
  if ((r = parse_dims(cz_json_get(m, "chunks"), &chunk_ndim, a->chunks, "chunks", 1)) < 0) return r;
  if (!dt) return cz_fail(CZ_EMETADATA, ".zarray has no dtype");
  if (dt->type != CZ_JSON_STRING) return cz_fail(CZ_EUNSUPPORTED, "unsupported dtype (structured)");
  bo = dt->str[0];
  kind = bo ? dt->str[1] : 0;
  if (bo && kind) size = (int)strtol(dt->str + 2, &endp, 10);
  if (!bo || !kind || (bo != '<' && bo != '>' && bo != '|' && bo != '=') || size <= 0 || *endp ||
      !(d = find_dtype(kind, size)))
    return cz_fail(CZ_EUNSUPPORTED, "unsupported dtype '%s'", dt->str);
  a->itemsize = (size_t)size;
  set_dtype_name(a, kind, size);
  if (order && (order->type != CZ_JSON_STRING || (strcmp(order->str, "C") && strcmp(order->str, "F"))))
    return cz_fail(CZ_EMETADATA, ".zarray: order must be 'C' or 'F'");
  a->key_prefix[0] = '\0';
  a->separator = '.';
  if (sep && sep->type != CZ_JSON_NULL) {
    if (sep->type != CZ_JSON_STRING || (strcmp(sep->str, "/") && strcmp(sep->str, ".")))
      return cz_fail(CZ_EMETADATA, ".zarray: dimension_separator must be '/' or '.'");
    a->separator = sep->str[0];
  }
  if (filters && filters->type != CZ_JSON_NULL) {
    if (filters->type != CZ_JSON_ARRAY) return cz_fail(CZ_EMETADATA, ".zarray: filters must be a list or null");
    if (filters->len) {
      const cz_json *id = cz_json_get(filters->items[0], "id");
      return cz_fail(CZ_EUNSUPPORTED, "unsupported filter '%s' (the C library reads v2 arrays without filters)",
                     id && id->type == CZ_JSON_STRING ? id->str : "?");
    }
  }
  if ((r = parse_fill(a, cz_json_get(m, "fill_value"), kind)) < 0) return r;
  /* the chain: F order = transpose with the axes reversed; then the compressor */
  {
    cz_chain *c = &a->chain;
    memset(c, 0, sizeof(*c));
    c->ndim = a->ndim;
    memcpy(c->shape, a->chunks, sizeof(int64_t) * (size_t)a->ndim);
    c->itemsize = a->itemsize;
    c->fill = a->fill;
    c->nbytes = cz_prod(a->ndim, a->chunks);
    if (c->nbytes < 0 || c->nbytes > CZ_MAX_CHUNK_BYTES / (int64_t)a->itemsize)
      return cz_fail(CZ_EUNSUPPORTED, "chunks of %lld elements are too large", (long long)c->nbytes);
    c->nbytes *= (int64_t)a->itemsize;
    c->swapunit = bo == '>' ? swapunit_of(kind, size) : 0;
    if (order && order->str[0] == 'F' && a->ndim > 1) {
      c->has_perm = 1;
      for (i = 0; i < a->ndim; i++) c->perm[i] = a->ndim - 1 - i;
    }
    if (comp && comp->type != CZ_JSON_NULL) {
      const cz_json *id = cz_json_get(comp, "id");
      if (!id || id->type != CZ_JSON_STRING) return cz_fail(CZ_EMETADATA, ".zarray: compressor has no id");
      if ((r = cz_bb_from_json(&c->bb[0], comp, id->str, 1, a->itemsize)) < 0) return r;
      if (c->bb[0].kind == CZ_BB_CRC32C)
        return cz_fail(CZ_EUNSUPPORTED, "unsupported compressor 'crc32c' in a v2 array");
      c->nbb = 1;
    }
  }
  return 0;
}

static int load_json(const char *file, cz_json **out, int *found) {
  uint8_t *buf;
  size_t len;
  char err[160];
  int r = cz_read_file(file, &buf, &len);
  *found = r == 1;
  *out = NULL;
  if (r <= 0) return r;
  *out = cz_json_parse((const char *)buf, len, err, sizeof(err));
  free(buf);
  if (!*out) return cz_fail(CZ_EMETADATA, "%s: %s", file, err);
  if ((*out)->type != CZ_JSON_OBJECT) {
    cz_json_free(*out);
    *out = NULL;
    return cz_fail(CZ_EMETADATA, "%s: not a JSON object", file);
  }
  return 0;
}

int cz_parse_metadata(cz_array *a, const char *path) {
  size_t n = strlen(path);
  char *file = (char *)malloc(n + 16);
  cz_json *m = NULL;
  const cz_json *fmt;
  int found, r;
  int64_t zf;
  if (!file) return cz_fail(CZ_ENOMEM, "out of memory");
  sprintf(file, "%s/zarr.json", path);
  r = load_json(file, &m, &found);
  if (r == 0 && !found) {
    sprintf(file, "%s/.zarray", path);
    r = load_json(file, &m, &found);
    if (r == 0 && !found) {
      free(file);
      return cz_fail(CZ_ENOTFOUND, "no array at %s (neither zarr.json nor .zarray)", path);
    }
  }
  if (r < 0) goto done;
  fmt = cz_json_get(m, "zarr_format");
  if (cz_json_int64(fmt, &zf) || (zf != 2 && zf != 3)) {
    r = cz_fail(CZ_EMETADATA, "%s: zarr_format must be 2 or 3", file);
    goto done;
  }
  if ((zf == 3) != (strstr(file, "zarr.json") != NULL)) {
    r = cz_fail(CZ_EMETADATA, "%s: zarr_format %lld in the wrong file", file, (long long)zf);
    goto done;
  }
  a->zarr_format = (int)zf;
  r = zf == 3 ? parse_v3(a, m) : parse_v2(a, m);
  if (r < 0 && r != CZ_ENOTFOUND) cz_fail_prefix(r, file);
done:
  cz_json_free(m);
  free(file);
  return r;
}
