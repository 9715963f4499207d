/* escape_paths.c — every way out of a preopen we know of, each of which
 * must be refused: "..", absolute paths, symlinks pointing out (absolute,
 * relative, from subdirectories, through a chain, through /proc), symlink
 * loops, creating through a dangling link that points out, hard links and
 * renames across the boundary, and every path_* call aimed outside.  The
 * harness puts the links in place (see escape_layout in 20-wasi.sh), keeps
 * outside/secret.txt beside the sandbox and checks afterwards that nothing
 * outside changed.  A line "ESCAPED" means the wall failed. */
#include "wt.h"

#define F __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
static int sb;

/* The call must fail; report how, or ESCAPED if it did not. */
static void refused(const char *key, int e) {
    if (e) printf("%s: refused %s\n", key, ename(e));
    else { printf("%s: ESCAPED (the call succeeded)\n", key); wt_failures++; }
}

/* Opens `path` (following symlinks) for reading; refused, or ESCAPED if the
 * secret can be read, or "allowed" with what it read for paths inside. */
static void try_open(const char *key, int dir, const char *path, int oflags) {
    int fd, e = wopen(dir, path, oflags, oflags & __WASI_OFLAGS_DIRECTORY ? R_DIR : R_RD, 0, &fd);
    if (e) { printf("%s: refused %s\n", key, ename(e)); return; }
    char buf[64] = { 0 };
    __wasi_iovec_t iv = { (uint8_t *)buf, sizeof buf - 1 };
    __wasi_size_t n = 0;
    __wasi_fd_read(fd, &iv, 1, &n);
    __wasi_fd_close(fd);
    if (strstr(buf, "SECRET")) { printf("%s: ESCAPED read the secret\n", key); wt_failures++; }
    else printf("%s: opened [%.*s]\n", key, (int)strcspn(buf, "\n"), buf);
}

int main(void) {
    sb = preopen("/sandbox");

    /* ".." and absolute paths */
    try_open("dotdot.file", sb, "../outside/secret.txt", 0);
    try_open("dotdot.dir", sb, "..", __WASI_OFLAGS_DIRECTORY);
    try_open("dotdot.dot", sb, "./..", __WASI_OFLAGS_DIRECTORY);
    try_open("dotdot.deep", sb, "../../../../../../../../../etc/passwd", 0);
    try_open("dotdot.via_sub", sb, "sub/../../outside/secret.txt", 0);
    try_open("dotdot.via_deeper", sb, "sub/deeper/../../../outside/secret.txt", 0);
    try_open("dotdot.trailing", sb, "sub/../..", __WASI_OFLAGS_DIRECTORY);
    try_open("absolute.etc", sb, "/etc/passwd", 0);
    try_open("absolute.root", sb, "/", __WASI_OFLAGS_DIRECTORY);
    expect("libc.absolute", open("/etc/passwd", O_RDONLY) < 0 ? errno : 0, ENOTCAPABLE);
    refused("libc.dotdot", open("/sandbox/../outside/secret.txt", O_RDONLY) < 0 ? errno : 0);

    /* Symlinks the host left in the sandbox */
    try_open("symlink.absolute_dir", sb, "abs_out/secret.txt", 0);
    try_open("symlink.absolute_file", sb, "abs_file", 0);
    try_open("symlink.etc", sb, "etc_link/passwd", 0);
    try_open("symlink.relative", sb, "rel_out/secret.txt", 0);
    try_open("symlink.relative_dir", sb, "rel_out", __WASI_OFLAGS_DIRECTORY);
    try_open("symlink.relative_slash", sb, "rel_out/", __WASI_OFLAGS_DIRECTORY);
    try_open("symlink.from_sub", sb, "sub/up2/secret.txt", 0);
    try_open("symlink.above", sb, "sub/deeper/above/outside/secret.txt", 0);
    try_open("symlink.chain", sb, "c1/secret.txt", 0);
    try_open("symlink.chain_direct", sb, "c3/dir/x.txt", 0);
    try_open("symlink.proc", sb, "proc_root/etc/passwd", 0);
    expect("symlink.loop", wopen(sb, "loop1", 0, R_RD, 0, &(int){0}), __WASI_ERRNO_LOOP);
    expect("symlink.self", wopen(sb, "self", 0, R_RD, 0, &(int){0}), __WASI_ERRNO_LOOP);
    expect("symlink.loop_dir", wopen(sb, "loop1/x", 0, R_RD, 0, &(int){0}), __WASI_ERRNO_LOOP);
    refused("symlink.dangling_creat",
            wopen(sb, "dangling_out", __WASI_OFLAGS_CREAT, R_RW, 0, &(int){0}));
    refused("symlink.dangling_creat_excl",
            wopen(sb, "dangling_out", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, R_RW, 0, &(int){0}));
    /* Controls: links that stay inside work. */
    try_open("control.inside_link", sb, "in_link/x.txt", 0);
    try_open("control.to_top", sb, "sub/deeper/top/file.txt", 0);
    try_open("control.dotdot_inside", sb, "sub/deeper/../../file.txt", 0);

    /* A directory fd is a preopen of its own: no climbing above it. */
    int sub;
    expect("subfd.open", wopen(sb, "sub", __WASI_OFLAGS_DIRECTORY, R_DIR, 0, &sub), 0);
    try_open("subfd.dotdot", sub, "../file.txt", 0);
    try_open("subfd.up2", sub, "up2/secret.txt", 0);
    try_open("subfd.deeper_top", sub, "deeper/top/file.txt", 0);

    /* Every path_* call aimed outside */
    __wasi_filestat_t st;
    refused("filestat.dotdot", __wasi_path_filestat_get(sb, 0, "../outside/secret.txt", &st));
    refused("filestat.follow_abs", __wasi_path_filestat_get(sb, F, "abs_file", &st));
    refused("filestat.follow_rel", __wasi_path_filestat_get(sb, F, "rel_out/secret.txt", &st));
    expect("filestat.nofollow_link_itself", __wasi_path_filestat_get(sb, 0, "abs_file", &st), 0);
    refused("set_times.dotdot", __wasi_path_filestat_set_times(sb, 0, "../outside/secret.txt",
            0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("set_times.follow", __wasi_path_filestat_set_times(sb, F, "abs_file",
            0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("set_times.through_dir_link", __wasi_path_filestat_set_times(sb, 0,
            "rel_out/secret.txt", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    refused("mkdir.dotdot", __wasi_path_create_directory(sb, "../outside/newdir"));
    refused("mkdir.through_link", __wasi_path_create_directory(sb, "rel_out/newdir"));
    refused("mkdir.through_abs_link", __wasi_path_create_directory(sb, "abs_out/newdir"));
    refused("unlink.dotdot", __wasi_path_unlink_file(sb, "../outside/secret.txt"));
    refused("unlink.through_link", __wasi_path_unlink_file(sb, "rel_out/secret.txt"));
    refused("unlink.through_chain", __wasi_path_unlink_file(sb, "c1/secret.txt"));
    refused("rmdir.dotdot", __wasi_path_remove_directory(sb, "../outside/dir"));
    refused("rmdir.through_link", __wasi_path_remove_directory(sb, "rel_out/dir"));
    refused("rmdir.root", __wasi_path_remove_directory(sb, "sub/.."));
    refused("rename.out", __wasi_path_rename(sb, "file.txt", sb, "../outside/stolen"));
    refused("rename.out_through_link", __wasi_path_rename(sb, "file.txt", sb, "rel_out/stolen"));
    refused("rename.in", __wasi_path_rename(sb, "../outside/secret.txt", sb, "got.txt"));
    refused("rename.in_through_link", __wasi_path_rename(sb, "rel_out/secret.txt", sb, "got.txt"));
    refused("rename.dir_out", __wasi_path_rename(sb, "sub", sb, "../outside/sub"));
    refused("rename.over_outside_dir", __wasi_path_rename(sb, "inside", sb, "abs_out/dir"));
    refused("link.in", __wasi_path_link(sb, 0, "../outside/secret.txt", sb, "hard"));
    refused("link.in_through_link", __wasi_path_link(sb, 0, "rel_out/secret.txt", sb, "hard"));
    refused("link.in_follow", __wasi_path_link(sb, F, "abs_file", sb, "hard"));
    refused("link.out", __wasi_path_link(sb, 0, "file.txt", sb, "../outside/hard"));
    refused("link.out_through_link", __wasi_path_link(sb, 0, "file.txt", sb, "rel_out/hard"));
    refused("symlink.create_out", __wasi_path_symlink("file.txt", sb, "rel_out/evil"));
    char buf[256];
    __wasi_size_t used;
    refused("readlink.dotdot", __wasi_path_readlink(sb, "../outside/x", (uint8_t *)buf, sizeof buf, &used));
    refused("readlink.through_link", __wasi_path_readlink(sb, "rel_out/x", (uint8_t *)buf, sizeof buf, &used));

    /* Links the guest makes itself that point out: refused when made (Pylon)
     * and in any case refused when followed. */
    show("make_symlink.relative_out", __wasi_path_symlink("../outside", sb, "evil"));
    try_open("make_symlink.relative_out.follow", sb, "evil/secret.txt", 0);
    show("make_symlink.absolute", __wasi_path_symlink("/etc", sb, "evil_abs"));
    try_open("make_symlink.absolute.follow", sb, "evil_abs/passwd", 0);
    show("make_symlink.deep_out", __wasi_path_symlink("../../outside", sb, "sub/evil2"));
    try_open("make_symlink.deep_out.follow", sb, "sub/evil2/secret.txt", 0);
    expect("make_symlink.inside", __wasi_path_symlink("../file.txt", sb, "sub/ok_link"), 0);
    try_open("make_symlink.inside.follow", sb, "sub/ok_link", 0);

    /* An embedded NUL must not cut the path short on the host. */
    const char trick[] = "file.txt\0../../outside/secret.txt";
    int out = -1;
    show("nul_in_path", raw_path_open(sb, F, (int32_t)(uintptr_t)trick, sizeof trick - 1, 0,
                                      R_RD & inheriting(sb), inheriting(sb), 0,
                                      (int32_t)(uintptr_t)&out));

    /* libc's view: the outside is simply not there. */
    DIR *d = opendir("/sandbox/rel_out");
    refused("libc.opendir_out", d ? 0 : errno);
    if (d) closedir(d);
    struct stat sst;
    refused("libc.stat_out", stat("/sandbox/abs_out/secret.txt", &sst) ? errno : 0);
    refused("libc.fopen_out", fopen("/sandbox/c1/secret.txt", "r") ? 0 : errno);
    refused("libc.fopen_write_out", fopen("/sandbox/dangling_out", "w") ? 0 : errno);
    return wt_done();
}
