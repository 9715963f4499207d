/*
 * watchdog.c — wall-clock limits for provider calls.
 *
 * Fuel bounds the instructions a provider runs, but a time limit is what an
 * operator thinks in, and it also covers time spent outside the
 * interpreter's fuel accounting.  One thread per host sleeps until the
 * earliest armed deadline and calls pylon_instance_interrupt() (the one
 * engine call that is safe from another thread) on the instance that
 * passed it.
 *
 * Arming is on the hot path of every invoke, so it costs a mutex and a
 * clock read; the thread is only woken when the new deadline is earlier
 * than the one it sleeps towards (a disarm never wakes it: it finds
 * nothing due when it wakes and goes back to sleep).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "host/host_impl.h"

#define MAX_NEST 64

typedef struct slot {
    pylon_instance *inst;
    struct timespec deadline;
    bool fired;
} slot;

struct pl_watchdog {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, failed, stop;
    bool idle;                      /* the thread waits with no deadline */
    struct timespec sleeping_until; /* its deadline when not idle */
    slot slots[MAX_NEST];
    int depth;
};

static int ts_cmp(const struct timespec *a, const struct timespec *b) {
    if (a->tv_sec != b->tv_sec) return a->tv_sec < b->tv_sec ? -1 : 1;
    return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

static void *run(void *arg) {
    pl_watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        const struct timespec *earliest = NULL;
        for (int i = 0; i < w->depth; i++)
            if (!w->slots[i].fired && (!earliest || ts_cmp(&w->slots[i].deadline, earliest) < 0))
                earliest = &w->slots[i].deadline;
        if (!earliest) {
            w->idle = true;
            pthread_cond_wait(&w->cv, &w->mu);
            w->idle = false;
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (ts_cmp(earliest, &now) <= 0) {
            for (int i = 0; i < w->depth; i++)
                if (!w->slots[i].fired && ts_cmp(&w->slots[i].deadline, &now) <= 0) {
                    w->slots[i].fired = true;
                    pylon_instance_stop(w->slots[i].inst);
                }
            continue;
        }
        w->sleeping_until = *earliest;
        pthread_cond_timedwait(&w->cv, &w->mu, &w->sleeping_until);
        w->sleeping_until.tv_sec = 0;
        w->sleeping_until.tv_nsec = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

pl_watchdog *pl_watchdog_new(void) {
    pl_watchdog *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    return w;
}

void pl_watchdog_free(pl_watchdog *w) {
    if (!w) return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int pl_watchdog_arm(pl_watchdog *w, pylon_instance *inst, uint64_t timeout_ms) {
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += (time_t)(timeout_ms / 1000);
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&w->mu);
    if (!w->started && !w->failed) {
        if (pthread_create(&w->thread, NULL, run, w) == 0) w->started = true;
        else w->failed = true;
    }
    if (!w->started || w->depth >= MAX_NEST) {
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    int token = w->depth++;
    w->slots[token] = (slot){ inst, dl, false };
    bool sleeping = w->sleeping_until.tv_sec || w->sleeping_until.tv_nsec;
    if (w->idle || (sleeping && ts_cmp(&dl, &w->sleeping_until) < 0) || (!w->idle && !sleeping))
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return token;
}

bool pl_watchdog_disarm(pl_watchdog *w, int token) {
    if (token < 0) return false;
    pthread_mutex_lock(&w->mu);
    bool fired = token < w->depth && w->slots[token].fired;
    if (token < w->depth) w->depth = token;   /* LIFO: drops anything nested above too */
    pthread_mutex_unlock(&w->mu);
    return fired;
}
