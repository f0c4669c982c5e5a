/* chunkzip: a small JSON reader.  See json.h. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p, *end, *start;
  char *err;
  size_t errlen;
} parser;

static void fail(parser *ps, const char *what) {
  if (ps->errlen && ps->err[0] == '\0')
    snprintf(ps->err, ps->errlen, "malformed JSON at byte %ld: %s", (long)(ps->p - ps->start), what);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static cz_json *new_value(cz_json_type t) {
  cz_json *v = (cz_json *)calloc(1, sizeof(cz_json));
  if (v) v->type = t;
  return v;
}

void cz_json_free(cz_json *v) {
  size_t i;
  if (!v) return;
  for (i = 0; i < v->len && v->items; i++) cz_json_free(v->items[i]);
  if (v->keys)
    for (i = 0; i < v->len; i++) free(v->keys[i]);
  free(v->items);
  free(v->keys);
  free(v->str);
  free(v);
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) { o[0] = (char)cp; return 1; }
  if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

/* Parse a string starting at the opening quote; returns a malloc'ed NUL-terminated copy. */
static char *parse_string(parser *ps, size_t *outlen) {
  const char *q;
  char *buf, *o;
  ps->p++; /* opening quote */
  /* the unescaped text is never longer than the escaped one */
  for (q = ps->p; q < ps->end && *q != '"'; q++)
    if (*q == '\\') q++;
  if (q >= ps->end) { fail(ps, "unterminated string"); return NULL; }
  buf = (char *)malloc((size_t)(q - ps->p) + 1);
  if (!buf) { fail(ps, "out of memory"); return NULL; }
  o = buf;
  while (*ps->p != '"') {
    unsigned char c = (unsigned char)*ps->p;
    if (c < 0x20) { fail(ps, "control character in string"); free(buf); return NULL; }
    if (c != '\\') { *o++ = (char)c; ps->p++; continue; }
    ps->p++;
    switch (*ps->p) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp, lo;
        if (ps->end - ps->p < 5 || hex4(ps->p + 1, &cp)) { fail(ps, "bad \\u escape"); free(buf); return NULL; }
        ps->p += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
          if (ps->end - ps->p < 7 || ps->p[1] != '\\' || ps->p[2] != 'u' || hex4(ps->p + 3, &lo) ||
              lo < 0xDC00 || lo > 0xDFFF) {
            fail(ps, "unpaired surrogate"); free(buf); return NULL;
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          ps->p += 6;
        } else if (cp >= 0xDC00 && cp < 0xE000) {
          fail(ps, "unpaired surrogate"); free(buf); return NULL;
        }
        o += put_utf8(o, cp); /* at most 4 bytes for >= 6 (or 12) escaped bytes */
        break;
      }
      default: fail(ps, "bad escape"); free(buf); return NULL;
    }
    ps->p++;
  }
  ps->p++; /* closing quote */
  *o = '\0';
  *outlen = (size_t)(o - buf);
  return buf;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static cz_json *parse_value(parser *ps, int depth);

static int push(cz_json *v, size_t *cap, cz_json *item, char *key) {
  if (v->len == *cap) {
    size_t nc = *cap ? *cap * 2 : 4;
    cz_json **ni = (cz_json **)realloc(v->items, nc * sizeof(*ni));
    if (!ni) return -1;
    v->items = ni;
    if (v->type == CZ_JSON_OBJECT) {
      char **nk = (char **)realloc(v->keys, nc * sizeof(*nk));
      if (!nk) return -1;
      v->keys = nk;
    }
    *cap = nc;
  }
  v->items[v->len] = item;
  if (v->type == CZ_JSON_OBJECT) v->keys[v->len] = key;
  v->len++;
  return 0;
}

static cz_json *parse_container(parser *ps, int depth, int is_object) {
  cz_json *v = new_value(is_object ? CZ_JSON_OBJECT : CZ_JSON_ARRAY);
  size_t cap = 0;
  char close = is_object ? '}' : ']';
  if (!v) { fail(ps, "out of memory"); return NULL; }
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
  for (;;) {
    char *key = NULL;
    size_t klen;
    cz_json *item;
    skip_ws(ps);
    if (is_object) {
      if (ps->p >= ps->end || *ps->p != '"') { fail(ps, "expected a member name"); goto error; }
      key = parse_string(ps, &klen);
      if (!key) goto error;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') { fail(ps, "expected ':'"); free(key); goto error; }
      ps->p++;
    }
    item = parse_value(ps, depth + 1);
    if (!item) { free(key); goto error; }
    if (push(v, &cap, item, key)) { fail(ps, "out of memory"); cz_json_free(item); free(key); goto error; }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
    fail(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    goto error;
  }
error:
  cz_json_free(v);
  return NULL;
}

static cz_json *parse_number(parser *ps) {
  const char *s = ps->p;
  cz_json *v;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end || !is_digit(*ps->p)) { fail(ps, "bad number"); return NULL; }
  if (*ps->p == '0') ps->p++;
  else while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || !is_digit(*ps->p)) { fail(ps, "bad number"); return NULL; }
    while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || !is_digit(*ps->p)) { fail(ps, "bad number"); return NULL; }
    while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
  }
  v = new_value(CZ_JSON_NUMBER);
  if (!v || !(v->str = (char *)malloc((size_t)(ps->p - s) + 1))) {
    free(v); fail(ps, "out of memory"); return NULL;
  }
  memcpy(v->str, s, (size_t)(ps->p - s));
  v->str[ps->p - s] = '\0';
  v->len = (size_t)(ps->p - s);
  return v;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
  ps->p += n;
  return 1;
}

static cz_json *parse_value(parser *ps, int depth) {
  if (depth > CZ_JSON_MAX_DEPTH) { fail(ps, "nesting too deep"); return NULL; }
  skip_ws(ps);
  if (ps->p >= ps->end) { fail(ps, "unexpected end of text"); return NULL; }
  switch (*ps->p) {
    case '{': return parse_container(ps, depth, 1);
    case '[': return parse_container(ps, depth, 0);
    case '"': {
      cz_json *v = new_value(CZ_JSON_STRING);
      if (!v) { fail(ps, "out of memory"); return NULL; }
      v->str = parse_string(ps, &v->len);
      if (!v->str) { free(v); return NULL; }
      return v;
    }
    case 't': if (literal(ps, "true")) return new_value(CZ_JSON_TRUE); break;
    case 'f': if (literal(ps, "false")) return new_value(CZ_JSON_FALSE); break;
    case 'n': if (literal(ps, "null")) return new_value(CZ_JSON_NULL); break;
    /* Python's json writes these for non-finite floats (zarr v2 metadata may hold them) */
    case 'N': if (literal(ps, "NaN")) { ps->p -= 3; goto special; } break;
    case 'I': if (literal(ps, "Infinity")) { ps->p -= 8; goto special; } break;
    default:
      if (*ps->p == '-' && ps->end - ps->p >= 9 && memcmp(ps->p, "-Infinity", 9) == 0) goto special;
      return parse_number(ps);
  }
  fail(ps, "unexpected character");
  return NULL;
special: {
    size_t n = *ps->p == 'N' ? 3 : (*ps->p == 'I' ? 8 : 9);
    cz_json *v = new_value(CZ_JSON_NUMBER);
    if (!v || !(v->str = (char *)malloc(n + 1))) { free(v); fail(ps, "out of memory"); return NULL; }
    memcpy(v->str, ps->p, n);
    v->str[n] = '\0';
    v->len = n;
    ps->p += n;
    return v;
  }
}

cz_json *cz_json_parse(const char *text, size_t len, char *err, size_t errlen) {
  parser ps;
  cz_json *v;
  ps.p = ps.start = text;
  ps.end = text + len;
  ps.err = err;
  ps.errlen = errlen;
  if (errlen) err[0] = '\0';
  v = parse_value(&ps, 0);
  if (!v) return NULL;
  skip_ws(&ps);
  if (ps.p != ps.end) {
    fail(&ps, "trailing characters");
    cz_json_free(v);
    return NULL;
  }
  return v;
}

const cz_json *cz_json_get(const cz_json *obj, const char *key) {
  size_t i;
  if (!obj || obj->type != CZ_JSON_OBJECT) return NULL;
  for (i = 0; i < obj->len; i++)
    if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
  return NULL;
}

static int is_integer_text(const char *s) {
  if (*s == '-') s++;
  if (!is_digit(*s)) return 0;
  for (; *s; s++)
    if (!is_digit(*s)) return 0;
  return 1;
}

int cz_json_int64(const cz_json *v, int64_t *out) {
  char *endp;
  long long r;
  if (!v || v->type != CZ_JSON_NUMBER || !is_integer_text(v->str)) return -1;
  errno = 0;
  r = strtoll(v->str, &endp, 10);
  if (errno || *endp) return -1;
  *out = (int64_t)r;
  return 0;
}

int cz_json_uint64(const cz_json *v, uint64_t *out) {
  char *endp;
  unsigned long long r;
  if (!v || v->type != CZ_JSON_NUMBER || !is_integer_text(v->str) || v->str[0] == '-') return -1;
  errno = 0;
  r = strtoull(v->str, &endp, 10);
  if (errno || *endp) return -1;
  *out = (uint64_t)r;
  return 0;
}

int cz_json_double(const cz_json *v, double *out) {
  char *endp;
  if (!v || v->type != CZ_JSON_NUMBER) return -1;
  if (strcmp(v->str, "NaN") == 0) { *out = 0.0 / 0.0; return 0; }
  if (strcmp(v->str, "Infinity") == 0) { *out = 1.0 / 0.0; return 0; }
  if (strcmp(v->str, "-Infinity") == 0) { *out = -1.0 / 0.0; return 0; }
  errno = 0;
  *out = strtod(v->str, &endp);
  if (*endp) return -1;
  return 0; /* overflow to +-inf is accepted, as Python's json does */
}
