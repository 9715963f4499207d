/* fd_large.c — 64-bit offsets: a sparse file written, read, sought, grown
 * and truncated past 4 GiB, where a 32-bit offset would wrap. */
#include "wt.h"

#define GiB (1ull << 30)

int main(void) {
    int sb = preopen("/sandbox"), fd;
    expect("open", wopen(sb, "big.bin", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, R_RW, 0, &fd), 0);
    __wasi_size_t n;
    __wasi_ciovec_t cv = { (const uint8_t *)"END", 3 };
    expect("fd_pwrite.5GiB", __wasi_fd_pwrite(fd, &cv, 1, 5 * GiB, &n), 0);
    checku("fd_pwrite.5GiB.n", n, 3);
    __wasi_filestat_t st;
    expect("fd_filestat_get", __wasi_fd_filestat_get(fd, &st), 0);
    checku("size.5GiB+3", st.size, 5 * GiB + 3);

    char buf[8] = { 0 };
    __wasi_iovec_t iv = { (uint8_t *)buf, 3 };
    expect("fd_pread.5GiB", __wasi_fd_pread(fd, &iv, 1, 5 * GiB, &n), 0);
    check("fd_pread.5GiB.data", n == 3 && !memcmp(buf, "END", 3), "END");
    /* 5 GiB mod 4 GiB = 1 GiB: a wrapped offset would read a hole. */
    iv.buf_len = 3;
    expect("fd_pread.1GiB", __wasi_fd_pread(fd, &iv, 1, 1 * GiB, &n), 0);
    check("fd_pread.1GiB.hole", n == 3 && !buf[0] && !buf[1] && !buf[2], "zeros");

    __wasi_filesize_t pos;
    expect("fd_seek.6GiB", __wasi_fd_seek(fd, (__wasi_filedelta_t)(6 * GiB), __WASI_WHENCE_SET, &pos), 0);
    checku("fd_seek.6GiB.pos", pos, 6 * GiB);
    expect("fd_tell", __wasi_fd_tell(fd, &pos), 0);
    checku("fd_tell.pos", pos, 6 * GiB);
    cv.buf = (const uint8_t *)"Z";
    cv.buf_len = 1;
    expect("fd_write.6GiB", __wasi_fd_write(fd, &cv, 1, &n), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("size.6GiB+1", st.size, 6 * GiB + 1);
    expect("fd_seek.end-1", __wasi_fd_seek(fd, -1, __WASI_WHENCE_END, &pos), 0);
    checku("fd_seek.end-1.pos", pos, 6 * GiB);
    iv.buf_len = 4;
    expect("fd_read.6GiB", __wasi_fd_read(fd, &iv, 1, &n), 0);
    check("fd_read.6GiB.data", n == 1 && buf[0] == 'Z', "Z then EOF");
    expect("fd_seek.cur-2GiB", __wasi_fd_seek(fd, -(__wasi_filedelta_t)(2 * GiB), __WASI_WHENCE_CUR, &pos), 0);
    checku("fd_seek.cur-2GiB.pos", pos, 4 * GiB + 1);

    expect("fd_filestat_set_size.4GiB+1", __wasi_fd_filestat_set_size(fd, 4 * GiB + 1), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("size.4GiB+1", st.size, 4 * GiB + 1);
    expect("fd_seek.end", __wasi_fd_seek(fd, 0, __WASI_WHENCE_END, &pos), 0);
    checku("fd_seek.end.pos", pos, 4 * GiB + 1);
    expect("fd_allocate.past4GiB", __wasi_fd_allocate(fd, 4 * GiB, 100), 0);
    __wasi_fd_filestat_get(fd, &st);
    checku("size.after_allocate", st.size, 4 * GiB + 100);

    __wasi_filestat_t pst;
    expect("path_filestat_get", __wasi_path_filestat_get(sb, 0, "big.bin", &pst), 0);
    checku("path_filestat_get.size", pst.size, 4 * GiB + 100);

    /* libc: off_t is 64-bit in wasi-libc */
    int lfd = open("/sandbox/big.bin", O_RDONLY);
    off_t o = lseek(lfd, (off_t)(5 * GiB), SEEK_SET);
    checku("libc.lseek.5GiB", (uint64_t)o, 5 * GiB);
    struct stat sst;
    fstat(lfd, &sst);
    checku("libc.fstat.size", (uint64_t)sst.st_size, 4 * GiB + 100);
    close(lfd);
    __wasi_fd_close(fd);
    expect("unlink", __wasi_path_unlink_file(sb, "big.bin"), 0);
    return wt_done();
}
