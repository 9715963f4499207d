/* efault.c — guest pointers and lengths that leave linear memory: every
 * call must answer EFAULT (and write nothing) rather than touch the host. */
#include "wt.h"

#define BAD 0xfffffff0
static uint8_t iov[8];

int main(void) {
    int sb = preopen("/sandbox");
    /* an iovec array outside memory; an iovec whose buffer is outside */
    expect("fd_write.iovs", raw_fd_write(1, BAD, 1, (int32_t)(uintptr_t)iov), __WASI_ERRNO_FAULT);
    uint32_t v[2] = { BAD, 64 };
    __wasi_size_t n;
    expect("fd_write.buf", raw_fd_write(1, (int32_t)(uintptr_t)v, 1, (int32_t)(uintptr_t)&n), __WASI_ERRNO_FAULT);
    expect("fd_read.buf", raw_fd_read(0, (int32_t)(uintptr_t)v, 1, (int32_t)(uintptr_t)&n), __WASI_ERRNO_FAULT);
    expect("fd_write.result", raw_fd_write(1, (int32_t)(uintptr_t)v, 0, BAD), __WASI_ERRNO_FAULT);
    expect("random_get", raw_random_get(BAD, 64), __WASI_ERRNO_FAULT);
    expect("random_get.len", raw_random_get(0, 0x7fffffff), __WASI_ERRNO_FAULT);
    expect("args_get", raw_args_get(BAD, BAD), __WASI_ERRNO_FAULT);
    expect("clock_time_get", raw_clock_time_get(1, 0, BAD), __WASI_ERRNO_FAULT);
    expect("path_create_directory", raw_path_create_directory(sb, BAD, 10), __WASI_ERRNO_FAULT);
    expect("path_open.path", raw_path_open(sb, 0, BAD, 4, 0, 0, 0, 0, (int32_t)(uintptr_t)iov), __WASI_ERRNO_FAULT);
    expect("fd_prestat_dir_name", raw_fd_prestat_dir_name(sb, BAD, 8), __WASI_ERRNO_FAULT);
    /* nothing was made */
    __wasi_filestat_t st;
    expect("sandbox.still_empty", __wasi_path_filestat_get(sb, 0, "x", &st), __WASI_ERRNO_NOENT);
    return wt_done();
}
