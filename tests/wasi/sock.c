/* sock.c — sock_* where no socket was handed in: on files, stdio and
 * unknown fds they fail (ENOTSUP for an fd that is not a socket, EBADF for
 * one that is not open) and do nothing.  sock_listen.c covers real sockets. */
#include "wt.h"

int main(void) {
    __wasi_fd_t nfd;
    __wasi_size_t n;
    __wasi_roflags_t rof;
    char buf[8];
    __wasi_iovec_t iv = { (uint8_t *)buf, sizeof buf };
    __wasi_ciovec_t cv = { (const uint8_t *)"x", 1 };
    int sb = preopen("/sandbox"), fd;
    put_file("/sandbox/f", "data");
    wopen(sb, "f", 0, R_RW, 0, &fd);
    int fds[] = { 0, 1, fd, sb };
    const char *names[] = { "stdin", "stdout", "file", "dir" };
    for (int i = 0; i < 4; i++) {
        char key[48];
        snprintf(key, sizeof key, "%s.sock_accept", names[i]);
        show(key, __wasi_sock_accept(fds[i], 0, &nfd));
        snprintf(key, sizeof key, "%s.sock_recv", names[i]);
        show(key, __wasi_sock_recv(fds[i], &iv, 1, 0, &n, &rof));
        snprintf(key, sizeof key, "%s.sock_send", names[i]);
        show(key, __wasi_sock_send(fds[i], &cv, 1, 0, &n));
        snprintf(key, sizeof key, "%s.sock_shutdown", names[i]);
        show(key, __wasi_sock_shutdown(fds[i], __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR));
    }
    expect("badf.sock_accept", __wasi_sock_accept(500, 0, &nfd), __WASI_ERRNO_BADF);
    expect("badf.sock_recv", __wasi_sock_recv(500, &iv, 1, 0, &n, &rof), __WASI_ERRNO_BADF);
    expect("badf.sock_send", __wasi_sock_send(500, &cv, 1, 0, &n), __WASI_ERRNO_BADF);
    expect("badf.sock_shutdown", __wasi_sock_shutdown(500, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
    /* Nothing was read from or written to the file. */
    char all[16] = { 0 };
    check("file.untouched", !get_file("/sandbox/f", all, sizeof all) && !strcmp(all, "data"), "data");
    return wt_done();
}
