/*
 * guest.c — the C test guest for the dynlink bridge (wasm32-wasi).
 *
 * It stands where python.wasm will stand: it imports
 * compose:dynlink/linker@0.1.0 through the guest SDK, exports the same
 * malloc-based cabi_realloc, and checks from the inside what a guest sees:
 * handles, results, and for every refusal and every hostile provider an
 * error value with the right code — after which the next call works.
 *
 *   guest suite CRC_DIGEST_HEX     everything that needs the standard plan
 *                                  of tests/groups/40-dynlink.sh
 *   guest resolve ID EXPECT        EXPECT: "ok" or an error-code name
 *   guest invoke ID METHOD EXPECT
 *   guest crc ID [IMPL]            CRC-32C check values through ID; IMPL
 *                                  checks what "info" says it is
 *
 * Prints "ok NAME" / "FAIL NAME: why" lines and "done: N failures"; exits
 * 1 if anything failed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynlink.h"

static int failures;

static void result(bool good, const char *name, const char *fmt, ...) {
    if (good) {
        printf("ok   %s\n", name);
        return;
    }
    failures++;
    printf("FAIL %s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

/* Checks an error: code, and that the message contains `needle`. */
static void expect_error(int rc, dl_error *e, unsigned code, const char *name, const char *needle) {
    if (rc == 0) {
        result(false, name, "expected %s, got success", dl_code_name(code));
        return;
    }
    bool has = !needle || (e->message_len && memmem(e->message, e->message_len, needle, strlen(needle)));
    result(e->code == code && has, name, "expected %s%s%s%s, got %s: %.*s", dl_code_name(code),
           needle ? " mentioning \"" : "", needle ? needle : "", needle ? "\"" : "",
           dl_code_name(e->code), (int)e->message_len, e->message ? e->message : "");
    if (getenv("DL_SHOW")) printf("     message: %.*s\n", (int)e->message_len, e->message);
    dl_error_clear(e);
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* invoke that returns a u32 LE result, or ~0u after reporting. */
static uint32_t call_u32(dl_handle h, const char *method, const void *p, size_t n, const char *name) {
    dl_bytes out;
    dl_error e;
    if (dl_invoke(h, method, strlen(method), p, n, &out, &e)) {
        result(false, name, "%s failed: %s: %.*s", method, dl_code_name(e.code),
               (int)e.message_len, e.message);
        dl_error_clear(&e);
        return ~0u;
    }
    uint32_t v = out.len == 4 ? le32(out.ptr) : ~0u;
    if (out.len != 4) result(false, name, "%s returned %zu bytes, not 4", method, out.len);
    dl_bytes_free(&out);
    return v;
}

/* ---- CRC-32C through a provider ------------------------------------------------ */

static void crc_checks(const char *id, const char *impl) {
    char name[128];
    dl_handle h;
    dl_error e;
    snprintf(name, sizeof name, "resolve %s", id);
    if (dl_resolve_id(id, &h, &e)) {
        result(false, name, "%s: %.*s", dl_code_name(e.code), (int)e.message_len, e.message);
        dl_error_clear(&e);
        return;
    }
    result(true, name, "");
    static const struct { const char *label; uint8_t data[32]; size_t len; uint32_t want; } cases[] = {
        { "123456789", "123456789", 9, 0xE3069283u },
        { "abc", "abc", 3, 0x364B3FB7u },
        { "empty", "", 0, 0 },
        { "32x00", { 0 }, 32, 0x8A9136AAu },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t v = call_u32(h, "crc32c", cases[i].data, cases[i].len, "crc32c");
        snprintf(name, sizeof name, "%s crc32c(%s) = 0x%08X", id, cases[i].label, cases[i].want);
        result(v == cases[i].want, name, "got 0x%08X", v);
    }
    uint8_t ff[32], up[32], down[32];
    for (int i = 0; i < 32; i++) { ff[i] = 0xff; up[i] = (uint8_t)i; down[i] = (uint8_t)(31 - i); }
    snprintf(name, sizeof name, "%s RFC 3720 B.4 vectors", id);
    uint32_t a = call_u32(h, "crc32c", ff, 32, name), b = call_u32(h, "crc32c", up, 32, name),
             c = call_u32(h, "crc32c", down, 32, name);
    result(a == 0x62A8AB43u && b == 0x46DD794Eu && c == 0x113FDB5Cu, name,
           "got 0x%08X 0x%08X 0x%08X", a, b, c);

    /* Incremental: extend(extend(0, "1234"), "56789") == crc("123456789"). */
    uint8_t buf[16];
    memset(buf, 0, 4);
    memcpy(buf + 4, "1234", 4);
    uint32_t v = call_u32(h, "extend", buf, 8, "extend");
    buf[0] = (uint8_t)v; buf[1] = (uint8_t)(v >> 8); buf[2] = (uint8_t)(v >> 16); buf[3] = (uint8_t)(v >> 24);
    memcpy(buf + 4, "56789", 5);
    v = call_u32(h, "extend", buf, 9, "extend");
    snprintf(name, sizeof name, "%s extend in two pieces", id);
    result(v == 0xE3069283u, name, "got 0x%08X", v);

    /* A large buffer, every alignment of the slicing loop. */
    size_t n = 100003;
    uint8_t *big = malloc(n + 8);
    uint32_t x = 12345;
    for (size_t i = 0; i < n + 8; i++) { x = x * 1103515245u + 12345u; big[i] = (uint8_t)(x >> 16); }
    uint32_t ref = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {   /* bitwise reference, no tables */
        ref ^= big[3 + i];
        for (int k = 0; k < 8; k++) ref = ref & 1 ? (ref >> 1) ^ 0x82F63B78u : ref >> 1;
    }
    ref = ~ref;
    v = call_u32(h, "crc32c", big + 3, n, "crc32c big");
    snprintf(name, sizeof name, "%s crc32c of 100003 unaligned bytes", id);
    result(v == ref, name, "got 0x%08X, bitwise reference 0x%08X", v, ref);
    free(big);

    dl_bytes out;
    int rc = dl_invoke(h, "extend", 6, "ab", 2, &out, &e);
    snprintf(name, sizeof name, "%s extend with a short payload", id);
    expect_error(rc, &e, DL_INVALID_INPUT, name, "4-byte");

    if (impl) {
        snprintf(name, sizeof name, "%s info says \"%s\"", id, impl);
        if (dl_invoke(h, "info", 4, "", 0, &out, &e)) {
            result(false, name, "%s: %.*s", dl_code_name(e.code), (int)e.message_len, e.message);
            dl_error_clear(&e);
        } else {
            dl_envelope env;
            unsigned major;
            uint64_t len;
            size_t hl = 0;
            bool good = dl_envelope_decode(out.ptr, out.len, &env) == 0 &&
                        env.schema_len == 17 && !memcmp(env.schema, "pylon:crc32c/info", 17) &&
                        env.v == 1 && (hl = dl_cbor_read_head(env.body, env.body_len, &major, &len)) &&
                        major == 3 && len == strlen(impl) && !memcmp(env.body + hl, impl, len);
            result(good, name, "envelope did not decode to the expected info (%zu bytes)", out.len);
            dl_bytes_free(&out);
        }
    }
    dl_drop(h);
}

/* ---- the suite ------------------------------------------------------------------------ */

static dl_handle must_resolve(const char *id) {
    dl_handle h = 0;
    dl_error e;
    char name[96];
    snprintf(name, sizeof name, "resolve %s", id);
    if (dl_resolve_id(id, &h, &e)) {
        result(false, name, "%s: %.*s", dl_code_name(e.code), (int)e.message_len, e.message);
        dl_error_clear(&e);
        return 0;
    }
    return h;
}

/* The provider answers again; `count` then shows whether the instance is
 * a fresh one (1) or the same one as before (want). */
static void still_works(dl_handle h, const char *after, uint32_t want) {
    char name[128];
    dl_bytes out;
    dl_error e;
    snprintf(name, sizeof name, "after %s: echo works again", after);
    int rc = dl_invoke(h, "echo", 4, "live", 4, &out, &e);
    result(rc == 0 && out.len == 4 && !memcmp(out.ptr, "live", 4), name, "rc %d %s", rc,
           rc ? dl_code_name(e.code) : "");
    if (rc) dl_error_clear(&e); else dl_bytes_free(&out);
    if (want == 1)
        snprintf(name, sizeof name, "after %s: the instance is a new one (count = 1)", after);
    else
        snprintf(name, sizeof name, "after %s: the instance was kept (count = %u)", after, want);
    uint32_t c = call_u32(h, "count", "", 0, name);
    result(c == want, name, "count = %u", c);
}

static void hostile_cases(void) {
    dl_handle h = must_resolve("hostile");
    if (!h) return;
    static const struct { const char *method; unsigned code; const char *needle; } cases[] = {
        { "trap", DL_EXEC_TRAP, "unreachable" },
        { "div0", DL_EXEC_TRAP, "trapped" },
        { "loop", DL_EXEC_TIMEOUT, "fuel" },
        { "recurse", DL_EXEC_RESOURCE_EXHAUSTED, "stack" },
        { "membomb", DL_EXEC_RESOURCE_EXHAUSTED, "memory at the limit" },
        { "huge", DL_EXEC_RESOURCE_EXHAUSTED, "max_result" },
        { "bad-retarea", DL_EXEC_TRAP, "outside its memory" },
        { "misaligned", DL_EXEC_TRAP, "not 4-aligned" },
        { "bad-ptr", DL_EXEC_TRAP, "runs past its memory" },
        { "bad-len", DL_EXEC_TRAP, "runs past its memory" },
        { "bad-tag", DL_EXEC_TRAP, "result tag 7" },
        { "bad-code", DL_EXEC_TRAP, "error code 200" },
        { "bad-utf8", DL_EXEC_TRAP, "UTF-8" },
        { "bad-ctx", DL_EXEC_TRAP, "option tag 2" },
        { "reenter", DL_EXEC_CAPABILITY_DENIED, "reentrant" },
    };
    uint32_t c0 = call_u32(h, "count", "", 0, "count");
    uint32_t c = call_u32(h, "count", "", 0, "count");
    result(c == c0 + 1, "hostile: state persists between calls", "count %u then %u", c0, c);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[96];
        dl_bytes out;
        dl_error e;
        snprintf(name, sizeof name, "hostile %s -> %s", cases[i].method, dl_code_name(cases[i].code));
        int rc = dl_invoke(h, cases[i].method, strlen(cases[i].method), "x", 1, &out, &e);
        expect_error(rc, &e, cases[i].code, name, cases[i].needle);
        /* reenter is refused by the host and the provider reports it as a
         * normal error: its instance did nothing wrong and is kept. */
        still_works(h, cases[i].method, strcmp(cases[i].method, "reenter") ? 1 : 2);
    }
    /* A well-formed error passes through intact, context included. */
    dl_error e;
    int rc = dl_invoke(h, "error", 5, "", 0, NULL, &e);
    result(rc && e.code == DL_NOT_IMPLEMENTED && e.message_len == 13 &&
           !memcmp(e.message, "asked to fail", 13) && e.has_context && e.context_len == 11 &&
           !memcmp(e.context, "the context", 11),
           "a provider's own error passes through with its context", "rc %d code %s", rc,
           dl_code_name(e.code));
    if (rc) dl_error_clear(&e);
    c = call_u32(h, "count", "", 0, "count");
    result(c == 3, "a provider's own error does not discard it (count = 3)", "count = %u", c);
    dl_drop(h);

    /* The time limit, by wall clock (this cap has no fuel limit). */
    h = must_resolve("hostile-timed");
    if (!h) return;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = dl_invoke(h, "loop", 4, "", 0, NULL, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    expect_error(rc, &e, DL_EXEC_TIMEOUT, "hostile-timed loop -> exec-timeout (watchdog)", "time limit");
    result(ms > 250 && ms < 3000, "the watchdog stopped it near its 300 ms limit", "took %.0f ms", ms);
    still_works(h, "the watchdog", 1);
    dl_drop(h);
}

static void suite(const char *crc_hex) {
    crc_checks("crc32c", "table");

    /* Handles are per caller and distinct; the instance is shared. */
    dl_handle a = must_resolve("hostile"), b = must_resolve("hostile");
    result(a && b && a != b, "two resolves give two handles", "%u %u", a, b);
    uint32_t ca = call_u32(a, "count", "", 0, "count"), cb = call_u32(b, "count", "", 0, "count");
    result(cb == ca + 1, "both handles reach the same instance", "count %u then %u", ca, cb);
    dl_drop(a);
    dl_error e;
    dl_bytes out;
    int rc = dl_invoke(a, "echo", 4, "x", 1, &out, &e);
    expect_error(rc, &e, DL_INVALID_INPUT, "invoke on a dropped handle -> invalid-input", "not a live");
    cb = call_u32(b, "count", "", 0, "count");
    result(cb == ca + 2, "dropping one handle leaves the other working", "count %u", cb);
    dl_drop(b);
    rc = dl_invoke(4242, "echo", 4, "x", 1, &out, &e);
    expect_error(rc, &e, DL_INVALID_INPUT, "invoke on a made-up handle -> invalid-input", "handle 4242");

    /* Refusals by policy. */
    dl_handle h;
    rc = dl_resolve_id("no-such-cap", &h, &e);
    expect_error(rc, &e, DL_EXEC_CAPABILITY_DENIED, "resolve unknown id -> exec-capability-denied", "no cap \"no-such-cap\"");
    rc = dl_resolve_id("hidden", &h, &e);
    expect_error(rc, &e, DL_EXEC_CAPABILITY_DENIED, "resolve an id the guest may not -> exec-capability-denied", "guest.resolve");
    rc = dl_resolve_id_n("crc\xff", 4, &h, &e);
    expect_error(rc, &e, DL_INVALID_INPUT, "resolve a non-UTF-8 id -> invalid-input", NULL);
    h = must_resolve("crc32c");
    rc = dl_invoke(h, "secret", 6, "", 0, &out, &e);
    expect_error(rc, &e, DL_EXEC_CAPABILITY_DENIED, "method not allowed by policy -> exec-capability-denied", "method not allowed");
    uint32_t v = call_u32(h, "crc32c", "abc", 3, "crc after a denial");
    result(v == 0x364B3FB7u, "the handle works after a denied method", "0x%08X", v);
    dl_drop(h);

    /* By digest. */
    uint8_t d[32];
    for (int i = 0; i < 32; i++) sscanf(crc_hex + 2 * i, "%2hhx", &d[i]);
    if (dl_resolve_digest(d, &h, &e)) {
        result(false, "resolve-by-digest of the crc32c blob", "%s: %.*s", dl_code_name(e.code),
               (int)e.message_len, e.message);
        dl_error_clear(&e);
    } else {
        v = call_u32(h, "crc32c", "123456789", 9, "by digest");
        result(v == 0xE3069283u, "resolve-by-digest of the crc32c blob works", "0x%08X", v);
        dl_drop(h);
    }
    d[0] ^= 1;
    rc = dl_resolve_digest(d, &h, &e);
    expect_error(rc, &e, DL_EXEC_CAPABILITY_DENIED, "resolve-by-digest of a digest no cap has -> exec-capability-denied", "no cap in plan");
    {
        uint32_t ret[7];
        dl_raw_resolve_by_digest(d, 31, ret);
        dl_error e2 = { .code = (uint8_t)ret[1], .message = (char *)ret[2], .message_len = ret[3] };
        expect_error(((uint8_t *)ret)[0] == 1 ? -1 : 0, &e2, DL_EMIT_INVALID_DIGEST,
                     "resolve-by-digest with 31 bytes -> emit-invalid-digest", "32 bytes");
    }

    /* Providers that cannot be instantiated. */
    rc = dl_resolve_id("noexport", &h, &e);
    expect_error(rc, &e, DL_EXEC_MISSING_EXPORT, "a module without the endpoint -> exec-missing-export", "does not export");
    rc = dl_resolve_id("badimport", &h, &e);
    expect_error(rc, &e, DL_EMIT_LINK_ERROR, "a provider importing env.* -> emit-link-error", "env.steal_secrets");
    rc = dl_resolve_id("badinit", &h, &e);
    expect_error(rc, &e, DL_EXEC_TRAP, "a provider whose _initialize traps -> exec-trap", "_initialize");
    rc = dl_resolve_id("bigmem", &h, &e);
    expect_error(rc, &e, DL_EXEC_RESOURCE_EXHAUSTED, "a provider over its memory limit -> exec-resource-exhausted", "max_memory");

    /* Payload sizes and the envelope, through echo. */
    h = must_resolve("echo");
    static const size_t sizes[] = { 0, 1, 64, 4096, 65537, 1 << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *p = malloc(n + 1);
        for (size_t k = 0; k < n; k++) p[k] = (uint8_t)(k * 31 + n);
        char name[64];
        snprintf(name, sizeof name, "echo %zu bytes round trip", n);
        rc = dl_invoke(h, "echo", 4, p, n, &out, &e);
        result(rc == 0 && out.len == n && (n == 0 || !memcmp(out.ptr, p, n)), name, "rc %d len %zu", rc,
               rc ? 0 : out.len);
        if (rc) dl_error_clear(&e); else dl_bytes_free(&out);
        free(p);
    }
    uint8_t body[16], env[64];
    size_t bl = dl_cbor_string(body, sizeof body, 2, "\x01\x02\x03", 3);
    size_t el = dl_envelope_encode(env, sizeof env, "pylon:test/echo", 7, body, bl);
    rc = dl_invoke(h, "echo", 4, env, el, &out, &e);
    dl_envelope de;
    bool good = rc == 0 && dl_envelope_decode(out.ptr, out.len, &de) == 0 && de.v == 7 &&
                de.schema_len == 15 && !memcmp(de.schema, "pylon:test/echo", 15) &&
                de.body_len == bl && !memcmp(de.body, body, bl);
    result(good, "CBOR envelope round trip", "rc %d", rc);
    if (rc) dl_error_clear(&e); else dl_bytes_free(&out);
    result(dl_envelope_decode(env, el - 1, &de) != 0, "a truncated envelope is refused", "");
    dl_drop(h);

    hostile_cases();
}

static unsigned code_of(const char *name) {
    unsigned k = 0;
    while (k < DL_NUM_CODES && strcmp(dl_code_name(k), name)) k++;
    return k;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && !strcmp(argv[1], "suite")) {
        suite(argv[2]);
    } else if (argc >= 4 && !strcmp(argv[1], "resolve")) {
        dl_handle h;
        dl_error e;
        char name[300];
        snprintf(name, sizeof name, "resolve %s -> %s", argv[2], argv[3]);
        int rc = dl_resolve_id(argv[2], &h, &e);
        if (!strcmp(argv[3], "ok")) {
            result(rc == 0, name, "%s: %.*s", rc ? dl_code_name(e.code) : "", rc ? (int)e.message_len : 0,
                   rc ? e.message : "");
        } else {
            if (rc) printf("     message: %.*s\n", (int)e.message_len, e.message);
            expect_error(rc, &e, code_of(argv[3]), name, NULL);
        }
    } else if (argc >= 5 && !strcmp(argv[1], "invoke")) {
        dl_handle h;
        dl_error e;
        char name[300];
        snprintf(name, sizeof name, "invoke %s %s -> %s", argv[2], argv[3], argv[4]);
        if (dl_resolve_id(argv[2], &h, &e)) {
            result(false, name, "resolve failed: %s: %.*s", dl_code_name(e.code), (int)e.message_len, e.message);
        } else {
            dl_bytes out;
            int rc = dl_invoke(h, argv[3], strlen(argv[3]), "", 0, &out, &e);
            if (!strcmp(argv[4], "ok")) result(rc == 0, name, "%s", rc ? dl_code_name(e.code) : "");
            else {
                if (rc) printf("     message: %.*s\n", (int)e.message_len, e.message);
                expect_error(rc, &e, code_of(argv[4]), name, NULL);
            }
        }
    } else if (argc >= 4 && !strcmp(argv[1], "count")) {
        /* count ID SECONDS: invokes "count" for SECONDS; every reply must
         * be the previous one plus one, across any tier-up */
        dl_handle h;
        dl_error e;
        if (dl_resolve_id(argv[2], &h, &e)) {
            result(false, "count", "resolve failed: %s", dl_code_name(e.code));
        } else {
            struct timespec t0, t;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            uint32_t want = 1, calls = 0;
            bool steady = true;
            for (;;) {
                dl_bytes out;
                uint32_t got = 0;
                if (dl_invoke(h, "count", 5, "", 0, &out, &e)) { steady = false; break; }
                if (out.len == 4) memcpy(&got, out.ptr, 4);
                dl_bytes_free(&out);
                if (got != want) { printf("     count: got %u, expected %u\n", got, want); steady = false; break; }
                want++;
                calls++;
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= atof(argv[3])) break;
            }
            printf("     count: %u calls\n", calls);
            result(steady, "count", "%u calls, each reply one more than the last", calls);
        }
    } else if (argc >= 3 && !strcmp(argv[1], "crc")) {
        crc_checks(argv[2], argc >= 4 ? argv[3] : NULL);
    } else {
        fprintf(stderr, "usage: guest suite HEX | resolve ID EXPECT | invoke ID METHOD EXPECT | crc ID [IMPL]\n");
        return 2;
    }
    printf("done: %d failures\n", failures);
    return failures ? 1 : 0;
}
