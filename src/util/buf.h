/* buf.h — a growable byte string (see buf.c). */
#ifndef PYLON_UTIL_BUF_H
#define PYLON_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Always NUL-terminated after a put; `len` counts every byte (the data may
 * hold NULs).  Zero-initialise to start. */
typedef struct pl_buf {
    char *s;
    size_t len, cap;
    bool oom;
} pl_buf;
void pl_buf_put(pl_buf *b, const void *data, size_t n);
void pl_buf_puts(pl_buf *b, const char *s);
void pl_buf_printf(pl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
