/* cli_grow.c — asks for 8 MiB more linear memory, for --max-memory. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    unsigned long before = __builtin_wasm_memory_size(0);
    long r = __builtin_wasm_memory_grow(0, 128);
    printf("grow 128 pages: %s\n", r < 0 ? "refused" : "ok");
    /* volatile, or the compiler may drop an allocation nobody uses */
    char *volatile p = malloc(16 << 20);
    if (p) p[(16 << 20) - 1] = 1;
    printf("malloc 16 MiB: %s\n", p ? "ok" : "NULL");
    printf("pages grew: %s\n", __builtin_wasm_memory_size(0) > before ? "yes" : "no");
    return 0;
}
