/*
 * wasi_path.c — the sandbox wall: turns a guest path into (host directory
 * fd, one name) without ever leaving the directory the guest named it
 * relative to.
 *
 * Why a walk and not a string check: a prefix test on a canonicalised path
 * is only as good as the moment it ran; a symlink swapped or a directory
 * renamed between the check and the open lets the open land outside.  Here
 * every step is an *at() call relative to a directory fd we already hold:
 *   - each intermediate component is opened with O_NOFOLLOW|O_DIRECTORY, so
 *     the kernel never follows a symlink on our behalf;
 *   - a symlink is read with readlinkat and its target spliced into the
 *     rest of the path, so it goes through the same rules (absolute targets
 *     are refused, at most 40 hops, then ELOOP);
 *   - ".." pops a stack of fds we opened on the way down; at the bottom of
 *     the stack it is refused.  The file system's own ".." entry is never
 *     consulted, so moving a directory out from under a walk in progress
 *     cannot carry it outside.
 * The caller finishes with one *at() call on the final name that does not
 * follow symlinks (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, unlinkat, ...), so the
 * last step cannot be redirected either.  A race can make a call fail; it
 * cannot make it escape.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

#define MAX_HOPS 40
/* The kernel's own limit on a path; longer walks are refused the same way. */
#define MAX_WORK (64 * 1024)

#ifdef O_PATH
#define DIR_OPEN_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#else
#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#endif

int wasi_guest_path(wasi_call *cx, uint32_t ptr, uint32_t len, const char **out) {
    const char *p = (const char *)wasi_mem(cx, ptr, len);
    if (!p) return W_EFAULT;
    if (memchr(p, 0, len)) return W_EINVAL;   /* no host call could name it */
    *out = p;
    return W_ESUCCESS;
}

typedef struct walk {
    int *fds;           /* fds[0] is the base (not ours); the rest we opened */
    uint32_t n, cap;
} walk;

static int top(const walk *k) { return k->fds[k->n - 1]; }

static int push(walk *k, int fd) {
    if (k->n == k->cap) {
        uint32_t cap = k->cap * 2;
        int *bigger = realloc(k->fds, cap * sizeof *bigger);
        if (!bigger) return W_ENOMEM;
        k->fds = bigger;
        k->cap = cap;
    }
    k->fds[k->n++] = fd;
    return W_ESUCCESS;
}

/* Reads the symlink `name` in `dirfd`: 1 with a malloc'd target, 0 if it is
 * not a symlink (or vanished), -1 with *e on failure. */
static int read_link(int dirfd, const char *name, char **target, size_t *tlen, int *e) {
    size_t cap = 256;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) { *e = W_ENOMEM; return -1; }
        ssize_t n = readlinkat(dirfd, name, buf, cap);
        if (n < 0) {
            int err = errno;
            free(buf);
            if (err == EINVAL || err == ENOENT || err == ENOTDIR) return 0;
            *e = wasi_errno(err);
            return -1;
        }
        if ((size_t)n < cap) { *target = buf; *tlen = (size_t)n; return 1; }
        free(buf);
        if (cap >= MAX_WORK) { *e = W_ENAMETOOLONG; return -1; }
        cap *= 2;
    }
}

/* Replaces the walk's remaining input with `target` + rest. */
static int splice_link(char **work, size_t *pos, size_t *len, char *target, size_t tlen,
                  size_t rest, int *hops) {
    if (++*hops > MAX_HOPS) { free(target); return W_ELOOP; }
    if (tlen == 0) { free(target); return W_ENOENT; }
    if (target[0] == '/') { free(target); return W_ENOTCAPABLE; }
    size_t rlen = *len - rest;
    if (tlen + 1 + rlen > MAX_WORK) { free(target); return W_ENAMETOOLONG; }
    char *nw = malloc(tlen + 1 + rlen + 1);
    if (!nw) { free(target); return W_ENOMEM; }
    memcpy(nw, target, tlen);
    size_t n = tlen;
    if (rlen) { nw[n++] = '/'; memcpy(nw + n, *work + rest, rlen); n += rlen; }
    nw[n] = 0;
    free(target);
    free(*work);
    *work = nw;
    *pos = 0;
    *len = n;
    return W_ESUCCESS;
}

int wasi_path_resolve(int base, const char *path, size_t len, bool follow, wasi_path *out) {
    memset(out, 0, sizeof *out);
    out->dirfd = base;
    if (len == 0) return W_ENOENT;
    if (path[0] == '/') return W_ENOTCAPABLE;   /* guest paths are relative to a preopen */
    if (len > MAX_WORK) return W_ENAMETOOLONG;

    walk k = { malloc(16 * sizeof(int)), 1, 16 };
    char *work = malloc(len + 1);
    if (!k.fds || !work) { free(k.fds); free(work); return W_ENOMEM; }
    k.fds[0] = base;
    memcpy(work, path, len);
    work[len] = 0;

    size_t pos = 0;
    int hops = 0, e = W_ESUCCESS;
    for (;;) {
        while (pos < len && work[pos] == '/') pos++;
        size_t start = pos;
        while (pos < len && work[pos] != '/') pos++;
        size_t clen = pos - start, after = pos;
        bool slash = false;
        while (after < len && work[after] == '/') { after++; slash = true; }
        bool last = after == len;
        if (clen == 0) {            /* only slashes were left: "the directory itself" */
            strcpy(out->name, ".");
            break;
        }
        if (clen > WASI_NAME_MAX) { e = W_ENAMETOOLONG; break; }
        char comp[WASI_NAME_MAX + 1];
        memcpy(comp, work + start, clen);
        comp[clen] = 0;

        if (!strcmp(comp, "..")) {
            if (k.n == 1) { e = W_ENOTCAPABLE; break; }
            close(k.fds[--k.n]);
            strcpy(comp, ".");
        }
        if (!strcmp(comp, ".")) {
            if (last) { strcpy(out->name, "."); out->trailing_slash = slash; break; }
            pos = after;
            continue;
        }
        if (last && !follow && !slash) {
            strcpy(out->name, comp);
            break;
        }
        if (last) {
            /* Expand a symlink in the last position; anything else is the
             * answer as it stands (it may not exist yet). */
            char *target; size_t tlen;
            int r = read_link(top(&k), comp, &target, &tlen, &e);
            if (r < 0) break;
            if (r == 0) { strcpy(out->name, comp); out->trailing_slash = slash; break; }
            /* Keep a trailing slash: "link/" still means "a directory". */
            if ((e = splice_link(&work, &pos, &len, target, tlen, slash ? pos : len, &hops))) break;
            continue;
        }
        int fd = openat(top(&k), comp, DIR_OPEN_FLAGS);
        if (fd >= 0) {
            if ((e = push(&k, fd))) { close(fd); break; }
            pos = after;
            continue;
        }
        int err = errno;
        if (err == ENOTDIR || err == ELOOP || err == EMLINK) {
            char *target; size_t tlen;
            int r = read_link(top(&k), comp, &target, &tlen, &e);
            if (r < 0) break;
            if (r == 1) {
                if ((e = splice_link(&work, &pos, &len, target, tlen, pos, &hops))) break;
                continue;
            }
        }
        e = wasi_errno(err);
        break;
    }
    free(work);
    if (e == W_ESUCCESS) {
        out->dirfd = top(&k);
        out->owned = k.n > 1;
        out->depth = k.n - 1;
        k.n--;              /* the answer's fd is the caller's now */
    }
    for (uint32_t i = 1; i < k.n; i++) close(k.fds[i]);
    free(k.fds);
    if (e != W_ESUCCESS) { out->dirfd = -1; out->owned = false; }
    return e;
}

void wasi_path_done(wasi_path *p) {
    if (p->owned && p->dirfd >= 0) close(p->dirfd);
    p->owned = false;
    p->dirfd = -1;
}

bool wasi_symlink_target_ok(const char *t, size_t len, uint32_t depth) {
    if (len == 0 || t[0] == '/') return false;
    int64_t d = depth;
    size_t i = 0;
    while (i < len) {
        size_t s = i;
        while (i < len && t[i] != '/') i++;
        size_t n = i - s;
        if (n == 2 && t[s] == '.' && t[s + 1] == '.') { if (--d < 0) return false; }
        else if (n > 0 && !(n == 1 && t[s] == '.')) d++;
        while (i < len && t[i] == '/') i++;
    }
    return true;
}
