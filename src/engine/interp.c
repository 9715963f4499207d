/*
 * interp.c — the interpreter: runs the threaded code compile.c produced.
 *
 * One function, pl_run, holds every handler as a computed-goto label, so
 * dispatch is "load the next handler address, jump" and the hot state (ip,
 * fp, the memory base and size) stays in registers.  Wasm-to-wasm calls do
 * not recurse in C: they push a pl_frame and continue in the same loop, so
 * deep wasm recursion costs no C stack and is bounded by explicit limits.
 * Host calls do recurse (a host function may call back into wasm); that
 * nesting is bounded too.
 *
 * The handlers for the table rows of opcodes.h are generated here from the
 * rows themselves; the rest are written out below.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/runtime.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Pylon's interpreter assumes a little-endian host"
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define STACK_SLOTS (8u << 20)    /* 64 MiB of value stack, committed lazily */
#define MAX_FRAMES 100000u
#define MAX_NEST 200              /* host -> wasm re-entries per thread */
#define DEFAULT_CALL_DEPTH 50000u

/* ---- spec semantics that C does not give directly ----------------------- */

static inline float pl_fminf(float a, float b) {
    if (a != a || b != b) return a + b;             /* propagate a NaN */
    if (a == 0 && b == 0) return signbit(a) ? a : b; /* min(-0, +0) = -0 */
    return a < b ? a : b;
}
static inline float pl_fmaxf(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double pl_fmin(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double pl_fmax(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Slot access by C type (see opcodes.h's cin/cout columns). */
#define RD_uint32_t(v) ((uint32_t)(v).i32)
#define RD_uint64_t(v) ((uint64_t)(v).i64)
#define RD_float(v) ((v).f32)
#define RD_double(v) ((v).f64)
#define WR_uint32_t(v, x) ((v).i32 = (int32_t)(x))
#define WR_uint64_t(v, x) ((v).i64 = (int64_t)(x))
#define WR_float(v, x) ((v).f32 = (x))
#define WR_double(v, x) ((v).f64 = (x))

/* ---- per-thread execution stack ------------------------------------------ */

static _Thread_local pl_exec *tls_exec;

pl_exec *pl_exec_get(void) {
    if (tls_exec) return tls_exec;
    pl_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return NULL;
    size_t sbytes = (size_t)STACK_SLOTS * sizeof(pylon_val);
    size_t fbytes = (size_t)MAX_FRAMES * sizeof(pl_frame);
    void *s = mmap(NULL, sbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *f = mmap(NULL, fbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED || f == MAP_FAILED) {
        if (s != MAP_FAILED) munmap(s, sbytes);
        if (f != MAP_FAILED) munmap(f, fbytes);
        free(ex);
        return NULL;
    }
    ex->stack = ex->sp = s;
    ex->stack_end = ex->stack + STACK_SLOTS;
    ex->frames = f;
    ex->max_frames = MAX_FRAMES;
    ex->frame_limit = MAX_FRAMES;
    tls_exec = ex;
    return ex;
}

void pl_trap_set(pylon_trap *trap, pylon_trap_kind kind, const char *fmt, ...) {
    if (!trap) return;
    trap->kind = kind;
    trap->nframes = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trap->message, sizeof trap->message, fmt, ap);
    va_end(ap);
}

/* ---- growth, shared with instance.c -------------------------------------- */

int64_t pl_memory_grow(pylon_memory *m, uint32_t delta) {
    uint32_t old = m->pages;
    if (delta == 0) return old;
    if ((uint64_t)old + delta > m->max_pages) return -1;
    uint64_t nsize = ((uint64_t)old + delta) * PYLON_PAGE_SIZE;
    if (nsize > m->reserved) return -1;
    if (mprotect(m->data + m->size, nsize - m->size, PROT_READ | PROT_WRITE) != 0) return -1;
    m->size = nsize;
    m->size32 = nsize > UINT32_MAX ? UINT32_MAX : (uint32_t)nsize;
    m->pages = old + delta;
    return old;
}

int64_t pl_table_grow(pylon_table *t, uint32_t delta, pylon_val init) {
    uint32_t old = t->size;
    if ((uint64_t)old + delta > t->max) return -1;
    if (delta == 0) return old;
    pylon_val *ne = realloc(t->elems, ((size_t)old + delta) * sizeof(pylon_val));
    if (!ne) return -1;
    for (uint32_t i = 0; i < delta; i++) ne[old + i] = init;
    t->elems = ne;
    t->size = old + delta;
    return old;
}

/* ---- host calls ------------------------------------------------------------ */

int pl_call_host(pl_exec *ex, pylon_func *f, pylon_instance *caller,
                 pylon_val *slots, pylon_trap *trap) {
    if (f->aot_call) return pl_aot_call(f, slots, trap);
    pylon_val small[16], *results = small;
    if (f->nresults > 16) {
        results = calloc(f->nresults, sizeof(pylon_val));
        if (!results) { pl_trap_set(trap, PYLON_TRAP_HOST, "out of host memory calling %s", f->name); return -1; }
    }
    memset(results, 0, f->nresults * sizeof(pylon_val));
    pylon_caller c = {caller, trap};
    pylon_val *saved_sp = ex->sp;
    uint32_t n = f->nparams > f->nresults ? f->nparams : f->nresults;
    if (slots + n > ex->sp) ex->sp = slots + n;
    trap->kind = PYLON_TRAP_NONE;
    int rc = f->fn(&c, f->user, slots, results);
    ex->sp = saved_sp;
    if (rc != 0) {
        if (trap->kind == PYLON_TRAP_NONE)
            pl_trap_set(trap, PYLON_TRAP_HOST, "host function %s failed", f->name ? f->name : "?");
    } else {
        memcpy(slots, results, f->nresults * sizeof(pylon_val));
    }
    if (results != small) free(results);
    return rc ? -1 : 0;
}

/* ---- the interpreter --------------------------------------------------------- */

static const void *const *handler_table;

#ifdef PYLON_PROFILE
/* Built with -DPYLON_PROFILE: counts executed instructions per handler and
 * prints the top ones at exit.  For tuning only. */
#define PL_NAME_ONE(cd, name, ...) #name,
#define PL_NAME_CMP(cd, name, ...) #name, "brif_" #name, "brunless_" #name, "brif_loop_" #name,
#define PL_NAME_MEM(cd, name, ...) #name, #name "_add",
#define PL_NAME_INTERNAL(name) #name,
static const char *const op_names[PL_NUM_OPS] = {
    PL_OPCODES(PL_NAME_ONE, PL_NAME_ONE, PL_NAME_CMP, PL_NAME_MEM, PL_NAME_MEM)
    PL_INTERNAL_OPS(PL_NAME_INTERNAL)
};
static uint64_t op_counts[PL_NUM_OPS];
static void pl_profile_dump(void) {
    uint64_t total = 0;
    for (int i = 0; i < PL_NUM_OPS; i++) total += op_counts[i];
    fprintf(stderr, "pylon profile: %llu instructions\n", (unsigned long long)total);
    for (int n = 0; n < 25; n++) {
        int best = -1;
        for (int i = 0; i < PL_NUM_OPS; i++)
            if (op_counts[i] && (best < 0 || op_counts[i] > op_counts[best])) best = i;
        if (best < 0) break;
        fprintf(stderr, "  %-24s %6.2f%%\n", op_names[best], 100.0 * op_counts[best] / total);
        op_counts[best] = 0;
    }
}
static void pl_profile_count(const uint32_t *ip) {
    static int registered;
    if (!registered) { registered = 1; atexit(pl_profile_dump); }
    const void *h = *(const void *const *)ip;
    for (int i = 0; i < PL_NUM_OPS; i++)
        if (handler_table[i] == h) { op_counts[i]++; return; }
}
#endif

const void *const *pl_interp_handlers(void) {
    if (!handler_table) pl_interp_call(NULL, NULL, NULL, NULL);
    return handler_table;
}

/* Reached when fuel ran out or an interrupt is pending: decides whether
 * the guest traps (returns the trap kind) or goes on (PYLON_TRAP_NONE).
 * The caller has published its frame top in ex->sp, so an interrupt
 * handler may call back into wasm. */
static __attribute__((noinline)) pylon_trap_kind pl_safepoint(pylon_instance *inst) {
    if (atomic_exchange(&inst->interrupt, 0)) {
        if (inst->fuel < 0 && !inst->fuel_limited) inst->fuel = INT64_MAX;
        bool stop = atomic_exchange(&inst->stop, 0);
        if (stop || !inst->on_interrupt || inst->on_interrupt(inst, inst->on_interrupt_user) != 0) {
            if (inst->fuel < 0) inst->fuel = 0;
            return PYLON_TRAP_INTERRUPTED;
        }
        if (inst->fuel >= 0) return PYLON_TRAP_NONE;
    }
    if (inst->fuel < 0) {
        inst->fuel = 0;
        return PYLON_TRAP_FUEL_EXHAUSTED;
    }
    return PYLON_TRAP_NONE;
}

/* Sets up a callee's frame: stack room, locals zeroed, constants in. */
#define ENTER_FRAME(callee, nfp) do { \
        if (UNLIKELY(ex->nframes >= ex->frame_limit || \
                     (nfp) + (callee)->frame_size > ex->stack_end)) \
            TRAP(STACK_EXHAUSTED, "call stack exhausted"); \
        if ((callee)->nlocals > (callee)->nparams) \
            memset((nfp) + (callee)->nparams, 0, \
                   ((callee)->nlocals - (callee)->nparams) * sizeof(pylon_val)); \
        if ((callee)->nconsts) \
            memcpy((nfp) + (callee)->const_base, (callee)->consts, \
                   (callee)->nconsts * sizeof(pylon_val)); \
    } while (0)

int pl_interp_call(pl_exec *ex, pylon_func *entry, pylon_val *fp, pylon_trap *trap) {
#define L_ONE(cd, name, ...) &&L_##name,
#define L_CMP(cd, name, ...) &&L_##name, &&L_brif_##name, &&L_brunless_##name, &&L_brif_loop_##name,
#define L_MEM(cd, name, ...) &&L_##name, &&L_##name##_add,
#define L_INTERNAL(name) &&L_##name,
    static const void *const labels[PL_NUM_OPS] = {
        PL_OPCODES(L_ONE, L_ONE, L_CMP, L_MEM, L_MEM)
        PL_INTERNAL_OPS(L_INTERNAL)
    };
    if (!ex) { handler_table = labels; return 0; }

    pylon_trap_kind tk = PYLON_TRAP_NONE;
    const char *tmsg = NULL;
    pylon_func *callee;      /* call_func's operands */
    pylon_val *nfp;
    uint64_t taddr = 0, tlen = 0;
    bool trap_filled = false;

    pylon_instance *inst = entry->inst;
    const pl_code *code = entry->code;
    const uint32_t *ip = code->cells;
    const uint32_t entry_frames = ex->nframes;

    /* cached per instance; refreshed by SWITCH_INSTANCE and after calls */
    pl_code *const *codes;
    pylon_func **funcs;
    pylon_global **globals;
    pylon_memory *memory;
    uint8_t *mem;
    uint64_t memsize;
    int64_t *fuel;
    atomic_int *interrupt;

#define RELOAD_MEMORY() do { \
        if (memory) { mem = memory->data; memsize = memory->size; } \
        else { mem = NULL; memsize = 0; } \
    } while (0)
#define SWITCH_INSTANCE(i) do { \
        inst = (i); codes = inst->module->code; funcs = inst->funcs; \
        globals = inst->globals; memory = inst->module->nmems ? inst->mems[0] : NULL; \
        fuel = &inst->fuel; interrupt = &inst->interrupt; RELOAD_MEMORY(); \
    } while (0)
#define TRAP(kind, msg) do { tk = PYLON_TRAP_##kind; tmsg = (msg); goto trap_out; } while (0)
#define TRAP_OOB(ea, n) do { taddr = (ea); tlen = (n); TRAP(MEMORY_OOB, "out of bounds memory access"); } while (0)
#define CHARGE(cost) do { \
        if (UNLIKELY((*fuel -= (cost)) < 0 || atomic_load_explicit(interrupt, memory_order_relaxed))) { \
            ex->sp = fp + code->frame_size; \
            tk = pl_safepoint(inst); \
            if (tk != PYLON_TRAP_NONE) goto safepoint_trap; \
            RELOAD_MEMORY(); \
        } \
    } while (0)
#ifdef PYLON_PROFILE
#define NEXT() do { pl_profile_count(ip); goto *(*(const void *const *)ip); } while (0)
#else
#define NEXT() goto *(*(const void *const *)ip)
#endif
#define OP(k) ip[2 + (k)]
#define SL(k) fp[ip[2 + (k)]]
#define ADV(nops) (ip += 2 + (((nops) + 1) & ~1u))
#define JUMP(k) (ip = &ip[2 + (k)] + (int32_t)ip[2 + (k)])

    SWITCH_INSTANCE(inst);
    ENTER_FRAME(code, fp);
    CHARGE(1);
    NEXT();

    /* ---- generated from opcodes.h ---- */
#define H_UNOP(cd, name, in, out, cin, cout, stmt) \
    L_##name: { \
        cin a = RD_##cin(SL(1)); cout r; stmt; WR_##cout(SL(0), r); \
        ADV(2); NEXT(); }
#define H_BINOP(cd, name, in, out, cin, cout, stmt) \
    L_##name: { \
        cin a = RD_##cin(SL(1)); cin b = RD_##cin(SL(2)); cout r; stmt; WR_##cout(SL(0), r); \
        ADV(3); NEXT(); }
#define H_CMPOP(cd, name, in, cin, expr) \
    L_##name: { \
        cin a = RD_##cin(SL(1)); cin b = RD_##cin(SL(2)); SL(0).i32 = (expr); \
        ADV(3); NEXT(); } \
    L_brif_##name: { \
        cin a = RD_##cin(SL(0)); cin b = RD_##cin(SL(1)); \
        if (expr) JUMP(2); else ADV(3); \
        NEXT(); } \
    L_brunless_##name: { \
        cin a = RD_##cin(SL(0)); cin b = RD_##cin(SL(1)); \
        if (!(expr)) JUMP(2); else ADV(3); \
        NEXT(); } \
    L_brif_loop_##name: { \
        cin a = RD_##cin(SL(0)); cin b = RD_##cin(SL(1)); \
        if (expr) { CHARGE(OP(3)); JUMP(2); } else ADV(4); \
        NEXT(); }
/* The address is a u32 (an i32.add's sum wraps at 32 bits) plus the u32
 * offset, computed in 64 bits so the bounds check cannot wrap. */
#define H_LOAD(cd, name, out, mtype, cout, align) \
    L_##name: { \
        uint64_t ea = (uint64_t)(uint32_t)SL(1).i32 + OP(2); \
        if (UNLIKELY(ea + sizeof(mtype) > memsize)) TRAP_OOB(ea, sizeof(mtype)); \
        mtype v; memcpy(&v, mem + ea, sizeof v); WR_##cout(SL(0), (cout)v); \
        ADV(3); NEXT(); } \
    L_##name##_add: { \
        uint64_t ea = (uint64_t)((uint32_t)SL(1).i32 + (uint32_t)SL(2).i32) + OP(3); \
        if (UNLIKELY(ea + sizeof(mtype) > memsize)) TRAP_OOB(ea, sizeof(mtype)); \
        mtype v; memcpy(&v, mem + ea, sizeof v); WR_##cout(SL(0), (cout)v); \
        ADV(4); NEXT(); }
#define H_STORE(cd, name, in, cin, mtype, align) \
    L_##name: { \
        uint64_t ea = (uint64_t)(uint32_t)SL(0).i32 + OP(2); \
        if (UNLIKELY(ea + sizeof(mtype) > memsize)) TRAP_OOB(ea, sizeof(mtype)); \
        mtype v = (mtype)RD_##cin(SL(1)); memcpy(mem + ea, &v, sizeof v); \
        ADV(3); NEXT(); } \
    L_##name##_add: { \
        uint64_t ea = (uint64_t)((uint32_t)SL(0).i32 + (uint32_t)SL(1).i32) + OP(3); \
        if (UNLIKELY(ea + sizeof(mtype) > memsize)) TRAP_OOB(ea, sizeof(mtype)); \
        mtype v = (mtype)RD_##cin(SL(2)); memcpy(mem + ea, &v, sizeof v); \
        ADV(4); NEXT(); }
    PL_OPCODES(H_UNOP, H_BINOP, H_CMPOP, H_LOAD, H_STORE)

    /* ---- control ---- */
L_unreachable:
    TRAP(UNREACHABLE, "unreachable executed");
L_copy:
    SL(0) = SL(1);
    ADV(2); NEXT();
L_const32:
    SL(0).bits = OP(1);
    ADV(2); NEXT();
L_const64:
    SL(0).bits = (uint64_t)OP(1) | ((uint64_t)OP(2) << 32);
    ADV(3); NEXT();
L_br:
    JUMP(0); NEXT();
L_br_loop:
    CHARGE(OP(1));
    JUMP(0); NEXT();
L_br_if:
    if (SL(0).i32) JUMP(1); else ADV(2);
    NEXT();
L_br_unless:
    if (!SL(0).i32) JUMP(1); else ADV(2);
    NEXT();
L_br_if_loop:
    if (SL(0).i32) { CHARGE(OP(2)); JUMP(1); } else ADV(3);
    NEXT();
L_br_unless_loop:
    if (!SL(0).i32) { CHARGE(OP(2)); JUMP(1); } else ADV(3);
    NEXT();
L_br_table: {
    /* cells: idx, n, arity, src, then n+1 pairs (dst slot, jump) */
    uint32_t i = (uint32_t)SL(0).i32, n = OP(1), arity = OP(2), src = OP(3);
    if (i > n) i = n;
    const uint32_t *e = &ip[6 + 2 * i];
    uint32_t d = e[0];
    for (uint32_t k = 0; k < arity; k++) fp[d + k] = fp[src + k];
    CHARGE(1); /* a br_table can be a loop's back-edge */
    ip = &e[1] + (int32_t)e[1];
    NEXT();
}
L_ret: {
    if (ex->nframes == entry_frames) return 0;
    pl_frame *f = &ex->frames[--ex->nframes];
    ip = f->ip;
    fp = f->fp;
    code = f->code;
    if (f->inst != inst) SWITCH_INSTANCE(f->inst);
    else RELOAD_MEMORY(); /* the callee may have grown it */
    NEXT();
}
L_br1:
    SL(0) = SL(1);
    JUMP(2); NEXT();
L_ret1:
    fp[0] = SL(0);
    goto L_ret;
L_call_local: {
    const pl_code *callee = codes[OP(0)];
    pylon_val *nfp = fp + OP(1);
    ENTER_FRAME(callee, nfp);
    pl_frame *f = &ex->frames[ex->nframes++];
    f->ip = ip + 4; f->fp = fp; f->code = code; f->inst = inst;
    fp = nfp; code = callee; ip = callee->cells;
    CHARGE(1);
    NEXT();
}
L_call_import:
    callee = funcs[OP(0)];
    nfp = fp + OP(1);
    ip += 4;
    goto call_func;
L_call_indirect: {
    pylon_table *t = inst->tables[OP(0)];
    uint32_t i = (uint32_t)SL(3).i32;
    if (UNLIKELY(i >= t->size)) TRAP(TABLE_OOB, "undefined element: table index out of bounds");
    callee = t->elems[i].ref;
    if (UNLIKELY(!callee)) TRAP(INDIRECT_NULL, "uninitialized element");
    if (UNLIKELY(callee->sig != inst->type_sigs[OP(1)])) TRAP(INDIRECT_TYPE, "indirect call type mismatch");
    nfp = fp + OP(2);
    ip += 6;
    goto call_func;
}
call_func: /* callee and nfp set, ip at the instruction after the call */
    if (callee->native) {
        ex->sp = fp + code->frame_size;
        ex->nest++;
        int rc = ex->nest > MAX_NEST ? (pl_trap_set(trap, PYLON_TRAP_STACK_EXHAUSTED, "call stack exhausted (host re-entry)"), -1)
                                     : pl_call_host(ex, callee, inst, nfp, trap);
        ex->nest--;
        if (rc != 0) { trap_filled = true; goto trap_out; }
        RELOAD_MEMORY();
        NEXT();
    } else {
        const pl_code *cc = callee->code;
        ENTER_FRAME(cc, nfp);
        pl_frame *f = &ex->frames[ex->nframes++];
        f->ip = ip; f->fp = fp; f->code = code; f->inst = inst;
        fp = nfp; code = cc; ip = cc->cells;
        if (callee->inst != inst) SWITCH_INSTANCE(callee->inst);
        CHARGE(1);
        NEXT();
    }

    /* ---- parametric and variables ---- */
L_select:
    SL(0) = SL(3).i32 ? SL(1) : SL(2);
    ADV(4); NEXT();
L_global_get:
    SL(0) = globals[OP(1)]->val;
    ADV(2); NEXT();
L_global_set:
    globals[OP(0)]->val = SL(1);
    ADV(2); NEXT();

    /* ---- tables ---- */
L_table_get: {
    pylon_table *t = inst->tables[OP(1)];
    uint32_t i = (uint32_t)SL(2).i32;
    if (UNLIKELY(i >= t->size)) TRAP(TABLE_OOB, "out of bounds table access");
    SL(0) = t->elems[i];
    ADV(3); NEXT();
}
L_table_set: {
    pylon_table *t = inst->tables[OP(0)];
    uint32_t i = (uint32_t)SL(1).i32;
    if (UNLIKELY(i >= t->size)) TRAP(TABLE_OOB, "out of bounds table access");
    t->elems[i] = SL(2);
    ADV(3); NEXT();
}
L_table_size:
    SL(0).i32 = (int32_t)inst->tables[OP(1)]->size;
    ADV(2); NEXT();
L_table_grow: {
    pylon_val init = SL(2);
    uint32_t n = (uint32_t)SL(3).i32;
    SL(0).i32 = (int32_t)pl_table_grow(inst->tables[OP(1)], n, init);
    ADV(4); NEXT();
}
L_table_fill: {
    pylon_table *t = inst->tables[OP(0)];
    uint64_t i = (uint32_t)SL(1).i32, n = (uint32_t)SL(3).i32;
    pylon_val v = SL(2);
    if (UNLIKELY(i + n > t->size)) TRAP(TABLE_OOB, "out of bounds table access");
    for (uint64_t k = 0; k < n; k++) t->elems[i + k] = v;
    ADV(4); NEXT();
}
L_table_copy: {
    pylon_table *td = inst->tables[OP(0)], *ts = inst->tables[OP(1)];
    uint64_t d = (uint32_t)SL(2).i32, s = (uint32_t)SL(3).i32, n = (uint32_t)SL(4).i32;
    if (UNLIKELY(s + n > ts->size || d + n > td->size)) TRAP(TABLE_OOB, "out of bounds table access");
    if (n) memmove(td->elems + d, ts->elems + s, n * sizeof(pylon_val));
    ADV(5); NEXT();
}
L_table_init: {
    pylon_table *t = inst->tables[OP(0)];
    uint32_t e = OP(1);
    uint64_t d = (uint32_t)SL(2).i32, s = (uint32_t)SL(3).i32, n = (uint32_t)SL(4).i32;
    if (UNLIKELY(s + n > inst->elem_lens[e] || d + n > t->size)) TRAP(TABLE_OOB, "out of bounds table access");
    if (n) memcpy(t->elems + d, inst->elem_vals[e] + s, n * sizeof(pylon_val));
    ADV(5); NEXT();
}
L_elem_drop:
    inst->elem_lens[OP(0)] = 0;
    ADV(1); NEXT();

    /* ---- memory ---- */
L_memory_size:
    SL(0).i32 = (int32_t)(memsize / PYLON_PAGE_SIZE);
    ADV(1); NEXT();
L_memory_grow:
    SL(0).i32 = (int32_t)pl_memory_grow(memory, (uint32_t)SL(1).i32);
    RELOAD_MEMORY();
    ADV(2); NEXT();
L_memory_fill: {
    uint64_t d = (uint32_t)SL(0).i32, n = (uint32_t)SL(2).i32;
    if (UNLIKELY(d + n > memsize)) TRAP_OOB(d, n);
    if (n) memset(mem + d, (uint8_t)SL(1).i32, n);
    ADV(3); NEXT();
}
L_memory_copy: {
    uint64_t d = (uint32_t)SL(0).i32, s = (uint32_t)SL(1).i32, n = (uint32_t)SL(2).i32;
    if (UNLIKELY(s + n > memsize)) TRAP_OOB(s, n);
    if (UNLIKELY(d + n > memsize)) TRAP_OOB(d, n);
    if (n) memmove(mem + d, mem + s, n);
    ADV(3); NEXT();
}
L_memory_init: {
    uint32_t seg = OP(0);
    uint64_t d = (uint32_t)SL(1).i32, s = (uint32_t)SL(2).i32, n = (uint32_t)SL(3).i32;
    if (UNLIKELY(s + n > inst->data_lens[seg])) TRAP_OOB(s, n);
    if (UNLIKELY(d + n > memsize)) TRAP_OOB(d, n);
    if (n) memcpy(mem + d, inst->module->datas[seg].bytes + s, n);
    ADV(4); NEXT();
}
L_data_drop:
    inst->data_lens[OP(0)] = 0;
    ADV(1); NEXT();

    /* ---- references ---- */
L_ref_is_null:
    SL(0).i32 = SL(1).ref == NULL;
    ADV(2); NEXT();
L_ref_func:
    SL(0).ref = funcs[OP(1)];
    ADV(2); NEXT();

safepoint_trap:
    tmsg = tk == PYLON_TRAP_INTERRUPTED ? "interrupted" : "fuel exhausted";
trap_out:
    if (!trap_filled) {
        if (tk == PYLON_TRAP_MEMORY_OOB)
            pl_trap_set(trap, tk, "%s at address 0x%llx (+%llu bytes, memory is %llu bytes)", tmsg,
                        (unsigned long long)taddr, (unsigned long long)tlen, (unsigned long long)memsize);
        else
            pl_trap_set(trap, tk, "%s", tmsg);
        trap->address = taddr;
    }
    if (trap) {
        /* innermost first: the running function, then each caller */
        uint32_t nf = trap->nframes;
        if (nf < PYLON_TRAP_MAX_FRAMES) trap->frames[nf++] = (pylon_trap_frame){inst, code->func};
        for (uint32_t k = ex->nframes; k > entry_frames && nf < PYLON_TRAP_MAX_FRAMES; k--)
            trap->frames[nf++] = (pylon_trap_frame){ex->frames[k - 1].inst, ex->frames[k - 1].code->func};
        trap->nframes = nf;
    }
    ex->nframes = entry_frames;
    return -1;
}
