/*
 * matmul.c — benchmark workload: dense double-precision matrix multiply.
 *
 * f64 loads, multiplies and adds in a triple loop: the engine's float path
 * and its address arithmetic.  Each round multiplies A by B and feeds the
 * product, rescaled, back in as the next A, so rounds form a chain.  The
 * inner loop accumulates in a fixed order and the build forbids contraction
 * (no FMA), so native and wasm produce bit-identical doubles.
 */
#include "workload.h"

#define MM 48

static double mm_a[MM][MM], mm_b[MM][MM], mm_c[MM][MM];

uint64_t bench_matmul(uint32_t n) {
    uint64_t seed = 0xabcdef;
    for (int i = 0; i < MM; i++)
        for (int j = 0; j < MM; j++) {
            /* 53 random bits scaled into [0, 1) */
            mm_a[i][j] = (double)(wl_next(&seed) >> 11) * (1.0 / 9007199254740992.0);
            mm_b[i][j] = (double)(wl_next(&seed) >> 11) * (1.0 / 9007199254740992.0) - 0.5;
        }
    uint64_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        for (int i = 0; i < MM; i++)
            for (int j = 0; j < MM; j++) {
                double s = 0.0;
                for (int k = 0; k < MM; k++) s += mm_a[i][k] * mm_b[k][j];
                mm_c[i][j] = s;
            }
        /* Keep entries bounded (|c| <= MM/2) so the chain neither
         * overflows nor underflows into denormals, whatever n is. */
        for (int i = 0; i < MM; i++)
            for (int j = 0; j < MM; j++) mm_a[i][j] = mm_c[i][j] * (2.0 / MM) + 0.25;
        h = wl_mix(h, wl_f64_bits(mm_c[r % MM][(r * 7) % MM]));
    }
    double trace = 0.0;
    for (int i = 0; i < MM; i++) trace += mm_c[i][i];
    return wl_mix(h, wl_f64_bits(trace));
}
