/*
 * trust.c — which blob digests may be instantiated.
 *
 * A digest is trusted when it is on the allow-list, or when a key in the
 * trust store signed it (Ed25519, libsodium) — and it, or the key, is not
 * revoked.  Revocation wins over everything: a revoked digest stays refused
 * even if it is also allowed or signed, and a revoked key's public key is
 * kept on the revoked list so that adding it again under another name
 * does not bring it back.
 *
 * The store is a directory of small text files, so an operator can read
 * and diff it, and the bridge re-reads it before every resolve (a
 * revocation takes effect without restarting anything):
 *   allow                 one "sha256:<hex>" per line
 *   revoked               "sha256:<hex>" or "key <pubhex> <name>" per line
 *   keys/<name>.pub       "ed25519 <64 hex>"
 *   sigs/<hex>/<name>.sig "<128 hex>": key <name>'s signature of the digest
 * Secret keys live elsewhere (home/keys/<name>.key, mode 0600): the trust
 * store says whom to believe, it never holds what signs.
 *
 * What is signed is the text "pylon-blob-signature-v1 sha256:<hex>", not the
 * raw 32 bytes, so that a signature made for Pylon blobs cannot be replayed
 * as a signature over some other 32-byte message, and vice versa.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "host/host_impl.h"

typedef struct tkey {
    char name[65];
    uint8_t pk[32];
    bool revoked;
} tkey;

struct pylon_trust {
    char dir[PATH_MAX];
    pylon_digest *allow;
    size_t nallow;
    pylon_digest *rev;
    size_t nrev;
    uint8_t (*revkeys)[32];
    size_t nrevkeys;
    tkey *keys;
    size_t nkeys;
};

size_t pylon_trust_message(const pylon_digest *d, char *buf, size_t cap) {
    char dg[PYLON_DIGEST_STRLEN + 1];
    int n = snprintf(buf, cap, "pylon-blob-signature-v1 %s", pylon_digest_format(d, dg));
    return n < 0 ? 0 : (size_t)n;
}

bool pylon_trust_valid_key_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void clear(pylon_trust *t) {
    free(t->allow); t->allow = NULL; t->nallow = 0;
    free(t->rev); t->rev = NULL; t->nrev = 0;
    free(t->revkeys); t->revkeys = NULL; t->nrevkeys = 0;
    free(t->keys); t->keys = NULL; t->nkeys = 0;
}

void pylon_trust_free(pylon_trust *t) {
    if (!t) return;
    clear(t);
    free(t);
}

static bool grow(void **arr, size_t n, size_t elem) {
    /* Capacity is 4, then doubles: a new block is needed at 0, 4, 8, 16... */
    if (n != 0 && (n < 4 || (n & (n - 1)))) return true;
    void *bigger = realloc(*arr, (n ? n * 2 : 4) * elem);
    if (!bigger) return false;
    *arr = bigger;
    return true;
}

/* Splits a text file into lines, trimming; calls fn for each non-blank,
 * non-comment line with its number. */
typedef int (*line_fn)(pylon_trust *t, const char *file, unsigned lineno, char *line,
                       pylon_host_error *err);
static int each_line(pylon_trust *t, const char *path, line_fn fn, pylon_host_error *err) {
    size_t len;
    char *text = (char *)pl_read_all(path, 64u << 20, &len);
    if (!text) {
        if (errno == ENOENT) return 0;
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read %s: %s", path, strerror(errno));
    }
    unsigned lineno = 0;
    char *save = NULL;
    int rc = 0;
    for (char *line = text; line && !rc; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl) *nl = 0;
        lineno++;
        while (*line == ' ' || *line == '\t') line++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n || line[0] == '#') continue;
        rc = fn(t, path, lineno, line, err);
    }
    free(text);
    return rc;
}

static int allow_line(pylon_trust *t, const char *file, unsigned lineno, char *line,
                      pylon_host_error *err) {
    pylon_digest d;
    if (pylon_digest_parse(line, &d))
        return pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                       "%s:%u: \"%s\" is not a digest (sha256:<64 hex>); fix or delete the line",
                       file, lineno, line);
    if (!grow((void **)&t->allow, t->nallow, sizeof *t->allow))
        return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    t->allow[t->nallow++] = d;
    return 0;
}

static int revoked_line(pylon_trust *t, const char *file, unsigned lineno, char *line,
                        pylon_host_error *err) {
    if (!strncmp(line, "key ", 4)) {
        char *hex = line + 4;
        while (*hex == ' ') hex++;
        size_t hl = strcspn(hex, " \t");
        uint8_t pk[32];
        if (pl_hex_decode(hex, hl, pk, 32))
            return pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                           "%s:%u: expected \"key <64 hex> [name]\"; fix or delete the line",
                           file, lineno);
        if (!grow((void **)&t->revkeys, t->nrevkeys, sizeof *t->revkeys))
            return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
        memcpy(t->revkeys[t->nrevkeys++], pk, 32);
        return 0;
    }
    pylon_digest d;
    if (pylon_digest_parse(line, &d))
        return pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                       "%s:%u: expected \"sha256:<hex>\" or \"key <hex> <name>\"; fix or delete "
                       "the line", file, lineno);
    if (!grow((void **)&t->rev, t->nrev, sizeof *t->rev))
        return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    t->rev[t->nrev++] = d;
    return 0;
}

static bool key_revoked(const pylon_trust *t, const uint8_t pk[32]) {
    for (size_t i = 0; i < t->nrevkeys; i++)
        if (!memcmp(t->revkeys[i], pk, 32)) return true;
    return false;
}

static int read_pub(const char *path, uint8_t pk[32], pylon_host_error *err) {
    size_t len;
    char *text = (char *)pl_read_all(path, 4096, &len);
    if (!text) return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read %s: %s", path, strerror(errno));
    char *p = text;
    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' ')) p[--len] = 0;
    int r = strncmp(p, "ed25519 ", 8) == 0 ? pl_hex_decode(p + 8, strlen(p + 8), pk, 32) : -1;
    free(text);
    if (r)
        return pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                       "%s is not a public key file (\"ed25519 <64 hex>\"); re-add the key with "
                       "'pylon trust add-key NAME HEX'", path);
    return 0;
}

static int cmp_key(const void *a, const void *b) {
    return strcmp(((const tkey *)a)->name, ((const tkey *)b)->name);
}

int pylon_trust_reload(pylon_trust *t, pylon_host_error *err) {
    clear(t);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/allow", t->dir);
    if (each_line(t, path, allow_line, err)) return -1;
    snprintf(path, sizeof path, "%s/revoked", t->dir);
    if (each_line(t, path, revoked_line, err)) return -1;
    snprintf(path, sizeof path, "%s/keys", t->dir);
    DIR *dp = opendir(path);
    if (!dp) {
        if (errno == ENOENT) return 0;
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot list %s: %s", path, strerror(errno));
    }
    struct dirent *de;
    int rc = 0;
    while (!rc && (de = readdir(dp))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".pub")) continue;
        tkey k;
        memset(&k, 0, sizeof k);
        if (n - 4 >= sizeof k.name) continue;
        memcpy(k.name, de->d_name, n - 4);
        if (!pylon_trust_valid_key_name(k.name)) continue;
        char kp[PATH_MAX + 400];
        snprintf(kp, sizeof kp, "%s/%s", path, de->d_name);
        if (read_pub(kp, k.pk, err)) { rc = -1; break; }
        k.revoked = key_revoked(t, k.pk);
        if (!grow((void **)&t->keys, t->nkeys, sizeof *t->keys)) {
            rc = pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
            break;
        }
        t->keys[t->nkeys++] = k;
    }
    closedir(dp);
    if (t->nkeys) qsort(t->keys, t->nkeys, sizeof *t->keys, cmp_key);
    return rc;
}

pylon_trust *pylon_trust_open(const char *dir, pylon_host_error *err) {
    if (sodium_init() < 0) {
        pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "libsodium failed to initialise");
        return NULL;
    }
    pylon_trust *t = calloc(1, sizeof *t);
    if (!t) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/keys", dir);
    bool ok = pl_mkdirs(sub, 0755) == 0;
    snprintf(sub, sizeof sub, "%s/sigs", dir);
    ok = ok && pl_mkdirs(sub, 0755) == 0;
    if (!ok) {
        pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot create the trust store at %s: %s; pass "
                "--trust DIR or set PYLON_HOME to a writable directory", dir, strerror(errno));
        free(t);
        return NULL;
    }
    if (pylon_trust_reload(t, err)) { pylon_trust_free(t); return NULL; }
    return t;
}

static bool digest_in(const pylon_digest *arr, size_t n, const pylon_digest *d) {
    for (size_t i = 0; i < n; i++)
        if (!memcmp(arr[i].b, d->b, 32)) return true;
    return false;
}

static const tkey *find_key(const pylon_trust *t, const char *name) {
    for (size_t i = 0; i < t->nkeys; i++)
        if (!strcmp(t->keys[i].name, name)) return &t->keys[i];
    return NULL;
}

static int read_sig(const char *path, uint8_t sig[64]) {
    size_t len;
    char *text = (char *)pl_read_all(path, 4096, &len);
    if (!text) return -1;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) text[--len] = 0;
    int r = pl_hex_decode(text, len, sig, 64);
    free(text);
    return r;
}

int pylon_trust_check(const pylon_trust *t, const pylon_digest *d, char *how, size_t howcap,
                      pylon_host_error *err) {
    char dg[PYLON_DIGEST_STRLEN + 1], hex[65];
    pylon_digest_format(d, dg);
    pylon_digest_hex(d, hex);
    if (digest_in(t->rev, t->nrev, d))
        return pl_herr(err, PYLON_HOST_TRUST_UNTRUSTED_SOURCE,
                       "digest %s was revoked in trust store %s; a revoked blob stays refused: "
                       "point the plan at another build ('pylon plan set PLAN ID --digest ...')",
                       dg, t->dir);
    if (digest_in(t->allow, t->nallow, d)) {
        if (how) snprintf(how, howcap, "the allow-list");
        return 0;
    }
    /* Signatures: sigs/<hex>/<key>.sig */
    char sdir[PATH_MAX + 80];
    snprintf(sdir, sizeof sdir, "%s/sigs/%s", t->dir, hex);
    char bad_key[65] = "", notes[300] = "";
    DIR *dp = opendir(sdir);
    if (dp) {
        char msg[128];
        size_t mlen = pylon_trust_message(d, msg, sizeof msg);
        struct dirent *de;
        while ((de = readdir(dp))) {
            size_t n = strlen(de->d_name);
            if (n < 5 || strcmp(de->d_name + n - 4, ".sig") || n - 4 > 64) continue;
            char name[65];
            memcpy(name, de->d_name, n - 4);
            name[n - 4] = 0;
            const tkey *k = find_key(t, name);
            size_t nl = strlen(notes);
            if (!k) {
                snprintf(notes + nl, sizeof notes - nl, "; a signature by '%s' is ignored: no "
                         "such key in the trust store", name);
                continue;
            }
            if (k->revoked) {
                snprintf(notes + nl, sizeof notes - nl, "; a signature by '%s' is ignored: the "
                         "key was revoked", name);
                continue;
            }
            char sp[PATH_MAX + 400];
            snprintf(sp, sizeof sp, "%s/%s", sdir, de->d_name);
            uint8_t sig[64];
            if (read_sig(sp, sig) == 0 &&
                crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen, k->pk) == 0) {
                closedir(dp);
                if (how) snprintf(how, howcap, "the signature of key '%s'", name);
                return 0;
            }
            snprintf(bad_key, sizeof bad_key, "%s", name);
        }
        closedir(dp);
    }
    if (bad_key[0])
        return pl_herr(err, PYLON_HOST_TRUST_SIGNATURE_INVALID,
                       "the signature by key '%s' on %s does not verify (%s/%s.sig): the "
                       "signature was altered or made for other bytes; re-sign with 'pylon trust "
                       "sign --key %s %s' or remove the file%s",
                       bad_key, dg, sdir, bad_key, bad_key, dg, notes);
    return pl_herr(err, PYLON_HOST_TRUST_UNTRUSTED_SOURCE,
                   "digest %s not in trust store %s; run 'pylon trust allow %s' or sign it "
                   "('pylon trust sign --key NAME %s')%s", dg, t->dir, dg, dg, notes);
}

/* ---- changes ------------------------------------------------------------------------------ */

static int write_digest_list(const pylon_trust *t, const char *file, const pylon_digest *arr,
                             size_t n, const uint8_t (*keys)[32], size_t nkeys,
                             pylon_host_error *err) {
    pl_buf b = { 0 };
    char dg[PYLON_DIGEST_STRLEN + 1], hex[65];
    pl_buf_puts(&b, !strcmp(file, "allow")
                    ? "# Digests Pylon may instantiate (pylon trust allow / revoke).\n"
                    : "# Revoked digests and keys: refused even if allowed or signed.\n");
    for (size_t i = 0; i < n; i++) pl_buf_printf(&b, "%s\n", pylon_digest_format(&arr[i], dg));
    for (size_t i = 0; i < nkeys; i++) {
        pl_hex_encode(keys[i], 32, hex);
        const char *name = "";
        for (size_t k = 0; k < t->nkeys; k++)
            if (!memcmp(t->keys[k].pk, keys[i], 32)) name = t->keys[k].name;
        pl_buf_printf(&b, "key %s %s\n", hex, name);
    }
    if (b.oom) { free(b.s); return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/%s", t->dir, file);
    int r = pl_write_atomic(path, b.s, b.len, 0644);
    int e = errno;
    free(b.s);
    if (r) return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot write %s: %s", path, strerror(e));
    return 0;
}

int pylon_trust_allow(pylon_trust *t, const pylon_digest *d, pylon_host_error *err) {
    char dg[PYLON_DIGEST_STRLEN + 1];
    if (pylon_trust_reload(t, err)) return -1;
    if (digest_in(t->rev, t->nrev, d))
        return pl_herr(err, PYLON_HOST_TRUST_UNTRUSTED_SOURCE,
                       "%s was revoked; a revoked digest cannot be allowed again (edit %s/revoked "
                       "by hand if the revocation was a mistake)", pylon_digest_format(d, dg), t->dir);
    if (digest_in(t->allow, t->nallow, d)) return 0;
    if (!grow((void **)&t->allow, t->nallow, sizeof *t->allow))
        return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    t->allow[t->nallow++] = *d;
    return write_digest_list(t, "allow", t->allow, t->nallow, NULL, 0, err);
}

int pylon_trust_revoke_digest(pylon_trust *t, const pylon_digest *d, pylon_host_error *err) {
    if (pylon_trust_reload(t, err)) return -1;
    size_t w = 0;
    for (size_t i = 0; i < t->nallow; i++)
        if (memcmp(t->allow[i].b, d->b, 32)) t->allow[w++] = t->allow[i];
    if (w != t->nallow) {
        t->nallow = w;
        if (write_digest_list(t, "allow", t->allow, t->nallow, NULL, 0, err)) return -1;
    }
    if (digest_in(t->rev, t->nrev, d)) return 0;
    if (!grow((void **)&t->rev, t->nrev, sizeof *t->rev))
        return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    t->rev[t->nrev++] = *d;
    return write_digest_list(t, "revoked", t->rev, t->nrev, (const uint8_t (*)[32])t->revkeys,
                             t->nrevkeys, err);
}

int pylon_trust_revoke_key(pylon_trust *t, const char *name, pylon_host_error *err) {
    if (pylon_trust_reload(t, err)) return -1;
    const tkey *k = find_key(t, name);
    if (!k)
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "no key named '%s' in trust store %s; "
                       "'pylon trust list' shows the keys", name, t->dir);
    if (k->revoked) return 0;
    if (!grow((void **)&t->revkeys, t->nrevkeys, sizeof *t->revkeys))
        return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    memcpy(t->revkeys[t->nrevkeys++], k->pk, 32);
    if (write_digest_list(t, "revoked", t->rev, t->nrev, (const uint8_t (*)[32])t->revkeys,
                          t->nrevkeys, err))
        return -1;
    return pylon_trust_reload(t, err);
}

int pylon_trust_add_key(pylon_trust *t, const char *name, const uint8_t pk[32],
                        pylon_host_error *err) {
    if (!pylon_trust_valid_key_name(name))
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "key name '%s' is not valid; use 1-64 of "
                       "A-Z a-z 0-9 . _ - (not starting with '.')", name);
    if (pylon_trust_reload(t, err)) return -1;
    if (key_revoked(t, pk))
        return pl_herr(err, PYLON_HOST_TRUST_UNTRUSTED_SOURCE, "that public key was revoked; "
                       "it cannot be trusted again under any name");
    const tkey *k = find_key(t, name);
    if (k) {
        if (!memcmp(k->pk, pk, 32)) return 0;
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "a different key is already trusted as "
                       "'%s'; pick another name, or revoke the old one first ('pylon trust "
                       "revoke %s')", name, name);
    }
    char path[PATH_MAX + 100], hex[65], text[80];
    pl_hex_encode(pk, 32, hex);
    int n = snprintf(text, sizeof text, "ed25519 %s\n", hex);
    snprintf(path, sizeof path, "%s/keys/%s.pub", t->dir, name);
    if (pl_write_atomic(path, text, (size_t)n, 0644))
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
    return pylon_trust_reload(t, err);
}

int pylon_trust_keygen(pylon_trust *t, const char *name, const char *secret_path,
                       uint8_t pk[32], pylon_host_error *err) {
    if (!pylon_trust_valid_key_name(name))
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "key name '%s' is not valid; use 1-64 of "
                       "A-Z a-z 0-9 . _ - (not starting with '.')", name);
    if (sodium_init() < 0) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "libsodium failed");
    if (t) {
        if (pylon_trust_reload(t, err)) return -1;
        if (find_key(t, name))
            return pl_herr(err, PYLON_HOST_INVALID_INPUT, "a key named '%s' is already in the "
                           "trust store; pick another name", name);
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", secret_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (pl_mkdirs(dir, 0700))
            return pl_herr(err, PYLON_HOST_SECRET_BACKEND_ERROR, "cannot create %s: %s", dir,
                           strerror(errno));
    }
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char hex[2 * crypto_sign_SECRETKEYBYTES + 1], text[200];
    pl_hex_encode(sk, sizeof sk, hex);
    int n = snprintf(text, sizeof text, "ed25519-secret %s\n", hex);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(hex, sizeof hex);
    int fd = open(secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        sodium_memzero(text, sizeof text);
        return pl_herr(err, PYLON_HOST_SECRET_BACKEND_ERROR, "cannot create secret key %s: %s%s",
                       secret_path, strerror(e),
                       e == EEXIST ? "; a key by that name exists already: pick another name "
                                     "or move the old file away" : "");
    }
    bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    sodium_memzero(text, sizeof text);
    if (close(fd) < 0 || !ok) {
        unlink(secret_path);
        return pl_herr(err, PYLON_HOST_SECRET_BACKEND_ERROR, "cannot write %s", secret_path);
    }
    if (t && pylon_trust_add_key(t, name, pk, err)) return -1;
    return 0;
}

int pylon_trust_sign(const char *secret_path, const pylon_digest *d, uint8_t sig[64],
                     uint8_t pk[32], pylon_host_error *err) {
    if (sodium_init() < 0) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "libsodium failed");
    struct stat st;
    if (stat(secret_path, &st) < 0)
        return pl_herr(err, PYLON_HOST_SECRET_NOT_FOUND, "secret key %s: %s; make one with "
                       "'pylon trust keygen NAME'", secret_path, strerror(errno));
    if (st.st_mode & 077)
        return pl_herr(err, PYLON_HOST_SECRET_ACCESS_DENIED, "secret key %s is readable by "
                       "others (mode %03o); run 'chmod 600 %s' first", secret_path,
                       (unsigned)(st.st_mode & 0777), secret_path);
    size_t len;
    char *text = (char *)pl_read_all(secret_path, 4096, &len);
    if (!text)
        return pl_herr(err, PYLON_HOST_SECRET_BACKEND_ERROR, "cannot read %s: %s", secret_path,
                       strerror(errno));
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r')) text[--len] = 0;
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    int r = strncmp(text, "ed25519-secret ", 15) == 0
        ? pl_hex_decode(text + 15, strlen(text + 15), sk, sizeof sk) : -1;
    sodium_memzero(text, len);
    free(text);
    if (r)
        return pl_herr(err, PYLON_HOST_SECRET_BACKEND_ERROR, "%s is not a Pylon secret key "
                       "file (\"ed25519-secret <128 hex>\")", secret_path);
    char msg[128];
    size_t mlen = pylon_trust_message(d, msg, sizeof msg);
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg, mlen, sk);
    if (pk) crypto_sign_ed25519_sk_to_pk(pk, sk);
    sodium_memzero(sk, sizeof sk);
    return 0;
}

int pylon_trust_add_signature(pylon_trust *t, const pylon_digest *d, const char *name,
                              const uint8_t sig[64], pylon_host_error *err) {
    char dg[PYLON_DIGEST_STRLEN + 1], hex[65];
    if (pylon_trust_reload(t, err)) return -1;
    const tkey *k = find_key(t, name);
    if (!k)
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "no key named '%s' in trust store %s; add "
                       "the publisher's public key first ('pylon trust add-key %s HEX')",
                       name, t->dir, name);
    char msg[128];
    size_t mlen = pylon_trust_message(d, msg, sizeof msg);
    if (crypto_sign_verify_detached(sig, (const unsigned char *)msg, mlen, k->pk) != 0)
        return pl_herr(err, PYLON_HOST_TRUST_SIGNATURE_INVALID, "that signature does not verify "
                       "with key '%s' for %s; check the digest and the key", name,
                       pylon_digest_format(d, dg));
    char dir[PATH_MAX + 80], path[PATH_MAX + 160], text[140];
    snprintf(dir, sizeof dir, "%s/sigs/%s", t->dir, pylon_digest_hex(d, hex));
    if (pl_mkdirs(dir, 0755))
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot create %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s.sig", dir, name);
    char sh[129];
    pl_hex_encode(sig, 64, sh);
    int n = snprintf(text, sizeof text, "%s\n", sh);
    if (pl_write_atomic(path, text, (size_t)n, 0644))
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

size_t pylon_trust_num_allowed(const pylon_trust *t) { return t->nallow; }
const pylon_digest *pylon_trust_allowed(const pylon_trust *t, size_t i) {
    return i < t->nallow ? &t->allow[i] : NULL;
}
size_t pylon_trust_num_keys(const pylon_trust *t) { return t->nkeys; }
const char *pylon_trust_key(const pylon_trust *t, size_t i, uint8_t pk[32], bool *revoked) {
    if (i >= t->nkeys) return NULL;
    if (pk) memcpy(pk, t->keys[i].pk, 32);
    if (revoked) *revoked = t->keys[i].revoked;
    return t->keys[i].name;
}
size_t pylon_trust_num_revoked_digests(const pylon_trust *t) { return t->nrev; }
const pylon_digest *pylon_trust_revoked_digest(const pylon_trust *t, size_t i) {
    return i < t->nrev ? &t->rev[i] : NULL;
}
