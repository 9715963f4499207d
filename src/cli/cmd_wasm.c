/*
 * cmd_wasm.c — `pylon wasm run`: runs a WASI command module in the sandbox.
 *
 * The command line is the guest's whole world: the directories it names
 * (--dir/--ro-dir), the environment variables it names (--env; nothing is
 * inherited), the arguments after the module, stdio, and any --listen
 * socket (the options live in sandbox.c, shared with `pylon run`).  The
 * guest's exit code becomes ours unchanged; a trap prints its message and a
 * wasm backtrace and exits with PYLON_EXIT_TRAP (4).  A guest that itself
 * exits with 2..5 looks like a host-side failure by code alone, which is
 * why every host-side failure also says so on stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sandbox.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: pylon wasm run [options] MODULE.wasm [ARGS...]\n"
        "\n"
        "Runs a WASI preview 1 command module (one that exports _start).  The guest\n"
        "sees only what these options give it.\n"
        "\n"
        "options (they end at MODULE; everything after it goes to the guest):\n"
        "%s"
        "  --argv0 NAME            the guest's argv[0] (default: MODULE as written)\n"
        "  -h, --help              this text\n"
        "\n"
        "Inside the guest, paths never lead out of a preopened directory: '..' above\n"
        "it, absolute paths, and symlinks that point out (directly or through a\n"
        "chain) fail with ENOTCAPABLE; symlink loops fail with ELOOP.  Ctrl-C stops\n"
        "the guest (exit 130).\n"
        "\n"
        "exit status: the guest's own exit code (0 when _start returns); 2 bad\n"
        "command line; 3 the module does not load, validate or link; 4 the guest\n"
        "trapped (including --fuel and --timeout), after a message and a wasm\n"
        "backtrace on stderr; 5 a host file or directory could not be used;\n"
        "130 stopped by Ctrl-C.\n", pylon_sandbox_help);
}

static int run(int argc, char **argv) {
    pylon_sandbox sb;
    if (pylon_sandbox_init(&sb, "pylon wasm", "pylon wasm run --help") != 0) return PYLON_EXIT_IO;
    const char *argv0 = NULL;
    int i, rc = PYLON_EXIT_USAGE;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) break;
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); rc = PYLON_EXIT_OK; goto out; }
        int r = pylon_sandbox_option(&sb, argc, argv, &i);
        if (r < 0) { rc = -r; goto out; }
        if (r > 0) continue;
        if (!strncmp(a, "--argv0", 7) && (a[7] == 0 || a[7] == '=')) {
            if (a[7] == '=') argv0 = a + 8;
            else if (i + 1 < argc) argv0 = argv[++i];
            else { rc = pylon_sandbox_usage_error(&sb, "option '%s' needs a value", a); goto out; }
            continue;
        }
        rc = pylon_sandbox_usage_error(&sb, "unknown option '%s'", a);
        goto out;
    }
    if (i >= argc) { rc = pylon_sandbox_usage_error(&sb, "%s", "no MODULE.wasm given"); goto out; }
    const char *module = argv[i++];
    pylon_wasi_config_arg(sb.cfg, argv0 ? argv0 : module);
    for (; i < argc; i++) pylon_wasi_config_arg(sb.cfg, argv[i]);

    rc = pylon_sandbox_run(&sb, module, NULL);
out:
    pylon_sandbox_fini(&sb);
    return rc;
}

int pylon_cmd_wasm(int argc, char **argv) {
    /* A guest writing to a closed pipe gets EPIPE, as POSIX programs that
     * ignore SIGPIPE do; the signal must not kill the host. */
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "run")) return run(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help"))) {
        usage(stdout);
        return PYLON_EXIT_OK;
    }
    fprintf(stderr, "pylon wasm: %s%s%s\nusage: pylon wasm run [options] MODULE.wasm [ARGS...]"
            " ('pylon wasm run --help' lists the options)\n",
            argc >= 2 ? "unknown subcommand '" : "missing subcommand",
            argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
    return PYLON_EXIT_USAGE;
}
