/*
 * sandbox.h — what `pylon wasm run` and `pylon run` share: the sandbox
 * options (what the guest may see and use), and running a WASI command
 * module under them with a --timeout watchdog and Ctrl-C handling.
 */
#ifndef PYLON_CLI_SANDBOX_H
#define PYLON_CLI_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pylon/engine.h"
#include "pylon/wasi.h"

typedef struct pylon_sandbox {
    const char *cmd;           /* "pylon wasm", "pylon run": for messages */
    const char *help_hint;     /* "pylon wasm run --help" */
    pylon_wasi_config *cfg;
    pylon_limits limits;
    double timeout;            /* seconds; 0 = none */
    int *socks;
    int nsocks;
    pylon_tier engine;
    const char *artifact;      /* an AOT artifact to prefer over the cache's */
    const char *plan;          /* --plan: the guest's capabilities */
    struct pylon_host *host;   /* the dynlink host serving them */
} pylon_sandbox;

/* The option lines for --help (the same text for every command). */
extern const char pylon_sandbox_help[];

int pylon_sandbox_init(pylon_sandbox *sb, const char *cmd, const char *help_hint);
void pylon_sandbox_fini(pylon_sandbox *sb);

/* If argv[*i] is a sandbox option, consumes it (and its value, as
 * "--opt VALUE" or "--opt=VALUE") and returns 1; returns 0 if it is not
 * one; when it cannot be used, prints why and returns minus the exit code
 * (-PYLON_EXIT_USAGE for a malformed option, -PYLON_EXIT_IO when the host
 * refuses, e.g. a --listen address that cannot be bound). */
int pylon_sandbox_option(pylon_sandbox *sb, int argc, char **argv, int *i);

/* Prints "CMD: <message>" and the help hint; returns PYLON_EXIT_USAGE. */
int pylon_sandbox_usage_error(const pylon_sandbox *sb, const char *fmt, const char *arg);

typedef struct pylon_sandbox_hooks {
    /* Adds imports beyond WASI (e.g. the dynlink bridge); 0 on success. */
    int (*add_imports)(pylon_imports *imp, void *user);
    /* Ctrl-C while the guest runs: return 0 if the guest was told (it goes
     * on), nonzero to stop it with a trap.  NULL: Ctrl-C stops it. */
    int (*on_sigint)(pylon_instance *inst, void *user);
    void *user;
} pylon_sandbox_hooks;

/* Reads the module at `path`, links WASI (and the hooks' imports),
 * instantiates and runs _start under the limits, the watchdog and the
 * Ctrl-C handler.  Returns the process exit code (the guest's own, or a
 * PYLON_EXIT_*). */
int pylon_sandbox_run(pylon_sandbox *sb, const char *path, const pylon_sandbox_hooks *hooks);

#endif
