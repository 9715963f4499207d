/*
 * main.c — the `pylon` command: dispatches to one file per subcommand.
 *
 * Each subcommand lives in src/cli/cmd_<name>.c and defines
 * `int pylon_cmd_<name>(int argc, char **argv)` where argv[0] is the
 * subcommand name.  Exit codes scripts can trust:
 *   0 ok · 1 the guest/tests failed · 2 usage error · 3 load/validate/link
 *   error · 4 the guest trapped · 5 host I/O error (file missing, ...).
 * A guest's own exit code (proc_exit) passes through unchanged.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Weak so that a subcommand that is not built yet leaves a clear message
 * instead of a link error. */
#define PYLON_COMMANDS(X) \
    X(run,  "run Python in the sandbox (pylon run script.py | -c CODE | -m MOD)") \
    X(wasm, "run a WASI command module (pylon wasm run MODULE.wasm [args])") \
    X(wast, "run a WebAssembly spec script (pylon wast FILE.wast)") \
    X(aot,  "compile a module to native code ahead of time (pylon aot compile M.wasm)") \
    X(demo, "the engine alone: a CRC-32C wasm module in the sandbox (./demo.sh runs the full demo)") \
    X(blob, "the content-addressed store of cap providers (add, ls, verify, gc)") \
    X(plan, "plans: which cap id is which provider, and the policy (create, add, show)") \
    X(trust, "which providers may run: allow-list, Ed25519 keys, audit log")

#define DECLARE(name, help) int pylon_cmd_##name(int argc, char **argv) __attribute__((weak));
PYLON_COMMANDS(DECLARE)

static const struct { const char *name, *help; int (**fn)(int, char **); } commands[] = {
#define ENTRY(name, help) {#name, help, NULL},
    PYLON_COMMANDS(ENTRY)
};

static int (*lookup(const char *name))(int, char **) {
#define MATCH(n, help) if (strcmp(name, #n) == 0) return pylon_cmd_##n;
    PYLON_COMMANDS(MATCH)
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "usage: pylon COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-6s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'pylon COMMAND --help' tells more about each.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return PYLON_EXIT_USAGE; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    int (*fn)(int, char **) = lookup(argv[1]);
    if (!fn) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[1], commands[i].name)) {
                fprintf(stderr, "pylon: '%s' is not part of this build yet\n", argv[1]);
                return PYLON_EXIT_USAGE;
            }
        fprintf(stderr, "pylon: unknown command '%s'; run 'pylon --help' for the list\n", argv[1]);
        return PYLON_EXIT_USAGE;
    }
    return fn(argc - 1, argv + 1);
}
