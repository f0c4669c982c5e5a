/*
 * chunkzip: byte shuffle and bit shuffle kernels.  See shuffle.h for the layouts.
 *
 * Byte shuffles of 2-, 4-, 8- and 16-byte elements use SSE2 (part of every x86-64);
 * elsewhere they are plain loops with compile-time element sizes.  Other sizes tile
 * over elements.
 */
#include <string.h>

#include "shuffle.h"

#if defined(__GNUC__) || defined(__clang__)
#define CZ_INLINE static inline __attribute__((always_inline))
#else
#define CZ_INLINE static inline
#endif

/* ------------------------------------------------------------------------------- */
/* byte shuffle                                                                     */
/* ------------------------------------------------------------------------------- */

#define CZ_SHUF_FIXED(TS)                                                              \
  static void shuffle_##TS(const uint8_t *restrict src, uint8_t *restrict dest,         \
                           size_t n) {                                                \
    for (size_t i = 0; i < n; i++) {                                                  \
      for (size_t j = 0; j < TS; j++) {                                               \
        dest[j * n + i] = src[i * TS + j];                                            \
      }                                                                               \
    }                                                                                 \
  }                                                                                   \
  static void unshuffle_##TS(const uint8_t *restrict src, uint8_t *restrict dest,       \
                             size_t n) {                                              \
    for (size_t i = 0; i < n; i++) {                                                  \
      for (size_t j = 0; j < TS; j++) {                                               \
        dest[i * TS + j] = src[j * n + i];                                            \
      }                                                                               \
    }                                                                                 \
  }

#if defined(__SSE2__)
#include <emmintrin.h>
/* SSE2 (every x86-64): 16 elements of TS bytes are TS vectors; rounds of the perfect
   shuffle (out[2k], out[2k+1] = the low and high byte interleave of in[k] and
   in[k + TS/2]) transpose them.  Four rounds turn elements into byte streams (16 bytes
   of stream j in vector j); log2(TS) rounds turn streams back into elements.  (The plain
   loops above vectorise poorly: the shuffle was 18 % of a sharded write's time.) */
#define CZ_SHUF_SSE2(TS, LOG2TS)                                                           \
  CZ_INLINE void interleave_##TS(__m128i *v, int rounds) {                               \
    __m128i t[TS];                                                                        \
    for (int r = 0; r < rounds; r++) {                                                    \
      for (int k = 0; k < TS / 2; k++) {                                                  \
        t[2 * k] = _mm_unpacklo_epi8(v[k], v[k + TS / 2]);                                \
        t[2 * k + 1] = _mm_unpackhi_epi8(v[k], v[k + TS / 2]);                            \
      }                                                                                   \
      for (int k = 0; k < TS; k++) v[k] = t[k];                                           \
    }                                                                                     \
  }                                                                                       \
  static void shuffle_sse2_##TS(const uint8_t *restrict src, uint8_t *restrict dest,      \
                                size_t n) {                                               \
    size_t i = 0;                                                                         \
    __m128i v[TS];                                                                        \
    for (; i + 16 <= n; i += 16) {                                                        \
      for (int k = 0; k < TS; k++)                                                        \
        v[k] = _mm_loadu_si128((const __m128i *)(src + i * TS + 16 * (size_t)k));         \
      interleave_##TS(v, 4);                                                              \
      for (int j = 0; j < TS; j++) _mm_storeu_si128((__m128i *)(dest + j * n + i), v[j]); \
    }                                                                                     \
    for (; i < n; i++)                                                                    \
      for (size_t j = 0; j < TS; j++) dest[j * n + i] = src[i * TS + j];                  \
  }                                                                                       \
  static void unshuffle_sse2_##TS(const uint8_t *restrict src, uint8_t *restrict dest,    \
                                  size_t n) {                                             \
    size_t i = 0;                                                                         \
    __m128i v[TS];                                                                        \
    for (; i + 16 <= n; i += 16) {                                                        \
      for (int j = 0; j < TS; j++) v[j] = _mm_loadu_si128((const __m128i *)(src + j * n + i)); \
      interleave_##TS(v, LOG2TS);                                                         \
      for (int k = 0; k < TS; k++)                                                        \
        _mm_storeu_si128((__m128i *)(dest + i * TS + 16 * (size_t)k), v[k]);              \
    }                                                                                     \
    for (; i < n; i++)                                                                    \
      for (size_t j = 0; j < TS; j++) dest[i * TS + j] = src[j * n + i];                  \
  }

CZ_SHUF_SSE2(2, 1)
CZ_SHUF_SSE2(4, 2)
CZ_SHUF_SSE2(8, 3)
CZ_SHUF_SSE2(16, 4)
#define CZ_SHUFFLE(TS, s, d, n) shuffle_sse2_##TS(s, d, n)
#define CZ_UNSHUFFLE(TS, s, d, n) unshuffle_sse2_##TS(s, d, n)
#else
CZ_SHUF_FIXED(2)
CZ_SHUF_FIXED(4)
CZ_SHUF_FIXED(8)
#define CZ_SHUFFLE(TS, s, d, n) shuffle_##TS(s, d, n)
#define CZ_UNSHUFFLE(TS, s, d, n) unshuffle_##TS(s, d, n)
#endif

/* Generic typesize: tile over elements so that each tile of the source stays in L1
   while it is read once per byte position. */
#define CZ_TILE 256

static void shuffle_generic(const uint8_t *restrict src, uint8_t *restrict dest,
                            size_t n, size_t ts) {
  for (size_t i0 = 0; i0 < n; i0 += CZ_TILE) {
    size_t i1 = i0 + CZ_TILE < n ? i0 + CZ_TILE : n;
    for (size_t j = 0; j < ts; j++) {
      uint8_t *restrict d = dest + j * n;
      const uint8_t *restrict s = src + j;
      for (size_t i = i0; i < i1; i++) {
        d[i] = s[i * ts];
      }
    }
  }
}

static void unshuffle_generic(const uint8_t *restrict src, uint8_t *restrict dest,
                              size_t n, size_t ts) {
  for (size_t i0 = 0; i0 < n; i0 += CZ_TILE) {
    size_t i1 = i0 + CZ_TILE < n ? i0 + CZ_TILE : n;
    for (size_t j = 0; j < ts; j++) {
      const uint8_t *restrict s = src + j * n;
      uint8_t *restrict d = dest + j;
      for (size_t i = i0; i < i1; i++) {
        d[i * ts] = s[i];
      }
    }
  }
}

void cz_byte_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize) {
  size_t n, body;
  if (typesize <= 1 || nbytes < typesize) {
    if (nbytes) memcpy(dest, src, nbytes);
    return;
  }
  n = nbytes / typesize;
  body = n * typesize;
  switch (typesize) {
    case 2: CZ_SHUFFLE(2, src, dest, n); break;
    case 4: CZ_SHUFFLE(4, src, dest, n); break;
    case 8: CZ_SHUFFLE(8, src, dest, n); break;
#if defined(__SSE2__)
    case 16: shuffle_sse2_16(src, dest, n); break;
#endif
    default: shuffle_generic(src, dest, n, typesize); break;
  }
  if (nbytes > body) memcpy(dest + body, src + body, nbytes - body);
}

void cz_byte_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize) {
  size_t n, body;
  if (typesize <= 1 || nbytes < typesize) {
    if (nbytes) memcpy(dest, src, nbytes);
    return;
  }
  n = nbytes / typesize;
  body = n * typesize;
  switch (typesize) {
    case 2: CZ_UNSHUFFLE(2, src, dest, n); break;
    case 4: CZ_UNSHUFFLE(4, src, dest, n); break;
    case 8: CZ_UNSHUFFLE(8, src, dest, n); break;
#if defined(__SSE2__)
    case 16: unshuffle_sse2_16(src, dest, n); break;
#endif
    default: unshuffle_generic(src, dest, n, typesize); break;
  }
  if (nbytes > body) memcpy(dest + body, src + body, nbytes - body);
}

/* ------------------------------------------------------------------------------- */
/* bit shuffle                                                                      */
/* ------------------------------------------------------------------------------- */

/* Transpose the 8x8 bit matrix held in x, where entry (row r, column c) is bit c of
   byte r (bit 8r + c).  After the call, byte c holds in bit r what was bit c of byte r.
   Three delta swaps (Hacker's Delight, section 7-3). */
CZ_INLINE uint64_t transpose8x8(uint64_t x) {
  uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x = x ^ t ^ (t << 28);
  return x;
}

CZ_INLINE uint64_t load64le(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

CZ_INLINE void store64le(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(p, &v, 8);
}

/* Transpose an 8x8 byte matrix held in 8 words (row q = w[q], column = byte index):
   afterwards byte c of w[q] is what was byte q of w[c]. */
CZ_INLINE void transpose8x8_bytes(uint64_t w[8]) {
  uint64_t t;
  int q;
  for (q = 0; q < 8; q += 2) {
    t = ((w[q] >> 8) ^ w[q + 1]) & 0x00FF00FF00FF00FFULL;
    w[q + 1] ^= t;
    w[q] ^= t << 8;
  }
  for (q = 0; q < 8; q += 4) {
    t = ((w[q] >> 16) ^ w[q + 2]) & 0x0000FFFF0000FFFFULL;
    w[q + 2] ^= t;
    w[q] ^= t << 16;
    t = ((w[q + 1] >> 16) ^ w[q + 3]) & 0x0000FFFF0000FFFFULL;
    w[q + 3] ^= t;
    w[q + 1] ^= t << 16;
  }
  for (q = 0; q < 4; q++) {
    t = ((w[q] >> 32) ^ w[q + 4]) & 0x00000000FFFFFFFFULL;
    w[q + 4] ^= t;
    w[q] ^= t << 32;
  }
}

/* Gather byte j of the 8 elements starting at p (element stride ts) into one word,
   element b in byte b. */
CZ_INLINE uint64_t gather8(const uint8_t *p, size_t ts, size_t j) {
  uint64_t x = 0;
  for (size_t b = 0; b < 8; b++) x |= (uint64_t)p[b * ts + j] << (8 * b);
  return x;
}

/* Bit-transpose one byte-row segment: `row` holds byte j of `te` consecutive elements
   (te a multiple of 8, starting at element e0, e0 a multiple of 8); write bit-rows
   j*8+k (k = 0..7) of the output, rows being nb bytes apart. */
static void bitrow_forward(const uint8_t *row, size_t te, uint8_t *dest, size_t j,
                           size_t nb, size_t g0) {
  size_t q = 0;
  int k;
  /* 8 groups (64 bytes) at a time: 8 bit-transposes, one 8x8 byte transpose, then
     one 8-byte store per bit-row */
  for (; q + 64 <= te; q += 64) {
    uint64_t w[8];
    for (int r = 0; r < 8; r++) w[r] = transpose8x8(load64le(row + q + 8 * (size_t)r));
    transpose8x8_bytes(w);
    for (k = 0; k < 8; k++) store64le(dest + (j * 8 + (size_t)k) * nb + g0 + q / 8, w[k]);
  }
  for (; q < te; q += 8) {
    uint64_t x = transpose8x8(load64le(row + q));
    for (k = 0; k < 8; k++) dest[(j * 8 + (size_t)k) * nb + g0 + q / 8] = (uint8_t)(x >> (8 * k));
  }
}

static void bitrow_backward(const uint8_t *src, size_t j, size_t nb, size_t g0, size_t te,
                            uint8_t *row) {
  size_t q = 0;
  int k;
  for (; q + 64 <= te; q += 64) {
    uint64_t w[8];
    for (k = 0; k < 8; k++) w[k] = load64le(src + (j * 8 + (size_t)k) * nb + g0 + q / 8);
    transpose8x8_bytes(w);
    for (int r = 0; r < 8; r++) store64le(row + q + 8 * (size_t)r, transpose8x8(w[r]));
  }
  for (; q < te; q += 8) {
    uint64_t x = 0;
    for (k = 0; k < 8; k++) x |= (uint64_t)src[(j * 8 + (size_t)k) * nb + g0 + q / 8] << (8 * k);
    store64le(row + q, transpose8x8(x));
  }
}

/* Elements are processed in tiles small enough for a stack buffer: the tile is first
   byte-transposed (fast, vectorised), then every byte-row is bit-transposed with
   contiguous 8-byte loads and stores. */
#define CZ_BIT_TILE 16384

void cz_bit_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize) {
  size_t ts = typesize ? typesize : 1;
  size_t n = nbytes / ts;
  size_t nb = n / 8;          /* bytes per bit-row */
  size_t m = nb * 8;          /* elements transposed */
  size_t done = m * ts;       /* bytes covered by the transposition */
  uint8_t tmp[CZ_BIT_TILE];
  size_t tile, e0, j;

  if (ts * 64 > CZ_BIT_TILE) {
    /* very wide elements: gather byte j of 8 elements directly */
    for (size_t g = 0; g < nb; g++) {
      const uint8_t *p = src + g * 8 * ts;
      for (j = 0; j < ts; j++) {
        uint64_t x = transpose8x8(gather8(p, ts, j));
        for (int k = 0; k < 8; k++) dest[(j * 8 + (size_t)k) * nb + g] = (uint8_t)(x >> (8 * k));
      }
    }
  } else {
    tile = (CZ_BIT_TILE / ts) & ~(size_t)63;
    for (e0 = 0; e0 < m; e0 += tile) {
      size_t te = m - e0 < tile ? m - e0 : tile;
      cz_byte_shuffle(src + e0 * ts, tmp, te * ts, ts);
      for (j = 0; j < ts; j++) bitrow_forward(tmp + j * te, te, dest, j, nb, e0 / 8);
    }
  }
  if (nbytes > done) memcpy(dest + done, src + done, nbytes - done);
}

void cz_bit_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize) {
  size_t ts = typesize ? typesize : 1;
  size_t n = nbytes / ts;
  size_t nb = n / 8;
  size_t m = nb * 8;
  size_t done = m * ts;
  uint8_t tmp[CZ_BIT_TILE];
  size_t tile, e0, j;

  if (ts * 64 > CZ_BIT_TILE) {
    for (size_t g = 0; g < nb; g++) {
      uint8_t *p = dest + g * 8 * ts;
      for (j = 0; j < ts; j++) {
        uint64_t x = 0;
        for (int k = 0; k < 8; k++) x |= (uint64_t)src[(j * 8 + (size_t)k) * nb + g] << (8 * k);
        x = transpose8x8(x);
        for (int b = 0; b < 8; b++) p[(size_t)b * ts + j] = (uint8_t)(x >> (8 * b));
      }
    }
  } else {
    tile = (CZ_BIT_TILE / ts) & ~(size_t)63;
    for (e0 = 0; e0 < m; e0 += tile) {
      size_t te = m - e0 < tile ? m - e0 : tile;
      for (j = 0; j < ts; j++) bitrow_backward(src, j, nb, e0 / 8, te, tmp + j * te);
      cz_byte_unshuffle(tmp, dest + e0 * ts, te * ts, ts);
    }
  }
  if (nbytes > done) memcpy(dest + done, src + done, nbytes - done);
}
