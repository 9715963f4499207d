/*
 * crc32c.c — the built-in demo's guest: CRC-32C (Castagnoli) as a bare
 * wasm module with no imports.  `pylon demo` embeds the compiled module,
 * writes inputs into its memory, calls `crc32c` and checks the answers
 * against conventions.md's check values.  (Python with caps replaces this
 * demo once the CPython and dynlink layers land.)
 */
#include <stdint.h>

static uint32_t table[256];
static unsigned char buffer[1 << 16];

__attribute__((export_name("buffer"))) unsigned char *demo_buffer(void) { return buffer; }
__attribute__((export_name("buffer_size"))) uint32_t demo_buffer_size(void) { return sizeof buffer; }

__attribute__((export_name("crc32c")))
uint32_t demo_crc32c(const unsigned char *p, uint32_t n) {
    if (!table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & -(c & 1));
            table[i] = c;
        }
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}
