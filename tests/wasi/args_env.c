/* args_env.c — args_sizes_get/args_get and environ_sizes_get/environ_get:
 * the guest sees exactly the arguments and variables it was given, nothing
 * inherited from the host (the harness runs with PATH, HOME, ... set). */
#include "wt.h"

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    __wasi_size_t n = 0, size = 0;
    expect("args_sizes_get", __wasi_args_sizes_get(&n, &size), 0);
    checku("argc", n, (uint64_t)argc);
    size_t want = 0;
    for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
    checku("argv_bytes", size, want);

    /* Raw args_get: pointers must point into the buffer, strings NUL-ended. */
    uint8_t **ptrs = calloc(n + 1, sizeof *ptrs);
    uint8_t *buf = malloc(size + 1);
    expect("args_get", __wasi_args_get(ptrs, buf), 0);
    for (__wasi_size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "argv[%u]", (unsigned)i);
        int inside = ptrs[i] >= buf && ptrs[i] < buf + size;
        if (!inside || strcmp((char *)ptrs[i], argv[i])) check(key, 0, "libc argv == args_get");
        else printf("%s: [%s]\n", key, argv[i]);
    }

    __wasi_size_t en = 0, esize = 0;
    expect("environ_sizes_get", __wasi_environ_sizes_get(&en, &esize), 0);
    char **env = calloc(en + 1, sizeof *env);
    char *ebuf = malloc(esize + 1);
    expect("environ_get", __wasi_environ_get((uint8_t **)env, (uint8_t *)ebuf), 0);
    size_t etotal = 0;
    for (__wasi_size_t i = 0; i < en; i++) etotal += strlen(env[i]) + 1;
    checku("environ_bytes", esize, etotal);
    qsort(env, en, sizeof *env, cmp);
    checku("environ_count", en, 3);
    for (__wasi_size_t i = 0; i < en; i++) printf("env: [%s]\n", env[i]);

    check("getenv.WT_A", getenv("WT_A") && !strcmp(getenv("WT_A"), "alpha"), "alpha");
    check("getenv.WT_EMPTY", getenv("WT_EMPTY") && !*getenv("WT_EMPTY"), "empty string");
    check("getenv.WT_EQ", getenv("WT_EQ") && !strcmp(getenv("WT_EQ"), "a=b"), "a=b");
    check("getenv.PATH", getenv("PATH") == NULL, "PATH not inherited from the host");
    check("getenv.HOME", getenv("HOME") == NULL, "HOME not inherited from the host");

    /* Zero-length buffers are fine when there is nothing to write. */
    expect("args_sizes_get.again", __wasi_args_sizes_get(&n, &size), 0);
    return wt_done();
}
