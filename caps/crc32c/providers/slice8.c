/*
 * slice8.c — the fast crc32c provider: slice-by-8 (eight 256-entry tables,
 * eight input bytes per step).
 *
 * Byte-at-a-time CRC is one dependent table lookup per byte; slicing folds
 * eight bytes into one step of eight independent lookups, so the
 * interpreter dispatches about a third as many instructions per byte and
 * the lookups do not wait on each other.  Same endpoint as table.c
 * (glue.h): a plan swaps one for the other by digest alone.
 */
#include <stddef.h>
#include <stdint.h>

static uint32_t t8[8][256];

void crc32c_slice8_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t8[0][i] = c;
    }
    for (int s = 1; s < 8; s++)
        for (uint32_t i = 0; i < 256; i++)
            t8[s][i] = (t8[s - 1][i] >> 8) ^ t8[0][t8[s - 1][i] & 0xff];
}

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t crc32c_slice8_extend(uint32_t crc, const uint8_t *p, size_t n) {
    crc = ~crc;
    /* Bytewise up to 8-byte alignment, so the wide loads below are aligned. */
    while (n && ((uintptr_t)p & 7)) { crc = (crc >> 8) ^ t8[0][(crc ^ *p++) & 0xff]; n--; }
    while (n >= 8) {
        uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);
        crc = t8[7][lo & 0xff] ^ t8[6][(lo >> 8) & 0xff] ^ t8[5][(lo >> 16) & 0xff] ^
              t8[4][lo >> 24] ^ t8[3][hi & 0xff] ^ t8[2][(hi >> 8) & 0xff] ^
              t8[1][(hi >> 16) & 0xff] ^ t8[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ t8[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#ifdef __wasm__
#define CRC_IMPL_NAME "slice8"
#define CRC_INIT crc32c_slice8_init
#define CRC_EXTEND crc32c_slice8_extend
#include "glue.h"
#endif
