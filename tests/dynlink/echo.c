/*
 * echo.c — the well-behaved provider the round-trip tests and the bench
 * use: it touches nothing but what the boundary needs, so what is
 * measured is the boundary.
 *
 *   echo   the payload back (the payload block lives until post-return,
 *          so it is returned in place: no copy inside the provider)
 *   sink   nothing back (measures the way in alone)
 *   size   the payload's length as u32 LE
 *   count  how many times count was called, as u32 LE: state in linear
 *          memory, which a live tier-up must carry over
 */
#include "dynlink.h"

static uint32_t size_reply, counter;

void dl_provider_handle(const char *m, size_t ml, const uint8_t *p, size_t pl, dl_reply *r) {
    if (dl_method_is(m, ml, "echo")) dl_reply_ok(r, p, pl);
    else if (dl_method_is(m, ml, "sink")) dl_reply_ok(r, 0, 0);
    else if (dl_method_is(m, ml, "size")) { size_reply = (uint32_t)pl; dl_reply_ok(r, &size_reply, 4); }
    else if (dl_method_is(m, ml, "count")) { counter++; dl_reply_ok(r, &counter, 4); }
    else dl_reply_error(r, DL_NOT_IMPLEMENTED, "echo: unknown method");
}
