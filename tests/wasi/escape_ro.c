/* escape_ro.c — a read-only preopen (/ro) cannot be written through any
 * path: no open for writing, creating or truncating, no mkdir, unlink,
 * rmdir, rename (inside it, out of it or into it), link (out of it or into
 * it), symlink, set-times or set-size, whether through the preopen itself,
 * a directory fd opened beneath it, a file fd, renumbering, or rights the
 * guest tries to add back.  Reading still works.  The harness checks that
 * ro/ is byte-for-byte unchanged afterwards. */
#include "wt.h"

#define F __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static void refused(const char *key, int e) {
    if (e) printf("%s: refused %s\n", key, ename(e));
    else { printf("%s: ESCAPED (the call succeeded)\n", key); wt_failures++; }
}

static int raw_open(int dir, const char *path, int oflags, __wasi_rights_t base, int fdflags, int *fd) {
    return __wasi_path_open(dir, F, path, oflags, base, inheriting(dir), fdflags, (__wasi_fd_t *)fd);
}

int main(void) {
    int ro = preopen("/ro"), sb = preopen("/sandbox"), fd;
    __wasi_fdstat_t fs;
    expect("ro.fdstat", __wasi_fd_fdstat_get(ro, &fs), 0);
    check("ro.no_write_rights", !(fs.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE) &&
          !(fs.fs_rights_base & (__WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_UNLINK_FILE)),
          "no fd_write to hand down, no create/unlink");

    /* Reading works. */
    char buf[64] = { 0 };
    expect("read.libc", get_file("/ro/file.txt", buf, sizeof buf), 0);
    printf("read.data: [%.*s]\n", (int)strcspn(buf, "\n"), buf);
    expect("read.through_link", get_file("/ro/link", buf, sizeof buf), 0);
    expect("read.sub", get_file("/ro/sub/inner.txt", buf, sizeof buf), 0);
    DIR *d = opendir("/ro");
    check("read.opendir", d != NULL, "a DIR");
    if (d) closedir(d);

    /* Opening for writing in every way */
    refused("open.write_right", raw_open(ro, "file.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    refused("open.append", raw_open(ro, "file.txt", 0, __WASI_RIGHTS_FD_READ, __WASI_FDFLAGS_APPEND, &fd));
    refused("open.trunc", raw_open(ro, "file.txt", __WASI_OFLAGS_TRUNC, __WASI_RIGHTS_FD_READ, 0, &fd));
    refused("open.creat", raw_open(ro, "new.txt", __WASI_OFLAGS_CREAT, __WASI_RIGHTS_FD_READ, 0, &fd));
    refused("open.creat_excl", raw_open(ro, "new.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, 0, &fd));
    refused("open.set_size_right", raw_open(ro, "file.txt", 0, __WASI_RIGHTS_FD_FILESTAT_SET_SIZE, 0, &fd));
    refused("open.allocate_right", raw_open(ro, "file.txt", 0, __WASI_RIGHTS_FD_ALLOCATE, 0, &fd));
    refused("open.set_times_right", raw_open(ro, "file.txt", 0, __WASI_RIGHTS_FD_FILESTAT_SET_TIMES, 0, &fd));
    refused("libc.fopen_w", fopen("/ro/file.txt", "w") ? 0 : errno);
    refused("libc.fopen_a", fopen("/ro/file.txt", "a") ? 0 : errno);
    /* "r+" cannot say "I will write" through wasi-libc (it asks only for
     * the rights the directory can hand down), so the open succeeds with a
     * read-only fd and the write is what fails. */
    FILE *rp = fopen("/ro/file.txt", "r+");
    int rpe = !rp ? errno : (fputs("x", rp) < 0 || fflush(rp)) ? errno : 0;
    refused("libc.rplus_write", rpe);
    if (rp) fclose(rp);
    refused("libc.open_creat", open("/ro/new.txt", O_WRONLY | O_CREAT, 0644) < 0 ? errno : 0);
    refused("libc.open_trunc", open("/ro/file.txt", O_RDONLY | O_TRUNC) < 0 ? errno : 0);

    /* A file opened read-only cannot be turned into a writer. */
    expect("file.open", wopen(ro, "file.txt", 0, R_RD, 0, &fd), 0);
    __wasi_ciovec_t cv = { (const uint8_t *)"x", 1 };
    __wasi_size_t n;
    refused("file.fd_write", __wasi_fd_write(fd, &cv, 1, &n));
    refused("file.fd_pwrite", __wasi_fd_pwrite(fd, &cv, 1, 0, &n));
    refused("file.set_size", __wasi_fd_filestat_set_size(fd, 0));
    refused("file.allocate", __wasi_fd_allocate(fd, 0, 100));
    refused("file.set_times", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    __wasi_fd_fdstat_get(fd, &fs);
    refused("file.add_write_right", __wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base | __WASI_RIGHTS_FD_WRITE, 0));
    expect("file.append_flag", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
    refused("file.fd_write_after_append", __wasi_fd_write(fd, &cv, 1, &n));
    /* Renumbering it over a writable fd keeps its own (read-only) rights. */
    int w;
    expect("rw.open", wopen(sb, "w.txt", __WASI_OFLAGS_CREAT, R_RW, 0, &w), 0);
    expect("renumber.ro_over_rw", __wasi_fd_renumber(fd, w), 0);
    refused("renumber.fd_write", __wasi_fd_write(w, &cv, 1, &n));
    __wasi_fd_close(w);

    /* Path operations on /ro itself */
    refused("mkdir", __wasi_path_create_directory(ro, "newdir"));
    refused("unlink", __wasi_path_unlink_file(ro, "file.txt"));
    refused("unlink.link", __wasi_path_unlink_file(ro, "link"));
    refused("rmdir", __wasi_path_remove_directory(ro, "sub"));
    refused("rename.within", __wasi_path_rename(ro, "file.txt", ro, "moved.txt"));
    refused("rename.out", __wasi_path_rename(ro, "file.txt", sb, "stolen.txt"));
    refused("rename.in", __wasi_path_rename(sb, "w.txt", ro, "planted.txt"));
    refused("rename.dir_out", __wasi_path_rename(ro, "sub", sb, "sub"));
    refused("link.out", __wasi_path_link(ro, 0, "file.txt", sb, "hard.txt"));
    refused("link.in", __wasi_path_link(sb, 0, "w.txt", ro, "hard.txt"));
    refused("link.within", __wasi_path_link(ro, 0, "file.txt", ro, "hard.txt"));
    refused("symlink", __wasi_path_symlink("file.txt", ro, "newlink"));
    refused("set_times", __wasi_path_filestat_set_times(ro, 0, "file.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("set_times.follow", __wasi_path_filestat_set_times(ro, F, "link", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("set_times.dir", __wasi_path_filestat_set_times(ro, 0, ".", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("dir.set_times", __wasi_fd_filestat_set_times(ro, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("libc.unlink", unlink("/ro/file.txt") ? errno : 0);
    refused("libc.mkdir", mkdir("/ro/d", 0755) ? errno : 0);
    refused("libc.rename", rename("/ro/file.txt", "/sandbox/x") ? errno : 0);
    refused("libc.symlink", symlink("x", "/ro/y") ? errno : 0);

    /* ... and through a directory fd opened beneath it */
    int sub;
    expect("sub.open", wopen(ro, "sub", __WASI_OFLAGS_DIRECTORY, R_ANY, 0, &sub), 0);
    __wasi_fd_fdstat_get(sub, &fs);
    check("sub.no_write_rights", !(fs.fs_rights_inheriting & __WASI_RIGHTS_FD_WRITE), "no fd_write to hand down");
    refused("sub.creat", raw_open(sub, "new.txt", __WASI_OFLAGS_CREAT, 0, 0, &fd));
    refused("sub.write", raw_open(sub, "inner.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, &fd));
    refused("sub.unlink", __wasi_path_unlink_file(sub, "inner.txt"));
    refused("sub.mkdir", __wasi_path_create_directory(sub, "d"));
    refused("sub.rename_out", __wasi_path_rename(sub, "inner.txt", sb, "stolen2.txt"));
    refused("sub.add_rights", __wasi_fd_fdstat_set_rights(sub, fs.fs_rights_base | __WASI_RIGHTS_PATH_CREATE_FILE,
                                                          fs.fs_rights_inheriting));
    /* ... and through the writable sandbox, which cannot reach /ro at all */
    refused("sandbox.dotdot_ro", __wasi_path_unlink_file(sb, "../ro/file.txt"));

    /* The contents are what they were. */
    expect("reread", get_file("/ro/file.txt", buf, sizeof buf), 0);
    check("reread.same", !strcmp(buf, "read-only\n"), "read-only");
    return wt_done();
}
