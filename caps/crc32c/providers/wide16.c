/*
 * wide16.c — the crc32c provider tuned for an interpreter: slice-by-8
 * done with four 16-bit lookups instead of eight 8-bit ones.
 *
 * Under the engine the cost is the number of wasm instructions, not cache
 * misses: each lookup is a shift, a mask, an address computation, a load
 * and an xor, so halving the lookups per 8 bytes matters more than the
 * 1 MiB of tables (four 65536-entry tables, built once in _initialize:
 * about 4 ms under the interpreter).  Natively the big tables miss the L1
 * cache and slice8.c wins; under the engine this one does (docs/dynlink.md
 * has both).  Same endpoint as the others (glue.h).
 *
 * A 16-bit chunk (bytes b0 b1, b0 first) followed by k zero bytes
 * contributes T[k+1][b0] ^ T[k][b1], where T[k] is the byte table of
 * slice-by-8 (a byte followed by k zero bytes); w[j] is that for k = 2j.
 */
#include <stddef.h>
#include <stdint.h>

static uint32_t t8[8][256];
static uint32_t w[4][65536];

void crc32c_wide16_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t8[0][i] = c;
    }
    for (int s = 1; s < 8; s++)
        for (uint32_t i = 0; i < 256; i++)
            t8[s][i] = (t8[s - 1][i] >> 8) ^ t8[0][t8[s - 1][i] & 0xff];
    for (int j = 0; j < 4; j++)
        for (uint32_t v = 0; v < 65536; v++)
            w[j][v] = t8[2 * j + 1][v & 0xff] ^ t8[2 * j][v >> 8];
}

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32c_wide16_extend(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    while (n && ((uintptr_t)p & 7)) { crc = (crc >> 8) ^ t8[0][(crc ^ *p++) & 0xff]; n--; }
    while (n >= 8) {
        uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);
        crc = w[3][lo & 0xffff] ^ w[2][lo >> 16] ^ w[1][hi & 0xffff] ^ w[0][hi >> 16];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ t8[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#ifdef __wasm__
#define CRC_IMPL_NAME "wide16"
#define CRC_INIT crc32c_wide16_init
#define CRC_EXTEND crc32c_wide16_extend
#include "glue.h"
#endif
