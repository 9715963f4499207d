/*
 * hostutil.c — the small things every part of the host layer needs: the
 * compose:dynlink error-code names, digest text forms, the Pylon home
 * directory and its default layout, atomic file writes, UTF-8 checks and a
 * growable buffer for building JSON.
 *
 * Atomic writes matter because everything the host keeps on disk (plans,
 * the allow-list, keys, blobs) is read by other processes at any moment; a
 * reader must see the old file or the new one, never a torn one.
 */
#define _GNU_SOURCE
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

static const char *const code_names[PYLON_HOST_NUM_CODES] = {
    "plan-invalid-schema", "plan-invalid-cbor", "plan-missing-field", "plan-invalid-graph",
    "plan-cycle-detected", "emit-missing-blob", "emit-invalid-digest",
    "emit-composition-failed", "emit-link-error", "exec-trap", "exec-timeout",
    "exec-resource-exhausted", "exec-capability-denied", "exec-missing-export",
    "blob-not-found", "blob-digest-mismatch", "blob-io-error", "trust-verification-failed",
    "trust-signature-invalid", "trust-certificate-expired", "trust-untrusted-source",
    "secret-not-found", "secret-access-denied", "secret-backend-error", "invalid-input",
    "internal-error", "not-implemented",
};

const char *pylon_host_code_name(int code) {
    return code >= 0 && code < PYLON_HOST_NUM_CODES ? code_names[code] : "?";
}

int pylon_host_code_from_name(const char *name) {
    for (int i = 0; i < PYLON_HOST_NUM_CODES; i++)
        if (!strcmp(name, code_names[i])) return i;
    return -1;
}

int pl_herr(pylon_host_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- digests ------------------------------------------------------------------ */

void pylon_digest_of(const void *bytes, size_t len, pylon_digest *out) {
    crypto_hash_sha256(out->b, bytes, len);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int pl_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outlen) {
    if (hexlen != 2 * outlen) return -1;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void pl_hex_encode(const uint8_t *in, size_t len, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = 0;
}

int pylon_digest_parse(const char *text, pylon_digest *out) {
    if (!text || strncmp(text, "sha256:", 7) != 0) return -1;
    return pl_hex_decode(text + 7, strlen(text + 7), out->b, 32);
}

char *pylon_digest_hex(const pylon_digest *d, char buf[65]) {
    pl_hex_encode(d->b, 32, buf);
    return buf;
}

char *pylon_digest_format(const pylon_digest *d, char buf[PYLON_DIGEST_STRLEN + 1]) {
    memcpy(buf, "sha256:", 7);
    pl_hex_encode(d->b, 32, buf + 7);
    return buf;
}

char *pylon_digest_short(const pylon_digest *d, char buf[32]) {
    char hex[65];
    pl_hex_encode(d->b, 32, hex);
    snprintf(buf, 32, "sha256:%.12s…", hex);
    return buf;
}

/* ---- paths ---------------------------------------------------------------------- */

char *pylon_host_path(const pylon_host_paths *p, const char *which, char *buf, size_t cap) {
    static const pylon_host_paths none;
    if (!p) p = &none;
    const char *given = !strcmp(which, "home") ? p->home
                      : !strcmp(which, "store") ? p->store
                      : !strcmp(which, "trust") ? p->trust
                      : !strcmp(which, "keys") ? p->keys
                      : !strcmp(which, "audit") ? p->audit : NULL;
    if (given && *given) {
        snprintf(buf, cap, "%s", given);
        return buf;
    }
    char home[PATH_MAX];
    if (p->home && *p->home) snprintf(home, sizeof home, "%s", p->home);
    else if (getenv("PYLON_HOME") && *getenv("PYLON_HOME"))
        snprintf(home, sizeof home, "%s", getenv("PYLON_HOME"));
    else if (getenv("HOME") && *getenv("HOME")) snprintf(home, sizeof home, "%s/.pylon", getenv("HOME"));
    else return NULL;
    if (!strcmp(which, "home")) snprintf(buf, cap, "%s", home);
    else if (!strcmp(which, "store")) snprintf(buf, cap, "%s/blobs", home);
    else if (!strcmp(which, "trust")) snprintf(buf, cap, "%s/trust", home);
    else if (!strcmp(which, "keys")) snprintf(buf, cap, "%s/keys", home);
    else if (!strcmp(which, "audit")) snprintf(buf, cap, "%s/audit.log", home);
    else return NULL;
    return buf;
}

/* ---- files ------------------------------------------------------------------------ */

uint8_t *pl_read_all(const char *path, size_t max, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0) { int e = errno; close(fd); errno = e; return NULL; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL; return NULL; }
    if ((uint64_t)st.st_size > max) { close(fd); errno = EFBIG; return NULL; }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) { close(fd); errno = ENOMEM; return NULL; }
    for (;;) {
        if (n + 1 >= cap) {
            /* The file grew after fstat; keep reading up to max. */
            if (cap > max) { free(buf); close(fd); errno = EFBIG; return NULL; }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) { free(buf); close(fd); errno = ENOMEM; return NULL; }
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno; free(buf); close(fd); errno = e; return NULL;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *len = n;
    return buf;
}

int pl_mkdirs(const char *path, unsigned mode) {
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -1;
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0) return -1;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return -1; }
    return 0;
}

int pl_write_atomic(const char *path, const void *data, size_t len, unsigned mode) {
    char tmp[PATH_MAX], dir[PATH_MAX];
    uint32_t r = randombytes_random();
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%d-%08x", path, (int)getpid(), r) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return -1;
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) < 0) goto fail;
    if (close(fd) < 0) { fd = -1; goto fail; }
    fd = -1;
    if (rename(tmp, path) < 0) goto fail;
    /* Make the rename itself durable. */
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        if (slash == dir) slash[1] = 0; else *slash = 0;
    } else {
        strcpy(dir, ".");
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return 0;
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    errno = e;
    return -1;
}

/* ---- UTF-8 -------------------------------------------------------------------------- */

bool pl_utf8_valid(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t n;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) { n = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { n = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { n = 4; cp = c & 0x07; }
        else return false;
        if (i + n > len) return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        i += n;
    }
    return true;
}


void pl_buf_json_str(pl_buf *b, const char *s, size_t n) {
    pl_buf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) { run++; continue; }
        pl_buf_put(b, s + i - run, run);
        run = 0;
        char esc[8];
        switch (c) {
        case '"': pl_buf_put(b, "\\\"", 2); break;
        case '\\': pl_buf_put(b, "\\\\", 2); break;
        case '\n': pl_buf_put(b, "\\n", 2); break;
        case '\t': pl_buf_put(b, "\\t", 2); break;
        case '\r': pl_buf_put(b, "\\r", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            pl_buf_put(b, esc, 6);
        }
    }
    pl_buf_put(b, s + n - run, run);
    pl_buf_put(b, "\"", 1);
}
