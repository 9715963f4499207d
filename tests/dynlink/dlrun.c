/*
 * dlrun.c — a minimal embedder for the dynlink tests: runs a WASI command
 * module with the compose:dynlink bridge of a plan, the way `pylon run
 * --plan` will run python.wasm (both go through pylon_host_use_plan).
 *
 *   dlrun [--home DIR] [--upstream URL] [--stats] [--dir|--ro-dir HOST::GUEST]...
 *         [--env NAME=VALUE]... (--plan PLAN | --no-plan) MODULE.wasm [ARGS...]
 *
 * --no-plan registers the stub linker (pylon_host_add_stub_imports): the
 * guest links, and every resolve is refused.
 *
 * --stats prints the bridge's counters to stderr at the end
 * ("dynlink-stats: instantiations=N ..."), which is how the tests show that
 * a refusal instantiated nothing.  Exit: the guest's code; 3 when the plan
 * or the stores are refused; 4 when the guest itself trapped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pylon/engine.h"
#include "pylon/host.h"
#include "pylon/wasi.h"

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv) {
    pylon_host_paths paths = { 0 };
    const char *plan = NULL;
    bool stats = false, no_plan = false;
    pylon_tier tier = PYLON_TIER_AUTO;   /* for the providers; the guest runs interpreted */
    pylon_wasi_config *cfg = pylon_wasi_config_new();
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--home") && i + 1 < argc) paths.home = argv[++i];
        else if (!strcmp(argv[i], "--upstream") && i + 1 < argc) paths.upstream = argv[++i];
        else if (!strcmp(argv[i], "--plan") && i + 1 < argc) plan = argv[++i];
        else if (!strcmp(argv[i], "--stats")) stats = true;
        else if (!strcmp(argv[i], "--no-plan")) no_plan = true;
        else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
            const char *e = argv[++i];
            tier = !strcmp(e, "interp") ? PYLON_TIER_INTERP : !strcmp(e, "aot") ? PYLON_TIER_AOT : PYLON_TIER_AUTO;
        }
        else if (!strcmp(argv[i], "--env") && i + 1 < argc) pylon_wasi_config_env(cfg, argv[++i]);
        else if ((!strcmp(argv[i], "--dir") || !strcmp(argv[i], "--ro-dir")) && i + 1 < argc) {
            bool ro = argv[i][2] == 'r';
            char *spec = strdup(argv[++i]), *sep = strstr(spec, "::");
            if (sep) *sep = 0;
            pylon_wasi_config_dir(cfg, spec, sep ? sep + 2 : NULL, ro ? PYLON_WASI_READONLY : 0);
            free(spec);
        } else {
            fprintf(stderr, "dlrun: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if ((!plan && !no_plan) || i >= argc) {
        fprintf(stderr, "usage: dlrun [--home DIR] [--upstream URL] [--stats] [--engine interp|aot|auto]\n"
                "             [--dir|--ro-dir HOST::GUEST]\n"
                "             [--env NAME=VALUE] (--plan PLAN | --no-plan) MODULE.wasm [ARGS...]\n");
        return 2;
    }
    const char *module = argv[i];
    for (; i < argc; i++) pylon_wasi_config_arg(cfg, argv[i]);

    size_t len;
    uint8_t *bytes = slurp(module, &len);
    if (!bytes) { fprintf(stderr, "dlrun: cannot read %s: %s\n", module, strerror(errno)); return 5; }
    pylon_error err;
    pylon_module *mod = pylon_module_load(bytes, len, &err);
    free(bytes);
    if (!mod) { fprintf(stderr, "dlrun: %s: %s\n", module, err.message); return 3; }
    pylon_wasi *w = pylon_wasi_new(cfg, &err);
    if (!w) { fprintf(stderr, "dlrun: %s\n", err.message); return 5; }
    pylon_imports *imp = pylon_imports_new();
    pylon_wasi_add_imports(imp, w);
    pylon_host_error herr;
    pylon_host *host = NULL;
    if (no_plan) pylon_host_add_stub_imports(imp, "dlrun: pass --plan PLAN");
    else host = pylon_host_use_plan(imp, plan, &paths, &herr);
    if (!host && !no_plan) {
        fprintf(stderr, "dlrun: %s (%s)\n", herr.message, pylon_host_code_name(herr.code));
        return 3;
    }
    if (host && getenv("DLRUN_LOG")) pylon_host_set_log(host, stderr);
    if (host) pylon_host_set_tier(host, tier);
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_limits limits = { 0 };
    pylon_instance *inst = pylon_instantiate(mod, imp, &limits, &err, &trap);
    if (!inst) { fprintf(stderr, "dlrun: cannot instantiate %s: %s\n", module, err.message); return 3; }
    int code = 0;
    int r = pylon_wasi_start(inst, &code, &trap);
    if (r != 0) {
        fprintf(stderr, "dlrun: %s trapped: %s\n", module, trap.message);
        code = 4;
    }
    if (stats && host) {
        pylon_host_stats s;
        pylon_host_get_stats(host, &s);
        fprintf(stderr, "dynlink-stats: resolves=%llu denied=%llu invokes=%llu invoke_errors=%llu "
                "instantiations=%llu discards=%llu\n", (unsigned long long)s.resolves,
                (unsigned long long)s.resolve_denied, (unsigned long long)s.invokes,
                (unsigned long long)s.invoke_errors, (unsigned long long)s.instantiations,
                (unsigned long long)s.discards);
    }
    pylon_instance_free(inst);
    pylon_host_free(host);
    pylon_imports_free(imp);
    pylon_wasi_free(w);
    pylon_wasi_config_free(cfg);
    pylon_module_free(mod);
    return code;
}
