/* proc.c — proc_raise with harmless signals and bad numbers, sched_yield,
 * then proc_exit with a code the runtime must pass through (7). */
#include "wt.h"

int main(void) {
    expect("proc_raise.none", raw_proc_raise(0), 0);
    show("proc_raise.invalid", raw_proc_raise(99));
    expect("sched_yield", __wasi_sched_yield(), 0);
    printf("done: %d failures\n", wt_failures);
    fflush(stdout);
    __wasi_proc_exit(7);
}
