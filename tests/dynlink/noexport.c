/* noexport.c — a module that is not a provider: it has memory and
 * cabi_realloc (the SDK's bump arena) but no compose:dynlink/endpoint export.
 * Resolving it must fail with exec-missing-export. */
#include "dynlink.h"

__attribute__((export_name("something_else")))
int something_else(int x) { return x + 1; }
