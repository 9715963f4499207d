/*
 * cmd_aot.c — `pylon aot`: compiles modules ahead of time (wasm2c + clang)
 * into the artifact cache that `--engine auto` (the default) picks up.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "pylon/engine.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: pylon aot compile MODULE.wasm [-o ARTIFACT.so]\n"
        "       pylon aot path MODULE.wasm\n"
        "\n"
        "compile  turns MODULE.wasm into native code with Debian's wasm2c and clang-19\n"
        "         and stores it in the artifact cache (or at -o). Commands that load\n"
        "         the module then run it natively (--engine auto, the default).\n"
        "path     prints where the cache keeps MODULE.wasm's artifact.\n"
        "\n"
        "The cache is $PYLON_CACHE_DIR (default ~/.cache/pylon)/aot; an artifact is\n"
        "keyed by the module's SHA-256 and the toolchain, and refused for any other\n"
        "bytes. PYLON_AOT_CC picks the C compiler (default clang-19).\n"
        "\n"
        "exit status: 0 ok; 2 usage; 3 the module cannot be compiled (the message\n"
        "says why; it still runs on the interpreter); 5 a file cannot be read/written.\n");
}

int pylon_cmd_aot(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PYLON_EXIT_USAGE : PYLON_EXIT_OK;
    }
    const char *sub = argv[1], *module = NULL, *out = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) out = argv[++i];
        else if (argv[i][0] == '-') { fprintf(stderr, "pylon aot: unknown option '%s'; see 'pylon aot --help'\n", argv[i]); return PYLON_EXIT_USAGE; }
        else module = argv[i];
    }
    if (strcmp(sub, "compile") && strcmp(sub, "path")) {
        fprintf(stderr, "pylon aot: unknown subcommand '%s'; see 'pylon aot --help'\n", sub);
        return PYLON_EXIT_USAGE;
    }
    if (!module) { fprintf(stderr, "pylon aot: no MODULE.wasm given; see 'pylon aot --help'\n"); return PYLON_EXIT_USAGE; }
    size_t len;
    uint8_t *bytes = pylon_read_file(module, &len);
    if (!bytes) { fprintf(stderr, "pylon aot: cannot read %s: %s\n", module, strerror(errno)); return PYLON_EXIT_IO; }
    char path[PATH_MAX];
    if (!out) {
        if (pylon_aot_cache_path(bytes, len, path, sizeof path) != 0) {
            fprintf(stderr, "pylon aot: the cache path is too long; set PYLON_CACHE_DIR\n");
            free(bytes);
            return PYLON_EXIT_IO;
        }
        out = path;
    }
    if (!strcmp(sub, "path")) { printf("%s\n", out); free(bytes); return PYLON_EXIT_OK; }
    fprintf(stderr, "pylon aot: compiling %s (%zu bytes) with wasm2c and the C compiler...\n", module, len);
    double t0 = pylon_now_seconds();
    pylon_error err;
    int rc = pylon_aot_compile(bytes, len, out, &err);
    double took = pylon_now_seconds() - t0;
    free(bytes);
    if (rc != 0) {
        fprintf(stderr, "pylon aot: %s: %s\n", module, err.message);
        return err.kind == PYLON_ERR_ARG ? PYLON_EXIT_IO : PYLON_EXIT_LOAD;
    }
    fprintf(stderr, "pylon aot: wrote %s (%.1fs)\n", out, took);
    return PYLON_EXIT_OK;
}
