/*
 * unit.c — unit tests of the host layer's parts, each alone: plan
 * validation (every refusal names its field), the blob store (tamper
 * detection, atomic writes, upstream verification), trust (allow, sign,
 * verify, revoke) and the audit chain (every kind of tampering shows).
 *
 *   unit [WORDS...]     runs the sections whose name contains a word
 * Prints "ok NAME" / "FAIL NAME: why" and "RESULT <passed> <failed>".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pylon/host.h"

static int passed, failed;

static void check(int good, const char *name, const char *fmt, ...) {
    if (good) { passed++; printf("ok   %s\n", name); return; }
    failed++;
    printf("FAIL %s: ", name);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static char tmpdir[256];

static void writefile(const char *path, const void *data, size_t n) {
    chmod(path, 0644);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    fwrite(data, 1, n, f);
    fclose(f);
}

static char *readfile(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    fread(b, 1, (size_t)len, f);
    b[len] = 0;
    fclose(f);
    if (n) *n = (size_t)len;
    return b;
}

/* ---- plans ---------------------------------------------------------------------- */

#define D1 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void plan_bad(const char *name, const char *json, int code, const char *needle) {
    pylon_host_error e = { 0 };
    pylon_plan *p = pylon_plan_parse(json, strlen(json), "t.json", &e);
    if (p) { pylon_plan_free(p); check(0, name, "accepted"); return; }
    check(e.code == code && strstr(e.message, needle) != NULL, name,
          "got %s: %s (wanted %s mentioning \"%s\")", pylon_host_code_name(e.code), e.message,
          pylon_host_code_name(code), needle);
}

#define CAP(body) "{\"version\":1,\"guest\":{\"resolve\":[]},\"caps\":{\"x\":" body "}}"

static void test_plans(void) {
    plan_bad("plan: not JSON", "{", PYLON_HOST_PLAN_INVALID_SCHEMA, "not valid JSON");
    plan_bad("plan: trailing comma", "{\"version\":1,}", PYLON_HOST_PLAN_INVALID_SCHEMA, "t.json:1:");
    plan_bad("plan: duplicate key", "{\"version\":1,\"version\":1}", PYLON_HOST_PLAN_INVALID_SCHEMA, "duplicate");
    plan_bad("plan: top level array", "[]", PYLON_HOST_PLAN_INVALID_SCHEMA, "(top level)");
    plan_bad("plan: missing version", "{\"guest\":{\"resolve\":[]},\"caps\":{}}",
             PYLON_HOST_PLAN_MISSING_FIELD, "version: missing");
    plan_bad("plan: version 2", "{\"version\":2,\"guest\":{\"resolve\":[]},\"caps\":{}}",
             PYLON_HOST_PLAN_INVALID_SCHEMA, "version 1 only");
    plan_bad("plan: unknown top-level field", "{\"version\":1,\"cap\":{}}",
             PYLON_HOST_PLAN_INVALID_SCHEMA, "cap: unknown field");
    plan_bad("plan: missing caps", "{\"version\":1,\"guest\":{\"resolve\":[]}}",
             PYLON_HOST_PLAN_MISSING_FIELD, "caps: missing");
    plan_bad("plan: missing guest", "{\"version\":1,\"caps\":{}}", PYLON_HOST_PLAN_MISSING_FIELD,
             "guest: missing");
    plan_bad("plan: missing guest.resolve", "{\"version\":1,\"guest\":{},\"caps\":{}}",
             PYLON_HOST_PLAN_MISSING_FIELD, "guest.resolve: missing");
    plan_bad("plan: missing digest", CAP("{\"methods\":\"*\"}"), PYLON_HOST_PLAN_MISSING_FIELD,
             "caps.x.digest: missing");
    plan_bad("plan: malformed digest", CAP("{\"digest\":\"sha256:zz\",\"methods\":\"*\"}"),
             PYLON_HOST_EMIT_INVALID_DIGEST, "caps.x.digest");
    plan_bad("plan: digest without algorithm",
             CAP("{\"digest\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\",\"methods\":\"*\"}"),
             PYLON_HOST_EMIT_INVALID_DIGEST, "sha256:");
    plan_bad("plan: missing methods", CAP("{\"digest\":\"" D1 "\"}"), PYLON_HOST_PLAN_MISSING_FIELD,
             "caps.x.methods: missing");
    plan_bad("plan: methods not a list", CAP("{\"digest\":\"" D1 "\",\"methods\":3}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.methods: must be an array");
    plan_bad("plan: duplicate method", CAP("{\"digest\":\"" D1 "\",\"methods\":[\"a\",\"a\"]}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.methods[1]");
    plan_bad("plan: empty method name", CAP("{\"digest\":\"" D1 "\",\"methods\":[\"\"]}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.methods[0]");
    plan_bad("plan: negative fuel", CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"limits\":{\"fuel\":-1}}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.limits.fuel");
    plan_bad("plan: fractional fuel", CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"limits\":{\"fuel\":1.5}}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.limits.fuel");
    plan_bad("plan: size with a wrong unit",
             CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"limits\":{\"max_memory\":\"16MB\"}}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.limits.max_memory: must be a size");
    plan_bad("plan: memory limit too small",
             CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"limits\":{\"max_memory\":\"1KiB\"}}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "out of range");
    plan_bad("plan: unknown limit", CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"limits\":{\"memory\":1}}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.limits.memory: unknown field");
    plan_bad("plan: unknown cap field", CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"method\":[]}"),
             PYLON_HOST_PLAN_INVALID_SCHEMA, "caps.x.method: unknown field");
    plan_bad("plan: guest resolves an unknown id",
             "{\"version\":1,\"guest\":{\"resolve\":[\"y\"]},\"caps\":{}}", PYLON_HOST_PLAN_INVALID_GRAPH,
             "guest.resolve[0]");
    plan_bad("plan: provider resolves an unknown id",
             CAP("{\"digest\":\"" D1 "\",\"methods\":\"*\",\"resolve\":[\"nope\"]}"),
             PYLON_HOST_PLAN_INVALID_GRAPH, "caps.x.resolve[0]");
    plan_bad("plan: invalid cap id",
             "{\"version\":1,\"guest\":{\"resolve\":[]},\"caps\":{\"bad id\":{\"digest\":\"" D1 "\",\"methods\":\"*\"}}}",
             PYLON_HOST_PLAN_INVALID_SCHEMA, "not a valid cap id");
    plan_bad("plan: error points at line and column",
             "{\n  \"version\": 1,\n  \"guest\": {\"resolve\": []},\n  \"caps\": {\"x\": {\"digest\": \"" D1
             "\", \"methods\": \"*\",\n    \"limits\": {\"fuel\": \"lots\"}}}\n}",
             PYLON_HOST_PLAN_INVALID_SCHEMA, "t.json:5:24: caps.x.limits.fuel");

    const char *good =
        "{\"version\":1,\"upstream\":\"http://127.0.0.1:1\",\"guest\":{\"resolve\":[\"a\",\"b\"]},"
        "\"caps\":{\"a\":{\"digest\":\"" D1 "\",\"methods\":[\"m1\",\"m2\"],\"resolve\":[\"b\"],"
        "\"limits\":{\"max_memory\":\"16MiB\",\"fuel\":1000,\"timeout_ms\":0,\"max_result\":65536}},"
        "\"b\":{\"digest\":\"" D1 "\",\"methods\":\"*\",\"resolve\":\"*\"}}}";
    pylon_host_error e;
    pylon_plan *p = pylon_plan_parse(good, strlen(good), "good.json", &e);
    check(p != NULL, "plan: a full plan parses", "%s", p ? "" : e.message);
    if (!p) return;
    const pylon_plan_cap *a = pylon_plan_find(p, "a"), *b = pylon_plan_find(p, "b");
    check(a && b && a->limits.max_memory == 16u << 20 && a->limits.fuel == 1000 &&
          a->limits.timeout_ms == 0 && a->limits.max_result == 65536 &&
          b->limits.timeout_ms == PYLON_PLAN_DEFAULT_TIMEOUT_MS && b->all_methods,
          "plan: limits and defaults are read", "");
    check(pylon_plan_method_allowed(a, "m2", 2) && !pylon_plan_method_allowed(a, "m3", 2) &&
          pylon_plan_method_allowed(b, "anything", 8), "plan: method policy", "");
    check(pylon_plan_may_resolve(p, NULL, "a") && pylon_plan_may_resolve(p, a, "b") &&
          !pylon_plan_may_resolve(p, a, "a") && pylon_plan_may_resolve(p, b, "a"),
          "plan: resolve policy", "");
    char *j1 = pylon_plan_to_json(p);
    pylon_plan *q = pylon_plan_parse(j1, strlen(j1), "round.json", &e);
    char *j2 = q ? pylon_plan_to_json(q) : NULL;
    check(q && !strcmp(j1, j2), "plan: canonical JSON round-trips", "%s", q ? j2 : e.message);
    free(j1);
    free(j2);
    pylon_plan_free(q);

    char path[300];
    snprintf(path, sizeof path, "%s/saved.json", tmpdir);
    check(pylon_plan_save(p, path, &e) == 0, "plan: save", "%s", e.message);
    q = pylon_plan_load(path, &e);
    check(q && q->ncaps == 2, "plan: load what was saved", "%s", q ? "" : e.message);
    pylon_plan_free(q);
    pylon_plan_free(p);
    snprintf(path, sizeof path, "%s/missing.json", tmpdir);
    q = pylon_plan_load(path, &e);
    check(!q && strstr(e.message, "pylon plan create"), "plan: a missing file says how to make one",
          "%s", e.message);
}

/* ---- blob store ---------------------------------------------------------------- */

static int count_dir(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) n += de->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static int count_visit(const char *name, bool ok, const pylon_digest *d, uint64_t size, void *user) {
    int *c = user;
    c[ok ? 0 : 1]++;
    return 0;
}

static void test_blobs(void) {
    char root[300], up[300], path[600];
    snprintf(root, sizeof root, "%s/store", tmpdir);
    snprintf(up, sizeof up, "%s/upstream", tmpdir);
    pylon_host_error e;
    pylon_blobstore *bs = pylon_blob_open(root, &e);
    check(bs != NULL, "blob: open creates the store", "%s", bs ? "" : e.message);
    if (!bs) return;
    pylon_digest d, want;
    pylon_digest_parse(D1, &want);
    check(pylon_blob_put(bs, "abc", 3, &d, &e) == 0 && !memcmp(d.b, want.b, 32),
          "blob: put stores under SHA-256 (\"abc\")", "%s", e.message);
    snprintf(path, sizeof path, "%s/tmp", root);
    check(count_dir(path) == 0, "blob: no temporary file is left behind", "%d left", count_dir(path));
    struct stat st;
    pylon_blob_path(bs, &d, path, sizeof path);
    check(stat(path, &st) == 0 && (st.st_mode & 0777) == 0444, "blob: stored read-only",
          "mode %o", st.st_mode & 0777);
    uint8_t *b;
    size_t n;
    check(pylon_blob_get(bs, &d, &b, &n, &e) == 0 && n == 3 && !memcmp(b, "abc", 3),
          "blob: get returns the bytes", "%s", e.message);
    free(b);

    writefile(path, "abd", 3);
    int r = pylon_blob_get(bs, &d, &b, &n, &e);
    check(r && e.code == PYLON_HOST_BLOB_DIGEST_MISMATCH && strstr(e.message, "changed or damaged"),
          "blob: a blob altered on disk is refused", "%s", r ? e.message : "accepted");
    check(pylon_blob_put(bs, "abc", 3, NULL, &e) == 0 && pylon_blob_get(bs, &d, &b, &n, &e) == 0,
          "blob: putting the original again repairs it", "%s", e.message);
    if (!r) free(b);
    free(b);

    pylon_digest missing = d;
    missing.b[0] ^= 0xff;
    r = pylon_blob_get(bs, &missing, &b, &n, &e);
    check(r && e.code == PYLON_HOST_BLOB_NOT_FOUND && strstr(e.message, "pylon blob add"),
          "blob: a missing blob says how to add it", "%s", e.message);

    /* An interrupted write leaves only a temp file: not a blob, and gc takes it. */
    snprintf(path, sizeof path, "%s/tmp/partial.123", root);
    writefile(path, "ab", 2);
    int counts[2] = { 0, 0 };
    pylon_blob_list(bs, count_visit, counts, &e);
    check(counts[0] == 1 && counts[1] == 0, "blob: a half-written temp file is not listed",
          "%d blobs, %d junk", counts[0], counts[1]);
    check(pylon_blob_clean_tmp(bs, 0) == 1, "blob: clean_tmp removes leftovers", "");
    snprintf(path, sizeof path, "%s/sha256/junk", root);
    writefile(path, "x", 1);
    counts[0] = counts[1] = 0;
    pylon_blob_list(bs, count_visit, counts, &e);
    check(counts[1] == 1, "blob: a stray file in sha256/ is reported as such", "%d junk", counts[1]);
    unlink(path);

    /* Readers never see a partial blob while a writer is busy. */
    enum { BIG = 1 << 20 };
    uint8_t *big = malloc(BIG);
    for (int i = 0; i < BIG; i++) big[i] = (uint8_t)(i * 7);
    pylon_digest bigd;
    pylon_digest_of(big, BIG, &bigd);
    pid_t pid = fork();
    if (pid == 0) {
        pylon_host_error ce;
        pylon_blobstore *cbs = pylon_blob_open(root, &ce);
        for (int k = 0; k < 8; k++) {
            pylon_blob_remove(cbs, &bigd, &ce);
            pylon_blob_put(cbs, big, BIG, NULL, &ce);
        }
        _exit(0);
    }
    int seen = 0, torn = 0, status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (pylon_blob_get_local(bs, &bigd, &b, &n, &e) == 0) { seen++; free(b); }
        else if (e.code != PYLON_HOST_BLOB_NOT_FOUND) torn++;
    }
    check(torn == 0, "blob: concurrent readers never see a torn blob (atomic rename)",
          "%d bad reads of %d", torn, seen + torn);
    free(big);

    /* Upstream: a directory store.  Good bytes are fetched and stored;
     * bad bytes are refused and not stored. */
    pylon_blobstore *ubs = pylon_blob_open(up, &e);
    pylon_digest ud;
    pylon_blob_put(ubs, "upstream blob", 13, &ud, &e);
    pylon_digest bad;
    pylon_blob_put(ubs, "the real one", 12, &bad, &e);
    pylon_blob_path(ubs, &bad, path, sizeof path);
    writefile(path, "an impostor", 11);
    pylon_blob_close(ubs);
    check(pylon_blob_set_upstream(bs, up, &e) == 0, "blob: a directory upstream", "%s", e.message);
    check(pylon_blob_get(bs, &ud, &b, &n, &e) == 0 && n == 13 && pylon_blob_has(bs, &ud),
          "blob: a missing blob is fetched from upstream and kept", "%s", e.message);
    if (n == 13) free(b);
    r = pylon_blob_get(bs, &bad, &b, &n, &e);
    check(r && e.code == PYLON_HOST_BLOB_DIGEST_MISMATCH && !pylon_blob_has(bs, &bad),
          "blob: wrong bytes from upstream are refused and not stored", "%s", e.message);
    check(pylon_blob_set_upstream(bs, "ftp://example.org", &e) != 0, "blob: unsupported upstream URL refused",
          "accepted");
    pylon_blob_close(bs);
}

/* ---- trust ---------------------------------------------------------------------- */

static void test_trust(void) {
    char dir[300], keys[300], sk[400], path[800];
    snprintf(dir, sizeof dir, "%s/trust", tmpdir);
    snprintf(keys, sizeof keys, "%s/keys", tmpdir);
    pylon_host_error e;
    pylon_trust *t = pylon_trust_open(dir, &e);
    check(t != NULL, "trust: open creates the store", "%s", t ? "" : e.message);
    if (!t) return;
    pylon_digest d1, d2, d3;
    pylon_digest_of("one", 3, &d1);
    pylon_digest_of("two", 3, &d2);
    pylon_digest_of("three", 5, &d3);
    char msg[128];
    char dg[PYLON_DIGEST_STRLEN + 1];
    pylon_trust_message(&d1, msg, sizeof msg);
    char want[128];
    snprintf(want, sizeof want, "pylon-blob-signature-v1 %s", pylon_digest_format(&d1, dg));
    check(!strcmp(msg, want), "trust: the signed message is domain-separated text", "%s", msg);

    int r = pylon_trust_check(t, &d1, NULL, 0, &e);
    check(r && e.code == PYLON_HOST_TRUST_UNTRUSTED_SOURCE && strstr(e.message, "pylon trust allow"),
          "trust: an unknown digest is refused with the fix", "%s", e.message);
    char how[96];
    check(pylon_trust_allow(t, &d1, &e) == 0 && pylon_trust_check(t, &d1, how, sizeof how, &e) == 0 &&
          !strcmp(how, "the allow-list"), "trust: allow", "%s", e.message);

    pylon_trust *t2 = pylon_trust_open(dir, &e);
    check(t2 && pylon_trust_check(t2, &d1, NULL, 0, &e) == 0, "trust: the allow-list persists", "%s", e.message);
    pylon_trust_free(t2);

    uint8_t pk[32], sig[64];
    snprintf(sk, sizeof sk, "%s/alice.key", keys);
    check(pylon_trust_keygen(t, "alice", sk, pk, &e) == 0, "trust: keygen", "%s", e.message);
    struct stat st;
    check(stat(sk, &st) == 0 && (st.st_mode & 0777) == 0600, "trust: the secret key is mode 0600",
          "mode %o", st.st_mode & 0777);
    check(pylon_trust_keygen(t, "alice", sk, pk, &e) != 0, "trust: keygen refuses an existing name", "");
    check(pylon_trust_sign(sk, &d2, sig, NULL, &e) == 0 && pylon_trust_add_signature(t, &d2, "alice", sig, &e) == 0,
          "trust: sign and store a signature", "%s", e.message);
    check(pylon_trust_check(t, &d2, how, sizeof how, &e) == 0 && strstr(how, "alice"),
          "trust: a signed digest is trusted", "%s", e.message);
    check(pylon_trust_add_signature(t, &d3, "alice", sig, &e) != 0 &&
          e.code == PYLON_HOST_TRUST_SIGNATURE_INVALID,
          "trust: a signature for another digest is refused when added", "%s", e.message);

    /* A signature file altered on disk. */
    char hex[65];
    snprintf(path, sizeof path, "%s/sigs/%s", dir, pylon_digest_hex(&d3, hex));
    mkdir(path, 0755);
    snprintf(path + strlen(path), sizeof path - strlen(path), "/alice.sig");
    char sh[130];
    for (int i = 0; i < 64; i++) sprintf(sh + 2 * i, "%02x", sig[i]);   /* d2's signature under d3 */
    strcat(sh, "\n");
    writefile(path, sh, strlen(sh));
    r = pylon_trust_check(t, &d3, NULL, 0, &e);
    check(r && e.code == PYLON_HOST_TRUST_SIGNATURE_INVALID && strstr(e.message, "alice"),
          "trust: a bad signature is refused as trust-signature-invalid", "%s", e.message);
    snprintf(path, sizeof path, "%s/sigs/%s/alice.sig", dir, pylon_digest_hex(&d2, hex));
    size_t n;
    char *text = readfile(path, &n);
    text[10] = text[10] == '0' ? '1' : '0';
    writefile(path, text, n);
    free(text);
    r = pylon_trust_check(t, &d2, NULL, 0, &e);
    check(r && e.code == PYLON_HOST_TRUST_SIGNATURE_INVALID, "trust: a flipped bit in a signature is caught",
          "%s", e.message);
    pylon_trust_sign(sk, &d2, sig, NULL, &e);
    pylon_trust_add_signature(t, &d2, "alice", sig, &e);

    chmod(sk, 0644);
    r = pylon_trust_sign(sk, &d2, sig, NULL, &e);
    check(r && e.code == PYLON_HOST_SECRET_ACCESS_DENIED && strstr(e.message, "chmod 600"),
          "trust: signing refuses a secret key others can read", "%s", e.message);
    chmod(sk, 0600);

    check(pylon_trust_revoke_key(t, "alice", &e) == 0, "trust: revoke a key", "%s", e.message);
    r = pylon_trust_check(t, &d2, NULL, 0, &e);
    check(r && e.code == PYLON_HOST_TRUST_UNTRUSTED_SOURCE && strstr(e.message, "revoked"),
          "trust: a revoked key's signatures no longer count", "%s", e.message);
    check(pylon_trust_add_key(t, "alice2", pk, &e) != 0, "trust: a revoked key cannot come back under another name",
          "accepted");

    check(pylon_trust_revoke_digest(t, &d1, &e) == 0, "trust: revoke a digest", "%s", e.message);
    r = pylon_trust_check(t, &d1, NULL, 0, &e);
    check(r && strstr(e.message, "revoked"), "trust: a revoked digest is refused", "%s", e.message);
    check(pylon_trust_allow(t, &d1, &e) != 0, "trust: a revoked digest cannot be allowed again", "");

    snprintf(path, sizeof path, "%s/allow", dir);
    writefile(path, "sha256:nothex\n", 14);
    check(pylon_trust_reload(t, &e) != 0 && strstr(e.message, "allow:1:"),
          "trust: a malformed allow-list names file and line", "%s", e.message);
    pylon_trust_free(t);
}

/* ---- audit ---------------------------------------------------------------------- */

static void test_audit(void) {
    char path[300];
    snprintf(path, sizeof path, "%s/audit.log", tmpdir);
    pylon_host_error e;
    pylon_audit *a = pylon_audit_open(path, &e);
    check(a != NULL, "audit: open", "%s", a ? "" : e.message);
    if (!a) return;
    pylon_digest d;
    pylon_digest_of("x", 1, &d);
    for (int i = 0; i < 5; i++) {
        char m[64];
        snprintf(m, sizeof m, "entry \"%d\"\n with escapes", i);
        pylon_audit_entry en = { .event = "resolve", .caller = "guest", .cap = "c", .digest = &d,
                                 .outcome = i % 2 ? "ok" : "denied", .code = i % 2 ? -1 : 20, .message = m };
        if (pylon_audit_append(a, &en, &e)) { check(0, "audit: append", "%s", e.message); break; }
    }
    pylon_audit_close(a);
    a = pylon_audit_open(path, &e);
    pylon_audit_entry en = { .event = "invoke", .caller = "guest", .method = "m", .outcome = "error",
                             .code = 9, .message = "after reopening" };
    pylon_audit_append(a, &en, &e);
    pylon_audit_close(a);
    size_t entries;
    char head[65];
    check(pylon_audit_verify(path, &entries, head, &e) == 0 && entries == 6,
          "audit: six entries across two opens chain correctly", "%s", e.message);

    size_t n;
    char *orig = readfile(path, &n);
    char *lines[8];
    int nl = 0;
    char *copy = strdup(orig);
    for (char *s = strtok(copy, "\n"); s && nl < 8; s = strtok(NULL, "\n")) lines[nl++] = s;
    check(strstr(lines[5], head) != NULL, "audit: verify reports the last hash as head", "");

#define REWRITE(...) do { char buf[8192] = ""; const char *ls[] = { __VA_ARGS__ }; \
        for (size_t k = 0; k < sizeof ls / sizeof ls[0]; k++) { strcat(buf, ls[k]); strcat(buf, "\n"); } \
        writefile(path, buf, strlen(buf)); } while (0)

    /* Edit a message in the middle. */
    char *edited = strdup(lines[2]);
    char *p = strstr(edited, "entry");
    p[0] = 'E';
    REWRITE(lines[0], lines[1], edited, lines[3], lines[4], lines[5]);
    int r = pylon_audit_verify(path, NULL, NULL, &e);
    check(r && strstr(e.message, ":3:") && strstr(e.message, "altered"),
          "audit: an edited entry is caught at its line", "%s", r ? e.message : "passed");
    /* Delete a line. */
    REWRITE(lines[0], lines[1], lines[3], lines[4], lines[5]);
    r = pylon_audit_verify(path, NULL, NULL, &e);
    check(r && strstr(e.message, ":3:") && strstr(e.message, "prev"),
          "audit: a deleted entry is caught", "%s", r ? e.message : "passed");
    /* Swap two lines. */
    REWRITE(lines[0], lines[2], lines[1], lines[3], lines[4], lines[5]);
    r = pylon_audit_verify(path, NULL, NULL, &e);
    check(r != 0, "audit: reordered entries are caught", "passed");
    /* Rewrite an entry *and* its hash: the next line's prev gives it away. */
    {
        char body[4096];
        char *h = strstr(edited, ",\"hash\":\"");
        size_t bl = (size_t)(h - edited);
        memcpy(body, edited, bl);
        body[bl] = 0;
        pylon_digest hd;
        pylon_digest_of(body, bl, &hd);
        char hx[65], fixed[4400];
        snprintf(fixed, sizeof fixed, "%s,\"hash\":\"%s\"}", body, pylon_digest_hex(&hd, hx));
        REWRITE(lines[0], lines[1], fixed, lines[3], lines[4], lines[5]);
        r = pylon_audit_verify(path, NULL, NULL, &e);
        check(r && strstr(e.message, ":4:"), "audit: an entry rewritten with a recomputed hash breaks the chain after it",
              "%s", r ? e.message : "passed");
    }
    /* A cut-off last line. */
    writefile(path, orig, n - 20);
    r = pylon_audit_verify(path, NULL, NULL, &e);
    check(r && strstr(e.message, "incomplete"), "audit: a truncated last line is caught", "%s",
          r ? e.message : "passed");
    a = pylon_audit_open(path, &e);
    r = pylon_audit_append(a, &en, &e);
    check(r != 0, "audit: no append after a damaged tail (the chain would hide it)", "appended");
    pylon_audit_close(a);
    writefile(path, orig, n);
    check(pylon_audit_verify(path, &entries, NULL, &e) == 0, "audit: the original verifies again", "%s", e.message);
    free(edited);
    free(copy);
    free(orig);
}

int main(int argc, char **argv) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pylon-unit.XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
    struct { const char *name; void (*fn)(void); } sections[] = {
        { "plan", test_plans }, { "blob", test_blobs }, { "trust", test_trust }, { "audit", test_audit },
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        bool run = argc < 2;
        for (int k = 1; k < argc; k++) run |= strstr(sections[i].name, argv[k]) != NULL;
        if (run) sections[i].fn();
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+w %s && rm -rf %s", tmpdir, tmpdir);
    if (!getenv("UNIT_KEEP")) system(cmd);
    printf("RESULT %d %d\n", passed, failed);
    return failed ? 1 : 0;
}
