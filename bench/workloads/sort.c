/*
 * sort.c — benchmark workload: sorting pseudo-random 32-bit integers.
 *
 * Rounds alternate between quicksort (median-of-three, insertion sort for
 * short runs, recursion on the smaller side) and an in-place heapsort:
 * data-dependent branches, i32 loads/stores at computed addresses, and a
 * fair amount of calls.  Every round sorts fresh data from the PRNG and
 * checks the result is ordered, so a miscompiled compare shows up in the
 * checksum rather than as a silently different running time.
 */
#include "workload.h"

#define SORT_N 4096u

static uint32_t sort_v[SORT_N];

static void insertion_sort(uint32_t *a, int32_t lo, int32_t hi) {
    for (int32_t i = lo + 1; i <= hi; i++) {
        uint32_t x = a[i];
        int32_t j = i - 1;
        while (j >= lo && a[j] > x) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = x;
    }
}

static inline void swap_u32(uint32_t *a, int32_t i, int32_t j) {
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quick_sort(uint32_t *a, int32_t lo, int32_t hi) {
    while (hi - lo > 16) {
        int32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap_u32(a, mid, lo);
        if (a[hi] < a[lo]) swap_u32(a, hi, lo);
        if (a[hi] < a[mid]) swap_u32(a, hi, mid);
        uint32_t pivot = a[mid];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                swap_u32(a, i, j);
                i++;
                j--;
            }
        }
        /* Recursing on the smaller part bounds the stack at log2(n) frames,
         * which matters on wasm's small shadow stack. */
        if (j - lo < hi - i) {
            quick_sort(a, lo, j);
            lo = i;
        } else {
            quick_sort(a, i, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

static void sift_down(uint32_t *a, uint32_t root, uint32_t end) {
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && a[child + 1] > a[child]) child++;
        if (a[root] >= a[child]) return;
        swap_u32(a, (int32_t)root, (int32_t)child);
        root = child;
    }
}

static void heap_sort(uint32_t *a, uint32_t len) {
    for (uint32_t i = len / 2; i-- > 0;) sift_down(a, i, len);
    for (uint32_t end = len - 1; end > 0; end--) {
        swap_u32(a, 0, (int32_t)end);
        sift_down(a, 0, end);
    }
}

uint64_t bench_sort(uint32_t n) {
    uint64_t seed = 0x5eed;
    uint64_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        for (uint32_t i = 0; i < SORT_N; i++) {
            uint64_t x = wl_next(&seed);
            /* Every eighth round uses few distinct keys: duplicate-heavy
             * input takes other paths through the partition loop. */
            sort_v[i] = (r & 7) == 7 ? (uint32_t)(x % 61) : (uint32_t)x;
        }
        if (r & 1)
            heap_sort(sort_v, SORT_N);
        else
            quick_sort(sort_v, 0, (int32_t)SORT_N - 1);
        uint32_t unordered = 0;
        for (uint32_t i = 1; i < SORT_N; i++) unordered += sort_v[i - 1] > sort_v[i];
        h = wl_mix(h, unordered);
        h = wl_mix(h, sort_v[0]);
        h = wl_mix(h, sort_v[SORT_N / 3]);
        h = wl_mix(h, sort_v[SORT_N - 1]);
    }
    return h;
}
