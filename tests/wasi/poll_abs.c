/* poll_abs.c — poll_oneoff with absolute deadlines: on the monotonic clock,
 * and already in the past (which must not wait at all).  Pylon only: Node
 * hangs on both (node-known-wrong.txt). */
#include <time.h>
#include "wt.h"

static uint64_t now(__wasi_clockid_t id) {
    __wasi_timestamp_t t = 0;
    __wasi_clock_time_get(id, 1, &t);
    return t;
}

static int wait_until(__wasi_clockid_t id, uint64_t deadline, __wasi_event_t *ev, __wasi_size_t *n) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = 5;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = deadline;
    s.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    return __wasi_poll_oneoff(&s, ev, 1, n);
}

int main(void) {
    __wasi_event_t ev;
    __wasi_size_t n;
    static const char *names[] = { "realtime", "monotonic" };
    for (int id = 0; id < 2; id++) {
        char key[64];
        uint64_t t0 = now(__WASI_CLOCKID_MONOTONIC);
        snprintf(key, sizeof key, "%s.past", names[id]);
        expect(key, wait_until(id, now(id) - 1000000000ull, &ev, &n), 0);
        snprintf(key, sizeof key, "%s.past.quick", names[id]);
        check(key, n == 1 && ev.userdata == 5 && now(__WASI_CLOCKID_MONOTONIC) - t0 < 500000000ull,
              "one event at once");
        t0 = now(__WASI_CLOCKID_MONOTONIC);
        snprintf(key, sizeof key, "%s.zero", names[id]);
        expect(key, wait_until(id, 0, &ev, &n), 0);
        t0 = now(__WASI_CLOCKID_MONOTONIC);
        snprintf(key, sizeof key, "%s.future", names[id]);
        expect(key, wait_until(id, now(id) + 40000000, &ev, &n), 0);
        snprintf(key, sizeof key, "%s.future.waited", names[id]);
        uint64_t dt = now(__WASI_CLOCKID_MONOTONIC) - t0;
        check(key, dt >= 35000000 && dt < 5000000000ull, "about 40 ms");
    }
    /* CPU-time clocks cannot be waited on. */
    show("cputime.wait", wait_until(2, 0, &ev, &n) ? -1 : ev.error);
    /* libc's absolute clock_nanosleep */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 20000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    uint64_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    expect("clock_nanosleep.abs", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL), 0);
    check("clock_nanosleep.abs.waited", now(__WASI_CLOCKID_MONOTONIC) - t0 >= 15000000, ">= 15 ms");
    return wt_done();
}
