/* New files that appear whole: write an anonymous file (open(dir, O_TMPFILE)) and give
 * it its name with linkat, one directory operation where a named temporary file and
 * rename take two (the batch write kernel, _ext/_write.pyx).  The name appears
 * atomically with the full contents, and a crash leaves nothing behind: an anonymous
 * file that was never linked is freed with its last descriptor.
 *
 * linkat cannot replace an existing name (EEXIST): the caller then links the file to a
 * temporary name and renames that over the target, so overwrites stay atomic without
 * writing the data again.  Where O_TMPFILE or the link is not supported (an old kernel,
 * a file system without it, no /proc and no CAP_DAC_READ_SEARCH) the functions say so
 * and the caller writes a named temporary file as before.  Linux only; elsewhere every
 * call reports "unsupported". */
#ifndef CZ_LINKFILE_H
#define CZ_LINKFILE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* 0: never (a named temporary file + rename, the portable path); 1: try an anonymous
 * file for every new file; 2: the same, but after the first chunk of a call that
 * already existed, write the call's remaining chunks the portable way (a rewrite of an
 * existing array then costs no failed link per chunk).  Set by _write._set_tmpfile. */
static int cz_tmpfile_mode = 2;
/* linkat(fd, "", ..., AT_EMPTY_PATH) allowed here (needs CAP_DAC_READ_SEARCH before
 * Linux 6.10); cleared after it is refused once, then /proc/self/fd/N is linked. */
static int cz_link_empty_ok = 1;

/* An anonymous writable file in directory ``dir``; -1 when that is not possible
 * (switched off, unsupported, or any other error: the caller falls back). */
static inline int cz_open_anon(const char *dir) {
#if defined(__linux__) && defined(O_TMPFILE)
  if (__atomic_load_n(&cz_tmpfile_mode, __ATOMIC_RELAXED) == 0) return -1;
  return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
  (void)dir;
  return -1;
#endif
}

/* Give the anonymous file ``fd`` the name ``path``.  0 done, else the errno: EEXIST
 * when ``path`` exists (nothing changed), anything else means linking is not possible
 * here. */
static inline int cz_link_anon(int fd, const char *path) {
#if defined(__linux__) && defined(O_TMPFILE)
  char proc[64];
#ifdef AT_EMPTY_PATH
  if (__atomic_load_n(&cz_link_empty_ok, __ATOMIC_RELAXED)) {
    if (linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0) return 0;
    /* refused without the capability: EPERM, or ENOENT before Linux 6.10 */
    if (errno != EPERM && errno != ENOENT) return errno;
  }
#endif
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0) return errno;
  /* /proc linked where AT_EMPTY_PATH did not: use /proc from now on */
  __atomic_store_n(&cz_link_empty_ok, 0, __ATOMIC_RELAXED);
  return 0;
#else
  (void)fd;
  (void)path;
  return EOPNOTSUPP;
#endif
}

#endif
