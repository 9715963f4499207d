/*
 * sieve.c — benchmark workload: sieve of Eratosthenes.
 *
 * Byte stores at strided addresses and a tight counting loop: memory
 * bandwidth through the engine's bounds-checked load/store path more than
 * arithmetic.  The limit varies a little from round to round so the work
 * cannot be reused, and the checksum takes the count and the largest prime
 * below each limit.
 */
#include "workload.h"

#define SIEVE_MAX 65536u

static uint8_t composite[SIEVE_MAX];

uint64_t bench_sieve(uint32_t n) {
    uint64_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        uint32_t limit = SIEVE_MAX - (r * 37) % 1024;
        for (uint32_t i = 0; i < limit; i++) composite[i] = 0;
        composite[0] = composite[1] = 1;
        for (uint32_t p = 2; p * p < limit; p++) {
            if (composite[p]) continue;
            for (uint32_t m = p * p; m < limit; m += p) composite[m] = 1;
        }
        uint32_t count = 0, largest = 0;
        for (uint32_t i = 0; i < limit; i++)
            if (!composite[i]) {
                count++;
                largest = i;
            }
        h = wl_mix(h, count);
        h = wl_mix(h, largest);
    }
    return h;
}
