/*
 * pylon/host.h — the host layer that links caps into a guest at run time.
 *
 * A guest (python.wasm, or any module importing compose:dynlink/linker@0.1.0)
 * asks for a capability by id or by content digest; the host answers from a
 * *plan* (id -> sha256 digest, plus the policy: who may resolve what, which
 * methods, what limits), loads the provider's blob from a content-addressed
 * *blob store* (fetching it from an upstream store when missing), refuses it
 * unless the *trust store* vouches for the digest (allow-list or an Ed25519
 * signature), instantiates it in its own memory with its own limits, and
 * writes every resolve, denial and failure to a hash-chained *audit log*.
 *
 * Pieces, each usable alone (the CLI's blob/plan/trust commands use them
 * directly):
 *   pylon_plan_*    parse, validate, edit and save plan files (JSON)
 *   pylon_blob_*    the content-addressed store, local and upstream
 *   pylon_trust_*   allow-list, keys, signatures, revocation
 *   pylon_audit_*   the append-only, hash-chained log
 *   pylon_host_*    the compose:dynlink@0.1.0 bridge that ties them together
 *
 * The ABI the bridge speaks is compose:dynlink@0.1.0 exactly as written in
 * /work/shared/reference/conventions.md; docs/dynlink.md describes the file
 * formats.  Nothing here aborts or prints: failures come back as a
 * pylon_host_error whose message names the thing and says what to do next.
 */
#ifndef PYLON_HOST_H
#define PYLON_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pylon/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes: compose:dynlink's error-code enum, in its order ------- */

typedef enum pylon_host_code {
    PYLON_HOST_PLAN_INVALID_SCHEMA = 0,
    PYLON_HOST_PLAN_INVALID_CBOR,
    PYLON_HOST_PLAN_MISSING_FIELD,
    PYLON_HOST_PLAN_INVALID_GRAPH,
    PYLON_HOST_PLAN_CYCLE_DETECTED,
    PYLON_HOST_EMIT_MISSING_BLOB,
    PYLON_HOST_EMIT_INVALID_DIGEST,
    PYLON_HOST_EMIT_COMPOSITION_FAILED,
    PYLON_HOST_EMIT_LINK_ERROR,
    PYLON_HOST_EXEC_TRAP,
    PYLON_HOST_EXEC_TIMEOUT,
    PYLON_HOST_EXEC_RESOURCE_EXHAUSTED,
    PYLON_HOST_EXEC_CAPABILITY_DENIED,
    PYLON_HOST_EXEC_MISSING_EXPORT,
    PYLON_HOST_BLOB_NOT_FOUND,
    PYLON_HOST_BLOB_DIGEST_MISMATCH,
    PYLON_HOST_BLOB_IO_ERROR,
    PYLON_HOST_TRUST_VERIFICATION_FAILED,
    PYLON_HOST_TRUST_SIGNATURE_INVALID,
    PYLON_HOST_TRUST_CERTIFICATE_EXPIRED,
    PYLON_HOST_TRUST_UNTRUSTED_SOURCE,
    PYLON_HOST_SECRET_NOT_FOUND,
    PYLON_HOST_SECRET_ACCESS_DENIED,
    PYLON_HOST_SECRET_BACKEND_ERROR,
    PYLON_HOST_INVALID_INPUT,
    PYLON_HOST_INTERNAL_ERROR,
    PYLON_HOST_NOT_IMPLEMENTED,          /* = 26, the last one */
} pylon_host_code;

#define PYLON_HOST_NUM_CODES 27

/* "exec-trap" etc.; "?" when out of range. */
const char *pylon_host_code_name(int code);
/* The code for a kebab-case name, or -1. */
int pylon_host_code_from_name(const char *name);

typedef struct pylon_host_error {
    int code;              /* a pylon_host_code */
    char message[768];     /* says what failed and what to do about it */
} pylon_host_error;

/* ---- digests ---------------------------------------------------------------- */

typedef struct pylon_digest { uint8_t b[32]; } pylon_digest;

#define PYLON_DIGEST_STRLEN 71   /* "sha256:" + 64 hex digits */

/* SHA-256 of bytes (libsodium). */
void pylon_digest_of(const void *bytes, size_t len, pylon_digest *out);
/* "sha256:<64 lowercase or uppercase hex>" -> digest; -1 if malformed. */
int pylon_digest_parse(const char *text, pylon_digest *out);
/* Writes "sha256:<hex>" (72 bytes with the NUL) into buf; returns buf. */
char *pylon_digest_format(const pylon_digest *d, char buf[PYLON_DIGEST_STRLEN + 1]);
/* Only the 64 hex digits. */
char *pylon_digest_hex(const pylon_digest *d, char buf[65]);
/* The short form people read in messages: "sha256:ab12cd34ef56…". */
char *pylon_digest_short(const pylon_digest *d, char buf[32]);

/* ---- where things live ---------------------------------------------------- */

/* Every path may be NULL: home defaults to $PYLON_HOME, else ~/.pylon; the
 * others to home/blobs (store root), home/trust, home/keys (secret keys),
 * home/audit.log.  upstream (a directory, file:// or http(s):// URL) is
 * used when the plan names none; a plan's own "upstream" wins otherwise. */
typedef struct pylon_host_paths {
    const char *home;
    const char *store;      /* the directory holding sha256/<hex> */
    const char *trust;
    const char *keys;
    const char *audit;
    const char *upstream;
} pylon_host_paths;

/* Resolves one path of `p` with the defaults above into buf; which is one
 * of "home", "store", "trust", "keys", "audit".  Returns buf, or NULL if
 * there is no home (no $PYLON_HOME and no $HOME). */
char *pylon_host_path(const pylon_host_paths *p, const char *which, char *buf, size_t cap);

/* ---- plans ----------------------------------------------------------------- */

/* Per-provider limits.  0 means "none" for fuel and timeout. */
typedef struct pylon_plan_limits {
    uint64_t max_memory;    /* bytes; rounded up to 64 KiB pages */
    uint64_t fuel;          /* per invoke */
    uint64_t timeout_ms;    /* per invoke, wall clock */
    uint64_t max_result;    /* bytes of result (or error text) per invoke */
} pylon_plan_limits;

#define PYLON_PLAN_DEFAULT_MAX_MEMORY (64ull << 20)
#define PYLON_PLAN_DEFAULT_TIMEOUT_MS 10000ull
#define PYLON_PLAN_DEFAULT_MAX_RESULT (16ull << 20)

typedef struct pylon_plan_cap {
    char *id;
    pylon_digest digest;
    bool all_methods;       /* "methods": "*" */
    char **methods;         /* otherwise the allowed method names */
    size_t nmethods;
    char **resolve;         /* ids this provider may resolve itself */
    size_t nresolve;
    pylon_plan_limits limits;
    bool limits_set[4];     /* which limits the file wrote (for saving) */
} pylon_plan_cap;

typedef struct pylon_plan {
    char *source;           /* file name for messages ("plan.json") */
    char *upstream;         /* NULL if none */
    char **guest_resolve;   /* ids the guest may resolve; "*" = every id */
    size_t nguest_resolve;
    pylon_plan_cap *caps;
    size_t ncaps;
} pylon_plan;

#define PYLON_PLAN_VERSION 1

/* Reads and validates strictly.  Errors point at the field:
 * "plan.json:7:18: caps.crc32c.limits.fuel: must be a whole number ≥ 0; ..." */
pylon_plan *pylon_plan_load(const char *path, pylon_host_error *err);
pylon_plan *pylon_plan_parse(const char *text, size_t len, const char *source,
                             pylon_host_error *err);
/* An empty plan (version 1, no caps, the guest may resolve nothing). */
pylon_plan *pylon_plan_new(const char *source);
void pylon_plan_free(pylon_plan *p);

/* Checks what the parser checks once more, for plans built in memory. */
int pylon_plan_validate(const pylon_plan *p, pylon_host_error *err);

pylon_plan_cap *pylon_plan_find(const pylon_plan *p, const char *id);
/* Adds a cap with default limits and no methods allowed; NULL (and err) if
 * the id is taken or not a valid id.  The pointer is valid until the next
 * add. */
pylon_plan_cap *pylon_plan_add_cap(pylon_plan *p, const char *id, pylon_host_error *err);
/* Whether the guest (self == NULL) or provider `self` may resolve `id`. */
bool pylon_plan_may_resolve(const pylon_plan *p, const pylon_plan_cap *self, const char *id);
bool pylon_plan_method_allowed(const pylon_plan_cap *c, const char *method, size_t len);
/* Replaces a list (methods / resolve / guest resolve) with a copy of `items`. */
int pylon_plan_set_list(char ***list, size_t *n, const char *const *items, size_t count);
/* True if `id` is a syntactically valid cap id. */
bool pylon_plan_valid_id(const char *id);

/* Canonical JSON (stable key order, two-space indent).  malloc'd. */
char *pylon_plan_to_json(const pylon_plan *p);
/* Writes atomically (temp file + rename). */
int pylon_plan_save(const pylon_plan *p, const char *path, pylon_host_error *err);

/* ---- the blob store --------------------------------------------------------- */

typedef struct pylon_blobstore pylon_blobstore;

/* Largest blob accepted from anywhere (a provider is a few KiB to MiB). */
#define PYLON_BLOB_MAX_SIZE (512ull << 20)

/* Opens (creating) a store rooted at `root`: blobs live at
 * root/sha256/<hex>, temporary files in root/tmp. */
pylon_blobstore *pylon_blob_open(const char *root, pylon_host_error *err);
void pylon_blob_close(pylon_blobstore *bs);
const char *pylon_blob_root(const pylon_blobstore *bs);

/* Where missing blobs come from: a directory laid out like a store (or a
 * Pylon home containing blobs/), file:///dir, or http(s)://host[:port]/path
 * serving the same layout (GET <url>/sha256/<hex>).  NULL: none. */
int pylon_blob_set_upstream(pylon_blobstore *bs, const char *upstream, pylon_host_error *err);
/* Seconds for the whole HTTP transfer (default 30). */
void pylon_blob_set_timeout(pylon_blobstore *bs, long seconds);

/* Stores bytes under their digest: written to a temp file, fsync'd, renamed
 * into place, so a reader never sees a partial blob. */
int pylon_blob_put(pylon_blobstore *bs, const void *bytes, size_t len, pylon_digest *out,
                   pylon_host_error *err);
int pylon_blob_put_file(pylon_blobstore *bs, const char *path, pylon_digest *out,
                        pylon_host_error *err);

/* Loads a blob and re-checks its digest; fetches it from the upstream
 * (verifying before storing) when missing.  *bytes is malloc'd.
 * Codes: blob-not-found, blob-digest-mismatch, blob-io-error. */
int pylon_blob_get(pylon_blobstore *bs, const pylon_digest *d, uint8_t **bytes, size_t *len,
                   pylon_host_error *err);
/* The same without looking upstream. */
int pylon_blob_get_local(pylon_blobstore *bs, const pylon_digest *d, uint8_t **bytes,
                         size_t *len, pylon_host_error *err);
bool pylon_blob_has(pylon_blobstore *bs, const pylon_digest *d);
int pylon_blob_remove(pylon_blobstore *bs, const pylon_digest *d, pylon_host_error *err);
/* Path of the blob file (whether or not it exists). */
char *pylon_blob_path(const pylon_blobstore *bs, const pylon_digest *d, char *buf, size_t cap);

/* Calls fn for every blob file in the store, in digest order.  `name_ok`
 * is false for a file whose name is not a digest (it is still reported,
 * with d zeroed, so that verify and gc can point at it). */
typedef int (*pylon_blob_visit_fn)(const char *name, bool name_ok, const pylon_digest *d,
                                   uint64_t size, void *user);
int pylon_blob_list(pylon_blobstore *bs, pylon_blob_visit_fn fn, void *user,
                    pylon_host_error *err);
/* Removes temporary files older than max_age_s left by interrupted writes;
 * returns how many. */
int pylon_blob_clean_tmp(pylon_blobstore *bs, long max_age_s);

/* ---- trust ------------------------------------------------------------------- */

typedef struct pylon_trust pylon_trust;

/* The message a publisher signs with Ed25519, for digest d:
 * the ASCII text "pylon-blob-signature-v1 sha256:<hex>". */
size_t pylon_trust_message(const pylon_digest *d, char *buf, size_t cap);

/* Loads the trust store at `dir` (creating it when missing): allow, revoked,
 * keys/<name>.pub, sigs/<hex>/<name>.sig. */
pylon_trust *pylon_trust_open(const char *dir, pylon_host_error *err);
void pylon_trust_free(pylon_trust *t);
/* Re-reads the files (what the bridge does before every resolve). */
int pylon_trust_reload(pylon_trust *t, pylon_host_error *err);

/* 0 if d may be instantiated; otherwise -1 and err: trust-untrusted-source
 * (not allowed, not signed, or revoked), trust-signature-invalid (a
 * signature exists but does not verify).  `how` (may be NULL) gets
 * "the allow-list" or "the signature of key '<name>'". */
int pylon_trust_check(const pylon_trust *t, const pylon_digest *d, char *how, size_t howcap,
                      pylon_host_error *err);

int pylon_trust_allow(pylon_trust *t, const pylon_digest *d, pylon_host_error *err);
/* Revokes a digest (also drops it from the allow-list) or, by name, a key
 * (its public key stays on the revoked list: re-adding it does not help). */
int pylon_trust_revoke_digest(pylon_trust *t, const pylon_digest *d, pylon_host_error *err);
int pylon_trust_revoke_key(pylon_trust *t, const char *name, pylon_host_error *err);

/* Key names: [A-Za-z0-9._-], 1..64 characters. */
bool pylon_trust_valid_key_name(const char *name);
/* Makes a key pair: the secret goes to secret_path (mode 0600, refused if
 * it exists), the public key is returned and, if t != NULL, trusted. */
int pylon_trust_keygen(pylon_trust *t, const char *name, const char *secret_path,
                       uint8_t pk[32], pylon_host_error *err);
int pylon_trust_add_key(pylon_trust *t, const char *name, const uint8_t pk[32],
                        pylon_host_error *err);
/* Signs d with the secret key in secret_path. */
int pylon_trust_sign(const char *secret_path, const pylon_digest *d, uint8_t sig[64],
                     uint8_t pk[32], pylon_host_error *err);
/* Stores a signature made by key `name` (verified first: a signature that
 * does not verify is refused). */
int pylon_trust_add_signature(pylon_trust *t, const pylon_digest *d, const char *name,
                              const uint8_t sig[64], pylon_host_error *err);

/* What the store holds, for `pylon trust list`. */
size_t pylon_trust_num_allowed(const pylon_trust *t);
const pylon_digest *pylon_trust_allowed(const pylon_trust *t, size_t i);
size_t pylon_trust_num_keys(const pylon_trust *t);
/* Name and public key of key i; revoked is set when the key is revoked. */
const char *pylon_trust_key(const pylon_trust *t, size_t i, uint8_t pk[32], bool *revoked);
size_t pylon_trust_num_revoked_digests(const pylon_trust *t);
const pylon_digest *pylon_trust_revoked_digest(const pylon_trust *t, size_t i);

/* ---- the audit log -------------------------------------------------------------- */

typedef struct pylon_audit pylon_audit;

/* One event.  NULL / -1 fields are left out of the line. */
typedef struct pylon_audit_entry {
    const char *event;      /* "resolve", "invoke", "instantiate", "discard" */
    const char *caller;     /* "guest", or the id of the provider calling */
    const char *cap;        /* cap id */
    const pylon_digest *digest;
    const char *method;
    const char *outcome;    /* "ok", "denied", "error" */
    int code;               /* a pylon_host_code or -1 */
    const char *message;
} pylon_audit_entry;

/* Opens for appending (creating with mode 0600).  Each line is
 *   {"seq":N,"time":"...","event":...,"prev":"<hex>","hash":"<hex>"}
 * where hash = SHA-256 of the line's bytes before ',"hash"' and prev is
 * the previous line's hash (64 zeros for the first).  Appends take an
 * exclusive lock on the file, so several processes may share one log. */
pylon_audit *pylon_audit_open(const char *path, pylon_host_error *err);
void pylon_audit_close(pylon_audit *a);
int pylon_audit_append(pylon_audit *a, const pylon_audit_entry *e, pylon_host_error *err);

/* Checks the whole chain.  0 if intact (*entries and head, the last hash,
 * filled); -1 with err naming the first line that does not check out. */
int pylon_audit_verify(const char *path, size_t *entries, char head[65], pylon_host_error *err);

/* ---- the compose:dynlink bridge ---------------------------------------------------- */

typedef struct pylon_host pylon_host;

/* Opens the blob store, trust store and audit log named by `paths` for
 * `plan` (which the host copies nothing of: keep it alive until
 * pylon_host_free).  Validates the plan. */
pylon_host *pylon_host_new(const pylon_plan *plan, const pylon_host_paths *paths,
                           pylon_host_error *err);
void pylon_host_free(pylon_host *h);

/* Registers the four compose:dynlink/linker@0.1.0 imports in `imp` for one
 * guest instance (its handles are its own).  The guest must export memory
 * and cabi_realloc.  `name` labels the guest in the audit log (NULL:
 * "guest").  Call once per guest instance. */
int pylon_host_add_imports(pylon_host *h, pylon_imports *imp, const char *name);

/* What `pylon run --plan PLAN` calls: loads and validates the plan, opens
 * the stores and registers the bridge in `imp`.  NULL with err (exit with a
 * usage/load error) when the plan is malformed or a store cannot be
 * opened.  pylon_host_free() frees the plan it loaded too. */
pylon_host *pylon_host_use_plan(pylon_imports *imp, const char *plan_path,
                                const pylon_host_paths *paths, pylon_host_error *err);

/* For a host running a guest that imports the linker but without a plan
 * (`pylon run` with no --plan): registers the four imports so the guest
 * still links, and every resolve fails with exec-capability-denied and a
 * message saying to pass --plan.  Invoke and drop can never be reached
 * with a valid handle; they answer invalid-input / trap. */
int pylon_host_add_stub_imports(pylon_imports *imp, const char *hint);

/* Which tier runs providers (default PYLON_TIER_AUTO: native code when
 * compiled; a provider without it runs on the interpreter while it is
 * compiled in the background, and tiers up at its next instantiation).  A
 * provider with a fuel limit always runs on the interpreter. */
void pylon_host_set_tier(pylon_host *h, pylon_tier tier);

/* Counters, for tests and the bench. */
typedef struct pylon_host_stats {
    uint64_t resolves, resolve_denied;
    uint64_t invokes, invoke_errors;
    uint64_t instantiations, discards;
} pylon_host_stats;
void pylon_host_get_stats(const pylon_host *h, pylon_host_stats *out);

/* Sets how the bridge reports: when non-NULL, a one-line summary of every
 * refusal and provider failure also goes there (the CLI passes stderr). */
void pylon_host_set_log(pylon_host *h, void *file /* FILE* */);

#ifdef __cplusplus
}
#endif
#endif
