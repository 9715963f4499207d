/*
 * dynlink_bench.c — what a call through compose:dynlink costs, in one run:
 *
 *   1. invoke round trip (guest -> host -> provider -> host -> guest) for
 *      0 B, 64 B, 4 KiB and 1 MiB payloads, echoed back, with and without
 *      the per-invoke time limit (the watchdog arm/disarm);
 *   2. CRC-32C throughput of both crc32c providers through dynlink, the
 *      same provider code called directly by the host (the engine alone,
 *      no boundary), and the same C compiled natively.
 *
 * The guest is bench/dynlink_guest.c, a bare module that loops invokes:
 * what a C extension in python.wasm does per call, minus Python.  Blobs,
 * trust and the audit log live in a temp directory; the plan is built in
 * memory.  Times are wall clock (CLOCK_MONOTONIC), best of --reps runs,
 * each calibrated to about --target-ms.  Prints a Markdown table for
 * docs/dynlink.md.
 *
 *   dynlink_bench [--dir BUILD/dynlink] [--caps BUILD/caps/crc32c]
 *                 [--target-ms 300] [--reps 3] [--quick] [--only rt|crc]
 *                 [--python build/python-caps/python.wasm [--root .]]
 *
 * With --python (a python.wasm that has _crc32c_dynlink_cap), it also runs
 * tests/dynlink/test_crc32c.py --bench in it, against the same host: the
 * cap from Python vs CRC-32C in pure Python.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pylon/engine.h"
#include "pylon/host.h"
#include "pylon/wasi.h"

uint32_t crc32c_table_extend(uint32_t crc, const uint8_t *p, size_t n);
void crc32c_table_init(void);
uint32_t crc32c_slice8_extend(uint32_t crc, const uint8_t *p, size_t n);
void crc32c_slice8_init(void);
uint32_t crc32c_wide16_extend(uint32_t crc, const uint8_t *p, size_t n);
void crc32c_wide16_init(void);

static const char *dl_dir = "build/dynlink", *caps_dir = "build/caps/crc32c";
static double target_ms = 300;
static int reps = 3;
static bool quick;
static pylon_tier tier = PYLON_TIER_INTERP;   /* --engine: for every module here */
static const char *only = "";   /* "", "rt" or "crc" */
static const char *python_wasm, *root = ".";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "dynlink_bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read %s (run 'make dynlink' first)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) die("short read of %s", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* ---- the guest --------------------------------------------------------------------- */

static pylon_instance *guest;
static pylon_func *f_buf, *f_resolve, *f_invoke, *f_invoke_u32;
static pylon_memory *gmem;

static uint32_t guest_buf(uint32_t n) {
    pylon_val a = { .i32 = (int32_t)n }, r;
    pylon_trap t;
    if (pylon_call(f_buf, &a, 1, &r, 1, &t)) die("bench_buf trapped: %s", t.message);
    return (uint32_t)r.i32;
}

static uint32_t resolve(const char *id) {
    uint32_t p = guest_buf((uint32_t)strlen(id));
    pylon_memory_write(gmem, p, id, strlen(id));
    pylon_val a = { .i32 = (int32_t)strlen(id) }, r;
    pylon_trap t;
    if (pylon_call(f_resolve, &a, 1, &r, 1, &t)) die("bench_resolve trapped: %s", t.message);
    if (r.i32 <= 0) {
        fprintf(stderr, "dynlink_bench: resolve %s failed: %s\n", id, pylon_host_code_name(-r.i32 - 1));
        exit(1);
    }
    return (uint32_t)r.i32;
}

/* Puts method + payload into the guest buffer. */
static void stage(const char *method, const uint8_t *payload, uint32_t plen) {
    uint32_t ml = (uint32_t)strlen(method);
    uint32_t p = guest_buf(ml + plen);
    pylon_memory_write(gmem, p, method, ml);
    if (plen) pylon_memory_write(gmem, p + ml, payload, plen);
}

static int64_t invoke_loop(uint32_t h, const char *method, uint32_t plen, uint32_t iters) {
    pylon_val a[4] = { { .i32 = (int32_t)h }, { .i32 = (int32_t)strlen(method) },
                       { .i32 = (int32_t)plen }, { .i32 = (int32_t)iters } }, r;
    pylon_trap t;
    if (pylon_call(f_invoke, a, 4, &r, 1, &t)) die("bench_invoke trapped: %s", t.message);
    if (r.i64 < 0) {
        fprintf(stderr, "dynlink_bench: invoke %s failed: %s\n", method, pylon_host_code_name((int)(-r.i64 - 1)));
        exit(1);
    }
    return r.i64;
}

static uint32_t invoke_u32(uint32_t h, const char *method, uint32_t plen) {
    pylon_val a[3] = { { .i32 = (int32_t)h }, { .i32 = (int32_t)strlen(method) }, { .i32 = (int32_t)plen } }, r;
    pylon_trap t;
    if (pylon_call(f_invoke_u32, a, 3, &r, 1, &t)) die("bench_invoke_u32 trapped: %s", t.message);
    if (r.i64 < 0) die("invoke_u32 %s failed", method);
    return (uint32_t)r.i64;
}

/* Seconds per iteration of fn(iters), calibrated and best of reps. */
typedef void (*loop_fn)(void *ctx, uint32_t iters);
static double per_iter(loop_fn fn, void *ctx) {
    double tgt = (quick ? 30 : target_ms) / 1000;
    uint32_t n = 1;
    double t;
    for (;;) {
        double t0 = now_s();
        fn(ctx, n);
        t = now_s() - t0;
        if (t >= tgt / 8 || n >= (1u << 30)) break;
        n *= 2;
    }
    uint64_t want = (uint64_t)(n * (tgt / (t > 0 ? t : 1e-9)));
    n = want < 1 ? 1 : want > (1u << 30) ? 1u << 30 : (uint32_t)want;
    double best = 1e30;
    for (int r = 0; r < (quick ? 1 : reps); r++) {
        double t0 = now_s();
        fn(ctx, n);
        double el = (now_s() - t0) / n;
        if (el < best) best = el;
    }
    return best;
}

typedef struct inv_ctx { uint32_t h; const char *method; uint32_t plen; } inv_ctx;
static void inv_loop(void *c, uint32_t n) {
    inv_ctx *x = c;
    invoke_loop(x->h, x->method, x->plen, n);
}

/* ---- the provider called directly: the engine without the boundary ------------------ */

typedef struct direct_ctx {
    pylon_instance *inst;
    pylon_func *handle, *post;
    uint32_t m, mlen, p, plen;
} direct_ctx;

static void direct_loop(void *c, uint32_t n) {
    direct_ctx *x = c;
    pylon_val a[4] = { { .i32 = (int32_t)x->m }, { .i32 = (int32_t)x->mlen },
                       { .i32 = (int32_t)x->p }, { .i32 = (int32_t)x->plen } }, r;
    pylon_trap t;
    for (uint32_t i = 0; i < n; i++) {
        if (pylon_call(x->handle, a, 4, &r, 1, &t)) die("direct handle trapped: %s", t.message);
        /* The SDK's post-return would reset the arena holding the
         * arguments; they are placed above it here instead, once. */
    }
}

static uint32_t direct_setup(direct_ctx *x, const char *wasm, const uint8_t *data, uint32_t len) {
    size_t blen;
    uint8_t *bytes = slurp(wasm, &blen);
    pylon_error err;
    pylon_module *m = pylon_module_load_tier(bytes, blen, tier, NULL, NULL, NULL, &err);
    free(bytes);
    if (!m) die("%s does not load", wasm);
    pylon_trap t;
    x->inst = pylon_instantiate(m, NULL, NULL, &err, &t);
    pylon_module_free(m);
    if (!x->inst) die("cannot instantiate %s", wasm);
    pylon_func *init = pylon_instance_func(x->inst, "_initialize");
    if (init && pylon_call(init, NULL, 0, NULL, 0, &t)) die("_initialize trapped: %s", t.message);
    x->handle = pylon_instance_func(x->inst, "compose:dynlink/endpoint@0.1.0#handle");
    pylon_func *re = pylon_instance_func(x->inst, "cabi_realloc");
    pylon_memory *mem = pylon_instance_memory(x->inst, "memory");
    pylon_val a[4] = { { .i32 = 0 }, { .i32 = 0 }, { .i32 = 8 }, { .i32 = (int32_t)(len + 8) } }, r;
    if (pylon_call(re, a, 4, &r, 1, &t)) die("cabi_realloc trapped: %s", t.message);
    x->m = (uint32_t)r.i32;
    x->mlen = 6;
    x->p = x->m + 8;
    x->plen = len;
    pylon_memory_write(mem, x->m, "crc32c", 6);
    pylon_memory_write(mem, x->p, data, len);
    /* Keep the block: the SDK's arena would otherwise hand it out again. */
    pylon_val r2;
    if (pylon_call(x->handle, (pylon_val[4]){ { .i32 = (int32_t)x->m }, { .i32 = 6 }, { .i32 = (int32_t)x->p },
                                             { .i32 = (int32_t)len } }, 4, &r2, 1, &t))
        die("handle trapped: %s", t.message);
    uint32_t ra = (uint32_t)r2.i32, rp, v;
    pylon_memory_read(mem, ra + 4, &rp, 4);
    pylon_memory_read(mem, rp, &v, 4);
    return v;
}

/* ---- native --------------------------------------------------------------------------- */

typedef struct native_ctx {
    uint32_t (*fn)(uint32_t, const uint8_t *, size_t);
    const uint8_t *data;
    size_t len;
    volatile uint32_t sink;
} native_ctx;

static void native_loop(void *c, uint32_t n) {
    native_ctx *x = c;
    for (uint32_t i = 0; i < n; i++) x->sink = x->fn(x->sink & 1, x->data, x->len);
}

/* ---- main --------------------------------------------------------------------------------- */

/* ---- python.wasm: the cap from Python ------------------------------------------------- */

static void run_python(pylon_host *host) {
    char lib[4096], caps[4096], tests[4096];
    snprintf(lib, sizeof lib, "%s/lib", python_wasm);
    char *slash = strrchr(lib, '/');
    *slash = 0;
    slash = strrchr(lib, '/');
    if (slash) strcpy(slash, "/lib"); else strcpy(lib, "lib");
    snprintf(caps, sizeof caps, "%s/caps/crc32c/python", root);
    snprintf(tests, sizeof tests, "%s/tests/dynlink", root);
    pylon_wasi_config *cfg = pylon_wasi_config_new();
    const char *args[] = { "python", "/t/test_crc32c.py", "--bench" };
    for (int i = 0; i < 3; i++) pylon_wasi_config_arg(cfg, args[i]);
    pylon_wasi_config_env(cfg, "PYTHONHOME=/usr");
    pylon_wasi_config_env(cfg, "PYTHONPATH=/caps");
    pylon_wasi_config_env(cfg, "PYTHONDONTWRITEBYTECODE=1");
    pylon_wasi_config_dir(cfg, lib, "/usr/lib", PYLON_WASI_READONLY);
    pylon_wasi_config_dir(cfg, caps, "/caps", PYLON_WASI_READONLY);
    pylon_wasi_config_dir(cfg, tests, "/t", PYLON_WASI_READONLY);
    pylon_error err;
    pylon_wasi *w = pylon_wasi_new(cfg, &err);
    if (!w) die("python: %s", err.message);
    size_t len;
    uint8_t *bytes = slurp(python_wasm, &len);
    pylon_module *m = pylon_module_load_tier(bytes, len, tier, NULL, NULL, NULL, &err);
    free(bytes);
    if (!m) die("python.wasm: %s", err.message);
    pylon_imports *imp = pylon_imports_new();
    pylon_wasi_add_imports(imp, w);
    pylon_host_add_imports(host, imp, "python");
    pylon_trap trap;
    pylon_instance *inst = pylon_instantiate(m, imp, NULL, &err, &trap);
    if (!inst) die("python.wasm: %s", err.message);
    printf("\n");
    fflush(stdout);
    int code = 0;
    if (pylon_wasi_start(inst, &code, &trap) != 0) die("python.wasm trapped: %s", trap.message);
    if (code) fprintf(stderr, "dynlink_bench: the Python bench exited with %d\n", code);
    pylon_instance_free(inst);
    pylon_imports_free(imp);
    pylon_module_free(m);
    pylon_wasi_free(w);
    pylon_wasi_config_free(cfg);
}

static pylon_digest add_blob(pylon_blobstore *bs, pylon_trust *t, const char *path) {
    size_t len;
    uint8_t *b = slurp(path, &len);
    pylon_digest d;
    pylon_host_error e;
    if (pylon_blob_put(bs, b, len, &d, &e) || pylon_trust_allow(t, &d, &e)) die("%s", e.message);
    free(b);
    return d;
}

static void add_cap(pylon_plan *p, const char *id, const pylon_digest *d, uint64_t timeout_ms) {
    pylon_host_error e;
    pylon_plan_cap *c = pylon_plan_add_cap(p, id, &e);
    if (!c) die("%s", e.message);
    c->digest = *d;
    c->all_methods = true;
    c->limits.timeout_ms = timeout_ms;
    c->limits.max_result = 64u << 20;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dl_dir = argv[++i];
        else if (!strcmp(argv[i], "--caps") && i + 1 < argc) caps_dir = argv[++i];
        else if (!strcmp(argv[i], "--target-ms") && i + 1 < argc) target_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = true;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
            const char *v = argv[++i];
            tier = !strcmp(v, "aot") ? PYLON_TIER_AOT : !strcmp(v, "auto") ? PYLON_TIER_AUTO : PYLON_TIER_INTERP;
        }
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) python_wasm = argv[++i];
        else if (!strcmp(argv[i], "--root") && i + 1 < argc) root = argv[++i];
        else {
            fprintf(stderr, "usage: dynlink_bench [--dir BUILD/dynlink] [--caps BUILD/caps/crc32c] "
                    "[--target-ms MS] [--reps N] [--quick] [--only rt|crc]\n"
                    "                     [--engine interp|aot|auto] (every module: guest, providers, python)\n"
                    "                     [--python PYTHON.wasm [--root REPO]]\n");
            return 2;
        }
    }
    char home[] = "/tmp/pylon-dlbench.XXXXXX", path[4096];
    if (!mkdtemp(home)) die("mkdtemp: %s", strerror(errno));
    pylon_host_paths paths = { .home = home };
    pylon_host_error e;
    snprintf(path, sizeof path, "%s/blobs", home);
    pylon_blobstore *bs = pylon_blob_open(path, &e);
    snprintf(path, sizeof path, "%s/trust", home);
    pylon_trust *t = pylon_trust_open(path, &e);
    if (!bs || !t) die("%s", e.message);

    snprintf(path, sizeof path, "%s/fixtures/echo.wasm", dl_dir);
    pylon_digest echo = add_blob(bs, t, path);
    snprintf(path, sizeof path, "%s/table.wasm", caps_dir);
    pylon_digest table = add_blob(bs, t, path);
    snprintf(path, sizeof path, "%s/slice8.wasm", caps_dir);
    pylon_digest slice8 = add_blob(bs, t, path);
    snprintf(path, sizeof path, "%s/wide16.wasm", caps_dir);
    pylon_digest wide16 = add_blob(bs, t, path);
    pylon_plan *plan = pylon_plan_new("bench-plan");
    add_cap(plan, "echo", &echo, PYLON_PLAN_DEFAULT_TIMEOUT_MS);
    add_cap(plan, "echo-nowatchdog", &echo, 0);
    add_cap(plan, "crc-table", &table, PYLON_PLAN_DEFAULT_TIMEOUT_MS);
    add_cap(plan, "crc-slice8", &slice8, PYLON_PLAN_DEFAULT_TIMEOUT_MS);
    add_cap(plan, "crc-wide16", &wide16, PYLON_PLAN_DEFAULT_TIMEOUT_MS);
    add_cap(plan, "crc32c", &wide16, PYLON_PLAN_DEFAULT_TIMEOUT_MS);   /* what the Python facade resolves */
    const char *star = "*";
    pylon_plan_set_list(&plan->guest_resolve, &plan->nguest_resolve, &star, 1);
    pylon_host *host = pylon_host_new(plan, &paths, &e);
    if (!host) die("%s", e.message);
    pylon_host_set_tier(host, tier);
    pylon_imports *imp = pylon_imports_new();
    pylon_host_add_imports(host, imp, "bench");

    snprintf(path, sizeof path, "%s/bench_guest.wasm", dl_dir);
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    pylon_error err;
    pylon_module *gm = pylon_module_load_tier(bytes, len, tier, NULL, NULL, NULL, &err);
    free(bytes);
    if (!gm) die("bench guest: %s", err.message);
    pylon_trap trap;
    guest = pylon_instantiate(gm, imp, NULL, &err, &trap);
    if (!guest) die("bench guest: %s", err.message);
    f_buf = pylon_instance_func(guest, "bench_buf");
    f_resolve = pylon_instance_func(guest, "bench_resolve");
    f_invoke = pylon_instance_func(guest, "bench_invoke");
    f_invoke_u32 = pylon_instance_func(guest, "bench_invoke_u32");
    gmem = pylon_instance_memory(guest, "memory");

    uint32_t h_echo = resolve("echo"), h_nowd = resolve("echo-nowatchdog");
    uint32_t h_table = resolve("crc-table"), h_slice8 = resolve("crc-slice8");
    uint32_t h_wide16 = resolve("crc-wide16");

    if (strcmp(only, "crc")) {
        printf("## invoke round trip (echo: the payload goes in and comes back)\n\n");
        printf("| payload | round trip | payload throughput (each way) | without the time-limit watchdog |\n");
        printf("|---:|---:|---:|---:|\n");
    }
    static const uint32_t sizes[] = { 0, 64, 4096, 1u << 20 };
    static const char *const labels[] = { "0 B", "64 B", "4 KiB", "1 MiB" };
    uint8_t *data = malloc(1u << 20);
    uint32_t x = 1;
    for (uint32_t i = 0; i < (1u << 20); i++) { x = x * 1664525u + 1013904223u; data[i] = (uint8_t)(x >> 24); }
    for (int s = 0; s < 4 && strcmp(only, "crc"); s++) {
        stage("echo", data, sizes[s]);
        inv_ctx c1 = { h_echo, "echo", sizes[s] }, c2 = { h_nowd, "echo", sizes[s] };
        double t1 = per_iter(inv_loop, &c1), t2 = per_iter(inv_loop, &c2);
        char thr[32] = "—";
        if (sizes[s]) snprintf(thr, sizeof thr, "%.0f MB/s", sizes[s] / t1 / 1e6);
        printf("| %s | %.2f µs | %s | %.2f µs |\n", labels[s], t1 * 1e6, thr, t2 * 1e6);
        fflush(stdout);
    }

    /* CRC-32C of 1 MiB. */
    crc32c_table_init();
    crc32c_slice8_init();
    crc32c_wide16_init();
    uint32_t want = crc32c_table_extend(0, data, 1u << 20);
    if (crc32c_slice8_extend(0, data, 1u << 20) != want || crc32c_wide16_extend(0, data, 1u << 20) != want)
        die("%s", "native slice8 or wide16 disagrees with table");
    if (strcmp(only, "rt")) {
        printf("\n## CRC-32C of a 1 MiB buffer\n\n");
        printf("| provider | through dynlink | engine alone (host calls the provider directly) | native C (clang -O2) |\n");
        printf("|---|---:|---:|---:|\n");
    }
    struct { const char *name; uint32_t h; const char *wasm; uint32_t (*fn)(uint32_t, const uint8_t *, size_t); } rows[] = {
        { "table (1 byte per step)", h_table, "table.wasm", crc32c_table_extend },
        { "slice8 (8 bytes per step, 8 lookups)", h_slice8, "slice8.wasm", crc32c_slice8_extend },
        { "wide16 (8 bytes per step, 4 lookups)", h_wide16, "wide16.wasm", crc32c_wide16_extend },
    };
    for (int r = 0; r < 3 && strcmp(only, "rt"); r++) {
        stage("crc32c", data, 1u << 20);
        uint32_t got = invoke_u32(rows[r].h, "crc32c", 1u << 20);
        if (got != want) {
            fprintf(stderr, "dynlink_bench: %s through dynlink gave 0x%08x, native 0x%08x\n", rows[r].name, got, want);
            return 1;
        }
        inv_ctx c = { rows[r].h, "crc32c", 1u << 20 };
        double td = per_iter(inv_loop, &c);
        direct_ctx dc;
        snprintf(path, sizeof path, "%s/%s", caps_dir, rows[r].wasm);
        if (direct_setup(&dc, path, data, 1u << 20) != want) die("%s: direct call disagrees", rows[r].name);
        double te = per_iter(direct_loop, &dc);
        pylon_instance_free(dc.inst);
        native_ctx nc = { rows[r].fn, data, 1u << 20, 0 };
        double tn = per_iter(native_loop, &nc);
        printf("| %s | %.0f MB/s | %.0f MB/s | %.0f MB/s |\n", rows[r].name, (1u << 20) / td / 1e6,
               (1u << 20) / te / 1e6, (1u << 20) / tn / 1e6);
        fflush(stdout);
    }
    printf("\n(crc values checked equal: dynlink, direct and native; wall clock, best of %d)\n",
           quick ? 1 : reps);
    fflush(stdout);
    if (python_wasm && !quick) run_python(host);

    pylon_host_stats st;
    pylon_host_get_stats(host, &st);
    fprintf(stderr, "bridge: %" PRIu64 " invokes, %" PRIu64 " errors, %" PRIu64 " instantiations\n",
            st.invokes, st.invoke_errors, st.instantiations);
    pylon_instance_free(guest);
    pylon_module_free(gm);
    pylon_host_free(host);
    pylon_imports_free(imp);
    pylon_plan_free(plan);
    pylon_trust_free(t);
    pylon_blob_close(bs);
    free(data);
    snprintf(path, sizeof path, "rm -rf %s", home);
    if (system(path)) {}
    return st.invoke_errors ? 1 : 0;
}
