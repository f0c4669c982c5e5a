/* chunkzip C library: whole-file reads and atomic replacement of chunk files. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cz_internal.h"

int cz_read_file(const char *path, uint8_t **buf, size_t *len) {
  struct stat st;
  int fd = open(path, O_RDONLY);
  size_t got = 0;
  uint8_t *b;
  *buf = NULL;
  *len = 0;
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return 0;
    return cz_fail(CZ_EIO, "cannot open %s: %s", path, strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return cz_fail(CZ_EIO, "%s is not a regular file", path);
  }
  b = (uint8_t *)malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
  if (!b) {
    close(fd);
    return cz_fail(CZ_ENOMEM, "out of memory reading %s (%lld bytes)", path, (long long)st.st_size);
  }
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = errno;
      free(b);
      close(fd);
      return cz_fail(CZ_EIO, "cannot read %s: %s", path, r < 0 ? strerror(e) : "file shrank");
    }
    got += (size_t)r;
  }
  close(fd);
  *buf = b;
  *len = got;
  return 1;
}

static int make_parents(char *path) {
  char *p;
  for (p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      *p = '/';
      return cz_fail(CZ_EIO, "cannot create directory for %s: %s", path, strerror(e));
    }
    *p = '/';
  }
  return 0;
}

int cz_write_file_atomic(const char *path, const uint8_t *buf, size_t len) {
  size_t n = strlen(path);
  char *tmp = (char *)malloc(n + 16);
  size_t done = 0;
  int fd, r;
  if (!tmp) return cz_fail(CZ_ENOMEM, "out of memory");
  memcpy(tmp, path, n + 1);
  if ((r = make_parents(tmp)) < 0) {
    free(tmp);
    return r;
  }
  memcpy(tmp + n, ".tmpXXXXXX", 11);
  fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    free(tmp);
    return cz_fail(CZ_EIO, "cannot create a temporary file next to %s: %s", path, strerror(e));
  }
  fchmod(fd, 0644);
  while (done < len) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      close(fd);
      unlink(tmp);
      free(tmp);
      return cz_fail(CZ_EIO, "cannot write %s: %s", path, strerror(e));
    }
    done += (size_t)w;
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    free(tmp);
    return cz_fail(CZ_EIO, "cannot replace %s: %s", path, strerror(e));
  }
  free(tmp);
  return 0;
}

int cz_delete_file(const char *path) {
  if (unlink(path) != 0 && errno != ENOENT)
    return cz_fail(CZ_EIO, "cannot delete %s: %s", path, strerror(errno));
  return 0;
}
