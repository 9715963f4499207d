/* cli_sigint.c — Ctrl-C under `pylon run` without CPython, for
 * tests/wasi/cli-checks.sh.  It exports the hook `pylon run` calls on
 * SIGINT (PyErr_SetInterrupt, as python.wasm does) and then waits the way
 * CPython does in time.sleep (nanosleep: poll_oneoff on a clock only) or in
 * a read of stdin (fd_read on a pipe), and reports what the wait returned.
 *
 * What must happen: the sleep ends early and returns 0 (wasi-libc turns any
 * error of that poll_oneoff into ENOTSUP, which CPython raised as
 * OSError "Not supported" instead of KeyboardInterrupt), the read fails
 * with EINTR (CPython then runs its signal check), and in both cases the
 * hook runs right after, at the guest's next safepoint.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int hooked;

__attribute__((export_name("PyErr_SetInterrupt")))
void hook(void) { hooked++; }

/* Calling the constructors here, as guest/python/crt_command.c does, keeps
 * wasm-ld from wrapping every export in constructor and destructor calls
 * (Debian's crt1-command.o does not call them): the hook must be just the
 * hook, as in python.wasm.  Nothing runs the destructors then, so the
 * program flushes its output itself. */
extern void __wasm_call_ctors(void);

int main(int argc, char **argv) {
    __wasm_call_ctors();
    const char *mode = argc > 1 ? argv[argc - 1] : "sleep";   /* pylon run -c MODE */
    printf("ready\n");
    fflush(stdout);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r, e = 0;
    if (!strcmp(mode, "sleep")) {
        struct timespec d = { 30, 0 };
        r = nanosleep(&d, NULL);
    } else {
        char b[8];
        r = (int)read(0, b, sizeof b);
    }
    if (r < 0) e = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* the hook is called at a safepoint after the wait returns: loop a little */
    for (volatile int i = 0; i < 1000000 && !hooked; i++) {}
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s: returned %d (%s), %s, hook %s\n", mode, r, r < 0 ? strerror(e) : "ok",
           secs < 20 ? "early" : "after the full wait", hooked ? "called" : "not called");
    fflush(stdout);
    return 0;
}
