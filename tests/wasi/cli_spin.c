/* cli_spin.c — never ends, for --fuel and --timeout: a busy loop, or with
 * "sleep" a 60-second poll_oneoff, or with "stdin" a read of stdin. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    printf("started\n");
    fflush(stdout);
    if (argc > 1 && !strcmp(argv[1], "sleep")) { sleep(60); return 0; }
    if (argc > 1 && !strcmp(argv[1], "stdin")) {
        char buf[16];
        ssize_t n = read(0, buf, sizeof buf);
        printf("read %zd\n", n);
        return 0;
    }
    volatile unsigned long x = 0;
    for (;;) x++;
}
