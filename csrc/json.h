/*
 * chunkzip: a small JSON reader (RFC 8259) for Zarr metadata documents.
 *
 * cz_json_parse builds a tree of cz_json values from a UTF-8 text; cz_json_free frees
 * it.  Strings are unescaped (\uXXXX, surrogate pairs included) and NUL-terminated;
 * numbers keep their source text so that the caller converts them exactly to the type
 * it needs (int64, uint64 or double).  Nesting is bounded (CZ_JSON_MAX_DEPTH) so a
 * hostile document cannot exhaust the stack.  No global state: thread safe.
 */
#ifndef CHUNKZIP_JSON_H
#define CHUNKZIP_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CZ_JSON_MAX_DEPTH 64

typedef enum {
  CZ_JSON_NULL, CZ_JSON_FALSE, CZ_JSON_TRUE, CZ_JSON_NUMBER, CZ_JSON_STRING,
  CZ_JSON_ARRAY, CZ_JSON_OBJECT
} cz_json_type;

typedef struct cz_json cz_json;
struct cz_json {
  cz_json_type type;
  char *str;        /* STRING: unescaped text; NUMBER: the number's source text */
  size_t len;       /* STRING: byte length; ARRAY/OBJECT: number of items */
  cz_json **items;  /* ARRAY/OBJECT: the values */
  char **keys;      /* OBJECT: the member names (same order as items) */
};

/* Parse `len` bytes.  Returns NULL on failure and writes a message (with the byte
   offset) into err (errlen bytes, may be 0). */
cz_json *cz_json_parse(const char *text, size_t len, char *err, size_t errlen);
void cz_json_free(cz_json *v);

/* Member `key` of an object, NULL when absent or `obj` is not an object. */
const cz_json *cz_json_get(const cz_json *obj, const char *key);

/* Number conversions; return 0 on success, -1 when `v` is not a number of that
   kind (integers must be written without fraction or exponent). */
int cz_json_int64(const cz_json *v, int64_t *out);
int cz_json_uint64(const cz_json *v, uint64_t *out);
int cz_json_double(const cz_json *v, double *out);

#ifdef __cplusplus
}
#endif

#endif /* CHUNKZIP_JSON_H */
