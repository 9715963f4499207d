/*
 * dynlink.h — the guest side of compose:dynlink@0.1.0, for C code compiled
 * to wasm32: extension modules inside python.wasm, and cap providers.
 *
 * It hides the canonical ABI (return areas, who frees what) behind a few
 * calls, and is built so that the hot path wastes nothing: resolve once
 * (dl_cap), name methods with a precomputed length (DL_METHOD), and the
 * host writes the result straight into one block the guest then owns.
 *
 * Three ways to build dynlink.c:
 *   (default)          a guest with wasi-libc: results come from malloc via
 *                      the cabi_realloc of guest/sdk/cabi_realloc.c (link it
 *                      too); free them with dl_bytes_free / dl_error_clear.
 *   -DDL_BUMP_ALLOC    no libc (-nostdlib): this file exports cabi_realloc, a
 *                      bump allocator over the heap; dl_arena_reset() frees
 *                      everything at once, dl_bytes_free is a no-op.
 *   -DDL_PROVIDER      a provider (implies DL_BUMP_ALLOC): you write
 *                      dl_provider_handle(); this file exports
 *                      compose:dynlink/endpoint@0.1.0#handle and its
 *                      cabi_post_ function, which resets the arena after the
 *                      host has copied the result out — so each call's
 *                      arguments, scratch and result live exactly one call.
 *
 * Payloads are bytes; by convention non-trivial ones are a CBOR map
 * {"schema": "<pkg:iface/op>", "v": <int>, "body": <value>}: the
 * dl_envelope_* helpers build and read that without a CBOR library.
 */
#ifndef PYLON_GUEST_DYNLINK_H
#define PYLON_GUEST_DYNLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef DL_PROVIDER
#ifndef DL_BUMP_ALLOC
#define DL_BUMP_ALLOC 1
#endif
#endif

/* compose:dynlink's error-code enum, in order. */
enum dl_code {
    DL_PLAN_INVALID_SCHEMA = 0, DL_PLAN_INVALID_CBOR, DL_PLAN_MISSING_FIELD,
    DL_PLAN_INVALID_GRAPH, DL_PLAN_CYCLE_DETECTED, DL_EMIT_MISSING_BLOB,
    DL_EMIT_INVALID_DIGEST, DL_EMIT_COMPOSITION_FAILED, DL_EMIT_LINK_ERROR,
    DL_EXEC_TRAP, DL_EXEC_TIMEOUT, DL_EXEC_RESOURCE_EXHAUSTED,
    DL_EXEC_CAPABILITY_DENIED, DL_EXEC_MISSING_EXPORT, DL_BLOB_NOT_FOUND,
    DL_BLOB_DIGEST_MISMATCH, DL_BLOB_IO_ERROR, DL_TRUST_VERIFICATION_FAILED,
    DL_TRUST_SIGNATURE_INVALID, DL_TRUST_CERTIFICATE_EXPIRED,
    DL_TRUST_UNTRUSTED_SOURCE, DL_SECRET_NOT_FOUND, DL_SECRET_ACCESS_DENIED,
    DL_SECRET_BACKEND_ERROR, DL_INVALID_INPUT, DL_INTERNAL_ERROR,
    DL_NOT_IMPLEMENTED,
    DL_NUM_CODES
};

/* "exec-trap" etc. */
const char *dl_code_name(unsigned code);

typedef uint32_t dl_handle;   /* 0 is never a valid handle */

/* An error as the host (or a provider) returned it.  The strings are NOT
 * NUL-terminated and belong to you: dl_error_clear frees them. */
typedef struct dl_error {
    uint8_t code;
    char *message;
    size_t message_len;
    bool has_context;
    char *context;
    size_t context_len;
} dl_error;

typedef struct dl_bytes {
    uint8_t *ptr;
    size_t len;
} dl_bytes;

void dl_error_clear(dl_error *e);
void dl_bytes_free(dl_bytes *b);

/* ---- the raw imports (canonical ABI, see conventions.md) ------------------- */

#define DL__LINKER __attribute__((import_module("compose:dynlink/linker@0.1.0")))
DL__LINKER __attribute__((import_name("resolve-by-id")))
void dl_raw_resolve_by_id(const char *id, size_t len, void *retarea);
DL__LINKER __attribute__((import_name("resolve-by-digest")))
void dl_raw_resolve_by_digest(const uint8_t *digest, size_t len, void *retarea);
DL__LINKER __attribute__((import_name("[method]instance.invoke")))
void dl_raw_invoke(dl_handle self, const char *method, size_t mlen, const void *payload,
                   size_t plen, void *retarea);
DL__LINKER __attribute__((import_name("[resource-drop]instance")))
void dl_raw_drop(dl_handle self);

/* ---- calls ---------------------------------------------------------------- */

/* Each returns 0, or -1 with *err filled (err may be NULL to ignore it). */
int dl_resolve_id(const char *id, dl_handle *out, dl_error *err);
int dl_resolve_id_n(const char *id, size_t len, dl_handle *out, dl_error *err);
int dl_resolve_digest(const uint8_t digest[32], dl_handle *out, dl_error *err);
/* On success *out is the result (out->ptr is NULL when len is 0). */
int dl_invoke(dl_handle h, const char *method, size_t mlen, const void *payload, size_t plen,
              dl_bytes *out, dl_error *err);
/* Gives the handle back; the provider instance stays alive for others. */
void dl_drop(dl_handle h);

/* Resolve once, keep the handle: static dl_cap crc = DL_CAP("crc32c"); */
typedef struct dl_cap {
    const char *id;
    dl_handle handle;
} dl_cap;
#define DL_CAP(id_literal) { id_literal, 0 }
int dl_cap_get(dl_cap *cap, dl_error *err);   /* resolves on first use */
void dl_cap_release(dl_cap *cap);

/* A method name with its length computed at compile time. */
typedef struct dl_method {
    const char *name;
    size_t len;
} dl_method;
#define DL_METHOD(lit) ((dl_method){ "" lit, sizeof(lit) - 1 })
static inline int dl_call(dl_handle h, dl_method m, const void *payload, size_t plen,
                          dl_bytes *out, dl_error *err) {
    return dl_invoke(h, m.name, m.len, payload, plen, out, err);
}

/* ---- the payload envelope (CBOR) ------------------------------------------- */

typedef struct dl_envelope {
    const char *schema;       /* points into the buffer; not NUL-terminated */
    size_t schema_len;
    uint64_t v;
    const uint8_t *body;      /* the body's encoded CBOR item */
    size_t body_len;
} dl_envelope;

/* Writes {"schema": schema, "v": v, "body": <body>} where body is an
 * already-encoded CBOR item.  Returns the size needed; writes only if it
 * fits in cap. */
size_t dl_envelope_encode(uint8_t *buf, size_t cap, const char *schema, uint64_t v,
                          const uint8_t *body, size_t body_len);
/* 0 if buf is exactly one such map (keys in any order, no others). */
int dl_envelope_decode(const uint8_t *buf, size_t len, dl_envelope *out);

/* CBOR pieces: a head (major type 0..7, argument) is at most 9 bytes. */
size_t dl_cbor_head(uint8_t out[9], unsigned major, uint64_t arg);
/* Encodes a byte string (major 2) or text (major 3); returns the size
 * needed, writes only if it fits. */
size_t dl_cbor_string(uint8_t *buf, size_t cap, unsigned major, const void *data, size_t len);
/* Size of the one well-formed, definite-length item at buf; 0 if none. */
size_t dl_cbor_item_size(const uint8_t *buf, size_t len);
/* Reads a head; returns its size or 0. */
size_t dl_cbor_read_head(const uint8_t *buf, size_t len, unsigned *major, uint64_t *arg);

/* ---- memory without libc (DL_BUMP_ALLOC) ------------------------------------- */

#ifdef DL_BUMP_ALLOC
/* From the arena; traps when memory cannot grow. */
void *dl_alloc(size_t size, size_t align);
/* Everything allocated since the last keep is freed. */
void dl_arena_reset(void);
/* Makes what is allocated so far permanent (state set up in _initialize). */
void dl_arena_keep(void);
size_t dl_arena_used(void);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#endif

/* ---- the provider side (DL_PROVIDER) ------------------------------------------ */

#ifdef DL_PROVIDER
typedef struct dl_reply dl_reply;

/* You write this: answer exactly one of dl_reply_ok / dl_reply_error.
 * Not answering is reported to the caller as internal-error. */
void dl_provider_handle(const char *method, size_t mlen, const uint8_t *payload, size_t plen,
                        dl_reply *reply);

/* data must stay valid until the call ends: static storage, the payload
 * itself, or dl_alloc. */
void dl_reply_ok(dl_reply *r, const void *data, size_t len);
/* msg (NUL-terminated) is copied. */
void dl_reply_error(dl_reply *r, unsigned code, const char *msg);
void dl_reply_error_ctx(dl_reply *r, unsigned code, const char *msg, const char *context);

/* method == lit (an exact match on the bytes). */
bool dl_method_is(const char *method, size_t mlen, const char *lit);
#endif

#ifdef __cplusplus
}
#endif
#endif
