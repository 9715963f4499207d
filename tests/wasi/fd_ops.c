/* fd_ops.c — the fd_* functions on regular files and stdio: write/read with
 * several iovecs, short reads, seek/tell, pread/pwrite, filestat get/set
 * size/set times, allocate, advise, sync/datasync, fdstat get/set flags/set
 * rights, renumber, close, prestat, and the errors (EBADF, EINVAL,
 * ENOTCAPABLE, ...). */
#include "wt.h"

static int fd_open(int dir, const char *path, int oflags, __wasi_rights_t rights) {
    int fd;
    int e = wopen(dir, path, oflags, rights, 0, &fd);
    if (e) { printf("open %s: FAIL %s\n", path, ename(e)); exit(1); }
    return fd;
}

static size_t wr(int fd, const char *s) {
    __wasi_ciovec_t v = { (const uint8_t *)s, strlen(s) };
    __wasi_size_t n = 0;
    int e = __wasi_fd_write(fd, &v, 1, &n);
    return e ? (size_t)-1 : n;
}

int main(void) {
    int sb = preopen("/sandbox");
    int fd = fd_open(sb, "f.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, R_RW);

    /* fd_write gathers several iovecs, zero-length ones included. */
    __wasi_ciovec_t out[3] = { { (const uint8_t *)"hello", 5 }, { (const uint8_t *)"", 0 },
                               { (const uint8_t *)" world", 6 } };
    __wasi_size_t n = 0;
    expect("fd_write.iovs", __wasi_fd_write(fd, out, 3, &n), 0);
    checku("fd_write.nwritten", n, 11);
    expect("fd_write.no_iovs", __wasi_fd_write(fd, out, 0, &n), 0);
    checku("fd_write.no_iovs.n", n, 0);

    __wasi_filesize_t pos = 99;
    expect("fd_tell", __wasi_fd_tell(fd, &pos), 0);
    checku("fd_tell.pos", pos, 11);
    expect("fd_seek.set0", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos), 0);
    checku("fd_seek.set0.pos", pos, 0);

    /* A short read: two buffers bigger than what is left. */
    char a[4], b[100];
    __wasi_iovec_t in[2] = { { (uint8_t *)a, sizeof a }, { (uint8_t *)b, sizeof b } };
    expect("fd_read.iovs", __wasi_fd_read(fd, in, 2, &n), 0);
    checku("fd_read.short", n, 11);
    check("fd_read.scatter", !memcmp(a, "hell", 4) && !memcmp(b, "o world", 7), "hell|o world");
    expect("fd_read.eof", __wasi_fd_read(fd, in, 2, &n), 0);
    checku("fd_read.eof.n", n, 0);

    expect("fd_seek.cur-5", __wasi_fd_seek(fd, -5, __WASI_WHENCE_CUR, &pos), 0);
    checku("fd_seek.cur-5.pos", pos, 6);
    expect("fd_seek.end", __wasi_fd_seek(fd, 0, __WASI_WHENCE_END, &pos), 0);
    checku("fd_seek.end.pos", pos, 11);
    expect("fd_seek.end+10", __wasi_fd_seek(fd, 10, __WASI_WHENCE_END, &pos), 0);
    checku("fd_seek.end+10.pos", pos, 21);
    expect("fd_seek.negative", __wasi_fd_seek(fd, -100, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_INVAL);
    expect("fd_seek.bad_whence", __wasi_fd_seek(fd, 0, 3, &pos), __WASI_ERRNO_INVAL);
    expect("fd_seek.back", __wasi_fd_seek(fd, 3, __WASI_WHENCE_SET, &pos), 0);

    /* pread/pwrite leave the position alone. */
    char p[16] = { 0 };
    __wasi_iovec_t pv = { (uint8_t *)p, 5 };
    expect("fd_pread", __wasi_fd_pread(fd, &pv, 1, 2, &n), 0);
    check("fd_pread.data", n == 5 && !memcmp(p, "llo w", 5), "llo w");
    expect("fd_pread.past_eof", __wasi_fd_pread(fd, &pv, 1, 1000, &n), 0);
    checku("fd_pread.past_eof.n", n, 0);
    __wasi_ciovec_t cv = { (const uint8_t *)"HE", 2 };
    expect("fd_pwrite", __wasi_fd_pwrite(fd, &cv, 1, 0, &n), 0);
    checku("fd_pwrite.n", n, 2);
    expect("fd_tell.after_p", __wasi_fd_tell(fd, &pos), 0);
    checku("fd_tell.after_p.pos", pos, 3);
    char all[32] = { 0 };
    check("fd_pwrite.data", !get_file("/sandbox/f.txt", all, sizeof all) &&
          !strcmp(all, "HEllo world"), "HEllo world");

    /* filestat */
    __wasi_filestat_t st;
    expect("fd_filestat_get", __wasi_fd_filestat_get(fd, &st), 0);
    checku("fd_filestat_get.filetype", st.filetype, __WASI_FILETYPE_REGULAR_FILE);
    checku("fd_filestat_get.size", st.size, 11);
    checku("fd_filestat_get.nlink", st.nlink, 1);
    expect("fd_filestat_set_size.grow", __wasi_fd_filestat_set_size(fd, 100), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_filestat_set_size.grow.size", st.size, 100);
    memset(p, 1, sizeof p);
    pv.buf_len = 4;
    __wasi_fd_pread(fd, &pv, 1, 96, &n);
    check("fd_filestat_set_size.zeros", n == 4 && !p[0] && !p[1] && !p[2] && !p[3], "4 zero bytes");
    expect("fd_filestat_set_size.shrink", __wasi_fd_filestat_set_size(fd, 5), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_filestat_set_size.shrink.size", st.size, 5);

    __wasi_timestamp_t at = 1600000000ull * 1000000000ull + 123456789,
                       mt = 1500000000ull * 1000000000ull + 987654321;
    expect("fd_filestat_set_times", __wasi_fd_filestat_set_times(
               fd, at, mt, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_filestat_set_times.atim_s", st.atim / 1000000000ull, at / 1000000000ull);
    checku("fd_filestat_set_times.mtim_s", st.mtim / 1000000000ull, mt / 1000000000ull);
    checku("fd_filestat_set_times.atim_ns", st.atim, at);
    checku("fd_filestat_set_times.mtim_ns", st.mtim, mt);
    expect("fd_filestat_set_times.mtim_only", __wasi_fd_filestat_set_times(
               fd, 0, 1400000000ull * 1000000000ull, __WASI_FSTFLAGS_MTIM), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_filestat_set_times.mtim_only.atim_s", st.atim / 1000000000ull, at / 1000000000ull);
    checku("fd_filestat_set_times.mtim_only.mtim_s", st.mtim / 1000000000ull, 1400000000ull);
    __wasi_timestamp_t now = 0;
    __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now);
    expect("fd_filestat_set_times.now", __wasi_fd_filestat_set_times(
               fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW), 0);
    __wasi_fd_filestat_get(fd, &st);
    check("fd_filestat_set_times.now.close", st.mtim + 60000000000ull > now &&
          st.mtim < now + 60000000000ull, "mtime within a minute of now");
    expect("fd_filestat_set_times.both_atim", __wasi_fd_filestat_set_times(
               fd, 1, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL);
    expect("fd_filestat_set_times.both_mtim", __wasi_fd_filestat_set_times(
               fd, 0, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_INVAL);

    /* allocate, advise, sync */
    expect("fd_allocate", __wasi_fd_allocate(fd, 0, 4096), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_allocate.size", st.size, 4096);
    expect("fd_allocate.inside", __wasi_fd_allocate(fd, 10, 10), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("fd_allocate.inside.size", st.size, 4096);
    for (int adv = 0; adv <= 5; adv++) {
        char key[32];
        snprintf(key, sizeof key, "fd_advise.%d", adv);
        expect(key, __wasi_fd_advise(fd, 0, 100, adv), 0);
    }
    expect("fd_advise.invalid", __wasi_fd_advise(fd, 0, 100, 9), __WASI_ERRNO_INVAL);
    expect("fd_sync", __wasi_fd_sync(fd), 0);
    expect("fd_datasync", __wasi_fd_datasync(fd), 0);

    /* fdstat and flags */
    __wasi_fdstat_t fs;
    expect("fd_fdstat_get", __wasi_fd_fdstat_get(fd, &fs), 0);
    checku("fd_fdstat_get.filetype", fs.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
    checku("fd_fdstat_get.flags", fs.fs_flags, 0);
    check("fd_fdstat_get.rights", (fs.fs_rights_base & (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE)) ==
          (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE), "read and write rights");
    __wasi_fd_filestat_set_size(fd, 0);
    __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos);
    wr(fd, "0123456789");
    expect("fd_fdstat_set_flags.append", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0);
    __wasi_fd_fdstat_get(fd, &fs);
    checku("fd_fdstat_set_flags.append.flags", fs.fs_flags, __WASI_FDFLAGS_APPEND);
    __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos);
    wr(fd, "AB");
    check("fd_fdstat_set_flags.append.data", !get_file("/sandbox/f.txt", all, sizeof all) &&
          !strcmp(all, "0123456789AB"), "0123456789AB");
    expect("fd_fdstat_set_flags.clear", __wasi_fd_fdstat_set_flags(fd, 0), 0);
    __wasi_fd_fdstat_get(fd, &fs);
    checku("fd_fdstat_set_flags.clear.flags", fs.fs_flags, 0);
    expect("fd_fdstat_set_flags.nonblock", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK), 0);
    __wasi_fd_fdstat_get(fd, &fs);
    checku("fd_fdstat_set_flags.nonblock.flags", fs.fs_flags, __WASI_FDFLAGS_NONBLOCK);
    __wasi_fd_fdstat_set_flags(fd, 0);
    show("fd_fdstat_set_flags.sync", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_SYNC));

    /* Rights only shrink, and shrunken rights are enforced. */
    __wasi_fd_fdstat_get(fd, &fs);
    __wasi_rights_t full = fs.fs_rights_base;
    expect("fd_fdstat_set_rights.drop_write", __wasi_fd_fdstat_set_rights(
               fd, full & ~__WASI_RIGHTS_FD_WRITE, fs.fs_rights_inheriting), 0);
    expect("fd_write.without_right", __wasi_fd_write(fd, out, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    expect("fd_read.still_allowed", __wasi_fd_pread(fd, &pv, 1, 0, &n), 0);
    expect("fd_fdstat_set_rights.regrow", __wasi_fd_fdstat_set_rights(
               fd, full, fs.fs_rights_inheriting), __WASI_ERRNO_NOTCAPABLE);
    expect("fd_fdstat_set_rights.drop_seek", __wasi_fd_fdstat_set_rights(
               fd, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_TELL, 0), 0);
    expect("fd_seek.without_right", __wasi_fd_seek(fd, 1, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_NOTCAPABLE);
    expect("fd_tell.with_tell_right", __wasi_fd_tell(fd, &pos), 0);
    expect("fd_filestat_get.without_right", __wasi_fd_filestat_get(fd, &st), __WASI_ERRNO_NOTCAPABLE);
    expect("fd_close", __wasi_fd_close(fd), 0);
    expect("fd_close.again", __wasi_fd_close(fd), __WASI_ERRNO_BADF);

    /* EBADF everywhere for an fd that is not open. */
    int bad = 4000;
    expect("ebadf.fd_write", __wasi_fd_write(bad, out, 1, &n), __WASI_ERRNO_BADF);
    expect("ebadf.fd_read", __wasi_fd_read(bad, in, 1, &n), __WASI_ERRNO_BADF);
    expect("ebadf.fd_seek", __wasi_fd_seek(bad, 0, 0, &pos), __WASI_ERRNO_BADF);
    expect("ebadf.fd_tell", __wasi_fd_tell(bad, &pos), __WASI_ERRNO_BADF);
    expect("ebadf.fd_fdstat_get", __wasi_fd_fdstat_get(bad, &fs), __WASI_ERRNO_BADF);
    expect("ebadf.fd_filestat_get", __wasi_fd_filestat_get(bad, &st), __WASI_ERRNO_BADF);
    expect("ebadf.fd_sync", __wasi_fd_sync(bad), __WASI_ERRNO_BADF);
    expect("ebadf.fd_datasync", __wasi_fd_datasync(bad), __WASI_ERRNO_BADF);
    expect("ebadf.fd_advise", __wasi_fd_advise(bad, 0, 0, 0), __WASI_ERRNO_BADF);
    expect("ebadf.fd_allocate", __wasi_fd_allocate(bad, 0, 1), __WASI_ERRNO_BADF);
    expect("ebadf.fd_pread", __wasi_fd_pread(bad, &pv, 1, 0, &n), __WASI_ERRNO_BADF);
    expect("ebadf.fd_pwrite", __wasi_fd_pwrite(bad, &cv, 1, 0, &n), __WASI_ERRNO_BADF);
    expect("ebadf.fd_close", __wasi_fd_close(bad), __WASI_ERRNO_BADF);
    expect("ebadf.fd_prestat_get", __wasi_fd_prestat_get(bad, &(__wasi_prestat_t){0}), __WASI_ERRNO_BADF);
    expect("ebadf.fd_renumber", __wasi_fd_renumber(bad, 1), __WASI_ERRNO_BADF);
    expect("ebadf.fd_filestat_set_size", __wasi_fd_filestat_set_size(bad, 0), __WASI_ERRNO_BADF);
    expect("ebadf.fd_fdstat_set_flags", __wasi_fd_fdstat_set_flags(bad, 0), __WASI_ERRNO_BADF);

    /* renumber: the target slot takes over the source's file. */
    int x = fd_open(sb, "x.txt", __WASI_OFLAGS_CREAT, R_RW);
    int y = fd_open(sb, "y.txt", __WASI_OFLAGS_CREAT, R_RW);
    wr(x, "from x");
    expect("fd_renumber", __wasi_fd_renumber(x, y), 0);
    expect("fd_renumber.source_gone", __wasi_fd_fdstat_get(x, &fs), __WASI_ERRNO_BADF);
    __wasi_fd_filestat_get(y, &st);
    checku("fd_renumber.target_is_x", st.size, 6);
    expect("fd_renumber.self", __wasi_fd_renumber(y, y), 0);
    expect("fd_renumber.to_closed", __wasi_fd_renumber(y, 3999), __WASI_ERRNO_BADF);
    __wasi_fd_close(y);

    /* stdio: the harness gives stdin from a file and stdout to a file. */
    char line[64] = { 0 };
    __wasi_iovec_t lv = { (uint8_t *)line, 9 };
    expect("stdin.fd_read", __wasi_fd_read(0, &lv, 1, &n), 0);
    printf("stdin.data: [%.*s]\n", (int)n, line);
    expect("stdin.fdstat", __wasi_fd_fdstat_get(0, &fs), 0);
    checku("stdin.filetype", fs.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
    expect("stdout.fdstat", __wasi_fd_fdstat_get(1, &fs), 0);
    checku("stdout.filetype", fs.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
    check("stdout.can_write", (fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE) != 0, "fd_write right");
    fflush(stdout);
    expect("stdout.fd_write", wr(1, "stdout.raw: written\n") == 20 ? 0 : 1, 0);
    expect("stdout.prestat", __wasi_fd_prestat_get(1, &(__wasi_prestat_t){0}), __WASI_ERRNO_BADF);
    check("stdout.isatty", !isatty(1), "stdout is a file, not a terminal");

    /* prestat of the preopens */
    __wasi_prestat_t ps;
    expect("fd_prestat_get", __wasi_fd_prestat_get(sb, &ps), 0);
    checku("fd_prestat_get.tag", ps.tag, __WASI_PREOPENTYPE_DIR);
    checku("fd_prestat_get.len", ps.u.dir.pr_name_len, 8);
    char name[16] = { 0 };
    expect("fd_prestat_dir_name", __wasi_fd_prestat_dir_name(sb, (uint8_t *)name, 8), 0);
    printf("fd_prestat_dir_name.name: [%s]\n", name);
    show("fd_prestat_dir_name.short", __wasi_fd_prestat_dir_name(sb, (uint8_t *)name, 3));

    /* A directory is not a file. */
    expect("dir.fd_read", __wasi_fd_read(sb, &lv, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    expect("dir.fd_write", __wasi_fd_write(sb, &cv, 1, &n), __WASI_ERRNO_NOTCAPABLE);
    expect("dir.fdstat", __wasi_fd_fdstat_get(sb, &fs), 0);
    checku("dir.filetype", fs.fs_filetype, __WASI_FILETYPE_DIRECTORY);
    expect("dir.filestat", __wasi_fd_filestat_get(sb, &st), 0);
    checku("dir.filestat.filetype", st.filetype, __WASI_FILETYPE_DIRECTORY);

    /* libc on top */
    FILE *f = fopen("/sandbox/libc.txt", "w+");
    check("libc.fopen", f != NULL, "a FILE");
    fprintf(f, "number %d\n", 42);
    rewind(f);
    int v = 0;
    check("libc.fscanf", fscanf(f, "number %d", &v) == 1 && v == 42, "42");
    fclose(f);
    struct stat sst;
    check("libc.stat", stat("/sandbox/libc.txt", &sst) == 0 && sst.st_size == 10 &&
          S_ISREG(sst.st_mode), "a 10-byte regular file");
    int lfd = open("/sandbox/libc.txt", O_RDONLY);
    expect("libc.write_readonly", write(lfd, "x", 1) < 0 ? errno : 0, EBADF);
    close(lfd);
    expect("libc.lseek_badf", lseek(12345, 0, SEEK_SET) < 0 ? errno : 0, EBADF);
    return wt_done();
}
