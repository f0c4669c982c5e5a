/* A chunk counter shared by the threads of one kernel call: each takes the next chunk
 * index with a relaxed atomic add (the batched read and write kernels, _ext/_copy.pyx and
 * _ext/_write.pyx). */
#ifndef CZ_ATOMIC_H
#define CZ_ATOMIC_H

static inline long long cz_next_index(long long *counter) {
    return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* The next index a cz_next_index call would take (a relaxed load): a thread that joins
 * late checks it to skip its set-up when every chunk is already taken. */
static inline long long cz_peek_index(long long *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

#endif
