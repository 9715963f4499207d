/* badinit.c — a provider whose _initialize traps.  Resolving it must fail
 * with exec-trap, and leave no instance behind. */
#include "dynlink.h"

__attribute__((export_name("_initialize")))
void init(void) { __builtin_trap(); }

void dl_provider_handle(const char *m, size_t ml, const uint8_t *p, size_t pl, dl_reply *r) {
    dl_reply_ok(r, p, pl);
}
