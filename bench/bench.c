/*
 * bench.c — the benchmark runner: Pylon's engine against native code, in
 * the same process and the same run (make bench; docs/benchmarks.md).
 *
 * Every workload in bench/workloads/ is linked in twice: natively (compiled
 * with clang -O2 from the same source) and as build/bench/<name>.wasm, run
 * through the public engine API only (pylon_module_load, pylon_instantiate,
 * pylon_instance_func, pylon_call), exactly as an embedder would.  For each
 * workload the runner
 *   1. picks n so one engine run takes about --target-ms (default 500 ms),
 *      growing n from 1 until a run is long enough to extrapolate from;
 *   2. runs native and engine alternately, --reps times each (default 3),
 *      keeping the best time of each, so a burst of load from a neighbour
 *      on the machine hits both sides rather than skewing one;
 *   3. requires every engine checksum to equal the native one: a fast wrong
 *      answer is a FAILED line and exit status 1, never a number in the table.
 * It prints native ms, engine ms and ratio = native/engine per workload,
 * then the geometric mean of the ratios: the single figure to track.
 *
 * --quick skips calibration and timing: a small fixed n per workload, one
 * run each side, and a line "ok NAME" or "FAILED NAME" per workload.  That
 * is what tests/groups/50-bench-check.sh runs, so CI checks the answers
 * without making any claim about speed.
 *
 * Times are process CPU time, not wall time: the machine is shared, and CPU
 * time does not count the moments another job had the core (--wall to
 * measure elapsed time instead).  A watchdog thread interrupts any engine
 * call that runs past --timeout, so an engine that loops forever shows up as
 * a FAILED line instead of a hung CI job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pylon/engine.h"

#ifndef BENCH_LIST
#error "bench.c is built by mk/bench.mk, which passes the workload list as BENCH_LIST"
#endif

#define DECLARE(name) uint64_t bench_##name(uint32_t n);
BENCH_LIST(DECLARE)

typedef struct workload {
    const char *name;
    uint64_t (*native)(uint32_t n);
} workload;

static const workload workloads[] = {
#define ENTRY(name) {#name, bench_##name},
    BENCH_LIST(ENTRY)
};
#define NWORKLOADS (sizeof workloads / sizeof workloads[0])

/* Room for a path, an engine error or trap message and a backtrace. */
#define WHY_CAP 8192

/* Eight rounds reach every path the workloads take (sort's duplicate-heavy
 * round is the eighth) and cost at most a few ms natively. */
#define QUICK_N 8

static struct {
    int quick;
    double target_s;
    int reps;
    const char *only;
    int has_n;          /* --n given: no calibration */
    uint32_t fixed_n;
    const char *dir;
    double timeout_s;   /* 0: no watchdog */
    clockid_t clock;
    int aot;            /* --aot: run the AOT tier instead of the interpreter */
} opt = {0, 0.5, 3, NULL, 0, 0, NULL, 60.0, CLOCK_PROCESS_CPUTIME_ID, 0};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(opt.clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- watchdog --------------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pylon_instance *armed;   /* the instance to interrupt at the deadline */
    struct timespec deadline;
    int fired;
} wd = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, {0, 0}, 0};

static void *watchdog_main(void *arg) {
    (void)arg;
    pthread_mutex_lock(&wd.mu);
    for (;;) {
        if (!wd.armed) {
            pthread_cond_wait(&wd.cv, &wd.mu);
            continue;
        }
        int rc = pthread_cond_timedwait(&wd.cv, &wd.mu, &wd.deadline);
        if (rc == ETIMEDOUT && wd.armed) {
            pylon_instance_interrupt(wd.armed);
            wd.fired = 1;
            wd.armed = NULL;
        }
    }
    return NULL;
}

static void watchdog_start(void) {
    if (opt.timeout_s <= 0) return;
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog_main, NULL) == 0)
        pthread_detach(t);
    else
        opt.timeout_s = 0;
}

static void watchdog_arm(pylon_instance *inst) {
    if (opt.timeout_s <= 0) return;
    pthread_mutex_lock(&wd.mu);
    /* pthread_cond_timedwait's default clock is CLOCK_REALTIME. */
    clock_gettime(CLOCK_REALTIME, &wd.deadline);
    double whole = floor(opt.timeout_s);
    wd.deadline.tv_sec += (time_t)whole;
    wd.deadline.tv_nsec += (long)((opt.timeout_s - whole) * 1e9);
    if (wd.deadline.tv_nsec >= 1000000000L) {
        wd.deadline.tv_sec++;
        wd.deadline.tv_nsec -= 1000000000L;
    }
    wd.armed = inst;
    wd.fired = 0;
    pthread_cond_signal(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
}

/* Returns whether the watchdog fired during the call. */
static int watchdog_disarm(void) {
    if (opt.timeout_s <= 0) return 0;
    pthread_mutex_lock(&wd.mu);
    int fired = wd.fired;
    wd.armed = NULL;
    wd.fired = 0;
    pthread_cond_signal(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
    return fired;
}

/* ---- the engine side ---------------------------------------------------- */

typedef struct engine_wl {
    pylon_instance *inst;
    pylon_func *fn;
} engine_wl;

static const char *trap_kind_name(pylon_trap_kind k) {
    switch (k) {
    case PYLON_TRAP_NONE: return "none";
    case PYLON_TRAP_UNREACHABLE: return "unreachable";
    case PYLON_TRAP_MEMORY_OOB: return "memory out of bounds";
    case PYLON_TRAP_TABLE_OOB: return "table out of bounds";
    case PYLON_TRAP_INT_OVERFLOW: return "integer overflow";
    case PYLON_TRAP_INT_DIV_ZERO: return "integer divide by zero";
    case PYLON_TRAP_INVALID_CONVERSION: return "invalid conversion";
    case PYLON_TRAP_INDIRECT_NULL: return "indirect call to null";
    case PYLON_TRAP_INDIRECT_TYPE: return "indirect call type mismatch";
    case PYLON_TRAP_STACK_EXHAUSTED: return "stack exhausted";
    case PYLON_TRAP_FUEL_EXHAUSTED: return "fuel exhausted";
    case PYLON_TRAP_INTERRUPTED: return "interrupted";
    case PYLON_TRAP_HOST: return "host";
    case PYLON_TRAP_EXIT: return "exit";
    }
    return "unknown";
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, used = 0;
    for (;;) {
        if (used == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + used, 1, cap - used, f);
        used += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = used;
    return buf;
}

/* Loads and instantiates one workload module; on failure writes the
 * reason into why and returns -1. */
static int engine_open(const workload *w, engine_wl *e, char *why, size_t cap) {
    char path[1024], export[128];
    snprintf(path, sizeof path, "%s/%s.wasm", opt.dir, w->name);
    snprintf(export, sizeof export, "bench_%s", w->name);
    size_t len = 0;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    pylon_error err;
    memset(&err, 0, sizeof err);
    pylon_module *m;
    if (opt.aot) {
        /* the artifact lives beside the module; (re)built when missing or
         * built from other bytes (the load refuses those) */
        char so[1100];
        snprintf(so, sizeof so, "%s/%s.aot.so", opt.dir, w->name);
        m = pylon_module_load_aot(bytes, len, so, &err);
        if (!m && pylon_aot_compile(bytes, len, so, &err) == 0)
            m = pylon_module_load_aot(bytes, len, so, &err);
    } else {
        m = pylon_module_load(bytes, len, &err);
    }
    free(bytes);
    if (!m) {
        snprintf(why, cap, "pylon_module_load(%s): error kind %d at offset 0x%zx: %s", path,
                 (int)err.kind, err.offset, err.message);
        return -1;
    }
    /* The modules are built to be self-contained; an import would mean
     * the build let libc or a builtin slip in. */
    if (pylon_module_num_imports(m) != 0) {
        snprintf(why, cap, "%s has %u imports; bench modules must have none", path,
                 pylon_module_num_imports(m));
        pylon_module_free(m);
        return -1;
    }
    pylon_imports *imp = pylon_imports_new();
    pylon_limits limits;
    memset(&limits, 0, sizeof limits);
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    e->inst = pylon_instantiate(m, imp, &limits, &err, &trap);
    if (imp) pylon_imports_free(imp);
    pylon_module_free(m);
    if (!e->inst) {
        snprintf(why, cap, "pylon_instantiate(%s): error kind %d: %s", path, (int)err.kind,
                 err.message);
        return -1;
    }
    e->fn = pylon_instance_func(e->inst, export);
    if (!e->fn) {
        snprintf(why, cap, "%s exports no function %s", path, export);
        pylon_instance_free(e->inst);
        return -1;
    }
    const char *sig = pylon_func_signature(e->fn);
    if (!sig || strcmp(sig, "i:I") != 0) {
        snprintf(why, cap, "%s: %s has signature \"%s\", expected \"i:I\"", path, export,
                 sig ? sig : "(null)");
        pylon_instance_free(e->inst);
        return -1;
    }
    return 0;
}

/* One engine call.  On a trap (or a watchdog timeout) writes a report,
 * backtrace included, into why and returns -1. */
static int engine_run(engine_wl *e, uint32_t n, uint64_t *out, char *why, size_t cap) {
    pylon_val arg, res;
    arg.bits = 0;
    arg.i32 = (int32_t)n;
    res.bits = 0;
    pylon_trap trap;
    memset(&trap, 0, sizeof trap);
    watchdog_arm(e->inst);
    int rc = pylon_call(e->fn, &arg, 1, &res, 1, &trap);
    int fired = watchdog_disarm();
    if (rc != 0) {
        char bt[2048] = "";
        size_t bl = pylon_trap_backtrace(&trap, bt, sizeof bt);
        if (bl >= sizeof bt) bl = sizeof bt - 1;
        while (bl > 0 && bt[bl - 1] == '\n') bt[--bl] = 0;
        snprintf(why, cap, "engine trapped (%s%s): %s%s%s", trap_kind_name(trap.kind),
                 fired ? ", by the watchdog after --timeout" : "", trap.message,
                 bl ? "\n" : "", bt);
        return -1;
    }
    if (fired) {
        snprintf(why, cap, "engine ran past --timeout %g s", opt.timeout_s);
        return -1;
    }
    *out = (uint64_t)res.i64;
    return 0;
}

/* ---- calibration and measurement ----------------------------------------- */

/* Grows n geometrically until one engine run is long enough to extrapolate
 * from (15% of the target), then scales it linearly: every workload's cost
 * is proportional to n.  Costs roughly half a target's worth of time. */
static int calibrate(engine_wl *e, uint32_t *n_out, char *why, size_t cap) {
    uint32_t n = 1;
    for (;;) {
        uint64_t sum;
        double t0 = now_s();
        if (engine_run(e, n, &sum, why, cap) != 0) return -1;
        double t = now_s() - t0;
        if (t >= opt.target_s * 0.15 || n >= (1u << 30)) {
            double est = t > 0 ? (double)n * opt.target_s / t : (double)n;
            if (est < 1) est = 1;
            if (est > (double)(1u << 31)) est = (double)(1u << 31);
            *n_out = (uint32_t)est;
            return 0;
        }
        double grow = t > 0 ? opt.target_s * 0.3 / t : 64;
        if (grow < 2) grow = 2;
        if (grow > 64) grow = 64;
        double next = (double)n * grow;
        n = next > (double)(1u << 30) ? (1u << 30) : (uint32_t)next;
    }
}

static int selected(const char *name) {
    if (!opt.only) return 1;
    size_t len = strlen(name);
    for (const char *p = opt.only; *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && strncmp(p, name, len) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static void print_cpu(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) printf("# cpu:%s", v + 1);
            break;
        }
    }
    fclose(f);
}

static int run_quick(const workload *w, engine_wl *e) {
    uint32_t n = opt.has_n ? opt.fixed_n : QUICK_N;
    char why[WHY_CAP];
    uint64_t nat = w->native(n), eng = 0;
    if (engine_run(e, n, &eng, why, sizeof why) != 0) {
        printf("FAILED %s n=%u: %s\n", w->name, n, why);
        return -1;
    }
    if (eng != nat) {
        printf("FAILED %s n=%u: engine checksum 0x%016llx != native 0x%016llx\n", w->name, n,
               (unsigned long long)eng, (unsigned long long)nat);
        return -1;
    }
    printf("ok %s n=%u checksum 0x%016llx\n", w->name, n, (unsigned long long)nat);
    return 0;
}

/* Measures one workload; on success stores native/engine ratio. */
static int run_timed(const workload *w, engine_wl *e, double *ratio) {
    char why[WHY_CAP];
    uint32_t n = opt.fixed_n;
    if (!opt.has_n && calibrate(e, &n, why, sizeof why) != 0) {
        printf("FAILED %s (calibrating): %s\n", w->name, why);
        return -1;
    }
    double best_nat = INFINITY, best_eng = INFINITY;
    uint64_t ref = 0;
    for (int rep = 0; rep < opt.reps; rep++) {
        double t0 = now_s();
        uint64_t nat = w->native(n);
        double t = now_s() - t0;
        if (t < best_nat) best_nat = t;
        if (rep == 0) {
            ref = nat;
        } else if (nat != ref) {
            /* Not the engine's fault: the workload depends on something
             * other than n. */
            printf("FAILED %s n=%u: native checksum changed between runs (0x%016llx, 0x%016llx)\n",
                   w->name, n, (unsigned long long)ref, (unsigned long long)nat);
            return -1;
        }
        uint64_t eng;
        t0 = now_s();
        if (engine_run(e, n, &eng, why, sizeof why) != 0) {
            printf("FAILED %s n=%u: %s\n", w->name, n, why);
            return -1;
        }
        t = now_s() - t0;
        if (t < best_eng) best_eng = t;
        if (eng != ref) {
            printf("FAILED %s n=%u: engine checksum 0x%016llx != native 0x%016llx\n", w->name, n,
                   (unsigned long long)eng, (unsigned long long)ref);
            return -1;
        }
    }
    /* A native time at the clock's resolution would make the ratio noise;
     * the floor keeps the division defined and the row visibly suspect. */
    if (best_nat < 1e-6) best_nat = 1e-6;
    if (best_eng < 1e-6) best_eng = 1e-6;
    *ratio = best_nat / best_eng;
    printf("%-10s %11u %11.2f %11.2f %9.4f %9.1fx\n", w->name, n, best_nat * 1e3,
           best_eng * 1e3, *ratio, best_eng / best_nat);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench [--quick] [--only NAME,...] [--n N] [--target-ms MS] [--reps N]\n"
            "             [--timeout S] [--wall] [--aot] [--dir DIR] [--list]\n"
            "  --quick       small n, one run per side, checksums only (no timing)\n"
            "  --only        run only these workloads\n"
            "  --n N         use this n for every workload instead of calibrating (0: only\n"
            "                the built-in known answers, e.g. crc32c 0xe3069283)\n"
            "  --target-ms   engine time per run to calibrate n for (default 500)\n"
            "  --reps N      runs per side, best one counts (default 3)\n"
            "  --timeout S   interrupt an engine call after S seconds, 0 = never (default 60)\n"
            "  --wall        measure elapsed time instead of process CPU time\n"
            "  --aot         run the AOT tier (wasm2c + clang-19) instead of the interpreter;\n"
            "                artifacts are built next to the modules on first use\n"
            "  --dir DIR     where the .wasm modules are (default: next to this program)\n"
            "  --list        print the workload names and exit\n");
}

static int parse_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(a, "--quick")) {
            opt.quick = 1;
        } else if (!strcmp(a, "--aot")) {
            opt.aot = 1;
        } else if (!strcmp(a, "--wall")) {
            opt.clock = CLOCK_MONOTONIC;
        } else if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < NWORKLOADS; k++) printf("%s\n", workloads[k].name);
            exit(0);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (v && !strcmp(a, "--only")) {
            opt.only = v;
            i++;
        } else if (v && !strcmp(a, "--dir")) {
            opt.dir = v;
            i++;
        } else if (v && !strcmp(a, "--n")) {
            unsigned long x = strtoul(v, &end, 10);
            if (*end || *v == '-' || x > UINT32_MAX) return -1;
            opt.fixed_n = (uint32_t)x;
            opt.has_n = 1;
            i++;
        } else if (v && !strcmp(a, "--reps")) {
            long x = strtol(v, &end, 10);
            if (*end || x < 1 || x > 1000) return -1;
            opt.reps = (int)x;
            i++;
        } else if (v && !strcmp(a, "--target-ms")) {
            double x = strtod(v, &end);
            if (*end || !(x > 0)) return -1;
            opt.target_s = x / 1e3;
            i++;
        } else if (v && !strcmp(a, "--timeout")) {
            double x = strtod(v, &end);
            if (*end || !(x >= 0)) return -1;
            opt.timeout_s = x;
            i++;
        } else {
            return -1;
        }
    }
    if (opt.only) {
        /* Reject unknown names so a typo cannot turn into an empty run
         * that passes. */
        for (const char *p = opt.only; *p;) {
            const char *endp = strchr(p, ',');
            size_t l = endp ? (size_t)(endp - p) : strlen(p);
            int found = 0;
            for (size_t k = 0; k < NWORKLOADS; k++)
                if (strlen(workloads[k].name) == l && !strncmp(workloads[k].name, p, l)) found = 1;
            if (!found) {
                fprintf(stderr, "bench: unknown workload '%.*s' (see --list)\n", (int)l, p);
                return -1;
            }
            if (!endp) break;
            p = endp + 1;
        }
    }
    return 0;
}

/* The modules are built next to the runner; find that directory without
 * depending on the current directory. */
static char *default_dir(const char *argv0) {
    static char buf[4096];
    ssize_t len = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (len > 0) {
        buf[len] = 0;
    } else {
        snprintf(buf, sizeof buf, "%s", argv0);
    }
    char *slash = strrchr(buf, '/');
    if (!slash) return ".";
    *slash = 0;
    return buf[0] ? buf : "/";
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    if (!opt.dir) opt.dir = default_dir(argv[0]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    watchdog_start();

    if (opt.quick) {
        printf("# bench --quick: checksums of engine vs native at n=%u, no timing\n",
               opt.has_n ? opt.fixed_n : QUICK_N);
    } else {
        print_cpu();
        printf("# %s time, best of %d alternating runs per side, ",
               opt.clock == CLOCK_MONOTONIC ? "wall" : "process CPU", opt.reps);
        if (opt.has_n)
            printf("n fixed at %u\n", opt.fixed_n);
        else
            printf("n calibrated for ~%.0f ms per engine run\n", opt.target_s * 1e3);
        printf("%-10s %11s %11s %11s %9s %10s\n", "workload", "n", "native ms", "engine ms",
               "ratio", "slowdown");
    }

    int passed = 0, failed = 0;
    double log_sum = 0;
    for (size_t k = 0; k < NWORKLOADS; k++) {
        const workload *w = &workloads[k];
        if (!selected(w->name)) continue;
        engine_wl e;
        char why[WHY_CAP];
        if (engine_open(w, &e, why, sizeof why) != 0) {
            printf("FAILED %s: %s\n", w->name, why);
            failed++;
            continue;
        }
        int rc;
        if (opt.quick) {
            rc = run_quick(w, &e);
        } else {
            double ratio = 0;
            rc = run_timed(w, &e, &ratio);
            if (rc == 0) log_sum += log(ratio);
        }
        pylon_instance_free(e.inst);
        if (rc == 0)
            passed++;
        else
            failed++;
    }

    if (opt.quick) {
        printf("# quick check: %d ok, %d failed\n", passed, failed);
    } else if (passed > 0) {
        double gm = exp(log_sum / passed);
        printf("geomean ratio (native/engine) over %d workloads: %.4f  (engine at 1/%.1f of "
               "native speed)\n",
               passed, gm, 1.0 / gm);
    }
    if (failed) printf("%d workload(s) FAILED\n", failed);
    return failed ? 1 : 0;
}
