/*
 * cmd_wast.c — `pylon wast FILE.wast`: runs a WebAssembly spec test script.
 *
 * The official testsuite is the engine's acceptance test.  Pylon reads
 * binary modules only, so the script's text is handed to Debian's
 * `wast2json` (wabt), which writes every module as a .wasm file plus a JSON
 * list of commands; this file executes those commands through the public
 * engine.h API alone, exactly as any embedder would.  Going through the
 * public API is the point: a runner that reached into engine internals
 * would test something other than what embedders get.
 *
 * Every command is counted: a module that instantiates, a registration, an
 * action and each assertion pass or fail.  Nothing is skipped unless
 * tests/spec-exclusions.txt lists it (by file:line or by category), so a
 * skip can never hide silently.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pylon/engine.h"
#include "util/json.h"

/* ---- exclusions ---------------------------------------------------------- */

/* The categories the runner knows how to recognise by itself. */
#define CATEGORY_TEXT_MODULE "text-module"
/* --engine aot: a module the AOT tier refuses runs on the interpreter (so
 * later modules can still link to it), and every command using it is
 * skipped under this category, which the exclusion file must list. */
#define CATEGORY_AOT_UNSUPPORTED "aot-unsupported"

typedef struct exclusion {
    char *file;      /* basename of the .wast, for file:line entries */
    unsigned line;   /* 0 for a category rule */
    char *category;  /* NULL for a file:line entry */
    bool aot_only;   /* "aot:FILE.wast:LINE": applies under --engine aot only */
    char *reason;
} exclusion;

typedef struct exclusions {
    char *path;      /* where they were read from, NULL if none */
    exclusion *items;
    size_t n;
} exclusions;

static void exclusions_free(exclusions *ex) {
    for (size_t i = 0; i < ex->n; i++) {
        free(ex->items[i].file);
        free(ex->items[i].category);
        free(ex->items[i].reason);
    }
    free(ex->items);
    free(ex->path);
}

/* Reads the exclusion file; returns 0, or -1 after printing what is wrong
 * with it (a broken exclusion file must stop the run: guessing could skip
 * more than intended). */
static int exclusions_load(exclusions *ex, const char *path) {
    size_t len;
    char *text = (char *)pylon_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "pylon wast: cannot read the exclusion file %s: %s\n", path, strerror(errno));
        return -1;
    }
    ex->path = strdup(path);
    unsigned lineno = 0;
    int rc = 0;
    char *p = text, *end = text + len;
    while (p < end && rc == 0) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        lineno++;
        char *line = p;
        p = nl ? nl + 1 : end;
        while (line < eol && (*line == ' ' || *line == '\t')) line++;
        char *stop = eol;
        while (stop > line && (stop[-1] == ' ' || stop[-1] == '\t' || stop[-1] == '\r')) stop--;
        if (line == stop || *line == '#') continue;
        char *key_end = line;
        while (key_end < stop && *key_end != ' ' && *key_end != '\t') key_end++;
        char *reason = key_end;
        while (reason < stop && (*reason == ' ' || *reason == '\t')) reason++;
        exclusion e = {0};
        if (key_end - line > 4 && !memcmp(line, "aot:", 4)) { e.aot_only = true; line += 4; }
        if (reason == stop) {
            fprintf(stderr, "%s:%u: an exclusion needs a reason after the item "
                    "(format: 'FILE.wast:LINE  reason' or 'category:NAME  reason')\n", path, lineno);
            rc = -1;
            break;
        }
        e.reason = strndup(reason, (size_t)(stop - reason));
        size_t klen = (size_t)(key_end - line);
        char *colon = memchr(line, ':', klen);
        if (!colon) {
            fprintf(stderr, "%s:%u: '%.*s' is neither 'FILE.wast:LINE' nor 'category:NAME'\n", path,
                    lineno, (int)klen, line);
            free(e.reason);
            rc = -1;
            break;
        }
        if ((size_t)(colon - line) == 8 && !memcmp(line, "category", 8)) {
            e.category = strndup(colon + 1, (size_t)(key_end - colon - 1));
            if (strcmp(e.category, CATEGORY_TEXT_MODULE) != 0 && strcmp(e.category, CATEGORY_AOT_UNSUPPORTED) != 0) {
                fprintf(stderr, "%s:%u: unknown category '%s' (the runner knows: %s, %s)\n", path, lineno,
                        e.category, CATEGORY_TEXT_MODULE, CATEGORY_AOT_UNSUPPORTED);
                free(e.category);
                free(e.reason);
                rc = -1;
                break;
            }
        } else {
            char *num_end;
            errno = 0;
            unsigned long n = strtoul(colon + 1, &num_end, 10);
            if (colon + 1 == key_end || num_end != key_end || n == 0 || n > UINT_MAX || errno) {
                fprintf(stderr, "%s:%u: '%.*s' needs a positive line number after the ':'\n", path,
                        lineno, (int)klen, line);
                free(e.reason);
                rc = -1;
                break;
            }
            e.file = strndup(line, (size_t)(colon - line));
            e.line = (unsigned)n;
        }
        exclusion *items = realloc(ex->items, (ex->n + 1) * sizeof *items);
        if (!items) { rc = -1; break; }
        ex->items = items;
        ex->items[ex->n++] = e;
    }
    free(text);
    return rc;
}

static const exclusion *excluded_line(const exclusions *ex, const char *file, unsigned line, bool aot) {
    for (size_t i = 0; i < ex->n; i++)
        if (ex->items[i].file && ex->items[i].line == line && !strcmp(ex->items[i].file, file) &&
            (aot || !ex->items[i].aot_only))
            return &ex->items[i];
    return NULL;
}

static const exclusion *excluded_category(const exclusions *ex, const char *category) {
    for (size_t i = 0; i < ex->n; i++)
        if (ex->items[i].category && !strcmp(ex->items[i].category, category)) return &ex->items[i];
    return NULL;
}

/* ---- the runner's state ---------------------------------------------------- */

typedef struct named_instance {
    char *name;             /* "$M" from the script, or NULL */
    pylon_instance *inst;
} named_instance;

/* A module file read ahead of the run (see preload). */
typedef struct blob {
    const char *name;       /* borrowed from the JSON document */
    uint8_t *bytes;
    size_t len;
} blob;

typedef struct wast {
    const char *file;       /* the .wast's basename, for messages */
    char *dir;              /* directory of the JSON and its .wasm files */
    blob *blobs;            /* when preloaded, every module file, and */
    size_t nblobs;
    bool preloaded;         /* then nothing is read from dir any more */
    bool verbose;
    const exclusions *ex;
    pylon_imports *imports;
    named_instance *insts;
    size_t ninsts;
    pylon_instance *current;     /* the last module defined; NULL if it failed */
    unsigned current_line;       /* where that module was defined */
    unsigned passed, failed, skipped;
    bool aot;                    /* --engine aot */
    bool last_fallback;          /* load_file ran its module on the interpreter */
    pylon_instance **fallback;   /* instances of such modules */
    size_t nfallback;
    unsigned aot_modules, aot_refused;
    unsigned line;               /* of the command being run */
    const char *cmd;             /* its type */
} wast;

static void fail(wast *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(wast *w, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s:%u: %s: ", w->file, w->line, w->cmd);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    w->failed++;
}

static void skip(wast *w, const char *reason) {
    w->skipped++;
    if (w->verbose) printf("%s:%u: %s: skipped: %s\n", w->file, w->line, w->cmd, reason);
}

static const char *error_kind_name(pylon_error_kind k) {
    switch (k) {
    case PYLON_OK: return "ok";
    case PYLON_ERR_MALFORMED: return "malformed";
    case PYLON_ERR_INVALID: return "invalid";
    case PYLON_ERR_UNSUPPORTED: return "unsupported";
    case PYLON_ERR_UNLINKABLE: return "unlinkable";
    case PYLON_ERR_UNINSTANTIABLE: return "uninstantiable";
    case PYLON_ERR_LIMIT: return "limit";
    case PYLON_ERR_NOMEM: return "out of memory";
    case PYLON_ERR_ARG: return "bad API argument";
    }
    return "unknown error kind";
}

static const char *trap_kind_name(pylon_trap_kind k) {
    switch (k) {
    case PYLON_TRAP_NONE: return "no trap";
    case PYLON_TRAP_UNREACHABLE: return "unreachable";
    case PYLON_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case PYLON_TRAP_TABLE_OOB: return "out of bounds table access";
    case PYLON_TRAP_INT_OVERFLOW: return "integer overflow";
    case PYLON_TRAP_INT_DIV_ZERO: return "integer divide by zero";
    case PYLON_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case PYLON_TRAP_INDIRECT_NULL: return "uninitialized element";
    case PYLON_TRAP_INDIRECT_TYPE: return "indirect call type mismatch";
    case PYLON_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case PYLON_TRAP_FUEL_EXHAUSTED: return "fuel exhausted";
    case PYLON_TRAP_INTERRUPTED: return "interrupted";
    case PYLON_TRAP_HOST: return "host function error";
    case PYLON_TRAP_EXIT: return "exit";
    }
    return "unknown trap kind";
}

/* Which trap kinds satisfy the testsuite's expected message.  Messages the
 * table does not know accept any trap (printed with -v), so a newer
 * testsuite degrades to the weaker check instead of failing outright. */
static bool trap_matches(pylon_trap_kind k, const char *text, bool *known) {
    static const struct { const char *prefix; pylon_trap_kind a, b; } map[] = {
        {"unreachable", PYLON_TRAP_UNREACHABLE, PYLON_TRAP_UNREACHABLE},
        {"out of bounds memory access", PYLON_TRAP_MEMORY_OOB, PYLON_TRAP_MEMORY_OOB},
        {"out of bounds table access", PYLON_TRAP_TABLE_OOB, PYLON_TRAP_TABLE_OOB},
        /* call_indirect past the table's end */
        {"undefined element", PYLON_TRAP_TABLE_OOB, PYLON_TRAP_TABLE_OOB},
        {"uninitialized element", PYLON_TRAP_INDIRECT_NULL, PYLON_TRAP_INDIRECT_NULL},
        {"indirect call type mismatch", PYLON_TRAP_INDIRECT_TYPE, PYLON_TRAP_INDIRECT_TYPE},
        {"integer overflow", PYLON_TRAP_INT_OVERFLOW, PYLON_TRAP_INT_OVERFLOW},
        {"integer divide by zero", PYLON_TRAP_INT_DIV_ZERO, PYLON_TRAP_INT_DIV_ZERO},
        {"invalid conversion to integer", PYLON_TRAP_INVALID_CONVERSION, PYLON_TRAP_INVALID_CONVERSION},
        {"call stack exhausted", PYLON_TRAP_STACK_EXHAUSTED, PYLON_TRAP_STACK_EXHAUSTED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strncmp(text, map[i].prefix, strlen(map[i].prefix))) {
            *known = true;
            return k == map[i].a || k == map[i].b;
        }
    *known = false;
    return k != PYLON_TRAP_NONE;
}


/* ---- the spectest module ---------------------------------------------------- */

static bool spectest_verbose;

typedef struct spectest_fn {
    const char *name, *sig;
} spectest_fn;

static const spectest_fn spectest_fns[] = {
    {"print", ":"},          {"print_i32", "i:"},      {"print_i64", "I:"},
    {"print_f32", "f:"},     {"print_f64", "F:"},      {"print_i32_f32", "if:"},
    {"print_f64_f64", "FF:"},
};

static int spectest_print(pylon_caller *caller, void *user, const pylon_val *args, pylon_val *results) {
    const spectest_fn *fn = user;
    if (!spectest_verbose) return 0;
    printf("spectest.%s(", fn->name);
    for (const char *s = fn->sig; *s && *s != ':'; s++) {
        const pylon_val *a = &args[s - fn->sig];
        if (s != fn->sig) printf(", ");
        switch (*s) {
        case 'i': printf("%" PRId32 " : i32", a->i32); break;
        case 'I': printf("%" PRId64 " : i64", a->i64); break;
        case 'f': printf("%.9g : f32", (double)a->f32); break;
        case 'F': printf("%.17g : f64", a->f64); break;
        }
    }
    printf(")\n");
    return 0;
}

static int add_spectest(pylon_imports *imp) {
    for (size_t i = 0; i < sizeof spectest_fns / sizeof spectest_fns[0]; i++)
        if (pylon_imports_add_func(imp, "spectest", spectest_fns[i].name, spectest_fns[i].sig,
                                   spectest_print, (void *)&spectest_fns[i]) != 0)
            return -1;
    struct { const char *name; pylon_valtype t; pylon_val v; } globals[4];
    globals[0].name = "global_i32"; globals[0].t = PYLON_I32; globals[0].v.bits = 0; globals[0].v.i32 = 666;
    globals[1].name = "global_i64"; globals[1].t = PYLON_I64; globals[1].v.bits = 0; globals[1].v.i64 = 666;
    globals[2].name = "global_f32"; globals[2].t = PYLON_F32; globals[2].v.bits = 0; globals[2].v.f32 = 666.6f;
    globals[3].name = "global_f64"; globals[3].t = PYLON_F64; globals[3].v.bits = 0; globals[3].v.f64 = 666.6;
    for (int i = 0; i < 4; i++) {
        pylon_global *g = pylon_global_new(globals[i].t, 0, globals[i].v);
        if (!g) return -1;
        int rc = pylon_imports_add(imp, "spectest", globals[i].name, PYLON_EXTERN_GLOBAL, g);
        pylon_extern_release(PYLON_EXTERN_GLOBAL, g);
        if (rc != 0) return -1;
    }
    pylon_table *t = pylon_table_new(PYLON_FUNCREF, 10, 20);
    if (!t) return -1;
    int rc = pylon_imports_add(imp, "spectest", "table", PYLON_EXTERN_TABLE, t);
    pylon_extern_release(PYLON_EXTERN_TABLE, t);
    if (rc != 0) return -1;
    pylon_memory *m = pylon_memory_new(1, 2);
    if (!m) return -1;
    rc = pylon_imports_add(imp, "spectest", "memory", PYLON_EXTERN_MEMORY, m);
    pylon_extern_release(PYLON_EXTERN_MEMORY, m);
    return rc != 0 ? -1 : 0;
}

/* ---- values -------------------------------------------------------------------- */

/* The signature letter of a wast2json type name; 'v' for v128, 0 if unknown. */
static char type_letter(const char *t) {
    if (!t) return 0;
    if (!strcmp(t, "i32")) return 'i';
    if (!strcmp(t, "i64")) return 'I';
    if (!strcmp(t, "f32")) return 'f';
    if (!strcmp(t, "f64")) return 'F';
    if (!strcmp(t, "funcref")) return 'r';
    if (!strcmp(t, "externref")) return 'e';
    if (!strcmp(t, "v128")) return 'v';
    return 0;
}



/* wast2json writes numbers as unsigned decimal strings of their bits. */
static bool parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* An externref N from the script travels as the non-null pointer N+1, so
 * that N = 0 is not confused with the null reference. */
static void *extern_ref(uint64_t n) { return (void *)(uintptr_t)(n + 1); }

static uint64_t val_bits(char letter, pylon_val v) {
    uint32_t u32;
    uint64_t u64;
    switch (letter) {
    case 'i': return (uint32_t)v.i32;
    case 'I': return (uint64_t)v.i64;
    case 'f': memcpy(&u32, &v.f32, 4); return u32;
    case 'F': memcpy(&u64, &v.f64, 8); return u64;
    default: return (uint64_t)(uintptr_t)v.ref;
    }
}

static pylon_val bits_val(char letter, uint64_t bits) {
    pylon_val v;
    v.bits = 0;
    uint32_t u32 = (uint32_t)bits;
    switch (letter) {
    case 'i': v.i32 = (int32_t)u32; break;
    case 'I': v.i64 = (int64_t)bits; break;
    case 'f': memcpy(&v.f32, &u32, 4); break;
    case 'F': memcpy(&v.f64, &bits, 8); break;
    default: v.ref = (void *)(uintptr_t)bits; break;
    }
    return v;
}

static const char *fmt_val(char letter, pylon_val v, char *buf, size_t cap) {
    uint64_t b = val_bits(letter, v);
    switch (letter) {
    case 'i': snprintf(buf, cap, "i32:%" PRIu32, (uint32_t)b); break;
    case 'I': snprintf(buf, cap, "i64:%" PRIu64, b); break;
    case 'f': {
        float f;
        uint32_t u = (uint32_t)b;
        memcpy(&f, &u, 4);
        if (f != f) snprintf(buf, cap, "f32:nan(0x%08" PRIx32 ")", u);
        else snprintf(buf, cap, "f32:%.9g(0x%08" PRIx32 ")", (double)f, u);
        break;
    }
    case 'F': {
        double d;
        memcpy(&d, &b, 8);
        if (d != d) snprintf(buf, cap, "f64:nan(0x%016" PRIx64 ")", b);
        else snprintf(buf, cap, "f64:%.17g(0x%016" PRIx64 ")", d, b);
        break;
    }
    case 'r':
        if (!b) snprintf(buf, cap, "funcref:null");
        else snprintf(buf, cap, "funcref:%p", v.ref);
        break;
    case 'e':
        if (!b) snprintf(buf, cap, "externref:null");
        else if (b <= 1u << 20) snprintf(buf, cap, "externref:%" PRIu64, b - 1);
        else snprintf(buf, cap, "externref:%p", v.ref);
        break;
    default: snprintf(buf, cap, "%s:?", pylon_valtype_name(pylon_letter_valtype(letter))); break;
    }
    return buf;
}

/* One expected result of assert_return. */
typedef struct expected {
    char letter;
    enum { EX_BITS, EX_ANY, EX_NAN_CANONICAL, EX_NAN_ARITHMETIC, EX_NONNULL } how;
    uint64_t bits;
} expected;

/* Parses an argument ({"type": "i32", "value": "5"}) into *out; on error
 * writes why into msg. */
static bool parse_arg(const pl_json *a, char *letter, pylon_val *out, char *msg, size_t cap) {
    const char *type = pl_json_string(pl_json_get(a, "type"));
    const char *value = pl_json_string(pl_json_get(a, "value"));
    *letter = type_letter(type);
    if (!*letter) { snprintf(msg, cap, "argument of unknown type '%s'", type ? type : "(missing)"); return false; }
    if (*letter == 'v') { snprintf(msg, cap, "v128 argument: SIMD is not supported by Pylon"); return false; }
    if (!value) { snprintf(msg, cap, "%s argument without a value", type); return false; }
    uint64_t bits;
    if (*letter == 'r' || *letter == 'e') {
        if (!strcmp(value, "null")) { *out = bits_val(*letter, 0); return true; }
        if (*letter == 'r') { snprintf(msg, cap, "non-null funcref argument '%s' cannot be made by a host", value); return false; }
        if (!parse_u64(value, &bits) || bits >= UINTPTR_MAX) { snprintf(msg, cap, "bad externref value '%s'", value); return false; }
        out->bits = 0;
        out->ref = extern_ref(bits);
        return true;
    }
    if (!parse_u64(value, &bits) || ((*letter == 'i' || *letter == 'f') && bits > UINT32_MAX)) {
        snprintf(msg, cap, "bad %s value '%s' (expected the unsigned decimal of its bits)", type, value);
        return false;
    }
    *out = bits_val(*letter, bits);
    return true;
}

static bool parse_expected(const pl_json *a, expected *e, char *msg, size_t cap) {
    const char *type = pl_json_string(pl_json_get(a, "type"));
    const pl_json *jv = pl_json_get(a, "value");
    const char *value = pl_json_string(jv);
    memset(e, 0, sizeof *e);
    e->letter = type_letter(type);
    if (!e->letter) { snprintf(msg, cap, "expected value of unknown type '%s'", type ? type : "(missing)"); return false; }
    if (e->letter == 'v') { snprintf(msg, cap, "v128 result: SIMD is not supported by Pylon"); return false; }
    if (!jv) { e->how = EX_ANY; return true; }
    if (!value) { snprintf(msg, cap, "expected %s value is not a string", type); return false; }
    if (e->letter == 'f' || e->letter == 'F') {
        if (!strcmp(value, "nan:canonical")) { e->how = EX_NAN_CANONICAL; return true; }
        if (!strcmp(value, "nan:arithmetic")) { e->how = EX_NAN_ARITHMETIC; return true; }
    }
    if (e->letter == 'r' || e->letter == 'e') {
        if (!strcmp(value, "null")) { e->how = EX_BITS; e->bits = 0; return true; }
        if (e->letter == 'r') { e->how = EX_NONNULL; return true; }
        uint64_t n;
        if (!parse_u64(value, &n) || n >= UINTPTR_MAX) { snprintf(msg, cap, "bad externref value '%s'", value); return false; }
        e->how = EX_BITS;
        e->bits = (uint64_t)(uintptr_t)extern_ref(n);
        return true;
    }
    if (!parse_u64(value, &e->bits) || ((e->letter == 'i' || e->letter == 'f') && e->bits > UINT32_MAX)) {
        snprintf(msg, cap, "bad %s value '%s'", type, value);
        return false;
    }
    e->how = EX_BITS;
    return true;
}

static bool expected_matches(const expected *e, char letter, pylon_val v) {
    if (letter != e->letter) return false;
    uint64_t b = val_bits(letter, v);
    switch (e->how) {
    case EX_ANY: return true;
    case EX_BITS: return b == e->bits;
    case EX_NONNULL: return b != 0;
    case EX_NAN_CANONICAL:
        return letter == 'f' ? (b & 0x7fffffffu) == 0x7fc00000u
                             : (b & 0x7fffffffffffffffu) == 0x7ff8000000000000u;
    case EX_NAN_ARITHMETIC:
        return letter == 'f' ? (b & 0x7fc00000u) == 0x7fc00000u
                             : (b & 0x7ff8000000000000u) == 0x7ff8000000000000u;
    }
    return false;
}

static const char *fmt_expected(const expected *e, char *buf, size_t cap) {
    switch (e->how) {
    case EX_ANY: snprintf(buf, cap, "%s:any", pylon_valtype_name(pylon_letter_valtype(e->letter))); break;
    case EX_NONNULL: snprintf(buf, cap, "%s:non-null", pylon_valtype_name(pylon_letter_valtype(e->letter))); break;
    case EX_NAN_CANONICAL: snprintf(buf, cap, "%s:nan:canonical", pylon_valtype_name(pylon_letter_valtype(e->letter))); break;
    case EX_NAN_ARITHMETIC: snprintf(buf, cap, "%s:nan:arithmetic", pylon_valtype_name(pylon_letter_valtype(e->letter))); break;
    case EX_BITS: fmt_val(e->letter, bits_val(e->letter, e->bits), buf, cap); break;
    }
    return buf;
}

/* ---- modules and actions ---------------------------------------------------------- */

static pylon_instance *find_instance(wast *w, const char *name) {
    if (!name) return w->current;
    for (size_t i = w->ninsts; i-- > 0;)
        if (w->insts[i].name && !strcmp(w->insts[i].name, name)) return w->insts[i].inst;
    return NULL;
}

/* Loads module bytes on the engine of the run.  With --engine aot the
 * module is compiled (artifacts are cached by digest, so reruns are quick);
 * if the AOT tier refuses it, the interpreter's module is returned and
 * w->last_fallback is set. */
static pylon_module *load_bytes(wast *w, const uint8_t *b, size_t len, pylon_error *err) {
    w->last_fallback = false;
    pylon_module *m = pylon_module_load(b, len, err);
    if (!m || !w->aot) return m;
    pylon_error e2;
    pylon_module *am = pylon_module_load_tier(b, len, PYLON_TIER_AOT, NULL, NULL, NULL, &e2);
    /* Only what the tier declares unsupported may fall back quietly; any
     * other failure to build an artifact (I/O, the toolchain, a bug) fails. */
    if (!am && e2.kind != PYLON_ERR_UNSUPPORTED)
        fail(w, "the AOT tier failed on this module: %s", e2.message);
    w->aot_modules++;
    if (am) { pylon_module_free(m); return am; }
    w->aot_refused++;
    w->last_fallback = true;
    if (w->verbose) printf("%s:%u: runs on the interpreter: %s\n", w->file, w->line, e2.message);
    return m;
}

static bool is_fallback(const wast *w, const pylon_instance *inst) {
    for (size_t i = 0; i < w->nfallback; i++) if (w->fallback[i] == inst) return true;
    return false;
}

static void skip_category(wast *w, const char *category) {
    const exclusion *ex = excluded_category(w->ex, category);
    if (ex) skip(w, ex->reason);
    else fail(w, "skipping this needs category:%s in the exclusion file, which does not list it", category);
}

static void skip_aot(wast *w) { skip_category(w, CATEGORY_AOT_UNSUPPORTED); }

/* Reads and loads a .wasm file named by the command.  On failure to even
 * read it, reports and returns NULL with err->kind = PYLON_OK. */
static pylon_module *load_file(wast *w, const char *filename, pylon_error *err) {
    memset(err, 0, sizeof *err);
    if (!filename) { fail(w, "command has no \"filename\" (is the JSON from wast2json?)"); return NULL; }
    if (w->preloaded) {
        for (size_t i = 0; i < w->nblobs; i++)
            if (!strcmp(w->blobs[i].name, filename)) {
                pylon_module *m = load_bytes(w, w->blobs[i].bytes, w->blobs[i].len, err);
                if (!m && err->kind == PYLON_OK) err->kind = PYLON_ERR_ARG;
                return m;
            }
        fail(w, "wast2json wrote no readable file %s", filename);
        return NULL;
    }
    size_t plen = strlen(w->dir) + strlen(filename) + 2;
    char *path = malloc(plen);
    if (!path) { fail(w, "out of memory"); return NULL; }
    snprintf(path, plen, "%s/%s", w->dir, filename);
    size_t len;
    uint8_t *bytes = pylon_read_file(path, &len);
    if (!bytes) {
        fail(w, "cannot read %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    free(path);
    pylon_module *m = load_bytes(w, bytes, len, err);
    free(bytes);
    if (!m && err->kind == PYLON_OK) err->kind = PYLON_ERR_ARG; /* never report "ok" for a failure */
    return m;
}

static bool is_text_module(const pl_json *cmd) {
    const char *mt = pl_json_string(pl_json_get(cmd, "module_type"));
    return mt && !strcmp(mt, "text");
}

typedef enum { ACT_OK, ACT_TRAP, ACT_ERROR } act_status;

typedef struct action_out {
    size_t n;              /* number of results */
    char letters[64];      /* of the results, when n <= 64 */
    pylon_val *vals;       /* n entries, malloc'd */
    pylon_trap trap;
    char msg[320];         /* for ACT_ERROR */
} action_out;

/* Looks an export of the given kind up by the script's name for it.  Wasm
 * names may contain NUL bytes (names.wast exports "\00\01..." next to ""),
 * so the lookup goes by bytes, never by C string. */
static void *find_export(pylon_instance *inst, const pl_json *field, pylon_externkind kind) {
    void *obj = NULL;
    int k = pylon_instance_export_bytes(inst, field->u.string.chars, field->u.string.len, &obj);
    return k == (int)kind ? obj : NULL;
}

static act_status run_action(wast *w, const pl_json *action, action_out *out) {
    memset(out, 0, sizeof *out);
    const char *atype = pl_json_string(pl_json_get(action, "type"));
    const char *modname = pl_json_string(pl_json_get(action, "module"));
    const pl_json *jfield = pl_json_get(action, "field");
    if (!atype) { snprintf(out->msg, sizeof out->msg, "action has no \"type\""); return ACT_ERROR; }
    if (!pl_json_string(jfield)) { snprintf(out->msg, sizeof out->msg, "action has no \"field\" string"); return ACT_ERROR; }
    const char *field = jfield->u.string.chars; /* for messages */
    pylon_instance *inst = find_instance(w, modname);
    if (!inst) {
        if (modname) snprintf(out->msg, sizeof out->msg, "no module named %s (did it fail to instantiate?)", modname);
        else if (w->current_line) snprintf(out->msg, sizeof out->msg, "no current module (the module at line %u did not instantiate)", w->current_line);
        else snprintf(out->msg, sizeof out->msg, "no module defined before this command");
        return ACT_ERROR;
    }
    if (!strcmp(atype, "get")) {
        pylon_global *g = find_export(inst, jfield, PYLON_EXTERN_GLOBAL);
        if (!g) { snprintf(out->msg, sizeof out->msg, "no exported global \"%s\"", field); return ACT_ERROR; }
        out->vals = calloc(1, sizeof *out->vals);
        if (!out->vals) { snprintf(out->msg, sizeof out->msg, "out of memory"); return ACT_ERROR; }
        out->n = 1;
        out->letters[0] = pylon_valtype_letter(pylon_global_type(g));
        out->vals[0] = pylon_global_get(g);
        return ACT_OK;
    }
    if (strcmp(atype, "invoke") != 0) {
        snprintf(out->msg, sizeof out->msg, "unknown action type '%s'", atype);
        return ACT_ERROR;
    }
    pylon_func *f = find_export(inst, jfield, PYLON_EXTERN_FUNC);
    if (!f) { snprintf(out->msg, sizeof out->msg, "no exported function \"%s\"", field); return ACT_ERROR; }
    const char *sig = pylon_func_signature(f);
    const char *colon = sig ? strchr(sig, ':') : NULL;
    if (!colon) { snprintf(out->msg, sizeof out->msg, "engine gave a bad signature '%s'", sig ? sig : "(null)"); return ACT_ERROR; }
    size_t nparams = (size_t)(colon - sig), nresults = strlen(colon + 1);
    const pl_json *args = pl_json_get(action, "args");
    size_t nargs = args && args->type == PL_JSON_ARRAY ? args->u.array.len : 0;
    if (nargs != nparams) {
        snprintf(out->msg, sizeof out->msg, "\"%s\" takes %zu arguments (%s), the script passes %zu", field,
                 nparams, sig, nargs);
        return ACT_ERROR;
    }
    if (nresults > sizeof out->letters) {
        snprintf(out->msg, sizeof out->msg, "\"%s\" returns %zu values; the runner checks at most %zu", field,
                 nresults, sizeof out->letters);
        return ACT_ERROR;
    }
    pylon_val *argv = calloc(nargs + 1, sizeof *argv);
    out->vals = calloc(nresults + 1, sizeof *out->vals);
    if (!argv || !out->vals) {
        free(argv);
        snprintf(out->msg, sizeof out->msg, "out of memory");
        return ACT_ERROR;
    }
    for (size_t i = 0; i < nargs; i++) {
        char letter;
        if (!parse_arg(args->u.array.items[i], &letter, &argv[i], out->msg, sizeof out->msg)) {
            free(argv);
            return ACT_ERROR;
        }
        if (letter != sig[i]) {
            snprintf(out->msg, sizeof out->msg, "argument %zu is %s but \"%s\" (%s) takes %s", i + 1,
                     pylon_valtype_name(pylon_letter_valtype(letter)), field, sig, pylon_valtype_name(pylon_letter_valtype(sig[i])));
            free(argv);
            return ACT_ERROR;
        }
    }
    out->n = nresults;
    memcpy(out->letters, colon + 1, nresults);
    int rc = pylon_call(f, argv, nargs, out->vals, nresults, &out->trap);
    free(argv);
    if (rc != 0) {
        if (out->trap.kind == PYLON_TRAP_NONE) {
            snprintf(out->msg, sizeof out->msg, "pylon_call failed without a trap kind: %s", out->trap.message);
            return ACT_ERROR;
        }
        return ACT_TRAP;
    }
    return ACT_OK;
}

static void action_out_free(action_out *o) { free(o->vals); }

static const char *action_name(const pl_json *cmd) {
    const char *f = pl_json_string(pl_json_get(pl_json_get(cmd, "action"), "field"));
    return f ? f : "?";
}

/* ---- commands ------------------------------------------------------------------------ */

static void cmd_module(wast *w, const pl_json *cmd) {
    const char *name = pl_json_string(pl_json_get(cmd, "name"));
    w->current = NULL;
    w->current_line = w->line;
    pylon_error err;
    pylon_module *m = load_file(w, pl_json_string(pl_json_get(cmd, "filename")), &err);
    if (!m) {
        if (err.kind != PYLON_OK) fail(w, "load failed (%s): %s", error_kind_name(err.kind), err.message);
        return;
    }
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_instance *inst = pylon_instantiate(m, w->imports, NULL, &err, &trap);
    pylon_module_free(m);
    if (!inst) {
        fail(w, "instantiation failed (%s): %s%s%s", error_kind_name(err.kind), err.message,
             trap.kind ? "; trap: " : "", trap.kind ? trap.message : "");
        return;
    }
    named_instance *ni = realloc(w->insts, (w->ninsts + 1) * sizeof *ni);
    if (!ni) { pylon_instance_free(inst); fail(w, "out of memory"); return; }
    w->insts = ni;
    w->insts[w->ninsts].name = name ? strdup(name) : NULL;
    w->insts[w->ninsts].inst = inst;
    w->ninsts++;
    w->current = inst;
    if (w->last_fallback) {
        pylon_instance **fb = realloc(w->fallback, (w->nfallback + 1) * sizeof *fb);
        if (fb) { w->fallback = fb; w->fallback[w->nfallback++] = inst; }
        skip_aot(w);
        return;
    }
    w->passed++;
}

static void cmd_register(wast *w, const pl_json *cmd) {
    const char *as = pl_json_string(pl_json_get(cmd, "as"));
    const char *name = pl_json_string(pl_json_get(cmd, "name"));
    if (!as) { fail(w, "register without \"as\""); return; }
    pylon_instance *inst = find_instance(w, name);
    if (!inst) { fail(w, "cannot register \"%s\": module %s not available", as, name ? name : "(current)"); return; }
    if (pylon_imports_add_instance(w->imports, as, inst) != 0) {
        fail(w, "pylon_imports_add_instance(\"%s\") failed", as);
        return;
    }
    w->passed++;
}

static void cmd_action(wast *w, const pl_json *cmd) {
    action_out o;
    act_status st = run_action(w, pl_json_get(cmd, "action"), &o);
    if (st == ACT_ERROR) fail(w, "%s", o.msg);
    else if (st == ACT_TRAP) fail(w, "\"%s\" trapped: %s", action_name(cmd), o.trap.message);
    else w->passed++;
    action_out_free(&o);
}

static void cmd_assert_return(wast *w, const pl_json *cmd) {
    const pl_json *exp = pl_json_get(cmd, "expected");
    if (!exp || exp->type != PL_JSON_ARRAY) { fail(w, "no \"expected\" array"); return; }
    action_out o;
    act_status st = run_action(w, pl_json_get(cmd, "action"), &o);
    if (st == ACT_ERROR) { fail(w, "%s", o.msg); action_out_free(&o); return; }
    if (st == ACT_TRAP) {
        fail(w, "\"%s\" trapped (%s): %s", action_name(cmd), trap_kind_name(o.trap.kind), o.trap.message);
        action_out_free(&o);
        return;
    }
    size_t ne = exp->u.array.len;
    if (ne != o.n) {
        fail(w, "\"%s\" returned %zu values, expected %zu", action_name(cmd), o.n, ne);
        action_out_free(&o);
        return;
    }
    char got[512] = "", want[512] = "", msg[200];
    bool ok = true;
    for (size_t i = 0; i < ne; i++) {
        expected e;
        if (!parse_expected(exp->u.array.items[i], &e, msg, sizeof msg)) {
            fail(w, "%s", msg);
            action_out_free(&o);
            return;
        }
        if (!expected_matches(&e, o.letters[i], o.vals[i])) ok = false;
        char g[80], x[80];
        size_t gl = strlen(got), wl = strlen(want);
        snprintf(got + gl, sizeof got - gl, "%s%s", i ? " " : "", fmt_val(o.letters[i], o.vals[i], g, sizeof g));
        snprintf(want + wl, sizeof want - wl, "%s%s", i ? " " : "", fmt_expected(&e, x, sizeof x));
    }
    if (ok) w->passed++;
    else fail(w, "got %s expected %s (invoking \"%s\")", got, want, action_name(cmd));
    action_out_free(&o);
}

static void cmd_assert_trap(wast *w, const pl_json *cmd, bool exhaustion) {
    const char *text = pl_json_string(pl_json_get(cmd, "text"));
    if (!text) text = "";
    action_out o;
    act_status st = run_action(w, pl_json_get(cmd, "action"), &o);
    if (st == ACT_ERROR) {
        fail(w, "%s", o.msg);
    } else if (st == ACT_OK) {
        char g[80];
        fail(w, "\"%s\" returned %s, expected trap \"%s\"", action_name(cmd),
             o.n ? fmt_val(o.letters[0], o.vals[0], g, sizeof g) : "nothing", text);
    } else {
        bool known;
        bool match = exhaustion ? o.trap.kind == PYLON_TRAP_STACK_EXHAUSTED : trap_matches(o.trap.kind, text, &known);
        if (!exhaustion && !known && w->verbose)
            printf("%s:%u: note: unknown trap text \"%s\"; accepted any trap\n", w->file, w->line, text);
        if (match) w->passed++;
        else fail(w, "trapped with \"%s\" (%s), expected \"%s\"", trap_kind_name(o.trap.kind), o.trap.message, text);
    }
    action_out_free(&o);
}

/* assert_malformed / assert_invalid: loading must fail with that kind. */
static void cmd_assert_bad_module(wast *w, const pl_json *cmd, pylon_error_kind want) {
    const char *text = pl_json_string(pl_json_get(cmd, "text"));
    pylon_error err;
    pylon_module *m = load_file(w, pl_json_string(pl_json_get(cmd, "filename")), &err);
    if (m) {
        pylon_module_free(m);
        fail(w, "module loaded, expected it to be refused as %s (\"%s\")", error_kind_name(want), text ? text : "");
        return;
    }
    if (err.kind == PYLON_OK) return; /* file unreadable, already reported */
    if (err.kind == want) { w->passed++; return; }
    fail(w, "refused as %s (%s), expected %s (\"%s\")", error_kind_name(err.kind), err.message,
         error_kind_name(want), text ? text : "");
}

/* assert_unlinkable / assert_uninstantiable: loads, then instantiation
 * must fail with that kind. */
static void cmd_assert_bad_instance(wast *w, const pl_json *cmd, pylon_error_kind want) {
    const char *text = pl_json_string(pl_json_get(cmd, "text"));
    if (!text) text = "";
    pylon_error err;
    pylon_module *m = load_file(w, pl_json_string(pl_json_get(cmd, "filename")), &err);
    if (!m) {
        if (err.kind != PYLON_OK)
            fail(w, "load failed (%s): %s; expected it to load and fail at instantiation (\"%s\")",
                 error_kind_name(err.kind), err.message, text);
        return;
    }
    if (w->last_fallback) { pylon_module_free(m); skip_aot(w); return; }
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_instance *inst = pylon_instantiate(m, w->imports, NULL, &err, &trap);
    pylon_module_free(m);
    if (inst) {
        pylon_instance_free(inst);
        fail(w, "module instantiated, expected it to be %s (\"%s\")", error_kind_name(want), text);
        return;
    }
    if (err.kind != want) {
        fail(w, "instantiation failed as %s (%s), expected %s (\"%s\")", error_kind_name(err.kind), err.message,
             error_kind_name(want), text);
        return;
    }
    /* When the engine names the trap (start function, segment bounds) it
     * must be the one the script expects. */
    bool known;
    if (want == PYLON_ERR_UNINSTANTIABLE && trap.kind != PYLON_TRAP_NONE && !trap_matches(trap.kind, text, &known)) {
        fail(w, "instantiation trapped with \"%s\" (%s), expected \"%s\"", trap_kind_name(trap.kind), trap.message, text);
        return;
    }
    w->passed++;
}

static void run_command(wast *w, const pl_json *cmd) {
    const char *type = pl_json_string(pl_json_get(cmd, "type"));
    uint64_t line = 0;
    pl_json_uint64(pl_json_get(cmd, "line"), &line);
    w->line = (unsigned)line;
    w->cmd = type ? type : "(no type)";
    const exclusion *ex = excluded_line(w->ex, w->file, w->line, w->aot);
    if (ex) {
        if (type && !strcmp(type, "module")) { /* later commands must not use the previous module */
            w->current = NULL;
            w->current_line = w->line;
        }
        skip(w, ex->reason);
        return;
    }
    if (!type) { fail(w, "command has no \"type\""); return; }
    if (w->aot) {
        /* (a register still runs: later modules may link to the instance) */
        const pl_json *act = pl_json_get(cmd, "action");
        const char *target = pl_json_string(pl_json_get(act, "module"));
        if (act && is_fallback(w, find_instance(w, target))) {
            skip_aot(w);
            return;
        }
    }
    if (is_text_module(cmd)) {
        ex = excluded_category(w->ex, CATEGORY_TEXT_MODULE);
        if (ex) skip(w, ex->reason);
        else fail(w, "text-format module %s cannot be run (Pylon loads binary modules only) and "
                  "the exclusion file does not list category:" CATEGORY_TEXT_MODULE,
                  pl_json_string(pl_json_get(cmd, "filename")));
        return;
    }
    if (!strcmp(type, "module")) cmd_module(w, cmd);
    else if (!strcmp(type, "register")) cmd_register(w, cmd);
    else if (!strcmp(type, "action")) cmd_action(w, cmd);
    else if (!strcmp(type, "assert_return")) cmd_assert_return(w, cmd);
    else if (!strcmp(type, "assert_trap")) cmd_assert_trap(w, cmd, false);
    else if (!strcmp(type, "assert_exhaustion")) cmd_assert_trap(w, cmd, true);
    else if (!strcmp(type, "assert_malformed")) cmd_assert_bad_module(w, cmd, PYLON_ERR_MALFORMED);
    else if (!strcmp(type, "assert_invalid")) cmd_assert_bad_module(w, cmd, PYLON_ERR_INVALID);
    else if (!strcmp(type, "assert_unlinkable")) cmd_assert_bad_instance(w, cmd, PYLON_ERR_UNLINKABLE);
    else if (!strcmp(type, "assert_uninstantiable")) cmd_assert_bad_instance(w, cmd, PYLON_ERR_UNINSTANTIABLE);
    else fail(w, "unknown command type (this runner knows wabt 1.0.32's wast2json output)");
}

/* ---- wast2json ------------------------------------------------------------------------ */

static void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void print_file(const char *path, FILE *to, int max_lines) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (n++ == max_lines) { fprintf(to, "  ...\n"); break; }
        fprintf(to, "  %s", line);
    }
    fclose(f);
}

/* Runs `wast2json --enable-all WAST -o DIR/script.json`.  Its stderr goes
 * to a file: wabt 1.0.32 with --enable-all prints type errors for valid
 * Wasm 2.0 scripts (ref_func.wast) and still converts them faithfully, so
 * the noise is shown only with -v or when it fails.  Returns 0 or an exit
 * code. */
static int convert(const char *wast_path, const char *dir, bool verbose) {
    const char *tool = getenv("WAST2JSON");
    if (!tool || !*tool) tool = "wast2json";
    char json[PATH_MAX + 32], errpath[PATH_MAX + 32];
    snprintf(json, sizeof json, "%s/script.json", dir);
    snprintf(errpath, sizeof errpath, "%s/wast2json.stderr", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "pylon wast: fork failed: %s\n", strerror(errno));
        return PYLON_EXIT_IO;
    }
    if (pid == 0) {
        if (!freopen(errpath, "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(126);
        execlp(tool, tool, "--enable-all", wast_path, "-o", json, (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) { fprintf(stderr, "pylon wast: waitpid: %s\n", strerror(errno)); return PYLON_EXIT_IO; }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr, "pylon wast: cannot run '%s' (not found); install Debian's wabt package "
                "(apt-get install wabt), set WAST2JSON=/path/to/wast2json, or pass --json FILE\n", tool);
        return PYLON_EXIT_IO;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pylon wast: %s could not convert %s (%s %d):\n", tool, wast_path,
                WIFEXITED(status) ? "exit status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        print_file(errpath, stderr, 40);
        return PYLON_EXIT_LOAD;
    }
    struct stat st;
    if (verbose && stat(errpath, &st) == 0 && st.st_size > 0) {
        printf("wast2json warnings (the conversion succeeded):\n");
        print_file(errpath, stdout, 40);
    }
    return 0;
}

/* Reads every module file of the conversion into memory, so that the
 * temporary directory can be removed before any guest code runs: an engine
 * crash or a `timeout` kill then leaves nothing behind in $TMPDIR. */
static int preload(wast *w, const pl_json *cmds) {
    w->blobs = calloc(cmds->u.array.len + 1, sizeof *w->blobs);
    if (!w->blobs) return -1;
    for (size_t i = 0; i < cmds->u.array.len; i++) {
        const char *name = pl_json_string(pl_json_get(cmds->u.array.items[i], "filename"));
        size_t n = name ? strlen(name) : 0;
        if (n < 5 || strcmp(name + n - 5, ".wasm") != 0 || strchr(name, '/')) continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", w->dir, name);
        blob *b = &w->blobs[w->nblobs];
        b->bytes = pylon_read_file(path, &b->len);
        if (!b->bytes) continue; /* reported when a command needs it */
        b->name = name;
        w->nblobs++;
    }
    w->preloaded = true;
    return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static void usage(FILE *f) {
    fprintf(f,
        "usage: pylon wast FILE.wast [--json CONVERTED.json] [--exclusions FILE] [--engine aot] [-v]\n"
        "\n"
        "Runs a WebAssembly spec test script against Pylon's engine, through the\n"
        "public engine API only.\n"
        "\n"
        "FILE.wast is converted by `wast2json --enable-all` (Debian's wabt) into a\n"
        "temporary directory that is removed afterwards.  --json runs an existing\n"
        "conversion instead (its .wasm files are read from the JSON's directory;\n"
        "FILE.wast may then be omitted, it only names the script in messages).\n"
        "\n"
        "Every command counts: each module, register, action and assertion passes or\n"
        "fails.  assert_malformed / assert_invalid require exactly that error kind;\n"
        "assert_trap requires the trap kind the script's message names.  The spectest\n"
        "module is provided: print, print_i32, print_i64, print_f32, print_f64,\n"
        "print_i32_f32, print_f64_f64, global_i32/i64 (666), global_f32/f64 (666.6),\n"
        "table (10..20 funcref) and memory (1..2 pages).\n"
        "\n"
        "Output: one line per failure, FILE.wast:LINE: COMMAND: what happened, then\n"
        "exactly one line 'N passed, N failed[, N skipped]'.  Exit status 0 iff\n"
        "nothing failed (1 if something did, 2 usage, 3 wast2json refused the\n"
        "script, 5 a file could not be read or wast2json could not be run).\n"
        "\n"
        "Skips: a command is skipped only if the exclusion file lists it, as\n"
        "'FILE.wast:LINE  reason' or as a category rule 'category:NAME  reason';\n"
        "'aot:FILE.wast:LINE  reason' applies under --engine aot only.\n"
        "The one category is text-module: assert_malformed on (module quote ...)\n"
        "stays .wat text, which a binary-only engine cannot consume.  The file is\n"
        "--exclusions FILE, else $PYLON_ROOT/tests/spec-exclusions.txt, else\n"
        "tests/spec-exclusions.txt beside the directory holding this binary.\n"
        "\n"
        "options:\n"
        "  --json FILE        use an existing wast2json conversion\n"
        "  --engine aot       run every module through the AOT tier (wasm2c + clang;\n"
        "                     artifacts are cached); modules it refuses run on the\n"
        "                     interpreter and what uses them is skipped (category\n"
        "                     aot-unsupported in the exclusion file)\n"
        "  --exclusions FILE  the exclusion list to honour\n"
        "  -v, --verbose      show spectest print output, skipped commands with their\n"
        "                     reasons and wast2json's warnings\n"
        "  -h, --help         this text\n"
        "\n"
        "environment: WAST2JSON (the converter to run), TMPDIR (for the conversion)\n");
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static char *dir_name(const char *path) {
    const char *s = strrchr(path, '/');
    if (!s) return strdup(".");
    if (s == path) return strdup("/");
    return strndup(path, (size_t)(s - path));
}

/* Finds the exclusion file when --exclusions is not given; NULL if none. */
static char *find_exclusions(void) {
    char path[PATH_MAX];
    const char *root = getenv("PYLON_ROOT");
    if (root && *root) {
        snprintf(path, sizeof path, "%s/tests/spec-exclusions.txt", root);
        if (access(path, R_OK) == 0) return strdup(path);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *d = dir_name(exe);
        snprintf(path, sizeof path, "%s/../tests/spec-exclusions.txt", d);
        free(d);
        if (access(path, R_OK) == 0) return strdup(path);
    }
    return NULL;
}

/* Prints the one summary line scripts look for, for runs that could not
 * start: they count as one failure so that a broken run is never green. */
static int fatal(int code) {
    printf("0 passed, 1 failed\n");
    return code;
}

int pylon_cmd_wast(int argc, char **argv) {
    const char *wast_path = NULL, *json_path = NULL, *ex_path = NULL;
    bool verbose = false, aot = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return PYLON_EXIT_OK; }
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) verbose = true;
        else if (!strcmp(a, "--engine") && i + 1 < argc) {
            const char *e = argv[++i];
            if (!strcmp(e, "aot")) aot = true;
            else if (strcmp(e, "interp") != 0) {
                fprintf(stderr, "pylon wast: --engine %s: expected interp or aot\n", e);
                return PYLON_EXIT_USAGE;
            }
        }
        else if (!strcmp(a, "--json") || !strcmp(a, "--exclusions")) {
            if (i + 1 >= argc) { fprintf(stderr, "pylon wast: %s needs a file name\n", a); return PYLON_EXIT_USAGE; }
            if (a[2] == 'j') json_path = argv[++i];
            else ex_path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "pylon wast: unknown option '%s'; see 'pylon wast --help'\n", a);
            return PYLON_EXIT_USAGE;
        } else if (wast_path) {
            fprintf(stderr, "pylon wast: one script at a time ('%s' and '%s' given)\n", wast_path, a);
            return PYLON_EXIT_USAGE;
        } else {
            wast_path = a;
        }
    }
    if (!wast_path && !json_path) {
        fprintf(stderr, "pylon wast: no script given; usage: pylon wast FILE.wast [--json FILE] [-v]\n");
        return PYLON_EXIT_USAGE;
    }
    spectest_verbose = verbose;

    exclusions ex = {0};
    char *found_ex = ex_path ? strdup(ex_path) : find_exclusions();
    if (found_ex) {
        int rc = exclusions_load(&ex, found_ex);
        free(found_ex);
        if (rc != 0) { exclusions_free(&ex); return fatal(PYLON_EXIT_USAGE); }
    } else {
        fprintf(stderr, "pylon wast: no tests/spec-exclusions.txt found (set PYLON_ROOT or pass "
                "--exclusions FILE); nothing will be skipped\n");
    }

    char tmpdir[PATH_MAX] = "";
    char *json_owned = NULL;
    int code = 0;
    if (!json_path) {
        if (access(wast_path, R_OK) != 0) {
            fprintf(stderr, "pylon wast: cannot read %s: %s\n", wast_path, strerror(errno));
            exclusions_free(&ex);
            return fatal(PYLON_EXIT_IO);
        }
        const char *t = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/pylon-wast-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "pylon wast: cannot create a temporary directory %s: %s (set TMPDIR?)\n", tmpdir,
                    strerror(errno));
            exclusions_free(&ex);
            return fatal(PYLON_EXIT_IO);
        }
        code = convert(wast_path, tmpdir, verbose);
        if (code) {
            remove_tree(tmpdir);
            exclusions_free(&ex);
            return fatal(code);
        }
        json_owned = malloc(strlen(tmpdir) + 16);
        if (json_owned) sprintf(json_owned, "%s/script.json", tmpdir);
        json_path = json_owned;
    }

    size_t len = 0;
    char *text = json_path ? (char *)pylon_read_file(json_path, &len) : NULL;
    pl_json *doc = NULL;
    if (!text) {
        fprintf(stderr, "pylon wast: cannot read %s: %s\n", json_path ? json_path : "(json)", strerror(errno));
        code = PYLON_EXIT_IO;
    } else {
        pl_json_error jerr;
        doc = pl_json_parse(text, len, &jerr);
        free(text);
        if (!doc) {
            fprintf(stderr, "pylon wast: %s: %s\n", json_path, jerr.message);
            code = PYLON_EXIT_LOAD;
        }
    }
    const pl_json *cmds = pl_json_get(doc, "commands");
    if (doc && (!cmds || cmds->type != PL_JSON_ARRAY)) {
        fprintf(stderr, "pylon wast: %s has no \"commands\" array; is it wast2json output?\n", json_path);
        code = PYLON_EXIT_LOAD;
    }

    wast w = {0};
    if (!code) {
        const char *src = pl_json_string(pl_json_get(doc, "source_filename"));
        w.file = wast_path ? base_name(wast_path) : src ? base_name(src) : base_name(json_path);
        w.dir = dir_name(json_path);
        w.verbose = verbose;
        w.aot = aot;
        w.ex = &ex;
        w.imports = pylon_imports_new();
        if (!w.dir || !w.imports || add_spectest(w.imports) != 0) {
            fprintf(stderr, "pylon wast: could not set up the spectest imports (out of memory?)\n");
            code = PYLON_EXIT_FAIL;
        }
    }
    if (!code && tmpdir[0]) {
        if (preload(&w, cmds) != 0) {
            fprintf(stderr, "pylon wast: out of memory reading the converted modules\n");
            code = PYLON_EXIT_FAIL;
        }
        remove_tree(tmpdir);
        tmpdir[0] = 0;
    }
    if (!code) {
        for (size_t i = 0; i < cmds->u.array.len; i++) run_command(&w, cmds->u.array.items[i]);
        if (w.aot) printf("aot: %u modules compiled natively, %u refused by the AOT tier (interpreter)\n",
                          w.aot_modules - w.aot_refused, w.aot_refused);
        if (w.skipped) printf("%u passed, %u failed, %u skipped\n", w.passed, w.failed, w.skipped);
        else printf("%u passed, %u failed\n", w.passed, w.failed);
        fflush(stdout);
    }

    /* Newest first, so importers go before what they import from (the
     * engine's reference counts make any order safe; this one is also the
     * natural one). */
    if (w.imports) pylon_imports_free(w.imports);
    for (size_t i = w.ninsts; i-- > 0;) {
        pylon_instance_free(w.insts[i].inst);
        free(w.insts[i].name);
    }
    free(w.insts);
    free(w.fallback);
    for (size_t i = 0; i < w.nblobs; i++) free(w.blobs[i].bytes);
    free(w.blobs);
    free(w.dir);
    pl_json_free(doc);
    free(json_owned);
    exclusions_free(&ex);
    if (tmpdir[0]) remove_tree(tmpdir);
    if (code) return fatal(code);
    return w.failed ? PYLON_EXIT_FAIL : PYLON_EXIT_OK;
}
