/*
 * wasi.c — the core of Pylon's WASI preview 1 host: the config an embedder
 * fills, the guest's fd table, the small functions that need no file system
 * (args, environ, clocks, random, proc_exit/raise, sched_yield), the table
 * that registers all 46 functions with the engine, and the `_start` helper.
 *
 * Capabilities, not ambient authority: nothing here reads the host's
 * environment or working directory.  The guest sees exactly what the config
 * lists.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* ---- config ---------------------------------------------------------------- */

typedef struct { char *host, *guest; unsigned flags; } cfg_dir;

struct pylon_wasi_config {
    char **args; size_t nargs;
    char **env; size_t nenv;
    cfg_dir *dirs; size_t ndirs;
    int *socks; size_t nsocks;
    int stdio[3];
};

pylon_wasi_config *pylon_wasi_config_new(void) {
    pylon_wasi_config *c = calloc(1, sizeof *c);
    if (c) { c->stdio[0] = 0; c->stdio[1] = 1; c->stdio[2] = 2; }
    return c;
}

void pylon_wasi_config_free(pylon_wasi_config *c) {
    if (!c) return;
    for (size_t i = 0; i < c->nargs; i++) free(c->args[i]);
    for (size_t i = 0; i < c->nenv; i++) free(c->env[i]);
    for (size_t i = 0; i < c->ndirs; i++) { free(c->dirs[i].host); free(c->dirs[i].guest); }
    free(c->args); free(c->env); free(c->dirs); free(c->socks);
    free(c);
}

static int push_str(char ***v, size_t *n, const char *s) {
    char *copy = strdup(s);
    char **bigger = copy ? realloc(*v, (*n + 1) * sizeof **v) : NULL;
    if (!bigger) { free(copy); return -1; }
    bigger[(*n)++] = copy;
    *v = bigger;
    return 0;
}

int pylon_wasi_config_arg(pylon_wasi_config *c, const char *arg) {
    return c && arg ? push_str(&c->args, &c->nargs, arg) : -1;
}

int pylon_wasi_config_env(pylon_wasi_config *c, const char *kv) {
    if (!c || !kv) return -1;
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return -1;
    return push_str(&c->env, &c->nenv, kv);
}

int pylon_wasi_config_dir(pylon_wasi_config *c, const char *host, const char *guest,
                          unsigned flags) {
    if (!c || !host || !*host || (guest && !*guest)) return -1;
    cfg_dir d = { strdup(host), strdup(guest ? guest : host), flags };
    cfg_dir *bigger = d.host && d.guest ? realloc(c->dirs, (c->ndirs + 1) * sizeof *bigger) : NULL;
    if (!bigger) { free(d.host); free(d.guest); return -1; }
    bigger[c->ndirs++] = d;
    c->dirs = bigger;
    return 0;
}

void pylon_wasi_config_stdio(pylon_wasi_config *c, int in, int out, int err) {
    if (!c) return;
    c->stdio[0] = in; c->stdio[1] = out; c->stdio[2] = err;
}

int pylon_wasi_config_socket(pylon_wasi_config *c, int host_fd) {
    if (!c || host_fd < 0) return -1;
    int *bigger = realloc(c->socks, (c->nsocks + 1) * sizeof *bigger);
    if (!bigger) return -1;
    bigger[c->nsocks++] = host_fd;
    c->socks = bigger;
    return 0;
}

/* ---- errno mapping --------------------------------------------------------------- */

int wasi_errno(int e) {
    switch (e) {
    case 0: return W_ESUCCESS;
    case E2BIG: return W_E2BIG; case EACCES: return W_EACCES;
    case EADDRINUSE: return W_EADDRINUSE; case EADDRNOTAVAIL: return W_EADDRNOTAVAIL;
    case EAFNOSUPPORT: return W_EAFNOSUPPORT; case EAGAIN: return W_EAGAIN;
    case EALREADY: return W_EALREADY; case EBADF: return W_EBADF;
    case EBADMSG: return W_EBADMSG; case EBUSY: return W_EBUSY;
    case ECANCELED: return W_ECANCELED; case ECHILD: return W_ECHILD;
    case ECONNABORTED: return W_ECONNABORTED; case ECONNREFUSED: return W_ECONNREFUSED;
    case ECONNRESET: return W_ECONNRESET; case EDEADLK: return W_EDEADLK;
    case EDESTADDRREQ: return W_EDESTADDRREQ; case EDOM: return W_EDOM;
    case EDQUOT: return W_EDQUOT; case EEXIST: return W_EEXIST;
    case EFAULT: return W_EFAULT; case EFBIG: return W_EFBIG;
    case EHOSTUNREACH: return W_EHOSTUNREACH; case EIDRM: return W_EIDRM;
    case EILSEQ: return W_EILSEQ; case EINPROGRESS: return W_EINPROGRESS;
    case EINTR: return W_EINTR; case EINVAL: return W_EINVAL;
    case EIO: return W_EIO; case EISCONN: return W_EISCONN;
    case EISDIR: return W_EISDIR; case ELOOP: return W_ELOOP;
    case EMFILE: return W_EMFILE; case EMLINK: return W_EMLINK;
    case EMSGSIZE: return W_EMSGSIZE; case EMULTIHOP: return W_EMULTIHOP;
    case ENAMETOOLONG: return W_ENAMETOOLONG; case ENETDOWN: return W_ENETDOWN;
    case ENETRESET: return W_ENETRESET; case ENETUNREACH: return W_ENETUNREACH;
    case ENFILE: return W_ENFILE; case ENOBUFS: return W_ENOBUFS;
    case ENODEV: return W_ENODEV; case ENOENT: return W_ENOENT;
    case ENOEXEC: return W_ENOEXEC; case ENOLCK: return W_ENOLCK;
    case ENOLINK: return W_ENOLINK; case ENOMEM: return W_ENOMEM;
    case ENOMSG: return W_ENOMSG; case ENOPROTOOPT: return W_ENOPROTOOPT;
    case ENOSPC: return W_ENOSPC; case ENOSYS: return W_ENOSYS;
    case ENOTCONN: return W_ENOTCONN; case ENOTDIR: return W_ENOTDIR;
    case ENOTEMPTY: return W_ENOTEMPTY; case ENOTRECOVERABLE: return W_ENOTRECOVERABLE;
    case ENOTSOCK: return W_ENOTSOCK; case ENOTTY: return W_ENOTTY;
    case ENXIO: return W_ENXIO; case EOVERFLOW: return W_EOVERFLOW;
    case EOWNERDEAD: return W_EOWNERDEAD; case EPERM: return W_EPERM;
    case EPIPE: return W_EPIPE; case EPROTO: return W_EPROTO;
    case EPROTONOSUPPORT: return W_EPROTONOSUPPORT; case EPROTOTYPE: return W_EPROTOTYPE;
    case ERANGE: return W_ERANGE; case EROFS: return W_EROFS;
    case ESPIPE: return W_ESPIPE; case ESRCH: return W_ESRCH;
    case ESTALE: return W_ESTALE; case ETIMEDOUT: return W_ETIMEDOUT;
    case ETXTBSY: return W_ETXTBSY; case EXDEV: return W_EXDEV;
#if EOPNOTSUPP != ENOTSUP
    case EOPNOTSUPP: return W_ENOTSUP;
#endif
    case ENOTSUP: return W_ENOTSUP;
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK: return W_EAGAIN;
#endif
    default: return W_EIO;
    }
}

/* ---- fd table -------------------------------------------------------------------- */

uint8_t wasi_filetype(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return FT_REG;
    case S_IFDIR: return FT_DIR;
    case S_IFLNK: return FT_SYMLINK;
    case S_IFCHR: return FT_CHAR;
    case S_IFBLK: return FT_BLOCK;
    case S_IFSOCK: return FT_SOCK_STREAM;
    default: return FT_UNKNOWN;   /* FIFOs: preview 1 has no type for them */
    }
}

wasi_fd *wasi_fd_get(pylon_wasi *w, uint32_t fd, uint64_t need, int *e) {
    if (fd >= w->nfds || w->fds[fd].host < 0) { *e = W_EBADF; return NULL; }
    wasi_fd *f = &w->fds[fd];
    /* Beneath a read-only preopen the read-only sets bound every fd,
     * whatever its own rights say: a second wall behind the rights. */
    uint64_t ceiling = f->ro ? (R_DIR_RO | R_FILE_RO) : R_ALL;
    if ((f->base & ceiling & need) != need) { *e = W_ENOTCAPABLE; return NULL; }
    *e = W_ESUCCESS;
    return f;
}

int64_t wasi_fd_insert(pylon_wasi *w, int host, uint8_t type, uint64_t base, uint64_t inh,
                       bool ro) {
    uint32_t i = 0;
    while (i < w->nfds && w->fds[i].host >= 0) i++;
    if (i == w->nfds) {
        uint32_t n = w->nfds ? w->nfds * 2 : 16;
        wasi_fd *bigger = realloc(w->fds, n * sizeof *bigger);
        if (!bigger) return -1;
        for (uint32_t j = w->nfds; j < n; j++) bigger[j] = (wasi_fd){ .host = -1 };
        w->fds = bigger;
        w->nfds = n;
    }
    w->fds[i] = (wasi_fd){ .host = host, .type = type, .ro = ro, .base = base, .inh = inh };
    return i;
}

void wasi_dirlist_free(wasi_dirlist *d) {
    if (!d) return;
    free(d->e); free(d->names); free(d);
}

void wasi_fd_release(wasi_fd *f) {
    if (f->host >= 0) close(f->host);
    free(f->preopen);
    wasi_dirlist_free(f->dir);
    *f = (wasi_fd){ .host = -1 };
}

/* Type and rights of an fd the host hands in (stdio, sockets). */
static void classify(int host, wasi_fd *f) {
    struct stat st;
    f->type = fstat(host, &st) == 0 ? wasi_filetype(st.st_mode) : FT_UNKNOWN;
    if (f->type == FT_SOCK_STREAM) {
        int t = 0; socklen_t l = sizeof t;
        if (getsockopt(host, SOL_SOCKET, SO_TYPE, &t, &l) == 0 && t == SOCK_DGRAM)
            f->type = FT_SOCK_DGRAM;
        f->base = R_SOCK;
    } else if (f->type == FT_DIR) {
        f->base = R_DIR; f->inh = R_DIR | R_FILE;
    } else {
        f->base = R_FILE;
    }
    /* wasi-libc's isatty() is "a character device without seek/tell
     * rights", so those two rights tell the guest whether it has a terminal. */
    if (isatty(host)) f->base &= ~(R_FD_SEEK | R_FD_TELL);
}

void pylon_wasi_free(pylon_wasi *w) {
    if (!w) return;
    for (uint32_t i = 0; i < w->nfds; i++) wasi_fd_release(&w->fds[i]);
    free(w->fds);
    for (uint32_t i = 0; i < w->argc; i++) free(w->argv[i]);
    for (uint32_t i = 0; i < w->envc; i++) free(w->envv[i]);
    free(w->argv); free(w->envv);
    /* O_NONBLOCK or O_APPEND set by the guest on its stdio would otherwise
     * outlive it on the host's terminal or pipe (they belong to the open
     * file, which the dups share). */
    for (int i = 0; i < 3; i++) {
        if (w->stdio_keep[i] < 0) continue;
        fcntl(w->stdio_keep[i], F_SETFL, w->stdio_fl[i]);
        close(w->stdio_keep[i]);
    }
    if (w->wake[0] >= 0) close(w->wake[0]);
    if (w->wake[1] >= 0) close(w->wake[1]);
    free(w);
}

static pylon_wasi *fail(pylon_wasi *w, pylon_error *err, pylon_error_kind kind,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static pylon_wasi *fail(pylon_wasi *w, pylon_error *err, pylon_error_kind kind,
                        const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->kind = kind;
        err->offset = 0;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    pylon_wasi_free(w);
    return NULL;
}

static int copy_strings(char **src, size_t n, char ***dst, uint32_t *count, uint32_t *bytes) {
    if (n > UINT32_MAX / 2) return -1;
    *dst = calloc(n ? n : 1, sizeof **dst);
    if (!*dst) return -1;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!((*dst)[i] = strdup(src[i]))) return -1;
        (*count)++;
        total += strlen(src[i]) + 1;
    }
    if (total > UINT32_MAX) return -1;
    *bytes = (uint32_t)total;
    return 0;
}

pylon_wasi *pylon_wasi_new(const pylon_wasi_config *c, pylon_error *err) {
    if (err) { err->kind = PYLON_OK; err->message[0] = 0; }
    pylon_wasi *w = calloc(1, sizeof *w);
    if (!w) return fail(NULL, err, PYLON_ERR_NOMEM, "out of memory setting up WASI");
    w->wake[0] = w->wake[1] = -1;
    w->stdio_keep[0] = w->stdio_keep[1] = w->stdio_keep[2] = -1;
    if (!c) return fail(w, err, PYLON_ERR_ARG, "pylon_wasi_new: no config given");
    if (copy_strings(c->args, c->nargs, &w->argv, &w->argc, &w->argv_bytes) ||
        copy_strings(c->env, c->nenv, &w->envv, &w->envc, &w->env_bytes))
        return fail(w, err, PYLON_ERR_NOMEM, "out of memory copying WASI args/env");
    if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) != 0)
        return fail(w, err, PYLON_ERR_NOMEM, "cannot create the WASI wake-up pipe: %s",
                    strerror(errno));

    /* Guest fds: 0..2 stdio, then the preopens in order, then the sockets.
     * wasi-libc finds preopens by probing fd_prestat_get upwards from 3
     * and stops at the first EBADF, so nothing else may sit among them. */
    size_t need = 3 + c->ndirs + c->nsocks;
    if (need > UINT32_MAX / 2 || !(w->fds = malloc((need + 16) * sizeof *w->fds)))
        return fail(w, err, PYLON_ERR_NOMEM, "out of memory for the WASI fd table");
    w->nfds = (uint32_t)need + 16;
    for (uint32_t i = 0; i < w->nfds; i++) w->fds[i] = (wasi_fd){ .host = -1 };

    for (int i = 0; i < 3; i++) {
        if (c->stdio[i] < 0) continue;      /* a closed slot the guest cannot use */
        int host = fcntl(c->stdio[i], F_DUPFD_CLOEXEC, 3);
        if (host < 0)
            return fail(w, err, PYLON_ERR_ARG, "cannot give host fd %d to the guest as its "
                        "fd %d: %s; pass an open fd or -1", c->stdio[i], i, strerror(errno));
        w->fds[i].host = host;
        classify(host, &w->fds[i]);
        w->stdio_fl[i] = fcntl(host, F_GETFL);
        if (w->stdio_fl[i] >= 0) w->stdio_keep[i] = fcntl(host, F_DUPFD_CLOEXEC, 3);
    }
    for (size_t i = 0; i < c->ndirs; i++) {
        const cfg_dir *d = &c->dirs[i];
        int host = open(d->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (host < 0)
            return fail(w, err, PYLON_ERR_ARG,
                        "cannot preopen directory '%s': %s; give an existing directory "
                        "you may read", d->host, strerror(errno));
        bool ro = d->flags & PYLON_WASI_READONLY;
        w->fds[3 + i] = (wasi_fd){
            .host = host, .type = FT_DIR, .ro = ro,
            .base = ro ? R_DIR_RO : R_DIR,
            .inh = ro ? (R_DIR_RO | R_FILE_RO) : (R_DIR | R_FILE),
            .preopen = strdup(d->guest),
        };
        if (!w->fds[3 + i].preopen)
            return fail(w, err, PYLON_ERR_NOMEM, "out of memory for the WASI fd table");
    }
    for (size_t i = 0; i < c->nsocks; i++) {
        int host = fcntl(c->socks[i], F_DUPFD_CLOEXEC, 3);
        if (host < 0)
            return fail(w, err, PYLON_ERR_ARG, "cannot hand socket fd %d to the guest: %s; "
                        "pass an open socket", c->socks[i], strerror(errno));
        wasi_fd *f = &w->fds[3 + c->ndirs + i];
        f->host = host;
        classify(host, f);
    }
    return w;
}

void pylon_wasi_interrupt(pylon_wasi *w) {
    if (!w) return;
    atomic_store(&w->interrupted, 1);
    char b = 1;
    ssize_t r = write(w->wake[1], &b, 1);   /* a full pipe is already a wake-up */
    (void)r;
}

/* Consumes a pending pylon_wasi_interrupt: the guest sees one EINTR, and
 * the engine's own interrupt (which the embedder raises alongside) stops it
 * at its next call or loop back-edge. */
bool wasi_take_interrupt(pylon_wasi *w) {
    char buf[64];
    bool was = atomic_exchange(&w->interrupted, 0);
    while (read(w->wake[0], buf, sizeof buf) > 0) {}
    return was;
}

int wasi_wait_fd(pylon_wasi *w, int host, short events) {
    for (;;) {
        if (atomic_load(&w->interrupted)) { wasi_take_interrupt(w); return W_EINTR; }
        struct pollfd p[2] = { { host, events, 0 }, { w->wake[0], POLLIN, 0 } };
        int n = poll(p, 2, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return wasi_errno(errno);
        if (p[1].revents) { wasi_take_interrupt(w); return W_EINTR; }
        if (p[0].revents) return W_ESUCCESS;
    }
}

/* ---- guest memory helpers ----------------------------------------------------------- */

int wasi_put32(wasi_call *cx, uint32_t addr, uint32_t v) {
    uint8_t *p = wasi_mem(cx, addr, 4);
    if (!p) return W_EFAULT;
    st32(p, v);
    return W_ESUCCESS;
}

int wasi_put64(wasi_call *cx, uint32_t addr, uint64_t v) {
    uint8_t *p = wasi_mem(cx, addr, 8);
    if (!p) return W_EFAULT;
    st64(p, v);
    return W_ESUCCESS;
}

int wasi_iovecs(wasi_call *cx, uint32_t iovs, uint32_t iovs_len, struct iovec *out, int *n) {
    uint32_t cnt = iovs_len < WASI_IOV_MAX ? iovs_len : WASI_IOV_MAX;
    const uint8_t *arr = wasi_mem(cx, iovs, (uint64_t)cnt * 8);
    if (!arr) return W_EFAULT;
    for (uint32_t i = 0; i < cnt; i++) {
        uint32_t buf = ld32(arr + 8 * i), len = ld32(arr + 8 * i + 4);
        uint8_t *p = wasi_mem(cx, buf, len);
        if (!p) return W_EFAULT;
        out[i].iov_base = p;
        out[i].iov_len = len;
    }
    *n = (int)cnt;
    return W_ESUCCESS;
}

/* ---- args and environ ------------------------------------------------------------------- */

/* Writes `n` strings as a pointer array at `ptrs` and NUL-terminated bytes
 * at `buf`, the layout args_get and environ_get share. */
static int put_strings(wasi_call *cx, char **v, uint32_t n, uint32_t bytes, uint32_t ptrs,
                       uint32_t buf) {
    uint8_t *pa = wasi_mem(cx, ptrs, (uint64_t)n * 4);
    uint8_t *pb = wasi_mem(cx, buf, bytes);
    if (!pa || !pb) return W_EFAULT;
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        st32(pa + 4 * i, buf + off);
        memcpy(pb + off, v[i], len);
        off += (uint32_t)len;
    }
    return W_ESUCCESS;
}

static int wasi_args_get(wasi_call *cx, const pylon_val *a) {
    return put_strings(cx, cx->w->argv, cx->w->argc, cx->w->argv_bytes, AU32(0), AU32(1));
}

static int wasi_args_sizes_get(wasi_call *cx, const pylon_val *a) {
    int e = wasi_put32(cx, AU32(0), cx->w->argc);
    return e ? e : wasi_put32(cx, AU32(1), cx->w->argv_bytes);
}

static int wasi_environ_get(wasi_call *cx, const pylon_val *a) {
    return put_strings(cx, cx->w->envv, cx->w->envc, cx->w->env_bytes, AU32(0), AU32(1));
}

static int wasi_environ_sizes_get(wasi_call *cx, const pylon_val *a) {
    int e = wasi_put32(cx, AU32(0), cx->w->envc);
    return e ? e : wasi_put32(cx, AU32(1), cx->w->env_bytes);
}

/* ---- clocks, random, scheduling ------------------------------------------------------------- */

static int host_clock(uint32_t id, clockid_t *out) {
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return 0;
    case 1: *out = CLOCK_MONOTONIC; return 0;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
    default: return -1;
    }
}

static uint64_t ts_ns(const struct timespec *t) {
    return (uint64_t)t->tv_sec * 1000000000u + (uint64_t)t->tv_nsec;
}

static int wasi_clock_res_get(wasi_call *cx, const pylon_val *a) {
    clockid_t id;
    struct timespec t;
    if (host_clock(AU32(0), &id)) return W_EINVAL;
    if (clock_getres(id, &t) != 0) return wasi_errno(errno);
    return wasi_put64(cx, AU32(1), ts_ns(&t));
}

static int wasi_clock_time_get(wasi_call *cx, const pylon_val *a) {
    clockid_t id;
    struct timespec t;
    /* a[1] is the requested precision: a hint we may ignore. */
    if (host_clock(AU32(0), &id)) return W_EINVAL;
    if (clock_gettime(id, &t) != 0) return wasi_errno(errno);
    return wasi_put64(cx, AU32(2), ts_ns(&t));
}

static int wasi_random_get(wasi_call *cx, const pylon_val *a) {
    uint8_t *p = wasi_mem(cx, AU32(0), AU32(1));
    if (!p) return W_EFAULT;
    size_t done = 0, len = AU32(1);
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return wasi_errno(errno);
        done += (size_t)n;
    }
    return W_ESUCCESS;
}

static int wasi_sched_yield(wasi_call *cx, const pylon_val *a) {
    sched_yield();
    return W_ESUCCESS;
}

static int wasi_proc_exit(wasi_call *cx, const pylon_val *a) {
    cx->rc = pylon_caller_exit(cx->caller, a[0].i32);
    return WASI_STOP;
}

/* preview-1 signal numbers, 1..30, in spec order. */
static const char *const signames[] = {
    "NONE", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
    "SEGV", "USR2", "PIPE", "ALRM", "TERM", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "POLL", "PWR", "SYS",
};

/* A guest can only signal itself.  Signals whose default action is to be
 * ignored (or to stop/continue, which a sandboxed guest cannot do) are
 * no-ops; every other one ends the guest the way the signal would end a
 * process, as a trap naming the signal, so the host never receives a real
 * signal on the guest's behalf. */
static int wasi_proc_raise(wasi_call *cx, const pylon_val *a) {
    uint32_t sig = AU32(0);
    if (sig >= sizeof signames / sizeof *signames) return W_EINVAL;
    switch (sig) {
    case 0: case 16: case 17: case 18: case 19: case 20: case 21: case 22: case 27:
        return W_ESUCCESS;   /* NONE CHLD CONT STOP TSTP TTIN TTOU URG WINCH */
    default:
        cx->rc = pylon_caller_trap(cx->caller, "the guest raised SIG%s (proc_raise)",
                                   signames[sig]);
        return WASI_STOP;
    }
}

/* ---- the import table ----------------------------------------------------------------------- */

static const wasi_entry entries[WASI_NFUNCS] = {
    { "args_get", "ii:i", wasi_args_get },
    { "args_sizes_get", "ii:i", wasi_args_sizes_get },
    { "environ_get", "ii:i", wasi_environ_get },
    { "environ_sizes_get", "ii:i", wasi_environ_sizes_get },
    { "clock_res_get", "ii:i", wasi_clock_res_get },
    { "clock_time_get", "iIi:i", wasi_clock_time_get },
    { "fd_advise", "iIIi:i", wasi_fd_advise },
    { "fd_allocate", "iII:i", wasi_fd_allocate },
    { "fd_close", "i:i", wasi_fd_close },
    { "fd_datasync", "i:i", wasi_fd_datasync },
    { "fd_fdstat_get", "ii:i", wasi_fd_fdstat_get },
    { "fd_fdstat_set_flags", "ii:i", wasi_fd_fdstat_set_flags },
    { "fd_fdstat_set_rights", "iII:i", wasi_fd_fdstat_set_rights },
    { "fd_filestat_get", "ii:i", wasi_fd_filestat_get },
    { "fd_filestat_set_size", "iI:i", wasi_fd_filestat_set_size },
    { "fd_filestat_set_times", "iIIi:i", wasi_fd_filestat_set_times },
    { "fd_pread", "iiiIi:i", wasi_fd_pread },
    { "fd_prestat_get", "ii:i", wasi_fd_prestat_get },
    { "fd_prestat_dir_name", "iii:i", wasi_fd_prestat_dir_name },
    { "fd_pwrite", "iiiIi:i", wasi_fd_pwrite },
    { "fd_read", "iiii:i", wasi_fd_read },
    { "fd_readdir", "iiiIi:i", wasi_fd_readdir },
    { "fd_renumber", "ii:i", wasi_fd_renumber },
    { "fd_seek", "iIii:i", wasi_fd_seek },
    { "fd_sync", "i:i", wasi_fd_sync },
    { "fd_tell", "ii:i", wasi_fd_tell },
    { "fd_write", "iiii:i", wasi_fd_write },
    { "path_create_directory", "iii:i", wasi_path_create_directory },
    { "path_filestat_get", "iiiii:i", wasi_path_filestat_get },
    { "path_filestat_set_times", "iiiiIIi:i", wasi_path_filestat_set_times },
    { "path_link", "iiiiiii:i", wasi_path_link },
    { "path_open", "iiiiiIIii:i", wasi_path_open },
    { "path_readlink", "iiiiii:i", wasi_path_readlink },
    { "path_remove_directory", "iii:i", wasi_path_remove_directory },
    { "path_rename", "iiiiii:i", wasi_path_rename },
    { "path_symlink", "iiiii:i", wasi_path_symlink },
    { "path_unlink_file", "iii:i", wasi_path_unlink_file },
    { "poll_oneoff", "iiii:i", wasi_poll_oneoff },
    { "proc_exit", "i:", wasi_proc_exit },
    { "proc_raise", "i:i", wasi_proc_raise },
    { "sched_yield", ":i", wasi_sched_yield },
    { "random_get", "ii:i", wasi_random_get },
    { "sock_accept", "iii:i", wasi_sock_accept },
    { "sock_recv", "iiiiii:i", wasi_sock_recv },
    { "sock_send", "iiiii:i", wasi_sock_send },
    { "sock_shutdown", "ii:i", wasi_sock_shutdown },
};

size_t pylon_wasi_num_functions(void) { return WASI_NFUNCS; }

const char *pylon_wasi_function_name(size_t i) {
    return i < WASI_NFUNCS ? entries[i].name : NULL;
}

/* Every import goes through here: find the caller's memory, run the
 * implementation, hand its errno back as the single i32 result. */
static int trampoline(pylon_caller *caller, void *user, const pylon_val *args,
                      pylon_val *results) {
    wasi_binding *b = user;
    wasi_call cx = { .w = b->w, .caller = caller, .mem = pylon_caller_memory(caller) };
    if (!cx.mem && b->entry->fn != wasi_proc_exit && b->entry->fn != wasi_sched_yield &&
        b->entry->fn != wasi_proc_raise)
        return pylon_caller_trap(caller, "wasi %s: the module has no memory; WASI passes "
                                 "data through an exported memory named \"memory\"",
                                 b->entry->name);
    int e = b->entry->fn(&cx, args);
    if (e == WASI_STOP) return cx.rc;
    results[0].i32 = e;
    return 0;
}

int pylon_wasi_add_imports(pylon_imports *imp, pylon_wasi *w) {
    if (!imp || !w) return -1;
    for (size_t i = 0; i < WASI_NFUNCS; i++) {
        w->bind[i] = (wasi_binding){ w, &entries[i] };
        if (pylon_imports_add_func(imp, "wasi_snapshot_preview1", entries[i].name,
                                   entries[i].sig, trampoline, &w->bind[i]) != 0)
            return -1;
    }
    return 0;
}

int pylon_wasi_start(pylon_instance *inst, int *exit_code, pylon_trap *trap) {
    memset(trap, 0, sizeof *trap);
    pylon_func *start = inst ? pylon_instance_func(inst, "_start") : NULL;
    if (!start || strcmp(pylon_func_signature(start), ":") != 0) {
        snprintf(trap->message, sizeof trap->message,
                 "the module is not a WASI command: it has no `_start` export taking and "
                 "returning nothing (build it as a command, e.g. clang --target=wasm32-wasi "
                 "with a main function)");
        return -2;
    }
    if (pylon_call(start, NULL, 0, NULL, 0, trap) == 0) { *exit_code = 0; return 0; }
    if (trap->kind == PYLON_TRAP_EXIT) { *exit_code = trap->exit_code; return 0; }
    return -1;
}
