/*
 * fuzz_engine.c — libFuzzer target: arbitrary bytes through the whole engine.
 *
 * Bytes go to pylon_module_load; whatever loads is instantiated against a
 * permissive set of imports and every exported function is called with
 * zero arguments, under small limits (fuel, call depth, memory pages) so
 * that each input finishes in milliseconds.  The engine promises to never
 * crash, abort or leak whatever the bytes are, and to turn every runaway
 * guest into a trap; this target holds it to that under ASan+UBSan.  It uses
 * only engine.h, like any embedder.
 *
 * Build and run: `make fuzz`, then tests/fuzz/run.sh [seconds].
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pylon/engine.h"

enum {
    FUZZ_FUEL = 100000,
    FUZZ_CALL_DEPTH = 500,
    FUZZ_MAX_PAGES = 256,
    FUZZ_MAX_TABLE = 10000,
    FUZZ_MAX_CALLS = 64,     /* exported functions called per input */
    FUZZ_MAX_IMPORTS = 1000, /* beyond this the input is not worth linking */
};

/* ---- import types ----------------------------------------------------------
 * engine.h describes imports by module, name, kind and (for functions) a
 * signature, but not the types of imported tables, memories and globals.
 * To provide objects that match, the target reads them from the module's
 * own import section.  The module already passed pylon_module_load, but
 * this reader still checks every bound: a disagreement between it and the
 * engine must end in "skip this input", never in a crash of the harness. */

typedef struct import_type {
    uint8_t kind;            /* 0 func, 1 table, 2 memory, 3 global */
    uint8_t type;            /* table: reference type; global: value type */
    bool mut;                /* global */
    bool has_max;
    uint32_t min, max;
} import_type;

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static bool rd_byte(reader *r, uint8_t *out) {
    if (r->p >= r->end) return false;
    *out = *r->p++;
    return true;
}

static bool rd_u32(reader *r, uint32_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t b;
        if (!rd_byte(r, &b)) return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > UINT32_MAX) return false;
            *out = (uint32_t)v;
            return true;
        }
    }
    return false;
}

static bool rd_skip(reader *r, uint32_t n) {
    if ((size_t)(r->end - r->p) < n) return false;
    r->p += n;
    return true;
}

static bool rd_limits(reader *r, import_type *t) {
    uint8_t flags;
    if (!rd_byte(r, &flags) || flags > 1) return false;
    if (!rd_u32(r, &t->min)) return false;
    t->has_max = flags == 1;
    t->max = UINT32_MAX;
    return !t->has_max || rd_u32(r, &t->max);
}

/* Fills types[0..*n) from the import section; false if it cannot. */
static bool read_import_types(const uint8_t *data, size_t size, import_type *types, uint32_t cap, uint32_t *n) {
    reader r = {data, data + size};
    *n = 0;
    if (!rd_skip(&r, 8)) return false; /* magic + version */
    while (r.p < r.end) {
        uint8_t id;
        uint32_t len;
        if (!rd_byte(&r, &id) || !rd_u32(&r, &len) || (size_t)(r.end - r.p) < len) return false;
        if (id != 2) {
            r.p += len;
            continue;
        }
        reader s = {r.p, r.p + len};
        uint32_t count;
        if (!rd_u32(&s, &count) || count > cap) return false;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t l;
            import_type *t = &types[i];
            memset(t, 0, sizeof *t);
            if (!rd_u32(&s, &l) || !rd_skip(&s, l) || !rd_u32(&s, &l) || !rd_skip(&s, l)) return false;
            if (!rd_byte(&s, &t->kind)) return false;
            uint32_t typeidx;
            uint8_t mut;
            switch (t->kind) {
            case 0: if (!rd_u32(&s, &typeidx)) return false; break;
            case 1: if (!rd_byte(&s, &t->type) || !rd_limits(&s, t)) return false; break;
            case 2: if (!rd_limits(&s, t)) return false; break;
            case 3:
                if (!rd_byte(&s, &t->type) || !rd_byte(&s, &mut) || mut > 1) return false;
                t->mut = mut;
                break;
            default: return false;
            }
        }
        *n = count;
        return true;
    }
    return true; /* no import section: no imports */
}

/* ---- permissive imports ------------------------------------------------------ */

/* Every imported function: returns zeros.  The result count rides in
 * `user` so that no per-input allocation has to outlive the instance. */
static int zero_host(pylon_caller *caller, void *user, const pylon_val *args, pylon_val *results) {
    size_t nresults = (size_t)(uintptr_t)user;
    for (size_t i = 0; i < nresults; i++) results[i].bits = 0;
    /* Touch the caller API too: host functions use it on every WASI call. */
    pylon_memory *m = pylon_caller_memory(caller);
    if (m) (void)pylon_memory_pages(m);
    return 0;
}

static size_t sig_results(const char *sig) {
    const char *colon = sig ? strchr(sig, ':') : NULL;
    return colon ? strlen(colon + 1) : 0;
}

/* Adds one object per import; false if an import cannot be satisfied within
 * the fuzzing limits (the input is then only loaded, not run). */
static bool add_imports(const pylon_module *m, pylon_imports *imp, const import_type *types, uint32_t ntypes) {
    uint32_t n = pylon_module_num_imports(m);
    if (n != ntypes) return false;
    for (uint32_t i = 0; i < n; i++) {
        pylon_importdesc d;
        if (pylon_module_import(m, i, &d) != 0 || (uint8_t)d.kind != types[i].kind) return false;
        const import_type *t = &types[i];
        void *obj = NULL;
        pylon_val zero;
        zero.bits = 0;
        switch (d.kind) {
        case PYLON_EXTERN_FUNC:
            obj = pylon_func_new_host(d.signature, zero_host, (void *)(uintptr_t)sig_results(d.signature), "fuzz.zero");
            break;
        case PYLON_EXTERN_TABLE:
            if (t->min > FUZZ_MAX_TABLE) return false;
            obj = pylon_table_new((pylon_valtype)t->type, t->min,
                                  t->has_max && t->max < FUZZ_MAX_TABLE ? t->max : FUZZ_MAX_TABLE);
            break;
        case PYLON_EXTERN_MEMORY:
            if (t->min > FUZZ_MAX_PAGES) return false;
            obj = pylon_memory_new(t->min, t->has_max && t->max < FUZZ_MAX_PAGES ? t->max : FUZZ_MAX_PAGES);
            break;
        case PYLON_EXTERN_GLOBAL:
            obj = pylon_global_new((pylon_valtype)t->type, t->mut, zero);
            break;
        }
        if (!obj) return false;
        int rc = pylon_imports_add(imp, d.module, d.name, d.kind, obj);
        pylon_extern_release(d.kind, obj);
        if (rc != 0) return false;
    }
    return true;
}

/* ---- exercising an instance ------------------------------------------------------ */

static void poke_exports(pylon_instance *inst) {
    const pylon_module *m = pylon_instance_module(inst);
    uint32_t n = pylon_module_num_exports(m), calls = 0;
    for (uint32_t i = 0; i < n; i++) {
        pylon_exportdesc d;
        void *obj = NULL;
        /* By bytes: fuzzed export names may well contain NUL. */
        if (pylon_module_export(m, i, &d) != 0 ||
            pylon_instance_export_bytes(inst, d.name, d.name_len, &obj) != (int)d.kind || !obj)
            continue;
        if (d.kind == PYLON_EXTERN_FUNC && calls < FUZZ_MAX_CALLS) {
            pylon_func *f = obj;
            const char *sig = pylon_func_signature(f);
            const char *colon = sig ? strchr(sig, ':') : NULL;
            if (!colon) continue;
            size_t nparams = (size_t)(colon - sig), nresults = strlen(colon + 1);
            pylon_val *args = calloc(nparams + 1, sizeof *args);
            pylon_val *res = calloc(nresults + 1, sizeof *res);
            if (args && res) {
                pylon_trap trap;
                calls++;
                pylon_instance_set_fuel(inst, FUZZ_FUEL);
                if (pylon_call(f, args, nparams, res, nresults, &trap) != 0) {
                    char bt[1024];
                    pylon_trap_backtrace(&trap, bt, sizeof bt);
                }
            }
            free(args);
            free(res);
        } else if (d.kind == PYLON_EXTERN_GLOBAL) {
            (void)pylon_global_get((pylon_global *)obj);
        } else if (d.kind == PYLON_EXTERN_TABLE) {
            pylon_table *t = obj;
            uint32_t size = pylon_table_size(t);
            for (uint32_t j = 0; j < size && j < 64; j++) {
                pylon_val v;
                (void)pylon_table_get(t, j, &v);
            }
        } else if (d.kind == PYLON_EXTERN_MEMORY) {
            pylon_memory *mem = obj;
            uint64_t size = pylon_memory_size(mem);
            uint8_t byte;
            if (size) (void)pylon_memory_read(mem, size - 1, &byte, 1);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pylon_error err;
    pylon_module *m = pylon_module_load(data, size, &err);
    if (!m) return 0;
    static import_type types[FUZZ_MAX_IMPORTS];
    uint32_t ntypes;
    pylon_imports *imp = pylon_imports_new();
    if (imp && read_import_types(data, size, types, FUZZ_MAX_IMPORTS, &ntypes) &&
        add_imports(m, imp, types, ntypes)) {
        pylon_limits limits = {
            .max_memory_pages = FUZZ_MAX_PAGES,
            .max_table_elems = FUZZ_MAX_TABLE,
            .max_call_depth = FUZZ_CALL_DEPTH,
            .fuel = FUZZ_FUEL,
        };
        pylon_trap trap;
        pylon_instance *inst = pylon_instantiate(m, imp, &limits, &err, &trap);
        pylon_imports_free(imp);
        imp = NULL;
        if (inst) {
            poke_exports(inst);
            pylon_instance_free(inst);
        }
    }
    if (imp) pylon_imports_free(imp);
    pylon_module_free(m);
    return 0;
}
