/*
 * tests/capi/cz_check.c -- a command-line driver of the chunkzip C API for tests/test_capi.py.
 *
 *   cz_check info PATH                         -> "ndim dtype itemsize shape... | chunks..."
 *   cz_check read PATH MODE OUT s0,s1,.. e0,e1,..   raw C-order box into file OUT
 *   cz_check write PATH MODE IN s0,.. e0,..          raw C-order box from file IN
 *   cz_check threads PATH NTHREADS REPEAT      every thread reads the whole array REPEAT
 *                                              times and compares with a first read
 *   cz_check bcompress IN OUT TYPESIZE CNAME CLEVEL SHUFFLE BLOCKSIZE
 *   cz_check bdecompress IN OUT CAPACITY
 *   cz_check misuse                            NULL arguments and bad modes, in one go
 * On failure: "ERROR <code>: <message>" on stderr, exit status 3.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkzip.h"

static int fail(void) {
  fprintf(stderr, "ERROR %d: %s\n", cz_last_error_code(), cz_last_error());
  return 3;
}

static int parse_box(const char *s, int64_t *v, int ndim) {
  int i = 0;
  char *end;
  if (ndim == 0) return strcmp(s, "-") == 0 ? 0 : -1;
  while (i < ndim) {
    v[i++] = strtoll(s, &end, 10);
    if (*end == ',') s = end + 1;
    else if (*end == '\0') break;
    else return -1;
  }
  return i == ndim ? 0 : -1;
}

static unsigned char *load(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  unsigned char *b;
  long len;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  len = ftell(f);
  fseek(f, 0, SEEK_SET);
  b = (unsigned char *)malloc(len > 0 ? (size_t)len : 1);
  if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
    free(b);
    b = NULL;
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

static int save(const char *path, const void *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  if (n && fwrite(b, 1, n, f) != n) {
    fclose(f);
    return -1;
  }
  return fclose(f);
}

static int64_t box_bytes(cz_array *a, const int64_t *s, const int64_t *e) {
  int64_t n = cz_itemsize(a);
  int d;
  for (d = 0; d < cz_ndim(a); d++) n *= (e[d] > s[d] ? e[d] - s[d] : 0);
  return n;
}

typedef struct {
  cz_array *a;
  const unsigned char *ref;
  int64_t nbytes;
  int repeat;
  int ok;
} thread_arg;

static void *reader(void *p) {
  thread_arg *t = (thread_arg *)p;
  int64_t start[CZ_MAX_NDIM] = {0}, stop[CZ_MAX_NDIM];
  unsigned char *buf = (unsigned char *)malloc(t->nbytes ? (size_t)t->nbytes : 1);
  int i;
  cz_shape(t->a, stop);
  t->ok = buf != NULL;
  for (i = 0; i < t->repeat && t->ok; i++)
    t->ok = cz_read(t->a, start, stop, buf) == 0 && memcmp(buf, t->ref, (size_t)t->nbytes) == 0;
  free(buf);
  return NULL;
}

static int misuse(void) {
  int64_t s[1] = {0}, e[1] = {1};
  char buf[64];
  int bad = 0;
  /* each call must fail cleanly with a message */
#define EXPECT(cond) do { if (!(cond) || cz_last_error()[0] == '\0') { printf("unexpected: %s\n", #cond); bad++; } } while (0)
  EXPECT(cz_open(NULL, "r") == NULL && cz_last_error_code() == CZ_EINVAL);
  EXPECT(cz_open(".", NULL) == NULL && cz_last_error_code() == CZ_EINVAL);
  EXPECT(cz_open(".", "w") == NULL && cz_last_error_code() == CZ_EINVAL);
  EXPECT(cz_read(NULL, s, e, buf) == CZ_EINVAL);
  EXPECT(cz_write(NULL, s, e, buf) == CZ_EINVAL);
  EXPECT(cz_ndim(NULL) == CZ_EINVAL);
  EXPECT(cz_dtype(NULL) == NULL);
  EXPECT(cz_blosc_compress(buf, 8, 4, "nope", 5, 1, 0, buf, sizeof(buf)) == CZ_EINVAL);
  EXPECT(cz_blosc_compress(buf, 8, 4, "lz4", 10, 1, 0, buf, sizeof(buf)) == CZ_EINVAL);
  EXPECT(cz_blosc_compress(buf, 8, 4, "lz4", 5, 3, 0, buf, sizeof(buf)) == CZ_EINVAL);
  EXPECT(cz_blosc_compress(buf, 60, 4, "lz4", 5, 1, 0, buf, 70) == CZ_EDEST);
  EXPECT(cz_blosc_decompress(buf, 3, buf, sizeof(buf)) == CZ_ECORRUPT);
  EXPECT(cz_blosc_decompress(NULL, 3, buf, sizeof(buf)) == CZ_EINVAL);
  cz_close(NULL);
  printf("%s %d\n", cz_version(), bad);
  return bad ? 1 : 0;
#undef EXPECT
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "misuse") == 0) return misuse();
  if (strcmp(cmd, "info") == 0 && argc == 3) {
    int64_t shape[CZ_MAX_NDIM], chunks[CZ_MAX_NDIM];
    cz_array *a = cz_open(argv[2], "r");
    int d, n;
    if (!a) return fail();
    n = cz_shape(a, shape);
    cz_chunks(a, chunks);
    printf("%d %s %d", n, cz_dtype(a), cz_itemsize(a));
    for (d = 0; d < n; d++) printf(" %lld", (long long)shape[d]);
    printf(" |");
    for (d = 0; d < n; d++) printf(" %lld", (long long)chunks[d]);
    printf("\n");
    cz_close(a);
    return 0;
  }
  if ((strcmp(cmd, "read") == 0 || strcmp(cmd, "write") == 0) && argc == 7) {
    int64_t s[CZ_MAX_NDIM], e[CZ_MAX_NDIM], nb;
    cz_array *a = cz_open(argv[2], argv[3]);
    unsigned char *buf;
    size_t n = 0;
    int r;
    if (!a) return fail();
    if (parse_box(argv[5], s, cz_ndim(a)) || parse_box(argv[6], e, cz_ndim(a))) {
      fprintf(stderr, "bad box\n");
      cz_close(a);
      return 2;
    }
    nb = box_bytes(a, s, e);
    if (cmd[0] == 'r') {
      buf = (unsigned char *)malloc(nb ? (size_t)nb : 1);
      r = cz_read(a, s, e, buf);
      if (r == 0 && save(argv[4], buf, (size_t)nb)) r = -100;
    } else {
      buf = load(argv[4], &n);
      r = buf && (int64_t)n == nb ? cz_write(a, s, e, buf) : -100;
    }
    free(buf);
    cz_close(a);
    if (r == -100) {
      fprintf(stderr, "file error\n");
      return 2;
    }
    return r ? fail() : 0;
  }
  if (strcmp(cmd, "threads") == 0 && argc == 5) {
    int nt = atoi(argv[3]), i, ok = 1;
    thread_arg args[16];
    pthread_t th[16];
    int64_t start[CZ_MAX_NDIM] = {0}, stop[CZ_MAX_NDIM];
    cz_array *a = cz_open(argv[2], "r");
    unsigned char *ref;
    if (!a) return fail();
    if (nt < 1 || nt > 16) nt = 4;
    cz_shape(a, stop);
    args[0].nbytes = box_bytes(a, start, stop);
    ref = (unsigned char *)malloc(args[0].nbytes ? (size_t)args[0].nbytes : 1);
    if (cz_read(a, start, stop, ref)) {
      free(ref);
      cz_close(a);
      return fail();
    }
    for (i = 0; i < nt; i++) {
      args[i].a = a;
      args[i].ref = ref;
      args[i].nbytes = args[0].nbytes;
      args[i].repeat = atoi(argv[4]);
      pthread_create(&th[i], NULL, reader, &args[i]);
    }
    for (i = 0; i < nt; i++) {
      pthread_join(th[i], NULL);
      ok &= args[i].ok;
    }
    free(ref);
    cz_close(a);
    printf("%s\n", ok ? "same" : "DIFFERENT");
    return ok ? 0 : 1;
  }
  if (strcmp(cmd, "bcompress") == 0 && argc == 9) {
    size_t n;
    unsigned char *src = load(argv[2], &n), *dst;
    size_t cap = cz_blosc_max_compressed_size(n);
    int64_t r;
    if (!src) return 2;
    dst = (unsigned char *)malloc(cap);
    r = cz_blosc_compress(src, n, (size_t)atol(argv[4]), argv[5], atoi(argv[6]), atoi(argv[7]),
                          (size_t)atol(argv[8]), dst, cap);
    if (r >= 0) save(argv[3], dst, (size_t)r);
    free(src);
    free(dst);
    return r < 0 ? fail() : 0;
  }
  if (strcmp(cmd, "bdecompress") == 0 && argc == 5) {
    size_t n, cap = (size_t)atol(argv[4]);
    unsigned char *src = load(argv[2], &n), *dst;
    int64_t r;
    if (!src) return 2;
    dst = (unsigned char *)malloc(cap ? cap : 1);
    r = cz_blosc_decompress(src, n, dst, cap);
    if (r >= 0) save(argv[3], dst, (size_t)r);
    free(src);
    free(dst);
    return r < 0 ? fail() : 0;
  }
  fprintf(stderr, "usage: see the comment at the top of cz_check.c\n");
  return 2;
}
