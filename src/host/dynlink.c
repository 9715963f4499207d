/*
 * dynlink.c — the compose:dynlink@0.1.0 bridge: the four linker imports a
 * guest calls (resolve-by-id, resolve-by-digest, [method]instance.invoke,
 * [resource-drop]instance), speaking exactly the canonical-ABI layout of
 * /work/shared/reference/conventions.md.
 *
 * Each plan cap is one provider instance with its own memory and limits,
 * created on first resolve and reused by every handle that names it;
 * handles are per caller (a guest, or a provider that itself resolves
 * caps).  On every resolve the plan's policy and the trust store are
 * consulted again, and the outcome is audited.
 *
 * The guiding rule is that nothing a provider does can hurt the host or
 * the guest: its memory is only touched through bounds-checked engine
 * calls, everything it returns is validated before a byte is copied (a
 * malformed result is a trap, as lifting it would be in the canonical
 * ABI), and a provider that traps, runs out of fuel or time, fills its
 * memory or misbehaves is thrown away and made again on the next call.
 * The guest gets an `error` value with the right code, never a trap of
 * its own — except when the guest itself passes pointers outside its
 * memory, which is the guest's bug, and traps it as the canonical ABI
 * says it must.
 *
 * The invoke path allocates nothing in the host: arguments go straight
 * from the guest's memory into one block the provider allocates, and the
 * result straight from the provider's memory into one block the guest
 * allocates.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "host/host_impl.h"

#define LINKER "compose:dynlink/linker@0.1.0"
#define ENDPOINT_HANDLE "compose:dynlink/endpoint@0.1.0#handle"
#define ENDPOINT_POST "cabi_post_compose:dynlink/endpoint@0.1.0#handle"

#define MAX_HANDLES 4096
#define MAX_ID_LEN 1024
#define RETAREA_SIZE 28

typedef struct provider provider;

typedef struct caller {
    pylon_host *host;
    provider *self;             /* NULL for a guest */
    char name[160];
    uint32_t *slots;            /* handle h is slots[h - 1]: provider index + 1, 0 = free */
    uint32_t nslots;
    /* The calling instance's cabi_realloc and memory, looked up once per
     * instance (by-name export lookups cost more than the rest of a small
     * invoke).  Reset whenever the instance may change. */
    pylon_instance *realloc_inst;
    pylon_func *realloc_fn;
    pylon_instance *mem_inst;
    pylon_memory *mem;
    struct caller *next;
} caller;

struct provider {
    pylon_host *host;
    const pylon_plan_cap *cap;
    uint32_t index;
    pylon_module *module;       /* compiled once, kept for re-instantiation */
    pylon_imports *imports;     /* the linker, for providers that use other caps */
    caller self;                /* this provider as a caller */
    pylon_instance *inst;       /* NULL until made, and after a discard */
    pylon_memory *mem;
    pylon_func *handle_fn, *post_fn, *realloc_fn;
    uint32_t max_pages;
    bool busy;                  /* inside an invoke: re-entry is refused */
    bool tier_pending;          /* interpreted while native code compiles */
    char *aot_path;             /* ... into this cache file */
    double next_tier_check;     /* monotonic seconds */
};

struct pylon_host {
    const pylon_plan *plan;
    pylon_plan *owned_plan;
    pylon_blobstore *blobs;
    pylon_trust *trust;
    pylon_audit *audit;
    pl_watchdog *wd;
    pylon_tier tier;            /* see pylon_host_set_tier */
    provider *providers;
    size_t nproviders;
    caller *guests;
    pylon_host_stats stats;
    FILE *log;
};

/* ---- small helpers ------------------------------------------------------------------- */

static void say(pylon_host *h, const char *msg) {
    if (h->log) fprintf(h->log, "pylon: dynlink: %s\n", msg);
}

static int audit(pylon_host *h, const pylon_audit_entry *e) {
    if (!h->audit) return 0;
    pylon_host_error err;
    if (pylon_audit_append(h->audit, e, &err)) {
        say(h, err.message);
        return -1;
    }
    return 0;
}

static void get_u32(const uint8_t *p, uint32_t *v) { memcpy(v, p, 4); }   /* wasm is little-endian, so is x86 */
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static pylon_memory *cmem(caller *c, pylon_caller *pc) {
    pylon_instance *inst = pylon_caller_instance(pc);
    if (inst != c->mem_inst || !c->mem) {
        c->mem_inst = inst;
        c->mem = pylon_caller_memory(pc);
    }
    return c->mem;
}

/* The method as text for messages (only built when something failed). */
static const char *mname_of(const char *m, uint32_t len, char buf[132]) {
    snprintf(buf, 132, "%.*s", len > 128 ? 128 : (int)len, m);
    if (!pl_utf8_valid((const uint8_t *)buf, strlen(buf))) strcpy(buf, "(not UTF-8)");
    return buf;
}

static pylon_func *func_of(pylon_instance *inst, const char *name, const char *sig) {
    pylon_func *f = pylon_instance_func(inst, name);
    return f && !strcmp(pylon_func_signature(f), sig) ? f : NULL;
}

/* ---- allocating in a caller's memory ------------------------------------------------------ */

/* cabi_realloc(0, 0, align, size) in the calling instance.  0 on success;
 * -1 the allocator trapped or returned a block outside memory (then *why
 * says so); zero-sized blocks need no call: the ABI's pointer is `align`. */
static int caller_alloc(caller *c, pylon_caller *pc, uint32_t align, uint32_t size,
                        uint32_t *out, char *why, size_t whycap) {
    if (size == 0) { *out = align; return 0; }
    pylon_instance *inst = pylon_caller_instance(pc);
    if (inst != c->realloc_inst) {
        c->realloc_inst = inst;
        c->realloc_fn = inst ? func_of(inst, "cabi_realloc", "iiii:i") : NULL;
    }
    if (!c->realloc_fn) {
        snprintf(why, whycap, "the caller does not export cabi_realloc (i32,i32,i32,i32)->i32, "
                 "which compose:dynlink needs to hand it results");
        return -1;
    }
    pylon_val args[4] = { { .i32 = 0 }, { .i32 = 0 }, { .i32 = (int32_t)align }, { .i32 = (int32_t)size } };
    pylon_val res;
    pylon_trap trap;
    if (pylon_call(c->realloc_fn, args, 4, &res, 1, &trap)) {
        snprintf(why, whycap, "the caller's cabi_realloc(%u bytes) trapped: %.160s", size, trap.message);
        return -1;
    }
    uint32_t p = (uint32_t)res.i32;
    if ((p & (align - 1)) || !pylon_memory_ptr(cmem(c, pc), p, size)) {
        snprintf(why, whycap, "the caller's cabi_realloc returned 0x%x for %u bytes, outside its "
                 "memory or misaligned", p, size);
        return -1;
    }
    *out = p;
    return 0;
}

/* Writes an `error` result at retptr (already checked to be inside the
 * caller's memory and aligned), allocating the message in the caller.  If
 * even that allocation fails, the error goes out with an empty message. */
static int reply_error(caller *c, pylon_caller *pc, uint32_t retptr, int code, const char *msg,
                       size_t msglen, const char *ctx, size_t ctxlen, bool has_ctx) {
    char why[256];
    uint32_t mp = 1, cp = 1;
    if (caller_alloc(c, pc, 1, (uint32_t)msglen, &mp, why, sizeof why)) {
        if (!c->realloc_fn) return pylon_caller_trap(pc, "compose:dynlink: %s", why);
        mp = 1;
        msglen = 0;
        has_ctx = false;
    } else if (msglen) {
        memcpy(pylon_memory_ptr(cmem(c, pc), mp, msglen), msg, msglen);
    }
    if (has_ctx && caller_alloc(c, pc, 1, (uint32_t)ctxlen, &cp, why, sizeof why)) has_ctx = false;
    else if (has_ctx && ctxlen) memcpy(pylon_memory_ptr(cmem(c, pc), cp, ctxlen), ctx, ctxlen);
    uint8_t *r = pylon_memory_ptr(cmem(c, pc), retptr, RETAREA_SIZE);
    memset(r, 0, RETAREA_SIZE);
    r[0] = 1;
    r[4] = (uint8_t)code;
    put_u32(r + 8, mp);
    put_u32(r + 12, (uint32_t)msglen);
    r[16] = has_ctx;
    if (has_ctx) {
        put_u32(r + 20, cp);
        put_u32(r + 24, (uint32_t)ctxlen);
    }
    return 0;
}

static int reply_host_error(caller *c, pylon_caller *pc, uint32_t retptr, const pylon_host_error *e) {
    return reply_error(c, pc, retptr, e->code, e->message, strlen(e->message), NULL, 0, false);
}

/* The return area must be inside the caller's memory and 4-aligned. */
static uint8_t *retarea(pylon_caller *pc, uint32_t retptr) {
    if (retptr & 3) return NULL;
    return pylon_memory_ptr(pylon_caller_memory(pc), retptr, RETAREA_SIZE);
}

/* ---- provider lifetime ------------------------------------------------------------------------ */

static void reset_handles(caller *c) {
    if (c->slots) memset(c->slots, 0, c->nslots * sizeof *c->slots);
    c->realloc_inst = NULL;
    c->realloc_fn = NULL;
    c->mem_inst = NULL;
    c->mem = NULL;
}

static void discard(provider *p) {
    if (!p->inst) return;
    pylon_instance_free(p->inst);
    p->inst = NULL;
    p->mem = NULL;
    p->handle_fn = p->post_fn = p->realloc_fn = NULL;
    reset_handles(&p->self);
    p->host->stats.discards++;
}

static bool is_linker_import(const pylon_importdesc *d) {
    return !strcmp(d->module, LINKER) &&
           (!strcmp(d->name, "resolve-by-id") || !strcmp(d->name, "resolve-by-digest") ||
            !strcmp(d->name, "[method]instance.invoke") || !strcmp(d->name, "[resource-drop]instance"));
}

/* Names the innermost wasm function of a trap, for messages. */
static const char *trap_where(const pylon_trap *t, char *buf, size_t cap) {
    buf[0] = 0;
    for (uint32_t i = 0; i < t->nframes; i++) {
        if (!t->frames[i].instance) continue;
        const char *n = pylon_instance_func_name(t->frames[i].instance, t->frames[i].func);
        if (n) snprintf(buf, cap, " in %s", n);
        else snprintf(buf, cap, " in func %u", t->frames[i].func);
        break;
    }
    return buf;
}

/* Turns a provider trap into an error code and message. */
static int classify(provider *p, const pylon_trap *t, bool fired, const char *during,
                    pylon_host_error *e) {
    const pylon_plan_limits *l = &p->cap->limits;
    char where[160];
    trap_where(t, where, sizeof where);
    if (t->kind == PYLON_TRAP_INTERRUPTED || (fired && t->kind == PYLON_TRAP_INTERRUPTED))
        return pl_herr(e, PYLON_HOST_EXEC_TIMEOUT,
                       "provider \"%s\" ran past its time limit of %" PRIu64 " ms during %s%s; "
                       "it was stopped (raise caps.%s.limits.timeout_ms if it needs longer)",
                       p->cap->id, l->timeout_ms, during, where, p->cap->id);
    if (t->kind == PYLON_TRAP_FUEL_EXHAUSTED)
        return pl_herr(e, PYLON_HOST_EXEC_TIMEOUT,
                       "provider \"%s\" used up its fuel budget of %" PRIu64 " per invoke during "
                       "%s%s; it was stopped (raise caps.%s.limits.fuel if it needs more)",
                       p->cap->id, l->fuel, during, where, p->cap->id);
    if (t->kind == PYLON_TRAP_STACK_EXHAUSTED)
        return pl_herr(e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED,
                       "provider \"%s\" exhausted the call stack during %s%s", p->cap->id,
                       during, where);
    /* A trap with the memory at or near its limit is almost always an
     * allocation that failed (the engine does not report refused grows, and
     * an allocator asks for more than one page at a time): "near" is within
     * an eighth of the limit, at least 1 MiB. */
    uint32_t pages = p->mem ? pylon_memory_pages(p->mem) : 0;
    uint32_t slack = p->max_pages / 8 > 16 ? p->max_pages / 8 : 16;
    if (p->mem && t->kind != PYLON_TRAP_HOST && pages + slack >= p->max_pages)
        return pl_herr(e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED,
                       "provider \"%s\" trapped with its memory at the limit (%" PRIu64 " KiB) "
                       "during %s%s: %s (raise caps.%s.limits.max_memory if that is legitimate)",
                       p->cap->id, (uint64_t)pylon_memory_pages(p->mem) * 64, during, where,
                       t->message, p->cap->id);
    return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" trapped during %s%s: %s",
                   p->cap->id, during, where, t->message);
}

/* A provider's module on the best tier there is (pylon_host_set_tier).
 * Under auto, a provider without native code yet runs on the interpreter
 * while a background process compiles it; the next instance of it (after
 * a discard, or in the next run) tiers up.  A fuel limit keeps a provider
 * on the interpreter: native code counts no fuel. */
static pylon_module *provider_module(provider *p, const uint8_t *bytes, size_t len, pylon_error *err) {
    pylon_tier tier = p->cap->limits.fuel ? PYLON_TIER_INTERP : p->host->tier;
    pylon_module *m = pylon_module_load_tier(bytes, len, tier, NULL, NULL, NULL, err);
    if (!m && tier == PYLON_TIER_AOT && err->kind == PYLON_ERR_UNSUPPORTED) {
        char msg[400];
        snprintf(msg, sizeof msg, "provider \"%s\" runs on the interpreter: %s", p->cap->id, err->message);
        say(p->host, msg);
        m = pylon_module_load(bytes, len, err);
    }
    p->tier_pending = m && tier == PYLON_TIER_AUTO && !pylon_module_is_aot(m) &&
                      pylon_aot_compile_background(bytes, len) == 0;
    char path[4096];
    if (p->tier_pending && !p->aot_path && pylon_aot_cache_path(bytes, len, path, sizeof path) == 0)
        p->aot_path = strdup(path);
    return m;
}

/* The instance's exports the bridge calls; NULL when all are there, else
 * what is missing. */
static const char *bind_exports(provider *p) {
    pylon_instance *inst = p->inst;
    p->mem = pylon_instance_memory(inst, "memory");
    p->handle_fn = func_of(inst, ENDPOINT_HANDLE, "iiii:i");
    p->realloc_fn = func_of(inst, "cabi_realloc", "iiii:i");
    p->post_fn = pylon_instance_func(inst, ENDPOINT_POST);
    const char *missing = !p->mem ? "memory"
                        : !p->handle_fn ? ENDPOINT_HANDLE " (i32,i32,i32,i32)->i32"
                        : !p->realloc_fn ? "cabi_realloc (i32,i32,i32,i32)->i32" : NULL;
    if (!missing && p->post_fn && strcmp(pylon_func_signature(p->post_fn), "i:"))
        missing = ENDPOINT_POST " (i32)->()";
    return missing;
}

static double mono_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A live provider that runs on the interpreter while its native code
 * compiles: once the artifact is there (looked for at most every 100 ms,
 * between invokes), a native instance takes over the live one's memory and
 * globals (pylon_instance_retier), so the provider's state carries over.
 * When its state cannot (a table or segment changed), the live instance
 * stays interpreted and the next instance is native. */
static void tier_up_live(provider *p) {
    double now = mono_now();
    if (!p->aot_path || now < p->next_tier_check) return;
    p->next_tier_check = now + 0.1;
    struct stat st;
    if (stat(p->aot_path, &st) != 0) return;
    uint8_t *bytes;
    size_t len;
    pylon_host_error he;
    if (pylon_blob_get_local(p->host->blobs, &p->cap->digest, &bytes, &len, &he)) return;
    pylon_module *m = pylon_module_load_tier(bytes, len, PYLON_TIER_AUTO, NULL, NULL, NULL, NULL);
    free(bytes);
    if (!m || !pylon_module_is_aot(m)) { pylon_module_free(m); return; }
    pylon_error err;
    pylon_instance *inst = pylon_instance_retier(p->inst, m, &err);
    pylon_instance *old = p->inst;
    if (inst) {
        p->inst = inst;
        if (bind_exports(p)) {      /* cannot be: the same module's exports */
            p->inst = old;
            bind_exports(p);
            pylon_instance_free(inst);
            inst = NULL;
        }
    }
    pylon_module_free(p->module);   /* the live instance keeps its own reference */
    p->module = m;
    p->tier_pending = false;
    if (!inst) {
        char msg[400];
        snprintf(msg, sizeof msg, "provider \"%s\" stays on the interpreter until its next instance: %s",
                 p->cap->id, err.message);
        say(p->host, msg);
        return;
    }
    pylon_instance_free(old);
    /* caches keyed by the old instance (the handles it holds stay) */
    p->self.realloc_inst = NULL;
    p->self.realloc_fn = NULL;
    p->self.mem_inst = NULL;
    p->self.mem = NULL;
    pylon_audit_entry ae = { .event = "instantiate", .caller = NULL, .cap = p->cap->id,
                             .digest = &p->cap->digest, .outcome = "ok", .code = -1,
                             .message = "native code (tier-up of the live instance, state carried over)" };
    audit(p->host, &ae);
}

/* Between instances: swaps in native code once its compile finished. */
static void tier_up(provider *p) {
    uint8_t *bytes;
    size_t len;
    pylon_host_error e;
    if (pylon_blob_get_local(p->host->blobs, &p->cap->digest, &bytes, &len, &e)) return;
    if (pylon_aot_cached(bytes, len)) {
        pylon_module *m = pylon_module_load_tier(bytes, len, PYLON_TIER_AUTO, NULL, NULL, NULL, NULL);
        if (m && pylon_module_is_aot(m)) {
            pylon_module_free(p->module);
            p->module = m;
            p->tier_pending = false;
        } else {
            pylon_module_free(m);
        }
    }
    free(bytes);
}

/* Makes the provider's instance if there is none. */
static int ensure_instance(provider *p, pylon_host_error *e) {
    if (p->inst) return 0;
    pylon_host *h = p->host;
    const pylon_plan_cap *cap = p->cap;
    char dg[32];
    pylon_digest_short(&cap->digest, dg);
    if (p->module && p->tier_pending) tier_up(p);
    if (!p->module) {
        uint8_t *bytes;
        size_t len;
        if (pylon_blob_get(h->blobs, &cap->digest, &bytes, &len, e)) return -1;
        pylon_error perr;
        p->module = provider_module(p, bytes, len, &perr);
        free(bytes);
        if (!p->module)
            return pl_herr(e, PYLON_HOST_EMIT_LINK_ERROR,
                           "provider \"%s\" (%s) is not a module Pylon can run: %s", cap->id, dg,
                           perr.message);
        uint32_t n = pylon_module_num_imports(p->module);
        for (uint32_t i = 0; i < n; i++) {
            pylon_importdesc d;
            pylon_module_import(p->module, i, &d);
            if (!is_linker_import(&d)) {
                pl_herr(e, PYLON_HOST_EMIT_LINK_ERROR,
                        "provider \"%s\" (%s) imports %s.%s; a provider may import only the "
                        "four functions of " LINKER, cap->id, dg, d.module, d.name);
                pylon_module_free(p->module);   /* d's strings live in the module */
                p->module = NULL;
                return -1;
            }
        }
    }
    pylon_limits lim = { 0 };
    uint64_t pages = (cap->limits.max_memory + PYLON_PAGE_SIZE - 1) / PYLON_PAGE_SIZE;
    lim.max_memory_pages = pages > 65536 ? 65536 : (uint32_t)pages;
    pylon_error perr;
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_instance *inst = pylon_instantiate(p->module, p->imports, &lim, &perr, &trap);
    if (!inst) {
        /* The engine's advice names its own CLI's flag; ours is the plan. */
        char *advice = strstr(perr.message, "; raise");
        if (advice) *advice = 0;
        if (perr.kind == PYLON_ERR_LIMIT)
            return pl_herr(e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED,
                           "provider \"%s\" (%s) needs more than its memory limit of %" PRIu64
                           " bytes: %s; raise caps.%s.limits.max_memory", cap->id, dg,
                           cap->limits.max_memory, perr.message, cap->id);
        if (trap.kind != PYLON_TRAP_NONE)
            return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" (%s) trapped in its start "
                           "function: %s", cap->id, dg, trap.message);
        return pl_herr(e, PYLON_HOST_EMIT_LINK_ERROR, "cannot instantiate provider \"%s\" (%s): %s",
                       cap->id, dg, perr.message);
    }
    p->inst = inst;
    p->max_pages = lim.max_memory_pages;
    const char *missing = bind_exports(p);
    if (missing) {
        discard(p);
        h->stats.discards--;
        return pl_herr(e, PYLON_HOST_EXEC_MISSING_EXPORT,
                       "provider \"%s\" (%s) does not export %s; it was not built as a "
                       "compose:dynlink provider (see guest/sdk/dynlink.h)", cap->id, dg, missing);
    }
    h->stats.instantiations++;
    pylon_func *init = pylon_instance_func(inst, "_initialize");
    if (init) {
        pylon_instance_set_fuel(inst, cap->limits.fuel);
        int tok = cap->limits.timeout_ms ? pl_watchdog_arm(h->wd, inst, cap->limits.timeout_ms) : -1;
        int r = strcmp(pylon_func_signature(init), ":") ? -2 : pylon_call(init, NULL, 0, NULL, 0, &trap);
        bool fired = pl_watchdog_disarm(h->wd, tok);
        if (r == -2) {
            discard(p);
            return pl_herr(e, PYLON_HOST_EXEC_MISSING_EXPORT, "provider \"%s\" exports "
                           "_initialize with a signature other than ()->()", cap->id);
        }
        if (r) {
            classify(p, &trap, fired, "_initialize", e);
            discard(p);
            return -1;
        }
        if (fired) {
            discard(p);
            return pl_herr(e, PYLON_HOST_EXEC_TIMEOUT, "provider \"%s\" took longer than %" PRIu64
                           " ms in _initialize", cap->id, cap->limits.timeout_ms);
        }
    }
    pylon_audit_entry ae = { .event = "instantiate", .caller = NULL, .cap = cap->id,
                             .digest = &cap->digest, .outcome = "ok", .code = -1,
                             .message = pylon_module_is_aot(p->module) ? "native code" : "interpreter" };
    audit(h, &ae);
    return 0;
}

/* ---- handles ------------------------------------------------------------------------------------ */

static int handle_new(caller *c, uint32_t provider_index, uint32_t *out) {
    for (uint32_t i = 0; i < c->nslots; i++)
        if (!c->slots[i]) { c->slots[i] = provider_index + 1; *out = i + 1; return 0; }
    if (c->nslots >= MAX_HANDLES) return -1;
    uint32_t n = c->nslots ? c->nslots * 2 : 8;
    if (n > MAX_HANDLES) n = MAX_HANDLES;
    uint32_t *bigger = realloc(c->slots, n * sizeof *bigger);
    if (!bigger) return -1;
    memset(bigger + c->nslots, 0, (n - c->nslots) * sizeof *bigger);
    c->slots = bigger;
    uint32_t i = c->nslots;
    c->nslots = n;
    c->slots[i] = provider_index + 1;
    *out = i + 1;
    return 0;
}

static provider *handle_get(caller *c, uint32_t h) {
    if (h == 0 || h > c->nslots || !c->slots[h - 1]) return NULL;
    return &c->host->providers[c->slots[h - 1] - 1];
}

/* ---- resolve ---------------------------------------------------------------------------------------- */

static const char *caller_label(const caller *c) { return c->name; }

/* Policy, trust, blob, instance, handle.  `what` is the call as people
 * read it: resolve-by-id("crc32c"). */
static int do_resolve(caller *c, const pylon_plan_cap *cap, const char *what, uint32_t *handle,
                      pylon_host_error *e) {
    pylon_host *h = c->host;
    provider *p = &h->providers[cap - h->plan->caps];
    pylon_host_error inner;
    char how[96] = "";
    if (pylon_trust_reload(h->trust, &inner) || pylon_trust_check(h->trust, &cap->digest, how, sizeof how, &inner))
        return pl_herr(e, inner.code, "%s: %s", what, inner.message);
    if (ensure_instance(p, &inner))
        return pl_herr(e, inner.code, "%s: %s", what, inner.message);
    if (handle_new(c, p->index, handle))
        return pl_herr(e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED, "%s: %s holds %d handles already; "
                       "drop the ones it no longer needs", what, caller_label(c), MAX_HANDLES);
    char msg[160];
    snprintf(msg, sizeof msg, "trusted through %s; handle %u", how, *handle);
    pylon_audit_entry ae = { .event = "resolve", .caller = caller_label(c), .cap = cap->id,
                             .digest = &cap->digest, .outcome = "ok", .code = -1, .message = msg };
    if (audit(h, &ae)) {
        c->slots[*handle - 1] = 0;
        return pl_herr(e, PYLON_HOST_INTERNAL_ERROR, "%s: refused because the audit log cannot be "
                       "written (every resolve must be recorded); check the audit log path", what);
    }
    return 0;
}

static int finish_resolve(caller *c, pylon_caller *pc, uint32_t retptr, int rc, uint32_t handle,
                          const char *cap_id, const pylon_digest *d, pylon_host_error *e) {
    pylon_host *h = c->host;
    h->stats.resolves++;
    if (rc) {
        h->stats.resolve_denied++;
        bool denied = e->code == PYLON_HOST_EXEC_CAPABILITY_DENIED ||
                      (e->code >= PYLON_HOST_TRUST_VERIFICATION_FAILED &&
                       e->code <= PYLON_HOST_TRUST_UNTRUSTED_SOURCE);
        pylon_audit_entry ae = { .event = "resolve", .caller = caller_label(c), .cap = cap_id,
                                 .digest = d, .outcome = denied ? "denied" : "error",
                                 .code = e->code, .message = e->message };
        audit(h, &ae);
        say(h, e->message);
        return reply_host_error(c, pc, retptr, e);
    }
    uint8_t *r = retarea(pc, retptr);
    memset(r, 0, RETAREA_SIZE);
    put_u32(r + 4, handle);
    return 0;
}

static int h_resolve_by_id(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    caller *c = user;
    pylon_host *h = c->host;
    uint32_t ptr = (uint32_t)args[0].i32, len = (uint32_t)args[1].i32, retptr = (uint32_t)args[2].i32;
    if (!retarea(pc, retptr))
        return pylon_caller_trap(pc, "resolve-by-id: return area 0x%x is outside memory or not "
                                 "4-aligned", retptr);
    const uint8_t *s = pylon_memory_ptr(pylon_caller_memory(pc), ptr, len);
    if (!s)
        return pylon_caller_trap(pc, "resolve-by-id: id string at 0x%x (+%u) is outside memory", ptr, len);
    pylon_host_error e;
    char id[MAX_ID_LEN + 1], what[MAX_ID_LEN + 40];
    uint32_t handle = 0;
    int rc;
    const pylon_plan_cap *cap = NULL;
    if (len > MAX_ID_LEN || !pl_utf8_valid(s, len) || memchr(s, 0, len)) {
        rc = pl_herr(&e, PYLON_HOST_INVALID_INPUT, "resolve-by-id: the id (%u bytes) is not a "
                     "UTF-8 string of at most %d bytes without NUL", len, MAX_ID_LEN);
        return finish_resolve(c, pc, retptr, rc, 0, NULL, NULL, &e);
    }
    memcpy(id, s, len);
    id[len] = 0;
    snprintf(what, sizeof what, "resolve-by-id(\"%s\")", id);
    cap = pylon_plan_find(h->plan, id);
    if (!cap)
        rc = pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED,
                     "%s: no cap \"%s\" in plan %s; add it with 'pylon plan add %s %s --digest "
                     "sha256:...'", what, id, h->plan->source, h->plan->source, id);
    else if (!pylon_plan_may_resolve(h->plan, c->self ? c->self->cap : NULL, id))
        rc = pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED,
                     "%s: plan %s does not let %s resolve \"%s\"; add it to %s%s%s",
                     what, h->plan->source, caller_label(c), id,
                     c->self ? "caps." : "guest.resolve", c->self ? c->self->cap->id : "",
                     c->self ? ".resolve" : "");
    else
        rc = do_resolve(c, cap, what, &handle, &e);
    return finish_resolve(c, pc, retptr, rc, handle, id, cap ? &cap->digest : NULL, &e);
}

static int h_resolve_by_digest(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    caller *c = user;
    pylon_host *h = c->host;
    uint32_t ptr = (uint32_t)args[0].i32, len = (uint32_t)args[1].i32, retptr = (uint32_t)args[2].i32;
    if (!retarea(pc, retptr))
        return pylon_caller_trap(pc, "resolve-by-digest: return area 0x%x is outside memory or "
                                 "not 4-aligned", retptr);
    const uint8_t *s = pylon_memory_ptr(pylon_caller_memory(pc), ptr, len);
    if (!s)
        return pylon_caller_trap(pc, "resolve-by-digest: digest at 0x%x (+%u) is outside memory",
                                 ptr, len);
    pylon_host_error e;
    uint32_t handle = 0;
    if (len != 32) {
        int rc = pl_herr(&e, PYLON_HOST_EMIT_INVALID_DIGEST, "resolve-by-digest: a digest is 32 "
                         "bytes of SHA-256, not %u bytes", len);
        return finish_resolve(c, pc, retptr, rc, 0, NULL, NULL, &e);
    }
    pylon_digest d;
    memcpy(d.b, s, 32);
    char dg[PYLON_DIGEST_STRLEN + 1], what[120];
    snprintf(what, sizeof what, "resolve-by-digest(%s)", pylon_digest_format(&d, dg));
    const pylon_plan_cap *found = NULL, *allowed = NULL;
    for (size_t i = 0; i < h->plan->ncaps && !allowed; i++) {
        const pylon_plan_cap *cap = &h->plan->caps[i];
        if (memcmp(cap->digest.b, d.b, 32)) continue;
        if (!found) found = cap;
        if (pylon_plan_may_resolve(h->plan, c->self ? c->self->cap : NULL, cap->id)) allowed = cap;
    }
    int rc;
    if (!found)
        rc = pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED, "%s: no cap in plan %s has this "
                     "digest; add one with 'pylon plan add %s ID --digest %s'", what,
                     h->plan->source, h->plan->source, dg);
    else if (!allowed)
        rc = pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED, "%s: this is cap \"%s\", which plan "
                     "%s does not let %s resolve; add it to %s%s%s", what, found->id,
                     h->plan->source, caller_label(c), c->self ? "caps." : "guest.resolve",
                     c->self ? c->self->cap->id : "", c->self ? ".resolve" : "");
    else
        rc = do_resolve(c, allowed, what, &handle, &e);
    const pylon_plan_cap *cap = allowed ? allowed : found;
    return finish_resolve(c, pc, retptr, rc, handle, cap ? cap->id : NULL, &d, &e);
}

/* ---- invoke --------------------------------------------------------------------------------------------- */

static int invoke_failed(caller *c, pylon_caller *pc, uint32_t retptr, provider *p,
                         const char *method, size_t mlen, bool denied, pylon_host_error *e) {
    pylon_host *h = c->host;
    h->stats.invoke_errors++;
    char m[256];
    size_t n = mlen < sizeof m - 1 ? mlen : sizeof m - 1;
    memcpy(m, method, n);
    m[n] = 0;
    if (!pl_utf8_valid((const uint8_t *)m, n)) strcpy(m, "(not UTF-8)");
    pylon_audit_entry ae = { .event = "invoke", .caller = caller_label(c),
                             .cap = p ? p->cap->id : NULL, .digest = p ? &p->cap->digest : NULL,
                             .method = m, .outcome = denied ? "denied" : "error", .code = e->code,
                             .message = e->message };
    audit(h, &ae);
    say(h, e->message);
    return reply_host_error(c, pc, retptr, e);
}

/* Reads and checks the provider's return area.  On success the fields
 * are in *out; any inconsistency is reported as the canonical ABI would:
 * a trap (exec-trap) naming what was wrong. */
typedef struct presult {
    bool is_err;
    uint32_t ptr, len;            /* ok: the list; err: the message */
    uint8_t code;
    bool has_ctx;
    uint32_t ctx_ptr, ctx_len;
} presult;

static int read_result(provider *p, uint32_t ra, presult *out, const char *mptr, uint32_t mlen,
                       pylon_host_error *e) {
    const char *id = p->cap->id;
    char mbuf[132];
    /* The method's name, formatted only if a message needs it. */
#define METHOD mname_of(mptr, mlen, mbuf)
    uint64_t msize = pylon_memory_size(p->mem);
    if (ra & 3)
        return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed result for "
                       "\"%s\": return area 0x%x is not 4-aligned", id, METHOD, ra);
    const uint8_t *r = pylon_memory_ptr(p->mem, ra, RETAREA_SIZE);
    if (!r)
        return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed result for "
                       "\"%s\": return area 0x%x (+28) is outside its memory (%" PRIu64 " bytes)",
                       id, METHOD, ra, msize);
    memset(out, 0, sizeof *out);
    if (r[0] > 1)
        return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed result for "
                       "\"%s\": result tag %u (only 0 = ok, 1 = error exist)", id, METHOD, r[0]);
    out->is_err = r[0] == 1;
    if (!out->is_err) {
        get_u32(r + 4, &out->ptr);
        get_u32(r + 8, &out->len);
    } else {
        out->code = r[4];
        get_u32(r + 8, &out->ptr);
        get_u32(r + 12, &out->len);
        if (out->code >= PYLON_HOST_NUM_CODES)
            return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed error "
                           "for \"%s\": error code %u is not in the enum (0..%d)", id, METHOD,
                           out->code, PYLON_HOST_NUM_CODES - 1);
        if (r[16] > 1)
            return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed error "
                           "for \"%s\": option tag %u for the context", id, METHOD, r[16]);
        out->has_ctx = r[16] == 1;
        if (out->has_ctx) {
            get_u32(r + 20, &out->ctx_ptr);
            get_u32(r + 24, &out->ctx_len);
        }
    }
    const char *what = out->is_err ? "error message" : "result";
    if (!pylon_memory_ptr(p->mem, out->ptr, out->len))
        return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed result for "
                       "\"%s\": %s at 0x%x (+%u) runs past its memory (%" PRIu64 " bytes)", id,
                       METHOD, what, out->ptr, out->len, msize);
    if (out->has_ctx && !pylon_memory_ptr(p->mem, out->ctx_ptr, out->ctx_len))
        return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed error for "
                       "\"%s\": context at 0x%x (+%u) runs past its memory", id, METHOD,
                       out->ctx_ptr, out->ctx_len);
    uint64_t total = (uint64_t)out->len + (out->has_ctx ? out->ctx_len : 0);
    if (total > p->cap->limits.max_result)
        return pl_herr(e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED, "provider \"%s\" returned %" PRIu64
                       " bytes for \"%s\", more than its limit of %" PRIu64 " (raise caps.%s."
                       "limits.max_result if that is legitimate)", id, total, METHOD,
                       p->cap->limits.max_result, id);
    if (out->is_err) {
        if (!pl_utf8_valid(pylon_memory_ptr(p->mem, out->ptr, out->len), out->len) ||
            (out->has_ctx && !pl_utf8_valid(pylon_memory_ptr(p->mem, out->ctx_ptr, out->ctx_len),
                                             out->ctx_len)))
            return pl_herr(e, PYLON_HOST_EXEC_TRAP, "provider \"%s\" returned a malformed error "
                           "for \"%s\": its message is not valid UTF-8", id, METHOD);
    }
    return 0;
#undef METHOD
}

static int h_invoke(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    caller *c = user;
    pylon_host *h = c->host;
    uint32_t hd = (uint32_t)args[0].i32;
    uint32_t m_ptr = (uint32_t)args[1].i32, m_len = (uint32_t)args[2].i32;
    uint32_t p_ptr = (uint32_t)args[3].i32, p_len = (uint32_t)args[4].i32;
    uint32_t retptr = (uint32_t)args[5].i32;
    pylon_memory *cm = cmem(c, pc);
    if (retptr & 3 || !pylon_memory_ptr(cm, retptr, RETAREA_SIZE))
        return pylon_caller_trap(pc, "invoke: return area 0x%x is outside memory or not 4-aligned", retptr);
    const char *method = pylon_memory_ptr(cm, m_ptr, m_len);
    if (!method)
        return pylon_caller_trap(pc, "invoke: method string at 0x%x (+%u) is outside memory", m_ptr, m_len);
    if (!pylon_memory_ptr(cm, p_ptr, p_len))
        return pylon_caller_trap(pc, "invoke: payload at 0x%x (+%u) is outside memory", p_ptr, p_len);
    h->stats.invokes++;
    pylon_host_error e;
    char mname[132];

    provider *p = handle_get(c, hd);
    if (!p) {
        pl_herr(&e, PYLON_HOST_INVALID_INPUT, "invoke(\"%s\"): handle %u is not a live instance "
                "handle of %s; resolve the cap first (was it dropped?)", mname_of(method, m_len, mname), hd,
                caller_label(c));
        return invoke_failed(c, pc, retptr, NULL, method, m_len, false, &e);
    }
    if (!pl_utf8_valid((const uint8_t *)method, m_len)) {
        pl_herr(&e, PYLON_HOST_INVALID_INPUT, "invoke on \"%s\": the method name is not UTF-8",
                p->cap->id);
        return invoke_failed(c, pc, retptr, p, method, m_len, false, &e);
    }
    if (!pylon_plan_method_allowed(p->cap, method, m_len)) {
        pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED, "invoke(\"%s\") on \"%s\": method not "
                "allowed by plan %s; add it to caps.%s.methods", mname_of(method, m_len, mname), p->cap->id,
                h->plan->source, p->cap->id);
        return invoke_failed(c, pc, retptr, p, method, m_len, true, &e);
    }
    if (p->busy) {
        pl_herr(&e, PYLON_HOST_EXEC_CAPABILITY_DENIED, "invoke(\"%s\") on \"%s\": reentrant call "
                "refused: the provider is already running a call further up this call chain "
                "(%s called back into it)", mname_of(method, m_len, mname), p->cap->id, caller_label(c));
        return invoke_failed(c, pc, retptr, p, method, m_len, true, &e);
    }
    if (ensure_instance(p, &e)) return invoke_failed(c, pc, retptr, p, method, m_len, false, &e);
    if (p->tier_pending) tier_up_live(p);

    const pylon_plan_limits *lim = &p->cap->limits;
    p->busy = true;
    pylon_instance_set_fuel(p->inst, lim->fuel);
    int tok = lim->timeout_ms ? pl_watchdog_arm(h->wd, p->inst, lim->timeout_ms) : -1;
    pylon_trap trap;
    pylon_val a[4], r;
    bool fired;
    const char *during = "cabi_realloc";

    /* Copy in: method and payload in one block of the provider's. */
    uint32_t total = m_len + p_len, blk = 1;
    if (total < m_len) {      /* cannot happen for in-bounds spans, but be exact */
        fired = pl_watchdog_disarm(h->wd, tok);
        p->busy = false;
        pl_herr(&e, PYLON_HOST_INVALID_INPUT, "invoke: method and payload are too large together");
        return invoke_failed(c, pc, retptr, p, method, m_len, false, &e);
    }
    if (total) {
        a[0].i32 = 0; a[1].i32 = 0; a[2].i32 = 1; a[3].i32 = (int32_t)total;
        if (pylon_call(p->realloc_fn, a, 4, &r, 1, &trap)) goto trapped;
        blk = (uint32_t)r.i32;
        uint8_t *dst = pylon_memory_ptr(p->mem, blk, total);
        if (!dst) {
            fired = pl_watchdog_disarm(h->wd, tok);
            pl_herr(&e, PYLON_HOST_EXEC_TRAP, "provider \"%s\": its cabi_realloc returned 0x%x "
                    "for %u bytes, outside its memory", p->cap->id, blk, total);
            goto failed;
        }
        memcpy(dst, pylon_memory_ptr(cm, m_ptr, m_len), m_len);
        memcpy(dst + m_len, pylon_memory_ptr(cm, p_ptr, p_len), p_len);
    }
    during = "handle";
    a[0].i32 = (int32_t)blk; a[1].i32 = (int32_t)m_len;
    a[2].i32 = (int32_t)(blk + m_len); a[3].i32 = (int32_t)p_len;
    if (pylon_call(p->handle_fn, a, 4, &r, 1, &trap)) goto trapped;
    uint32_t ra = (uint32_t)r.i32;
    presult pr;
    if (read_result(p, ra, &pr, method, m_len, &e)) {
        fired = pl_watchdog_disarm(h->wd, tok);
        goto failed;
    }

    /* Copy out into the caller, then let the provider free its side. */
    char why[300];
    uint32_t gp = 1, gctx = 1;
    int arc = caller_alloc(c, pc, 1, pr.len, &gp, why, sizeof why);
    if (arc == 0 && pr.len)
        memcpy(pylon_memory_ptr(cmem(c, pc), gp, pr.len),
               pylon_memory_ptr(p->mem, pr.ptr, pr.len), pr.len);
    if (arc == 0 && pr.has_ctx) {
        arc = caller_alloc(c, pc, 1, pr.ctx_len, &gctx, why, sizeof why);
        if (arc == 0 && pr.ctx_len)
            memcpy(pylon_memory_ptr(cmem(c, pc), gctx, pr.ctx_len),
                   pylon_memory_ptr(p->mem, pr.ctx_ptr, pr.ctx_len), pr.ctx_len);
    }
    /* The caller's cabi_realloc may have grown (moved) its memory. */
    method = pylon_memory_ptr(cmem(c, pc), m_ptr, m_len);
    if (pr.is_err) {
        /* A provider's own error is a failed invoke too: audit it (the
         * message as far as it is short, it is the provider's text). */
        char msg[400];
        size_t n = pr.len < sizeof msg - 1 ? pr.len : sizeof msg - 1;
        memcpy(msg, pylon_memory_ptr(p->mem, pr.ptr, pr.len), n);
        msg[n] = 0;
        h->stats.invoke_errors++;
        pylon_audit_entry ae = { .event = "invoke", .caller = caller_label(c), .cap = p->cap->id,
                                 .digest = &p->cap->digest, .method = mname_of(method, m_len, mname),
                                 .outcome = "error", .code = pr.code, .message = msg };
        audit(h, &ae);
    }
    bool post_trapped = false;
    if (p->post_fn) {
        during = "cabi_post_...#handle";
        a[0].i32 = (int32_t)ra;
        post_trapped = pylon_call(p->post_fn, a, 1, NULL, 0, &trap) != 0;
    }
    fired = pl_watchdog_disarm(h->wd, tok);
    p->busy = false;
    if (post_trapped || fired) {
        /* The result is whole and already copied: deliver it, but do not
         * reuse an instance whose cleanup failed or that has a pending
         * interrupt. */
        pylon_host_error pe;
        classify(p, &trap, fired, during, &pe);
        if (!post_trapped)
            snprintf(pe.message, sizeof pe.message, "provider \"%s\" finished \"%s\" just as its "
                     "time limit passed", p->cap->id, mname_of(method, m_len, mname));
        pylon_audit_entry ae = { .event = "discard", .cap = p->cap->id, .digest = &p->cap->digest,
                                 .method = mname_of(method, m_len, mname), .outcome = "error", .code = pe.code,
                                 .message = pe.message };
        audit(h, &ae);
        discard(p);
    }
    if (arc) {
        if (!c->realloc_fn) return pylon_caller_trap(pc, "compose:dynlink: %s", why);
        pl_herr(&e, PYLON_HOST_EXEC_RESOURCE_EXHAUSTED, "invoke(\"%s\") on \"%s\": could not "
                "place the %u-byte result in the caller: %s", mname_of(method, m_len, mname), p->cap->id,
                pr.len, why);
        return invoke_failed(c, pc, retptr, p, method, m_len, false, &e);
    }
    uint8_t *out = pylon_memory_ptr(cmem(c, pc), retptr, RETAREA_SIZE);
    memset(out, 0, RETAREA_SIZE);
    if (!pr.is_err) {
        put_u32(out + 4, gp);
        put_u32(out + 8, pr.len);
    } else {
        out[0] = 1;
        out[4] = pr.code;
        put_u32(out + 8, gp);
        put_u32(out + 12, pr.len);
        out[16] = pr.has_ctx;
        if (pr.has_ctx) {
            put_u32(out + 20, gctx);
            put_u32(out + 24, pr.ctx_len);
        }
    }
    return 0;

trapped:
    fired = pl_watchdog_disarm(h->wd, tok);
    classify(p, &trap, fired, during, &e);
failed:
    p->busy = false;
    discard(p);
    size_t ml = strlen(e.message);
    snprintf(e.message + ml, sizeof e.message - ml, "; the instance was discarded and will be "
             "made again on the next call");
    return invoke_failed(c, pc, retptr, p, method, m_len, false, &e);
}

static int h_drop(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    caller *c = user;
    uint32_t hd = (uint32_t)args[0].i32;
    if (!handle_get(c, hd))
        return pylon_caller_trap(pc, "[resource-drop]instance: handle %u is not a live instance "
                                 "handle of %s (dropped twice?)", hd, caller_label(c));
    c->slots[hd - 1] = 0;
    return 0;
}

/* ---- setup -------------------------------------------------------------------------------------------- */

static int add_linker(pylon_imports *imp, caller *c) {
    return pylon_imports_add_func(imp, LINKER, "resolve-by-id", "iii:", h_resolve_by_id, c) ||
           pylon_imports_add_func(imp, LINKER, "resolve-by-digest", "iii:", h_resolve_by_digest, c) ||
           pylon_imports_add_func(imp, LINKER, "[method]instance.invoke", "iiiiii:", h_invoke, c) ||
           pylon_imports_add_func(imp, LINKER, "[resource-drop]instance", "i:", h_drop, c)
        ? -1 : 0;
}

void pylon_host_free(pylon_host *h) {
    if (!h) return;
    for (size_t i = 0; i < h->nproviders; i++) {
        provider *p = &h->providers[i];
        if (p->inst) pylon_instance_free(p->inst);
        if (p->module) pylon_module_free(p->module);
        free(p->aot_path);
        if (p->imports) pylon_imports_free(p->imports);
        free(p->self.slots);
    }
    free(h->providers);
    for (caller *c = h->guests, *next; c; c = next) {
        next = c->next;
        free(c->slots);
        free(c);
    }
    pl_watchdog_free(h->wd);
    pylon_audit_close(h->audit);
    pylon_trust_free(h->trust);
    pylon_blob_close(h->blobs);
    pylon_plan_free(h->owned_plan);
    free(h);
}

void pylon_host_set_tier(pylon_host *h, pylon_tier tier) { h->tier = tier; }

pylon_host *pylon_host_new(const pylon_plan *plan, const pylon_host_paths *paths,
                           pylon_host_error *err) {
    pylon_host_error local;
    if (!err) err = &local;
    if (pylon_plan_validate(plan, err)) return NULL;
    pylon_host *h = calloc(1, sizeof *h);
    if (!h) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    h->plan = plan;
    char path[4096];
    if (!pylon_host_path(paths, "store", path, sizeof path)) {
        pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "no Pylon home: set PYLON_HOME (or HOME), or pass "
                "--home DIR");
        goto fail;
    }
    if (!(h->blobs = pylon_blob_open(path, err))) goto fail;
    const char *up = plan->upstream ? plan->upstream : paths ? paths->upstream : NULL;
    if (up && pylon_blob_set_upstream(h->blobs, up, err)) goto fail;
    pylon_host_path(paths, "trust", path, sizeof path);
    if (!(h->trust = pylon_trust_open(path, err))) goto fail;
    pylon_host_path(paths, "audit", path, sizeof path);
    if (!(h->audit = pylon_audit_open(path, err))) goto fail;
    if (!(h->wd = pl_watchdog_new())) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); goto fail; }
    h->nproviders = plan->ncaps;
    h->providers = calloc(plan->ncaps ? plan->ncaps : 1, sizeof *h->providers);
    if (!h->providers) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); goto fail; }
    for (size_t i = 0; i < plan->ncaps; i++) {
        provider *p = &h->providers[i];
        p->host = h;
        p->cap = &plan->caps[i];
        p->index = (uint32_t)i;
        p->self.host = h;
        p->self.self = p;
        snprintf(p->self.name, sizeof p->self.name, "provider:%s", p->cap->id);
        p->imports = pylon_imports_new();
        if (!p->imports || add_linker(p->imports, &p->self)) {
            pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
            goto fail;
        }
    }
    return h;
fail:
    pylon_host_free(h);
    return NULL;
}

int pylon_host_add_imports(pylon_host *h, pylon_imports *imp, const char *name) {
    caller *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->host = h;
    snprintf(c->name, sizeof c->name, "%s", name ? name : "guest");
    if (add_linker(imp, c)) { free(c); return -1; }
    c->next = h->guests;
    h->guests = c;
    return 0;
}

pylon_host *pylon_host_use_plan(pylon_imports *imp, const char *plan_path,
                                const pylon_host_paths *paths, pylon_host_error *err) {
    pylon_plan *plan = pylon_plan_load(plan_path, err);
    if (!plan) return NULL;
    pylon_host *h = pylon_host_new(plan, paths, err);
    if (!h) { pylon_plan_free(plan); return NULL; }
    h->owned_plan = plan;
    if (pylon_host_add_imports(h, imp, "guest")) {
        pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory registering the dynlink imports");
        pylon_host_free(h);
        return NULL;
    }
    return h;
}

/* ---- the stub linker (no plan) ------------------------------------------------------------ */

static int stub_reply(pylon_caller *pc, uint32_t retptr, const char *call, const char *hint) {
    if (!retarea(pc, retptr))
        return pylon_caller_trap(pc, "%s: return area 0x%x is outside memory or not 4-aligned", call, retptr);
    caller c = { 0 };
    snprintf(c.name, sizeof c.name, "guest");
    char msg[512];
    snprintf(msg, sizeof msg, "%s: this host was started without a plan, so no capability can be "
             "resolved; %s", call, hint ? hint : "give it a plan (--plan PLAN)");
    return reply_error(&c, pc, retptr, PYLON_HOST_EXEC_CAPABILITY_DENIED, msg, strlen(msg), NULL, 0, false);
}

static int s_resolve(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    return stub_reply(pc, (uint32_t)args[2].i32, "resolve", user);
}

static int s_invoke(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    return stub_reply(pc, (uint32_t)args[5].i32, "invoke", user);
}

static int s_drop(pylon_caller *pc, void *user, const pylon_val *args, pylon_val *res) {
    return pylon_caller_trap(pc, "[resource-drop]instance: handle %d was never given out (no plan)",
                             args[0].i32);
}

int pylon_host_add_stub_imports(pylon_imports *imp, const char *hint) {
    /* The hint must outlive the imports: keep a copy for the process. */
    char *h = hint ? strdup(hint) : NULL;
    return pylon_imports_add_func(imp, LINKER, "resolve-by-id", "iii:", s_resolve, h) ||
           pylon_imports_add_func(imp, LINKER, "resolve-by-digest", "iii:", s_resolve, h) ||
           pylon_imports_add_func(imp, LINKER, "[method]instance.invoke", "iiiiii:", s_invoke, h) ||
           pylon_imports_add_func(imp, LINKER, "[resource-drop]instance", "i:", s_drop, h)
        ? -1 : 0;
}

void pylon_host_get_stats(const pylon_host *h, pylon_host_stats *out) { *out = h->stats; }

void pylon_host_set_log(pylon_host *h, void *file) { h->log = file; }
