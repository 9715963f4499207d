/* clocks_random.c — clock_res_get, clock_time_get, random_get, sched_yield,
 * and libc's sleep on top of poll_oneoff. */
#include <time.h>
#include "wt.h"

static uint64_t now(__wasi_clockid_t id) {
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(id, 1, &t)) return 0;
    return t;
}

int main(void) {
    static const char *names[] = { "realtime", "monotonic", "process_cputime", "thread_cputime" };
    for (int id = 0; id < 4; id++) {
        char key[64];
        __wasi_timestamp_t res = 0, t = 0;
        snprintf(key, sizeof key, "clock_res_get.%s", names[id]);
        expect(key, __wasi_clock_res_get(id, &res), 0);
        snprintf(key, sizeof key, "clock_res.%s.nonzero", names[id]);
        check(key, res > 0 && res <= 1000000000ull, "0 < resolution <= 1s");
        snprintf(key, sizeof key, "clock_time_get.%s", names[id]);
        expect(key, __wasi_clock_time_get(id, 1000, &t), 0);
    }
    __wasi_timestamp_t t;
    expect("clock_res_get.invalid", __wasi_clock_res_get(4, &t), __WASI_ERRNO_INVAL);
    expect("clock_time_get.invalid", __wasi_clock_time_get(99, 0, &t), __WASI_ERRNO_INVAL);

    uint64_t rt = now(__WASI_CLOCKID_REALTIME);
    check("realtime.after_2020", rt > 1577836800ull * 1000000000ull, "a 2020s timestamp in ns");
    uint64_t m1 = now(__WASI_CLOCKID_MONOTONIC), m2 = now(__WASI_CLOCKID_MONOTONIC);
    check("monotonic.nondecreasing", m2 >= m1, "m2 >= m1");
    volatile uint64_t spin = 0;
    uint64_t c1 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
    for (int i = 0; i < 3000000; i++) spin += i;
    uint64_t c2 = now(__WASI_CLOCKID_PROCESS_CPUTIME_ID);
    check("process_cputime.advances", c2 > c1, "cpu time grows while computing");

    struct timespec ts;
    check("libc.clock_gettime", clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "0");
    check("libc.time", time(NULL) > 1577836800, "a 2020s time()");

    /* Sleeping goes through poll_oneoff with a relative clock. */
    uint64_t s1 = now(__WASI_CLOCKID_MONOTONIC);
    struct timespec req = { 0, 30 * 1000000 };
    expect("nanosleep", nanosleep(&req, NULL) ? errno : 0, 0);
    uint64_t s2 = now(__WASI_CLOCKID_MONOTONIC);
    check("nanosleep.elapsed", s2 - s1 >= 30000000ull, ">= 30 ms");
    check("nanosleep.not_too_long", s2 - s1 < 5000000000ull, "< 5 s");
    s1 = now(__WASI_CLOCKID_MONOTONIC);
    usleep(20000);
    s2 = now(__WASI_CLOCKID_MONOTONIC);
    check("usleep.elapsed", s2 - s1 >= 20000000ull, ">= 20 ms");

    uint8_t a[64] = { 0 }, b[64] = { 0 };
    expect("random_get.zero_len", __wasi_random_get(a, 0), 0);
    expect("random_get.a", __wasi_random_get(a, sizeof a), 0);
    expect("random_get.b", __wasi_random_get(b, sizeof b), 0);
    check("random.differs", memcmp(a, b, sizeof a) != 0, "two draws differ");
    size_t big = 1 << 20;
    uint8_t *r = calloc(1, big);
    expect("random_get.1MiB", __wasi_random_get(r, big), 0);
    unsigned hist[256] = { 0 };
    for (size_t i = 0; i < big; i++) hist[r[i]]++;
    int flat = 1;
    for (int i = 0; i < 256; i++) if (hist[i] < 3000 || hist[i] > 5200) flat = 0;
    check("random.1MiB.uniform", flat, "every byte value 3000..5200 times in 1 MiB");
    uint32_t x = arc4random();
    (void)x;
    check("libc.getentropy", getentropy(a, 32) == 0, "0");

    expect("sched_yield", __wasi_sched_yield(), 0);
    return wt_done();
}
