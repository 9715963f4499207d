/*
 * runtime.h — the engine's run-time objects: functions, memories, tables,
 * globals, instances, and the per-thread execution stack.
 *
 * instance.c creates and links them; interp.c runs code against them.
 * Standalone objects are reference counted because they can be shared:
 * one memory imported by two instances, a host function in many imports.
 */
#ifndef PYLON_RUNTIME_H
#define PYLON_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/code.h"

struct pylon_func {
    int refcount;            /* host functions only; wasm ones live in their instance */
    bool is_host;
    bool native;             /* called through pl_call_host: host or AOT code */
    /* AOT: the artifact's wrapper for this export */
    void (*aot_call)(void *instance, const uint64_t *args, uint64_t *results);
    const char *sig;         /* interned: equal types give equal pointers */
    uint32_t nparams, nresults;
    /* wasm */
    pylon_instance *inst;
    const pl_code *code;
    uint32_t index;
    /* host */
    pylon_host_fn fn;
    void *user;
    char *name;
};

struct pylon_memory {
    /* First, laid out as wasm2c's wasm_rt_memory_t, so AOT code uses this
     * very object as its (imported) memory. */
    uint8_t *data;
    uint32_t pages, max_pages;  /* max_pages: what grow allows (limits applied) */
    uint32_t size32;         /* bytes, saturated at UINT32_MAX (wasm2c's view) */
    /* Pylon's own. */
    uint64_t size;           /* bytes = pages * 64 KiB */
    int refcount;
    bool has_max;            /* the declared type, for import matching */
    uint32_t decl_max;
    size_t reserved;         /* bytes of address space reserved at data */
};

struct pylon_table {
    int refcount;
    pl_valtype type;
    pylon_val *elems;
    uint32_t size, max;      /* max: what grow allows (limits applied) */
    bool has_max;            /* the declared type, for import matching */
    uint32_t decl_max;
    /* Instances kept alive because this table holds their functions after
     * their last other reference went (see pylon_instance_free). */
    pylon_instance **keep;
    uint32_t nkeep;
    struct pylon_table *reg_prev, *reg_next; /* registry of live tables */
};

struct pylon_global {
    int refcount;
    pl_valtype type;
    bool mut;
    pylon_val val;
};

struct pylon_instance {
    int refcount;
    pl_module *module;
    pylon_func **funcs;      /* whole function index space */
    pylon_func *own_funcs;   /* the defined ones */
    pylon_table **tables;
    pylon_memory **mems;
    pylon_global **globals;
    const char **type_sigs;  /* interned signature of each module type */
    pylon_val **elem_vals;   /* evaluated element segments */
    uint32_t *elem_lens;     /* 0 once dropped */
    uint32_t *data_lens;     /* 0 once dropped */
    bool *table_weak;        /* tables[i] is not held: it holds us instead */
    pylon_instance **deps;   /* instances we import from (held) */
    uint32_t ndeps;
    uint32_t max_call_depth;
    int64_t fuel;            /* INT64_MAX when unlimited */
    bool fuel_limited;
    atomic_int interrupt;
    atomic_int stop;         /* pylon_instance_stop: trap, whatever the handler */
    void *aot_inst;          /* wasm2c's instance struct, for AOT modules */
    pthread_t aot_thread;    /* the thread running its native code, if any */
    bool aot_thread_set;
    _Atomic int aot_poll_armed; /* counted in its artifact's poll word */
    pylon_interrupt_fn on_interrupt;
    void *on_interrupt_user;
    void *user;
};

struct pylon_caller {
    pylon_instance *inst;    /* NULL when called from pylon_call directly */
    pylon_trap *trap;
};

/* One per thread: the value stack all frames live on and the call frames. */
typedef struct pl_frame {
    const uint32_t *ip;      /* where the caller resumes */
    pylon_val *fp;
    const pl_code *code;
    pylon_instance *inst;
} pl_frame;

typedef struct pl_exec {
    pylon_val *stack, *stack_end;
    pylon_val *sp;           /* first slot free for a nested entry */
    pl_frame *frames;
    uint32_t nframes, max_frames;
    uint32_t frame_limit;    /* frames allowed for the current entry */
    int nest;                /* host -> wasm re-entries */
} pl_exec;

pl_exec *pl_exec_get(void);

/* Runs wasm function f with its arguments already at fp[0..nparams). */
int pl_interp_call(pl_exec *ex, pylon_func *f, pylon_val *fp, pylon_trap *trap);

/* Calls a host function; args and results both at `slots`. */
int pl_call_host(pl_exec *ex, pylon_func *f, pylon_instance *caller,
                 pylon_val *slots, pylon_trap *trap);

void pl_trap_set(pylon_trap *trap, pylon_trap_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Fills an API error (offset 0); a NULL err is ignored. */
void pl_error_set(pylon_error *err, pylon_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* instance.c: pylon_module_load, optionally without bodies (AOT loads:
 * the artifact carries code validated when it was built from these bytes). */
pylon_module *pl_module_load(const uint8_t *bytes, size_t len, bool bodies, pylon_error *err);

/* aot.c: the AOT tier's side of calls and instantiation. */
/* aot_build.c: what a load must match (the machine's Segue support and
 * CPU identity, "" when unknown) */
bool pl_aot_segue_available(void);
const char *pl_aot_cpu_identity(void);
int pl_aot_call(pylon_func *f, pylon_val *slots, pylon_trap *trap);
/* adopt: the instance took over a live instance's memory and globals
 * (pylon_instance_retier): no data segments, no start function. */
int pl_aot_instantiate(pylon_instance *inst, bool adopt, pylon_trap *trap);
void pl_aot_instance_free(pylon_instance *inst);
void pl_aot_unload(pl_module *m);
void pl_aot_interrupt(pylon_instance *inst);

/* Shared by the interpreter's bulk instructions and instantiation. */
int64_t pl_memory_grow(pylon_memory *m, uint32_t delta);
int64_t pl_table_grow(pylon_table *t, uint32_t delta, pylon_val init);

#endif
