/*
 * sandbox.c — the sandbox options and the WASI command runner that
 * `pylon wasm run` and `pylon run` share (see sandbox.h).
 *
 * A guest gets only what the options name: directories (--dir/--ro-dir),
 * environment variables (--env; nothing is inherited), sockets (--listen),
 * and limits (--max-memory, --fuel, --timeout, --max-call-depth).  The
 * --timeout watchdog and Ctrl-C both reach the guest through the engine's
 * thread-safe interrupt; a command may turn Ctrl-C into something gentler
 * than a trap (Python raises KeyboardInterrupt).
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sandbox.h"
#include "pylon/host.h"

const char pylon_sandbox_help[] =
    "  --dir HOST[::GUEST]     give the guest host directory HOST, named GUEST\n"
    "                          inside (default: HOST as written); read-write\n"
    "  --ro-dir HOST[::GUEST]  the same, read-only: nothing beneath it can be\n"
    "                          created, written, renamed, linked or removed\n"
    "  --env NAME=VALUE        set a guest environment variable; none is inherited\n"
    "  --env NAME              pass the host's current value of NAME\n"
    "  --listen HOST:PORT      hand the guest a listening TCP socket; it is the fd\n"
    "                          after the preopened directories (3 + number of dirs)\n"
    "  --max-memory SIZE       cap every linear memory at SIZE bytes (suffixes K, M,\n"
    "                          G; rounded up to 64 KiB pages); growing past it fails\n"
    "  --fuel N                stop the guest (a trap) after about N instructions\n"
    "  --timeout DURATION      stop the guest (a trap) after DURATION: 10, 1.5s,\n"
    "                          250ms, 2m; it also wakes a guest blocked on input\n"
    "  --max-call-depth N      trap when calls nest deeper than N (default 50000)\n"
    "  --plan PLAN             the guest's capabilities (compose:dynlink; see\n"
    "                          'pylon plan --help'); without it every resolve is\n"
    "                          refused with exec-capability-denied\n"
    "  --engine interp|aot|auto  how to run the code: the interpreter; native code\n"
    "                          compiled ahead of time (compiling on first use, see\n"
    "                          'pylon aot'); or (default) native when a compiled\n"
    "                          artifact exists, the interpreter otherwise.  --fuel\n"
    "                          is counted by the interpreter only, so it implies\n"
    "                          --engine interp (--engine aot with --fuel is an error)\n";

int pylon_sandbox_usage_error(const pylon_sandbox *sb, const char *fmt, const char *arg) {
    fprintf(stderr, "%s: ", sb->cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun '%s' for the options\n", sb->help_hint);
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
        return -2; /* malformed, as opposed to refused by the host */
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

int pylon_sandbox_init(pylon_sandbox *sb, const char *cmd, const char *help_hint) {
    memset(sb, 0, sizeof *sb);
    sb->cmd = cmd;
    sb->help_hint = help_hint;
    sb->cfg = pylon_wasi_config_new();
    if (!sb->cfg) { fprintf(stderr, "%s: out of memory\n", cmd); return -1; }
    return 0;
}

void pylon_sandbox_fini(pylon_sandbox *sb) {
    if (sb->host) pylon_host_free(sb->host);
    sb->host = NULL;
    for (int s = 0; s < sb->nsocks; s++) close(sb->socks[s]);
    free(sb->socks);
    pylon_wasi_config_free(sb->cfg);
    sb->socks = NULL;
    sb->cfg = NULL;
}

int pylon_sandbox_option(pylon_sandbox *sb, int argc, char **argv, int *ip) {
    const char *a = argv[*ip], *val = NULL;
    static const char *const names[] = {"--dir", "--ro-dir", "--env", "--listen", "--max-memory",
                                        "--fuel", "--timeout", "--max-call-depth", "--engine", "--plan"};
    char name[32];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    if (nl >= sizeof name) return 0;
    memcpy(name, a, nl);
    name[nl] = 0;
    bool known = false;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) known |= !strcmp(name, names[k]);
    if (!known) return 0;
    if (eq) val = eq + 1;
    else if (*ip + 1 < argc) val = argv[++*ip];
    else { pylon_sandbox_usage_error(sb, "option '%s' needs a value", a); return -PYLON_EXIT_USAGE; }

    if (!strcmp(name, "--dir") || !strcmp(name, "--ro-dir")) {
        char *buf = strdup(val);
        const char *host, *guest;
        if (!buf) return -PYLON_EXIT_IO;
        split_dir(buf, &host, &guest);
        int r = *host && (!guest || *guest)
            ? pylon_wasi_config_dir(sb->cfg, host, guest, name[2] == 'r' ? PYLON_WASI_READONLY : 0)
            : -1;
        free(buf);
        if (r) { pylon_sandbox_usage_error(sb, "%s: expected HOST or HOST::GUEST", val); return -PYLON_EXIT_USAGE; }
    } else if (!strcmp(name, "--env")) {
        if (strchr(val, '=')) {
            if (pylon_wasi_config_env(sb->cfg, val)) {
                pylon_sandbox_usage_error(sb, "--env %s: the name before '=' is empty", val);
                return -PYLON_EXIT_USAGE;
            }
        } else {
            const char *v = getenv(val);
            if (!v || !*val) {
                fprintf(stderr, "%s: --env %s: %s is not set in this environment; "
                        "give --env %s=VALUE\n", sb->cmd, val, val, val);
                return -PYLON_EXIT_USAGE;
            }
            char *kv = malloc(strlen(val) + strlen(v) + 2);
            if (!kv) return -PYLON_EXIT_IO;
            sprintf(kv, "%s=%s", val, v);
            pylon_wasi_config_env(sb->cfg, kv);
            free(kv);
        }
    } else if (!strcmp(name, "--listen")) {
        char msg[512];
        int fd = listen_on(val, msg, sizeof msg);
        if (fd < 0) {
            fprintf(stderr, "%s: %s\n", sb->cmd, msg);
            return fd == -2 ? -PYLON_EXIT_USAGE : -PYLON_EXIT_IO;
        }
        int *bigger = realloc(sb->socks, (size_t)(sb->nsocks + 1) * sizeof *bigger);
        if (!bigger) { close(fd); return -PYLON_EXIT_IO; }
        sb->socks = bigger;
        sb->socks[sb->nsocks++] = fd;
        pylon_wasi_config_socket(sb->cfg, fd);
    } else if (!strcmp(name, "--max-memory")) {
        uint64_t bytes;
        if (!parse_size(val, &bytes) || bytes == 0) {
            pylon_sandbox_usage_error(sb, "--max-memory %s: expected a size like 65536, 512K, 256M or 4G", val);
            return -PYLON_EXIT_USAGE;
        }
        uint64_t pages = (bytes + PYLON_PAGE_SIZE - 1) / PYLON_PAGE_SIZE;
        sb->limits.max_memory_pages = pages > 65536 ? 65536 : (uint32_t)pages;
    } else if (!strcmp(name, "--fuel")) {
        if (!parse_u64(val, &sb->limits.fuel) || !sb->limits.fuel) {
            pylon_sandbox_usage_error(sb, "--fuel %s: expected a positive whole number", val);
            return -PYLON_EXIT_USAGE;
        }
    } else if (!strcmp(name, "--timeout")) {
        if (!parse_duration(val, &sb->timeout)) {
            pylon_sandbox_usage_error(sb, "--timeout %s: expected a duration like 10, 1.5s, 250ms or 2m", val);
            return -PYLON_EXIT_USAGE;
        }
    } else if (!strcmp(name, "--plan")) {
        sb->plan = val;
    } else if (!strcmp(name, "--engine")) {
        if (!strcmp(val, "interp")) sb->engine = PYLON_TIER_INTERP;
        else if (!strcmp(val, "aot")) sb->engine = PYLON_TIER_AOT;
        else if (!strcmp(val, "auto")) sb->engine = PYLON_TIER_AUTO;
        else {
            pylon_sandbox_usage_error(sb, "--engine %s: expected interp, aot or auto", val);
            return -PYLON_EXIT_USAGE;
        }
    } else { /* --max-call-depth */
        uint64_t d;
        if (!parse_u64(val, &d) || !d || d > UINT32_MAX) {
            pylon_sandbox_usage_error(sb, "--max-call-depth %s: expected a positive whole number", val);
            return -PYLON_EXIT_USAGE;
        }
        sb->limits.max_call_depth = (uint32_t)d;
    }
    return 1;
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
            pylon_instance_stop(d->inst);
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

/* Ctrl-C: the signal handler only records it and pokes the guest; the
 * interrupt handler then runs on the guest's thread at a safepoint. */
static pylon_instance *volatile sigint_inst;
static pylon_wasi *volatile sigint_wasi;
static volatile sig_atomic_t sigint_pending, sigint_forced;

static void on_sigint_signal(int sig) {
    (void)sig;
    /* A second Ctrl-C before the first was delivered stops the guest: native
     * (AOT) code takes the gentle one only at its next host call. */
    bool again = sigint_pending;
    sigint_pending = 1;
    if (sigint_inst) {
        if (again) { sigint_forced = 1; pylon_instance_stop(sigint_inst); }
        else pylon_instance_interrupt(sigint_inst);
    }
    if (sigint_wasi) pylon_wasi_interrupt(sigint_wasi);
}

typedef struct interrupt_ctx {
    watchdog *wd;
    const pylon_sandbox_hooks *hooks;
    bool sigint_stopped;
} interrupt_ctx;

static int on_interrupt(pylon_instance *inst, void *user) {
    interrupt_ctx *ic = user;
    if (ic->wd->fired) return 1;           /* --timeout: always a trap (pylon_instance_stop) */
    if (sigint_pending) {
        sigint_pending = 0;
        if (ic->hooks && ic->hooks->on_sigint && ic->hooks->on_sigint(inst, ic->hooks->user) == 0)
            return 0;
        ic->sigint_stopped = true;
        return 1;
    }
    return 0;                              /* a stale poke: nothing to do */
}

/* Loads the module on the engine the options ask for (see --engine). */
typedef struct { const char *cmd, *module; } compile_note;
static void say_compiling(void *user) {
    const compile_note *n = user;
    fprintf(stderr, "%s: compiling %s to native code (once; see 'pylon aot')...\n", n->cmd, n->module);
}
static pylon_module *load_module(pylon_sandbox *sb, const char *module, const uint8_t *bytes,
                                 size_t len, pylon_error *err) {
    compile_note note = {sb->cmd, module};
    /* native code counts no fuel: a fuel budget is kept by the interpreter */
    pylon_tier tier = sb->limits.fuel ? PYLON_TIER_INTERP : sb->engine;
    return pylon_module_load_tier(bytes, len, tier, sb->artifact, say_compiling, &note, err);
}

int pylon_sandbox_run(pylon_sandbox *sb, const char *module, const pylon_sandbox_hooks *hooks) {
    int rc;
    pylon_error err;
    size_t len;
    if (sb->limits.fuel && sb->engine == PYLON_TIER_AOT)
        return pylon_sandbox_usage_error(sb, "--fuel needs the interpreter: native code counts no fuel "
                                         "(drop --engine aot%s, or bound the time with --timeout)", "");
    uint8_t *bytes = pylon_read_file(module, &len);
    if (!bytes) {
        fprintf(stderr, "%s: cannot read %s: %s; check the path\n", sb->cmd, module, strerror(errno));
        return PYLON_EXIT_IO;
    }
    pylon_module *mod = load_module(sb, module, bytes, len, &err);
    free(bytes);
    if (!mod) {
        fprintf(stderr, "%s: %s is not a module Pylon can run: %s\n", sb->cmd, module, err.message);
        return PYLON_EXIT_LOAD;
    }
    pylon_wasi *wasi = pylon_wasi_new(sb->cfg, &err);
    if (!wasi) {
        fprintf(stderr, "%s: %s\n", sb->cmd, err.message);
        pylon_module_free(mod);
        return PYLON_EXIT_IO;
    }
    pylon_imports *imp = pylon_imports_new();
    if (!imp || pylon_wasi_add_imports(imp, wasi)) {
        fprintf(stderr, "%s: out of memory registering the WASI functions\n", sb->cmd);
        rc = PYLON_EXIT_IO;
        goto done;
    }
    /* the compose:dynlink linker: the plan's caps, or stubs that refuse
     * (so a guest built with caps still links and is told what to do) */
    if (sb->plan) {
        pylon_host_error herr;
        sb->host = pylon_host_use_plan(imp, sb->plan, NULL, &herr);
        if (!sb->host) {
            fprintf(stderr, "%s: --plan %s: %s\n", sb->cmd, sb->plan, herr.message);
            rc = PYLON_EXIT_LOAD;
            goto done;
        }
        pylon_host_set_tier(sb->host, sb->engine);   /* providers follow --engine */
    } else if (pylon_host_add_stub_imports(imp, "run with --plan PLAN to give the guest capabilities") != 0) {
        fprintf(stderr, "%s: out of memory registering the dynlink stubs\n", sb->cmd);
        rc = PYLON_EXIT_IO;
        goto done;
    }
    if (hooks && hooks->add_imports && hooks->add_imports(imp, hooks->user) != 0) {
        rc = PYLON_EXIT_LOAD; /* the hook said why */
        goto done;
    }
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    pylon_instance *inst = pylon_instantiate(mod, imp, &sb->limits, &err, &trap);
    if (!inst) {
        if (trap.kind == PYLON_TRAP_EXIT) { rc = trap.exit_code; goto done; }
        if (trap.kind != PYLON_TRAP_NONE) {
            print_trap(module, &trap, " (in its start function)");
            rc = PYLON_EXIT_TRAP;
            goto done;
        }
        fprintf(stderr, "%s: cannot instantiate %s: %s%s\n", sb->cmd, module, err.message,
                err.kind == PYLON_ERR_UNLINKABLE
                    ? " (Pylon provides wasi_snapshot_preview1 and compose:dynlink/linker@0.1.0, nothing else)"
                : err.kind == PYLON_ERR_LIMIT ? " (raise --max-memory?)" : "");
        rc = PYLON_EXIT_LOAD;
        goto done;
    }

    watchdog wd = { .mu = PTHREAD_MUTEX_INITIALIZER, .inst = inst, .wasi = wasi };
    interrupt_ctx ic = { .wd = &wd, .hooks = hooks };
    pylon_instance_set_interrupt_handler(inst, on_interrupt, &ic);
    pthread_t th;
    bool watching = false;
    if (sb->timeout > 0) {
        double timeout = sb->timeout;
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
        if (!watching) fprintf(stderr, "%s: cannot start the --timeout watchdog; running without it\n", sb->cmd);
    }
    sigint_inst = inst;
    sigint_wasi = wasi;
    sigint_pending = sigint_forced = 0;
    struct sigaction sa = { .sa_handler = on_sigint_signal }, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa); /* no SA_RESTART: a blocked read returns EINTR */

    int code = 0;
    int r = pylon_wasi_start(inst, &code, &trap);

    sigaction(SIGINT, &old_sa, NULL);
    sigint_inst = NULL;
    sigint_wasi = NULL;
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
        fprintf(stderr, "%s: %s: %s\n", sb->cmd, module, trap.message);
        rc = PYLON_EXIT_LOAD;
    } else if ((ic.sigint_stopped || sigint_forced) && trap.kind == PYLON_TRAP_INTERRUPTED) {
        fprintf(stderr, "%s: stopped by Ctrl-C\n", sb->cmd);
        rc = 130; /* what a shell reports for a program killed by SIGINT */
    } else {
        char why[96] = "";
        if (wd.fired && trap.kind == PYLON_TRAP_INTERRUPTED)
            snprintf(why, sizeof why, " (--timeout %gs expired)", sb->timeout);
        else if (trap.kind == PYLON_TRAP_FUEL_EXHAUSTED)
            snprintf(why, sizeof why, " (--fuel %llu used up)", (unsigned long long)sb->limits.fuel);
        print_trap(module, &trap, why);
        rc = PYLON_EXIT_TRAP;
    }
    pylon_instance_free(inst);
done:
    pylon_imports_free(imp);
    pylon_wasi_free(wasi);
    pylon_module_free(mod);
    return rc;
}
