/* checksum.h -- portable checksum kernels used by chunkzip's checksum codecs.
 *
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78) with a slicing-by-8 table
 * implementation, plus an SSE4.2 path selected at run time on x86-64 (GCC/Clang);
 * the library is never compiled with -march flags.
 *
 * Fletcher-32 exactly as HDF5 / numcodecs compute it: 16-bit words read big-endian,
 * an odd trailing byte counts as the high byte of a final word, and the sums are folded
 * (end-around carry) instead of reduced with a modulo.
 */
#ifndef CHUNKZIP_CHECKSUM_H
#define CHUNKZIP_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Build the lookup tables and pick the implementation. Idempotent; call once before
 * the first checksum (the Python module does so at import time). */
void cz_checksum_init(void);

/* Extend a CRC32C: pass crc = 0 for a fresh checksum; returns the final (xored) value,
 * so cz_crc32c(cz_crc32c(0, a, n), b, m) == cz_crc32c(0, a||b, n+m). */
uint32_t cz_crc32c(uint32_t crc, const void *data, size_t len);

/* The portable table-driven CRC32C, whatever the CPU supports (for tests). */
uint32_t cz_crc32c_sw(uint32_t crc, const void *data, size_t len);

/* Non-zero when cz_crc32c uses the SSE4.2 CRC32 instruction. */
int cz_crc32c_hw_enabled(void);

/* Fletcher-32 as HDF5 (H5_checksum_fletcher32) and numcodecs compute it. */
uint32_t cz_fletcher32(const void *data, size_t len);

/* Bob Jenkins' lookup3 "hashlittle" over bytes, as HDF5 (H5_checksum_lookup3) and
 * numcodecs' jenkins_lookup3 compute it: bytes assembled little-endian whatever the CPU. */
uint32_t cz_jenkins_lookup3(const void *data, size_t len, uint32_t initval);

#ifdef __cplusplus
}
#endif

#endif /* CHUNKZIP_CHECKSUM_H */
