/*
 * audit.c — the append-only, hash-chained audit log.
 *
 * Every resolve (granted or not), every denial and every failed invoke is
 * one JSON line.  Each line carries the hash of the line before it
 * ("prev") and its own hash ("hash", SHA-256 of the line's bytes up to
 * ',"hash"'), so editing, inserting or deleting a line in the middle breaks
 * the chain at that point and `pylon trust audit verify` names the line.
 * (Rewriting the whole tail, hashes included, is only caught by comparing
 * with a head hash kept elsewhere: verify prints it for that purpose.)
 *
 * Several processes may append to one log: each append takes an exclusive
 * flock, re-reads the last line if someone else wrote since, and writes
 * its line with one write(2).  Lines are not fsync'd one by one: the log
 * records what happened for people, it is not a transaction journal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "host/host_impl.h"
#include "util/json.h"

#define HASH_TAIL_LEN (9 + 64 + 2)    /* ,"hash":"<64>"} */
#define MAX_LINE (64u << 10)

struct pylon_audit {
    char path[PATH_MAX];
    int fd;
    /* What we know of the file's end, valid while its size is `known_size`. */
    off_t known_size;
    uint64_t last_seq;
    char last_hash[65];
};

static const char zero_hash[65] =
    "0000000000000000000000000000000000000000000000000000000000000000";

pylon_audit *pylon_audit_open(const char *path, pylon_host_error *err) {
    pylon_audit *a = calloc(1, sizeof *a);
    if (!a) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    snprintf(a->path, sizeof a->path, "%s", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) { *slash = 0; pl_mkdirs(dir, 0755); }
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot open audit log %s: %s; pass --audit FILE "
                "or set PYLON_HOME to a writable directory", path, strerror(errno));
        free(a);
        return NULL;
    }
    a->known_size = -1;
    return a;
}

void pylon_audit_close(pylon_audit *a) {
    if (!a) return;
    close(a->fd);
    free(a);
}

/* Reads the last line of the file (size bytes long) to learn its seq and
 * hash.  An empty file starts the chain. */
static int read_tail(pylon_audit *a, off_t size, pylon_host_error *err) {
    if (size == 0) {
        a->last_seq = 0;
        memcpy(a->last_hash, zero_hash, 65);
        return 0;
    }
    size_t want = size > (off_t)MAX_LINE ? MAX_LINE : (size_t)size;
    char *buf = malloc(want + 1);
    if (!buf) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    ssize_t r = pread(a->fd, buf, want, size - (off_t)want);
    if (r != (ssize_t)want) {
        free(buf);
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read audit log %s", a->path);
    }
    buf[want] = 0;
    size_t end = want;
    if (buf[end - 1] != '\n') {
        free(buf);
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "audit log %s ends in a partial line; "
                       "run 'pylon trust audit verify' and move the damaged log aside", a->path);
    }
    buf[--end] = 0;
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    pl_json_error jerr;
    memset(&jerr, 0, sizeof jerr);
    pl_json *v = pl_json_parse(line, strlen(line), &jerr);
    const char *h = v ? pl_json_string(pl_json_get(v, "hash")) : NULL;
    uint64_t seq;
    if (!v || !h || strlen(h) != 64 || !pl_json_uint64(pl_json_get(v, "seq"), &seq)) {
        pl_json_free(v);
        free(buf);
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "the last line of audit log %s is not an "
                       "audit entry; run 'pylon trust audit verify' and move the damaged log "
                       "aside", a->path);
    }
    a->last_seq = seq;
    memcpy(a->last_hash, h, 65);
    pl_json_free(v);
    free(buf);
    return 0;
}

static void put_field(pl_buf *b, const char *key, const char *val) {
    if (!val) return;
    pl_buf_printf(b, ",\"%s\":", key);
    size_t n = strlen(val);
    if (n > 4000) n = 4000;             /* a runaway message must not bloat the log */
    while (n && !pl_utf8_valid((const uint8_t *)val, n)) n--;
    pl_buf_json_str(b, val, n);
}

int pylon_audit_append(pylon_audit *a, const pylon_audit_entry *e, pylon_host_error *err) {
    if (flock(a->fd, LOCK_EX) < 0)
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot lock audit log %s: %s", a->path,
                       strerror(errno));
    int rc = -1;
    struct stat st;
    if (fstat(a->fd, &st) < 0) {
        pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot stat audit log %s: %s", a->path, strerror(errno));
        goto out;
    }
    if (st.st_size != a->known_size && read_tail(a, st.st_size, err)) goto out;

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    pl_buf b = { 0 };
    pl_buf_printf(&b, "{\"seq\":%" PRIu64 ",\"time\":\"%s\",\"pid\":%d", a->last_seq + 1, when,
                  (int)getpid());
    put_field(&b, "event", e->event);
    put_field(&b, "caller", e->caller);
    put_field(&b, "cap", e->cap);
    if (e->digest) {
        char dg[PYLON_DIGEST_STRLEN + 1];
        put_field(&b, "digest", pylon_digest_format(e->digest, dg));
    }
    put_field(&b, "method", e->method);
    put_field(&b, "outcome", e->outcome);
    if (e->code >= 0) put_field(&b, "code", pylon_host_code_name(e->code));
    put_field(&b, "message", e->message);
    pl_buf_printf(&b, ",\"prev\":\"%s\"", a->last_hash);
    uint8_t h[32];
    char hex[65];
    if (!b.oom) crypto_hash_sha256(h, (const unsigned char *)b.s, b.len);
    pl_hex_encode(h, 32, hex);
    pl_buf_printf(&b, ",\"hash\":\"%s\"}\n", hex);
    if (b.oom) { free(b.s); pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); goto out; }
    ssize_t w = write(a->fd, b.s, b.len);
    if (w != (ssize_t)b.len) {
        free(b.s);
        pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot append to audit log %s: %s", a->path,
                w < 0 ? strerror(errno) : "short write");
        a->known_size = -1;
        goto out;
    }
    free(b.s);
    a->last_seq++;
    memcpy(a->last_hash, hex, 65);
    a->known_size = st.st_size + w;
    rc = 0;
out:
    flock(a->fd, LOCK_UN);
    return rc;
}

int pylon_audit_verify(const char *path, size_t *entries, char head[65], pylon_host_error *err) {
    size_t len;
    char *text = (char *)pl_read_all(path, (size_t)1 << 34, &len);
    if (!text)
        return pl_herr(err, errno == ENOENT ? PYLON_HOST_BLOB_NOT_FOUND : PYLON_HOST_BLOB_IO_ERROR,
                       "cannot read audit log %s: %s", path, strerror(errno));
    char prev[65];
    memcpy(prev, zero_hash, 65);
    uint64_t seq = 0;
    size_t n = 0, lineno = 0;
    char *p = text, *end = text + len;
    int rc = 0;
    while (p < end) {
        lineno++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: the last line is incomplete (no newline): the log was cut or "
                         "a write was interrupted", path, lineno);
            break;
        }
        size_t ll = (size_t)(nl - p);
        *nl = 0;
        const char *tail = ll >= HASH_TAIL_LEN ? p + ll - HASH_TAIL_LEN : NULL;
        if (!tail || strncmp(tail, ",\"hash\":\"", 9) || tail[HASH_TAIL_LEN - 2] != '"' ||
            tail[HASH_TAIL_LEN - 1] != '}') {
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: the line does not end with its \"hash\" field: it was edited "
                         "or is not an audit entry", path, lineno);
            break;
        }
        uint8_t h[32];
        char hex[65];
        crypto_hash_sha256(h, (const unsigned char *)p, (size_t)(tail - p));
        pl_hex_encode(h, 32, hex);
        if (memcmp(hex, tail + 9, 64)) {
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: the line's content does not match its hash: the entry was "
                         "altered after it was written", path, lineno);
            break;
        }
        pl_json_error jerr;
        memset(&jerr, 0, sizeof jerr);
        pl_json *v = pl_json_parse(p, ll, &jerr);
        const char *pv = v ? pl_json_string(pl_json_get(v, "prev")) : NULL;
        uint64_t s;
        if (!v || !pv || !pl_json_uint64(pl_json_get(v, "seq"), &s)) {
            pl_json_free(v);
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: not a well-formed audit entry", path, lineno);
            break;
        }
        bool chain_ok = strlen(pv) == 64 && !memcmp(pv, prev, 64);
        pl_json_free(v);
        if (!chain_ok) {
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: \"prev\" does not match the hash of line %zu: a line was "
                         "removed, inserted or reordered before this one", path, lineno,
                         lineno - 1);
            break;
        }
        if (s != seq + 1) {
            rc = pl_herr(err, PYLON_HOST_TRUST_VERIFICATION_FAILED,
                         "%s:%zu: seq %" PRIu64 " follows %" PRIu64 ": entries are missing or "
                         "were renumbered", path, lineno, s, seq);
            break;
        }
        seq = s;
        memcpy(prev, hex, 65);
        n++;
        p = nl + 1;
    }
    free(text);
    if (rc) return rc;
    if (entries) *entries = n;
    if (head) memcpy(head, prev, 65);
    return 0;
}
