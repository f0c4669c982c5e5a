/*
 * examples/c/window.c -- open a Zarr array written by Python, read a window, write one back.
 *
 *   python -c "import chunkzip, numpy as np; chunkzip.array(np.arange(10000, dtype='i4').reshape(100, 100), \
 *              chunks=(32, 32), store='demo.zarr')"
 *   make && ./window demo.zarr
 *
 * The window [10, 15) x [20, 26) is printed, then multiplied by -1 and written back;
 * Python sees the change: chunkzip.open('demo.zarr')[10:15, 20:26].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkzip.h"

int main(int argc, char **argv) {
  int64_t start[2] = {10, 20}, stop[2] = {15, 26};
  int32_t window[5][6];
  int64_t shape[CZ_MAX_NDIM];
  cz_array *a;
  int i, j;

  if (argc != 2) {
    fprintf(stderr, "usage: %s ARRAY_DIRECTORY\n", argv[0]);
    return 2;
  }
  a = cz_open(argv[1], "r+");
  if (!a) {
    fprintf(stderr, "cz_open: %s\n", cz_last_error());
    return 1;
  }
  if (cz_ndim(a) != 2 || strcmp(cz_dtype(a), "<i4") != 0) {
    fprintf(stderr, "expected a 2-d int32 array, got %d-d %s\n", cz_ndim(a), cz_dtype(a));
    cz_close(a);
    return 1;
  }
  cz_shape(a, shape);
  printf("chunkzip %s: %lld x %lld %s\n", cz_version(), (long long)shape[0], (long long)shape[1],
         cz_dtype(a));
  if (cz_read(a, start, stop, window) != 0) {
    fprintf(stderr, "cz_read: %s\n", cz_last_error());
    cz_close(a);
    return 1;
  }
  for (i = 0; i < 5; i++) {
    for (j = 0; j < 6; j++) {
      printf(" %6d", window[i][j]);
      window[i][j] = -window[i][j];
    }
    printf("\n");
  }
  if (cz_write(a, start, stop, window) != 0) {
    fprintf(stderr, "cz_write: %s\n", cz_last_error());
    cz_close(a);
    return 1;
  }
  cz_close(a);
  return 0;
}
