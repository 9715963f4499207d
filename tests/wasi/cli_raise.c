/* cli_raise.c — proc_raise: an ignorable signal is a no-op, SIGTERM ends the
 * guest as a trap (it never reaches the host as a real signal). */
#include <stdio.h>
#include <stdint.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

int main(void) {
    printf("SIGCHLD: %d\n", raw_proc_raise(16));
    printf("SIGWINCH: %d\n", raw_proc_raise(27));
    fflush(stdout);
    raw_proc_raise(15);
    printf("not reached\n");
    return 0;
}
