/* bigmem.c — a provider whose initial memory (linked with 8 MiB) is above
 * the plan's limit for it.  Resolving it must fail with
 * exec-resource-exhausted, not instantiate it. */
#include "dynlink.h"

void dl_provider_handle(const char *m, size_t ml, const uint8_t *p, size_t pl, dl_reply *r) {
    dl_reply_ok(r, p, pl);
}
