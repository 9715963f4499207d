/*
 * wasi_impl.h — what the files of the WASI preview 1 host share: the
 * preview-1 constants (errno numbers, rights bits, struct offsets, exactly as
 * the witx spec fixes them), the guest fd table, guest-memory accessors and
 * the sandboxed path resolver's interface.
 *
 * Split of responsibilities:
 *   wasi.c       config, fd table, args/environ/clocks/random/proc/sched,
 *                the import table and the `_start` helper
 *   wasi_path.c  the sandbox wall: guest path -> (parent dir fd, name)
 *   wasi_fs.c    fd_* and path_* (files and directories)
 *   wasi_poll.c  poll_oneoff and sock_*
 * Nothing here reaches into the engine: guest memory is reached only through
 * pylon_caller_memory + pylon_memory_ptr, so a bad guest pointer becomes
 * EFAULT rather than a host read out of bounds.
 */
#ifndef PYLON_WASI_IMPL_H
#define PYLON_WASI_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "pylon/wasi.h"

/* ---- errno (witx `errno`, u16) ---------------------------------------- */
enum {
    W_ESUCCESS = 0, W_E2BIG = 1, W_EACCES = 2, W_EADDRINUSE = 3, W_EADDRNOTAVAIL = 4,
    W_EAFNOSUPPORT = 5, W_EAGAIN = 6, W_EALREADY = 7, W_EBADF = 8, W_EBADMSG = 9,
    W_EBUSY = 10, W_ECANCELED = 11, W_ECHILD = 12, W_ECONNABORTED = 13,
    W_ECONNREFUSED = 14, W_ECONNRESET = 15, W_EDEADLK = 16, W_EDESTADDRREQ = 17,
    W_EDOM = 18, W_EDQUOT = 19, W_EEXIST = 20, W_EFAULT = 21, W_EFBIG = 22,
    W_EHOSTUNREACH = 23, W_EIDRM = 24, W_EILSEQ = 25, W_EINPROGRESS = 26,
    W_EINTR = 27, W_EINVAL = 28, W_EIO = 29, W_EISCONN = 30, W_EISDIR = 31,
    W_ELOOP = 32, W_EMFILE = 33, W_EMLINK = 34, W_EMSGSIZE = 35, W_EMULTIHOP = 36,
    W_ENAMETOOLONG = 37, W_ENETDOWN = 38, W_ENETRESET = 39, W_ENETUNREACH = 40,
    W_ENFILE = 41, W_ENOBUFS = 42, W_ENODEV = 43, W_ENOENT = 44, W_ENOEXEC = 45,
    W_ENOLCK = 46, W_ENOLINK = 47, W_ENOMEM = 48, W_ENOMSG = 49, W_ENOPROTOOPT = 50,
    W_ENOSPC = 51, W_ENOSYS = 52, W_ENOTCONN = 53, W_ENOTDIR = 54, W_ENOTEMPTY = 55,
    W_ENOTRECOVERABLE = 56, W_ENOTSOCK = 57, W_ENOTSUP = 58, W_ENOTTY = 59,
    W_ENXIO = 60, W_EOVERFLOW = 61, W_EOWNERDEAD = 62, W_EPERM = 63, W_EPIPE = 64,
    W_EPROTO = 65, W_EPROTONOSUPPORT = 66, W_EPROTOTYPE = 67, W_ERANGE = 68,
    W_EROFS = 69, W_ESPIPE = 70, W_ESRCH = 71, W_ESTALE = 72, W_ETIMEDOUT = 73,
    W_ETXTBSY = 74, W_EXDEV = 75, W_ENOTCAPABLE = 76,
};

/* ---- rights (witx `rights`, u64) ---------------------------------------- */
#define R_FD_DATASYNC             (1ull << 0)
#define R_FD_READ                 (1ull << 1)
#define R_FD_SEEK                 (1ull << 2)
#define R_FD_FDSTAT_SET_FLAGS     (1ull << 3)
#define R_FD_SYNC                 (1ull << 4)
#define R_FD_TELL                 (1ull << 5)
#define R_FD_WRITE                (1ull << 6)
#define R_FD_ADVISE               (1ull << 7)
#define R_FD_ALLOCATE             (1ull << 8)
#define R_PATH_CREATE_DIRECTORY   (1ull << 9)
#define R_PATH_CREATE_FILE        (1ull << 10)
#define R_PATH_LINK_SOURCE        (1ull << 11)
#define R_PATH_LINK_TARGET        (1ull << 12)
#define R_PATH_OPEN               (1ull << 13)
#define R_FD_READDIR              (1ull << 14)
#define R_PATH_READLINK           (1ull << 15)
#define R_PATH_RENAME_SOURCE      (1ull << 16)
#define R_PATH_RENAME_TARGET      (1ull << 17)
#define R_PATH_FILESTAT_GET       (1ull << 18)
#define R_PATH_FILESTAT_SET_SIZE  (1ull << 19)
#define R_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define R_FD_FILESTAT_GET         (1ull << 21)
#define R_FD_FILESTAT_SET_SIZE    (1ull << 22)
#define R_FD_FILESTAT_SET_TIMES   (1ull << 23)
#define R_PATH_SYMLINK            (1ull << 24)
#define R_PATH_REMOVE_DIRECTORY   (1ull << 25)
#define R_PATH_UNLINK_FILE        (1ull << 26)
#define R_POLL_FD_READWRITE       (1ull << 27)
#define R_SOCK_SHUTDOWN           (1ull << 28)
#define R_SOCK_ACCEPT             (1ull << 29)
#define R_ALL                     ((1ull << 30) - 1)

/* What each kind of fd can ever do.  A read-only preopen and everything
 * opened beneath it is limited to the *_RO sets: no right that creates,
 * removes, renames, links, writes, truncates or retimes anything. */
#define R_FILE (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | \
                R_FD_TELL | R_FD_WRITE | R_FD_ADVISE | R_FD_ALLOCATE | R_FD_FILESTAT_GET | \
                R_FD_FILESTAT_SET_SIZE | R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
#define R_DIR  (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC | R_PATH_CREATE_DIRECTORY | \
                R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN | \
                R_FD_READDIR | R_PATH_READLINK | R_PATH_RENAME_SOURCE | R_PATH_RENAME_TARGET | \
                R_PATH_FILESTAT_GET | R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES | \
                R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK | \
                R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)
#define R_FILE_RO (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | \
                   R_FD_TELL | R_FD_ADVISE | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE)
#define R_DIR_RO  (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC | R_PATH_OPEN | \
                   R_FD_READDIR | R_PATH_READLINK | R_PATH_FILESTAT_GET | R_FD_FILESTAT_GET)
#define R_SOCK (R_FD_READ | R_FD_WRITE | R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | \
                R_POLL_FD_READWRITE | R_SOCK_SHUTDOWN | R_SOCK_ACCEPT)
/* Rights whose presence in a path_open request means "open for writing". */
#define R_WRITE_INTENT (R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE)

/* ---- small enums -------------------------------------------------------- */
enum { FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REG = 4,
       FT_SOCK_DGRAM = 5, FT_SOCK_STREAM = 6, FT_SYMLINK = 7 };
enum { FDFL_APPEND = 1, FDFL_DSYNC = 2, FDFL_NONBLOCK = 4, FDFL_RSYNC = 8, FDFL_SYNC = 16 };
enum { OFL_CREAT = 1, OFL_DIRECTORY = 2, OFL_EXCL = 4, OFL_TRUNC = 8 };
enum { LOOKUP_SYMLINK_FOLLOW = 1 };
enum { FST_ATIM = 1, FST_ATIM_NOW = 2, FST_MTIM = 4, FST_MTIM_NOW = 8 };

/* ---- the guest's fd table ---------------------------------------------- */

/* fd_readdir's view of a directory: a snapshot taken when the guest starts
 * over (cookie 0), so a cookie is simply an index into it.  That makes
 * cookies stable across calls whatever the host file system does. */
typedef struct wasi_dirlist {
    uint32_t n;
    struct wasi_dirent { uint64_t ino; uint32_t name_off, name_len; uint8_t type; } *e;
    char *names;
} wasi_dirlist;

typedef struct wasi_fd {
    int host;                 /* host fd; -1 marks a free slot */
    uint8_t type;             /* FT_* */
    bool ro;                  /* beneath a read-only preopen: never write */
    uint64_t base, inh;       /* rights */
    char *preopen;            /* guest name if this is a preopened directory */
    wasi_dirlist *dir;        /* fd_readdir snapshot, built lazily */
} wasi_fd;

#define WASI_NFUNCS 46

struct pylon_wasi;
typedef struct wasi_binding {
    struct pylon_wasi *w;
    const struct wasi_entry *entry;
} wasi_binding;

struct pylon_wasi {
    char **argv; uint32_t argc; uint32_t argv_bytes;
    char **envv; uint32_t envc; uint32_t env_bytes;
    wasi_fd *fds; uint32_t nfds;    /* nfds = slots allocated */
    int wake[2];                    /* self-pipe: pylon_wasi_interrupt wakes blocking calls */
    int stdio_fl[3];                /* the host stdio's file status flags, restored at free */
    int stdio_keep[3];              /* a dup of each, to restore them through (-1: none) */
    atomic_int interrupted;
    wasi_binding bind[WASI_NFUNCS];
};

/* One host call in progress. */
typedef struct wasi_call {
    struct pylon_wasi *w;
    pylon_caller *caller;
    pylon_memory *mem;
    int rc;                         /* for WASI_STOP: what the host function returns */
} wasi_call;

/* An implementation returns a W_E* errno (>= 0), or WASI_STOP after it
 * called pylon_caller_exit/pylon_caller_trap and stored the result in rc. */
#define WASI_STOP (-1)
typedef int (*wasi_impl)(wasi_call *cx, const pylon_val *a);

typedef struct wasi_entry {
    const char *name, *sig;
    wasi_impl fn;
} wasi_entry;

/* ---- guest memory ---------------------------------------------------------- */

/* [addr, addr+len) in guest memory or NULL.  A zero-length range is fine
 * anywhere up to the end of memory. */
static inline uint8_t *wasi_mem(wasi_call *cx, uint32_t addr, uint64_t len) {
    return (uint8_t *)pylon_memory_ptr(cx->mem, addr, len);
}
/* Guest memory is little-endian and guest pointers need not be aligned. */
static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline void st8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void st32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
static inline void st64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> 8 * i); }

/* Stores a u32/u64 result at a guest address; W_EFAULT if it is not there. */
int wasi_put32(wasi_call *cx, uint32_t addr, uint32_t v);
int wasi_put64(wasi_call *cx, uint32_t addr, uint64_t v);

/* Translates a guest iovec array into host iovecs (at most `cap`, which
 * keeps a call within IOV_MAX; a short transfer is always allowed).
 * Returns W_ESUCCESS or W_EFAULT; *n gets the count. */
#define WASI_IOV_MAX 1024
int wasi_iovecs(wasi_call *cx, uint32_t iovs, uint32_t iovs_len, struct iovec *out, int *n);

/* ---- shared helpers ------------------------------------------------------------ */

/* Host errno -> preview-1 errno. */
int wasi_errno(int host_errno);
/* The fd entry if `fd` is open and holds every right in `need`; else NULL
 * with *e set to W_EBADF or W_ENOTCAPABLE. */
wasi_fd *wasi_fd_get(struct pylon_wasi *w, uint32_t fd, uint64_t need, int *e);
/* Puts host fd `host` in the lowest free guest slot; -1 when the table
 * cannot grow (the caller still owns `host` then).  The table may move:
 * wasi_fd pointers taken before the call are stale after it. */
int64_t wasi_fd_insert(struct pylon_wasi *w, int host, uint8_t type, uint64_t base,
                       uint64_t inh, bool ro);
void wasi_fd_release(wasi_fd *f);    /* closes the host fd and frees the slot */
void wasi_dirlist_free(wasi_dirlist *d);
/* FT_* for a host st_mode. */
uint8_t wasi_filetype(unsigned mode);
/* Waits until `host` is readable (POLLIN) or writable (POLLOUT), or until
 * pylon_wasi_interrupt.  W_ESUCCESS, W_EINTR or a host error. */
int wasi_wait_fd(struct pylon_wasi *w, int host, short events);
/* Clears a pending interrupt (and drains the wake-up pipe); true if there
 * was one. */
bool wasi_take_interrupt(struct pylon_wasi *w);

/* ---- the sandboxed path resolver (wasi_path.c) --------------------------------- */

#define WASI_NAME_MAX 255

typedef struct wasi_path {
    int dirfd;              /* directory that holds `name` */
    bool owned;             /* dirfd is ours to close (it is not the base fd) */
    bool trailing_slash;    /* the guest wrote "x/": x must be a directory */
    uint32_t depth;         /* directories between the base fd and dirfd */
    char name[WASI_NAME_MAX + 1]; /* one component, never "..", "." for dirfd itself */
} wasi_path;

/* Resolves guest `path` beneath host directory fd `base`.  Every
 * intermediate component is opened with O_NOFOLLOW|O_DIRECTORY relative to
 * the one before; ".." pops a stack of fds we hold (it never asks the file
 * system for a parent, so it cannot climb above `base`, and renaming a
 * directory away mid-walk changes nothing); symlinks are read with
 * readlinkat and spliced into the walk (absolute targets refused, at most
 * 40 hops).  With `follow`, or with a trailing slash, a symlink in the last
 * position is expanded too.  The caller then acts on (dirfd, name) with a
 * *at call that does not follow symlinks itself.
 * Returns W_ESUCCESS or an errno (W_ENOTCAPABLE for any way out). */
int wasi_path_resolve(int base, const char *path, size_t len, bool follow, wasi_path *out);
void wasi_path_done(wasi_path *p);
/* Whether a symlink stored at depth `depth` with contents `target` stays
 * beneath the base by spelling (no absolute path, never above depth 0). */
bool wasi_symlink_target_ok(const char *target, size_t len, uint32_t depth);
/* Reads guest path bytes; W_EFAULT, W_EINVAL (embedded NUL) or success. */
int wasi_guest_path(wasi_call *cx, uint32_t ptr, uint32_t len, const char **out);

/* ---- function tables of each file --------------------------------------------- */

int wasi_fd_advise(wasi_call *, const pylon_val *);
int wasi_fd_allocate(wasi_call *, const pylon_val *);
int wasi_fd_close(wasi_call *, const pylon_val *);
int wasi_fd_datasync(wasi_call *, const pylon_val *);
int wasi_fd_fdstat_get(wasi_call *, const pylon_val *);
int wasi_fd_fdstat_set_flags(wasi_call *, const pylon_val *);
int wasi_fd_fdstat_set_rights(wasi_call *, const pylon_val *);
int wasi_fd_filestat_get(wasi_call *, const pylon_val *);
int wasi_fd_filestat_set_size(wasi_call *, const pylon_val *);
int wasi_fd_filestat_set_times(wasi_call *, const pylon_val *);
int wasi_fd_pread(wasi_call *, const pylon_val *);
int wasi_fd_prestat_get(wasi_call *, const pylon_val *);
int wasi_fd_prestat_dir_name(wasi_call *, const pylon_val *);
int wasi_fd_pwrite(wasi_call *, const pylon_val *);
int wasi_fd_read(wasi_call *, const pylon_val *);
int wasi_fd_readdir(wasi_call *, const pylon_val *);
int wasi_fd_renumber(wasi_call *, const pylon_val *);
int wasi_fd_seek(wasi_call *, const pylon_val *);
int wasi_fd_sync(wasi_call *, const pylon_val *);
int wasi_fd_tell(wasi_call *, const pylon_val *);
int wasi_fd_write(wasi_call *, const pylon_val *);
int wasi_path_create_directory(wasi_call *, const pylon_val *);
int wasi_path_filestat_get(wasi_call *, const pylon_val *);
int wasi_path_filestat_set_times(wasi_call *, const pylon_val *);
int wasi_path_link(wasi_call *, const pylon_val *);
int wasi_path_open(wasi_call *, const pylon_val *);
int wasi_path_readlink(wasi_call *, const pylon_val *);
int wasi_path_remove_directory(wasi_call *, const pylon_val *);
int wasi_path_rename(wasi_call *, const pylon_val *);
int wasi_path_symlink(wasi_call *, const pylon_val *);
int wasi_path_unlink_file(wasi_call *, const pylon_val *);
int wasi_poll_oneoff(wasi_call *, const pylon_val *);
int wasi_sock_accept(wasi_call *, const pylon_val *);
int wasi_sock_recv(wasi_call *, const pylon_val *);
int wasi_sock_send(wasi_call *, const pylon_val *);
int wasi_sock_shutdown(wasi_call *, const pylon_val *);

/* Argument accessors: wasm i32 arguments are unsigned in WASI. */
#define AU32(i) ((uint32_t)a[i].i32)
#define AU64(i) ((uint64_t)a[i].i64)

#endif
