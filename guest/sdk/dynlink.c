/*
 * dynlink.c — the guest SDK for compose:dynlink@0.1.0 (see dynlink.h for
 * the three ways to build it).
 *
 * Return areas live on the caller's stack: an invoke made while another is
 * in flight (a provider calling a provider, or a guest's cabi_realloc
 * calling back) must not share one.  Results arrive in memory the host
 * got from our cabi_realloc, so "who frees" is simply "whoever gets the
 * dl_bytes / dl_error", with the one canonical-ABI wrinkle that a
 * zero-length list or string is not a real block (its pointer is just the
 * alignment) and must never be freed.
 */
#include "dynlink.h"

#ifndef DL_BUMP_ALLOC
#include <stdlib.h>
#include <string.h>
#define dl__free(p) free(p)
#else
#define dl__free(p) ((void)(p))
#endif

static const char *const code_names[DL_NUM_CODES] = {
    "plan-invalid-schema", "plan-invalid-cbor", "plan-missing-field", "plan-invalid-graph",
    "plan-cycle-detected", "emit-missing-blob", "emit-invalid-digest",
    "emit-composition-failed", "emit-link-error", "exec-trap", "exec-timeout",
    "exec-resource-exhausted", "exec-capability-denied", "exec-missing-export",
    "blob-not-found", "blob-digest-mismatch", "blob-io-error", "trust-verification-failed",
    "trust-signature-invalid", "trust-certificate-expired", "trust-untrusted-source",
    "secret-not-found", "secret-access-denied", "secret-backend-error", "invalid-input",
    "internal-error", "not-implemented",
};

const char *dl_code_name(unsigned code) {
    return code < DL_NUM_CODES ? code_names[code] : "?";
}

/* The 28-byte return area of result<_, error>. */
typedef struct dl__ret {
    uint8_t tag;
    uint8_t pad[3];
    uint32_t a;         /* ok: handle / list ptr;  err: code (low byte) */
    uint32_t b;         /* ok: list len;           err: message ptr */
    uint32_t c;         /*                          err: message len */
    uint8_t ctx_tag;
    uint8_t pad2[3];
    uint32_t ctx_ptr, ctx_len;
} __attribute__((aligned(4))) dl__ret;

_Static_assert(sizeof(dl__ret) == 28, "the canonical ABI's return area is 28 bytes");

void dl_error_clear(dl_error *e) {
    if (!e) return;
    if (e->message_len) dl__free(e->message);
    if (e->has_context && e->context_len) dl__free(e->context);
    e->message = e->context = 0;
    e->message_len = e->context_len = 0;
    e->has_context = false;
}

void dl_bytes_free(dl_bytes *b) {
    if (!b) return;
    if (b->len) dl__free(b->ptr);
    b->ptr = 0;
    b->len = 0;
}

/* Takes ownership of an err arm, or frees it if the caller does not want it. */
static int take_error(const dl__ret *r, dl_error *err) {
    dl_error e;
    e.code = (uint8_t)r->a;
    e.message = (char *)(uintptr_t)r->b;
    e.message_len = r->c;
    e.has_context = r->ctx_tag == 1;
    e.context = e.has_context ? (char *)(uintptr_t)r->ctx_ptr : 0;
    e.context_len = e.has_context ? r->ctx_len : 0;
    if (!e.message_len) e.message = 0;
    if (err) *err = e;
    else dl_error_clear(&e);
    return -1;
}

int dl_resolve_id_n(const char *id, size_t len, dl_handle *out, dl_error *err) {
    dl__ret r;
    dl_raw_resolve_by_id(id, len, &r);
    if (r.tag) return take_error(&r, err);
    *out = r.a;
    return 0;
}

int dl_resolve_id(const char *id, dl_handle *out, dl_error *err) {
    return dl_resolve_id_n(id, strlen(id), out, err);
}

int dl_resolve_digest(const uint8_t digest[32], dl_handle *out, dl_error *err) {
    dl__ret r;
    dl_raw_resolve_by_digest(digest, 32, &r);
    if (r.tag) return take_error(&r, err);
    *out = r.a;
    return 0;
}

int dl_invoke(dl_handle h, const char *method, size_t mlen, const void *payload, size_t plen,
              dl_bytes *out, dl_error *err) {
    dl__ret r;
    dl_raw_invoke(h, method, mlen, payload, plen, &r);
    if (r.tag) return take_error(&r, err);
    dl_bytes b = { r.b ? (uint8_t *)(uintptr_t)r.a : 0, r.b };
    if (out) *out = b;
    else dl_bytes_free(&b);
    return 0;
}

void dl_drop(dl_handle h) {
    if (h) dl_raw_drop(h);
}

int dl_cap_get(dl_cap *cap, dl_error *err) {
    if (cap->handle) return 0;
    return dl_resolve_id(cap->id, &cap->handle, err);
}

void dl_cap_release(dl_cap *cap) {
    dl_drop(cap->handle);
    cap->handle = 0;
}

/* ---- CBOR --------------------------------------------------------------------------- */

size_t dl_cbor_head(uint8_t out[9], unsigned major, uint64_t arg) {
    uint8_t m = (uint8_t)(major << 5);
    if (arg < 24) { out[0] = m | (uint8_t)arg; return 1; }
    int n = arg <= 0xff ? 1 : arg <= 0xffff ? 2 : arg <= 0xffffffffu ? 4 : 8;
    out[0] = m | (uint8_t)(n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27);
    for (int i = 0; i < n; i++) out[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
    return (size_t)n + 1;
}

size_t dl_cbor_read_head(const uint8_t *buf, size_t len, unsigned *major, uint64_t *arg) {
    if (!len) return 0;
    unsigned info = buf[0] & 31;
    *major = buf[0] >> 5;
    if (info < 24) { *arg = info; return 1; }
    if (info > 27) return 0;                  /* reserved, or indefinite length */
    size_t n = (size_t)1 << (info - 24);
    if (len < 1 + n) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | buf[1 + i];
    *arg = v;
    return 1 + n;
}

static size_t item_size(const uint8_t *buf, size_t len, int depth) {
    unsigned major;
    uint64_t arg;
    if (depth > 32) return 0;
    size_t h = dl_cbor_read_head(buf, len, &major, &arg);
    if (!h) return 0;
    switch (major) {
    case 0: case 1: case 7:
        return h;
    case 2: case 3:
        return arg <= len - h ? h + (size_t)arg : 0;
    case 4: case 5: {
        uint64_t n = major == 5 ? arg * 2 : arg;
        if (major == 5 && arg > (uint64_t)len) return 0;
        size_t at = h;
        for (uint64_t i = 0; i < n; i++) {
            size_t s = item_size(buf + at, len - at, depth + 1);
            if (!s) return 0;
            at += s;
        }
        return at;
    }
    case 6: {
        size_t s = item_size(buf + h, len - h, depth + 1);
        return s ? h + s : 0;
    }
    }
    return 0;
}

size_t dl_cbor_item_size(const uint8_t *buf, size_t len) { return item_size(buf, len, 0); }

size_t dl_cbor_string(uint8_t *buf, size_t cap, unsigned major, const void *data, size_t len) {
    uint8_t head[9];
    size_t h = dl_cbor_head(head, major, len);
    if (h + len <= cap) {
        memcpy(buf, head, h);
        if (len) memcpy(buf + h, data, len);
    }
    return h + len;
}

size_t dl_envelope_encode(uint8_t *buf, size_t cap, const char *schema, uint64_t v,
                          const uint8_t *body, size_t body_len) {
    uint8_t tmp[9];
    size_t sl = strlen(schema);
    size_t need = 1 + 7 + dl_cbor_head(tmp, 3, sl) + sl + 2 + dl_cbor_head(tmp, 0, v) + 5 + body_len;
    if (need > cap) return need;
    size_t at = 0;
    buf[at++] = 0xa3;                               /* map of 3 */
    at += dl_cbor_string(buf + at, cap - at, 3, "schema", 6);
    at += dl_cbor_string(buf + at, cap - at, 3, schema, sl);
    at += dl_cbor_string(buf + at, cap - at, 3, "v", 1);
    at += dl_cbor_head(buf + at, 0, v);
    at += dl_cbor_string(buf + at, cap - at, 3, "body", 4);
    memcpy(buf + at, body, body_len);
    return at + body_len;
}

static bool key_is(const uint8_t *k, size_t kl, const char *lit) {
    size_t n = strlen(lit);
    return kl == n && memcmp(k, lit, n) == 0;
}

int dl_envelope_decode(const uint8_t *buf, size_t len, dl_envelope *out) {
    unsigned major;
    uint64_t arg;
    size_t at = dl_cbor_read_head(buf, len, &major, &arg);
    if (!at || major != 5 || arg != 3) return -1;
    bool seen_s = false, seen_v = false, seen_b = false;
    for (int i = 0; i < 3; i++) {
        size_t h = dl_cbor_read_head(buf + at, len - at, &major, &arg);
        if (!h || major != 3 || arg > len - at - h) return -1;
        const uint8_t *key = buf + at + h;
        size_t kl = (size_t)arg;
        at += h + kl;
        size_t vs = dl_cbor_item_size(buf + at, len - at);
        if (!vs) return -1;
        if (key_is(key, kl, "schema") && !seen_s) {
            h = dl_cbor_read_head(buf + at, len - at, &major, &arg);
            if (major != 3) return -1;
            out->schema = (const char *)buf + at + h;
            out->schema_len = (size_t)arg;
            seen_s = true;
        } else if (key_is(key, kl, "v") && !seen_v) {
            dl_cbor_read_head(buf + at, len - at, &major, &arg);
            if (major != 0) return -1;
            out->v = arg;
            seen_v = true;
        } else if (key_is(key, kl, "body") && !seen_b) {
            out->body = buf + at;
            out->body_len = vs;
            seen_b = true;
        } else {
            return -1;
        }
        at += vs;
    }
    return at == len ? 0 : -1;
}

/* ---- the bump arena (no libc) ------------------------------------------------------------ */

#ifdef DL_BUMP_ALLOC
extern unsigned char __heap_base;
static uintptr_t arena_top, arena_floor;

static void arena_init(void) {
    if (!arena_top) arena_top = arena_floor = (uintptr_t)&__heap_base;
}

void *dl_alloc(size_t size, size_t align) {
    arena_init();
    if (!align || (align & (align - 1))) __builtin_trap();
    uint64_t p = ((uint64_t)arena_top + align - 1) & ~(uint64_t)(align - 1);
    uint64_t end = p + size;
    uint64_t have = (uint64_t)__builtin_wasm_memory_size(0) * 65536u;
    if (end > have) {
        uint64_t pages = (end - have + 65535u) / 65536u;
        if (end > ((uint64_t)1 << 32) || __builtin_wasm_memory_grow(0, (size_t)pages) == (size_t)-1)
            __builtin_trap();
    }
    arena_top = (uintptr_t)end;
    return (void *)(uintptr_t)p;
}

void dl_arena_reset(void) { arena_init(); arena_top = arena_floor; }
void dl_arena_keep(void) { arena_init(); arena_floor = arena_top; }
size_t dl_arena_used(void) { arena_init(); return arena_top - arena_floor; }

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
    if (new_size == 0) return (void *)(uintptr_t)align;
    arena_init();
    /* The last block grows in place. */
    if (old && old_size && (uintptr_t)old + old_size == arena_top &&
        ((uintptr_t)old & (align - 1)) == 0) {
        if (new_size <= old_size) { arena_top = (uintptr_t)old + new_size; return old; }
        dl_alloc(new_size - old_size, 1);
        return old;
    }
    void *p = dl_alloc(new_size, align);
    if (old && old_size) memcpy(p, old, old_size < new_size ? old_size : new_size);
    return p;
}

/* Minimal libc pieces the compiler may call.  With bulk memory the
 * builtins become memory.copy / memory.fill; without it they would call
 * these very functions, hence the loops. */
void *memmove(void *dst, const void *src, size_t n) {
#ifdef __wasm_bulk_memory__
    __builtin_memmove(dst, src, n);
#else
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) for (size_t i = 0; i < n; i++) d[i] = s[i];
    else for (size_t i = n; i--;) d[i] = s[i];
#endif
    return dst;
}
void *memcpy(void *dst, const void *src, size_t n) { return memmove(dst, src, n); }
void *memset(void *dst, int c, size_t n) {
#ifdef __wasm_bulk_memory__
    __builtin_memset(dst, c, n);
#else
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++) d[i] = (uint8_t)c;
#endif
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}
size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}
#endif

/* ---- the provider side ---------------------------------------------------------------------- */

#ifdef DL_PROVIDER
struct dl_reply {
    dl__ret *ret;
    bool answered;
};

/* One per provider instance: the host never enters a provider that is
 * already in a call, so one call's area cannot be overwritten by another. */
static dl__ret provider_ret;

static char *copy_str(const char *s, size_t *len) {
    *len = strlen(s);
    char *p = dl_alloc(*len ? *len : 1, 1);
    memcpy(p, s, *len);
    return p;
}

void dl_reply_ok(dl_reply *r, const void *data, size_t len) {
    memset(r->ret, 0, sizeof *r->ret);
    r->ret->a = (uint32_t)(uintptr_t)data;
    r->ret->b = (uint32_t)len;
    r->answered = true;
}

void dl_reply_error_ctx(dl_reply *r, unsigned code, const char *msg, const char *context) {
    size_t ml, cl;
    memset(r->ret, 0, sizeof *r->ret);
    r->ret->tag = 1;
    r->ret->a = code;
    r->ret->b = (uint32_t)(uintptr_t)copy_str(msg ? msg : "", &ml);
    r->ret->c = (uint32_t)ml;
    if (context) {
        r->ret->ctx_tag = 1;
        r->ret->ctx_ptr = (uint32_t)(uintptr_t)copy_str(context, &cl);
        r->ret->ctx_len = (uint32_t)cl;
    }
    r->answered = true;
}

void dl_reply_error(dl_reply *r, unsigned code, const char *msg) {
    dl_reply_error_ctx(r, code, msg, 0);
}

bool dl_method_is(const char *method, size_t mlen, const char *lit) {
    size_t n = strlen(lit);
    return mlen == n && memcmp(method, lit, n) == 0;
}

__attribute__((export_name("compose:dynlink/endpoint@0.1.0#handle")))
dl__ret *dl__endpoint_handle(const char *method, size_t mlen, const uint8_t *payload, size_t plen) {
    dl_reply r = { &provider_ret, false };
    dl_provider_handle(method, mlen, payload, plen, &r);
    if (!r.answered)
        dl_reply_error(&r, DL_INTERNAL_ERROR, "the provider returned without a reply");
    return r.ret;
}

__attribute__((export_name("cabi_post_compose:dynlink/endpoint@0.1.0#handle")))
void dl__endpoint_post(dl__ret *ret) {
    (void)ret;
    dl_arena_reset();
}
#endif
