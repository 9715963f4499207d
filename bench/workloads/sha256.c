/*
 * sha256.c — benchmark workload: SHA-256 (FIPS 180-4) over a buffer.
 *
 * 32-bit rotates, shifts, adds and boolean functions with long dependency
 * chains, the shape of most integer crypto: this measures the engine's
 * i32 ALU dispatch with very little memory traffic.  Each round hashes the
 * buffer and writes the digest back into it, so rounds chain.  The first
 * thing hashed is "abc", whose digest is the standard's test vector, so a
 * broken rotate is caught on any target.
 */
#include "workload.h"

#define SHA_BUF 4096u

typedef struct sha_ctx {
    uint32_t h[8];
    uint8_t block[64];
    uint32_t fill;   /* bytes in block */
    uint64_t total;  /* bytes hashed so far */
} sha_ctx;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint8_t sha_buf[SHA_BUF];

static inline uint32_t ror32(uint32_t x, uint32_t r) {
    return (x >> r) | (x << (32 - r));
}

static void sha_compress(uint32_t st[8], const uint8_t *blk) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
               (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
                      ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
                      ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

static void sha_init(sha_ctx *c) {
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (int i = 0; i < 8; i++) c->h[i] = iv[i];
    c->fill = 0;
    c->total = 0;
}

static void sha_update(sha_ctx *c, const uint8_t *p, uint32_t len) {
    c->total += len;
    while (len > 0) {
        if (c->fill == 0 && len >= 64) {
            sha_compress(c->h, p);
            p += 64;
            len -= 64;
            continue;
        }
        c->block[c->fill++] = *p++;
        len--;
        if (c->fill == 64) {
            sha_compress(c->h, c->block);
            c->fill = 0;
        }
    }
}

static void sha_final(sha_ctx *c, uint8_t out[32]) {
    uint64_t bits = c->total * 8;
    uint8_t pad = 0x80;
    sha_update(c, &pad, 1);
    uint8_t zero = 0;
    while (c->fill != 56) sha_update(c, &zero, 1);
    uint8_t len_be[8];
    for (int i = 0; i < 8; i++) len_be[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(c, len_be, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(c->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)c->h[i];
    }
}

static uint64_t digest_word(const uint8_t d[32], int i) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = v << 8 | d[8 * i + k];
    return v;
}

uint64_t bench_sha256(uint32_t n) {
    sha_ctx ctx;
    uint8_t digest[32];
    static const uint8_t abc[3] = {'a', 'b', 'c'};
    sha_init(&ctx);
    sha_update(&ctx, abc, 3);
    sha_final(&ctx, digest);
    /* digest_word(digest, 0) is 0xba7816bf8f01cfea for a correct SHA-256 */
    uint64_t h = digest_word(digest, 0);

    uint64_t seed = 0x5a256;
    for (uint32_t i = 0; i < SHA_BUF; i += 8) {
        uint64_t r = wl_next(&seed);
        for (int k = 0; k < 8; k++) sha_buf[i + k] = (uint8_t)(r >> (8 * k));
    }
    for (uint32_t r = 0; r < n; r++) {
        sha_init(&ctx);
        /* An odd length sends the tail through the byte-wise path. */
        sha_update(&ctx, sha_buf, SHA_BUF - (r & 63));
        sha_final(&ctx, digest);
        for (int i = 0; i < 32; i++) sha_buf[(r * 32 + i) % SHA_BUF] ^= digest[i];
        h = wl_mix(h, digest_word(digest, r & 3));
    }
    return h;
}
