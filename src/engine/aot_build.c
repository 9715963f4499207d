/*
 * aot_build.c — building an AOT artifact: a module compiled to native code
 * through Debian's wasm2c and clang (pylon_aot_compile), the artifact cache
 * key, and compiles in the background.  Loading and running artifacts is
 * aot.c; the contract between the two sides is aot_abi.h.
 *
 * Compiling:
 *   1. the module's own memory and globals are rewritten into imports of
 *      "pylon_aot", so the native code uses Pylon's memory and global
 *      objects (WASI, the dynlink bridge and the API see one truth);
 *   2. wasm2c turns the rewritten module into C;
 *   3. inject() adds aot_inject.h to wasm2c's output: Segue memory access,
 *      loop safepoints, precise trap kinds, pl_adopt_instantiate;
 *   4. Pylon reads wasm2c's header for the C shape of every import and
 *      export (rather than re-deriving its name mangling) and writes glue:
 *      import functions call back into Pylon, exports get uniform wrappers,
 *      and one descriptor (`pylon_aot_module`) ties it up;
 *   5. clang builds a shared object, for this CPU, with aot_rt.c, Pylon's
 *      implementation of wasm2c's runtime API.
 * The module is validated first: wasm2c only ever sees valid modules.
 * Tables stay inside the artifact, so a module that imports or exports a
 * table, or passes references across its boundary, is refused and runs on
 * the interpreter instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/aot_abi.h"
#include "engine/runtime.h"
#include "util/buf.h"
#include "util/sha256.h"

/* The artifact's fixed sources travel inside Pylon. */
__asm__(".section .rodata\n"
        "pl_aot_rt_src:\n.incbin \"src/engine/aot_rt.c\"\n.byte 0\n"
        "pl_aot_abi_src:\n.incbin \"src/engine/aot_abi.h\"\n.byte 0\n"
        "pl_aot_inject_src:\n.incbin \"src/engine/aot_inject.h\"\n.byte 0\n"
        ".previous\n");
extern const char pl_aot_rt_src[], pl_aot_abi_src[], pl_aot_inject_src[];

/* Segment-based memory access (aot_inject.h) needs user-space FSGSBASE:
 * x86-64 with Linux >= 5.9 announces it in AT_HWCAP2.  PYLON_AOT_SEGUE=0
 * turns it off (artifacts then use wasm2c's own helpers). */
bool pl_aot_segue_available(void) {
#if defined(__x86_64__)
    const char *e = getenv("PYLON_AOT_SEGUE");
    if (e && !strcmp(e, "0")) return false;
    return (getauxval(AT_HWCAP2) & 2 /* HWCAP2_FSGSBASE */) != 0;
#else
    return false;
#endif
}

/* The CPU native code is compiled for: the SHA-256 of its vendor, family,
 * model and feature flags (from /proc/cpuinfo), or "" when unknown, and
 * then code is compiled for generic x86-64.  Artifacts carry it, so one
 * copied to another machine (or a shared cache) is refused rather than
 * run into an illegal instruction. */
static char cpu_id[65];
static void cpu_identity_read(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[8192], all[16384] = "";
    size_t n = 0;
    while (fgets(line, sizeof line, f) && line[0] != '\n') /* the first CPU's block */
        if (!strncmp(line, "vendor_id", 9) || !strncmp(line, "cpu family", 10) ||
            !strncmp(line, "model\t", 6) || !strncmp(line, "flags", 5)) {
            size_t l = strlen(line);
            if (n + l < sizeof all) { memcpy(all + n, line, l + 1); n += l; }
        }
    fclose(f);
    if (n) pl_sha256_hex(all, n, cpu_id);
}
const char *pl_aot_cpu_identity(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, cpu_identity_read);
    return cpu_id;
}

#define AOT_CC_DEFAULT "clang-19"
#define AOT_MODULE "pylon_aot"

#define set_err pl_error_set

/* ---- byte buffers (util/buf.h) ------------------------------------------------ */

static void put_leb(pl_buf *b, uint32_t v) {
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        if (v) byte |= 0x80;
        pl_buf_put(b, &byte, 1);
    } while (v);
}
static void put_name(pl_buf *b, const char *s) {
    put_leb(b, (uint32_t)strlen(s));
    pl_buf_put(b, s, strlen(s));
}

/* ---- 1. rewrite own memory and globals into imports ------------------------- */

static bool leb_u32(const uint8_t **p, const uint8_t *end, uint32_t *out) {
    uint32_t v = 0;
    for (int shift = 0; shift < 35 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *out = v; return true; }
    }
    return false;
}
static bool skip_leb(const uint8_t **p, const uint8_t *end) {
    while (*p < end) if (!(*(*p)++ & 0x80)) return true;
    return false;
}

/* Skips a (validated) constant expression: one instruction, then end. */
static bool skip_const_expr(const uint8_t **p, const uint8_t *end) {
    if (*p >= end) return false;
    uint8_t op = *(*p)++;
    switch (op) {
    case 0x41: case 0x42: case 0x23: case 0xd2: if (!skip_leb(p, end)) return false; break;
    case 0x43: *p += 4; break;
    case 0x44: *p += 8; break;
    case 0xd0: *p += 1; break;
    default: return false;
    }
    return *p < end && *(*p)++ == 0x0b;
}

static bool rewrite(const uint8_t *w, size_t len, const pl_module *m, pl_buf *out, pylon_error *err) {
    const uint8_t *p = w + 8, *end = w + len;
    pl_buf_put(out, w, 8);
    pl_buf extra = {0};          /* the new import entries */
    uint32_t nextra = 0;
    /* gather own memory and globals first: they are appended to imports */
    for (const uint8_t *q = p; q < end;) {
        uint8_t id = *q++;
        uint32_t size;
        if (!leb_u32(&q, end, &size) || size > (size_t)(end - q)) goto bad;
        const uint8_t *s = q, *se = q + size;
        if (id == 5) {
            uint32_t n;
            if (!leb_u32(&s, se, &n)) goto bad;
            for (uint32_t i = 0; i < n; i++) {
                const uint8_t *lim = s;
                uint8_t flag = *s++;
                uint32_t x;
                if (!leb_u32(&s, se, &x) || ((flag & 1) && !leb_u32(&s, se, &x))) goto bad;
                put_name(&extra, AOT_MODULE);
                put_name(&extra, "memory");
                pl_buf_put(&extra, "\x02", 1);
                pl_buf_put(&extra, lim, (size_t)(s - lim));
                nextra++;
            }
        } else if (id == 6) {
            uint32_t n;
            if (!leb_u32(&s, se, &n)) goto bad;
            for (uint32_t i = 0; i < n; i++) {
                if (se - s < 2) goto bad;
                char name[32];
                snprintf(name, sizeof name, "g%u", m->nglobal_imports + i);
                put_name(&extra, AOT_MODULE);
                put_name(&extra, name);
                pl_buf_put(&extra, "\x03", 1);
                pl_buf_put(&extra, s, 2); /* valtype, mut */
                s += 2;
                if (!skip_const_expr(&s, se)) goto bad;
                nextra++;
            }
        }
        q += size;
    }
    bool wrote_imports = false;
    while (p < end) {
        const uint8_t *start = p;
        uint8_t id = *p++;
        uint32_t size;
        if (!leb_u32(&p, end, &size) || size > (size_t)(end - p)) goto bad;
        const uint8_t *body = p;
        p += size;
        if (id == 5 || id == 6) continue; /* moved into the imports */
        if (!wrote_imports && nextra && (id == 2 || (id >= 3 && id != 0))) {
            pl_buf sec = {0};
            uint32_t old = 0;
            const uint8_t *entries = body;
            if (id == 2 && !leb_u32(&entries, p, &old)) { free(sec.s); goto bad; }
            put_leb(&sec, old + nextra);
            if (id == 2) pl_buf_put(&sec, entries, (size_t)(p - entries));
            pl_buf_put(&sec, extra.s, extra.len);
            pl_buf_put(out, "\x02", 1);
            put_leb(out, (uint32_t)sec.len);
            pl_buf_put(out, sec.s, sec.len);
            bool oom = sec.oom;
            free(sec.s);
            if (oom) goto nomem;
            wrote_imports = true;
            if (id == 2) continue;
        }
        pl_buf_put(out, start, (size_t)(p - start));
    }
    free(extra.s);
    if (out->oom) goto nomem;
    return true;
bad:
    free(extra.s);
    set_err(err, PYLON_ERR_MALFORMED, "aot: cannot rewrite the module's sections");
    return false;
nomem:
    free(extra.s);
    set_err(err, PYLON_ERR_NOMEM, "aot: out of host memory");
    return false;
}

/* ---- helpers: temp dirs, files, commands ----------------------------------- */

/* mkdir -p of the directory part of `path`. */
static void make_parent_dirs(const char *path) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(dir, 0755); *p = '/'; }
}


static bool write_file(const char *dir, const char *name, const void *data, size_t n) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

/* The whole file, NUL-terminated; *len (if given) counts every byte, for
 * text that may itself contain NULs (wasm2c copies names into comments). */
static char *read_text_len(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    pl_buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) pl_buf_put(&b, tmp, n);
    fclose(f);
    if (b.oom) { free(b.s); return NULL; }
    if (len) *len = b.len;
    return b.s ? b.s : strdup("");
}
static char *read_text(const char *path) { return read_text_len(path, NULL); }

/* Line iteration over [text, end): the next line's start, or NULL. */
static const char *next_line(const char *line, const char *end) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    return nl && nl + 1 < end ? nl + 1 : NULL;
}

/* Runs argv with stdout+stderr to `log`; returns the exit status or -1. */
/* A compiler process must not hold the host's descriptors (a --listen
 * socket, a guest's files) while it runs, let alone after Pylon exits. */
static void close_inherited_fds(void) {
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) close((int)fd);
}

static int run_cmd(char *const argv[], const char *log) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close_inherited_fds();
        FILE *f = freopen(log, "w", stdout);
        if (f) dup2(fileno(stdout), 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void log_tail(const char *log, char *out, size_t cap) {
    char *t = read_text(log);
    out[0] = 0;
    if (!t) return;
    size_t n = strlen(t);
    const char *s = n > cap - 1 ? t + n - (cap - 1) : t;
    snprintf(out, cap, "%s", s);
    for (char *c = out; *c; c++) if (*c == '\n') *c = ' ';
    free(t);
}

static void rm_tree(const char *dir) {
    static const char *const names[] = {"m.wasm", "m.c", "m.h", "glue.c", "aot_rt.c",
                                        "aot_abi.h", "aot_inject.h", "wasm2c.log", "cc.log"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- 3. glue from wasm2c's header --------------------------------------------- */

static char ctype_letter(const char *t) {
    if (!strcmp(t, "u32")) return 'i';
    if (!strcmp(t, "u64")) return 'I';
    if (!strcmp(t, "f32")) return 'f';
    if (!strcmp(t, "f64")) return 'F';
    if (!strcmp(t, "void")) return 0;
    return '?';
}

/* The return type at the start of a declaration line: sets *rets to our
 * letters ("" for void, "iF" for wasm2c's struct wasm_multi_id), ctype to
 * the C type and *name_at to where the function name starts.  False for
 * anything the glue does not support (references). */
static bool parse_ret(const char *dl, char *rets, size_t cap, char *ctype, size_t ccap, const char **name_at) {
    if (!strncmp(dl, "struct wasm_multi_", 18)) {
        const char *l = dl + 18, *sp = strchr(l, ' ');
        if (!sp || (size_t)(sp - l) >= cap || (size_t)(sp - dl) >= ccap) return false;
        size_t n = 0;
        for (const char *c = l; c < sp; c++) {
            char t = *c == 'i' ? 'i' : *c == 'j' ? 'I' : *c == 'f' ? 'f' : *c == 'd' ? 'F' : 0;
            if (!t) return false;
            rets[n++] = t;
        }
        rets[n] = 0;
        snprintf(ctype, ccap, "%.*s", (int)(sp - dl), dl);
        *name_at = sp + 1;
        return true;
    }
    const char *sp = strchr(dl, ' ');
    if (!sp || (size_t)(sp - dl) >= ccap) return false;
    snprintf(ctype, ccap, "%.*s", (int)(sp - dl), dl);
    char l = ctype_letter(ctype);
    if (l == '?') return false;
    rets[0] = l;
    rets[1] = 0;
    *name_at = sp + 1;
    return true;
}

/* A C expression for result k of `v` (a scalar, or a wasm_multi struct). */
static void put_result_field(pl_buf *g, const char *rets, size_t k) {
    static const char field[] = {['i'] = 'i', ['I'] = 'j', ['f'] = 'f', ['F'] = 'd'};
    if (strlen(rets) == 1) { pl_buf_put(g, "v", 1); return; }
    pl_buf_printf(g, "v.%c%zu", field[(int)rets[k]], k);
}

/* Splits "u32, u64, f32" into letters; false on anything unsupported. */
static bool parse_params(const char *list, char *letters, size_t cap) {
    size_t n = 0;
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", list);
    for (char *save, *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        char *e = tok + strlen(tok);
        while (e > tok && (e[-1] == ' ' || e[-1] == ')' || e[-1] == ';')) *--e = 0;
        char l = ctype_letter(tok);
        if (!l || l == '?' || n + 1 >= cap) return false;
        letters[n++] = l;
    }
    letters[n] = 0;
    return true;
}

static const char *const conv_in[] = {['i'] = "(u32)a[%d]", ['I'] = "(u64)a[%d]",
                                      ['f'] = "pl_f32(a[%d])", ['F'] = "pl_f64(a[%d])"};
static const char *const conv_out[] = {['i'] = "(uint64_t)", ['I'] = "(uint64_t)",
                                       ['f'] = "pl_bits32", ['F'] = "pl_bits64"};

/* The quoted names in a "/ * import: 'mod' 'name' * /" comment line
 * (only that line: the header goes on with other quotes). */
static int quoted(const char *s, char out[][256], int max) {
    int k = 0;
    const char *eol = strchr(s, '\n');
    if (!eol) eol = s + strlen(s);
    while (k < max && (s = memchr(s, '\'', (size_t)(eol - s))) != NULL) {
        const char *e = memchr(s + 1, '\'', (size_t)(eol - s - 1));
        if (!e) break;
        size_t n = (size_t)(e - s - 1);
        if (n >= 256) return -1;
        memcpy(out[k], s + 1, n);
        out[k][n] = 0;
        k++;
        s = e + 1;
    }
    return k;
}

static void c_string(pl_buf *b, const char *s) {
    pl_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' && ch != '?') pl_buf_put(b, s, 1);
        else pl_buf_printf(b, "\\%03o", ch);
    }
    pl_buf_put(b, "\"", 1);
}

static bool gen_glue(const pl_module *m, const char *header, size_t header_len, const char *digest, pl_buf *g,
                     pylon_error *err) {
    const char *hend = header + header_len;
    pl_buf_printf(g, "/* generated by pylon aot: glue between wasm2c's output and Pylon */\n"
            "#include <stddef.h>\n#include <string.h>\n#include \"m.h\"\n#include \"aot_abi.h\"\n#include \"aot_inject.h\"\n"
            "extern const pl_aot_host *pl_aot_rt_host;\n#define H pl_aot_rt_host\n"
            "static inline f32 pl_f32(uint64_t b) { uint32_t x = (uint32_t)b; f32 v; memcpy(&v, &x, 4); return v; }\n"
            "static inline f64 pl_f64(uint64_t b) { f64 v; memcpy(&v, &b, 8); return v; }\n"
            "static inline uint64_t pl_bits32(f32 v) { uint32_t x; memcpy(&x, &v, 4); return x; }\n"
            "static inline uint64_t pl_bits64(f64 v) { uint64_t x; memcpy(&x, &v, 8); return x; }\n");

    /* import-module instance structs, in Z_m_instantiate's parameter order */
    const char *inst_decl = strstr(header, "void Z_m_instantiate(Z_m_instance_t*");
    if (!inst_decl) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: wasm2c's header has no Z_m_instantiate"); return false; }
    const char *eol = strchr(inst_decl, '\n');
    char decl[4096];
    snprintf(decl, sizeof decl, "%.*s", (int)(eol ? eol - inst_decl : (ptrdiff_t)strlen(inst_decl)), inst_decl);
    char structs[64][128];
    int nstructs = 0;
    for (const char *s = strstr(decl, "struct "); s && nstructs < 64; s = strstr(s + 1, "struct ")) {
        const char *e = strchr(s, '*');
        if (!e || e - s - 7 >= 127) break;
        snprintf(structs[nstructs++], 128, "%.*s", (int)(e - s - 7), s + 7);
    }
    if (strstr(decl, "struct ") && !nstructs) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: cannot read Z_m_instantiate"); return false; }
    /* wasm2c 1.0.32 calls an import through a table with a pointer to the
     * instance's *field* holding the import struct's address, but calls it
     * directly with the struct's address.  Each struct starts with a
     * pointer to itself, so the first word leads to the struct either way. */
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, "struct %s { void *self; void *ctx; };\n", structs[i]);
    pl_buf_printf(g, "#define PL_CTX(m) (((struct %s *)*(void **)(m))->ctx)\n", nstructs ? structs[0] : "pl_none");
    pl_buf_printf(g, "typedef struct pl_inst { Z_m_instance_t w;");
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, " struct %s s%d;", structs[i], i);
    pl_buf_printf(g, " } pl_inst;\n");

    /* imports and exports, each announced by a comment line */
    pl_buf exports = {0};
    int nexp = 0;
    uint32_t exp_seen = 0;
    for (const char *line = header; line; line = next_line(line, hend)) {
        bool is_imp = !strncmp(line, "/* import: ", 11), is_exp = !strncmp(line, "/* export: ", 11);
        if (!is_imp && !is_exp) continue;
        char names[2][256];
        int nq = quoted(line, names, 2);
        const char *next = strchr(line, '\n');
        if (!next) break;
        next++;
        char dl[16384];
        const char *ne = strchr(next, '\n');
        snprintf(dl, sizeof dl, "%.*s", (int)(ne ? ne - next : (ptrdiff_t)strlen(next)), next);
        const char *paren = strchr(dl, '(');
        if (is_imp) {
            if (nq != 2) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: an import name wasm2c quoted oddly"); goto fail; }
            if (!strncmp(dl, "  ", 2)) continue; /* a struct field: a data import, see below */
            /* "RET Z_xZ_y(struct Z_x_instance_t*, T, ...);" */
            char rets[64], ret[128], fname[8192];
            const char *name_at;
            if (!paren || !parse_ret(dl, rets, sizeof rets, ret, sizeof ret, &name_at) ||
                sscanf(name_at, "%8191[^(]", fname) != 1) {
                set_err(err, PYLON_ERR_UNSUPPORTED, "aot: import \"%s\".\"%s\" passes references; the AOT tier does not support that yet", names[0], names[1]);
                goto fail;
            }
            const char *comma = strchr(paren, ',');
            char params[64];
            if (!parse_params(comma ? comma + 1 : "", params, sizeof params)) {
                set_err(err, PYLON_ERR_UNSUPPORTED, "aot: import \"%s\".\"%s\" passes references; the AOT tier does not support that yet", names[0], names[1]);
                goto fail;
            }
            /* its function index */
            uint32_t fi = 0, idx = UINT32_MAX;
            for (uint32_t k = 0; k < m->nimports; k++) {
                const pl_import *im = &m->imports[k];
                if (im->kind != PYLON_EXTERN_FUNC) continue;
                if (!strcmp(im->module, names[0]) && !strcmp(im->name, names[1])) { idx = fi; break; }
                fi++;
            }
            if (idx == UINT32_MAX) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: import \"%s\".\"%s\" not found", names[0], names[1]); goto fail; }
            char stype[256];
            const char *sp = strstr(paren, "struct ");
            if (!sp || sscanf(sp + 7, "%255[^*]", stype) != 1) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: cannot read import %s", fname); goto fail; }
            size_t np = strlen(params);
            pl_buf_printf(g, "%s %s(struct %s *pl_m", ret, fname, stype);
            for (size_t k = 0; k < np; k++) {
                const char *ct = params[k] == 'i' ? "u32" : params[k] == 'I' ? "u64" : params[k] == 'f' ? "f32" : "f64";
                pl_buf_printf(g, ", %s p%zu", ct, k);
            }
            size_t nr = strlen(rets);
            pl_buf_printf(g, ") {\n  uint64_t a[%zu], r[%zu];\n", np ? np : 1, nr ? nr : 1);
            for (size_t k = 0; k < np; k++) {
                if (params[k] == 'f') pl_buf_printf(g, "  a[%zu] = pl_bits32(p%zu);\n", k, k);
                else if (params[k] == 'F') pl_buf_printf(g, "  a[%zu] = pl_bits64(p%zu);\n", k, k);
                else pl_buf_printf(g, "  a[%zu] = (uint64_t)p%zu;\n", k, k);
            }
            pl_buf_printf(g, "  if (H->call_import(PL_CTX(pl_m), %uu, a, r)) H->rethrow();\n", idx);
            if (nr) {
                pl_buf_printf(g, "  %s v;\n", ret);
                for (size_t k = 0; k < nr; k++) {
                    pl_buf_put(g, "  ", 2);
                    put_result_field(g, rets, k);
                    if (rets[k] == 'i') pl_buf_printf(g, " = (u32)r[%zu];\n", k);
                    else if (rets[k] == 'I') pl_buf_printf(g, " = r[%zu];\n", k);
                    else if (rets[k] == 'f') pl_buf_printf(g, " = pl_f32(r[%zu]);\n", k);
                    else pl_buf_printf(g, " = pl_f64(r[%zu]);\n", k);
                }
                pl_buf_printf(g, "  return v;\n");
            }
            pl_buf_printf(g, "}\n");
        }
    }
    /* Exports: wasm2c declares one "...Z_mZ_<name>(Z_m_instance_t*...)" per
     * export, in the module's order, outside comments (its comments hold
     * the raw names, which may even contain newlines).  Pair them up by
     * position; the module's export section says what each is. */
    bool in_comment = false;
    for (const char *line = header; line; line = next_line(line, hend)) {
        const char *le = memchr(line, '\n', (size_t)(hend - line));
        size_t ll = le ? (size_t)(le - line) : (size_t)(hend - line);
        if (in_comment) {
            if (memmem(line, ll, "*/", 2)) in_comment = false;
            continue;
        }
        if (ll >= 2 && !memcmp(line, "/*", 2)) {
            if (!memmem(line, ll, "*/", 2)) in_comment = true;
            continue;
        }
        char dl[16384];
        if (ll >= sizeof dl) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: a declaration in wasm2c's header is too long"); goto fail; }
        snprintf(dl, sizeof dl, "%.*s", (int)ll, line);
        const char *paren = strstr(dl, "(Z_m_instance_t*");
        if (!paren || !strstr(dl, " Z_mZ_") || !strncmp(dl, "extern", 6)) continue;
        const pl_export *ex = exp_seen < m->nexports ? &m->exports[exp_seen] : NULL;
        exp_seen++;
        if (!ex) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: wasm2c declared more exports than the module has"); goto fail; }
        if (ex->kind != PYLON_EXTERN_FUNC) continue;
            char rets[64], ret[128], fname[8192];
            const char *name_at;
            const char *comma = strchr(paren, ',');
            char params[64];
            if (!parse_ret(dl, rets, sizeof rets, ret, sizeof ret, &name_at) ||
                sscanf(name_at, "%8191[^(]", fname) != 1 ||
                !parse_params(comma ? comma + 1 : "", params, sizeof params)) {
                set_err(err, PYLON_ERR_UNSUPPORTED, "aot: export \"%s\" passes references; the AOT tier does not support that yet", ex->name);
                goto fail;
            }
            size_t nr = strlen(rets);
            if (nr > 16) {
                set_err(err, PYLON_ERR_UNSUPPORTED, "aot: export \"%s\" returns %zu values; the AOT tier takes at most 16", ex->name, nr);
                goto fail;
            }
            pl_buf_printf(g, "static void pl_x%d(void *i, const uint64_t *a, uint64_t *r) {\n  ", nexp);
            if (nr) pl_buf_printf(g, "%s v = ", ret);
            else pl_buf_printf(g, "(void)r; ");
            pl_buf_printf(g, "%s((Z_m_instance_t *)i", fname);
            for (size_t k = 0; params[k]; k++) {
                pl_buf_put(g, ", ", 2);
                pl_buf_printf(g, conv_in[(int)params[k]], (int)k);
            }
            pl_buf_printf(g, ");\n");
            for (size_t k = 0; k < nr; k++) {
                pl_buf_printf(g, "  r[%zu] = %s(", k, conv_out[(int)rets[k]]);
                put_result_field(g, rets, k);
                pl_buf_printf(g, ");\n");
            }
            pl_buf_printf(g, "}\n");
            pl_buf_printf(&exports, "  {%uu, ", (unsigned)(ex - m->exports));
            c_string(&exports, ex->name);
            pl_buf_printf(&exports, ", \"%s:%s\", pl_x%d},\n", params, rets, nexp);
            nexp++;
    }
    if (exp_seen != m->nexports) {
        set_err(err, PYLON_ERR_UNSUPPORTED, "aot: wasm2c declared %u exports, the module has %u", exp_seen, m->nexports);
        goto fail;
    }
    /* data imports: memories and globals (tables were refused earlier) */
    for (const char *s = header; s; s = next_line(s, hend)) {
        /* one line: "extern TYPE* NAME(struct STRUCT*);" */
        char line[1024], type[128], fname[512], stype[256];
        const char *le = memchr(s, '\n', (size_t)(hend - s));
        size_t sl = le ? (size_t)(le - s) : (size_t)(hend - s);
        snprintf(line, sizeof line, "%.*s", (int)(sl < sizeof line ? sl : sizeof line - 1), s);
        if (strncmp(line, "extern ", 7) != 0 || !strstr(line, "(struct ")) continue;
        if (sscanf(line, "extern %127[^*]* %511[^(](struct %255[^*]*", type, fname, stype) != 3) continue;
        /* which import is it?  the struct field of the same name follows
         * its "import:" comment */
        char key[600];
        snprintf(key, sizeof key, " *%s;", fname);
        const char *field = strstr(header, key);
        const char *cm = field;
        while (cm && cm > header && strncmp(cm, "/* import: ", 11) != 0) cm--;
        char names[2][256];
        if (!field || !cm || quoted(cm, names, 2) != 2) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: cannot place %s", fname); goto fail; }
        while (strlen(type) && type[strlen(type) - 1] == ' ') type[strlen(type) - 1] = 0;
        if (!strcmp(type, "wasm_rt_memory_t")) {
            pl_buf_printf(g, "wasm_rt_memory_t *%s(struct %s *pl_m) { return (wasm_rt_memory_t *)H->memory(PL_CTX(pl_m)); }\n", fname, stype);
            continue;
        }
        if (ctype_letter(type) == '?' || ctype_letter(type) == 0) {
            set_err(err, PYLON_ERR_UNSUPPORTED, "aot: import \"%s\".\"%s\" is a %s; the AOT tier supports memories, numeric globals and functions",
                    names[0], names[1], type);
            goto fail;
        }
        uint32_t gi = UINT32_MAX;
        if (!strcmp(names[0], AOT_MODULE) && names[1][0] == 'g') gi = (uint32_t)strtoul(names[1] + 1, NULL, 10);
        else
            for (uint32_t k = 0, n = 0; k < m->nimports; k++) {
                if (m->imports[k].kind != PYLON_EXTERN_GLOBAL) continue;
                if (!strcmp(m->imports[k].module, names[0]) && !strcmp(m->imports[k].name, names[1])) { gi = n; break; }
                n++;
            }
        if (gi >= m->nglobals) { set_err(err, PYLON_ERR_UNSUPPORTED, "aot: global import \"%s\".\"%s\" not found", names[0], names[1]); goto fail; }
        pl_buf_printf(g, "%s *%s(struct %s *pl_m) { return (%s *)H->global(PL_CTX(pl_m), %uu); }\n", type, fname, stype, type, gi);
    }

    pl_buf_printf(g, "static const pl_aot_export pl_exports[] = {\n%s  {0, 0, 0, 0}\n};\n", exports.s ? exports.s : "");
    pl_buf_printf(g, "static void pl_init(const pl_aot_host *h) { pl_aot_rt_host = h; wasm_rt_init(); Z_m_init_module(); }\n");
    pl_buf_printf(g, "volatile uint32_t pl_poll_pending;\n"
            "void pl_poll_slow(void) { if (H->poll()) H->rethrow(); }\n");
    pl_buf_printf(g, "static void pl_instantiate(void *i, void *ctx) {\n  pl_inst *p = i;\n");
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, "  p->s%d.self = &p->s%d; p->s%d.ctx = ctx;\n", i, i, i);
    pl_buf_printf(g, "  Z_m_instantiate(&p->w");
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, ", &p->s%d", i);
    pl_buf_printf(g, ");\n}\n");
    /* the same for pl_adopt_instantiate (see add_adopt) */
    const char *paren = strchr(decl, '(');
    pl_buf_printf(g, "void pl_adopt_instantiate%s\n", paren ? paren : "();");
    pl_buf_printf(g, "static void pl_adopt(void *i, void *ctx) {\n  pl_inst *p = i;\n");
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, "  p->s%d.self = &p->s%d; p->s%d.ctx = ctx;\n", i, i, i);
    pl_buf_printf(g, "  pl_adopt_instantiate(&p->w");
    for (int i = 0; i < nstructs; i++) pl_buf_printf(g, ", &p->s%d", i);
    pl_buf_printf(g, ");\n}\n");
    pl_buf_printf(g, "static void pl_free(void *i) { Z_m_free(i); }\n");
    pl_buf_printf(g, "#if WASM_RT_USE_STACK_DEPTH_COUNT\n#define PL_DEPTH &wasm_rt_call_stack_depth\n#else\n#define PL_DEPTH 0\n#endif\n");
    pl_buf_printf(g, "__attribute__((visibility(\"default\"))) const pl_aot_module pylon_aot_module = {\n"
            "  PL_AOT_ABI, \"%s\", sizeof(pl_inst), pl_init, pl_instantiate, pl_free, %d, pl_exports, PL_DEPTH,\n"
            "  PL_SEGUE ? PL_AOT_SEGUE : 0, \"%s\", &pl_poll_pending, pl_adopt\n};\n",
         digest, nexp, pl_aot_cpu_identity());
    free(exports.s);
    if (g->oom) { set_err(err, PYLON_ERR_NOMEM, "aot: out of host memory"); return false; }
    return true;
fail:
    free(exports.s);
    return false;
}

/* ---- the compile driver ----------------------------------------------------------- */

/* Segue (aot_inject.h) serves modules with exactly one memory, on machines
 * that have it.  The choice is part of the cache key. */
static bool aot_uses_segue(const pl_module *m) { return m->nmems == 1 && pl_aot_segue_available(); }

/* Counts the calls on one line of wasm2c's output: direct calls pass
 * `instance` first, imported functions their module's instance
 * (`instance->Z_x_instance`), indirect ones go through CALL_INDIRECT. */
static uint32_t calls_on_line(const char *l, size_t n) {
    static const char *const pats[] = {"(instance,", "(instance)", "_instance,", "_instance)", "CALL_INDIRECT("};
    uint32_t k = 0;
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        size_t pl = strlen(pats[i]);
        for (const char *p = l; (p = memmem(p, n - (size_t)(p - l), pats[i], pl)) != NULL; p += pl) k++;
    }
    return k;
}

typedef struct { char name[64]; uint32_t calls; } seen_label;

/* Appends pl_adopt_instantiate: wasm2c's Z_m_instantiate without the parts
 * that write memory or run code (active data segments, the start
 * function), for an instance that takes over a live instance's memory and
 * globals (pylon_instance_retier).  Kept: imports, tables and their
 * segments, the segments' dropped state. */
static bool add_adopt(pl_buf *b) {
    /* memmem: wasm2c copies export names, NULs included, into comments */
    static const char head[] = "\nvoid Z_m_instantiate(";
    const char *bend = b->s + b->len;
    const char *d = b->s ? memmem(b->s, b->len, head, sizeof head - 1) : NULL;
    const char *body = d ? memchr(d + 1, '\n', (size_t)(bend - d - 1)) : NULL;
    const char *end = body ? memmem(body, (size_t)(bend - body), "\n}\n", 3) : NULL;
    if (!end) return false;
    pl_buf a = {0};
    pl_buf_put(&a, "\nvoid pl_adopt_instantiate(", 27);
    pl_buf_put(&a, d + sizeof head - 1, (size_t)(body + 1 - (d + sizeof head - 1)));
    static const char *const keep[] = {"  init_instance_import(", "  init_globals(", "  init_tables(",
                                        "  init_data_instances(", "  init_elem_instances("};
    for (const char *l = body + 1; l < end + 1;) {
        const char *le = (const char *)memchr(l, '\n', (size_t)(bend - l)) + 1;
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
            if (!strncmp(l, keep[k], strlen(keep[k]))) pl_buf_put(&a, l, (size_t)(le - l));
        l = le;
    }
    pl_buf_put(&a, "}\n", 2);
    pl_buf_put(b, a.s, a.len);
    bool ok = !a.oom;
    free(a.s);
    return ok;
}

#define PL_TABLE_TRAPS_BEGIN "#pragma push_macro(\"TRAP\")\n#undef TRAP\n#define TRAP(x) PL_TABLE_TRAP(x)\n"
#define PL_TABLE_TRAPS_END "#pragma pop_macro(\"TRAP\")\n"

/* Applies aot_inject.h to wasm2c's output: one #include, inserted where
 * wasm2c instantiates its load/store helpers (so it can redefine them),
 * and loop safepoints.  wasm2c names labels per function and defines a
 * loop's label before any branch to it, so a goto to a label already seen
 * in this function is a back-edge.  Back-edges of loops that call
 * something get PL_BACK; leaf loops (a memset, a sieve's inner loop) stay
 * as they are, because a poll there costs up to 40% (measured: bench
 * geomean 0.91 -> 0.79 with every loop polled).  Every Python-level loop
 * runs through the eval loop, which calls; a leaf loop that never ends is
 * still stopped by pylon_instance_stop's signal. */
static bool inject(const char *dir, pylon_error *err) {
    static const char anchor[] = "\nDEFINE_LOAD(i32_load, u32, u32, u32)\n";
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/m.c", dir);
    size_t n = 0;
    char *c = read_text_len(path, &n);
    char *at = c ? strstr(c, anchor) : NULL;
    if (!at) {
        free(c);
        set_err(err, PYLON_ERR_UNSUPPORTED, "aot: wasm2c's output has no DEFINE_LOAD(i32_load ...) line; "
                "this wasm2c is not the one Pylon knows (Debian's wabt 1.0.32)");
        return false;
    }
    pl_buf b = {0};
    pl_buf_put(&b, c, (size_t)(at - c) + 1);
    pl_buf_put(&b, "#include \"aot_inject.h\"\n", 24);
    seen_label *seen = NULL;
    size_t nseen = 0, capseen = 0;
    bool table_helpers = false; /* inside wasm2c's table helpers (aot_inject.h, 2.) */
    uint32_t calls = 0; /* so far in this function */
    bool oom = false;
    const char *end = c + n;
    for (const char *line = at + 1; line < end;) {
        const char *le = memchr(line, '\n', (size_t)(end - line));
        le = le ? le + 1 : end;
        if (line[0] != ' ' && line[0] != '\n' && memchr(line, '{', (size_t)(le - line))) { /* a new function */
            nseen = 0;
            calls = 0;
        }
        const char *t = line;
        while (t < le && *t == ' ') t++;
        size_t id = 0;
        while (t + id < le && (t[id] == '_' || (t[id] >= 'a' && t[id] <= 'z') || (t[id] >= 'A' && t[id] <= 'Z') ||
                               (t[id] >= '0' && t[id] <= '9')))
            id++;
        if (id && id < sizeof seen->name && t + id < le && t[id] == ':' && (t + id + 1 == le || t[id + 1] != ':')) {
            if (nseen == capseen) {
                size_t nc = capseen ? capseen * 2 : 64;
                seen_label *ns = realloc(seen, nc * sizeof *ns);
                if (!ns) { oom = true; break; }
                seen = ns;
                capseen = nc;
            }
            memcpy(seen[nseen].name, t, id);
            seen[nseen].name[id] = 0;
            seen[nseen++].calls = calls;
        }
        calls += calls_on_line(line, (size_t)(le - line));
        /* wasm2c's table helpers, from the first to the module's state:
         * their bounds traps are table traps (aot_inject.h, 2.) */
        static const char tables_from[] = "static inline void funcref_table_init(";
        static const char tables_to[] = "static bool s_module_initialized";
        if (!table_helpers && !strncmp(line, tables_from, sizeof tables_from - 1)) {
            pl_buf_put(&b, PL_TABLE_TRAPS_BEGIN, strlen(PL_TABLE_TRAPS_BEGIN));
            table_helpers = true;
        } else if (table_helpers && !strncmp(line, tables_to, sizeof tables_to - 1)) {
            pl_buf_put(&b, PL_TABLE_TRAPS_END, strlen(PL_TABLE_TRAPS_END));
            table_helpers = false;
        }
        /* rewrite this line's back-edges out of loops that call */
        const char *p = line;
        for (const char *g; (g = memmem(p, (size_t)(le - p), "goto ", 5)) != NULL;) {
            const char *nm = g + 5;
            size_t k = 0;
            while (nm + k < le && nm[k] != ';' && nm[k] != ' ') k++;
            bool poll = false;
            if (k < sizeof seen->name && nm + k < le && nm[k] == ';')
                for (size_t x = 0; x < nseen; x++)
                    if (!strncmp(seen[x].name, nm, k) && !seen[x].name[k]) { poll = calls > seen[x].calls; break; }
            if (!poll) { pl_buf_put(&b, p, (size_t)(nm - p)); p = nm; continue; }
            pl_buf_put(&b, p, (size_t)(g - p));
            pl_buf_put(&b, "PL_BACK(", 8);
            pl_buf_put(&b, nm, k);
            pl_buf_put(&b, ");", 2);
            p = nm + k + 1;
        }
        pl_buf_put(&b, p, (size_t)(le - p));
        line = le;
    }
    if (!oom) oom = !add_adopt(&b);
    bool ok = !oom && !b.oom && write_file(dir, "m.c", b.s, b.len);
    free(c);
    free(b.s);
    free(seen);
    if (!ok) set_err(err, PYLON_ERR_ARG, "aot: cannot rewrite %s", path);
    return ok;
}

static const char *aot_cc(void) {
    const char *cc = getenv("PYLON_AOT_CC");
    return cc && *cc ? cc : AOT_CC_DEFAULT;
}

int pylon_aot_compile(const uint8_t *wasm, size_t len, const char *out_path, pylon_error *err) {
    pylon_error local;
    if (!err) err = &local;
    memset(err, 0, sizeof *err);
    /* the artifact replaces out_path by rename: never a device or a directory */
    struct stat ost;
    if (lstat(out_path, &ost) == 0 && !S_ISREG(ost.st_mode)) {
        set_err(err, PYLON_ERR_ARG, "aot: refusing to replace %s: it is not a regular file; choose another -o", out_path);
        return -1;
    }
    make_parent_dirs(out_path);
    /* validate first: wasm2c must only ever see valid modules */
    pylon_module *pm = pylon_module_load(wasm, len, err);
    if (!pm) return -1;
    const pl_module *m = (const pl_module *)pm;
    int rc = -1;
    char dir[] = "/tmp/pylon-aot-XXXXXX";
    pl_buf rw = {0}, glue = {0};
    char *header = NULL;
    bool made_dir = false;

    for (uint32_t i = 0; i < m->nimports; i++) {
        if (!strcmp(m->imports[i].module, AOT_MODULE)) {
            set_err(err, PYLON_ERR_UNSUPPORTED, "aot: the module imports from \"%s\", a name the AOT tier reserves", AOT_MODULE);
            goto out;
        }
        if (m->imports[i].kind == PYLON_EXTERN_TABLE) {
            set_err(err, PYLON_ERR_UNSUPPORTED, "aot: the module imports a table (\"%s\".\"%s\"); the AOT tier keeps tables inside the artifact, use the interpreter",
                    m->imports[i].module, m->imports[i].name);
            goto out;
        }
    }
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == PYLON_EXTERN_TABLE) {
            set_err(err, PYLON_ERR_UNSUPPORTED, "aot: the module exports a table (\"%s\"); the AOT tier keeps tables inside the artifact, use the interpreter",
                    m->exports[i].name);
            goto out;
        }
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++)
        if (m->globals[i].type == PYLON_FUNCREF || m->globals[i].type == PYLON_EXTERNREF) {
            set_err(err, PYLON_ERR_UNSUPPORTED, "aot: global %u holds references; the AOT tier does not support that yet", i);
            goto out;
        }

    if (!mkdtemp(dir)) { set_err(err, PYLON_ERR_ARG, "aot: cannot create a temporary directory: %s", strerror(errno)); goto out; }
    made_dir = true;
    if (!rewrite(wasm, len, m, &rw, err)) goto out;
    char digest[65];
    pl_sha256_hex(wasm, len, digest);
    if (!write_file(dir, "m.wasm", rw.s, rw.len) ||
        !write_file(dir, "aot_rt.c", pl_aot_rt_src, strlen(pl_aot_rt_src)) ||
        !write_file(dir, "aot_abi.h", pl_aot_abi_src, strlen(pl_aot_abi_src)) ||
        !write_file(dir, "aot_inject.h", pl_aot_inject_src, strlen(pl_aot_inject_src))) {
        set_err(err, PYLON_ERR_ARG, "aot: cannot write to %s: %s", dir, strerror(errno));
        goto out;
    }

    char wasm_in[PATH_MAX], c_out[PATH_MAX], log[PATH_MAX], tail[200];
    snprintf(wasm_in, sizeof wasm_in, "%s/m.wasm", dir);
    snprintf(c_out, sizeof c_out, "%s/m.c", dir);
    snprintf(log, sizeof log, "%s/wasm2c.log", dir);
    char *w2c_argv[] = {"wasm2c", wasm_in, "-n", "m", "-o", c_out, NULL};
    int st = run_cmd(w2c_argv, log);
    if (st != 0) {
        log_tail(log, tail, sizeof tail);
        set_err(err, PYLON_ERR_UNSUPPORTED, "aot: wasm2c failed (%d): %s; is Debian's wabt installed?", st, tail);
        goto out;
    }
    char hpath[PATH_MAX];
    snprintf(hpath, sizeof hpath, "%s/m.h", dir);
    size_t header_len = 0;
    header = read_text_len(hpath, &header_len);
    if (!header) { set_err(err, PYLON_ERR_ARG, "aot: cannot read wasm2c's header"); goto out; }
    bool segue = aot_uses_segue(m);
    if (!inject(dir, err)) goto out;
    if (!gen_glue(m, header, header_len, digest, &glue, err)) goto out;
    if (!write_file(dir, "glue.c", glue.s, glue.len)) { set_err(err, PYLON_ERR_ARG, "aot: cannot write the glue"); goto out; }

    char tmp_out[PATH_MAX + 16], inc[PATH_MAX + 4], glue_c[PATH_MAX], rt_c[PATH_MAX];
    snprintf(tmp_out, sizeof tmp_out, "%s.tmp%d", out_path, (int)getpid());
    snprintf(inc, sizeof inc, "-I%s", dir);
    snprintf(glue_c, sizeof glue_c, "%s/glue.c", dir);
    snprintf(rt_c, sizeof rt_c, "%s/aot_rt.c", dir);
    snprintf(log, sizeof log, "%s/cc.log", dir);
    /* no bounds checks in the code: memories are guarded (see aot_run) */
    /* no tail calls: wasm recursion must grow the stack so that runaway
     * recursion exhausts it (and traps) instead of becoming a loop */
    /* for this CPU, as a JIT would: the cache is per machine (cpu_identity) */
    char *cc_argv[] = {(char *)aot_cc(), "-O2", pl_aot_cpu_identity()[0] ? "-march=native" : "-march=x86-64",
                       "-fno-optimize-sibling-calls", "-shared", "-fPIC",
                       "-fvisibility=hidden", "-w",
                       "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", segue ? "-DPL_SEGUE=1" : "-DPL_SEGUE=0",
                       inc, c_out, glue_c, rt_c, "-lm", "-o", tmp_out, NULL};
    st = run_cmd(cc_argv, log);
    if (st != 0) {
        log_tail(log, tail, sizeof tail);
        unlink(tmp_out);
        set_err(err, PYLON_ERR_UNSUPPORTED, "aot: %s failed (%d): %s", aot_cc(), st, tail);
        goto out;
    }
    if (rename(tmp_out, out_path) != 0) {
        unlink(tmp_out);
        set_err(err, PYLON_ERR_ARG, "aot: cannot write %s: %s", out_path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (made_dir && getenv("PYLON_AOT_KEEP")) fprintf(stderr, "pylon aot: kept %s\n", dir);
    else if (made_dir) rm_tree(dir);
    free(rw.s);
    free(glue.s);
    free(header);
    pylon_module_free(pm);
    return rc;
}

/* ---- the artifact cache key ---------------------------------------------------------- */

int pylon_aot_cache_path(const uint8_t *wasm, size_t len, char *out, size_t cap) {
    char digest[65];
    pl_sha256_hex(wasm, len, digest);
    /* the toolchain: the compiler's identity as a file, cheap to check */
    char ident[512];
    struct stat st;
    char cc_path[PATH_MAX];
    snprintf(cc_path, sizeof cc_path, "/usr/bin/%s", aot_cc());
    if (stat(aot_cc()[0] == '/' ? aot_cc() : cc_path, &st) != 0) memset(&st, 0, sizeof st);
    /* ... and the artifact's own sources, so a change to them rebuilds */
    char rt[65];
    size_t nrt = strlen(pl_aot_rt_src), nabi = strlen(pl_aot_abi_src), nmem = strlen(pl_aot_inject_src);
    char *srcs = malloc(nrt + nabi + nmem + 1);
    if (!srcs) return -1;
    memcpy(srcs, pl_aot_rt_src, nrt);
    memcpy(srcs + nrt, pl_aot_abi_src, nabi);
    memcpy(srcs + nrt + nabi, pl_aot_inject_src, nmem);
    pl_sha256_hex(srcs, nrt + nabi + nmem, rt);
    free(srcs);
    snprintf(ident, sizeof ident, "abi%d;%s;%lld;%lld;segue%d;rt%.16s;cpu%.16s", PL_AOT_ABI, aot_cc(),
             (long long)st.st_size, (long long)st.st_mtime, (int)pl_aot_segue_available(), rt, pl_aot_cpu_identity());
    char tc[65];
    pl_sha256_hex(ident, strlen(ident), tc);
    const char *base = getenv("PYLON_CACHE_DIR");
    char dflt[PATH_MAX];
    if (!base || !*base) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg && *xdg) snprintf(dflt, sizeof dflt, "%s/pylon", xdg);
        else snprintf(dflt, sizeof dflt, "%s/.cache/pylon", home && *home ? home : "/tmp");
        base = dflt;
    }
    int n = snprintf(out, cap, "%s/aot/%s-%.12s.so", base, digest, tc);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* ---- the cache in use ---------------------------------------------------------------- */

int pylon_aot_cached(const uint8_t *wasm, size_t len) {
    char path[PATH_MAX];
    struct stat st;
    return pylon_aot_cache_path(wasm, len, path, sizeof path) == 0 && stat(path, &st) == 0;
}

/* Digests this process already sent to the background, so a provider that
 * is re-instantiated while its compile runs does not start another. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static char (*bg_started)[65];
static size_t bg_n;

int pylon_aot_compile_background(const uint8_t *wasm, size_t len) {
    char path[PATH_MAX], digest[65];
    struct stat st;
    if (pylon_aot_cache_path(wasm, len, path, sizeof path) != 0) return -1;
    if (stat(path, &st) == 0) return 0;
    pl_sha256_hex(wasm, len, digest);
    pthread_mutex_lock(&bg_lock);
    for (size_t i = 0; i < bg_n; i++)
        if (!strcmp(bg_started[i], digest)) { pthread_mutex_unlock(&bg_lock); return 0; }
    char (*grown)[65] = realloc(bg_started, (bg_n + 1) * sizeof *bg_started);
    if (grown) { bg_started = grown; memcpy(bg_started[bg_n++], digest, 65); }
    pthread_mutex_unlock(&bg_lock);
    if (!grown) return -1;
    make_parent_dirs(path);
    /* Double fork: the compiler process is nobody's child here (no zombie,
     * no wait) and lives on when Pylon exits.  It ignores SIGINT so that
     * Ctrl-C on the run does not also kill the compile, and holds none of
     * the host's descriptors.  The artifact appears atomically (rename),
     * so a concurrent load sees all of it or nothing. */
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (fork() != 0) _exit(0);
        setsid();
        signal(SIGINT, SIG_IGN);
        close_inherited_fds();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
        if (setpriority(PRIO_PROCESS, 0, 10) != 0) { /* best effort */ }
        /* one compile per artifact across processes too: whoever holds
         * the lock compiles, the others leave it to them */
        char lock[PATH_MAX + 8];
        snprintf(lock, sizeof lock, "%s.lock", path);
        int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) _exit(0);
        struct stat done;
        int rc = stat(path, &done) == 0 ? 0 : pylon_aot_compile(wasm, len, path, NULL);
        unlink(lock);
        _exit(rc == 0 ? 0 : 1);
    }
    int wst;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {}
    return 0;
}
