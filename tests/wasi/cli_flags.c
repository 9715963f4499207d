/* cli_flags.c — sets O_NONBLOCK and O_APPEND on its stdout, which it
 * shares with the host; the CLI checks verify the host gets its flags back
 * when the guest is done. */
#include <stdio.h>
#include <wasi/api.h>

int main(void) {
    int e = __wasi_fd_fdstat_set_flags(1, __WASI_FDFLAGS_NONBLOCK | __WASI_FDFLAGS_APPEND);
    printf("set_flags: %d\n", e);
    return 0;
}
