/*
 * lz.c — benchmark workload: LZ77-style compression and decompression.
 *
 * A greedy compressor with a hash table of 4-byte prefixes, then the
 * matching decompressor, round-tripping a 16 KiB text-like buffer.
 * Unaligned 32-bit loads, hashing, short byte-copy loops and hard-to-
 * predict branches: the shape of real-world parsers and codecs.  Each
 * round edits a few input bytes first and verifies the round trip, so a
 * mis-executed copy changes the checksum.
 *
 * Token format (made up for this file): a control byte c < 0x80 is a run of
 * c+1 literal bytes that follow; c >= 0x80 is a match of (c & 0x7f) + 4
 * bytes at the little-endian 16-bit distance that follows.
 */
#include "workload.h"

#define LZ_LEN 16384u
#define LZ_HASH_BITS 12
#define LZ_NONE 0xffffffffu
#define LZ_MAX_MATCH (0x7f + 4)

static uint8_t lz_in[LZ_LEN];
static uint8_t lz_packed[LZ_LEN + LZ_LEN / 128 + 16];
static uint8_t lz_out[LZ_LEN];
static uint32_t lz_table[1u << LZ_HASH_BITS];

static inline uint32_t load32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t put_literals(uint8_t *out, uint32_t op, const uint8_t *src, uint32_t count) {
    while (count > 0) {
        uint32_t k = count < 128 ? count : 128;
        out[op++] = (uint8_t)(k - 1);
        for (uint32_t i = 0; i < k; i++) out[op++] = src[i];
        src += k;
        count -= k;
    }
    return op;
}

static uint32_t lz_compress(const uint8_t *in, uint32_t len, uint8_t *out) {
    for (uint32_t i = 0; i < (1u << LZ_HASH_BITS); i++) lz_table[i] = LZ_NONE;
    uint32_t ip = 0, op = 0, lit = 0;
    while (ip + 4 <= len) {
        uint32_t seq = load32le(in + ip);
        uint32_t slot = (seq * 2654435761u) >> (32 - LZ_HASH_BITS);
        uint32_t cand = lz_table[slot];
        lz_table[slot] = ip;
        if (cand != LZ_NONE && ip - cand <= 0xffff && load32le(in + cand) == seq) {
            uint32_t m = 4;
            while (ip + m < len && m < LZ_MAX_MATCH && in[cand + m] == in[ip + m]) m++;
            op = put_literals(out, op, in + lit, ip - lit);
            uint32_t dist = ip - cand;
            out[op++] = (uint8_t)(0x80 | (m - 4));
            out[op++] = (uint8_t)dist;
            out[op++] = (uint8_t)(dist >> 8);
            ip += m;
            lit = ip;
        } else {
            ip++;
        }
    }
    return put_literals(out, op, in + lit, len - lit);
}

static uint32_t lz_decompress(const uint8_t *in, uint32_t len, uint8_t *out, uint32_t cap) {
    uint32_t ip = 0, op = 0;
    while (ip < len) {
        uint32_t c = in[ip++];
        if (c < 0x80) {
            uint32_t k = c + 1;
            if (op + k > cap || ip + k > len) return 0;
            for (uint32_t i = 0; i < k; i++) out[op++] = in[ip++];
        } else {
            uint32_t m = (c & 0x7f) + 4;
            if (ip + 2 > len) return 0;
            uint32_t dist = in[ip] | (uint32_t)in[ip + 1] << 8;
            ip += 2;
            if (dist == 0 || dist > op || op + m > cap) return 0;
            /* Byte by byte on purpose: overlapping copies (dist < m) are
             * how runs are encoded. */
            for (uint32_t i = 0; i < m; i++, op++) out[op] = out[op - dist];
        }
    }
    return op;
}

static void lz_make_input(uint64_t *seed) {
    /* A vocabulary of random "words" drawn with a skewed distribution
     * gives text-like redundancy: plenty of matches, plenty of misses. */
    static uint8_t words[64][10];
    static uint8_t wlen[64];
    for (int w = 0; w < 64; w++) {
        uint64_t r = wl_next(seed);
        wlen[w] = (uint8_t)(2 + r % 8);
        for (int k = 0; k < wlen[w]; k++) words[w][k] = (uint8_t)('a' + (r >> (8 + 4 * k)) % 26);
    }
    uint32_t pos = 0;
    while (pos < LZ_LEN) {
        uint64_t r = wl_next(seed);
        uint32_t w = (uint32_t)((r & 63) * ((r >> 6) & 63) >> 6);
        for (uint32_t k = 0; k < wlen[w] && pos < LZ_LEN; k++) lz_in[pos++] = words[w][k];
        if (pos < LZ_LEN) lz_in[pos++] = (r >> 20) % 17 == 0 ? (uint8_t)(r >> 32) : ' ';
    }
}

uint64_t bench_lz(uint32_t n) {
    uint64_t seed = 0x12a;
    lz_make_input(&seed);
    uint64_t h = 0;
    for (uint32_t r = 0; r < n; r++) {
        for (int k = 0; k < 4; k++) {
            uint64_t x = wl_next(&seed);
            lz_in[x % LZ_LEN] = (uint8_t)(x >> 32);
        }
        uint32_t clen = lz_compress(lz_in, LZ_LEN, lz_packed);
        uint32_t dlen = lz_decompress(lz_packed, clen, lz_out, LZ_LEN);
        uint32_t diff = dlen != LZ_LEN;
        for (uint32_t i = 0; i < LZ_LEN; i++) diff += lz_out[i] != lz_in[i];
        h = wl_mix(h, clen);
        h = wl_mix(h, diff);
        h = wl_mix(h, load32le(lz_packed + (r * 13) % (clen - 4)));
    }
    return h;
}
