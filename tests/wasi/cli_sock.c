/* cli_sock.c — sock_accept/recv/send/shutdown on a listening socket handed
 * in with `pylon wasm run --listen` (guest fd 5, after /sandbox and /ro).
 * The CLI checks run tests/wasi/sock-client.mjs against it. */
#include <poll.h>
#include "wt.h"

int main(void) {
    int ls = 5;
    __wasi_fdstat_t fs;
    expect("listener.fdstat", __wasi_fd_fdstat_get(ls, &fs), 0);
    checku("listener.filetype", fs.fs_filetype, __WASI_FILETYPE_SOCKET_STREAM);
    expect("listener.prestat", __wasi_fd_prestat_get(ls, &(__wasi_prestat_t){0}), __WASI_ERRNO_BADF);
    __wasi_fd_t c;
    expect("sock_accept.bad_flags", __wasi_sock_accept(ls, __WASI_FDFLAGS_APPEND, &c), __WASI_ERRNO_INVAL);
    fflush(stdout);
    expect("sock_accept", __wasi_sock_accept(ls, 0, &c), 0);
    __wasi_fd_fdstat_get(c, &fs);
    checku("conn.filetype", fs.fs_filetype, __WASI_FILETYPE_SOCKET_STREAM);

    char buf[64] = { 0 };
    __wasi_iovec_t iv = { (uint8_t *)buf, 5 };
    __wasi_size_t n = 0;
    __wasi_roflags_t rof = 9;
    expect("sock_recv.peek", __wasi_sock_recv(c, &iv, 1, __WASI_RIFLAGS_RECV_PEEK | __WASI_RIFLAGS_RECV_WAITALL, &n, &rof), 0);
    check("sock_recv.peek.data", n == 5 && !memcmp(buf, "ping\n", 5), "ping");
    checku("sock_recv.peek.roflags", rof, 0);
    memset(buf, 0, sizeof buf);
    expect("sock_recv", __wasi_sock_recv(c, &iv, 1, __WASI_RIFLAGS_RECV_WAITALL, &n, &rof), 0);
    check("sock_recv.data", n == 5 && !memcmp(buf, "ping\n", 5), "ping (the peek left it there)");
    expect("sock_recv.bad_flags", __wasi_sock_recv(c, &iv, 1, 4, &n, &rof), __WASI_ERRNO_INVAL);

    __wasi_ciovec_t cv[2] = { { (const uint8_t *)"po", 2 }, { (const uint8_t *)"ng\n", 3 } };
    expect("sock_send", __wasi_sock_send(c, cv, 2, 0, &n), 0);
    checku("sock_send.n", n, 5);
    expect("sock_send.bad_flags", __wasi_sock_send(c, cv, 1, 1, &n), __WASI_ERRNO_INVAL);
    /* Plain fd_write works on a socket too. */
    checku("fd_write", write(c, "more\n", 5), 5);
    expect("sock_shutdown.bad", __wasi_sock_shutdown(c, 0), __WASI_ERRNO_INVAL);
    expect("sock_shutdown.wr", __wasi_sock_shutdown(c, __WASI_SDFLAGS_WR), 0);

    /* The client answers our EOF with "bye" and closes. */
    struct pollfd p = { c, POLLIN, 0 };
    checku("poll.readable", poll(&p, 1, 10000), 1);
    char all[64] = { 0 };
    size_t got = 0;
    for (;;) {
        __wasi_iovec_t rv = { (uint8_t *)all + got, sizeof all - 1 - got };
        if (__wasi_sock_recv(c, &rv, 1, 0, &n, &rof) || n == 0) break;
        got += n;
    }
    printf("client said: [%s]\n", all);
    expect("fd_close", __wasi_fd_close(c), 0);

    /* A non-blocking listener with nobody waiting: EAGAIN, not a hang. */
    expect("listener.nonblock", __wasi_fd_fdstat_set_flags(ls, __WASI_FDFLAGS_NONBLOCK), 0);
    expect("sock_accept.nobody", __wasi_sock_accept(ls, 0, &c), __WASI_ERRNO_AGAIN);
    expect("sock_shutdown.listener", __wasi_sock_shutdown(ls, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), 0);
    return wt_done();
}
