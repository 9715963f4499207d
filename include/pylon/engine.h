/*
 * pylon/engine.h — the WebAssembly engine's public API.
 *
 * This is everything an embedder (the WASI layer, the dynlink host, the
 * wast runner, the benchmarks, your program) sees of the engine: load a
 * module from bytes, describe imports, instantiate, call exports, touch
 * memories/tables/globals, and get traps back as values.  The engine never
 * aborts, exits or prints; every failure comes back through a pylon_error or
 * a pylon_trap.  WASI, plans and caps live in other layers, on top of this.
 *
 * Threading: one instance is used by one thread at a time.  Independent
 * instances may run on different threads.  pylon_instance_interrupt() is the
 * one call that is safe from any thread (it is how a watchdog stops a guest).
 */
#ifndef PYLON_ENGINE_H
#define PYLON_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- values and types ------------------------------------------------ */

typedef enum pylon_valtype {
    PYLON_I32 = 0x7f,
    PYLON_I64 = 0x7e,
    PYLON_F32 = 0x7d,
    PYLON_F64 = 0x7c,
    PYLON_V128 = 0x7b, /* decoded only to refuse it: SIMD is not supported */
    PYLON_FUNCREF = 0x70,
    PYLON_EXTERNREF = 0x6f,
} pylon_valtype;

/* A value.  Its type is known from context (a signature, a global's type).
 * References are opaque pointers; NULL is the null reference.  A funcref is
 * a pylon_func*, an externref is whatever the embedder put there. */
typedef union pylon_val {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    void *ref;
    uint64_t bits;
} pylon_val;

/* Function signatures are written as strings: parameter letters, ':',
 * result letters.  i=i32 I=i64 f=f32 F=f64 r=funcref e=externref.
 * "iiii:i" takes four i32 and returns one; ":" takes and returns nothing. */

/* "i32", "funcref", ...; "?" for a byte that is no value type. */
const char *pylon_valtype_name(pylon_valtype t);
/* The signature letter of a type ('v' for v128, which no signature may
 * use); 0 for a byte that is no value type. */
char pylon_valtype_letter(pylon_valtype t);
/* The inverse: the type a letter stands for, 0 if none. */
pylon_valtype pylon_letter_valtype(char c);

/* ---- errors and traps -------------------------------------------------- */

typedef enum pylon_error_kind {
    PYLON_OK = 0,
    PYLON_ERR_MALFORMED,     /* bytes are not a well-formed module */
    PYLON_ERR_INVALID,       /* well-formed but fails validation */
    PYLON_ERR_UNSUPPORTED,   /* uses a feature Pylon refuses (SIMD, ...) */
    PYLON_ERR_UNLINKABLE,    /* an import is missing or has the wrong type */
    PYLON_ERR_UNINSTANTIABLE,/* a segment is out of range or start trapped */
    PYLON_ERR_LIMIT,         /* a configured limit refuses it */
    PYLON_ERR_NOMEM,         /* the host is out of memory */
    PYLON_ERR_ARG,           /* the API was called wrongly */
} pylon_error_kind;

typedef struct pylon_error {
    pylon_error_kind kind;
    size_t offset;      /* byte offset in the module, when it applies */
    char message[256];  /* "offset 0x1f: type mismatch in i32.add, ..." */
} pylon_error;

typedef enum pylon_trap_kind {
    PYLON_TRAP_NONE = 0,
    PYLON_TRAP_UNREACHABLE,
    PYLON_TRAP_MEMORY_OOB,      /* out-of-bounds memory access */
    PYLON_TRAP_TABLE_OOB,       /* out-of-bounds table access / index */
    PYLON_TRAP_INT_OVERFLOW,
    PYLON_TRAP_INT_DIV_ZERO,
    PYLON_TRAP_INVALID_CONVERSION,
    PYLON_TRAP_INDIRECT_NULL,   /* uninitialized element / null funcref */
    PYLON_TRAP_INDIRECT_TYPE,   /* indirect call type mismatch */
    PYLON_TRAP_STACK_EXHAUSTED,
    PYLON_TRAP_FUEL_EXHAUSTED,
    PYLON_TRAP_INTERRUPTED,     /* pylon_instance_interrupt() */
    PYLON_TRAP_HOST,            /* a host function reported an error */
    PYLON_TRAP_EXIT,            /* a host function asked to exit (proc_exit) */
} pylon_trap_kind;

#define PYLON_TRAP_MAX_FRAMES 32

typedef struct pylon_instance pylon_instance;

typedef struct pylon_trap_frame {
    const pylon_instance *instance; /* NULL for a host function */
    uint32_t func;                  /* function index in that instance */
} pylon_trap_frame;

typedef struct pylon_trap {
    pylon_trap_kind kind;
    int exit_code;                  /* for PYLON_TRAP_EXIT */
    uint64_t address;               /* for PYLON_TRAP_MEMORY_OOB */
    char message[256];              /* "out of bounds memory access at 0x10000 (+4) ..." */
    uint32_t nframes;               /* innermost first */
    pylon_trap_frame frames[PYLON_TRAP_MAX_FRAMES];
} pylon_trap;

/* Writes "  #0 name (func 12)\n  #1 ..." into buf; returns bytes written. */
size_t pylon_trap_backtrace(const pylon_trap *trap, char *buf, size_t cap);

/* ---- modules ----------------------------------------------------------- */

typedef struct pylon_module pylon_module;

typedef enum pylon_externkind {
    PYLON_EXTERN_FUNC = 0,
    PYLON_EXTERN_TABLE = 1,
    PYLON_EXTERN_MEMORY = 2,
    PYLON_EXTERN_GLOBAL = 3,
} pylon_externkind;

typedef struct pylon_importdesc {
    const char *module, *name;
    pylon_externkind kind;
    const char *signature;   /* functions: the string form above */
    pylon_valtype type;      /* tables: element type; globals: value type */
    int mutable_;            /* globals */
    uint32_t min, max;       /* tables (elements) and memories (pages); */
    int has_max;             /* max is meaningful only when has_max */
} pylon_importdesc;

typedef struct pylon_exportdesc {
    const char *name;       /* NUL-terminated; may hold an earlier NUL, see name_len */
    size_t name_len;
    pylon_externkind kind;
    uint32_t index;
} pylon_exportdesc;

/* Decodes, validates and compiles.  The bytes are not retained. */
pylon_module *pylon_module_load(const uint8_t *bytes, size_t len, pylon_error *err);
void pylon_module_free(pylon_module *m); /* instances keep it alive */

uint32_t pylon_module_num_imports(const pylon_module *m);
int pylon_module_import(const pylon_module *m, uint32_t i, pylon_importdesc *out);
uint32_t pylon_module_num_exports(const pylon_module *m);
int pylon_module_export(const pylon_module *m, uint32_t i, pylon_exportdesc *out);

/* ---- standalone objects (for imports the host provides) ---------------- */

typedef struct pylon_func pylon_func;
typedef struct pylon_memory pylon_memory;
typedef struct pylon_table pylon_table;
typedef struct pylon_global pylon_global;

/* A caller context handed to host functions. */
typedef struct pylon_caller pylon_caller;

/* A host function.  Returns 0 on success; to fail, call pylon_caller_trap or
 * pylon_caller_exit and return its (nonzero) result. */
typedef int (*pylon_host_fn)(pylon_caller *caller, void *user,
                             const pylon_val *args, pylon_val *results);

pylon_instance *pylon_caller_instance(pylon_caller *c);
/* The calling instance's memory named "memory" (or its memory 0); NULL if none. */
pylon_memory *pylon_caller_memory(pylon_caller *c);
int pylon_caller_trap(pylon_caller *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int pylon_caller_exit(pylon_caller *c, int code);

/* Standalone objects are reference counted; whoever holds one (an imports
 * set, an instance that imported it) keeps it alive.  _new returns a
 * reference the caller must drop with pylon_extern_release(). */
pylon_func *pylon_func_new_host(const char *signature, pylon_host_fn fn, void *user,
                                const char *debug_name);
pylon_memory *pylon_memory_new(uint32_t min_pages, uint32_t max_pages /* UINT32_MAX: none */);
pylon_table *pylon_table_new(pylon_valtype elem, uint32_t min, uint32_t max /* UINT32_MAX */);
pylon_global *pylon_global_new(pylon_valtype type, int mutable_, pylon_val init);
void pylon_extern_release(pylon_externkind kind, void *obj);

/* ---- imports ------------------------------------------------------------ */

typedef struct pylon_imports pylon_imports;

pylon_imports *pylon_imports_new(void);
void pylon_imports_free(pylon_imports *imp);
/* Convenience: defines a host function "module"."name". */
int pylon_imports_add_func(pylon_imports *imp, const char *module, const char *name,
                           const char *signature, pylon_host_fn fn, void *user);
/* Any extern object (a pylon_func*, pylon_memory*, ... of the given kind). */
int pylon_imports_add(pylon_imports *imp, const char *module, const char *name,
                      pylon_externkind kind, void *obj);
/* Every export of `inst` becomes importable as "module"."<export name>". */
int pylon_imports_add_instance(pylon_imports *imp, const char *module, pylon_instance *inst);

/* ---- instances ---------------------------------------------------------- */

typedef struct pylon_limits {
    uint32_t max_memory_pages;  /* per memory; 0 = the module's own maximum */
    uint32_t max_table_elems;   /* per table; 0 = the module's own maximum */
    uint32_t max_call_depth;    /* 0 = default (10000) */
    uint64_t fuel;              /* instructions-ish budget; 0 = unlimited */
} pylon_limits;

/* Links, allocates, initialises segments and runs the start function.
 * A trap in the start function is reported as PYLON_ERR_UNINSTANTIABLE with
 * the trap in *trap (if non-NULL). */
pylon_instance *pylon_instantiate(pylon_module *m, const pylon_imports *imp,
                                  const pylon_limits *limits, pylon_error *err,
                                  pylon_trap *trap);
void pylon_instance_free(pylon_instance *inst);

const pylon_module *pylon_instance_module(const pylon_instance *inst);
/* Opaque pointer the embedder may attach (e.g. its WASI state). */
void pylon_instance_set_user(pylon_instance *inst, void *user);
void *pylon_instance_user(const pylon_instance *inst);

/* Exports by name; NULL if absent or of another kind. Borrowed pointers,
 * valid while the instance lives. */
pylon_func *pylon_instance_func(pylon_instance *inst, const char *name);
pylon_memory *pylon_instance_memory(pylon_instance *inst, const char *name);
pylon_table *pylon_instance_table(pylon_instance *inst, const char *name);
pylon_global *pylon_instance_global(pylon_instance *inst, const char *name);
/* Export by name of any kind; returns the kind or -1. */
int pylon_instance_export(pylon_instance *inst, const char *name, void **obj);
/* The same for a name given as bytes: wasm names may contain NUL. */
int pylon_instance_export_bytes(pylon_instance *inst, const char *name, size_t len, void **obj);

/* Name from the name section, or NULL. */
const char *pylon_instance_func_name(const pylon_instance *inst, uint32_t func);

void pylon_instance_set_fuel(pylon_instance *inst, uint64_t fuel); /* 0 = unlimited */
uint64_t pylon_instance_fuel(const pylon_instance *inst);
/* Safe from any thread (and from a signal handler): at its next loop
 * back-edge or call the guest either traps with PYLON_TRAP_INTERRUPTED or,
 * if an interrupt handler is set, runs it.  Cleared when delivered. */
void pylon_instance_interrupt(pylon_instance *inst);

/* Runs on the guest's thread at the safepoint after an interrupt, with the
 * guest paused; it may call into any instance (e.g. the guest's own
 * "raise KeyboardInterrupt" export).  Return 0 to let the guest go on, or
 * nonzero to make it trap with PYLON_TRAP_INTERRUPTED. */
typedef int (*pylon_interrupt_fn)(pylon_instance *inst, void *user);
void pylon_instance_set_interrupt_handler(pylon_instance *inst, pylon_interrupt_fn fn, void *user);

/* Like pylon_instance_interrupt, but always a trap (PYLON_TRAP_INTERRUPTED),
 * never the handler: what a timeout watchdog uses.  AOT code, which has no
 * safepoints, is stopped by a signal to the thread running it.  Safe from
 * any thread and from a signal handler. */
void pylon_instance_stop(pylon_instance *inst);

/* ---- calling -------------------------------------------------------------- */

/* "iI:F" etc.  Valid while the function lives. */
const char *pylon_func_signature(const pylon_func *f);
/* Calls f.  Returns 0 on success, or fills *trap and returns -1.  args and
 * results must match the signature in count. */
int pylon_call(pylon_func *f, const pylon_val *args, size_t nargs,
               pylon_val *results, size_t nresults, pylon_trap *trap);

/* ---- the AOT tier ------------------------------------------------------------ */

/* Compiles a module to native code (wasm2c + clang-19) into the shared
 * object `out_path`.  Slow (CPython: about 1.5 minutes); the result is a
 * cache for these exact bytes.  PYLON_ERR_UNSUPPORTED for modules the tier
 * cannot take (tables crossing the module boundary, references in
 * signatures): run those on the interpreter. */
int pylon_aot_compile(const uint8_t *wasm, size_t len, const char *out_path, pylon_error *err);
/* Where the artifact for these bytes lives in the cache:
 * $PYLON_CACHE_DIR (default ~/.cache/pylon)/aot/<sha256>-<toolchain>.so */
int pylon_aot_cache_path(const uint8_t *wasm, size_t len, char *out, size_t cap);
/* Like pylon_module_load, running the module's code from `artifact`; the
 * artifact is refused unless it was built from exactly these bytes. */
pylon_module *pylon_module_load_aot(const uint8_t *wasm, size_t len, const char *artifact, pylon_error *err);
int pylon_module_is_aot(const pylon_module *m);

/* Which tier loads a module (`--engine`). */
typedef enum pylon_tier {
    PYLON_TIER_AUTO,    /* native code when the cache has it, else the interpreter */
    PYLON_TIER_INTERP,  /* always the interpreter */
    PYLON_TIER_AOT,     /* native code, compiled into the cache first if missing */
} pylon_tier;
/* Loads `wasm` on `tier`.  `artifact` (may be NULL) is tried before the
 * cache.  With PYLON_TIER_AOT a missing artifact is compiled now (slow);
 * `on_compile` (may be NULL) is called first, so a CLI can say so. */
pylon_module *pylon_module_load_tier(const uint8_t *wasm, size_t len, pylon_tier tier,
                                     const char *artifact, void (*on_compile)(void *user),
                                     void *user, pylon_error *err);
/* Tier-up in place: a new instance of `aot` (the same module's bytes,
 * loaded for the AOT tier) that takes over the interpreted instance
 * `old`'s memories, globals and imports, so the program's state carries
 * over; free `old` afterwards and use the new one.  Nothing runs (no data
 * segments, no start function).  Refused with PYLON_ERR_UNSUPPORTED when
 * state lives where native code keeps its own copy: a table changed since
 * instantiation, or a dropped passive segment.  Call it between calls,
 * never while `old` runs. */
pylon_instance *pylon_instance_retier(pylon_instance *old, pylon_module *aot, pylon_error *err);
/* 1 if the cache holds a usable artifact for these bytes, else 0. */
int pylon_aot_cached(const uint8_t *wasm, size_t len);
/* Compiles these bytes into the cache in a detached, low-priority
 * background process that outlives the caller (Ctrl-C does not stop it);
 * a later pylon_module_load_tier(AUTO) picks the result up.  Returns 0 when
 * the compile was started or the artifact is already there, -1 otherwise.
 * At most one compile per module per process. */
int pylon_aot_compile_background(const uint8_t *wasm, size_t len);

/* ---- memory ---------------------------------------------------------------- */

#define PYLON_PAGE_SIZE 65536u

uint8_t *pylon_memory_data(pylon_memory *m);   /* moves on grow */
uint64_t pylon_memory_size(const pylon_memory *m); /* bytes */
uint32_t pylon_memory_pages(const pylon_memory *m);
/* Pointer to [addr, addr+len) if entirely inside memory, else NULL. */
void *pylon_memory_ptr(pylon_memory *m, uint64_t addr, uint64_t len);
int pylon_memory_read(pylon_memory *m, uint64_t addr, void *dst, size_t len);
int pylon_memory_write(pylon_memory *m, uint64_t addr, const void *src, size_t len);
/* Returns the old size in pages, or -1 if refused (max, limit, host memory). */
int64_t pylon_memory_grow(pylon_memory *m, uint32_t delta_pages);

/* ---- tables and globals --------------------------------------------------- */

uint32_t pylon_table_size(const pylon_table *t);
pylon_valtype pylon_table_type(const pylon_table *t);
int pylon_table_get(const pylon_table *t, uint32_t i, pylon_val *out);
int pylon_table_set(pylon_table *t, uint32_t i, pylon_val v);

pylon_valtype pylon_global_type(const pylon_global *g);
int pylon_global_mutable(const pylon_global *g);
pylon_val pylon_global_get(const pylon_global *g);
int pylon_global_set(pylon_global *g, pylon_val v); /* -1 if immutable */

#ifdef __cplusplus
}
#endif
#endif
