/*
 * instance.c — the embedding API around modules and instances: loading,
 * standalone objects, import sets, linking and instantiation (in the spec's
 * order: resolve imports, allocate, evaluate globals, apply element and
 * data segments, run start), calls from the host, and the accessors for
 * memories, tables and globals.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/runtime.h"

#define set_error pl_error_set
void pl_error_set(pylon_error *err, pylon_error_kind kind, const char *fmt, ...) {
    if (!err) return;
    err->kind = kind;
    err->offset = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* ---- modules -------------------------------------------------------------- */

struct pylon_module { pl_module m; };

/* Decodes, and (unless the code will come from an AOT artifact) validates
 * and compiles every body for the interpreter. */
pylon_module *pl_module_load(const uint8_t *bytes, size_t len, bool bodies, pylon_error *err) {
    pylon_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    if (!bytes && len) { set_error(err, PYLON_ERR_ARG, "pylon_module_load: bytes is NULL"); return NULL; }
    pl_module *m = pl_decode(bytes, len, err);
    if (!m) return NULL;
    if (!bodies) {
        m->code = calloc(m->nfuncs - m->nfunc_imports + 1, sizeof(pl_code *));
        if (!m->code) { pl_module_destroy(m); set_error(err, PYLON_ERR_NOMEM, "out of host memory"); return NULL; }
        m->refcount = 1;
        return (pylon_module *)m;
    }
    if (pl_compile_module(m, bytes, err) != 0) {
        uint32_t n = m->nfuncs - m->nfunc_imports;
        for (uint32_t i = 0; m->code && i < n; i++) pl_code_free(m->code[i]);
        free(m->code);
        m->code = NULL;
        pl_module_destroy(m);
        return NULL;
    }
    m->refcount = 1;
    return (pylon_module *)m;
}

pylon_module *pylon_module_load(const uint8_t *bytes, size_t len, pylon_error *err) {
    return pl_module_load(bytes, len, true, err);
}

static void module_unref(pl_module *m) {
    if (!m || --m->refcount > 0) return;
    pl_aot_unload(m);
    uint32_t n = m->nfuncs - m->nfunc_imports;
    for (uint32_t i = 0; m->code && i < n; i++) pl_code_free(m->code[i]);
    free(m->code);
    m->code = NULL;
    pl_module_destroy(m);
}

void pylon_module_free(pylon_module *pm) { if (pm) module_unref(&pm->m); }

uint32_t pylon_module_num_imports(const pylon_module *pm) { return pm->m.nimports; }

int pylon_module_import(const pylon_module *pm, uint32_t i, pylon_importdesc *out) {
    const pl_module *m = &pm->m;
    if (i >= m->nimports) return -1;
    const pl_import *im = &m->imports[i];
    out->module = im->module;
    out->name = im->name;
    out->kind = im->kind;
    out->signature = im->kind == PYLON_EXTERN_FUNC ? m->types[im->u.typeidx].sig : NULL;
    out->type = 0;
    out->mutable_ = 0;
    out->min = out->max = 0;
    out->has_max = 0;
    if (im->kind == PYLON_EXTERN_TABLE) {
        out->type = (pylon_valtype)im->u.table.elem;
        out->min = im->u.table.lim.min;
        out->max = im->u.table.lim.max;
        out->has_max = im->u.table.lim.has_max;
    } else if (im->kind == PYLON_EXTERN_MEMORY) {
        out->min = im->u.mem.min;
        out->max = im->u.mem.max;
        out->has_max = im->u.mem.has_max;
    } else if (im->kind == PYLON_EXTERN_GLOBAL) {
        out->type = (pylon_valtype)im->u.global.type;
        out->mutable_ = im->u.global.mut;
    }
    return 0;
}

uint32_t pylon_module_num_exports(const pylon_module *pm) { return pm->m.nexports; }

int pylon_module_export(const pylon_module *pm, uint32_t i, pylon_exportdesc *out) {
    if (i >= pm->m.nexports) return -1;
    out->name = pm->m.exports[i].name;
    out->name_len = pm->m.exports[i].name_len;
    out->kind = pm->m.exports[i].kind;
    out->index = pm->m.exports[i].index;
    return 0;
}

/* ---- signatures --------------------------------------------------------------- */

static const struct { pylon_valtype t; char letter; const char *name; } valtypes[] = {
    {PYLON_I32, 'i', "i32"}, {PYLON_I64, 'I', "i64"}, {PYLON_F32, 'f', "f32"},
    {PYLON_F64, 'F', "f64"}, {PYLON_FUNCREF, 'r', "funcref"},
    {PYLON_EXTERNREF, 'e', "externref"}, {PYLON_V128, 'v', "v128"},
};

const char *pylon_valtype_name(pylon_valtype t) {
    for (size_t i = 0; i < sizeof valtypes / sizeof valtypes[0]; i++)
        if (valtypes[i].t == t) return valtypes[i].name;
    return "?";
}

char pylon_valtype_letter(pylon_valtype t) {
    for (size_t i = 0; i < sizeof valtypes / sizeof valtypes[0]; i++)
        if (valtypes[i].t == t) return valtypes[i].letter;
    return 0;
}

pylon_valtype pylon_letter_valtype(char c) {
    for (size_t i = 0; i < sizeof valtypes / sizeof valtypes[0]; i++)
        if (c && valtypes[i].letter == c) return valtypes[i].t;
    return 0;
}

/* Counts params/results of "ii:I"; -1 if malformed. */
static int parse_sig(const char *sig, uint32_t *np, uint32_t *nr) {
    const char *colon = strchr(sig, ':');
    if (!colon) return -1;
    for (const char *p = sig; *p; p++)
        if (p != colon && (!pylon_letter_valtype(*p) || *p == 'v')) return -1; /* no SIMD */
    *np = (uint32_t)(colon - sig);
    *nr = (uint32_t)strlen(colon + 1);
    return 0;
}

/* ---- standalone objects ----------------------------------------------------------- */

pylon_func *pylon_func_new_host(const char *signature, pylon_host_fn fn, void *user,
                                const char *debug_name) {
    uint32_t np, nr;
    if (!signature || !fn || parse_sig(signature, &np, &nr) != 0) return NULL;
    pylon_func *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->refcount = 1;
    f->is_host = true;
    f->native = true;
    f->sig = pl_sig_intern(signature);
    f->nparams = np;
    f->nresults = nr;
    f->fn = fn;
    f->user = user;
    f->name = strdup(debug_name ? debug_name : "host");
    if (!f->sig || !f->name) { free(f->name); free(f); return NULL; }
    return f;
}

/* Reserves address space for the largest size the memory may reach so
 * growing never moves it; pages are committed as it grows. */
static pylon_memory *memory_create(uint32_t min, uint32_t max, bool has_max, uint32_t decl_max) {
    if (max > 65536) max = 65536;
    if (min > max) return NULL;
    pylon_memory *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    /* Reserve the whole 33-bit range an access can reach (a u32 address
     * plus a u32 offset): AOT code checks no bounds and relies on every
     * out-of-bounds access landing in this PROT_NONE reservation.  It is
     * address space only; pages are committed as the memory grows. */
    size_t reserve = (8ull << 30) + 2 * PYLON_PAGE_SIZE;
    if ((size_t)max * PYLON_PAGE_SIZE > reserve) reserve = (size_t)max * PYLON_PAGE_SIZE;
    void *p = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) { free(m); return NULL; }
    m->refcount = 1;
    m->data = p;
    m->reserved = reserve;
    m->max_pages = max;
    m->has_max = has_max;
    m->decl_max = decl_max;
    if (min && pl_memory_grow(m, min) < 0) {
        munmap(p, reserve);
        free(m);
        return NULL;
    }
    return m;
}

pylon_memory *pylon_memory_new(uint32_t min_pages, uint32_t max_pages) {
    bool has_max = max_pages != UINT32_MAX;
    return memory_create(min_pages, has_max ? max_pages : 65536, has_max, max_pages);
}

/* Every live table, so a dying instance can find tables that still hold
 * its functions (wherever they came from: segments, table.set, a host). */
static pthread_mutex_t table_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pylon_table *table_reg;

static void table_register(pylon_table *t) {
    pthread_mutex_lock(&table_reg_lock);
    t->reg_next = table_reg;
    if (table_reg) table_reg->reg_prev = t;
    table_reg = t;
    pthread_mutex_unlock(&table_reg_lock);
}

static void table_unregister(pylon_table *t) {
    pthread_mutex_lock(&table_reg_lock);
    if (t->reg_prev) t->reg_prev->reg_next = t->reg_next;
    else table_reg = t->reg_next;
    if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
    pthread_mutex_unlock(&table_reg_lock);
}

static pylon_table *table_create(pl_valtype type, uint32_t min, uint32_t max, bool has_max, uint32_t decl_max) {
    if (min > max) return NULL;
    pylon_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->refcount = 1;
    t->type = type;
    t->max = max;
    t->has_max = has_max;
    t->decl_max = decl_max;
    if (min && pl_table_grow(t, min, (pylon_val){.bits = 0}) < 0) { free(t); return NULL; }
    table_register(t);
    return t;
}

pylon_table *pylon_table_new(pylon_valtype elem, uint32_t min, uint32_t max) {
    if (elem != PYLON_FUNCREF && elem != PYLON_EXTERNREF) return NULL;
    return table_create((pl_valtype)elem, min, max, max != UINT32_MAX, max);
}

pylon_global *pylon_global_new(pylon_valtype type, int mutable_, pylon_val init) {
    pylon_global *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->refcount = 1;
    g->type = (pl_valtype)type;
    g->mut = mutable_ != 0;
    g->val = init;
    return g;
}

static void extern_retain(pylon_externkind kind, void *obj) {
    switch (kind) {
    case PYLON_EXTERN_FUNC: {
        pylon_func *f = obj;
        if (f->is_host) f->refcount++;
        else f->inst->refcount++;
        break;
    }
    case PYLON_EXTERN_MEMORY: ((pylon_memory *)obj)->refcount++; break;
    case PYLON_EXTERN_TABLE: ((pylon_table *)obj)->refcount++; break;
    case PYLON_EXTERN_GLOBAL: ((pylon_global *)obj)->refcount++; break;
    }
}

void pylon_extern_release(pylon_externkind kind, void *obj) {
    if (!obj) return;
    switch (kind) {
    case PYLON_EXTERN_FUNC: {
        pylon_func *f = obj;
        if (!f->is_host) { pylon_instance_free(f->inst); return; }
        if (--f->refcount > 0) return;
        free(f->name);
        free(f);
        break;
    }
    case PYLON_EXTERN_MEMORY: {
        pylon_memory *m = obj;
        if (--m->refcount > 0) return;
        munmap(m->data, m->reserved);
        free(m);
        break;
    }
    case PYLON_EXTERN_TABLE: {
        pylon_table *t = obj;
        if (--t->refcount > 0) return;
        table_unregister(t);
        for (uint32_t i = 0; i < t->nkeep; i++) pylon_instance_free(t->keep[i]);
        free(t->keep);
        free(t->elems);
        free(t);
        break;
    }
    case PYLON_EXTERN_GLOBAL: {
        pylon_global *g = obj;
        if (--g->refcount > 0) return;
        free(g);
        break;
    }
    }
}

/* ---- import sets ------------------------------------------------------------------ */

typedef struct import_entry {
    char *module, *name;     /* name NULL: every export of `inst` */
    pylon_externkind kind;
    void *obj;
    pylon_instance *inst;
} import_entry;

struct pylon_imports {
    import_entry *v;
    size_t n, cap;
};

pylon_imports *pylon_imports_new(void) { return calloc(1, sizeof(pylon_imports)); }

void pylon_imports_free(pylon_imports *imp) {
    if (!imp) return;
    for (size_t i = 0; i < imp->n; i++) {
        import_entry *e = &imp->v[i];
        if (e->inst) pylon_instance_free(e->inst);
        else pylon_extern_release(e->kind, e->obj);
        free(e->module);
        free(e->name);
    }
    free(imp->v);
    free(imp);
}

static int imports_push(pylon_imports *imp, const char *module, const char *name,
                        pylon_externkind kind, void *obj, pylon_instance *inst) {
    if (imp->n == imp->cap) {
        size_t nc = imp->cap ? imp->cap * 2 : 16;
        import_entry *nv = realloc(imp->v, nc * sizeof *nv);
        if (!nv) return -1;
        imp->v = nv;
        imp->cap = nc;
    }
    import_entry *e = &imp->v[imp->n];
    e->module = strdup(module);
    e->name = name ? strdup(name) : NULL;
    if (!e->module || (name && !e->name)) { free(e->module); free(e->name); return -1; }
    e->kind = kind;
    e->obj = obj;
    e->inst = inst;
    imp->n++;
    return 0;
}

int pylon_imports_add(pylon_imports *imp, const char *module, const char *name,
                      pylon_externkind kind, void *obj) {
    if (!imp || !module || !name || !obj) return -1;
    extern_retain(kind, obj);
    if (imports_push(imp, module, name, kind, obj, NULL) != 0) {
        pylon_extern_release(kind, obj);
        return -1;
    }
    return 0;
}

int pylon_imports_add_func(pylon_imports *imp, const char *module, const char *name,
                           const char *signature, pylon_host_fn fn, void *user) {
    char dbg[256];
    snprintf(dbg, sizeof dbg, "%s.%s", module, name);
    pylon_func *f = pylon_func_new_host(signature, fn, user, dbg);
    if (!f) return -1;
    int rc = pylon_imports_add(imp, module, name, PYLON_EXTERN_FUNC, f);
    pylon_extern_release(PYLON_EXTERN_FUNC, f);
    return rc;
}

int pylon_imports_add_instance(pylon_imports *imp, const char *module, pylon_instance *inst) {
    if (!imp || !module || !inst) return -1;
    inst->refcount++;
    if (imports_push(imp, module, NULL, PYLON_EXTERN_FUNC, NULL, inst) != 0) {
        pylon_instance_free(inst);
        return -1;
    }
    return 0;
}

/* Finds module.name; later definitions win, like re-registering in a script. */
static int imports_find(const pylon_imports *imp, const char *module, const char *name,
                        pylon_externkind *kind, void **obj, pylon_instance **owner) {
    for (size_t i = imp ? imp->n : 0; i-- > 0;) {
        const import_entry *e = &imp->v[i];
        if (strcmp(e->module, module) != 0) continue;
        if (e->name) {
            if (strcmp(e->name, name) != 0) continue;
            *kind = e->kind; *obj = e->obj; *owner = NULL;
            return 0;
        }
        int k = pylon_instance_export(e->inst, name, obj);
        if (k >= 0) { *kind = (pylon_externkind)k; *owner = e->inst; return 0; }
    }
    return -1;
}

/* ---- instantiation ------------------------------------------------------------------ */

static const char *kind_name(pylon_externkind k) {
    static const char *const n[] = {"function", "table", "memory", "global"};
    return n[k];
}

/* Import subtyping on limits: the provided object must be at least as
 * large and (when a maximum is required) bounded at least as tightly. */
static bool limits_match(uint32_t have_min, uint32_t have_max, bool have_has_max, const pl_limits *want) {
    if (have_min < want->min) return false;
    if (want->has_max && (!have_has_max || have_max > want->max)) return false;
    return true;
}

static pylon_val eval_const(pylon_instance *inst, const pl_constexpr *e) {
    switch (e->op) {
    case PL_CONST_VALUE: return e->value;
    case PL_CONST_GLOBAL_GET: return inst->globals[e->index]->val;
    case PL_CONST_REF_NULL: return (pylon_val){.bits = 0};
    case PL_CONST_REF_FUNC: return (pylon_val){.ref = inst->funcs[e->index]};
    }
    return (pylon_val){.bits = 0};
}

/* The instance's own functions (the module's defined ones). */
static void bind_own_funcs(pylon_instance *inst) {
    const pl_module *m = inst->module;
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        pylon_func *f = &inst->own_funcs[i - m->nfunc_imports];
        f->inst = inst;
        f->code = m->code ? m->code[i - m->nfunc_imports] : NULL;
        f->index = i;
        f->sig = inst->type_sigs[m->func_types[i]];
        f->nparams = m->types[m->func_types[i]].nparams;
        f->nresults = m->types[m->func_types[i]].nresults;
        inst->funcs[i] = f;
    }
}

static int create_own_tables(pylon_instance *inst, uint32_t max_elems, pylon_error *err) {
    const pl_module *m = inst->module;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const pl_tabletype *t = &m->tables[i];
        uint32_t max = t->lim.has_max ? t->lim.max : UINT32_MAX;
        if (max_elems && max > max_elems) max = max_elems;
        if (t->lim.min > max) {
            set_error(err, PYLON_ERR_LIMIT, "table %u needs %u elements at start, over the limit of %u", i, t->lim.min, max);
            return -1;
        }
        inst->tables[i] = table_create(t->elem, t->lim.min, max, t->lim.has_max, t->lim.max);
        if (!inst->tables[i]) { set_error(err, PYLON_ERR_NOMEM, "out of host memory while instantiating"); return -1; }
    }
    return 0;
}

static pylon_instance *instance_alloc(pl_module *m) {
    pylon_instance *inst = calloc(1, sizeof *inst);
    if (!inst) return NULL;
    inst->refcount = 1;
    inst->module = m;
    m->refcount++;
    uint32_t ndef = m->nfuncs - m->nfunc_imports;
    inst->funcs = calloc(m->nfuncs + 1, sizeof *inst->funcs);
    inst->own_funcs = calloc(ndef + 1, sizeof *inst->own_funcs);
    inst->tables = calloc(m->ntables + 1, sizeof *inst->tables);
    inst->mems = calloc(m->nmems + 1, sizeof *inst->mems);
    inst->globals = calloc(m->nglobals + 1, sizeof *inst->globals);
    inst->type_sigs = calloc(m->ntypes + 1, sizeof *inst->type_sigs);
    inst->elem_vals = calloc(m->nelems + 1, sizeof *inst->elem_vals);
    inst->elem_lens = calloc(m->nelems + 1, sizeof *inst->elem_lens);
    inst->data_lens = calloc(m->ndatas + 1, sizeof *inst->data_lens);
    inst->deps = calloc(m->nimports + 1, sizeof *inst->deps);
    inst->table_weak = calloc(m->ntables + 1, sizeof *inst->table_weak);
    if (!inst->table_weak || !inst->funcs || !inst->own_funcs || !inst->tables || !inst->mems || !inst->globals ||
        !inst->type_sigs || !inst->elem_vals || !inst->elem_lens || !inst->data_lens || !inst->deps) {
        pylon_instance_free(inst);
        return NULL;
    }
    return inst;
}

pylon_instance *pylon_instantiate(pylon_module *pm, const pylon_imports *imp,
                                  const pylon_limits *limits, pylon_error *err,
                                  pylon_trap *trap) {
    pylon_error local_err;
    pylon_trap local_trap;
    if (!err) err = &local_err;
    if (!trap) trap = &local_trap;
    memset(err, 0, sizeof *err);
    trap->kind = PYLON_TRAP_NONE;
    if (!pm) { set_error(err, PYLON_ERR_ARG, "pylon_instantiate: module is NULL"); return NULL; }
    pl_module *m = &pm->m;
    pylon_limits lim = limits ? *limits : (pylon_limits){0};

    pylon_instance *inst = instance_alloc(m);
    if (!inst) { set_error(err, PYLON_ERR_NOMEM, "out of host memory"); return NULL; }
    inst->max_call_depth = lim.max_call_depth ? lim.max_call_depth : 50000;
    inst->fuel = lim.fuel ? (int64_t)(lim.fuel > INT64_MAX ? INT64_MAX : lim.fuel) : INT64_MAX;
    inst->fuel_limited = lim.fuel != 0;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        inst->type_sigs[i] = pl_sig_intern(m->types[i].sig);
        if (!inst->type_sigs[i]) goto nomem;
    }

    /* 1. imports */
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const pl_import *im = &m->imports[i];
        pylon_externkind kind;
        void *obj;
        pylon_instance *owner;
        if (imports_find(imp, im->module, im->name, &kind, &obj, &owner) != 0) {
            set_error(err, PYLON_ERR_UNLINKABLE, "unknown import \"%s\".\"%s\" (%s): define it before instantiating",
                      im->module, im->name, kind_name(im->kind));
            goto fail;
        }
        if (kind != im->kind) {
            set_error(err, PYLON_ERR_UNLINKABLE, "incompatible import type for \"%s\".\"%s\": expected a %s, got a %s",
                      im->module, im->name, kind_name(im->kind), kind_name(kind));
            goto fail;
        }
        switch (kind) {
        case PYLON_EXTERN_FUNC: {
            pylon_func *f = obj;
            const char *want = inst->type_sigs[im->u.typeidx];
            if (f->sig != want) {
                set_error(err, PYLON_ERR_UNLINKABLE, "incompatible import type for \"%s\".\"%s\": expected (%s), got (%s)",
                          im->module, im->name, want, f->sig);
                goto fail;
            }
            inst->funcs[fi++] = f;
            break;
        }
        case PYLON_EXTERN_TABLE: {
            pylon_table *t = obj;
            if (t->type != im->u.table.elem ||
                !limits_match(t->size, t->decl_max, t->has_max, &im->u.table.lim)) {
                set_error(err, PYLON_ERR_UNLINKABLE, "incompatible import type for table \"%s\".\"%s\"", im->module, im->name);
                goto fail;
            }
            inst->tables[ti++] = t;
            break;
        }
        case PYLON_EXTERN_MEMORY: {
            pylon_memory *mem = obj;
            if (!limits_match(mem->pages, mem->decl_max, mem->has_max, &im->u.mem)) {
                set_error(err, PYLON_ERR_UNLINKABLE, "incompatible import type for memory \"%s\".\"%s\"", im->module, im->name);
                goto fail;
            }
            inst->mems[mi++] = mem;
            break;
        }
        case PYLON_EXTERN_GLOBAL: {
            pylon_global *g = obj;
            if (g->type != im->u.global.type || g->mut != im->u.global.mut) {
                set_error(err, PYLON_ERR_UNLINKABLE, "incompatible import type for global \"%s\".\"%s\"", im->module, im->name);
                goto fail;
            }
            inst->globals[gi++] = g;
            break;
        }
        }
        extern_retain(kind, obj);
        if (kind == PYLON_EXTERN_FUNC && !((pylon_func *)obj)->is_host) {
            /* extern_retain took a reference on the owning instance */
            inst->deps[inst->ndeps++] = ((pylon_func *)obj)->inst;
        }
    }

    /* 2. own functions, memories, tables, globals */
    bind_own_funcs(inst);
    for (uint32_t i = m->nmem_imports; i < m->nmems; i++) {
        const pl_limits *l = &m->mems[i];
        uint32_t max = l->has_max ? l->max : 65536;
        if (lim.max_memory_pages && max > lim.max_memory_pages) max = lim.max_memory_pages;
        if (l->min > max) {
            set_error(err, PYLON_ERR_LIMIT, "memory %u needs %u pages at start, over the limit of %u pages; raise --max-memory",
                      i, l->min, max);
            goto fail;
        }
        inst->mems[i] = memory_create(l->min, max, l->has_max, l->max);
        if (!inst->mems[i]) goto nomem;
    }
    if (create_own_tables(inst, lim.max_table_elems, err) != 0) goto fail;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        inst->globals[i] = pylon_global_new((pylon_valtype)m->globals[i].type, m->globals[i].mut,
                                            eval_const(inst, &m->global_inits[i]));
        if (!inst->globals[i]) goto nomem;
    }

    /* AOT: the artifact applies the segments and runs the start function */
    if (m->aot) {
        if (pl_aot_instantiate(inst, false, trap) != 0) {
            set_error(err, PYLON_ERR_UNINSTANTIABLE, "instantiation trapped: %s", trap->message);
            goto fail;
        }
        return inst;
    }

    /* 3. segments: evaluate every element segment, then apply active ones */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const pl_elem *e = &m->elems[i];
        inst->elem_vals[i] = calloc(e->count + 1, sizeof(pylon_val));
        if (!inst->elem_vals[i]) goto nomem;
        for (uint32_t k = 0; k < e->count; k++) inst->elem_vals[i][k] = eval_const(inst, &e->items[k]);
        inst->elem_lens[i] = e->mode == PL_SEG_PASSIVE ? e->count : 0;
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        inst->data_lens[i] = m->datas[i].mode == PL_SEG_PASSIVE ? m->datas[i].len : 0;

    for (uint32_t i = 0; i < m->nelems; i++) {
        const pl_elem *e = &m->elems[i];
        if (e->mode != PL_SEG_ACTIVE) continue;
        pylon_table *t = inst->tables[e->table];
        uint64_t off = (uint32_t)eval_const(inst, &e->offset).i32;
        if (off + e->count > t->size) {
            set_error(err, PYLON_ERR_UNINSTANTIABLE, "out of bounds table access: element segment %u (%u items at %llu) does not fit table %u of %u",
                      i, e->count, (unsigned long long)off, e->table, t->size);
            pl_trap_set(trap, PYLON_TRAP_TABLE_OOB, "out of bounds table access");
            goto fail;
        }
        if (e->count) memcpy(t->elems + off, inst->elem_vals[i], e->count * sizeof(pylon_val));
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const pl_data *d = &m->datas[i];
        if (d->mode != PL_SEG_ACTIVE) continue;
        pylon_memory *mem = inst->mems[d->memory];
        uint64_t off = (uint32_t)eval_const(inst, &d->offset).i32;
        if (off + d->len > mem->size) {
            set_error(err, PYLON_ERR_UNINSTANTIABLE, "out of bounds memory access: data segment %u (%u bytes at %llu) does not fit memory of %llu bytes",
                      i, d->len, (unsigned long long)off, (unsigned long long)mem->size);
            pl_trap_set(trap, PYLON_TRAP_MEMORY_OOB, "out of bounds memory access");
            goto fail;
        }
        if (d->len) memcpy(mem->data + off, d->bytes, d->len);
    }

    /* 4. start */
    if (m->has_start) {
        if (pylon_call(inst->funcs[m->start], NULL, 0, NULL, 0, trap) != 0) {
            set_error(err, PYLON_ERR_UNINSTANTIABLE, "start function trapped: %s", trap->message);
            goto fail;
        }
    }
    return inst;

nomem:
    set_error(err, PYLON_ERR_NOMEM, "out of host memory while instantiating");
fail:
    pylon_instance_free(inst);
    return NULL;
}

/* 1 if every own table of `inst` holds exactly what instantiation put
 * there (same size, the active element segments and nothing else). */
static bool tables_as_instantiated(const pylon_instance *inst) {
    const pl_module *m = inst->module;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const pylon_table *t = inst->tables[i];
        if (t->size != m->tables[i].lim.min) return false;
        pylon_val *want = calloc(t->size + 1, sizeof *want);
        if (!want) return false;
        for (uint32_t k = 0; k < m->nelems; k++) {
            const pl_elem *e = &m->elems[k];
            if (e->mode != PL_SEG_ACTIVE || e->table != i || !inst->elem_vals[k]) continue;
            uint64_t off = (uint32_t)eval_const((pylon_instance *)inst, &e->offset).i32;
            if (off + e->count <= t->size) memcpy(want + off, inst->elem_vals[k], e->count * sizeof *want);
        }
        bool same = !t->size || memcmp(want, t->elems, t->size * sizeof *want) == 0;
        free(want);
        if (!same) return false;
    }
    return true;
}

pylon_instance *pylon_instance_retier(pylon_instance *old, pylon_module *pm, pylon_error *err) {
    pylon_error local_err;
    if (!err) err = &local_err;
    memset(err, 0, sizeof *err);
    pl_module *m = &pm->m;
    const pl_module *om = old->module;
    if (!m->aot || om->aot) {
        set_error(err, PYLON_ERR_ARG, "retier: expects an interpreted instance and an AOT module");
        return NULL;
    }
    if (m->ntypes != om->ntypes || m->nimports != om->nimports || m->nfuncs != om->nfuncs ||
        m->nfunc_imports != om->nfunc_imports || m->nmems != om->nmems || m->nglobals != om->nglobals ||
        m->ntables != om->ntables || m->nelems != om->nelems || m->ndatas != om->ndatas) {
        set_error(err, PYLON_ERR_ARG, "retier: the AOT module is not the instance's module");
        return NULL;
    }
    for (uint32_t i = 0; i < om->ndatas; i++)
        if (om->datas[i].mode == PL_SEG_PASSIVE && old->data_lens[i] != om->datas[i].len) {
            set_error(err, PYLON_ERR_UNSUPPORTED, "retier: data segment %u was dropped; that state does not carry over", i);
            return NULL;
        }
    for (uint32_t i = 0; i < om->nelems; i++)
        if (om->elems[i].mode == PL_SEG_PASSIVE && old->elem_lens[i] != om->elems[i].count) {
            set_error(err, PYLON_ERR_UNSUPPORTED, "retier: element segment %u was dropped; that state does not carry over", i);
            return NULL;
        }
    if (!tables_as_instantiated(old)) {
        set_error(err, PYLON_ERR_UNSUPPORTED, "retier: a table changed since instantiation; native code keeps its own tables");
        return NULL;
    }
    pylon_instance *inst = instance_alloc(m);
    if (!inst) { set_error(err, PYLON_ERR_NOMEM, "out of host memory"); return NULL; }
    inst->max_call_depth = old->max_call_depth;
    inst->fuel = old->fuel;
    inst->fuel_limited = old->fuel_limited;
    inst->on_interrupt = old->on_interrupt;
    inst->on_interrupt_user = old->on_interrupt_user;
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (!(inst->type_sigs[i] = pl_sig_intern(m->types[i].sig))) goto nomem;
    /* the same imports, memories and globals: the state carries over */
    for (uint32_t i = 0; i < m->nfunc_imports; i++) {
        inst->funcs[i] = old->funcs[i];
        extern_retain(PYLON_EXTERN_FUNC, old->funcs[i]);
        if (!old->funcs[i]->is_host) inst->deps[inst->ndeps++] = old->funcs[i]->inst;
    }
    for (uint32_t i = 0; i < m->nmems; i++) {
        inst->mems[i] = old->mems[i];
        extern_retain(PYLON_EXTERN_MEMORY, old->mems[i]);
    }
    for (uint32_t i = 0; i < m->nglobals; i++) {
        inst->globals[i] = old->globals[i];
        extern_retain(PYLON_EXTERN_GLOBAL, old->globals[i]);
    }
    bind_own_funcs(inst);
    /* own tables: native code keeps its own (rebuilt from the segments,
     * which is what the old ones still hold); these only mirror the
     * interpreter's layout */
    if (create_own_tables(inst, 0, err) != 0) { pylon_instance_free(inst); return NULL; }
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    if (pl_aot_instantiate(inst, true, &trap) != 0) {
        set_error(err, PYLON_ERR_UNINSTANTIABLE, "retier: %s", trap.message);
        pylon_instance_free(inst);
        return NULL;
    }
    return inst;
nomem:
    set_error(err, PYLON_ERR_NOMEM, "out of host memory");
    pylon_instance_free(inst);
    return NULL;
}

/* A table that outlives us may still hold our functions (an element
 * segment written into an imported table, even by a failed instantiation,
 * or a table.set).  Such a table adopts us: it holds a reference, and our
 * own reference to it becomes weak so the two never form a cycle.  Returns
 * true if any table adopted us. */
static bool adopt_into_tables(pylon_instance *inst) {
    bool adopted = false;
    pthread_mutex_lock(&table_reg_lock);
    for (pylon_table *t = table_reg; t; t = t->reg_next) {
        if (t->type != PYLON_FUNCREF) continue;
        int held = 0;
        for (uint32_t i = 0; inst->tables && i < inst->module->ntables; i++)
            if (inst->tables[i] == t && !inst->table_weak[i]) held++;
        if (t->refcount - held <= 0) continue; /* dies with us */
        bool ours = false;
        for (uint32_t k = 0; k < t->size && !ours; k++) {
            const pylon_func *f = t->elems[k].ref;
            ours = f && !f->is_host && f->inst == inst;
        }
        if (!ours) continue;
        pylon_instance **nk = realloc(t->keep, (t->nkeep + 1) * sizeof *nk);
        if (!nk) continue; /* cannot adopt: the table keeps a dangling entry
                            * only if it is called, and it is out of memory */
        t->keep = nk;
        t->keep[t->nkeep++] = inst;
        inst->refcount++;
        for (uint32_t i = 0; i < inst->module->ntables; i++)
            if (inst->tables[i] == t && !inst->table_weak[i]) { inst->table_weak[i] = true; t->refcount--; }
        adopted = true;
    }
    pthread_mutex_unlock(&table_reg_lock);
    return adopted;
}

void pylon_instance_free(pylon_instance *inst) {
    if (!inst || --inst->refcount > 0) return;
    if (inst->table_weak && adopt_into_tables(inst)) return;
    pl_aot_instance_free(inst);
    pl_module *m = inst->module;
    for (uint32_t i = 0; i < m->nfunc_imports && inst->funcs; i++) {
        pylon_func *f = inst->funcs[i];
        if (f && f->is_host) pylon_extern_release(PYLON_EXTERN_FUNC, f);
    }
    for (uint32_t i = 0; i < inst->ndeps; i++) pylon_instance_free(inst->deps[i]);
    for (uint32_t i = 0; i < m->nmems && inst->mems; i++) pylon_extern_release(PYLON_EXTERN_MEMORY, inst->mems[i]);
    for (uint32_t i = 0; i < m->ntables && inst->tables; i++)
        if (!inst->table_weak || !inst->table_weak[i]) pylon_extern_release(PYLON_EXTERN_TABLE, inst->tables[i]);
    for (uint32_t i = 0; i < m->nglobals && inst->globals; i++) pylon_extern_release(PYLON_EXTERN_GLOBAL, inst->globals[i]);
    for (uint32_t i = 0; i < m->nelems && inst->elem_vals; i++) free(inst->elem_vals[i]);
    free(inst->funcs);
    free(inst->own_funcs);
    free(inst->tables);
    free(inst->mems);
    free(inst->globals);
    free(inst->type_sigs);
    free(inst->elem_vals);
    free(inst->elem_lens);
    free(inst->data_lens);
    free(inst->deps);
    free(inst->table_weak);
    module_unref(m);
    free(inst);
}

const pylon_module *pylon_instance_module(const pylon_instance *inst) {
    return (const pylon_module *)inst->module;
}
void pylon_instance_set_user(pylon_instance *inst, void *user) { inst->user = user; }
void *pylon_instance_user(const pylon_instance *inst) { return inst->user; }

int pylon_instance_export(pylon_instance *inst, const char *name, void **obj) {
    return pylon_instance_export_bytes(inst, name, strlen(name), obj);
}

int pylon_instance_export_bytes(pylon_instance *inst, const char *name, size_t len, void **obj) {
    const pl_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const pl_export *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len) != 0) continue;
        switch (e->kind) {
        case PYLON_EXTERN_FUNC: *obj = inst->funcs[e->index]; break;
        case PYLON_EXTERN_TABLE: *obj = inst->tables[e->index]; break;
        case PYLON_EXTERN_MEMORY: *obj = inst->mems[e->index]; break;
        case PYLON_EXTERN_GLOBAL: *obj = inst->globals[e->index]; break;
        }
        return (int)e->kind;
    }
    return -1;
}

static void *export_of_kind(pylon_instance *inst, const char *name, pylon_externkind kind) {
    void *obj;
    return pylon_instance_export(inst, name, &obj) == (int)kind ? obj : NULL;
}
pylon_func *pylon_instance_func(pylon_instance *inst, const char *name) { return export_of_kind(inst, name, PYLON_EXTERN_FUNC); }
pylon_memory *pylon_instance_memory(pylon_instance *inst, const char *name) { return export_of_kind(inst, name, PYLON_EXTERN_MEMORY); }
pylon_table *pylon_instance_table(pylon_instance *inst, const char *name) { return export_of_kind(inst, name, PYLON_EXTERN_TABLE); }
pylon_global *pylon_instance_global(pylon_instance *inst, const char *name) { return export_of_kind(inst, name, PYLON_EXTERN_GLOBAL); }

const char *pylon_instance_func_name(const pylon_instance *inst, uint32_t func) {
    const pl_module *m = inst->module;
    if (!m->func_names || func >= m->nfuncs) return NULL;
    return m->func_names[func];
}

void pylon_instance_set_fuel(pylon_instance *inst, uint64_t fuel) {
    inst->fuel_limited = fuel != 0;
    inst->fuel = fuel ? (int64_t)(fuel > INT64_MAX ? INT64_MAX : fuel) : INT64_MAX;
}
uint64_t pylon_instance_fuel(const pylon_instance *inst) {
    return inst->fuel_limited ? (uint64_t)(inst->fuel < 0 ? 0 : inst->fuel) : 0;
}
void pylon_instance_interrupt(pylon_instance *inst) {
    atomic_store(&inst->interrupt, 1);
    if (inst->aot_inst) pl_aot_interrupt(inst); /* native code has no safepoints */
}
void pylon_instance_stop(pylon_instance *inst) {
    atomic_store(&inst->stop, 1);
    pylon_instance_interrupt(inst);
}
void pylon_instance_set_interrupt_handler(pylon_instance *inst, pylon_interrupt_fn fn, void *user) {
    inst->on_interrupt = fn;
    inst->on_interrupt_user = user;
}

/* ---- calls ------------------------------------------------------------------------- */

const char *pylon_func_signature(const pylon_func *f) { return f->sig; }

int pylon_call(pylon_func *f, const pylon_val *args, size_t nargs,
               pylon_val *results, size_t nresults, pylon_trap *trap) {
    pylon_trap local;
    if (!trap) trap = &local;
    trap->kind = PYLON_TRAP_NONE;
    trap->nframes = 0;
    trap->message[0] = 0;
    if (f && !f->native && !f->code) {
        pl_trap_set(trap, PYLON_TRAP_HOST, "function %u is not exported by its AOT module and cannot be called from outside",
                    f->index);
        return -1;
    }
    if (!f || nargs != f->nparams || nresults != f->nresults) {
        pl_trap_set(trap, PYLON_TRAP_HOST, "pylon_call: %u arguments and %u results expected for (%s)",
                    f ? f->nparams : 0, f ? f->nresults : 0, f ? f->sig : "?");
        return -1;
    }
    pl_exec *ex = pl_exec_get();
    if (!ex) { pl_trap_set(trap, PYLON_TRAP_HOST, "out of host memory for the call stack"); return -1; }
    uint32_t n = f->nparams > f->nresults ? f->nparams : f->nresults;
    pylon_val *base = ex->sp;
    if (base + n + 1 > ex->stack_end || ex->nest >= 200) {
        pl_trap_set(trap, PYLON_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        return -1;
    }
    if (nargs) memcpy(base, args, nargs * sizeof(pylon_val));
    uint32_t saved_limit = ex->frame_limit;
    int rc;
    ex->nest++;
    if (f->native) {
        rc = pl_call_host(ex, f, NULL, base, trap);
    } else {
        uint64_t lim = (uint64_t)ex->nframes + f->inst->max_call_depth;
        if (lim < ex->frame_limit) ex->frame_limit = (uint32_t)lim;
        rc = pl_interp_call(ex, f, base, trap);
    }
    ex->nest--;
    ex->frame_limit = saved_limit;
    ex->sp = base;
    if (rc == 0 && nresults) memcpy(results, base, nresults * sizeof(pylon_val));
    return rc;
}

/* ---- host function context ----------------------------------------------------------- */

pylon_instance *pylon_caller_instance(pylon_caller *c) { return c->inst; }

pylon_memory *pylon_caller_memory(pylon_caller *c) {
    if (!c->inst) return NULL;
    pylon_memory *m = pylon_instance_memory(c->inst, "memory");
    if (m) return m;
    return c->inst->module->nmems ? c->inst->mems[0] : NULL;
}

int pylon_caller_trap(pylon_caller *c, const char *fmt, ...) {
    if (c->trap) {
        c->trap->kind = PYLON_TRAP_HOST;
        c->trap->nframes = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->trap->message, sizeof c->trap->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int pylon_caller_exit(pylon_caller *c, int code) {
    if (c->trap) {
        c->trap->kind = PYLON_TRAP_EXIT;
        c->trap->exit_code = code;
        c->trap->nframes = 0;
        snprintf(c->trap->message, sizeof c->trap->message, "exit with code %d", code);
    }
    return -1;
}

size_t pylon_trap_backtrace(const pylon_trap *trap, char *buf, size_t cap) {
    size_t n = 0;
    if (cap) buf[0] = 0;
    for (uint32_t i = 0; i < trap->nframes && n < cap; i++) {
        const pylon_trap_frame *f = &trap->frames[i];
        const char *name = f->instance ? pylon_instance_func_name(f->instance, f->func) : NULL;
        int w = name ? snprintf(buf + n, cap - n, "  #%u %s (func %u)\n", i, name, f->func)
                     : snprintf(buf + n, cap - n, "  #%u func %u\n", i, f->func);
        if (w < 0) break;
        n += (size_t)w;
    }
    return n < cap ? n : cap;
}

/* ---- memory, tables, globals ------------------------------------------------------------ */

uint8_t *pylon_memory_data(pylon_memory *m) { return m->data; }
uint64_t pylon_memory_size(const pylon_memory *m) { return m->size; }
uint32_t pylon_memory_pages(const pylon_memory *m) { return m->pages; }

void *pylon_memory_ptr(pylon_memory *m, uint64_t addr, uint64_t len) {
    if (!m || addr > m->size || len > m->size - addr) return NULL;
    return m->data + addr;
}
int pylon_memory_read(pylon_memory *m, uint64_t addr, void *dst, size_t len) {
    void *p = pylon_memory_ptr(m, addr, len);
    if (!p) return -1;
    memcpy(dst, p, len);
    return 0;
}
int pylon_memory_write(pylon_memory *m, uint64_t addr, const void *src, size_t len) {
    void *p = pylon_memory_ptr(m, addr, len);
    if (!p) return -1;
    memcpy(p, src, len);
    return 0;
}
int64_t pylon_memory_grow(pylon_memory *m, uint32_t delta) { return pl_memory_grow(m, delta); }

uint32_t pylon_table_size(const pylon_table *t) { return t->size; }
pylon_valtype pylon_table_type(const pylon_table *t) { return (pylon_valtype)t->type; }
int pylon_table_get(const pylon_table *t, uint32_t i, pylon_val *out) {
    if (i >= t->size) return -1;
    *out = t->elems[i];
    return 0;
}
int pylon_table_set(pylon_table *t, uint32_t i, pylon_val v) {
    if (i >= t->size) return -1;
    t->elems[i] = v;
    return 0;
}

pylon_valtype pylon_global_type(const pylon_global *g) { return (pylon_valtype)g->type; }
int pylon_global_mutable(const pylon_global *g) { return g->mut; }
pylon_val pylon_global_get(const pylon_global *g) { return g->val; }
int pylon_global_set(pylon_global *g, pylon_val v) {
    if (!g->mut) return -1;
    g->val = v;
    return 0;
}
