/* readdir.c — fd_readdir: a directory with hundreds of entries read through
 * libc and through raw fd_readdir with buffers so small that entries are
 * cut (the guest must resume from the last whole entry's cookie), entry
 * types, cookies (telldir/seekdir), rewinding, and errors. */
#include "wt.h"

#define NFILES 600

static int seen[NFILES];

static int is_dot(const char *n, size_t len) {
    return (len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.');
}

/* Reads the whole directory with raw fd_readdir and `bufsize`-byte buffers;
 * returns the number of entries other than . and .., and marks file-NNNN. */
static int raw_list(int fd, size_t bufsize, int *dots, int *bad_types, int *calls) {
    uint8_t *buf = malloc(bufsize);
    __wasi_dircookie_t cookie = 0;
    int count = 0;
    memset(seen, 0, sizeof seen);
    *dots = *bad_types = *calls = 0;
    for (;;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(fd, buf, bufsize, cookie, &used)) { free(buf); return -1; }
        (*calls)++;
        size_t off = 0;
        int whole = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + off, sizeof d);
            if (off + sizeof d + d.d_namlen > used) break;   /* cut: ask again */
            const char *name = (const char *)buf + off + sizeof d;
            if (is_dot(name, d.d_namlen)) (*dots)++;
            else {
                count++;
                int k;
                if (d.d_namlen == 9 && sscanf(name, "file-%4d", &k) == 1 && k >= 0 && k < NFILES) {
                    seen[k]++;
                    if (d.d_type != __WASI_FILETYPE_REGULAR_FILE) (*bad_types)++;
                } else if (d.d_namlen == 3 && !memcmp(name, "sub", 3)) {
                    if (d.d_type != __WASI_FILETYPE_DIRECTORY) (*bad_types)++;
                } else if (d.d_namlen == 4 && !memcmp(name, "link", 4)) {
                    if (d.d_type != __WASI_FILETYPE_SYMBOLIC_LINK) (*bad_types)++;
                }
            }
            cookie = d.d_next;
            off += sizeof d + d.d_namlen;
            whole++;
        }
        if (used < bufsize) break;          /* the end of the directory */
        if (!whole) { free(buf); return -2; }   /* one entry does not fit at all */
    }
    free(buf);
    return count;
}

static int all_once(void) {
    for (int i = 0; i < NFILES; i++) if (seen[i] != 1) return 0;
    return 1;
}

int main(void) {
    int sb = preopen("/sandbox");
    expect("mkdir", __wasi_path_create_directory(sb, "big"), 0);
    char path[64];
    for (int i = 0; i < NFILES; i++) {
        snprintf(path, sizeof path, "/sandbox/big/file-%04d", i);
        if (put_file(path, "x")) { printf("create %s: FAIL\n", path); return 1; }
    }
    expect("mkdir.sub", __wasi_path_create_directory(sb, "big/sub"), 0);
    expect("symlink", __wasi_path_symlink("file-0000", sb, "big/link"), 0);

    /* libc */
    DIR *d = opendir("/sandbox/big");
    check("libc.opendir", d != NULL, "a DIR");
    int n = 0, dots = 0, types_ok = 1;
    struct dirent *e;
    memset(seen, 0, sizeof seen);
    while ((e = readdir(d))) {
        if (is_dot(e->d_name, strlen(e->d_name))) { dots++; continue; }
        n++;
        int k;
        if (sscanf(e->d_name, "file-%4d", &k) == 1 && k >= 0 && k < NFILES) {
            seen[k]++;
            if (e->d_type != DT_REG) types_ok = 0;
        }
        if (!strcmp(e->d_name, "sub") && e->d_type != DT_DIR) types_ok = 0;
        if (!strcmp(e->d_name, "link") && e->d_type != DT_LNK) types_ok = 0;
    }
    checku("libc.count", n, NFILES + 2);
    check("libc.each_once", all_once(), "every file-NNNN exactly once");
    check("libc.types", types_ok, "DT_REG, DT_DIR, DT_LNK");
    printf("dots.libc: %d\n", dots);

    /* telldir/seekdir: come back to a cookie and see the same names. */
    rewinddir(d);
    for (int i = 0; i < 50; i++) readdir(d);
    long mark = telldir(d);
    char names[5][32];
    for (int i = 0; i < 5; i++) { e = readdir(d); snprintf(names[i], 32, "%s", e ? e->d_name : "?"); }
    seekdir(d, mark);
    int same = 1;
    for (int i = 0; i < 5; i++) { e = readdir(d); if (!e || strcmp(e->d_name, names[i])) same = 0; }
    check("libc.seekdir", same, "the same 5 names after seekdir(telldir())");

    /* rewinddir sees a file made since. */
    put_file("/sandbox/big/late", "x");
    rewinddir(d);
    int late = 0;
    while ((e = readdir(d))) if (!strcmp(e->d_name, "late")) late = 1;
    check("libc.rewind_sees_new", late, "the new file after rewinddir");
    closedir(d);
    unlink("/sandbox/big/late");

    /* raw fd_readdir with buffers of various sizes, some smaller than an entry. */
    int fd;
    expect("open.big", wopen(sb, "big", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &fd), 0);
    size_t sizes[] = { 4096, 100, 40, 33 };
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        int bad, calls, rdots;
        int c = raw_list(fd, sizes[i], &rdots, &bad, &calls);
        char key[48];
        snprintf(key, sizeof key, "raw.buf%zu.count", sizes[i]);
        checku(key, (uint64_t)c, NFILES + 2);
        snprintf(key, sizeof key, "raw.buf%zu.each_once", sizes[i]);
        check(key, all_once(), "every file-NNNN exactly once");
        snprintf(key, sizeof key, "raw.buf%zu.types", sizes[i]);
        checku(key, (uint64_t)bad, 0);
        if (i == 0) printf("dots.raw: %d\n", rdots);
    }
    /* A buffer smaller than one header: filled to the brim, nothing whole. */
    uint8_t tiny[10];
    __wasi_size_t used = 0;
    expect("raw.tiny", __wasi_fd_readdir(fd, tiny, sizeof tiny, 0, &used), 0);
    checku("raw.tiny.used", used, sizeof tiny);
    /* A cookie past the end: nothing more. */
    uint8_t buf[256];
    expect("raw.past_end", __wasi_fd_readdir(fd, buf, sizeof buf, 100000, &used), 0);
    checku("raw.past_end.used", used, 0);
    __wasi_fd_close(fd);

    /* An empty directory. */
    expect("mkdir.empty", __wasi_path_create_directory(sb, "empty"), 0);
    expect("open.empty", wopen(sb, "empty", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &fd), 0);
    int edots, ebad, ecalls;
    checku("empty.count", (uint64_t)raw_list(fd, 256, &edots, &ebad, &ecalls), 0);
    printf("dots.empty: %d\n", edots);
    __wasi_fd_close(fd);

    /* Errors */
    int ff;
    wopen(sb, "big/file-0001", 0, R_RD, 0, &ff);
    show("readdir.on_file", __wasi_fd_readdir(ff, buf, sizeof buf, 0, &used));
    __wasi_fd_close(ff);
    expect("readdir.badf", __wasi_fd_readdir(777, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);
    expect("libc.opendir_missing", opendir("/sandbox/none") ? 0 : errno, ENOENT);
    expect("libc.opendir_file", opendir("/sandbox/big/file-0002") ? 0 : errno, ENOTDIR);

    /* The preopen itself lists what the program made. */
    d = opendir("/sandbox");
    int top = 0;
    while ((e = readdir(d))) if (!is_dot(e->d_name, strlen(e->d_name))) top++;
    closedir(d);
    checku("sandbox.count", top, 2);
    return wt_done();
}
