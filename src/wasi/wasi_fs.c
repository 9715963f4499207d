/*
 * wasi_fs.c — preview 1's file and directory functions: fd_* (read, write,
 * seek, stat, readdir, ...) and path_* (open, mkdir, rename, link, ...).
 *
 * Every path_* call goes through wasi_path_resolve (wasi_path.c) and then
 * makes exactly one *at() call on (parent fd, name) that does not follow
 * symlinks itself; that pairing is what keeps the guest inside its
 * preopens.  Rights are checked before anything touches the host, and a fd
 * beneath a read-only preopen is refused every mutating right in
 * wasi_fd_get whatever its rights say (see wasi.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/wasi_impl.h"

/* ---- shared pieces ------------------------------------------------------------ */

/* A directory fd with `need` rights, for the path_* calls. */
static wasi_fd *dir_get(wasi_call *cx, uint32_t fd, uint64_t need, int *e) {
    if (fd < cx->w->nfds && cx->w->fds[fd].host >= 0 && cx->w->fds[fd].type != FT_DIR) {
        *e = W_ENOTDIR;
        return NULL;
    }
    return wasi_fd_get(cx->w, fd, need, e);
}

/* Reads guest path (ptr, len) and resolves it beneath directory `d`. */
static int resolve(wasi_call *cx, wasi_fd *d, uint32_t ptr, uint32_t len, bool follow,
                   wasi_path *out) {
    const char *p;
    int e = wasi_guest_path(cx, ptr, len, &p);
    if (e) { out->dirfd = -1; out->owned = false; return e; }
    return wasi_path_resolve(d->host, p, len, follow, out);
}

static void put_filestat(uint8_t *p, const struct stat *st, uint8_t type) {
    memset(p, 0, 64);
    st64(p + 0, (uint64_t)st->st_dev);
    st64(p + 8, (uint64_t)st->st_ino);
    st8(p + 16, type);
    st64(p + 24, (uint64_t)st->st_nlink);
    st64(p + 32, (uint64_t)st->st_size);
    st64(p + 40, (uint64_t)st->st_atim.tv_sec * 1000000000u + (uint64_t)st->st_atim.tv_nsec);
    st64(p + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec);
    st64(p + 56, (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec);
}

/* fst_flags + the two timestamps -> the timespec pair utimensat takes. */
static int make_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2]) {
    if (fl & ~0xfu) return W_EINVAL;
    if ((fl & FST_ATIM) && (fl & FST_ATIM_NOW)) return W_EINVAL;
    if ((fl & FST_MTIM) && (fl & FST_MTIM_NOW)) return W_EINVAL;
    uint64_t v[2] = { atim, mtim };
    uint32_t set[2] = { FST_ATIM, FST_MTIM }, now[2] = { FST_ATIM_NOW, FST_MTIM_NOW };
    for (int i = 0; i < 2; i++) {
        if (fl & now[i]) ts[i] = (struct timespec){ 0, UTIME_NOW };
        else if (fl & set[i])
            ts[i] = (struct timespec){ (time_t)(v[i] / 1000000000u), (long)(v[i] % 1000000000u) };
        else ts[i] = (struct timespec){ 0, UTIME_OMIT };
    }
    return W_ESUCCESS;
}

static int host_fdflags(int host) {
    int fl = fcntl(host, F_GETFL);
    int out = 0;
    if (fl < 0) return 0;
    if (fl & O_APPEND) out |= FDFL_APPEND;
    if (fl & O_NONBLOCK) out |= FDFL_NONBLOCK;
#ifdef O_DSYNC
    if ((fl & O_DSYNC) == O_DSYNC) out |= FDFL_DSYNC;
#endif
    if ((fl & O_SYNC) == O_SYNC) out |= FDFL_SYNC;
#if defined(O_RSYNC) && O_RSYNC != O_SYNC
    if ((fl & O_RSYNC) == O_RSYNC) out |= FDFL_RSYNC;
#endif
    return out;
}

/* Pipes, terminals and sockets may block; a blocking wait on them must stay
 * interruptible by pylon_wasi_interrupt (that is how --timeout stops a guest
 * stuck reading stdin). */
static int wait_readable(wasi_call *cx, wasi_fd *f) {
    if (f->type == FT_REG || f->type == FT_DIR) return W_ESUCCESS;
    if (host_fdflags(f->host) & FDFL_NONBLOCK) return W_ESUCCESS;
    return wasi_wait_fd(cx->w, f->host, POLLIN);
}

/* ---- fd_* ------------------------------------------------------------------------------ */

int wasi_fd_advise(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_ADVISE, &e);
    if (!f) return e;
    static const int adv[] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE };
    uint32_t advice = AU32(3);
    if (advice > 5 || a[1].i64 < 0 || a[2].i64 < 0) return W_EINVAL;
    if (f->type == FT_DIR) return W_EBADF;
    int r = posix_fadvise(f->host, (off_t)a[1].i64, (off_t)a[2].i64, adv[advice]);
    return r ? wasi_errno(r) : W_ESUCCESS;
}

int wasi_fd_allocate(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_ALLOCATE, &e);
    if (!f) return e;
    if (a[1].i64 < 0 || a[2].i64 < 0 || AU64(1) + AU64(2) > (uint64_t)INT64_MAX)
        return W_EINVAL;
    if (f->type == FT_DIR) return W_EBADF;
    int r = posix_fallocate(f->host, (off_t)a[1].i64, (off_t)a[2].i64);
    return r ? wasi_errno(r) : W_ESUCCESS;
}

int wasi_fd_close(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    wasi_fd_release(f);
    return W_ESUCCESS;
}

int wasi_fd_datasync(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_DATASYNC, &e);
    if (!f) return e;
    return fdatasync(f->host) ? wasi_errno(errno) : W_ESUCCESS;
}

int wasi_fd_sync(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_SYNC, &e);
    if (!f) return e;
    return fsync(f->host) ? wasi_errno(errno) : W_ESUCCESS;
}

int wasi_fd_fdstat_get(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    uint8_t *p = wasi_mem(cx, AU32(1), 24);
    if (!p) return W_EFAULT;
    memset(p, 0, 24);
    st8(p, f->type);
    st16(p + 2, (uint16_t)host_fdflags(f->host));
    st64(p + 8, f->base);
    st64(p + 16, f->inh);
    return W_ESUCCESS;
}

int wasi_fd_fdstat_set_flags(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_FDSTAT_SET_FLAGS, &e);
    if (!f) return e;
    uint32_t want = AU32(1);
    if (want & ~0x1fu) return W_EINVAL;
    /* POSIX cannot switch the sync modes of an open file. */
    if (want & (FDFL_DSYNC | FDFL_RSYNC | FDFL_SYNC)) return W_ENOTSUP;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (want & FDFL_APPEND) fl |= O_APPEND;
    if (want & FDFL_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(f->host, F_SETFL, fl) ? wasi_errno(errno) : W_ESUCCESS;
}

int wasi_fd_fdstat_set_rights(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    /* Rights only ever shrink. */
    if ((AU64(1) & ~f->base) || (AU64(2) & ~f->inh)) return W_ENOTCAPABLE;
    f->base = AU64(1);
    f->inh = AU64(2);
    return W_ESUCCESS;
}

int wasi_fd_filestat_get(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_FILESTAT_GET, &e);
    if (!f) return e;
    uint8_t *p = wasi_mem(cx, AU32(1), 64);
    if (!p) return W_EFAULT;
    struct stat st;
    if (fstat(f->host, &st)) return wasi_errno(errno);
    uint8_t type = wasi_filetype(st.st_mode);
    if (type == FT_SOCK_STREAM) type = f->type;   /* keeps SOCK_DGRAM */
    put_filestat(p, &st, type);
    return W_ESUCCESS;
}

int wasi_fd_filestat_set_size(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_FILESTAT_SET_SIZE, &e);
    if (!f) return e;
    if (a[1].i64 < 0) return W_EINVAL;
    return ftruncate(f->host, (off_t)a[1].i64) ? wasi_errno(errno) : W_ESUCCESS;
}

int wasi_fd_filestat_set_times(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_FILESTAT_SET_TIMES, &e);
    if (!f) return e;
    struct timespec ts[2];
    if ((e = make_times(AU64(1), AU64(2), AU32(3), ts))) return e;
    return futimens(f->host, ts) ? wasi_errno(errno) : W_ESUCCESS;
}

int wasi_fd_pread(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_READ | R_FD_SEEK, &e);
    if (!f) return e;
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    if (a[3].i64 < 0) return W_EINVAL;
    if (f->type == FT_DIR) return W_EISDIR;
    ssize_t r = n ? preadv(f->host, iov, n, (off_t)a[3].i64) : 0;
    if (r < 0) return wasi_errno(errno);
    return wasi_put32(cx, AU32(4), (uint32_t)r);
}

int wasi_fd_pwrite(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_WRITE | R_FD_SEEK, &e);
    if (!f) return e;
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    if (a[3].i64 < 0) return W_EINVAL;
    if (f->type == FT_DIR) return W_EISDIR;
    ssize_t r = n ? pwritev(f->host, iov, n, (off_t)a[3].i64) : 0;
    if (r < 0) return wasi_errno(errno);
    return wasi_put32(cx, AU32(4), (uint32_t)r);
}

int wasi_fd_read(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_READ, &e);
    if (!f) return e;
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    if (f->type == FT_DIR) return W_EISDIR;
    if ((e = wait_readable(cx, f))) return e;
    ssize_t r = n ? readv(f->host, iov, n) : 0;
    if (r < 0) return wasi_errno(errno);
    return wasi_put32(cx, AU32(3), (uint32_t)r);
}

int wasi_fd_write(wasi_call *cx, const pylon_val *a) {
    int e, n;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_WRITE, &e);
    if (!f) return e;
    struct iovec iov[WASI_IOV_MAX];
    if ((e = wasi_iovecs(cx, AU32(1), AU32(2), iov, &n))) return e;
    if (f->type == FT_DIR) return W_EISDIR;
    ssize_t r = n ? writev(f->host, iov, n) : 0;
    if (r < 0) return wasi_errno(errno);
    return wasi_put32(cx, AU32(3), (uint32_t)r);
}

int wasi_fd_prestat_get(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    /* wasi-libc scans fds upwards from 3 and stops at EBADF. */
    if (!f->preopen) return W_EBADF;
    uint8_t *p = wasi_mem(cx, AU32(1), 8);
    if (!p) return W_EFAULT;
    memset(p, 0, 8);
    st8(p, 0);   /* preopentype::dir */
    st32(p + 4, (uint32_t)strlen(f->preopen));
    return W_ESUCCESS;
}

int wasi_fd_prestat_dir_name(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    if (!f->preopen) return W_EBADF;
    size_t len = strlen(f->preopen);
    if (AU32(2) < len) return W_ENAMETOOLONG;
    uint8_t *p = wasi_mem(cx, AU32(1), len);
    if (!p) return W_EFAULT;
    memcpy(p, f->preopen, len);
    return W_ESUCCESS;
}

static uint8_t dt_type(int dirfd, const char *name, unsigned char d_type) {
    switch (d_type) {
    case DT_REG: return FT_REG;
    case DT_DIR: return FT_DIR;
    case DT_LNK: return FT_SYMLINK;
    case DT_CHR: return FT_CHAR;
    case DT_BLK: return FT_BLOCK;
    case DT_SOCK: return FT_SOCK_STREAM;
    case DT_FIFO: return FT_UNKNOWN;
    default: {
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ? FT_UNKNOWN
                                                              : wasi_filetype(st.st_mode);
    }
    }
}

/* Reads the whole directory into a fresh snapshot (see wasi_dirlist). */
static int snapshot(wasi_fd *f) {
    int dfd = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return wasi_errno(errno);
    DIR *d = fdopendir(dfd);
    if (!d) { int err = errno; close(dfd); return wasi_errno(err); }
    wasi_dirlist *l = calloc(1, sizeof *l);
    size_t cap = 0, ncap = 0, nused = 0;
    int e = l ? W_ESUCCESS : W_ENOMEM;
    struct dirent *de;
    while (!e) {
        errno = 0;
        if (!(de = readdir(d))) { if (errno) e = wasi_errno(errno); break; }
        size_t nl = strlen(de->d_name);
        if (l->n == cap) {
            cap = cap ? cap * 2 : 64;
            void *bigger = realloc(l->e, cap * sizeof *l->e);
            if (!bigger) { e = W_ENOMEM; break; }
            l->e = bigger;
        }
        if (nused + nl > ncap) {
            ncap = (ncap + nl) * 2 + 1024;
            char *bigger = realloc(l->names, ncap);
            if (!bigger) { e = W_ENOMEM; break; }
            l->names = bigger;
        }
        memcpy(l->names + nused, de->d_name, nl);
        l->e[l->n++] = (struct wasi_dirent){ (uint64_t)de->d_ino, (uint32_t)nused,
                                             (uint32_t)nl, dt_type(dirfd(d), de->d_name,
                                                                   de->d_type) };
        nused += nl;
    }
    closedir(d);
    if (e) { wasi_dirlist_free(l); return e; }
    wasi_dirlist_free(f->dir);
    f->dir = l;
    return W_ESUCCESS;
}

int wasi_fd_readdir(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), R_FD_READDIR, &e);
    if (!f) return e;
    if (f->type != FT_DIR) return W_ENOTDIR;
    uint32_t buf_len = AU32(2);
    uint8_t *buf = wasi_mem(cx, AU32(1), buf_len);
    if (!buf) return W_EFAULT;
    uint64_t cookie = AU64(3);
    if ((cookie == 0 || !f->dir) && (e = snapshot(f))) return e;
    uint32_t used = 0;
    for (uint64_t i = cookie; i < f->dir->n && used < buf_len; i++) {
        const struct wasi_dirent *d = &f->dir->e[i];
        uint8_t ent[24] = { 0 };
        st64(ent, i + 1);
        st64(ent + 8, d->ino);
        st32(ent + 16, d->name_len);
        st8(ent + 20, d->type);
        /* The last entry is cut at the end of the buffer; the guest sees a
         * full buffer and asks again from that entry's cookie. */
        uint32_t n = buf_len - used < 24 ? buf_len - used : 24;
        memcpy(buf + used, ent, n);
        used += n;
        n = buf_len - used < d->name_len ? buf_len - used : d->name_len;
        memcpy(buf + used, f->dir->names + d->name_off, n);
        used += n;
    }
    return wasi_put32(cx, AU32(4), used);
}

int wasi_fd_renumber(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *from = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!from) return e;
    wasi_fd *to = wasi_fd_get(cx->w, AU32(1), 0, &e);
    if (!to) return e;
    if (from == to) return W_ESUCCESS;
    wasi_fd_release(to);
    *to = *from;
    *from = (wasi_fd){ .host = -1 };
    return W_ESUCCESS;
}

int wasi_fd_seek(wasi_call *cx, const pylon_val *a) {
    int e;
    uint32_t whence = AU32(2);
    int64_t off = a[1].i64;
    /* Asking where we are is a tell, which fd_tell's right also allows. */
    bool tell = off == 0 && whence == 1;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    if (!(f->base & R_FD_SEEK) && !(tell && (f->base & R_FD_TELL))) return W_ENOTCAPABLE;
    static const int wh[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    if (whence > 2) return W_EINVAL;
    if (f->type == FT_DIR) return W_EBADF;
    uint8_t *p = wasi_mem(cx, AU32(3), 8);
    if (!p) return W_EFAULT;
    off_t r = lseek(f->host, (off_t)off, wh[whence]);
    if (r < 0) return wasi_errno(errno);
    st64(p, (uint64_t)r);
    return W_ESUCCESS;
}

int wasi_fd_tell(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *f = wasi_fd_get(cx->w, AU32(0), 0, &e);
    if (!f) return e;
    if (!(f->base & (R_FD_TELL | R_FD_SEEK))) return W_ENOTCAPABLE;
    if (f->type == FT_DIR) return W_EBADF;
    uint8_t *p = wasi_mem(cx, AU32(1), 8);
    if (!p) return W_EFAULT;
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return wasi_errno(errno);
    st64(p, (uint64_t)r);
    return W_ESUCCESS;
}

/* ---- path_* ------------------------------------------------------------------------------- */

/* "x/" names a directory: ENOTDIR if x is something else, ENOENT if it
 * is not there (the kernel's answers for the same). */
static int slash_needs_dir(const wasi_path *p) {
    struct stat st;
    if (!p->trailing_slash) return W_ESUCCESS;
    if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW)) return wasi_errno(errno);
    return S_ISDIR(st.st_mode) ? W_ESUCCESS : W_ENOTDIR;
}


int wasi_path_create_directory(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_CREATE_DIRECTORY, &e);
    if (!d) return e;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(1), AU32(2), false, &p))) return e;
    if (mkdirat(p.dirfd, p.name, 0777)) e = wasi_errno(errno);
    wasi_path_done(&p);
    return e;
}

int wasi_path_filestat_get(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_FILESTAT_GET, &e);
    if (!d) return e;
    uint8_t *out = wasi_mem(cx, AU32(4), 64);
    if (!out) return W_EFAULT;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(2), AU32(3), AU32(1) & LOOKUP_SYMLINK_FOLLOW, &p))) return e;
    struct stat st;
    if (fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW)) e = wasi_errno(errno);
    else if (p.trailing_slash && !S_ISDIR(st.st_mode)) e = W_ENOTDIR;
    else put_filestat(out, &st, wasi_filetype(st.st_mode));
    wasi_path_done(&p);
    return e;
}

int wasi_path_filestat_set_times(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_FILESTAT_SET_TIMES, &e);
    if (!d) return e;
    struct timespec ts[2];
    if ((e = make_times(AU64(4), AU64(5), AU32(6), ts))) return e;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(2), AU32(3), AU32(1) & LOOKUP_SYMLINK_FOLLOW, &p))) return e;
    if ((e = slash_needs_dir(&p))) {}
    else if (utimensat(p.dirfd, p.name, ts, AT_SYMLINK_NOFOLLOW)) e = wasi_errno(errno);
    wasi_path_done(&p);
    return e;
}

int wasi_path_link(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *od = dir_get(cx, AU32(0), R_PATH_LINK_SOURCE, &e);
    if (!od) return e;
    wasi_fd *nd = dir_get(cx, AU32(4), R_PATH_LINK_TARGET, &e);
    if (!nd) return e;
    wasi_path op, np;
    if ((e = resolve(cx, od, AU32(2), AU32(3), AU32(1) & LOOKUP_SYMLINK_FOLLOW, &op))) return e;
    if ((e = resolve(cx, nd, AU32(5), AU32(6), false, &np))) { wasi_path_done(&op); return e; }
    if (!(e = slash_needs_dir(&op))) {
        struct stat st;
        if (np.trailing_slash)   /* a link is never a directory */
            e = fstatat(np.dirfd, np.name, &st, AT_SYMLINK_NOFOLLOW) ? W_ENOENT : W_EEXIST;
        /* flags 0: linkat does not follow a symlink in the last position. */
        else if (linkat(op.dirfd, op.name, np.dirfd, np.name, 0)) e = wasi_errno(errno);
    }
    wasi_path_done(&op);
    wasi_path_done(&np);
    return e;
}

int wasi_path_open(wasi_call *cx, const pylon_val *a) {
    int e;
    uint32_t oflags = AU32(4), fdflags = AU32(7);
    uint64_t base = AU64(5), inh = AU64(6);
    uint64_t need = R_PATH_OPEN;
    if (oflags & ~0xfu || fdflags & ~0x1fu) return W_EINVAL;
    /* A directory is opened, never made or truncated, by path_open. */
    if ((oflags & OFL_DIRECTORY) && (oflags & (OFL_CREAT | OFL_EXCL | OFL_TRUNC))) return W_EINVAL;
    if (oflags & OFL_CREAT) need |= R_PATH_CREATE_FILE;
    if (oflags & OFL_TRUNC) need |= R_PATH_FILESTAT_SET_SIZE;
    wasi_fd *d = dir_get(cx, AU32(0), need, &e);
    if (!d) return e;
    /* A new fd never holds more than its directory may hand down. */
    if ((base & ~d->inh) || (inh & ~d->inh)) return W_ENOTCAPABLE;
    uint8_t *out = wasi_mem(cx, AU32(8), 4);
    if (!out) return W_EFAULT;

    /* Write rights on a directory are meaningless (and EISDIR to the host):
     * asking for a directory is asking to read it. */
    bool write = !(oflags & OFL_DIRECTORY) && ((base & R_WRITE_INTENT) || (fdflags & FDFL_APPEND));
    bool read = (base & (R_FD_READ | R_FD_READDIR)) || !write;
    if (d->ro && (write || (oflags & (OFL_CREAT | OFL_TRUNC)))) return W_ENOTCAPABLE;
    int fl = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | (read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY);
    if (oflags & OFL_CREAT) fl |= O_CREAT;
    if (oflags & OFL_EXCL) fl |= O_EXCL;
    if (oflags & OFL_TRUNC) fl |= O_TRUNC;
    if (oflags & OFL_DIRECTORY) fl |= O_DIRECTORY;
    if (fdflags & FDFL_APPEND) fl |= O_APPEND;
    if (fdflags & FDFL_NONBLOCK) fl |= O_NONBLOCK;
    if (fdflags & FDFL_DSYNC) fl |= O_DSYNC;
    if (fdflags & FDFL_SYNC) fl |= O_SYNC;
#ifdef O_RSYNC
    if (fdflags & FDFL_RSYNC) fl |= O_RSYNC;
#endif

    wasi_path p;
    if ((e = resolve(cx, d, AU32(2), AU32(3), AU32(1) & LOOKUP_SYMLINK_FOLLOW, &p))) return e;
    if (p.trailing_slash) {
        if (oflags & OFL_CREAT) { wasi_path_done(&p); return W_EISDIR; }
        fl |= O_DIRECTORY;
    }
    int host = openat(p.dirfd, p.name, fl, 0666);
    if (host < 0) e = wasi_errno(errno);
    wasi_path_done(&p);
    if (host < 0) return e;

    struct stat st;
    if (fstat(host, &st)) { e = wasi_errno(errno); close(host); return e; }
    uint8_t type = wasi_filetype(st.st_mode);
    uint64_t allowed = type == FT_DIR ? (d->ro ? R_DIR_RO : R_DIR) : (d->ro ? R_FILE_RO : R_FILE);
    int64_t fd = wasi_fd_insert(cx->w, host, type, base & allowed, inh, d->ro);
    if (fd < 0) { close(host); return W_ENOMEM; }
    st32(out, (uint32_t)fd);
    return W_ESUCCESS;
}

int wasi_path_readlink(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_READLINK, &e);
    if (!d) return e;
    uint32_t cap = AU32(4);
    uint8_t *buf = wasi_mem(cx, AU32(3), cap);
    uint8_t *used = wasi_mem(cx, AU32(5), 4);
    if (!buf || !used) return W_EFAULT;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(1), AU32(2), false, &p))) return e;
    /* Read into a host buffer one byte larger than the guest's so that a
     * link that does not fit is cut, as readlink(2) cuts it. */
    char *tmp = malloc((size_t)cap + 1);
    ssize_t n = tmp ? readlinkat(p.dirfd, p.name, tmp, (size_t)cap + 1) : -1;
    if (!tmp) e = W_ENOMEM;
    else if (n < 0) e = wasi_errno(errno);
    else {
        uint32_t k = (size_t)n > cap ? cap : (uint32_t)n;
        memcpy(buf, tmp, k);
        st32(used, k);
    }
    free(tmp);
    wasi_path_done(&p);
    return e;
}

int wasi_path_remove_directory(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_REMOVE_DIRECTORY, &e);
    if (!d) return e;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(1), AU32(2), false, &p))) return e;
    if (unlinkat(p.dirfd, p.name, AT_REMOVEDIR)) e = wasi_errno(errno);
    wasi_path_done(&p);
    return e;
}

int wasi_path_rename(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *od = dir_get(cx, AU32(0), R_PATH_RENAME_SOURCE, &e);
    if (!od) return e;
    wasi_fd *nd = dir_get(cx, AU32(3), R_PATH_RENAME_TARGET, &e);
    if (!nd) return e;
    wasi_path op, np;
    if ((e = resolve(cx, od, AU32(1), AU32(2), false, &op))) return e;
    if ((e = resolve(cx, nd, AU32(4), AU32(5), false, &np))) { wasi_path_done(&op); return e; }
    struct stat st;
    if (!(e = slash_needs_dir(&op)) && np.trailing_slash) {
        /* "a -> b/" renames only a directory. */
        if (fstatat(op.dirfd, op.name, &st, AT_SYMLINK_NOFOLLOW)) e = wasi_errno(errno);
        else if (!S_ISDIR(st.st_mode)) e = W_ENOTDIR;
    }
    if (!e && renameat(op.dirfd, op.name, np.dirfd, np.name)) e = wasi_errno(errno);
    wasi_path_done(&op);
    wasi_path_done(&np);
    return e;
}

int wasi_path_symlink(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(2), R_PATH_SYMLINK, &e);
    if (!d) return e;
    const char *target;
    if ((e = wasi_guest_path(cx, AU32(0), AU32(1), &target))) return e;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(3), AU32(4), false, &p))) return e;
    char *t = NULL;
    struct stat st;
    /* A link that could only lead out of the sandbox is refused when made,
     * not just when followed: a host tool may follow it later. */
    if (!wasi_symlink_target_ok(target, AU32(1), p.depth)) e = W_ENOTCAPABLE;
    else if (p.trailing_slash)
        e = fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) ? W_ENOENT : W_EEXIST;
    else if (!(t = strndup(target, AU32(1)))) e = W_ENOMEM;
    else if (symlinkat(t, p.dirfd, p.name)) e = wasi_errno(errno);
    free(t);
    wasi_path_done(&p);
    return e;
}

int wasi_path_unlink_file(wasi_call *cx, const pylon_val *a) {
    int e;
    wasi_fd *d = dir_get(cx, AU32(0), R_PATH_UNLINK_FILE, &e);
    if (!d) return e;
    wasi_path p;
    if ((e = resolve(cx, d, AU32(1), AU32(2), false, &p))) return e;
    struct stat st;
    if (p.trailing_slash)
        e = fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW) ? wasi_errno(errno)
            : S_ISDIR(st.st_mode) ? W_EISDIR : W_ENOTDIR;
    else if (unlinkat(p.dirfd, p.name, 0)) e = wasi_errno(errno);
    wasi_path_done(&p);
    return e;
}
