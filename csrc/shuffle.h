/*
 * chunkzip: byte shuffle and bit shuffle kernels (portable C99).
 *
 * All functions are pure (no global state), thread safe, and never allocate.
 * `src` and `dest` must not overlap.
 *
 * Byte shuffle of `nbytes` bytes viewed as n = nbytes / typesize elements:
 *     dest[j * n + i] = src[i * typesize + j]      (0 <= i < n, 0 <= j < typesize)
 * and the nbytes % typesize trailing bytes are copied unchanged at the end.
 *
 * Bit shuffle (the layout of the "bitshuffle" library, as used by Blosc): on the
 * first m = (n / 8) * 8 elements, output bit-row r = j * 8 + k (byte j of the element,
 * bit k of that byte) is stored at bytes [r * m/8, (r + 1) * m/8), element i at byte
 * r * (m/8) + i / 8, bit position i % 8.  The bytes after the first m elements are
 * copied unchanged.  (Blosc1 frames -- format version 2 -- only bit-shuffle a block
 * when n is a multiple of 8 and copy it unchanged otherwise; the frame writer checks
 * that itself before calling these kernels.)
 */
#ifndef CHUNKZIP_SHUFFLE_H
#define CHUNKZIP_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void cz_byte_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize);
void cz_byte_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize);
void cz_bit_shuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize);
void cz_bit_unshuffle(const uint8_t *src, uint8_t *dest, size_t nbytes, size_t typesize);

#ifdef __cplusplus
}
#endif

#endif /* CHUNKZIP_SHUFFLE_H */
