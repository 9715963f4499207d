/*
 * aot_abi.h — the contract between Pylon and an AOT artifact (a shared
 * object built from wasm2c's C output plus glue Pylon generates).
 *
 * It is compiled into both sides: into Pylon, and (copied next to the
 * generated sources) into every artifact.  The artifact exports one symbol,
 * `pylon_aot_module`, describing itself; Pylon hands it a table of host
 * callbacks.  Values cross as 64-bit slots (the bits of a pylon_val), so
 * neither side needs the other's headers.  Bump PL_AOT_ABI on any change:
 * an artifact of another ABI is refused and rebuilt.
 */
#ifndef PYLON_AOT_ABI_H
#define PYLON_AOT_ABI_H

#include <stddef.h>
#include <stdint.h>

#define PL_AOT_ABI 10

/* What Pylon provides to an artifact. */
typedef struct pl_aot_host {
    /* Calls function `func` (an index in the module's function space, i.e.
     * an import) of the instance behind ctx.  Returns 0, or -1 after the
     * trap was recorded; the glue then calls rethrow(). */
    int (*call_import)(void *ctx, uint32_t func, uint64_t *args, uint64_t *results);
    /* Unwinds to the innermost Pylon entry with a trap (wasm2c's code). */
    void (*trap)(int wasm_rt_trap_code) __attribute__((noreturn));
    /* Unwinds with the trap call_import already recorded. */
    void (*rethrow)(void) __attribute__((noreturn));
    /* The instance's memory (a wasm_rt_memory_t-compatible header). */
    void *(*memory)(void *ctx);
    /* Pointer to the value of global `index` (its bits at offset 0). */
    void *(*global)(void *ctx, uint32_t index);
    /* memory.grow on a Pylon memory: old size in pages, or UINT32_MAX. */
    uint32_t (*grow_memory)(void *memory, uint32_t delta);
    /* A process-wide id for a function type, for call_indirect checks. */
    uint32_t (*func_type_id)(const char *signature);
    /* A loop safepoint found the poll word set: runs the interrupt handler
     * of the instance running on this thread, if it has an interrupt
     * pending.  0 to go on, -1 after recording a trap (the glue then
     * calls rethrow()). */
    int (*poll)(void);
} pl_aot_host;

typedef struct pl_aot_export {
    uint32_t index;        /* in the module's export section */
    const char *name;      /* for people: names may hold escapes or NULs */
    const char *sig;       /* "iI:F" */
    void (*call)(void *instance, const uint64_t *args, uint64_t *results);
} pl_aot_export;

/* What an artifact provides. */
typedef struct pl_aot_module {
    uint32_t abi;            /* PL_AOT_ABI */
    char wasm_sha256[65];    /* hex digest of the module it was built from */
    size_t instance_size;    /* bytes of wasm2c's instance struct */
    void (*init)(const pl_aot_host *host);
    /* Fills the instance (imports, globals, tables, segments) and runs the
     * start function; traps unwind through host->trap. */
    void (*instantiate)(void *instance, void *ctx);
    void (*free)(void *instance);
    uint32_t nexports;
    const pl_aot_export *exports;
    uint32_t *call_depth;    /* wasm2c's depth counter: reset after a trap */
    uint32_t flags;          /* PL_AOT_* below */
    /* Code is compiled for the CPU it was built on (-march=native): the
     * SHA-256 (hex) of that CPU's identity, or "" for generic x86-64. */
    char cpu[65];
    /* The poll word (aot_inject.h): how many of the artifact's instances
     * have an interrupt pending; loop back-edges check it. */
    volatile uint32_t *poll;
    /* Like instantiate, for an instance that takes over a live one's
     * memory and globals: no data segments written, no start function. */
    void (*adopt)(void *instance, void *ctx);
} pl_aot_module;

/* The artifact addresses its memory through the %gs segment (aot_inject.h):
 * Pylon must point GS at the memory whenever the artifact's code runs. */
#define PL_AOT_SEGUE 1u

#endif
