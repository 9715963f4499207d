/*
 * cmd_demo.c — `pylon demo`: the engine on its own, with nothing to build
 * first.  It loads an embedded wasm module (a CRC-32C implementation,
 * examples/demo/crc32c.c), runs it in the sandbox with a memory limit and a
 * fuel budget, and checks every answer against RFC 3720's check values.
 * The README's first command (./demo.sh) runs the full default job: Python
 * in the sandbox using the crc32c cap.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pylon/engine.h"

__asm__(".section .rodata\n"
        ".balign 16\n"
        "pylon_demo_wasm:\n"
        ".incbin \"" PYLON_DEMO_WASM "\"\n"
        "pylon_demo_wasm_end:\n"
        ".previous\n");
extern const uint8_t pylon_demo_wasm[], pylon_demo_wasm_end[];

typedef struct check { const char *name; uint8_t data[32]; uint32_t len, expect; } check;

int pylon_cmd_demo(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pylon demo\n\n"
               "Runs a CRC-32C guest module in the sandbox on the engine alone, checked\n"
               "against the RFC 3720 check values. Exit 0 when every value matches.\n"
               "./demo.sh runs the full demo: Python using the crc32c cap.\n");
        return 0;
    }
    static check checks[] = {
        {"\"123456789\"", "123456789", 9, 0xE3069283},
        {"\"abc\"", "abc", 3, 0x364B3FB7},
        {"\"\" (empty)", "", 0, 0x00000000},
        {"32 x 0x00", {0}, 32, 0x8A9136AA},
        {"32 x 0xFF", {0}, 32, 0x62A8AB43},
        {"0x00..0x1F", {0}, 32, 0x46DD794E},
        {"0x1F..0x00", {0}, 32, 0x113FDB5C},
    };
    for (int i = 0; i < 32; i++) {
        checks[4].data[i] = 0xFF;
        checks[5].data[i] = (uint8_t)i;
        checks[6].data[i] = (uint8_t)(31 - i);
    }

    pylon_error err;
    size_t size = (size_t)(pylon_demo_wasm_end - pylon_demo_wasm);
    pylon_module *m = pylon_module_load(pylon_demo_wasm, size, &err);
    if (!m) { fprintf(stderr, "pylon demo: %s\n", err.message); return PYLON_EXIT_LOAD; }
    pylon_limits lim = {.max_memory_pages = 16, .fuel = 10000000};
    pylon_trap trap;
    pylon_instance *inst = pylon_instantiate(m, NULL, &lim, &err, &trap);
    pylon_module_free(m);
    if (!inst) { fprintf(stderr, "pylon demo: %s\n", err.message); return PYLON_EXIT_LOAD; }

    printf("pylon demo: CRC-32C computed by a %zu-byte wasm module in the sandbox\n", size);
    pylon_memory *mem = pylon_instance_memory(inst, "memory");
    pylon_func *buffer = pylon_instance_func(inst, "buffer");
    pylon_func *crc = pylon_instance_func(inst, "crc32c");
    pylon_val r;
    int bad = 0, rc = PYLON_EXIT_OK;
    if (!mem || !buffer || !crc || pylon_call(buffer, NULL, 0, &r, 1, &trap) != 0) {
        fprintf(stderr, "pylon demo: the demo module lacks its exports\n");
        rc = PYLON_EXIT_LOAD;
        goto out;
    }
    uint32_t buf = (uint32_t)r.i32;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const check *c = &checks[i];
        if (pylon_memory_write(mem, buf, c->data, c->len) != 0) { bad++; continue; }
        pylon_val args[2] = {{.i32 = (int32_t)buf}, {.i32 = (int32_t)c->len}};
        if (pylon_call(crc, args, 2, &r, 1, &trap) != 0) {
            fprintf(stderr, "pylon demo: trapped: %s\n", trap.message);
            rc = PYLON_EXIT_TRAP;
            goto out;
        }
        uint32_t got = (uint32_t)r.i32;
        printf("  crc32c(%-12s) = 0x%08X  %s\n", c->name, got, got == c->expect ? "ok" : "MISMATCH");
        if (got != c->expect) bad++;
    }
    printf("%s: %d of %zu check values match\n", bad ? "FAILED" : "ok",
           (int)(sizeof checks / sizeof checks[0]) - bad, sizeof checks / sizeof checks[0]);
    if (bad) rc = PYLON_EXIT_FAIL;
out:
    pylon_instance_free(inst);
    return rc;
}
