/*
 * crc32c.c — benchmark workload: CRC-32C (Castagnoli) over a buffer.
 *
 * Byte-at-a-time table lookup (the classic software CRC): one load from the
 * data, one dependent load from a 1 KiB table, shifts and xors per byte.
 * It measures how fast the engine does narrow loads and the loop around
 * them.  The table is built bit by bit at the start of every call, which
 * also exercises the bitwise form.  Each round perturbs one byte of the
 * buffer with the previous CRC so no round can be skipped or hoisted.
 */
#include "workload.h"

#define CRC_BUF 8192u
#define CRC_POLY 0x82f63b78u /* Castagnoli, bit-reversed */

static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_BUF];

static void crc_make_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC_POLY & (0u - (c & 1u)));
        crc_table[i] = c;
    }
}

static uint32_t crc32c(uint32_t crc, const uint8_t *p, uint32_t len) {
    crc = ~crc;
    for (uint32_t i = 0; i < len; i++)
        crc = (crc >> 8) ^ crc_table[(crc ^ p[i]) & 0xffu];
    return ~crc;
}

uint64_t bench_crc32c(uint32_t n) {
    uint64_t seed = 0x1234;
    crc_make_table();
    for (uint32_t i = 0; i < CRC_BUF; i += 8) {
        uint64_t r = wl_next(&seed);
        for (int k = 0; k < 8; k++) crc_buf[i + k] = (uint8_t)(r >> (8 * k));
    }
    /* "123456789" is the standard check string: its CRC-32C is 0xe3069283,
     * folded in so a wrong table shows up as a wrong checksum everywhere. */
    static const uint8_t check[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    uint64_t h = crc32c(0, check, 9);
    uint32_t crc = 0;
    for (uint32_t r = 0; r < n; r++) {
        crc = crc32c(crc, crc_buf, CRC_BUF);
        crc_buf[(crc >> 3) % CRC_BUF] ^= (uint8_t)crc;
        h = wl_mix(h, crc);
    }
    return h;
}
