/* Copying rows into an output too large to stay in cache (the batched read kernel,
 * _ext/_copy.pyx).
 *
 * An ordinary store to a line that is not in cache first reads the line from memory
 * (read-for-ownership), so filling a fresh 64 MiB output moves 128 MiB; non-temporal
 * stores write whole lines without reading them, which on a full read of a large array
 * is most of the copy's cost.  They also keep the output from evicting the scratch chunk
 * and the compressed bytes, but leave the output out of cache: worth it only when the
 * output is much larger than the cache anyway.  Non-temporal stores are weakly ordered:
 * a thread that used them calls cz_stream_fence() before anyone else reads the output. */
#ifndef CZ_STREAM_COPY_H
#define CZ_STREAM_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define CZ_HAVE_STREAM 1
#else
#define CZ_HAVE_STREAM 0
#endif

/* memcpy(dst, src, n), with non-temporal stores for the whole 64-byte cache lines of dst
 * when the row covers some: a partly written line would go out in pieces, far slower
 * than an ordinary store (a 1000-byte row off line boundaries: 9x). */
static inline void cz_stream_copy(uint8_t *dst, const uint8_t *src, size_t n) {
#if CZ_HAVE_STREAM
    if (n >= 128) {
        size_t head = (64 - ((uintptr_t)dst & 63)) & 63, body, i;
        memcpy(dst, src, head);
        dst += head;
        src += head;
        n -= head;
        body = n & ~(size_t)63;
        for (i = 0; i < body; i += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
            __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
            _mm_stream_si128((__m128i *)(dst + i), a);
            _mm_stream_si128((__m128i *)(dst + i + 16), b);
            _mm_stream_si128((__m128i *)(dst + i + 32), c);
            _mm_stream_si128((__m128i *)(dst + i + 48), d);
        }
        dst += body;
        src += body;
        n -= body;
    }
#endif
    memcpy(dst, src, n);
}

/* Orders this thread's non-temporal stores before its later stores (call once, after the
 * last cz_stream_copy of a batch). */
static inline void cz_stream_fence(void) {
#if CZ_HAVE_STREAM
    _mm_sfence();
#endif
}

#endif
