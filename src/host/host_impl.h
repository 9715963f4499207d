/*
 * host_impl.h — helpers shared by the files of src/host/ (not public).
 *
 * The host layer writes small state files (plans, allow-lists, keys) that
 * must never be seen half-written, reads files it must bound in size, and
 * builds JSON text; those few routines live in hostutil.c so each
 * responsibility file stays about its responsibility.
 */
#ifndef PYLON_HOST_IMPL_H
#define PYLON_HOST_IMPL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pylon/host.h"
#include "util/buf.h"

/* Fills err (if non-NULL) and returns -1. */
int pl_herr(pylon_host_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads a whole file up to max bytes.  NULL with errno set (EFBIG when
 * larger than max).  The buffer has a NUL after the data. */
uint8_t *pl_read_all(const char *path, size_t max, size_t *len);
/* Writes path atomically: a temp file in the same directory, fsync, rename,
 * fsync of the directory.  mode for the new file.  -1 with errno. */
int pl_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* mkdir -p with mode; -1 with errno. */
int pl_mkdirs(const char *path, unsigned mode);

bool pl_utf8_valid(const uint8_t *s, size_t len);
int pl_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen);
void pl_hex_encode(const uint8_t *in, size_t len, char *out /* 2*len+1 */);

/* A JSON string literal, quotes included. */
void pl_buf_json_str(pl_buf *b, const char *s, size_t n);

/* The per-invoke time limit: one thread per host that sleeps until the
 * earliest armed deadline and interrupts the instance that passed it.
 * Arms nest (a provider invoking another provider), LIFO. */
typedef struct pl_watchdog pl_watchdog;
pl_watchdog *pl_watchdog_new(void);
void pl_watchdog_free(pl_watchdog *w);
/* Returns a token for disarm, or -1 if the thread cannot run or arms
 * nest too deeply (the call then runs without a time limit). */
int pl_watchdog_arm(pl_watchdog *w, pylon_instance *inst, uint64_t timeout_ms);
/* True if the deadline passed and the instance was interrupted. */
bool pl_watchdog_disarm(pl_watchdog *w, int token);

#endif
