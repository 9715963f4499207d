/*
 * hostile.c — a provider that misbehaves on request, one method per way a
 * provider can go wrong, so the tests can show the host survives each:
 * the guest gets an error with the right code, the instance is discarded,
 * and the next call (to a fresh instance) works.
 *
 * It writes its own endpoint export instead of using the SDK's, because
 * several methods must return return areas the SDK would never produce.
 * Its allocator is the SDK's bump arena (DL_BUMP_ALLOC).
 *
 *   echo            the payload back (the "it still works" call)
 *   count           a u32 counter kept in the instance: 1 on a fresh one
 *   error           a well-formed error with a context string
 *   trap            unreachable                          -> exec-trap
 *   div0            integer division by zero             -> exec-trap
 *   loop            never returns                        -> exec-timeout
 *   recurse         unbounded recursion                  -> exec-resource-exhausted
 *   membomb         grows memory until refused, traps    -> exec-resource-exhausted
 *   huge            a 2 MiB result (over max_result)     -> exec-resource-exhausted
 *   bad-retarea     return area outside memory           -> exec-trap
 *   misaligned      return area not 4-aligned            -> exec-trap
 *   bad-ptr         list pointer outside memory          -> exec-trap
 *   bad-len         list length past the end of memory   -> exec-trap
 *   bad-tag         result tag 7                         -> exec-trap
 *   bad-code        error code 200                       -> exec-trap
 *   bad-utf8        error message that is not UTF-8      -> exec-trap
 *   bad-ctx         option tag 2 for the context         -> exec-trap
 *   reenter         resolves "hostile" (itself) and invokes it: the host
 *                   refuses the re-entry; the refusal is passed on
 *                                                        -> exec-capability-denied
 */
#include "dynlink.h"

static uint32_t ret[7] __attribute__((aligned(8)));
static uint32_t counter;
static volatile uint32_t sink;

static uint32_t *ok(const void *p, size_t n) {
    memset(ret, 0, sizeof ret);
    ret[1] = (uint32_t)(uintptr_t)p;
    ret[2] = (uint32_t)n;
    return ret;
}

static uint32_t *err(unsigned code, const char *msg, const char *ctx) {
    memset(ret, 0, sizeof ret);
    ((uint8_t *)ret)[0] = 1;
    ret[1] = code;
    ret[2] = (uint32_t)(uintptr_t)msg;
    ret[3] = (uint32_t)strlen(msg);
    if (ctx) {
        ((uint8_t *)ret)[16] = 1;
        ret[5] = (uint32_t)(uintptr_t)ctx;
        ret[6] = (uint32_t)strlen(ctx);
    }
    return ret;
}

#pragma clang diagnostic ignored "-Winfinite-recursion"
/* Work after the call (and the volatile stores) keeps clang from turning
 * the recursion into a loop. */
static uint32_t recurse(uint32_t n) {
    sink = n;
    uint32_t r = recurse(n + 1);
    sink = r;
    return r * 3 + n;
}

/* The error's message as a C string, copied into the arena. */
static const char *cstr(const dl_error *e) {
    char *m = dl_alloc(e->message_len + 1, 1);
    if (e->message_len) memcpy(m, e->message, e->message_len);
    m[e->message_len] = 0;
    return m;
}

static uint32_t *reenter(void) {
    dl_handle self;
    dl_error e;
    if (dl_resolve_id("hostile", &self, &e)) return err(e.code, cstr(&e), "resolve");
    if (dl_invoke(self, "echo", 4, "ping", 4, 0, &e)) {
        dl_drop(self);
        return err(e.code, cstr(&e), "reenter");
    }
    dl_drop(self);
    return err(DL_INTERNAL_ERROR, "the host let a provider re-enter itself", 0);
}

#define IS(lit) dl_method_is(m, ml, lit)

static bool dl_method_is(const char *m, size_t ml, const char *lit) {
    size_t n = strlen(lit);
    return ml == n && memcmp(m, lit, n) == 0;
}

__attribute__((export_name("compose:dynlink/endpoint@0.1.0#handle")))
uint32_t *handle(const char *m, size_t ml, const uint8_t *p, size_t pl) {
    if (IS("echo")) return ok(p, pl);
    if (IS("count")) {
        uint32_t *v = dl_alloc(4, 4);
        *v = ++counter;
        return ok(v, 4);
    }
    if (IS("error")) return err(DL_NOT_IMPLEMENTED, "asked to fail", "the context");
    if (IS("trap")) __builtin_trap();
    if (IS("div0")) { volatile uint32_t z = 0; return ok(0, 100 / z); }
    if (IS("loop")) for (;;) sink++;
    if (IS("recurse")) return ok(0, recurse(0));
    if (IS("membomb"))
        for (;;)
            if (__builtin_wasm_memory_grow(0, 16) == (size_t)-1) __builtin_trap();
    if (IS("huge")) {
        size_t n = 2u << 20;
        uint8_t *b = dl_alloc(n, 1);
        memset(b, 'h', n);
        return ok(b, n);
    }
    if (IS("bad-retarea")) return (uint32_t *)(uintptr_t)0xfffffff0u;
    if (IS("misaligned")) { ok(p, pl); return (uint32_t *)((uint8_t *)ret + 2); }
    if (IS("bad-ptr")) return ok((void *)(uintptr_t)0xffff0000u, 16);
    if (IS("bad-len")) return ok(p, __builtin_wasm_memory_size(0) * 65536u);
    if (IS("bad-tag")) { ok(p, pl); ((uint8_t *)ret)[0] = 7; return ret; }
    if (IS("bad-code")) { err(0, "x", 0); ret[1] = 200; return ret; }
    if (IS("bad-utf8")) return err(DL_INTERNAL_ERROR, "\xff\xfe not text", 0);
    if (IS("bad-ctx")) { err(DL_INTERNAL_ERROR, "x", 0); ((uint8_t *)ret)[16] = 2; return ret; }
    if (IS("reenter")) return reenter();
    return err(DL_NOT_IMPLEMENTED, "hostile: unknown method", 0);
}

__attribute__((export_name("cabi_post_compose:dynlink/endpoint@0.1.0#handle")))
void post(uint32_t *r) {
    (void)r;
    dl_arena_reset();
}
