/* poll.c — poll_oneoff with clock subscriptions (relative, several at
 * once, absolute realtime in the future) and bad input.  Fd subscriptions
 * are in poll_fd.c, absolute deadlines Node cannot do in poll_abs.c. */
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

    expect("poll.none", __wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL);

    /* One relative clock: sleeps at least that long. */
    subs[0] = clock_sub(42, __WASI_CLOCKID_MONOTONIC, 25000000, 0);
    uint64_t t0 = mono();
    expect("clock.relative", __wasi_poll_oneoff(subs, ev, 1, &n), 0);
    uint64_t dt = mono() - t0;
    checku("clock.relative.n", n, 1);
    checku("clock.relative.userdata", ev[0].userdata, 42);
    checku("clock.relative.type", ev[0].type, __WASI_EVENTTYPE_CLOCK);
    checku("clock.relative.error", ev[0].error, 0);
    check("clock.relative.slept", dt >= 25000000 && dt < 5000000000ull, "25 ms .. 5 s");

    /* Two clocks: only the earlier fires. */
    subs[0] = clock_sub(1, __WASI_CLOCKID_MONOTONIC, 2000000000ull, 0);
    subs[1] = clock_sub(2, __WASI_CLOCKID_MONOTONIC, 10000000, 0);
    t0 = mono();
    expect("clock.two", __wasi_poll_oneoff(subs, ev, 2, &n), 0);
    dt = mono() - t0;
    checku("clock.two.n", n, 1);
    checku("clock.two.userdata", ev[0].userdata, 2);
    check("clock.two.early", dt < 1500000000ull, "well before the 2 s clock");

    /* (Absolute deadlines already past, and absolute monotonic ones, are in
     * poll_abs.c: they hang Node.) */
    __wasi_timestamp_t now;
    /* The realtime clock, absolute, in the near future: waits for it. */
    __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    subs[0] = clock_sub(8, __WASI_CLOCKID_REALTIME, now + 30000000, 1);
    t0 = mono();
    expect("clock.realtime_abs", __wasi_poll_oneoff(subs, ev, 1, &n), 0);
    check("clock.realtime_abs.waited", mono() - t0 >= 20000000, ">= 20 ms");

    /* An unknown event type. */
    subs[0] = fd_sub(40, 7, 0);
    show("bad_tag", __wasi_poll_oneoff(subs, ev, 1, &n));

    return wt_done();
}
