/*
 * dynlink_guest.c — the guest half of the boundary benchmark
 * (bench/dynlink_bench.c): a bare wasm32 module that imports only the
 * compose:dynlink linker and loops invokes, so the time measured is the
 * boundary (guest -> host -> provider -> host -> guest), not a libc.
 *
 * It is what a C extension inside python.wasm does per call, minus Python:
 * one resolve up front, then invoke with a fixed method and payload; the
 * result lands in the guest's bump arena, which is reset each iteration.
 */
#include "dynlink.h"

static uint8_t *payload;
static size_t payload_cap;
static size_t keep_mark;

/* A buffer of n bytes the host fills (ids, method names, payloads). */
__attribute__((export_name("bench_buf")))
uint8_t *bench_buf(uint32_t n) {
    if (n > payload_cap) {
        payload = dl_alloc(n, 16);
        payload_cap = n;
        dl_arena_keep();
        keep_mark = dl_arena_used();
    }
    return payload;
}

/* Resolves the id in the buffer; returns the handle, or -(code + 1). */
__attribute__((export_name("bench_resolve")))
int32_t bench_resolve(uint32_t len) {
    dl_handle h;
    dl_error e;
    if (dl_resolve_id_n((const char *)payload, len, &h, &e)) {
        dl_arena_reset();
        return -(int32_t)e.code - 1;
    }
    return (int32_t)h;
}

/* iters invokes of `method` (at the buffer's start, mlen bytes) with the
 * payload that follows it (plen bytes).  Returns the sum of the result
 * lengths, or -(code + 1) on the first error. */
__attribute__((export_name("bench_invoke")))
int64_t bench_invoke(uint32_t h, uint32_t mlen, uint32_t plen, uint32_t iters) {
    int64_t total = 0;
    const char *method = (const char *)payload;
    const uint8_t *p = payload + mlen;
    for (uint32_t i = 0; i < iters; i++) {
        dl_bytes out;
        dl_error e;
        if (dl_invoke(h, method, mlen, p, plen, &out, &e)) return -(int64_t)e.code - 1;
        total += (int64_t)out.len;
        dl_arena_reset();
    }
    return total;
}

/* The first 4 result bytes of one invoke (for checking crc values). */
__attribute__((export_name("bench_invoke_u32")))
int64_t bench_invoke_u32(uint32_t h, uint32_t mlen, uint32_t plen) {
    dl_bytes out;
    dl_error e;
    if (dl_invoke(h, (const char *)payload, mlen, payload + mlen, plen, &out, &e))
        return -(int64_t)e.code - 1;
    int64_t v = out.len >= 4 ? (int64_t)(out.ptr[0] | out.ptr[1] << 8 | out.ptr[2] << 16 |
                                         (uint32_t)out.ptr[3] << 24) : -1000;
    dl_arena_reset();
    return v;
}
