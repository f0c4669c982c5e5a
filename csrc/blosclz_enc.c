/*
 * chunkzip: a BloscLZ encoder.
 *
 * Token format read by the blosclz decoders of c-blosc and c-blosc2:
 *   literal run : one byte 0..31 = (count - 1), then `count` (1..32) raw bytes.
 *                 The very first token of a stream is always a literal run; decoders
 *                 ignore the top three bits of the first byte (we set 0x20 there, as
 *                 the reference encoder does).
 *   match       : first byte (L << 5) | (d >> 8) with L in 1..7, then, when L == 7,
 *                 extension bytes (255 255 ... x, x < 255) added to the length, then
 *                 one byte d & 255.  The match copies (L - 1 + extensions) + 3 bytes
 *                 from distance d + 1 back.  d < 8191 here: d == 8191 (0x1f/0xff)
 *                 announces the 16-bit "far" form, which this encoder never emits.
 * A stream must end with a literal run: current decoders stop at the end of the input
 * right after reading a match token, before copying it.  We keep the last
 * BLZ_TAIL bytes out of matches, so they always form the final literal run.
 *
 * The encoder is a single-pass greedy LZ77 over a 4-byte hash, with LZ4-style skipping
 * through data that does not match.  No global state; the hash table is on the stack.
 */
#include <string.h>

#include "blosc1.h"

#define BLZ_HASH_LOG 12
#define BLZ_MAX_LITERAL 32
#define BLZ_MAX_BACK 8191 /* largest back distance (d = 8190) */
#define BLZ_MIN_MATCH 4
#define BLZ_TAIL 2 /* bytes always left for the final literal run */
#define BLZ_PROBE 4096 /* how often the early give-up test runs (input bytes) */

static inline uint32_t blz_read32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static inline uint64_t blz_read64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint32_t blz_hash(uint32_t v) {
  return (v * 2654435761U) >> (32 - BLZ_HASH_LOG);
}

/* Number of equal leading bytes of p and q, p < end, comparing at most end - p. */
static inline size_t blz_common(const uint8_t *p, const uint8_t *q, const uint8_t *end) {
  const uint8_t *start = p;
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  while (p + 8 <= end) {
    uint64_t diff = blz_read64(p) ^ blz_read64(q);
    if (diff) return (size_t)(p - start) + ((size_t)__builtin_ctzll(diff) >> 3);
    p += 8;
    q += 8;
  }
#endif
  while (p < end && *p == *q) {
    p++;
    q++;
  }
  return (size_t)(p - start);
}

static inline uint8_t *blz_literals(uint8_t *op, const uint8_t *oend, const uint8_t *from,
                                    size_t n) {
  while (n > 0) {
    size_t r = n < BLZ_MAX_LITERAL ? n : BLZ_MAX_LITERAL;
    if ((size_t)(oend - op) < r + 1) return NULL;
    *op++ = (uint8_t)(r - 1);
    memcpy(op, from, r);
    op += r;
    from += r;
    n -= r;
  }
  return op;
}

/* len >= 3, 1 <= back <= BLZ_MAX_BACK */
static inline uint8_t *blz_match(uint8_t *op, const uint8_t *oend, size_t len, size_t back) {
  size_t d = back - 1;
  if (len <= 8) {
    if (oend - op < 2) return NULL;
    *op++ = (uint8_t)(((len - 2) << 5) | (d >> 8));
    *op++ = (uint8_t)(d & 255);
  } else {
    size_t ext = len - 9;
    if ((size_t)(oend - op) < 3 + ext / 255) return NULL;
    *op++ = (uint8_t)((7 << 5) | (d >> 8));
    while (ext >= 255) {
      *op++ = 255;
      ext -= 255;
    }
    *op++ = (uint8_t)ext;
    *op++ = (uint8_t)(d & 255);
  }
  return op;
}

int cz_blosclz_compress(int clevel, const uint8_t *src, size_t srclen, uint8_t *dest,
                        size_t maxout) {
  uint32_t htab[1 << BLZ_HASH_LOG];
  const uint8_t *ip, *anchor;
  const uint8_t *iend = src + srclen;
  const uint8_t *mend = iend - BLZ_TAIL; /* matches end at or before this */
  const uint8_t *mflimit;                /* last position where a match may start */
  uint8_t *op = dest;
  const uint8_t *oend;
  unsigned misses = 0;
  size_t probe = 2 * BLZ_PROBE;
  /* how quickly to skip ahead through unmatched data: lower levels skip sooner */
  unsigned skip_shift = clevel >= 7 ? 7 : (clevel >= 4 ? 6 : 5);

  if (srclen < 16 || maxout < 8 || srclen > (size_t)INT32_MAX) return 0;
  if (maxout > (size_t)INT32_MAX) maxout = (size_t)INT32_MAX;
  oend = dest + maxout;
  mflimit = mend - BLZ_MIN_MATCH;
  memset(htab, 0, sizeof(htab));

  anchor = src;
  ip = src + 1; /* the first token must be a literal run */
  while (ip <= mflimit) {
    uint32_t seq = blz_read32(ip);
    uint32_t h = blz_hash(seq);
    const uint8_t *ref = src + htab[h];
    size_t back = (size_t)(ip - ref);
    size_t len;
    htab[h] = (uint32_t)(ip - src);
    if (back == 0 || back > BLZ_MAX_BACK || blz_read32(ref) != seq) {
      misses++;
      ip += 1 + (misses >> skip_shift);
      /* early give-up: BloscLZ is meant for data that compresses well; when the
         output so far saves less than 1/16 of the input, store the stream raw */
      if ((size_t)(ip - src) >= probe) {
        size_t consumed = (size_t)(ip - src);
        if ((size_t)(op - dest) + (size_t)(ip - anchor) > consumed - consumed / 16) return 0;
        probe += BLZ_PROBE;
      }
      continue;
    }
    misses = 0;
    /* extend backwards over pending literals (keeping at least one leading literal) */
    while (ip > anchor + (anchor == src) && ref > src && ip[-1] == ref[-1]) {
      ip--;
      ref--;
    }
    len = BLZ_MIN_MATCH + blz_common(ip + BLZ_MIN_MATCH, ref + BLZ_MIN_MATCH, mend);
    op = blz_literals(op, oend, anchor, (size_t)(ip - anchor));
    if (op == NULL) return 0;
    op = blz_match(op, oend, len, back);
    if (op == NULL) return 0;
    ip += len;
    anchor = ip;
    /* seed the table with positions inside the match tail */
    if (ip <= mflimit) {
      htab[blz_hash(blz_read32(ip - 2))] = (uint32_t)(ip - 2 - src);
    }
  }
  op = blz_literals(op, oend, anchor, (size_t)(iend - anchor));
  if (op == NULL) return 0;
  dest[0] |= (uint8_t)(1U << 5); /* blosclz marker on the first (literal) token */
  return (int)(op - dest);
}
