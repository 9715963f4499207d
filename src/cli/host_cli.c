/*
 * host_cli.c — helpers the blob, plan and trust subcommands share (see
 * host_cli.h).  Every location can be given on the command line so that
 * scripts and tests never touch the user's real ~/.pylon.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/host_cli.h"

const char hc_location_help[] =
    "locations (default: the Pylon home, $PYLON_HOME or ~/.pylon):\n"
    "  --home DIR       the Pylon home: DIR/blobs, DIR/trust, DIR/keys, DIR/audit.log\n"
    "  --store DIR      the blob store (holds sha256/<hex>)\n"
    "  --trust DIR      the trust store (allow, revoked, keys/, sigs/)\n"
    "  --keys DIR       where secret signing keys are kept (mode 0700)\n"
    "  --audit FILE     the audit log\n"
    "  --upstream URL   where missing blobs are fetched from: a store directory,\n"
    "                   file://DIR or http(s)://HOST[:PORT][/PATH]\n";

int hc_opt(int argc, char **argv, int *i, const char *name, const char **val, const char *cmd) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n)) return 0;
    if (a[n] == '=') { *val = a + n + 1; return 1; }
    if (a[n]) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "pylon %s: option %s needs a value; see 'pylon %s --help'\n", cmd, name, cmd);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

bool hc_flag(char **argv, int i, const char *name) { return !strcmp(argv[i], name); }

int hc_location_opt(int argc, char **argv, int *i, pylon_host_paths *p, const char *cmd) {
    static const char *const names[] = { "--home", "--store", "--trust", "--keys", "--audit", "--upstream" };
    const char **slots[] = { &p->home, &p->store, &p->trust, &p->keys, &p->audit, &p->upstream };
    for (int k = 0; k < 6; k++) {
        int r = hc_opt(argc, argv, i, names[k], slots[k], cmd);
        if (r) return r;
    }
    return 0;
}

char *hc_path(const pylon_host_paths *p, const char *which, char *buf, size_t cap, const char *cmd) {
    if (pylon_host_path(p, which, buf, cap)) return buf;
    fprintf(stderr, "pylon %s: no Pylon home: set PYLON_HOME (or HOME), or pass --home DIR\n", cmd);
    return NULL;
}

int hc_digest_arg(const char *arg, pylon_digest *d, const char *cmd) {
    if (!strncmp(arg, "sha256:", 7)) {
        if (pylon_digest_parse(arg, d) == 0) return 0;
        fprintf(stderr, "pylon %s: '%s' is not a digest: write sha256: followed by 64 hex "
                "digits\n", cmd, arg);
        return -1;
    }
    size_t len;
    uint8_t *bytes = pylon_read_file(arg, &len);
    if (!bytes) {
        fprintf(stderr, "pylon %s: '%s' is neither a digest (sha256:<hex>) nor a readable file "
                "(%s)\n", cmd, arg, strerror(errno));
        return -1;
    }
    pylon_digest_of(bytes, len, d);
    free(bytes);
    return 0;
}

int hc_fail(const char *cmd, const pylon_host_error *e) {
    fprintf(stderr, "pylon %s: %s\n", cmd, e->message);
    return e->code == PYLON_HOST_BLOB_IO_ERROR ? PYLON_EXIT_IO : PYLON_EXIT_FAIL;
}

int hc_usage(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "pylon %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nrun 'pylon %s --help' for the usage\n", cmd);
    return PYLON_EXIT_USAGE;
}
