/*
 * buf.c — a growable byte string, shared by the engine (the AOT builder's
 * generated sources) and the host (plans, audit lines, JSON).  Allocation
 * failure is sticky (`oom`), so a caller checks once at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

void pl_buf_put(pl_buf *b, const void *data, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *bigger = realloc(b->s, cap);
        if (!bigger) { b->oom = true; return; }
        b->s = bigger;
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = 0;
}

void pl_buf_puts(pl_buf *b, const char *s) { pl_buf_put(b, s, strlen(s)); }

void pl_buf_printf(pl_buf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) { pl_buf_put(b, small, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = true; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pl_buf_put(b, big, (size_t)n);
    free(big);
}
