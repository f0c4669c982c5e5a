/*
 * chunkzip C library: array handles, the chunk grid, chunk keys, and the box
 * reads and writes of the public API.  cz_read decodes the chunks of a box on a few
 * threads (each with its own scratch); cz_write re-encodes each touched chunk and
 * replaces its file atomically.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cz_internal.h"

#define MAX_READ_THREADS 8

cz_array *cz_open(const char *path, const char *mode) {
  cz_array *a;
  int r;
  cz_lib_init();
  if (!path || !mode) {
    cz_fail(CZ_EINVAL, "cz_open: NULL %s", path ? "mode" : "path");
    return NULL;
  }
  if (strcmp(mode, "r") != 0 && strcmp(mode, "r+") != 0) {
    cz_fail(CZ_EINVAL, "cz_open: mode must be \"r\" or \"r+\", not \"%s\"", mode);
    return NULL;
  }
  a = (cz_array *)calloc(1, sizeof(cz_array));
  if (!a || !(a->path = strdup(path))) {
    free(a);
    cz_fail(CZ_ENOMEM, "out of memory");
    return NULL;
  }
  { /* no trailing slash: keys are appended with one */
    size_t n = strlen(a->path);
    while (n > 1 && a->path[n - 1] == '/') a->path[--n] = '\0';
  }
  a->writable = mode[1] == '+';
  r = cz_parse_metadata(a, a->path);
  if (r < 0) {
    cz_close(a);
    return NULL;
  }
  return a;
}

void cz_close(cz_array *a) {
  if (!a) return;
  cz_chain_free(&a->chain);
  free(a->path);
  free(a);
}

int cz_ndim(const cz_array *a) {
  if (!a) return cz_fail(CZ_EINVAL, "NULL array");
  return a->ndim;
}

int cz_shape(const cz_array *a, int64_t *shape) {
  if (!a || (!shape && a->ndim)) return cz_fail(CZ_EINVAL, "NULL argument");
  if (a->ndim) memcpy(shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
  return a->ndim;
}

int cz_chunks(const cz_array *a, int64_t *chunks) {
  if (!a || (!chunks && a->ndim)) return cz_fail(CZ_EINVAL, "NULL argument");
  if (a->ndim) memcpy(chunks, a->chunks, sizeof(int64_t) * (size_t)a->ndim);
  return a->ndim;
}

const char *cz_dtype(const cz_array *a) {
  if (!a) {
    cz_fail(CZ_EINVAL, "NULL array");
    return NULL;
  }
  return a->dtype;
}

int cz_itemsize(const cz_array *a) {
  if (!a) return cz_fail(CZ_EINVAL, "NULL array");
  return (int)a->itemsize;
}

/* ---- the box and its chunks ---------------------------------------------------- */

typedef struct {
  cz_array *a;
  const int64_t *start, *stop;
  int64_t c0[CZ_MAX_NDIM], nch[CZ_MAX_NDIM]; /* first chunk and chunk count per axis */
  int64_t nchunks;
  int64_t box_strides[CZ_MAX_NDIM];
  uint8_t *out;          /* read */
  const uint8_t *in;     /* write */
  /* parallel reads */
  int64_t next;
  pthread_mutex_t lock;
  int err;
  char errmsg[512];
} box_job;

static int check_box(cz_array *a, const int64_t *start, const int64_t *stop, const void *buf,
                     box_job *job) {
  int d;
  int64_t n = 1;
  if (!a) return cz_fail(CZ_EINVAL, "NULL array");
  if (a->ndim && (!start || !stop)) return cz_fail(CZ_EINVAL, "NULL start or stop");
  if (!buf) return cz_fail(CZ_EINVAL, "NULL buffer");
  memset(job, 0, sizeof(*job));
  job->a = a;
  job->start = start;
  job->stop = stop;
  job->nchunks = 1;
  for (d = 0; d < a->ndim; d++) {
    if (start[d] < 0 || stop[d] > a->shape[d] || start[d] > stop[d])
      return cz_fail(CZ_EBOUNDS, "box [%lld, %lld) on axis %d is outside the array (0..%lld)",
                     (long long)start[d], (long long)stop[d], d, (long long)a->shape[d]);
    if (stop[d] > start[d] && n > INT64_MAX / (stop[d] - start[d])) return cz_fail(CZ_EBOUNDS, "box too large");
    n *= stop[d] - start[d];
    if (stop[d] == start[d]) {
      job->nchunks = 0;
      continue;
    }
    job->c0[d] = start[d] / a->chunks[d];
    job->nch[d] = (stop[d] - 1) / a->chunks[d] - job->c0[d] + 1;
    job->nchunks *= job->nch[d];
  }
  if (n > INT64_MAX / (int64_t)a->itemsize) return cz_fail(CZ_EBOUNDS, "box too large");
  {
    int64_t ext[CZ_MAX_NDIM];
    for (d = 0; d < a->ndim; d++) ext[d] = stop[d] - start[d];
    cz_c_strides(a->ndim, ext, a->itemsize, job->box_strides);
  }
  return 0;
}

/* Chunk number k of the box: its grid coordinates, and the part of it in the box
   (lo/hi in chunk coordinates). */
static void chunk_of(const box_job *job, int64_t k, int64_t *coords, int64_t *lo, int64_t *hi) {
  const cz_array *a = job->a;
  int d;
  for (d = a->ndim - 1; d >= 0; d--) {
    int64_t c = job->c0[d] + k % job->nch[d], base = c * a->chunks[d];
    k /= job->nch[d];
    coords[d] = c;
    lo[d] = (job->start[d] > base ? job->start[d] : base) - base;
    hi[d] = (job->stop[d] < base + a->chunks[d] ? job->stop[d] : base + a->chunks[d]) - base;
  }
}

static int chunk_path(const cz_array *a, const int64_t *coords, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "%s/%s", a->path, a->key_prefix);
  int d;
  if (a->ndim == 0) {
    if (!a->key_prefix[0]) n += (size_t)snprintf(buf + n, cap > n ? cap - n : 0, "0");
  }
  for (d = 0; d < a->ndim && n < cap; d++) {
    int first = d == 0 && !a->key_prefix[0];
    if (first) n += (size_t)snprintf(buf + n, cap - n, "%lld", (long long)coords[d]);
    else n += (size_t)snprintf(buf + n, cap - n, "%c%lld", a->separator, (long long)coords[d]);
  }
  if (n >= cap) return cz_fail(CZ_EINVAL, "chunk path too long");
  return 0;
}

/* Where the part [lo, hi) of chunk `coords` sits in the box buffer, and its extent. */
static uint8_t *box_ptr(const box_job *job, uint8_t *base, const int64_t *coords, const int64_t *lo,
                        const int64_t *hi, int64_t *ext) {
  const cz_array *a = job->a;
  int d;
  for (d = 0; d < a->ndim; d++) {
    base += (coords[d] * a->chunks[d] + lo[d] - job->start[d]) * job->box_strides[d];
    ext[d] = hi[d] - lo[d];
  }
  return base;
}

static int read_one(box_job *job, int64_t k, uint8_t *scratch) {
  cz_array *a = job->a;
  const cz_chain *c = &a->chain;
  int64_t coords[CZ_MAX_NDIM], lo[CZ_MAX_NDIM], hi[CZ_MAX_NDIM], ext[CZ_MAX_NDIM], cst[CZ_MAX_NDIM];
  int64_t zero[CZ_MAX_NDIM] = {0};
  char path[4096];
  uint8_t *data, *dst, *src = scratch;
  size_t len;
  int r, d;
  chunk_of(job, k, coords, lo, hi);
  if ((r = chunk_path(a, coords, path, sizeof(path))) < 0) return r;
  dst = box_ptr(job, job->out, coords, lo, hi, ext);
  r = cz_read_file(path, &data, &len);
  if (r < 0) return r;
  if (r == 0) { /* missing chunk */
    cz_copy_nd(a->ndim, ext, a->itemsize, dst, job->box_strides, a->fill, zero);
    return 0;
  }
  r = cz_chain_decode(c, data, len, scratch, lo, hi);
  free(data);
  if (r < 0) return cz_fail_prefix(r, path);
  cz_c_strides(a->ndim, a->chunks, a->itemsize, cst);
  for (d = 0; d < a->ndim; d++) src += lo[d] * cst[d];
  cz_copy_nd(a->ndim, ext, a->itemsize, dst, job->box_strides, src, cst);
  return 0;
}

static void *read_worker(void *arg) {
  box_job *job = (box_job *)arg;
  uint8_t *scratch = (uint8_t *)malloc((size_t)job->a->chain.nbytes);
  for (;;) {
    int64_t k;
    int r;
    pthread_mutex_lock(&job->lock);
    k = job->err ? job->nchunks : job->next++;
    pthread_mutex_unlock(&job->lock);
    if (k >= job->nchunks) break;
    r = scratch ? read_one(job, k, scratch) : cz_fail(CZ_ENOMEM, "out of memory");
    if (r < 0) {
      pthread_mutex_lock(&job->lock);
      if (!job->err) {
        job->err = r;
        snprintf(job->errmsg, sizeof(job->errmsg), "%s", cz_last_error());
      }
      pthread_mutex_unlock(&job->lock);
      break;
    }
  }
  free(scratch);
  return NULL;
}

static int read_threads(int64_t nchunks) {
  const char *env = getenv("CZ_NUM_THREADS");
  long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > MAX_READ_THREADS) n = MAX_READ_THREADS;
  if (n > nchunks) n = (long)nchunks;
  return (int)n;
}

int cz_read(cz_array *a, const int64_t *start, const int64_t *stop, void *out) {
  box_job job;
  pthread_t th[MAX_READ_THREADS];
  int r, nt, i, started = 0;
  if ((r = check_box(a, start, stop, out, &job)) < 0) return r;
  if (job.nchunks == 0) return 0;
  job.out = (uint8_t *)out;
  pthread_mutex_init(&job.lock, NULL);
  nt = read_threads(job.nchunks);
  for (i = 1; i < nt; i++) {
    if (pthread_create(&th[i], NULL, read_worker, &job) != 0) break;
    started++;
  }
  read_worker(&job); /* the calling thread works too */
  for (i = 1; i <= started; i++) pthread_join(th[i], NULL);
  pthread_mutex_destroy(&job.lock);
  if (job.err) return cz_fail(job.err, "%s", job.errmsg);
  return 0;
}

int cz_write(cz_array *a, const int64_t *start, const int64_t *stop, const void *in) {
  box_job job;
  const cz_chain *c;
  uint8_t *chunk = NULL;
  int64_t k, cst[CZ_MAX_NDIM];
  int r;
  if ((r = check_box(a, start, stop, in, &job)) < 0) return r;
  if (!a->writable) return cz_fail(CZ_EREADONLY, "array %s was opened read-only (mode \"r\")", a->path);
  if (job.nchunks == 0) return 0;
  job.in = (const uint8_t *)in;
  c = &a->chain;
  chunk = (uint8_t *)malloc((size_t)c->nbytes);
  if (!chunk) return cz_fail(CZ_ENOMEM, "out of memory for a %lld-byte chunk", (long long)c->nbytes);
  cz_c_strides(a->ndim, a->chunks, a->itemsize, cst);
  for (k = 0; k < job.nchunks && r == 0; k++) {
    int64_t coords[CZ_MAX_NDIM], lo[CZ_MAX_NDIM], hi[CZ_MAX_NDIM], ext[CZ_MAX_NDIM];
    int64_t zero[CZ_MAX_NDIM] = {0};
    char path[4096];
    const uint8_t *src;
    uint8_t *dst = chunk, *enc = NULL;
    size_t enclen;
    int d, whole = 1;
    chunk_of(&job, k, coords, lo, hi);
    if ((r = chunk_path(a, coords, path, sizeof(path))) < 0) break;
    for (d = 0; d < a->ndim; d++)
      if (lo[d] != 0 || hi[d] != a->chunks[d]) whole = 0;
    if (!whole) { /* read-modify-write */
      uint8_t *data;
      size_t len;
      r = cz_read_file(path, &data, &len);
      if (r < 0) break;
      if (r == 0) {
        cz_copy_nd(a->ndim, a->chunks, a->itemsize, chunk, cst, a->fill, zero);
      } else {
        r = cz_chain_decode(c, data, len, chunk, NULL, NULL);
        free(data);
        if (r < 0) {
          cz_fail_prefix(r, path);
          break;
        }
      }
    }
    src = box_ptr(&job, (uint8_t *)job.in, coords, lo, hi, ext);
    for (d = 0; d < a->ndim; d++) dst += lo[d] * cst[d];
    cz_copy_nd(a->ndim, ext, a->itemsize, dst, cst, src, job.box_strides);
    if ((r = cz_chain_encode(c, chunk, &enc, &enclen)) < 0) break;
    r = enc ? cz_write_file_atomic(path, enc, enclen) : cz_delete_file(path);
    free(enc);
  }
  free(chunk);
  return r < 0 ? r : 0;
}
