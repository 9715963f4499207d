/* cli_tty.c — stdio on a terminal: a character device without seek/tell
 * rights (that is how wasi-libc's isatty() recognises one).  The CLI checks
 * run it under script(1) to give it a pseudo-terminal. */
#include "wt.h"

int main(void) {
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t fs;
        char key[32];
        snprintf(key, sizeof key, "fd%d.filetype", fd);
        __wasi_fd_fdstat_get(fd, &fs);
        checku(key, fs.fs_filetype, __WASI_FILETYPE_CHARACTER_DEVICE);
        snprintf(key, sizeof key, "fd%d.isatty", fd);
        check(key, isatty(fd), "a terminal");
    }
    return wt_done();
}
