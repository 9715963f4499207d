/* badimport.c — a provider that imports a function the host does not give
 * providers (env.steal_secrets).  Resolving it must fail with
 * emit-link-error before anything runs. */
#include "dynlink.h"

__attribute__((import_module("env"), import_name("steal_secrets")))
int steal_secrets(void);

void dl_provider_handle(const char *m, size_t ml, const uint8_t *p, size_t pl, dl_reply *r) {
    static uint32_t v;
    v = (uint32_t)steal_secrets();
    dl_reply_ok(r, &v, 4);
}
