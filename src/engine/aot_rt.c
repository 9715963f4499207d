/*
 * aot_rt.c — the wasm2c runtime as Pylon provides it: compiled into every
 * AOT artifact (not into Pylon itself).
 *
 * wasm2c's output calls a small runtime API (wasm-rt.h, from Debian's
 * wabt).  Pylon implements it here in terms of the host callbacks of
 * aot_abi.h, so that traps unwind to Pylon's entry point, memories are
 * Pylon's own objects (a module's memory is rewritten into an import before
 * wasm2c sees it) and function-type ids are shared by every artifact in the
 * process.  Tables stay inside the artifact.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wasm-rt.h"
#include "aot_abi.h"

const pl_aot_host *pl_aot_rt_host; /* set by the glue's init */

#if WASM_RT_USE_STACK_DEPTH_COUNT
uint32_t wasm_rt_call_stack_depth;
#endif

static bool initialized;
void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) { initialized = false; }

void wasm_rt_trap(wasm_rt_trap_t code) { pl_aot_rt_host->trap((int)code); }

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
    switch (trap) {
    case WASM_RT_TRAP_NONE: return "no error";
    case WASM_RT_TRAP_OOB: return "out of bounds access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call failed";
    default: return "trap";
    }
}

/* Types are ids of interned signature strings, process-wide. */
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
    static const char letters[] = {'i', 'I', 'f', 'F', 'r', 'e'};
    char sig[512];
    size_t n = 0;
    va_list ap;
    va_start(ap, results);
    for (uint32_t i = 0; i < params + results && n + 2 < sizeof sig; i++) {
        if (i == params) sig[n++] = ':';
        int t = va_arg(ap, int);
        sig[n++] = t >= 0 && t < 6 ? letters[t] : '?';
    }
    va_end(ap);
    if (params + results == params) sig[n++] = ':';
    sig[n] = 0;
    return pl_aot_rt_host->func_type_id(sig);
}

/* Exceptions are not part of WebAssembly 2.0; Pylon never enables them. */
uint32_t wasm_rt_register_tag(uint32_t size) { (void)size; wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); }
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values) {
    (void)tag; (void)size; (void)values;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}
void wasm_rt_throw(void) { wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); }
WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return NULL; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { (void)target; }
uint32_t wasm_rt_exception_tag(void) { return 0; }
uint32_t wasm_rt_exception_size(void) { return 0; }
void *wasm_rt_exception(void) { return NULL; }

/* Memories are Pylon's (imports); only growing goes through here. */
void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial, uint32_t max) {
    (void)m; (void)initial; (void)max;
    wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); /* never: memories are rewritten to imports */
}
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
    return pl_aot_rt_host->grow_memory(m, delta);
}
void wasm_rt_free_memory(wasm_rt_memory_t *m) { (void)m; }

/* Tables live in the artifact's instance. */
#define TABLE_FUNCS(kind, elem)                                                            \
    void wasm_rt_allocate_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t n, uint32_t max) { \
        t->size = n;                                                                       \
        t->max_size = max;                                                                 \
        t->data = calloc(n ? n : 1, sizeof(elem));                                         \
        if (!t->data) wasm_rt_trap(WASM_RT_TRAP_OOB);                                      \
    }                                                                                      \
    void wasm_rt_free_##kind##_table(wasm_rt_##kind##_table_t *t) {                      \
        free(t->data);                                                                     \
        t->data = NULL;                                                                    \
    }                                                                                      \
    uint32_t wasm_rt_grow_##kind##_table(wasm_rt_##kind##_table_t *t, uint32_t delta, elem init) { \
        uint32_t old = t->size;                                                            \
        uint64_t n = (uint64_t)old + delta;                                                \
        if (n > t->max_size) return UINT32_MAX;                                            \
        if (delta == 0) return old;                                                        \
        elem *d = realloc(t->data, (size_t)n * sizeof(elem));                              \
        if (!d) return UINT32_MAX;                                                         \
        for (uint64_t i = old; i < n; i++) d[i] = init;                                    \
        t->data = d;                                                                       \
        t->size = (uint32_t)n;                                                             \
        return old;                                                                        \
    }
TABLE_FUNCS(funcref, wasm_rt_funcref_t)
TABLE_FUNCS(externref, wasm_rt_externref_t)
