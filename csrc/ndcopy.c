/* chunkzip C library: N-d strided copies, byte swapping, shape arithmetic. */
#include <string.h>

#include "cz_internal.h"

int64_t cz_prod(int ndim, const int64_t *shape) {
  int64_t p = 1;
  int i;
  for (i = 0; i < ndim; i++) {
    if (shape[i] < 0) return -1;
    if (shape[i] && p > INT64_MAX / shape[i]) return -1;
    p *= shape[i];
  }
  return p;
}

void cz_c_strides(int ndim, const int64_t *shape, size_t itemsize, int64_t *strides) {
  int64_t s = (int64_t)itemsize;
  int i;
  for (i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
}

/* The innermost row: n elements. */
static void copy_row(int64_t n, size_t itemsize, uint8_t *dst, int64_t ds, const uint8_t *src,
                     int64_t ss) {
  int64_t i;
  if (ds == (int64_t)itemsize && ss == (int64_t)itemsize) {
    memcpy(dst, src, (size_t)n * itemsize);
    return;
  }
  switch (itemsize) {
#define CZ_ROW(T)                                                        \
  for (i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, sizeof(T)); \
  return;
    case 1: for (i = 0; i < n; i++) dst[i * ds] = src[i * ss]; return;
    case 2: CZ_ROW(uint16_t)
    case 4: CZ_ROW(uint32_t)
    case 8: CZ_ROW(uint64_t)
#undef CZ_ROW
    default:
      for (i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, itemsize);
  }
}

void cz_copy_nd(int ndim, const int64_t *shape, size_t itemsize, uint8_t *dst,
                const int64_t *dst_strides, const uint8_t *src, const int64_t *src_strides) {
  int64_t idx[CZ_MAX_NDIM];
  int d, last;
  if (ndim == 0) {
    memcpy(dst, src, itemsize);
    return;
  }
  for (d = 0; d < ndim; d++) {
    if (shape[d] <= 0) return;
    idx[d] = 0;
  }
  last = ndim - 1;
  /* merge the inner axis with its outer neighbours while both sides stay contiguous */
  {
    int64_t n = shape[last];
    while (last > 0 && dst_strides[last] == (int64_t)itemsize &&
           src_strides[last] == (int64_t)itemsize &&
           dst_strides[last - 1] == n * (int64_t)itemsize &&
           src_strides[last - 1] == n * (int64_t)itemsize) {
      n *= shape[last - 1];
      last--;
    }
    for (;;) {
      const uint8_t *s = src;
      uint8_t *t = dst;
      for (d = 0; d < last; d++) {
        s += idx[d] * src_strides[d];
        t += idx[d] * dst_strides[d];
      }
      copy_row(n, itemsize, t, dst_strides[ndim - 1], s, src_strides[ndim - 1]);
      for (d = last - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
      if (d < 0) break;
    }
  }
}

void cz_byteswap(uint8_t *buf, size_t nelems, size_t unit) {
  size_t i, j;
  if (unit < 2) return;
  for (i = 0; i < nelems; i++) {
    uint8_t *p = buf + i * unit;
    for (j = 0; j < unit / 2; j++) {
      uint8_t t = p[j];
      p[j] = p[unit - 1 - j];
      p[unit - 1 - j] = t;
    }
  }
}
