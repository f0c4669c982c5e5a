/* checksum.c -- CRC32C and Fletcher-32 kernels (see checksum.h). */
#include "checksum.h"

#include <string.h>

#define CZ_CRC32C_POLY 0x82F63B78u /* Castagnoli, bit-reflected */

static uint32_t cz_crc32c_table[8][256];
static int cz_crc32c_ready = 0;
static int cz_crc32c_use_hw = 0;

/* The hardware path runs three independent CRC streams over adjacent blocks and merges
 * them: crc(A||B) = shift(crc(A), |B|) ^ crc0(B), where shift() feeds |B| zero bytes
 * and is linear over GF(2), so it is applied with four byte-indexed tables. */
#define CZ_LONG 8192
#define CZ_SHORT 256
static uint32_t cz_shift_long[4][256];
static uint32_t cz_shift_short[4][256];

static uint32_t cz_shift(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xffu] ^ t[1][(c >> 8) & 0xffu] ^ t[2][(c >> 16) & 0xffu] ^
           t[3][c >> 24];
}

static void cz_build_shift(uint32_t t[4][256], size_t nzeros)
{
    uint32_t basis[32];
    uint32_t i, k, b;
    size_t z;
    for (i = 0; i < 32; i++) {
        uint32_t c = 1u << i;
        for (z = 0; z < nzeros; z++) {
            c = (c >> 8) ^ cz_crc32c_table[0][c & 0xffu];
        }
        basis[i] = c;
    }
    for (k = 0; k < 4; k++) {
        for (b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (i = 0; i < 8; i++) {
                if (b & (1u << i)) {
                    v ^= basis[8 * k + i];
                }
            }
            t[k][b] = v;
        }
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CZ_HAVE_X86_CRC 1
#include <nmmintrin.h>

/* One CRC32 instruction stream; compiled for SSE4.2 only in this function and only
 * called after the CPU reported the feature at run time. */
__attribute__((target("sse4.2")))
static uint32_t cz_crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;
    while (len && ((uintptr_t)p & 7u)) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        len--;
    }
    /* three interleaved streams hide the instruction's 3-cycle latency */
    while (len >= 3 * CZ_LONG) {
        uint64_t c1 = 0, c2 = 0, w0, w1, w2;
        const uint8_t *end = p + CZ_LONG;
        do {
            memcpy(&w0, p, 8);
            memcpy(&w1, p + CZ_LONG, 8);
            memcpy(&w2, p + 2 * CZ_LONG, 8);
            c = _mm_crc32_u64(c, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
            p += 8;
        } while (p < end);
        c = cz_shift(cz_shift_long, (uint32_t)c) ^ (uint32_t)c1;
        c = cz_shift(cz_shift_long, (uint32_t)c) ^ (uint32_t)c2;
        p += 2 * CZ_LONG;
        len -= 3 * CZ_LONG;
    }
    while (len >= 3 * CZ_SHORT) {
        uint64_t c1 = 0, c2 = 0, w0, w1, w2;
        const uint8_t *end = p + CZ_SHORT;
        do {
            memcpy(&w0, p, 8);
            memcpy(&w1, p + CZ_SHORT, 8);
            memcpy(&w2, p + 2 * CZ_SHORT, 8);
            c = _mm_crc32_u64(c, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
            p += 8;
        } while (p < end);
        c = cz_shift(cz_shift_short, (uint32_t)c) ^ (uint32_t)c1;
        c = cz_shift(cz_shift_short, (uint32_t)c) ^ (uint32_t)c2;
        p += 2 * CZ_SHORT;
        len -= 3 * CZ_SHORT;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
    }
    return (uint32_t)c;
}
#endif

void cz_checksum_init(void)
{
    uint32_t n, k, c;
    if (cz_crc32c_ready) {
        return;
    }
    for (n = 0; n < 256; n++) {
        c = n;
        for (k = 0; k < 8; k++) {
            c = (c & 1u) ? (c >> 1) ^ CZ_CRC32C_POLY : (c >> 1);
        }
        cz_crc32c_table[0][n] = c;
    }
    for (n = 0; n < 256; n++) {
        c = cz_crc32c_table[0][n];
        for (k = 1; k < 8; k++) {
            c = (c >> 8) ^ cz_crc32c_table[0][c & 0xffu];
            cz_crc32c_table[k][n] = c;
        }
    }
    cz_build_shift(cz_shift_long, CZ_LONG);
    cz_build_shift(cz_shift_short, CZ_SHORT);
#ifdef CZ_HAVE_X86_CRC
    __builtin_cpu_init();
    cz_crc32c_use_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
#endif
    cz_crc32c_ready = 1;
}

/* Raw (un-xored) register update, table driven. */
static uint32_t cz_crc32c_sw_raw(uint32_t c, const uint8_t *p, size_t len)
{
    const uint32_t (*t)[256] = cz_crc32c_table;
    while (len && ((uintptr_t)p & 7u)) {
        c = (c >> 8) ^ t[0][(c ^ *p++) & 0xffu];
        len--;
    }
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = t[7][w & 0xffu] ^ t[6][(w >> 8) & 0xffu] ^
            t[5][(w >> 16) & 0xffu] ^ t[4][(w >> 24) & 0xffu] ^
            t[3][(w >> 32) & 0xffu] ^ t[2][(w >> 40) & 0xffu] ^
            t[1][(w >> 48) & 0xffu] ^ t[0][w >> 56];
        p += 8;
        len -= 8;
    }
#endif
    while (len--) {
        c = (c >> 8) ^ t[0][(c ^ *p++) & 0xffu];
    }
    return c;
}

uint32_t cz_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    if (!cz_crc32c_ready) {
        cz_checksum_init();
    }
    return ~cz_crc32c_sw_raw(~crc, (const uint8_t *)data, len);
}

uint32_t cz_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (!cz_crc32c_ready) {
        cz_checksum_init();
    }
#ifdef CZ_HAVE_X86_CRC
    if (cz_crc32c_use_hw) {
        return ~cz_crc32c_hw(~crc, (const uint8_t *)data, len);
    }
#endif
    return ~cz_crc32c_sw_raw(~crc, (const uint8_t *)data, len);
}

int cz_crc32c_hw_enabled(void)
{
    if (!cz_crc32c_ready) {
        cz_checksum_init();
    }
    return cz_crc32c_use_hw;
}

uint32_t cz_fletcher32(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t words = len / 2;
    uint32_t sum1 = 0, sum2 = 0;

    /* Same block length and folding as HDF5, so that even the (theoretical) uint32
     * wrap-around of the reference implementation is reproduced bit for bit. */
    while (words) {
        size_t block = words > 360 ? 360 : words;
        words -= block;
        do {
            sum1 += ((uint32_t)p[0] << 8) | (uint32_t)p[1];
            sum2 += sum1;
            p += 2;
        } while (--block);
        sum1 = (sum1 & 0xffffu) + (sum1 >> 16);
        sum2 = (sum2 & 0xffffu) + (sum2 >> 16);
    }
    if (len & 1u) {
        sum1 += (uint32_t)p[0] << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffffu) + (sum1 >> 16);
        sum2 = (sum2 & 0xffffu) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffffu) + (sum1 >> 16);
    sum2 = (sum2 & 0xffffu) + (sum2 >> 16);
    return (sum2 << 16) | sum1;
}


/* ---------------------------------------------------------------- Jenkins lookup3 */
#define CZ_ROT32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

uint32_t cz_jenkins_lookup3(const void *data, size_t len, uint32_t initval)
{
    const uint8_t *k = (const uint8_t *)data;
    uint32_t a, b, c;

    a = b = c = 0xdeadbeefu + (uint32_t)len + initval;
    while (len > 12) {
        a += (uint32_t)k[0] | ((uint32_t)k[1] << 8) | ((uint32_t)k[2] << 16) | ((uint32_t)k[3] << 24);
        b += (uint32_t)k[4] | ((uint32_t)k[5] << 8) | ((uint32_t)k[6] << 16) | ((uint32_t)k[7] << 24);
        c += (uint32_t)k[8] | ((uint32_t)k[9] << 8) | ((uint32_t)k[10] << 16) | ((uint32_t)k[11] << 24);
        /* mix */
        a -= c; a ^= CZ_ROT32(c, 4);  c += b;
        b -= a; b ^= CZ_ROT32(a, 6);  a += c;
        c -= b; c ^= CZ_ROT32(b, 8);  b += a;
        a -= c; a ^= CZ_ROT32(c, 16); c += b;
        b -= a; b ^= CZ_ROT32(a, 19); a += c;
        c -= b; c ^= CZ_ROT32(b, 4);  b += a;
        len -= 12;
        k += 12;
    }
    switch (len) { /* the last 0..12 bytes; every case falls through */
    case 12: c += (uint32_t)k[11] << 24; /* fall through */
    case 11: c += (uint32_t)k[10] << 16; /* fall through */
    case 10: c += (uint32_t)k[9] << 8;   /* fall through */
    case 9:  c += k[8];                   /* fall through */
    case 8:  b += (uint32_t)k[7] << 24;  /* fall through */
    case 7:  b += (uint32_t)k[6] << 16;  /* fall through */
    case 6:  b += (uint32_t)k[5] << 8;   /* fall through */
    case 5:  b += k[4];                   /* fall through */
    case 4:  a += (uint32_t)k[3] << 24;  /* fall through */
    case 3:  a += (uint32_t)k[2] << 16;  /* fall through */
    case 2:  a += (uint32_t)k[1] << 8;   /* fall through */
    case 1:  a += k[0]; break;
    case 0:  return c;
    }
    /* final */
    c ^= b; c -= CZ_ROT32(b, 14);
    a ^= c; a -= CZ_ROT32(c, 11);
    b ^= a; b -= CZ_ROT32(a, 25);
    c ^= b; c -= CZ_ROT32(b, 16);
    a ^= c; a -= CZ_ROT32(c, 4);
    b ^= a; b -= CZ_ROT32(a, 14);
    c ^= b; c -= CZ_ROT32(b, 24);
    return c;
}
