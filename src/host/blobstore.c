/*
 * blobstore.c — the content-addressed store providers are loaded from.
 *
 * A blob is stored under the SHA-256 of its bytes (root/sha256/<hex>), and
 * every load hashes the bytes again: the name is a claim, the hash is the
 * proof, so a file swapped or corrupted on disk is refused instead of being
 * instantiated.  Writes go to root/tmp, are fsync'd and renamed into place,
 * so a concurrent reader sees a whole blob or none.
 *
 * A blob missing locally is fetched from the configured upstream — another
 * store directory, or an HTTP server exposing the same layout — and checked
 * against the digest *before* it is written locally; an upstream can
 * therefore be untrusted: at worst it makes a resolve fail.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "host/host_impl.h"

struct pylon_blobstore {
    char root[PATH_MAX];
    char *upstream;          /* as given */
    bool upstream_http;
    char upstream_dir[PATH_MAX];
    long timeout_s;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;
static void global_init(void) {
    global_ok = sodium_init() >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

pylon_blobstore *pylon_blob_open(const char *root, pylon_host_error *err) {
    pthread_once(&global_once, global_init);
    if (!global_ok) {
        pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "libsodium or libcurl failed to initialise");
        return NULL;
    }
    pylon_blobstore *bs = calloc(1, sizeof *bs);
    if (!bs) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    snprintf(bs->root, sizeof bs->root, "%s", root);
    bs->timeout_s = 30;
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/sha256", root);
    if (pl_mkdirs(sub, 0755)) goto io;
    snprintf(sub, sizeof sub, "%s/tmp", root);
    if (pl_mkdirs(sub, 0755)) goto io;
    return bs;
io:
    pl_herr(err, PYLON_HOST_BLOB_IO_ERROR,
            "cannot create the blob store at %s: %s; pass --store DIR or set PYLON_HOME to a "
            "writable directory", root, strerror(errno));
    free(bs);
    return NULL;
}

void pylon_blob_close(pylon_blobstore *bs) {
    if (!bs) return;
    free(bs->upstream);
    free(bs);
}

const char *pylon_blob_root(const pylon_blobstore *bs) { return bs->root; }

void pylon_blob_set_timeout(pylon_blobstore *bs, long seconds) {
    bs->timeout_s = seconds > 0 ? seconds : 30;
}

int pylon_blob_set_upstream(pylon_blobstore *bs, const char *up, pylon_host_error *err) {
    free(bs->upstream);
    bs->upstream = NULL;
    bs->upstream_http = false;
    bs->upstream_dir[0] = 0;
    if (!up || !*up) return 0;
    if (!strncmp(up, "http://", 7) || !strncmp(up, "https://", 8)) {
        bs->upstream_http = true;
    } else {
        const char *dir = !strncmp(up, "file://", 7) ? up + 7 : up;
        if (strstr(up, "://") && strncmp(up, "file://", 7))
            return pl_herr(err, PYLON_HOST_INVALID_INPUT,
                           "upstream %s: only http://, https://, file:// URLs and directory "
                           "paths are supported", up);
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
            return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR,
                           "upstream directory %s: %s; give an existing store directory "
                           "(one with sha256/ in it)", dir,
                           stat(dir, &st) < 0 ? strerror(errno) : "not a directory");
        snprintf(bs->upstream_dir, sizeof bs->upstream_dir, "%s", dir);
    }
    bs->upstream = strdup(up);
    if (!bs->upstream) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    /* Trailing slashes would give "//sha256" in URLs and paths. */
    size_t n = strlen(bs->upstream);
    while (n > 1 && bs->upstream[n - 1] == '/') bs->upstream[--n] = 0;
    n = strlen(bs->upstream_dir);
    while (n > 1 && bs->upstream_dir[n - 1] == '/') bs->upstream_dir[--n] = 0;
    return 0;
}

char *pylon_blob_path(const pylon_blobstore *bs, const pylon_digest *d, char *buf, size_t cap) {
    char hex[65];
    snprintf(buf, cap, "%s/sha256/%s", bs->root, pylon_digest_hex(d, hex));
    return buf;
}

bool pylon_blob_has(pylon_blobstore *bs, const pylon_digest *d) {
    char path[PATH_MAX + 80];
    struct stat st;
    return stat(pylon_blob_path(bs, d, path, sizeof path), &st) == 0 && S_ISREG(st.st_mode);
}

/* Writes bytes that are already known to hash to *d. */
static int store_verified(pylon_blobstore *bs, const void *bytes, size_t len,
                          const pylon_digest *d, pylon_host_error *err) {
    char tmp[PATH_MAX + 80], path[PATH_MAX + 80], hex[65];
    pylon_digest_hex(d, hex);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.%d.%08x", bs->root, hex, (int)getpid(),
             randombytes_random());
    pylon_blob_path(bs, d, path, sizeof path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) goto io;
    const uint8_t *p = bytes;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno; close(fd); unlink(tmp); errno = e;
            goto io;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) { int e = errno; unlink(tmp); errno = e; goto io; }
    if (rename(tmp, path) < 0) { int e = errno; unlink(tmp); errno = e; goto io; }
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/sha256", bs->root);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return 0;
io:
    return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot write blob %s into %s: %s; check "
                   "that the store is writable and the disk has room", path, bs->root,
                   strerror(errno));
}

int pylon_blob_put(pylon_blobstore *bs, const void *bytes, size_t len, pylon_digest *out,
                   pylon_host_error *err) {
    if (len > PYLON_BLOB_MAX_SIZE)
        return pl_herr(err, PYLON_HOST_INVALID_INPUT, "blob of %zu bytes is larger than the "
                       "%llu MiB Pylon accepts", len, PYLON_BLOB_MAX_SIZE >> 20);
    pylon_digest d;
    pylon_digest_of(bytes, len, &d);
    if (out) *out = d;
    /* Already there: content addressing makes the write a no-op, but a
     * damaged copy must be replaced, not kept. */
    uint8_t *old;
    size_t oldlen;
    pylon_host_error e2;
    if (pylon_blob_get_local(bs, &d, &old, &oldlen, &e2) == 0) {
        free(old);
        return 0;
    }
    return store_verified(bs, bytes, len, &d, err);
}

int pylon_blob_put_file(pylon_blobstore *bs, const char *path, pylon_digest *out,
                        pylon_host_error *err) {
    size_t len;
    uint8_t *bytes = pl_read_all(path, PYLON_BLOB_MAX_SIZE, &len);
    if (!bytes)
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read %s: %s%s", path,
                       strerror(errno), errno == ENOENT ? "; check the path" : "");
    int r = pylon_blob_put(bs, bytes, len, out, err);
    free(bytes);
    return r;
}

/* Reads `path` and checks it hashes to *d.  ENOENT -> blob-not-found. */
static int load_checked(const char *path, const pylon_digest *d, uint8_t **bytes, size_t *len,
                        const char *where, pylon_host_error *err) {
    char dg[PYLON_DIGEST_STRLEN + 1], got[PYLON_DIGEST_STRLEN + 1];
    size_t n;
    uint8_t *b = pl_read_all(path, PYLON_BLOB_MAX_SIZE, &n);
    if (!b) {
        if (errno == ENOENT)
            return pl_herr(err, PYLON_HOST_BLOB_NOT_FOUND, "blob %s is not in %s",
                           pylon_digest_format(d, dg), where);
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read blob %s: %s", path,
                       strerror(errno));
    }
    pylon_digest actual;
    pylon_digest_of(b, n, &actual);
    if (sodium_memcmp(actual.b, d->b, 32) != 0) {
        free(b);
        return pl_herr(err, PYLON_HOST_BLOB_DIGEST_MISMATCH,
                       "blob %s at %s hashes to %s: the file was changed or damaged on disk; "
                       "remove it ('pylon blob verify --remove-bad') and add the original "
                       "again ('pylon blob add FILE')",
                       pylon_digest_format(d, dg), path, pylon_digest_format(&actual, got));
    }
    *bytes = b;
    *len = n;
    return 0;
}

int pylon_blob_get_local(pylon_blobstore *bs, const pylon_digest *d, uint8_t **bytes,
                         size_t *len, pylon_host_error *err) {
    char path[PATH_MAX + 80], where[PATH_MAX + 32];
    snprintf(where, sizeof where, "the store %s", bs->root);
    return load_checked(pylon_blob_path(bs, d, path, sizeof path), d, bytes, len, where, err);
}

/* ---- upstream ------------------------------------------------------------------------ */

typedef struct fetch_buf {
    uint8_t *data;
    size_t len, cap;
    bool too_big;
} fetch_buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user) {
    fetch_buf *f = user;
    size_t n = size * nmemb;
    if (f->len + n > PYLON_BLOB_MAX_SIZE) { f->too_big = true; return 0; }
    if (f->len + n > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->len + n) cap *= 2;
        uint8_t *bigger = realloc(f->data, cap);
        if (!bigger) return 0;
        f->data = bigger;
        f->cap = cap;
    }
    memcpy(f->data + f->len, ptr, n);
    f->len += n;
    return n;
}

static int fetch_http(pylon_blobstore *bs, const pylon_digest *d, uint8_t **bytes, size_t *len,
                      pylon_host_error *err) {
    char url[PATH_MAX + 100], hex[65], dg[PYLON_DIGEST_STRLEN + 1];
    snprintf(url, sizeof url, "%s/sha256/%s", bs->upstream, pylon_digest_hex(d, hex));
    CURL *c = curl_easy_init();
    if (!c) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "libcurl: cannot create a handle");
    fetch_buf f = { 0 };
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, bs->timeout_s);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PYLON_BLOB_MAX_SIZE);
    /* A loopback store must not be sent through a proxy from the environment. */
    curl_easy_setopt(c, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pylon-blobstore/0.1");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        free(f.data);
        if (f.too_big || rc == CURLE_FILESIZE_EXCEEDED)
            return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "upstream %s sent more than %llu MiB "
                           "for blob %s; refused", bs->upstream, PYLON_BLOB_MAX_SIZE >> 20,
                           pylon_digest_format(d, dg));
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR,
                       "fetching %s failed: %s; check that the upstream store is running "
                       "and the URL in the plan's \"upstream\" (or --upstream) is right",
                       url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
    }
    if (status == 404 || status == 410) {
        free(f.data);
        return pl_herr(err, PYLON_HOST_BLOB_NOT_FOUND, "blob %s is neither in the local store "
                       "nor at upstream %s (HTTP %ld); add it with 'pylon blob add FILE' or "
                       "publish it upstream", pylon_digest_format(d, dg), bs->upstream, status);
    }
    if (status != 200) {
        free(f.data);
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "fetching %s: the server answered HTTP "
                       "%ld; expected 200", url, status);
    }
    *bytes = f.data ? f.data : malloc(1);
    *len = f.len;
    return *bytes ? 0 : pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
}

int pylon_blob_get(pylon_blobstore *bs, const pylon_digest *d, uint8_t **bytes, size_t *len,
                   pylon_host_error *err) {
    char dg[PYLON_DIGEST_STRLEN + 1], got[PYLON_DIGEST_STRLEN + 1];
    pylon_host_error local;
    if (!err) err = &local;
    int r = pylon_blob_get_local(bs, d, bytes, len, err);
    if (r == 0 || err->code != PYLON_HOST_BLOB_NOT_FOUND) return r;
    if (!bs->upstream)
        return pl_herr(err, PYLON_HOST_BLOB_NOT_FOUND,
                       "blob %s is not in the store %s and no upstream is configured; add it "
                       "with 'pylon blob add FILE', or name an upstream store (the plan's "
                       "\"upstream\" or --upstream)", pylon_digest_format(d, dg), bs->root);
    uint8_t *b = NULL;
    size_t n = 0;
    if (bs->upstream_http) {
        if (fetch_http(bs, d, &b, &n, err)) return -1;
    } else {
        /* A store directory, or a Pylon home holding one in blobs/. */
        char p1[PATH_MAX + 100], p2[PATH_MAX + 100], hex[65], where[PATH_MAX + 32];
        pylon_digest_hex(d, hex);
        snprintf(p1, sizeof p1, "%s/sha256/%s", bs->upstream_dir, hex);
        snprintf(p2, sizeof p2, "%s/blobs/sha256/%s", bs->upstream_dir, hex);
        snprintf(where, sizeof where, "upstream %s", bs->upstream_dir);
        struct stat st;
        const char *p = stat(p1, &st) == 0 ? p1 : stat(p2, &st) == 0 ? p2 : p1;
        b = pl_read_all(p, PYLON_BLOB_MAX_SIZE, &n);
        if (!b) {
            if (errno == ENOENT)
                return pl_herr(err, PYLON_HOST_BLOB_NOT_FOUND,
                               "blob %s is neither in the store %s nor in %s; add it with "
                               "'pylon blob add FILE'", pylon_digest_format(d, dg), bs->root, where);
            return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read %s: %s", p, strerror(errno));
        }
    }
    pylon_digest actual;
    pylon_digest_of(b, n, &actual);
    if (sodium_memcmp(actual.b, d->b, 32) != 0) {
        free(b);
        return pl_herr(err, PYLON_HOST_BLOB_DIGEST_MISMATCH,
                       "upstream %s served bytes hashing to %s for blob %s; nothing was "
                       "stored; the upstream copy is damaged or not the blob the plan names",
                       bs->upstream, pylon_digest_format(&actual, got), pylon_digest_format(d, dg));
    }
    if (store_verified(bs, b, n, d, err)) { free(b); return -1; }
    *bytes = b;
    *len = n;
    return 0;
}

int pylon_blob_remove(pylon_blobstore *bs, const pylon_digest *d, pylon_host_error *err) {
    char path[PATH_MAX + 80];
    if (unlink(pylon_blob_path(bs, d, path, sizeof path)) < 0 && errno != ENOENT)
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int pylon_blob_list(pylon_blobstore *bs, pylon_blob_visit_fn fn, void *user,
                    pylon_host_error *err) {
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/sha256", bs->root);
    DIR *dp = opendir(dir);
    if (!dp)
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot list %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, cap * sizeof *names);
            if (!bigger) break;
            names = bigger;
        }
        names[n] = strdup(de->d_name);
        if (names[n]) n++;
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        pylon_digest d;
        memset(&d, 0, sizeof d);
        bool ok = pl_hex_decode(names[i], strlen(names[i]), d.b, 32) == 0;
        /* Canonical names are lowercase: anything else is not ours. */
        for (const char *c = names[i]; ok && *c; c++)
            if (*c >= 'A' && *c <= 'F') ok = false;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        uint64_t size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
        if (rc == 0 && fn(names[i], ok, &d, size, user)) rc = 1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int pylon_blob_clean_tmp(pylon_blobstore *bs, long max_age_s) {
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/tmp", bs->root);
    DIR *dp = opendir(dir);
    if (!dp) return 0;
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        char path[PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtime >= max_age_s &&
            unlink(path) == 0)
            removed++;
    }
    closedir(dp);
    return removed;
}
