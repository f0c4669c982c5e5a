/* chunkzip C library: thread-local error state and the version string. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cz_internal.h"

#if defined(__GNUC__) || defined(__clang__)
#define CZ_TLS __thread
#elif defined(_MSC_VER)
#define CZ_TLS __declspec(thread)
#else
#define CZ_TLS _Thread_local
#endif

static CZ_TLS char last_message[512];
static CZ_TLS int last_code;

int cz_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof(last_message), fmt, ap);
  va_end(ap);
  last_code = code;
  return code;
}

void cz_fail_keep(int code) { last_code = code; }

int cz_fail_prefix(int code, const char *prefix) {
  char old[sizeof(last_message)];
  memcpy(old, last_message, sizeof(old));
  return cz_fail(code, "%s: %s", prefix, old);
}

const char *cz_last_error(void) { return last_message; }

int cz_last_error_code(void) { return last_code; }

#define CZ_STR2(x) #x
#define CZ_STR(x) CZ_STR2(x)

const char *cz_version(void) {
  return CZ_STR(CZ_VERSION_MAJOR) "." CZ_STR(CZ_VERSION_MINOR) "." CZ_STR(CZ_VERSION_PATCH);
}
