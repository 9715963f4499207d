/*
 * workload.h — what every benchmark workload shares.
 *
 * Each workload is one freestanding C file compiled twice: natively into the
 * runner (build/bench/bench) and to a bare wasm32 module with no imports.
 * So nothing here may touch libc: only compiler-provided headers, a PRNG
 * that gives the same sequence on both targets, and (for wasm only) the
 * memcpy/memset/memmove that clang may emit calls to for block copies.
 *
 * Rules the workloads follow so native and wasm checksums agree:
 *   - fixed-width types only (`long` is 32 bits on wasm32, 64 natively);
 *   - every call re-initialises all static state, so a call's result depends
 *     only on n (the runner calls the same instance many times);
 *   - floating point without contraction or fast-math (the build passes
 *     -ffp-contract=off), so both sides round identically.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64: tiny, full-period, and pure integer arithmetic, so the
 * inputs are bit-identical on every target. */
static inline uint64_t wl_next(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Folds a value into a running checksum; order-sensitive so a permuted
 * result does not pass for a correct one. */
static inline uint64_t wl_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0x100000001b3ull;
}

static inline uint64_t wl_f64_bits(double d) {
    union { double d; uint64_t u; } c;
    c.d = d;
    return c.u;
}

#if defined(__wasm__)
/* A bare wasm module has no libc, yet clang lowers large struct copies and
 * zeroing to calls of these names, and wasm-ld would refuse to link (or turn
 * them into imports).  Defined only here, so a module that never needs them
 * drops them at link time.  The build uses -ffreestanding, which keeps the
 * optimiser from turning these very loops back into calls to themselves. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

void *memcpy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}
#endif

#endif
