/*
 * fib.c — benchmark workload: naive recursive Fibonacci.
 *
 * Almost pure call overhead: a compare, two calls and an add per frame.
 * It is the engine's function-call path (frame setup, argument passing,
 * return) that gets measured.  Each round's depth depends on the running
 * sum, so the compiler can neither fold nor hoist a call out of the loop.
 */
#include "workload.h"

static uint32_t fib(uint32_t k) {
    return k < 2 ? k : fib(k - 1) + fib(k - 2);
}

uint64_t bench_fib(uint32_t n) {
    uint64_t sum = 0;
    for (uint32_t r = 0; r < n; r++)
        sum += fib(20 + (uint32_t)(sum & 1));
    return sum;
}
