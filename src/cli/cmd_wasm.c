/*
 * cmd_wasm.c — `pylon wasm run`: runs a WASI command module in the sandbox.
 *
 * The command line is the guest's whole world: the directories it names
 * (--dir/--ro-dir), the environment variables it names (--env; nothing is
 * inherited), the arguments after the module, stdio, and any --listen
 * socket.  The guest's exit code becomes ours unchanged; a trap prints its
 * message and a wasm backtrace and exits with PYLON_EXIT_TRAP (4).  A guest
 * that itself exits with 2..5 looks like a host-side failure by code alone,
 * which is why every host-side failure also says so on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pylon/engine.h"
#include "pylon/wasi.h"

static const char usage_text[] =
    "usage: pylon wasm run [options] MODULE.wasm [ARGS...]\n"
    "\n"
    "Runs a WASI preview 1 command module (one that exports _start).  The guest\n"
    "sees only what these options give it.\n"
    "\n"
    "options (they end at MODULE; everything after it goes to the guest):\n"
    "  --dir HOST[::GUEST]     give the guest host directory HOST, named GUEST\n"
    "                          inside (default: HOST as written); read-write\n"
    "  --ro-dir HOST[::GUEST]  the same, read-only: nothing beneath it can be\n"
    "                          created, written, renamed, linked or removed\n"
    "  --env NAME=VALUE        set a guest environment variable; none is inherited\n"
    "  --env NAME              pass the host's current value of NAME\n"
    "  --argv0 NAME            the guest's argv[0] (default: MODULE as written)\n"
    "  --listen HOST:PORT      hand the guest a listening TCP socket; it is the fd\n"
    "                          after the preopened directories (3 + number of dirs)\n"
    "  --max-memory SIZE       cap every linear memory at SIZE bytes (suffixes K, M,\n"
    "                          G; rounded up to 64 KiB pages); growing past it fails\n"
    "  --fuel N                stop the guest (a trap) after about N instructions\n"
    "  --timeout DURATION      stop the guest (a trap) after DURATION: 10, 1.5s,\n"
    "                          250ms, 2m; it also wakes a guest blocked on input\n"
    "  --max-call-depth N      trap when calls nest deeper than N (default 10000)\n"
    "  -h, --help              this text\n"
    "\n"
    "Inside the guest, paths never lead out of a preopened directory: '..' above\n"
    "it, absolute paths, and symlinks that point out (directly or through a\n"
    "chain) fail with ENOTCAPABLE; symlink loops fail with ELOOP.\n"
    "\n"
    "exit status: the guest's own exit code (0 when _start returns); 2 bad\n"
    "command line; 3 the module does not load, validate or link; 4 the guest\n"
    "trapped (including --fuel and --timeout), after a message and a wasm\n"
    "backtrace on stderr; 5 a host file or directory could not be used.\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "pylon wasm: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun 'pylon wasm run --help' for the options\n");
    return PYLON_EXIT_USAGE;
}

/* "256M" -> bytes; false if malformed. */
static bool parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') return false;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') { mul = 1ull << 10; end++; }
    else if (*end == 'M' || *end == 'm') { mul = 1ull << 20; end++; }
    else if (*end == 'G' || *end == 'g') { mul = 1ull << 30; end++; }
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v > UINT64_MAX / mul) return false;
    *out = v * mul;
    return true;
}

/* "1.5s", "250ms", "2m", "10" -> seconds. */
static bool parse_duration(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0) return false;
    if (!strcmp(end, "ms")) v /= 1000;
    else if (!strcmp(end, "m")) v *= 60;
    else if (*end && strcmp(end, "s")) return false;
    *out = v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') return false;
    *out = v;
    return true;
}

/* HOST[::GUEST] -> (host, guest); `buf` holds the split copy. */
static void split_dir(char *buf, const char **host, const char **guest) {
    char *sep = strstr(buf, "::");
    *host = buf;
    *guest = NULL;
    if (sep) { *sep = 0; *guest = sep + 2; }
}

static int listen_on(const char *spec, char *msg, size_t cap) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host || !colon[1]) {
        snprintf(msg, cap, "--listen %s: expected HOST:PORT, e.g. 127.0.0.1:8080", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [::1]:80 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
    int r = getaddrinfo(host, colon + 1, &hints, &ai);
    if (r) {
        snprintf(msg, cap, "--listen %s: %s; give a local address and a port", spec,
                 gai_strerror(r));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
        snprintf(msg, cap, "--listen %s: %s; pick a free port on a local address", spec,
                 strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* The --timeout watchdog: sleeps until the deadline or until told the run
 * is over, whichever comes first. */
typedef struct watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, fired;
    struct timespec deadline;   /* CLOCK_MONOTONIC */
    pylon_instance *inst;
    pylon_wasi *wasi;
} watchdog;

static void *watch(void *arg) {
    watchdog *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->done) {
        if (pthread_cond_timedwait(&d->cv, &d->mu, &d->deadline) == ETIMEDOUT && !d->done) {
            d->fired = true;
            pylon_instance_interrupt(d->inst);
            pylon_wasi_interrupt(d->wasi);
            break;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void print_trap(const char *module, const pylon_trap *t, const char *why) {
    char bt[8192];
    fprintf(stderr, "pylon: %s trapped: %s%s\n", module, t->message, why ? why : "");
    size_t n = pylon_trap_backtrace(t, bt, sizeof bt);
    if (n) fprintf(stderr, "wasm backtrace:\n%s", bt);
}

static int run(int argc, char **argv) {
    pylon_wasi_config *cfg = pylon_wasi_config_new();
    pylon_limits limits = { 0 };
    const char *argv0 = NULL, *module = NULL;
    double timeout = 0;
    int *socks = NULL, nsocks = 0, i, rc = PYLON_EXIT_USAGE;
    char msg[512];
    if (!cfg) { fprintf(stderr, "pylon wasm: out of memory\n"); return PYLON_EXIT_IO; }

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (a[0] != '-' || !strcmp(a, "-")) break;
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            rc = PYLON_EXIT_OK;
            goto out;
        }
        /* Every other option takes a value: "--opt VALUE" or "--opt=VALUE". */
        char name[32];
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof name) { rc = usage_error("unknown option '%s'", a); goto out; }
        memcpy(name, a, nl);
        name[nl] = 0;
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else { rc = usage_error("option '%s' needs a value", a); goto out; }

        if (!strcmp(name, "--dir") || !strcmp(name, "--ro-dir")) {
            char *buf = strdup(val);
            const char *host, *guest;
            if (!buf) { rc = PYLON_EXIT_IO; goto out; }
            split_dir(buf, &host, &guest);
            int r = *host && (!guest || *guest)
                ? pylon_wasi_config_dir(cfg, host, guest,
                                        name[2] == 'r' ? PYLON_WASI_READONLY : 0)
                : -1;
            free(buf);
            if (r) { rc = usage_error("%s: expected HOST or HOST::GUEST", val); goto out; }
        } else if (!strcmp(name, "--env")) {
            if (strchr(val, '=')) {
                if (pylon_wasi_config_env(cfg, val)) {
                    rc = usage_error("--env %s: the name before '=' is empty", val);
                    goto out;
                }
            } else {
                const char *v = getenv(val);
                if (!v || !*val) {
                    fprintf(stderr, "pylon wasm: --env %s: %s is not set in this environment; "
                            "give --env %s=VALUE\n", val, val, val);
                    goto out;
                }
                char *kv = malloc(strlen(val) + strlen(v) + 2);
                if (!kv) { rc = PYLON_EXIT_IO; goto out; }
                sprintf(kv, "%s=%s", val, v);
                pylon_wasi_config_env(cfg, kv);
                free(kv);
            }
        } else if (!strcmp(name, "--argv0")) {
            argv0 = val;
        } else if (!strcmp(name, "--listen")) {
            int fd = listen_on(val, msg, sizeof msg);
            if (fd < 0) { fprintf(stderr, "pylon wasm: %s\n", msg); rc = PYLON_EXIT_IO; goto out; }
            int *bigger = realloc(socks, (size_t)(nsocks + 1) * sizeof *socks);
            if (!bigger) { close(fd); rc = PYLON_EXIT_IO; goto out; }
            socks = bigger;
            socks[nsocks++] = fd;
        } else if (!strcmp(name, "--max-memory")) {
            uint64_t bytes;
            if (!parse_size(val, &bytes) || bytes == 0) {
                rc = usage_error("--max-memory %s: expected a size like 65536, 512K, 256M or 4G", val);
                goto out;
            }
            uint64_t pages = (bytes + PYLON_PAGE_SIZE - 1) / PYLON_PAGE_SIZE;
            limits.max_memory_pages = pages > 65536 ? 65536 : (uint32_t)pages;
        } else if (!strcmp(name, "--fuel")) {
            if (!parse_u64(val, &limits.fuel) || !limits.fuel) {
                rc = usage_error("--fuel %s: expected a positive whole number", val);
                goto out;
            }
        } else if (!strcmp(name, "--timeout")) {
            if (!parse_duration(val, &timeout)) {
                rc = usage_error("--timeout %s: expected a duration like 10, 1.5s, 250ms or 2m", val);
                goto out;
            }
        } else if (!strcmp(name, "--max-call-depth")) {
            uint64_t d;
            if (!parse_u64(val, &d) || !d || d > UINT32_MAX) {
                rc = usage_error("--max-call-depth %s: expected a positive whole number", val);
                goto out;
            }
            limits.max_call_depth = (uint32_t)d;
        } else {
            rc = usage_error("unknown option '%s'", a);
            goto out;
        }
    }
    if (i >= argc) { rc = usage_error("%s", "no MODULE.wasm given"); goto out; }
    module = argv[i++];
    pylon_wasi_config_arg(cfg, argv0 ? argv0 : module);
    for (; i < argc; i++) pylon_wasi_config_arg(cfg, argv[i]);
    for (int s = 0; s < nsocks; s++) pylon_wasi_config_socket(cfg, socks[s]);

    size_t len;
    uint8_t *bytes = pylon_read_file(module, &len);
    if (!bytes) {
        fprintf(stderr, "pylon wasm: cannot read %s: %s; check the path\n", module, strerror(errno));
        rc = PYLON_EXIT_IO;
        goto out;
    }
    pylon_error err;
    pylon_module *mod = pylon_module_load(bytes, len, &err);
    free(bytes);
    if (!mod) {
        fprintf(stderr, "pylon wasm: %s is not a module Pylon can run: %s\n", module, err.message);
        rc = PYLON_EXIT_LOAD;
        goto out;
    }
    pylon_wasi *wasi = pylon_wasi_new(cfg, &err);
    if (!wasi) {
        fprintf(stderr, "pylon wasm: %s\n", err.message);
        pylon_module_free(mod);
        rc = PYLON_EXIT_IO;
        goto out;
    }
    pylon_imports *imp = pylon_imports_new();
    if (!imp || pylon_wasi_add_imports(imp, wasi)) {
        fprintf(stderr, "pylon wasm: out of memory registering the WASI functions\n");
        rc = PYLON_EXIT_IO;
        goto done;
    }
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_instance *inst = pylon_instantiate(mod, imp, &limits, &err, &trap);
    if (!inst) {
        if (trap.kind == PYLON_TRAP_EXIT) { rc = trap.exit_code; goto done; }
        if (trap.kind != PYLON_TRAP_NONE) {
            print_trap(module, &trap, " (in its start function)");
            rc = PYLON_EXIT_TRAP;
            goto done;
        }
        fprintf(stderr, "pylon wasm: cannot instantiate %s: %s%s\n", module, err.message,
                err.kind == PYLON_ERR_UNLINKABLE
                    ? " (Pylon provides the wasi_snapshot_preview1 functions and nothing else)"
                : err.kind == PYLON_ERR_LIMIT ? " (raise --max-memory?)" : "");
        rc = PYLON_EXIT_LOAD;
        goto done;
    }

    watchdog wd = { .mu = PTHREAD_MUTEX_INITIALIZER, .inst = inst, .wasi = wasi };
    pthread_t th;
    bool watching = false;
    if (timeout > 0) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&wd.cv, &ca);
        pthread_condattr_destroy(&ca);
        clock_gettime(CLOCK_MONOTONIC, &wd.deadline);
        double whole = (double)(time_t)timeout;
        wd.deadline.tv_sec += (time_t)timeout;
        wd.deadline.tv_nsec += (long)((timeout - whole) * 1e9);
        if (wd.deadline.tv_nsec >= 1000000000L) { wd.deadline.tv_sec++; wd.deadline.tv_nsec -= 1000000000L; }
        watching = pthread_create(&th, NULL, watch, &wd) == 0;
        if (!watching) fprintf(stderr, "pylon wasm: cannot start the --timeout watchdog; "
                               "running without it\n");
    }
    int code = 0;
    int r = pylon_wasi_start(inst, &code, &trap);
    if (watching) {
        pthread_mutex_lock(&wd.mu);
        wd.done = true;
        pthread_cond_signal(&wd.cv);
        pthread_mutex_unlock(&wd.mu);
        pthread_join(th, NULL);
        pthread_cond_destroy(&wd.cv);
    }
    if (r == 0) {
        rc = code;
    } else if (r == -2) {
        fprintf(stderr, "pylon wasm: %s: %s\n", module, trap.message);
        rc = PYLON_EXIT_LOAD;
    } else {
        char why[96] = "";
        if (wd.fired && trap.kind == PYLON_TRAP_INTERRUPTED)
            snprintf(why, sizeof why, " (--timeout %gs expired)", timeout);
        else if (trap.kind == PYLON_TRAP_FUEL_EXHAUSTED)
            snprintf(why, sizeof why, " (--fuel %llu used up)", (unsigned long long)limits.fuel);
        print_trap(module, &trap, why);
        rc = PYLON_EXIT_TRAP;
    }
    pylon_instance_free(inst);
done:
    pylon_imports_free(imp);
    pylon_wasi_free(wasi);
    pylon_module_free(mod);
out:
    for (int s = 0; s < nsocks; s++) close(socks[s]);
    free(socks);
    pylon_wasi_config_free(cfg);
    return rc;
}

int pylon_cmd_wasm(int argc, char **argv) {
    /* A guest writing to a closed pipe gets EPIPE, as POSIX programs that
     * ignore SIGPIPE do; the signal must not kill the host. */
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "run")) return run(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
                      !strcmp(argv[1], "help"))) {
        fputs(usage_text, stdout);
        return PYLON_EXIT_OK;
    }
    fprintf(stderr, "pylon wasm: %s%s%s\nusage: pylon wasm run [options] MODULE.wasm [ARGS...]"
            " ('pylon wasm run --help' lists the options)\n",
            argc >= 2 ? "unknown subcommand '" : "missing subcommand",
            argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
    return PYLON_EXIT_USAGE;
}
