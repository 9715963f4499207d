/*
 * table.c — the reference crc32c provider: CRC-32C (Castagnoli, reflected
 * polynomial 0x82F63B78) one byte per step through a 256-entry table.
 *
 * Simple enough to check by eye, which is its job: it is the baseline
 * slice8.c must agree with, byte for byte.  The same file compiles
 * natively (no __wasm__) for the benchmark's native column.
 */
#include <stddef.h>
#include <stdint.h>

static uint32_t table[256];

void crc32c_table_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[i] = c;
    }
}

uint32_t crc32c_table_extend(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n--) crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
    return ~crc;
}

#ifdef __wasm__
#define CRC_IMPL_NAME "table"
#define CRC_INIT crc32c_table_init
#define CRC_EXTEND crc32c_table_extend
#include "glue.h"
#endif
