/*
 * wt.h — what the WASI test programs share.
 *
 * Each program under tests/wasi/ runs twice, under `pylon wasm run` and
 * under Node's node:wasi, and the two outputs are diffed; so programs print
 * only what both runtimes should agree on (no timestamps, inode numbers,
 * fd numbers or directory order), one observation per line as "key: value".
 * Where the WASI spec (or POSIX, which it follows) leaves no doubt, the
 * program also checks the value itself and prints "key: FAIL ..." on a
 * mismatch, which fails the test under Pylon whatever Node says.  Escape
 * programs print "ESCAPED" when they get through the sandbox wall.
 */
#ifndef WT_H
#define WT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *const wt_errnames[] = {
    "OK",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE"
};

static inline const char *ename(int e) {
    static char buf[16];
    if (e >= 0 && e < (int)(sizeof wt_errnames / sizeof *wt_errnames)) return wt_errnames[e];
    snprintf(buf, sizeof buf, "E#%d", e);
    return buf;
}

/* Raw imports, for what wasi/api.h no longer declares (proc_raise) and for
 * handing the host bad pointers and lengths on purpose. */
#define WT_IMPORT(name) \
    __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WT_IMPORT(proc_raise) int32_t raw_proc_raise(int32_t sig);
WT_IMPORT(fd_write) int32_t raw_fd_write(int32_t fd, int32_t iovs, int32_t n, int32_t nwritten);
WT_IMPORT(fd_read) int32_t raw_fd_read(int32_t fd, int32_t iovs, int32_t n, int32_t nread);
WT_IMPORT(path_open) int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path,
                                           int32_t path_len, int32_t oflags, int64_t base,
                                           int64_t inh, int32_t fdflags, int32_t out);
WT_IMPORT(path_create_directory) int32_t raw_path_create_directory(int32_t fd, int32_t path,
                                                                   int32_t path_len);
WT_IMPORT(random_get) int32_t raw_random_get(int32_t buf, int32_t len);
WT_IMPORT(args_get) int32_t raw_args_get(int32_t argv, int32_t buf);
WT_IMPORT(clock_time_get) int32_t raw_clock_time_get(int32_t id, int64_t prec, int32_t out);
WT_IMPORT(fd_prestat_dir_name) int32_t raw_fd_prestat_dir_name(int32_t fd, int32_t path,
                                                               int32_t len);

static int wt_failures;

/* Line-buffered stdout: when a runtime hangs or dies, the output says how
 * far the program got. */
__attribute__((constructor)) static void wt_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* key: ENAME, checked against the expected errno. */
static inline void expect(const char *key, int got, int want) {
    if (got == want) printf("%s: %s\n", key, ename(got));
    else { printf("%s: FAIL got %s want %s\n", key, ename(got), ename(want)); wt_failures++; }
}
/* key: ENAME, for cases where only the differential comparison judges. */
static inline void show(const char *key, int got) { printf("%s: %s\n", key, ename(got)); }
/* key: FAIL unless cond; `what` says what was expected. */
static inline void check(const char *key, int cond, const char *what) {
    if (cond) printf("%s: ok\n", key);
    else { printf("%s: FAIL expected %s\n", key, what); wt_failures++; }
}
static inline void checku(const char *key, uint64_t got, uint64_t want) {
    if (got == want) printf("%s: %llu\n", key, (unsigned long long)got);
    else {
        printf("%s: FAIL got %llu want %llu\n", key, (unsigned long long)got,
               (unsigned long long)want);
        wt_failures++;
    }
}
/* errno of a libc call that returns -1 (or NULL) on failure; 0 on success. */
#define LIBC_ERR(expr) ((expr) < 0 ? errno : 0)

/* The fd of the preopen named `name` (fd_prestat_get upwards from 3). */
static inline int preopen(const char *name) {
    for (int fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        char buf[256];
        if (__wasi_fd_prestat_get(fd, &ps) != 0) break;
        if (ps.u.dir.pr_name_len >= sizeof buf) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf, ps.u.dir.pr_name_len) != 0) continue;
        buf[ps.u.dir.pr_name_len] = 0;
        if (!strcmp(buf, name)) return fd;
    }
    printf("preopen %s: FAIL not found\n", name);
    exit(99);
}

/* Rights a directory fd may hand down, for raw path_open calls. */
static inline __wasi_rights_t inheriting(int fd) {
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(fd, &st)) return 0;
    return st.fs_rights_inheriting;
}

/* Opens `path` under directory fd `dir` with raw path_open; returns the
 * errno, the fd in *out. */
static inline int wopen(int dir, const char *path, int oflags, __wasi_rights_t base,
                        int fdflags, int *out) {
    __wasi_fd_t fd = (__wasi_fd_t)-1;
    int e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags,
                             base & inheriting(dir), inheriting(dir), fdflags, &fd);
    *out = e ? -1 : (int)fd;
    return e;
}

#define R_RD (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL | \
              __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READDIR | \
              __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_ADVISE | \
              __WASI_RIGHTS_POLL_FD_READWRITE)
#define R_ANY ((__wasi_rights_t)-1)   /* whatever the directory may hand down */
/* What wasi-libc asks for when it opens a directory: everything but writing. */
#define R_DIR (R_ANY & ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC | \
                         __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE))
#define R_RW (R_RD | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC | \
              __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_ALLOCATE | \
              __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES)

/* Whole-file helpers through libc. */
static inline int put_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return errno;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : EIO;
}
static inline int get_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return errno;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return errno;
    buf[n] = 0;
    return 0;
}

static inline int wt_done(void) {
    printf("done: %d failures\n", wt_failures);
    return wt_failures ? 1 : 0;
}

#endif
