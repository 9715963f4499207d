/* poll_fd.c — poll_oneoff with fd_read/fd_write subscriptions: regular
 * files (always ready; a read event tells how many bytes are left), stdin
 * and stdout given as files, several events from one call, a bad fd (the
 * event carries EBADF, the call succeeds), and libc's poll() on top.
 * Pipes and sockets are covered by sock_listen.c and the CLI checks. */
#include <poll.h>
#include "wt.h"

static uint64_t mono(void) {
    __wasi_timestamp_t t = 0;
    __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

static __wasi_subscription_t clock_sub(uint64_t ud, __wasi_clockid_t id, uint64_t timeout, int abs) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 1000;
    s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t ud, int type, int fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = type;
    s.u.u.fd_read.file_descriptor = fd;
    return s;
}

int main(void) {
    __wasi_event_t ev[4];
    __wasi_size_t n = 99;
    __wasi_subscription_t subs[4];
    uint64_t t0;
    /* A regular file is always ready; a read event says how much is left. */
    int sb = preopen("/sandbox"), fd;
    put_file("/sandbox/data.txt", "0123456789A");
    wopen(sb, "data.txt", 0, R_RW, 0, &fd);
    subs[0] = fd_sub(10, __WASI_EVENTTYPE_FD_READ, fd);
    subs[1] = clock_sub(11, __WASI_CLOCKID_MONOTONIC, 3000000000ull, 0);
    t0 = mono();
    expect("file.read", __wasi_poll_oneoff(subs, ev, 2, &n), 0);
    checku("file.read.n", n, 1);
    checku("file.read.userdata", ev[0].userdata, 10);
    checku("file.read.type", ev[0].type, __WASI_EVENTTYPE_FD_READ);
    checku("file.read.error", ev[0].error, 0);
    checku("file.read.nbytes", ev[0].fd_readwrite.nbytes, 11);
    check("file.read.quick", mono() - t0 < 1000000000ull, "at once");
    subs[0] = fd_sub(12, __WASI_EVENTTYPE_FD_WRITE, fd);
    expect("file.write", __wasi_poll_oneoff(subs, ev, 1, &n), 0);
    checku("file.write.n", n, 1);
    checku("file.write.type", ev[0].type, __WASI_EVENTTYPE_FD_WRITE);
    /* Both at once: two events. */
    subs[0] = fd_sub(13, __WASI_EVENTTYPE_FD_READ, fd);
    subs[1] = fd_sub(14, __WASI_EVENTTYPE_FD_WRITE, fd);
    expect("file.both", __wasi_poll_oneoff(subs, ev, 2, &n), 0);
    checku("file.both.n", n, 2);
    __wasi_fd_close(fd);

    /* stdin (a file here) and stdout (a file) */
    subs[0] = fd_sub(20, __WASI_EVENTTYPE_FD_READ, 0);
    expect("stdin.read", __wasi_poll_oneoff(subs, ev, 1, &n), 0);
    checku("stdin.read.n", n, 1);
    checku("stdin.read.error", ev[0].error, 0);
    subs[0] = fd_sub(21, __WASI_EVENTTYPE_FD_WRITE, 1);
    expect("stdout.write", __wasi_poll_oneoff(subs, ev, 1, &n), 0);
    checku("stdout.write.n", n, 1);

    /* A bad fd: the event carries the error; the call itself succeeds. */
    subs[0] = fd_sub(30, __WASI_EVENTTYPE_FD_READ, 999);
    subs[1] = clock_sub(31, __WASI_CLOCKID_MONOTONIC, 3000000000ull, 0);
    t0 = mono();
    expect("badfd", __wasi_poll_oneoff(subs, ev, 2, &n), 0);
    checku("badfd.n", n, 1);
    checku("badfd.userdata", ev[0].userdata, 30);
    expect("badfd.error", ev[0].error, __WASI_ERRNO_BADF);
    check("badfd.quick", mono() - t0 < 1000000000ull, "at once");

    /* libc poll() over the same */
    struct pollfd p[2] = { { 0, POLLIN, 0 }, { 1, POLLOUT, 0 } };
    int r = poll(p, 2, 1000);
    checku("libc.poll", r, 2);
    check("libc.poll.revents", (p[0].revents & POLLIN) && (p[1].revents & POLLOUT), "POLLIN, POLLOUT");
    return wt_done();
}
