/* cli_pipe.c — stdin as a pipe: poll_oneoff reports it readable with the
 * bytes waiting, a read gets them, and once the writer is gone the event
 * says hangup.  The CLI checks feed it "abc" through a pipe. */
#include "wt.h"

static int poll_stdin(uint64_t timeout_ns, __wasi_event_t *ev) {
    __wasi_subscription_t s[2];
    memset(s, 0, sizeof s);
    s[0].userdata = 1;
    s[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    s[0].u.u.fd_read.file_descriptor = 0;
    s[1].userdata = 2;
    s[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    s[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s[1].u.u.clock.timeout = timeout_ns;
    __wasi_size_t n = 0;
    int e = __wasi_poll_oneoff(s, ev, 2, &n);
    return e ? -e : (int)n;
}

int main(void) {
    __wasi_fdstat_t fs;
    __wasi_fd_fdstat_get(0, &fs);
    checku("stdin.filetype", fs.fs_filetype, __WASI_FILETYPE_UNKNOWN);
    check("stdin.not_a_tty", !isatty(0), "a pipe is no terminal");
    __wasi_event_t ev[2];
    checku("poll.events", poll_stdin(5000000000ull, ev), 1);
    checku("poll.userdata", ev[0].userdata, 1);
    checku("poll.nbytes", ev[0].fd_readwrite.nbytes, 3);
    char buf[8] = { 0 };
    checku("read", read(0, buf, sizeof buf), 3);
    check("read.data", !strcmp(buf, "abc"), "abc");
    checku("poll.hangup.events", poll_stdin(5000000000ull, ev), 1);
    checku("poll.hangup.flag", ev[0].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP,
           __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP);
    checku("read.eof", read(0, buf, sizeof buf), 0);
    /* stdout is a pipe too */
    __wasi_fd_fdstat_get(1, &fs);
    checku("stdout.filetype", fs.fs_filetype, __WASI_FILETYPE_UNKNOWN);
    expect("stdout.seek", lseek(1, 0, SEEK_CUR) < 0 ? errno : 0, ESPIPE);
    return wt_done();
}
