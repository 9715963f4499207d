/*
 * module.h — the decoded form of a WebAssembly module, shared inside the
 * engine.
 *
 * decode.c fills it from bytes and checks everything that is not inside a
 * function body (section order, index spaces, limits, constant expressions,
 * export names, segment shapes).  compile.c then validates each function
 * body and turns it into threaded code (pl_code).  instance.c reads it to
 * instantiate.  Nothing here is visible to embedders.
 */
#ifndef PYLON_MODULE_H
#define PYLON_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pylon/engine.h"

/* Value types use the binary encoding (PYLON_I32 = 0x7f, ...). */
typedef uint8_t pl_valtype;

typedef struct pl_functype {
    uint32_t nparams, nresults;
    pl_valtype *params;   /* nparams entries */
    pl_valtype *results;  /* nresults entries */
    char *sig;            /* "iI:f" form, see engine.h */
} pl_functype;

typedef struct pl_limits {
    uint32_t min, max;    /* max == UINT32_MAX when absent */
    bool has_max;
} pl_limits;

typedef struct pl_tabletype {
    pl_valtype elem;      /* PYLON_FUNCREF or PYLON_EXTERNREF */
    pl_limits lim;
} pl_tabletype;

typedef struct pl_globaltype {
    pl_valtype type;
    bool mut;
} pl_globaltype;

/* Wasm 2.0 constant expressions are one instruction then `end`. */
typedef enum pl_constop {
    PL_CONST_VALUE,       /* t.const: `value` holds it */
    PL_CONST_GLOBAL_GET,  /* `index` is a global index (an imported immutable global) */
    PL_CONST_REF_NULL,    /* `type` is the reference type */
    PL_CONST_REF_FUNC,    /* `index` is a function index */
} pl_constop;

typedef struct pl_constexpr {
    pl_constop op;
    pl_valtype type;      /* the type the expression produces */
    uint32_t index;
    pylon_val value;
} pl_constexpr;

typedef struct pl_import {
    char *module, *name;  /* NUL-terminated copies (names are valid UTF-8) */
    pylon_externkind kind;
    union {
        uint32_t typeidx;         /* PYLON_EXTERN_FUNC */
        pl_tabletype table;       /* PYLON_EXTERN_TABLE */
        pl_limits mem;            /* PYLON_EXTERN_MEMORY */
        pl_globaltype global;     /* PYLON_EXTERN_GLOBAL */
    } u;
    /* Byte lengths of module/name: a name may contain NUL ("\0\1" and ""
     * are different names), so compare with these, not strcmp. */
    uint32_t module_len, name_len;
} pl_import;

typedef struct pl_export {
    char *name;
    pylon_externkind kind;
    uint32_t index;
    uint32_t name_len;    /* bytes; the name may contain NUL (see pl_import) */
} pl_export;

typedef enum pl_segmode { PL_SEG_ACTIVE, PL_SEG_PASSIVE, PL_SEG_DECLARATIVE } pl_segmode;

typedef struct pl_elem {
    pl_segmode mode;
    pl_valtype type;          /* PYLON_FUNCREF or PYLON_EXTERNREF */
    uint32_t table;           /* active only */
    pl_constexpr offset;      /* active only; type i32 */
    uint32_t count;
    pl_constexpr *items;      /* ref.func / ref.null / global.get */
} pl_elem;

typedef struct pl_data {
    pl_segmode mode;          /* ACTIVE or PASSIVE */
    uint32_t memory;          /* active only */
    pl_constexpr offset;      /* active only; type i32 */
    uint32_t len;
    uint8_t *bytes;           /* owned copy */
} pl_data;

struct pl_code;               /* compiled function, owned by compile.c */

typedef struct pl_funcbody {
    uint32_t nlocals;         /* declared locals, not counting params */
    pl_valtype *locals;       /* flattened, nlocals entries */
    size_t offset, len;       /* the expression bytes (after the local
                               * declarations, through the final 0x0b), as
                               * offsets into the bytes given to load */
} pl_funcbody;

typedef struct pl_module {
    uint32_t ntypes;
    pl_functype *types;

    uint32_t nimports;
    pl_import *imports;

    /* Index spaces: imports come first in each. */
    uint32_t nfuncs, nfunc_imports;
    uint32_t *func_types;     /* typeidx for every function */
    uint32_t ntables, ntable_imports;
    pl_tabletype *tables;
    uint32_t nmems, nmem_imports;
    pl_limits *mems;
    uint32_t nglobals, nglobal_imports;
    pl_globaltype *globals;
    pl_constexpr *global_inits; /* nglobals entries; imported ones unused */

    uint32_t nexports;
    pl_export *exports;

    bool has_start;
    uint32_t start;

    uint32_t nelems;
    pl_elem *elems;

    bool has_datacount;
    uint32_t datacount;
    uint32_t ndatas;
    pl_data *datas;

    /* nfuncs - nfunc_imports entries */
    pl_funcbody *bodies;
    struct pl_code **code;    /* filled by compile.c */

    /* C.refs: functions that ref.func may name in a body (referenced from
     * elems, exports or global initialisers).  nfuncs entries, 0 or 1. */
    uint8_t *func_declared;

    /* From the "name" custom section; NULL entries when absent. */
    char **func_names;        /* nfuncs entries, or NULL if no names */

    struct pl_aot *aot;       /* the AOT artifact, when loaded with one */

    int refcount;
} pl_module;

/*
 * Decodes `bytes` and validates everything but function bodies.  On error
 * returns NULL with err->kind = PYLON_ERR_MALFORMED (binary format),
 * PYLON_ERR_INVALID (validation) or PYLON_ERR_UNSUPPORTED (SIMD types), an
 * offset and a message that names the rule: "offset 0x1a: section out of
 * order (type after import)".
 */
pl_module *pl_decode(const uint8_t *bytes, size_t len, pylon_error *err);
void pl_module_destroy(pl_module *m);

/* Shared LEB128/bounds reader, also used by compile.c for bodies. */
typedef struct pl_reader {
    const uint8_t *p, *end, *base;  /* base: start of the module, for offsets */
    const char *why;  /* set by a failed pl_read_*: "unexpected end",
                       * "integer representation too long" or "integer too
                       * large" (the spec's words), for the error message */
} pl_reader;

/* Each returns false at end of input or on an overlong/too-large encoding,
 * leaving r->p where the value started and r->why saying which. */
bool pl_read_u8(pl_reader *r, uint8_t *out);
bool pl_read_u32(pl_reader *r, uint32_t *out);
bool pl_read_s32(pl_reader *r, int32_t *out);
bool pl_read_s33(pl_reader *r, int64_t *out);
bool pl_read_s64(pl_reader *r, int64_t *out);
bool pl_read_f32(pl_reader *r, uint32_t *out_bits);
bool pl_read_f64(pl_reader *r, uint64_t *out_bits);

/* printf into err with kind and the reader's current offset. Returns NULL
 * so decoders can `return pl_fail(...)`. */
void *pl_fail(pylon_error *err, pylon_error_kind kind, const pl_reader *r,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
