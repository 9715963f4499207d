/*
 * wasi_poll.c — poll_oneoff (clock and fd subscriptions) and the sock_*
 * functions, which work only on sockets the embedder handed in
 * (pylon_wasi_config_socket) and the connections accepted from them:
 * preview 1 gives a guest no way to create a socket.
 *
 * Every wait here also watches the pylon_wasi wake-up pipe, so
 * pylon_wasi_interrupt (the CLI's --timeout and Ctrl-C) can end a guest that
 * sleeps or waits for input forever.  A wait on fds returns EINTR then; a
 * sleep (a poll on clocks only) instead ends early with its clocks fired,
 * because wasi-libc's clock_nanosleep, under nanosleep/sleep/usleep, turns
 * any error of poll_oneoff into ENOTSUP: an interrupted sleep would surface
 * as "Not supported" (CPython's time.sleep raised OSError on Ctrl-C) where
 * an early wake-up is handled as the spurious wake-up it is, and whatever
 * the interrupt was for (KeyboardInterrupt, a trap) follows at the guest's
 * next safepoint.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };
enum { SUBCLOCK_ABSTIME = 1 };
enum { EVRW_HANGUP = 1 };

static uint64_t now_ns(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

typedef struct sub {
    uint64_t userdata;
    uint8_t tag;
    uint16_t error;          /* set: the event is ready with this error */
    bool ready;
    uint64_t deadline;       /* clocks: CLOCK_MONOTONIC ns */
    uint64_t nbytes;
    uint16_t flags;
    int pfd;                 /* fds: index into the pollfd array, or -1 */
} sub;

static void put_event(uint8_t *p, const sub *s) {
    memset(p, 0, 32);
    st64(p, s->userdata);
    st16(p + 8, s->error);
    st8(p + 10, s->tag);
    if (s->tag != EV_CLOCK) {
        st64(p + 16, s->nbytes);
        st16(p + 24, s->flags);
    }
}

int wasi_poll_oneoff(wasi_call *cx, const pylon_val *a) {
    uint32_t n = AU32(2);
    if (n == 0) return W_EINVAL;
    const uint8_t *in = wasi_mem(cx, AU32(0), (uint64_t)n * 48);
    uint8_t *out = wasi_mem(cx, AU32(1), (uint64_t)n * 32);
    uint8_t *nout = wasi_mem(cx, AU32(3), 4);
    if (!in || !out || !nout) return W_EFAULT;

    sub *subs = calloc(n, sizeof *subs);
    struct pollfd *pfds = calloc((size_t)n + 1, sizeof *pfds);
    if (!subs || !pfds) { free(subs); free(pfds); return W_ENOMEM; }
    uint32_t npfd = 0;
    bool any_ready = false, any_clock = false;
    uint64_t earliest = UINT64_MAX;
    uint64_t mono = now_ns(CLOCK_MONOTONIC);
    int e = W_ESUCCESS;

    for (uint32_t i = 0; i < n && !e; i++) {
        const uint8_t *s = in + 48 * (size_t)i;
        sub *u = &subs[i];
        u->userdata = ld64(s);
        u->tag = s[8];
        u->pfd = -1;
        if (u->tag == EV_CLOCK) {
            uint32_t id = ld32(s + 16);
            uint64_t timeout = ld64(s + 24);
            uint16_t fl = ld16(s + 40);
            if (id > 1) {              /* only realtime and monotonic can be waited on */
                u->error = id > 3 ? W_EINVAL : W_ENOTSUP;
                u->ready = any_ready = true;
                continue;
            }
            if (fl & SUBCLOCK_ABSTIME) {
                uint64_t now = id == 0 ? now_ns(CLOCK_REALTIME) : mono;
                u->deadline = timeout > now ? mono + (timeout - now) : mono;
            } else {
                u->deadline = timeout > UINT64_MAX - mono ? UINT64_MAX : mono + timeout;
            }
            any_clock = true;
            if (u->deadline < earliest) earliest = u->deadline;
        } else if (u->tag == EV_FD_READ || u->tag == EV_FD_WRITE) {
            int err;
            wasi_fd *f = wasi_fd_get(cx->w, ld32(s + 16), R_POLL_FD_READWRITE, &err);
            if (!f) { u->error = (uint16_t)err; u->ready = any_ready = true; continue; }
            if (f->type == FT_REG || f->type == FT_DIR) {
                /* Files never block: ready now, with what is left to read. */
                u->ready = any_ready = true;
                if (u->tag == EV_FD_READ) {
                    struct stat st;
                    off_t pos = lseek(f->host, 0, SEEK_CUR);
                    if (fstat(f->host, &st) == 0 && pos >= 0 && st.st_size > pos)
                        u->nbytes = (uint64_t)(st.st_size - pos);
                }
                continue;
            }
            u->pfd = (int)npfd;
            pfds[npfd++] = (struct pollfd){ f->host, u->tag == EV_FD_READ ? POLLIN : POLLOUT, 0 };
        } else {
            e = W_EINVAL;
        }
    }

    bool sleep_only = npfd == 0 && !any_ready;    /* clocks only, none of them invalid */
    pfds[npfd] = (struct pollfd){ cx->w->wake[0], POLLIN, 0 };
    while (!e) {
        struct timespec ts, *tsp = NULL;
        mono = now_ns(CLOCK_MONOTONIC);
        if (any_ready || (any_clock && earliest <= mono)) {
            ts = (struct timespec){ 0, 0 };
            tsp = &ts;
        } else if (any_clock) {
            uint64_t d = earliest - mono;
            ts = (struct timespec){ (time_t)(d / 1000000000u), (long)(d % 1000000000u) };
            tsp = &ts;
        }
        bool woken = atomic_load(&cx->w->interrupted);
        if (!woken) {
            int r = ppoll(pfds, npfd + 1, tsp, NULL);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) { e = wasi_errno(errno); break; }
            woken = pfds[npfd].revents != 0;
        }
        if (woken) {
            wasi_take_interrupt(cx->w);
            if (!sleep_only) { e = W_EINTR; break; }
            for (uint32_t i = 0; i < n; i++) subs[i].ready = true;   /* see the top */
            break;
        }
        mono = now_ns(CLOCK_MONOTONIC);
        bool fired = any_ready;
        for (uint32_t i = 0; i < n; i++) {
            sub *u = &subs[i];
            if (u->tag == EV_CLOCK && !u->ready && !u->error && u->deadline <= mono)
                u->ready = fired = true;
            if (u->pfd >= 0 && pfds[u->pfd].revents) {
                short rev = pfds[u->pfd].revents;
                u->ready = fired = true;
                if (rev & POLLNVAL) u->error = W_EBADF;
                if (rev & POLLHUP) u->flags |= EVRW_HANGUP;
                if (u->tag == EV_FD_READ) {
                    int avail = 0;
                    if (ioctl(pfds[u->pfd].fd, FIONREAD, &avail) == 0 && avail > 0)
                        u->nbytes = (uint64_t)avail;
                }
            }
        }
        if (fired) break;
    }
    uint32_t k = 0;
    if (!e) {
        for (uint32_t i = 0; i < n; i++)
            if (subs[i].ready) put_event(out + 32 * (size_t)k++, &subs[i]);
        st32(nout, k);
    }
    free(subs);
    free(pfds);
    return e;
}

/* ---- sockets ------------------------------------------------------------------ */

static bool is_socket(const wasi_fd *f) {
    return f->type == FT_SOCK_STREAM || f->type == FT_SOCK_DGRAM;
}

/* A socket fd with `need` rights.  Preview 1 has no sockets of its own, so
 * sock_* on anything else is "not supported" rather than a missing right. */
static wasi_fd *sock_get(wasi_call *cx, uint32_t fd, uint64_t need, int *e) {
    wasi_fd *f = wasi_fd_get(cx->w, fd, 0, e);
    if (!f) return NULL;
    if (!is_socket(f)) { *e = W_ENOTSUP; return NULL; }
    return wasi_fd_get(cx->w, fd, need, e);
}

static bool nonblocking(int host) {
    int fl = fcntl(host, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

int wasi_sock_accept(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = sock_get(cx, AU32(0), R_SOCK_ACCEPT, &e);
    if (!f) return e;
    uint32_t flags = AU32(1);
    if (flags & ~(uint32_t)FDFL_NONBLOCK) return W_EINVAL;
    uint8_t *out = wasi_mem(cx, AU32(2), 4);
    if (!out) return W_EFAULT;
    if (!nonblocking(f->host) && (e = wasi_wait_fd(cx->w, f->host, POLLIN))) return e;
    int host = accept4(f->host, NULL, NULL,
                       SOCK_CLOEXEC | (flags & FDFL_NONBLOCK ? SOCK_NONBLOCK : 0));
    if (host < 0) return wasi_errno(errno);
    int64_t fd = wasi_fd_insert(cx->w, host, FT_SOCK_STREAM, R_SOCK & ~R_SOCK_ACCEPT, 0, false);
    if (fd < 0) { close(host); return W_ENOMEM; }
    st32(out, (uint32_t)fd);
    return W_ESUCCESS;
}

int wasi_sock_recv(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = sock_get(cx, AU32(0), R_FD_READ, &e);
    if (!f) return e;
    uint32_t rflags = AU32(3);
    if (rflags & ~3u) return W_EINVAL;
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    uint8_t *len_out = wasi_mem(cx, AU32(4), 4), *flags_out = wasi_mem(cx, AU32(5), 2);
    if (!len_out || !flags_out) return W_EFAULT;
    if (!nonblocking(f->host) && (e = wasi_wait_fd(cx->w, f->host, POLLIN))) return e;
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
    int fl = (rflags & 1 ? MSG_PEEK : 0) | (rflags & 2 ? MSG_WAITALL : 0);
    ssize_t r = recvmsg(f->host, &m, fl);
    if (r < 0) return wasi_errno(errno);
    st32(len_out, (uint32_t)r);
    st16(flags_out, m.msg_flags & MSG_TRUNC ? 1 : 0);   /* roflags::recv_data_truncated */
    return W_ESUCCESS;
}

int wasi_sock_send(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = sock_get(cx, AU32(0), R_FD_WRITE, &e);
    if (!f) return e;
    if (AU32(3) != 0) return W_EINVAL;   /* siflags has no flags defined */
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    uint8_t *len_out = wasi_mem(cx, AU32(4), 4);
    if (!len_out) return W_EFAULT;
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)n };
    /* MSG_NOSIGNAL: a peer that went away is EPIPE for the guest, not a
     * SIGPIPE for the host. */
    ssize_t r = sendmsg(f->host, &m, MSG_NOSIGNAL);
    if (r < 0) return wasi_errno(errno);
    st32(len_out, (uint32_t)r);
    return W_ESUCCESS;
}

int wasi_sock_shutdown(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = sock_get(cx, AU32(0), R_SOCK_SHUTDOWN, &e);
    if (!f) return e;
    uint32_t how = AU32(1);
    if (how == 0 || how > 3) return W_EINVAL;
    int h = how == 3 ? SHUT_RDWR : how == 1 ? SHUT_RD : SHUT_WR;
    return shutdown(f->host, h) ? wasi_errno(errno) : W_ESUCCESS;
}
