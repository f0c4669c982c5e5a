/*
 * chunkzip.h -- the C API of chunkzip (libchunkzip.so), C99.
 *
 * Read and write Zarr v2 and v3 arrays in local directories, and compress or
 * decompress Blosc frames, without a Python interpreter.  The library is installed
 * inside the Python package; locate it with
 *
 *     INC=$(python -c 'import chunkzip; print(chunkzip.get_include())')
 *     LIB=$(python -c 'import chunkzip; print(chunkzip.get_library_dir())')
 *     cc prog.c -I"$INC" -L"$LIB" -lchunkzip -Wl,-rpath,"$LIB"
 *
 * Conventions
 *   - Every function that can fail returns a negative value (or NULL) and sets a
 *     message for the calling thread, read with cz_last_error().  Nothing aborts,
 *     prints or exits.  The message of a successful call is left unspecified.
 *   - Buffers passed to cz_read / cz_write are C-ordered, hold the elements in the
 *     machine's native byte order, and have exactly prod(stop - start) elements of
 *     the dtype cz_dtype() reports.
 *   - Thread safety: cz_read may be called from several threads on the same array at
 *     once.  cz_write on one array must not run concurrently with another cz_write or
 *     cz_read touching the same chunks (chunk files are replaced atomically, so
 *     readers in other processes see either the old or the new chunk).
 *   - cz_read uses up to CZ_NUM_THREADS threads (environment variable; default: the
 *     number of online CPUs, at most 8) to decode chunks in parallel.
 *
 * Supported arrays: fixed-size numeric and bool dtypes (bool, int8..int64,
 * uint8..uint64, float16/32/64, complex64/128), C or F order (v2) or the transpose
 * codec (v3), any fill value, missing chunks, both chunk key encodings, and the
 * codecs bytes, transpose, blosc, zstd, lz4, zlib, gzip, crc32c and
 * sharding_indexed (v3; nested sharding too).  cz_open fails on anything else and
 * names what it does not support.
 */
#ifndef CHUNKZIP_H
#define CHUNKZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CZ_VERSION_MAJOR 0
#define CZ_VERSION_MINOR 1
#define CZ_VERSION_PATCH 0

/* Largest number of dimensions cz_open accepts. */
#define CZ_MAX_NDIM 32

/* Error codes: every failing int function returns one of these (negative). */
#define CZ_EINVAL (-1)     /* bad argument (NULL pointer, unknown cname, bad mode, ...) */
#define CZ_ENOTFOUND (-2)  /* no array at that path */
#define CZ_EMETADATA (-3)  /* metadata malformed or inconsistent */
#define CZ_EUNSUPPORTED (-4) /* codec, dtype or feature this library does not handle */
#define CZ_EBOUNDS (-5)    /* box outside the array or start > stop */
#define CZ_EREADONLY (-6)  /* write on an array opened with mode "r" */
#define CZ_ECORRUPT (-7)   /* stored chunk cannot be decoded (truncated, lying frame, bad checksum) */
#define CZ_EIO (-8)        /* operating-system error reading or writing a file */
#define CZ_ENOMEM (-9)     /* allocation failed */
#define CZ_EDEST (-10)     /* destination buffer too small */

/* Library version, "MAJOR.MINOR.PATCH". */
const char *cz_version(void);

/* Message of the last failure in the calling thread ("" if none yet). */
const char *cz_last_error(void);

/* Error code of the last failure in the calling thread (0 if none yet). */
int cz_last_error_code(void);

/* ---- Blosc ------------------------------------------------------------------ */

/* A dst_capacity that always suffices for cz_blosc_compress of nbytes bytes. */
size_t cz_blosc_max_compressed_size(size_t nbytes);

/* Compress into a Blosc1 frame (format version 2, what numcodecs, zarr-python and
   tensorstore read), the same bytes the Python codec writes.
   typesize >= 1; cname "blosclz", "lz4", "lz4hc", "zlib" or "zstd"; clevel 0..9;
   shuffle 0 none, 1 byte, 2 bit; blocksize 0 = automatic.
   Returns the frame size, or a negative CZ_E* code. */
int64_t cz_blosc_compress(const void *src, size_t nbytes, size_t typesize, const char *cname,
                          int clevel, int shuffle, size_t blocksize, void *dst,
                          size_t dst_capacity);

/* Decompress a Blosc frame (Blosc1 or Blosc2 chunk format).  The header is
   validated against srcsize before anything is decoded; a frame that decodes to
   more than dst_capacity bytes fails with CZ_EDEST.
   Returns the number of bytes written, or a negative CZ_E* code. */
int64_t cz_blosc_decompress(const void *src, size_t srcsize, void *dst, size_t dst_capacity);

/* Uncompressed size recorded in a Blosc frame header (validated), or negative. */
int64_t cz_blosc_nbytes(const void *src, size_t srcsize);

/* ---- arrays ------------------------------------------------------------------ */

typedef struct cz_array cz_array;

/* Open the array stored in the local directory `path` (a Zarr v3 zarr.json, or a
   v2 .zarray).  mode "r" read only, "r+" read and write.  NULL on failure. */
cz_array *cz_open(const char *path, const char *mode);

/* Number of dimensions (0 for a scalar array). */
int cz_ndim(const cz_array *a);

/* Copy the shape (ndim values) into `shape`; returns ndim. */
int cz_shape(const cz_array *a, int64_t *shape);

/* Copy the chunk shape (ndim values; for a sharded array the shard shape, the unit
   of storage) into `chunks`; returns ndim. */
int cz_chunks(const cz_array *a, int64_t *chunks);

/* Element type of the buffers of cz_read/cz_write in NumPy notation, native byte
   order: "|b1", "|i1", "<i4", "<u8", "<f4", "<c16", ... */
const char *cz_dtype(const cz_array *a);

/* Size in bytes of one element. */
int cz_itemsize(const cz_array *a);

/* Read the box [start, stop) (ndim values each; start <= stop <= shape) into `out`
   (C order).  Missing chunks read as the fill value.  Returns 0 or a CZ_E* code. */
int cz_read(cz_array *a, const int64_t *start, const int64_t *stop, void *out);

/* Write `in` (C order) into the box [start, stop).  Each touched chunk (shard) is
   re-encoded and replaced atomically (temporary file, then rename).
   Returns 0 or a CZ_E* code. */
int cz_write(cz_array *a, const int64_t *start, const int64_t *stop, const void *in);

/* Free the handle (NULL is allowed). */
void cz_close(cz_array *a);

#ifdef __cplusplus
}
#endif

#endif /* CHUNKZIP_H */
