/*
 * cmd_run.c — `pylon run`: CPython (python.wasm) in the sandbox.
 *
 * What the guest sees by default, and why:
 *   - the standard library, read-only, at /usr/lib/python3.11 (PYTHONHOME=/usr);
 *   - for `pylon run SCRIPT`, the script's own directory, read-only, under
 *     its real absolute path (so tracebacks, __file__ and sibling imports
 *     look as they do natively);
 *   - nothing else: no other file, no environment variable, no network.
 * Writes happen only where --dir grants them; --path adds read-only import
 * directories (PYTHONPATH).  Ctrl-C raises KeyboardInterrupt inside Python
 * (the guest exports a hook that calls PyErr_SetInterrupt); a guest without
 * that hook is stopped instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sandbox.h"

static void usage(FILE *f) {
    fprintf(f,
        "usage: pylon run [options] [python options] SCRIPT.py [ARGS...]\n"
        "       pylon run [options] [python options] -c CODE [ARGS...]\n"
        "       pylon run [options] [python options] -m MODULE [ARGS...]\n"
        "       pylon run [options]                        (a REPL when stdin is a terminal;\n"
        "                                                   otherwise the program is read from stdin)\n"
        "\n"
        "Runs Python 3.11 (CPython compiled to WebAssembly) in Pylon's sandbox.\n"
        "By default the guest sees the standard library (read-only) and, for a\n"
        "script, the script's directory (read-only) under its real path; nothing\n"
        "else. Grant more with the options below.\n"
        "\n"
        "options:\n"
        "%s"

        "  --path DIR              add DIR (read-only) to the import path (PYTHONPATH)\n"
        "  --python FILE           the python.wasm to run (default: next to pylon,\n"
        "                          or $PYLON_PYTHON)\n"
        "  --stdlib DIR            the directory holding python3.11/ (default: lib/\n"
        "                          next to python.wasm)\n"
        "  -h, --help              this text\n"
        "\n"
        "python options passed through: -b -B -d -E -i -I -O -OO -q -s -S -u -v -x,\n"
        "-W ARG, -X ARG.\n"
        "\n"
        "exit status: Python's own (0, sys.exit's code, 1 for an uncaught exception);\n"
        "2 bad command line; 3 python.wasm does not load; 4 the guest trapped\n"
        "(--fuel, --timeout, a crash), with a wasm backtrace; 5 a host file is\n"
        "missing; 130 stopped by Ctrl-C.\n", pylon_sandbox_help);
}

/* Python's own flags that take no value / take one value. */
static bool py_flag(const char *a) {
    static const char *const f[] = {"-b", "-bb", "-B", "-d", "-E", "-i", "-I", "-O", "-OO",
                                    "-q", "-s", "-S", "-u", "-v", "-x"};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) if (!strcmp(a, f[i])) return true;
    return false;
}

static bool is_file(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }
static bool is_dir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }

/* python.wasm: --python, $PYLON_PYTHON, <pylon's dir>/python/python.wasm,
 * <pylon's dir>/../lib/pylon/python.wasm. */
static bool find_python(const char *given, char *out, size_t cap, char *tried, size_t tcap) {
    const char *env = getenv("PYLON_PYTHON");
    if (given || env) {
        snprintf(out, cap, "%s", given ? given : env);
        snprintf(tried, tcap, "%s", out);
        return is_file(out);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) { snprintf(tried, tcap, "(cannot find pylon's own path)"); return false; }
    exe[n] = 0;
    char *dir = dirname(exe);
    snprintf(out, cap, "%s/python/python.wasm", dir);
    snprintf(tried, tcap, "%s", out);
    if (is_file(out)) return true;
    snprintf(out, cap, "%s/../lib/pylon/python.wasm", dir);
    size_t t = strlen(tried);
    snprintf(tried + t, tcap - t, ", %s", out);
    return is_file(out);
}

/* Ctrl-C: ask Python to raise KeyboardInterrupt at its next check. */
static int python_sigint(pylon_instance *inst, void *user) {
    (void)user;
    pylon_func *hook = pylon_instance_func(inst, "PyErr_SetInterrupt");
    if (!hook || strcmp(pylon_func_signature(hook), ":") != 0) return 1;
    pylon_trap trap;
    return pylon_call(hook, NULL, 0, NULL, 0, &trap) == 0 ? 0 : 1;
}

int pylon_cmd_run(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    pylon_sandbox sb;
    if (pylon_sandbox_init(&sb, "pylon run", "pylon run --help") != 0) return PYLON_EXIT_IO;
    const char *python_opt = NULL, *stdlib_opt = NULL;
    char **pyflags = calloc((size_t)argc + 1, sizeof *pyflags);
    char *pythonpath = NULL;
    size_t npyflags = 0;
    int i, rc = PYLON_EXIT_USAGE;
    if (!pyflags) { rc = PYLON_EXIT_IO; goto out; }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !strcmp(a, "-")) break;
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "-c") || !strcmp(a, "-m")) break;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); rc = PYLON_EXIT_OK; goto out; }
        if (py_flag(a)) { pyflags[npyflags++] = argv[i]; continue; }
        if (!strcmp(a, "-W") || !strcmp(a, "-X")) {
            if (i + 1 >= argc) { rc = pylon_sandbox_usage_error(&sb, "option '%s' needs a value", a); goto out; }
            pyflags[npyflags++] = argv[i];
            pyflags[npyflags++] = argv[++i];
            continue;
        }
        int r = pylon_sandbox_option(&sb, argc, argv, &i);
        if (r < 0) { rc = -r; goto out; }
        if (r > 0) continue;
        const char *val = NULL;
        const char *opts[] = {"--python", "--stdlib", "--path"};
        int which = -1;
        for (int k = 0; k < 3; k++) {
            size_t l = strlen(opts[k]);
            if (!strncmp(a, opts[k], l) && (a[l] == 0 || a[l] == '=')) {
                which = k;
                val = a[l] == '=' ? a + l + 1 : (i + 1 < argc ? argv[++i] : NULL);
            }
        }
        if (which < 0) { rc = pylon_sandbox_usage_error(&sb, "unknown option '%s'", a); goto out; }
        if (!val) { rc = pylon_sandbox_usage_error(&sb, "option '%s' needs a value", a); goto out; }
        if (which == 0) python_opt = val;
        else if (which == 1) stdlib_opt = val;
        else {
            char real[PATH_MAX];
            if (!realpath(val, real) || !is_dir(real)) {
                fprintf(stderr, "pylon run: --path %s: not a directory; give a directory of Python modules\n", val);
                rc = PYLON_EXIT_IO;
                goto out;
            }
            pylon_wasi_config_dir(sb.cfg, real, real, PYLON_WASI_READONLY);
            size_t old = pythonpath ? strlen(pythonpath) : 0;
            char *np = realloc(pythonpath, old + strlen(real) + 2);
            if (!np) { rc = PYLON_EXIT_IO; goto out; }
            if (!pythonpath) np[0] = 0;
            pythonpath = np;
            if (old) strcat(pythonpath, ":");
            strcat(pythonpath, real);
        }
    }

    /* the interpreter and its standard library */
    char python[PATH_MAX], tried[3 * PATH_MAX], stdlib[PATH_MAX];
    if (!find_python(python_opt, python, sizeof python, tried, sizeof tried)) {
        fprintf(stderr, "pylon run: python.wasm not found (looked at %s); build it with "
                "'make python' or give --python FILE\n", tried);
        rc = PYLON_EXIT_IO;
        goto out;
    }
    if (stdlib_opt) snprintf(stdlib, sizeof stdlib, "%s", stdlib_opt);
    else {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", python);
        snprintf(stdlib, sizeof stdlib, "%s/lib", dirname(tmp));
    }
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/python3.11/os.py", stdlib);
    if (!is_file(probe)) {
        fprintf(stderr, "pylon run: the standard library is not at %s (no python3.11/os.py); "
                "build it with 'make python' or give --stdlib DIR\n", stdlib);
        rc = PYLON_EXIT_IO;
        goto out;
    }
    /* the layout python.wasm was configured for (guest/python/README.md) */
    pylon_wasi_config_dir(sb.cfg, stdlib, "/usr/lib", PYLON_WASI_READONLY);
    pylon_wasi_config_env(sb.cfg, "PYTHONHOME=/usr");
    if (pythonpath) {
        char *kv = malloc(strlen(pythonpath) + 12);
        if (!kv) { rc = PYLON_EXIT_IO; goto out; }
        sprintf(kv, "PYTHONPATH=%s", pythonpath);
        pylon_wasi_config_env(sb.cfg, kv);
        free(kv);
    }

    /* the guest's argv: python [flags] (-c CODE | -m MOD | SCRIPT | -) ARGS */
    pylon_wasi_config_arg(sb.cfg, "python");
    for (size_t k = 0; k < npyflags; k++) pylon_wasi_config_arg(sb.cfg, pyflags[k]);
    if (i < argc && (!strcmp(argv[i], "-c") || !strcmp(argv[i], "-m"))) {
        if (i + 1 >= argc) { rc = pylon_sandbox_usage_error(&sb, "option '%s' needs a value", argv[i]); goto out; }
        pylon_wasi_config_arg(sb.cfg, argv[i++]);
        pylon_wasi_config_arg(sb.cfg, argv[i++]);
    } else if (i < argc && strcmp(argv[i], "-") != 0) {
        char real[PATH_MAX], dir[PATH_MAX];
        if (!realpath(argv[i], real) || !is_file(real)) {
            fprintf(stderr, "pylon run: cannot open script '%s': %s\n", argv[i],
                    errno ? strerror(errno) : "not a regular file");
            rc = PYLON_EXIT_IO;
            goto out;
        }
        snprintf(dir, sizeof dir, "%s", real);
        pylon_wasi_config_dir(sb.cfg, dirname(dir), NULL, PYLON_WASI_READONLY);
        pylon_wasi_config_arg(sb.cfg, real);
        i++;
    }
    for (; i < argc; i++) pylon_wasi_config_arg(sb.cfg, argv[i]);

    /* the Python build compiles python.wasm ahead of time next to it */
    char artifact[PATH_MAX + 16];
    snprintf(artifact, sizeof artifact, "%s", python);
    char *dot = strrchr(artifact, '.');
    if (dot && !strcmp(dot, ".wasm")) strcpy(dot, ".aot.so");
    if (is_file(artifact)) sb.artifact = artifact;

    pylon_sandbox_hooks hooks = { .on_sigint = python_sigint };
    rc = pylon_sandbox_run(&sb, python, &hooks);
out:
    free(pyflags);
    free(pythonpath);
    pylon_sandbox_fini(&sb);
    return rc;
}
