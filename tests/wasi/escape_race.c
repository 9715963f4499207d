/* escape_race.c — races between check and open.  While this program runs,
 * the harness flips the symlink sandbox/swap, atomically and as fast as it
 * can, between `inside` and two targets outside the sandbox.  A resolver
 * that checks a path and then opens it by name can be made to open the
 * outside target; Pylon's never names a path twice, so every attempt either
 * lands inside or is refused. */
#include "wt.h"

int main(void) {
    int sb = preopen("/sandbox");
    int escaped = 0, created_out = 0, inside = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        int fd;
        if (wopen(sb, "swap/x.txt", 0, R_RD, 0, &fd) == 0) {
            char buf[32] = { 0 };
            __wasi_iovec_t iv = { (uint8_t *)buf, sizeof buf - 1 };
            __wasi_size_t n;
            __wasi_fd_read(fd, &iv, 1, &n);
            __wasi_fd_close(fd);
            if (strstr(buf, "SECRET")) escaped++;
            else inside++;
        } else refused++;
        /* Creating and timestamping through the flipping link. */
        if (wopen(sb, "swap/planted.txt", __WASI_OFLAGS_CREAT, R_RW, 0, &fd) == 0) {
            __wasi_filestat_t st;
            __wasi_fd_close(fd);
            /* Was it made outside?  outside/dir holds only x.txt otherwise. */
            if (__wasi_path_filestat_get(sb, 0, "inside/planted.txt", &st) != 0) created_out++;
            __wasi_path_unlink_file(sb, "inside/planted.txt");
        }
        __wasi_path_filestat_set_times(sb, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "swap/x.txt",
                                       0, 0, __WASI_FSTFLAGS_MTIM_NOW);
    }
    /* How often each state was met varies from run to run: stderr only. */
    fprintf(stderr, "race: %d opens inside, %d refused, %d outside\n", inside, refused, escaped);
    if (escaped) printf("race.open: ESCAPED %d times\n", escaped);
    else printf("race.open: never outside\n");
    if (created_out) printf("race.create: ESCAPED (%d files made outside)\n", created_out);
    else printf("race.create: never outside\n");
    return escaped || created_out ? 1 : wt_done();
}
