/*
 * aot.c — loading and running AOT artifacts (built by aot_build.c) behind
 * the same engine API as the interpreter: the tier choice
 * (pylon_module_load_tier), the load checks, entering native code and
 * leaving it by trap, interrupts, and the host callbacks of aot_abi.h.
 *
 * Loading (pylon_module_load_aot) checks the ABI, the CPU, and that the
 * artifact was built from exactly these bytes (its recorded SHA-256): the
 * artifact is a cache, not a trust root.
 *
 * Traps unwind with siglongjmp to the innermost Pylon entry (aot_run).
 * Fuel is not counted in native code; interrupts reach it at host calls
 * and loop safepoints, and a stop also by a signal to its thread.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <ucontext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/aot_abi.h"
#include "engine/runtime.h"
#include "util/sha256.h"

struct pl_aot {
    void *handle;
    const pl_aot_module *desc;
};

#if defined(__x86_64__)
static inline uint64_t gsbase_get(void) { uint64_t v; __asm__ volatile("rdgsbase %0" : "=r"(v)); return v; }
static inline void gsbase_set(uint64_t v) { __asm__ volatile("wrgsbase %0" ::"r"(v) : "memory"); }
#else
static inline uint64_t gsbase_get(void) { return 0; }
static inline void gsbase_set(uint64_t v) { (void)v; }
#endif


#define set_err pl_error_set

/* ---- tiers -------------------------------------------------------------------------- */

pylon_module *pylon_module_load_tier(const uint8_t *wasm, size_t len, pylon_tier tier,
                                     const char *artifact, void (*on_compile)(void *user),
                                     void *user, pylon_error *err) {
    if (tier == PYLON_TIER_INTERP) return pylon_module_load(wasm, len, err);
    char cached[PATH_MAX];
    bool have_cache = pylon_aot_cache_path(wasm, len, cached, sizeof cached) == 0;
    const char *candidates[2] = {artifact, have_cache ? cached : NULL};
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (!candidates[i] || stat(candidates[i], &st) != 0) continue;
        /* a stale or foreign artifact is not an error: it is rebuilt */
        pylon_module *m = pylon_module_load_aot(wasm, len, candidates[i], NULL);
        if (m) return m;
    }
    if (tier == PYLON_TIER_AUTO) return pylon_module_load(wasm, len, err);
    if (!have_cache) {
        set_err(err, PYLON_ERR_ARG, "aot: no place for the artifact cache; set PYLON_CACHE_DIR");
        return NULL;
    }
    if (on_compile) on_compile(user);
    if (pylon_aot_compile(wasm, len, cached, err) != 0) return NULL;
    return pylon_module_load_aot(wasm, len, cached, err);
}

/* ---- loading --------------------------------------------------------------------------- */

static const pl_aot_host host_api; /* below */

pylon_module *pylon_module_load_aot(const uint8_t *wasm, size_t len, const char *artifact, pylon_error *err) {
    pylon_error local;
    if (!err) err = &local;
    /* The bodies were validated when the artifact was built from exactly
     * these bytes (checked below by digest); decoding the rest suffices. */
    pylon_module *pm = pl_module_load(wasm, len, false, err);
    if (!pm) return NULL;
    pl_module *m = (pl_module *)pm;
    void *h = dlopen(artifact, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        set_err(err, PYLON_ERR_ARG, "aot: cannot load %s: %s; run 'pylon aot compile' again", artifact, dlerror());
        pylon_module_free(pm);
        return NULL;
    }
    const pl_aot_module *desc = dlsym(h, "pylon_aot_module");
    char digest[65];
    pl_sha256_hex(wasm, len, digest);
    const char *why = !desc ? "it has no pylon_aot_module"
                    : desc->abi != PL_AOT_ABI ? "it was built for another Pylon ABI"
                    : strcmp(desc->wasm_sha256, digest) != 0 ? "it was built from other bytes than this module's"
                    : (desc->flags & PL_AOT_SEGUE) && !pl_aot_segue_available() ? "it addresses memory through %gs (FSGSBASE), which this machine does not offer"
                    : strcmp(desc->cpu, pl_aot_cpu_identity()) != 0 ? "it was compiled for another CPU"
                    : NULL;
    if (why) {
        set_err(err, PYLON_ERR_ARG, "aot: refusing %s: %s (module sha256:%.16s…); recompile with 'pylon aot compile'",
                artifact, why, digest);
        dlclose(h);
        pylon_module_free(pm);
        return NULL;
    }
    struct pl_aot *a = calloc(1, sizeof *a);
    if (!a) { dlclose(h); pylon_module_free(pm); set_err(err, PYLON_ERR_NOMEM, "out of host memory"); return NULL; }
    a->handle = h;
    a->desc = desc;
    desc->init(&host_api);
    m->aot = a;
    return pm;
}

int pylon_module_is_aot(const pylon_module *pm) { return ((const pl_module *)pm)->aot != NULL; }

void pl_aot_unload(pl_module *m) {
    if (!m->aot) return;
    /* the shared object stays mapped: instances may have left function
     * pointers with the host (e.g. in its own tables); code is cheap */
    free(m->aot);
    m->aot = NULL;
}

/* ---- entering native code, and leaving it by trap ---------------------------------------- */

typedef struct aot_entry {
    sigjmp_buf jb;
    pylon_trap *trap;
    struct aot_entry *prev;
    uint64_t saved_gs; /* GS base to restore on the way out (Segue) */
    /* The thread's signal mask outside any wasm code, restored when a
     * signal handler unwinds here (it may have been nested in another
     * handler that blocked signals); read once per outermost entry. */
    sigset_t mask;
    volatile bool from_signal;
} aot_entry;

static _Thread_local aot_entry *tls_entry;
static _Thread_local bool tls_in_host;    /* native code called back into Pylon */
static _Thread_local void *tls_altstack;
static _Thread_local pylon_instance *tls_inst; /* whose native code runs here */

/* An interrupt of an AOT instance is also counted in its artifact's poll
 * word until it is taken (or the instance dies), so that loops notice. */
static void poll_arm(pylon_instance *inst) {
    if (!atomic_exchange(&inst->aot_poll_armed, 1))
        __atomic_fetch_add(inst->module->aot->desc->poll, 1, __ATOMIC_SEQ_CST);
}
static void poll_disarm(pylon_instance *inst) {
    if (atomic_exchange(&inst->aot_poll_armed, 0))
        __atomic_fetch_sub(inst->module->aot->desc->poll, 1, __ATOMIC_SEQ_CST);
}


/* Native code has no safepoints, so pylon_instance_interrupt reaches it by
 * signal: the thread running the instance's code gets PL_AOT_SIGNAL and,
 * unless it is inside a host call (then the interrupt is taken when the
 * call returns), traps with "interrupted". */
#define PL_AOT_SIGNAL SIGURG

static void on_interrupt_signal(int sig) {
    (void)sig;
    aot_entry *e = tls_entry;
    if (!e || tls_in_host || !tls_inst || !atomic_load(&tls_inst->interrupt)) return;
    /* a handler wants a gentle interrupt at a safepoint: the next host call */
    if (tls_inst->on_interrupt && !atomic_load(&tls_inst->stop)) return;
    atomic_store(&tls_inst->interrupt, 0);
    atomic_store(&tls_inst->stop, 0);
    poll_disarm(tls_inst);
    if (e->trap) {
        e->trap->kind = PYLON_TRAP_INTERRUPTED;
        e->trap->nframes = 0;
        memcpy(e->trap->message, "interrupted", 12);
    }
    e->from_signal = true;
    siglongjmp(e->jb, 1);
}

/* Out-of-bounds accesses and native stack overflow in AOT code fault: the
 * access lands in a memory's PROT_NONE reservation, or the stack runs into
 * its guard page.  Such a fault, raised by wasm code (not by Pylon or a host
 * function it called), becomes a trap; any other fault is a real crash and
 * goes to whoever handled the signal before. */
static struct sigaction old_segv, old_bus;

static void on_fault(int sig, siginfo_t *si, void *uctx) {
    aot_entry *e = tls_entry;
    if (!e || tls_in_host) {
        const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
        if (old->sa_flags & SA_SIGINFO && old->sa_sigaction) { old->sa_sigaction(sig, si, uctx); return; }
        if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) { old->sa_handler(sig); return; }
        signal(sig, SIG_DFL); /* the access repeats and the default action runs */
        return;
    }
    bool stack = false;
#if defined(__x86_64__)
    uintptr_t sp = (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RSP];
    uintptr_t fa = (uintptr_t)si->si_addr;
    stack = fa + 65536 > sp && fa < sp + 65536;
#endif
    if (e->trap) {
        /* plain stores only: this runs in a signal handler */
        e->trap->kind = stack ? PYLON_TRAP_STACK_EXHAUSTED : PYLON_TRAP_MEMORY_OOB;
        e->trap->nframes = 0;
        const char *msg = stack ? "call stack exhausted" : "out of bounds memory access";
        size_t n = strlen(msg);
        memcpy(e->trap->message, msg, n + 1);
        e->trap->address = 0;
    }
    e->from_signal = true;
    siglongjmp(e->jb, 1);
}

static void install_fault_handler(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    struct sigaction si;
    memset(&si, 0, sizeof si);
    si.sa_handler = on_interrupt_signal;
    si.sa_flags = SA_ONSTACK | SA_RESTART;
    sigemptyset(&si.sa_mask);
    sigaction(PL_AOT_SIGNAL, &si, NULL);
}

void pl_aot_interrupt(pylon_instance *inst) {
    /* the next loop back-edge takes it; the signal covers the rest */
    poll_arm(inst);
    if (inst->aot_thread_set) pthread_kill(inst->aot_thread, PL_AOT_SIGNAL);
}

/* The handler needs a stack of its own to run on after a stack overflow. */
static void ensure_altstack(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_fault_handler);
    if (tls_altstack) return;
    size_t size = 256 * 1024;
    void *p = malloc(size);
    if (!p) return;
    stack_t ss = {.ss_sp = p, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) == 0) tls_altstack = p;
    else free(p);
}

static void host_trap(int code) __attribute__((noreturn));
static void host_trap(int code) {
    /* wasm2c's wasm_rt_trap_t codes, then Pylon's (aot_inject.h, 2.) */
    static const struct { int code; pylon_trap_kind kind; const char *msg; } map[] = {
        {1, PYLON_TRAP_MEMORY_OOB, "out of bounds memory access"},
        {2, PYLON_TRAP_INT_OVERFLOW, "integer overflow"},
        {3, PYLON_TRAP_INT_DIV_ZERO, "integer divide by zero"},
        {4, PYLON_TRAP_INVALID_CONVERSION, "invalid conversion to integer"},
        {5, PYLON_TRAP_UNREACHABLE, "unreachable executed"},
        {6, PYLON_TRAP_INDIRECT_TYPE, "indirect call failed"},
        {7, PYLON_TRAP_HOST, "uncaught exception"},
        {8, PYLON_TRAP_STACK_EXHAUSTED, "call stack exhausted"},
        {100, PYLON_TRAP_TABLE_OOB, "undefined element: table index out of bounds"},
        {101, PYLON_TRAP_INDIRECT_NULL, "uninitialized element"},
        {102, PYLON_TRAP_INDIRECT_TYPE, "indirect call type mismatch"},
        {103, PYLON_TRAP_TABLE_OOB, "out of bounds table access"},
    };
    aot_entry *e = tls_entry;
    pylon_trap_kind kind = PYLON_TRAP_HOST;
    const char *msg = "trap";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].code == code) { kind = map[i].kind; msg = map[i].msg; break; }
    pl_trap_set(e->trap, kind, "%s", msg);
    siglongjmp(e->jb, 1);
}

static void host_rethrow(void) __attribute__((noreturn));
static void host_rethrow(void) { siglongjmp(tls_entry->jb, 1); }

/* Native code's safepoints (after a host call, and at loop back-edges):
 * a pending interrupt runs the instance's handler, or traps. */
static int safepoint(pylon_instance *inst, pylon_trap *trap) {
    if (!atomic_load(&inst->interrupt)) return 0;
    atomic_store(&inst->interrupt, 0);
    poll_disarm(inst);
    bool stop = atomic_exchange(&inst->stop, 0);
    if (stop || !inst->on_interrupt) {
        pl_trap_set(trap, PYLON_TRAP_INTERRUPTED, "interrupted");
        return -1;
    }
    bool was_in_host = tls_in_host;
    tls_in_host = true; /* the handler is host code (it may call wasm) */
    int rc = inst->on_interrupt(inst, inst->on_interrupt_user);
    tls_in_host = was_in_host;
    if (rc != 0) {
        pl_trap_set(trap, PYLON_TRAP_INTERRUPTED, "interrupted");
        return -1;
    }
    return 0;
}

/* ctx is the pylon_instance */
static int host_call_import(void *ctx, uint32_t func, uint64_t *args, uint64_t *results) {
    pylon_instance *inst = ctx;
    pylon_func *f = inst->funcs[func];
    pl_exec *ex = pl_exec_get();
    pylon_trap *trap = tls_entry->trap;
    /* slots for the callee: args and results share them */
    uint32_t n = f->nparams > f->nresults ? f->nparams : f->nresults;
    pylon_val *slots = ex->sp;
    if (!ex || slots + n + 1 > ex->stack_end) {
        pl_trap_set(trap, PYLON_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        return -1;
    }
    memcpy(slots, args, f->nparams * sizeof(uint64_t));
    bool was_in_host = tls_in_host;
    tls_in_host = true;
    int rc = f->native ? pl_call_host(ex, f, inst, slots, trap) : pylon_call(f, slots, f->nparams, slots, f->nresults, trap);
    tls_in_host = was_in_host;
    if (rc == 0 && safepoint(inst, trap) != 0) return -1;
    if (rc == 0) memcpy(results, slots, f->nresults * sizeof(uint64_t));
    return rc;
}

/* A loop back-edge saw the poll word set (aot_inject.h). */
static int host_poll(void) { return tls_inst ? safepoint(tls_inst, tls_entry->trap) : 0; }

static void *host_memory(void *ctx) {
    pylon_instance *inst = ctx;
    return inst->module->nmems ? inst->mems[0] : NULL;
}
static void *host_global(void *ctx, uint32_t index) {
    pylon_instance *inst = ctx;
    return &inst->globals[index]->val;
}
static uint32_t host_grow(void *mem, uint32_t delta) {
    int64_t r = pl_memory_grow(mem, delta);
    return r < 0 ? UINT32_MAX : (uint32_t)r;
}

/* Type ids: the index of the interned signature in a process-wide list. */
static uint32_t host_type_id(const char *sig) {
    static const char *ids[4096];
    static uint32_t nids;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    const char *s = pl_sig_intern(sig);
    pthread_mutex_lock(&lock);
    uint32_t i;
    for (i = 0; i < nids; i++) if (ids[i] == s) break;
    if (i == nids && nids < 4096) ids[nids++] = s;
    pthread_mutex_unlock(&lock);
    return i + 1; /* 0 is wasm2c's null type */
}

static const pl_aot_host host_api = {host_call_import, host_trap, host_rethrow, host_memory,
                                     host_global, host_grow, host_type_id, host_poll};

/* Runs fn(instance, args, results) -- or, for instantiation, inst_fn --
 * with traps caught.  `slots` holds the arguments on entry and the results
 * on return (as for host functions).  A Segue artifact finds its memory
 * through GS: it is pointed at the instance's memory here and restored on
 * the way out, so nested entries (wasm -> host -> another instance) each
 * see their own. */
static int aot_run(pylon_instance *inst, void (*fn)(void *, const uint64_t *, uint64_t *),
                   void (*inst_fn)(void *, void *), pylon_val *slots, uint32_t nresults, pylon_trap *trap) {
    const pl_aot_module *desc = inst->module->aot->desc;
    void *winst = inst->aot_inst;
    aot_entry e;
    e.trap = trap;
    e.prev = tls_entry;
    ensure_altstack();
    bool segue = desc->flags & PL_AOT_SEGUE;
    e.saved_gs = segue ? gsbase_get() : 0;
    if (segue) gsbase_set((uint64_t)(uintptr_t)inst->mems[0]->data);
    uint32_t depth = desc->call_depth ? *desc->call_depth : 0;
    pl_exec *ex = pl_exec_get();
    pylon_val *saved_sp = ex ? ex->sp : NULL;
    bool was_in_host = tls_in_host;
    if (ex && slots && slots + 16 > ex->sp) ex->sp = slots + 16; /* nested calls go above */
    tls_entry = &e;
    tls_in_host = false;
    /* sigsetjmp saves no mask: that is a system call per entry, half of a
     * small invoke's cost.  Only the outermost entry reads the mask; a
     * signal handler that unwinds restores it (below). */
    if (e.prev) memcpy(&e.mask, &e.prev->mask, sizeof e.mask);
    else pthread_sigmask(SIG_BLOCK, NULL, &e.mask);
    e.from_signal = false;
    if (sigsetjmp(e.jb, 0)) {
        if (e.from_signal) pthread_sigmask(SIG_SETMASK, &e.mask, NULL);
        if (segue) gsbase_set(e.saved_gs);
        tls_entry = e.prev;
        tls_in_host = was_in_host;
        if (desc->call_depth) *desc->call_depth = depth;
        if (ex) ex->sp = saved_sp;
        return -1;
    }
    if (inst_fn) inst_fn(winst, inst);
    else {
        uint64_t res[16] = {0}; /* the glue refuses exports of more results */
        fn(winst, (const uint64_t *)slots, res);
        if (nresults) memcpy(slots, res, nresults * sizeof(uint64_t));
    }
    if (segue) gsbase_set(e.saved_gs);
    tls_entry = e.prev;
    tls_in_host = was_in_host;
    if (ex) ex->sp = saved_sp;
    return 0;
}

/* Marks `inst` as running native code on this thread (for interrupts). */
static pylon_instance *enter_inst(pylon_instance *inst, pthread_t *saved_thread, bool *saved_set) {
    pylon_instance *prev = tls_inst;
    *saved_thread = inst->aot_thread;
    *saved_set = inst->aot_thread_set;
    inst->aot_thread = pthread_self();
    inst->aot_thread_set = true;
    tls_inst = inst;
    return prev;
}
static void leave_inst(pylon_instance *inst, pylon_instance *prev, pthread_t thread, bool set) {
    inst->aot_thread = thread;
    inst->aot_thread_set = set;
    tls_inst = prev;
}

int pl_aot_call(pylon_func *f, pylon_val *slots, pylon_trap *trap) {
    pthread_t th;
    bool set;
    pylon_instance *prev = enter_inst(f->inst, &th, &set);
    int rc = aot_run(f->inst, f->aot_call, NULL, slots, f->nresults, trap);
    leave_inst(f->inst, prev, th, set);
    return rc;
}

int pl_aot_instantiate(pylon_instance *inst, bool adopt, pylon_trap *trap) {
    const pl_aot_module *desc = inst->module->aot->desc;
    inst->aot_inst = calloc(1, desc->instance_size);
    if (!inst->aot_inst) { pl_trap_set(trap, PYLON_TRAP_HOST, "out of host memory"); return -1; }
    pthread_t th;
    bool set;
    pylon_instance *prev = enter_inst(inst, &th, &set);
    int rc = aot_run(inst, NULL, adopt ? desc->adopt : desc->instantiate, NULL, 0, trap);
    leave_inst(inst, prev, th, set);
    if (rc != 0) return -1;
    /* exported functions become callable through their wrappers */
    const pl_module *m = inst->module;
    for (uint32_t x = 0; x < desc->nexports; x++) {
        uint32_t k = desc->exports[x].index;
        if (k >= m->nexports || m->exports[k].kind != PYLON_EXTERN_FUNC) continue;
        pylon_func *f = inst->funcs[m->exports[k].index];
        if (f->is_host || f->inst != inst) continue; /* a re-exported import */
        f->aot_call = desc->exports[x].call;
        f->native = true;
    }
    return 0;
}

void pl_aot_instance_free(pylon_instance *inst) {
    if (!inst->aot_inst) return;
    poll_disarm(inst);
    inst->module->aot->desc->free(inst->aot_inst);
    free(inst->aot_inst);
    inst->aot_inst = NULL;
}
