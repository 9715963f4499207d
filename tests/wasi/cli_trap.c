/* cli_trap.c — traps on purpose, for the CLI checks: `unreachable` two
 * named frames deep (the backtrace must name them), or an out-of-bounds
 * store with the argument "oob". */
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) void crash_here(int x) {
    if (x > 0) __builtin_trap();
}

__attribute__((noinline)) void middle_frame(int x) {
    crash_here(x + 1);
    printf("not reached\n");
}

int main(int argc, char **argv) {
    printf("before the trap\n");
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "oob")) *(volatile int *)0xfffffff0u = 1;
    middle_frame(argc);
    return 0;
}
