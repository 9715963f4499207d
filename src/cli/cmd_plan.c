/*
 * cmd_plan.c — `pylon plan`: create, edit, validate and show plan files.
 *
 * Every edit goes through the same strict parser and validator the host
 * uses, and is written atomically, so a plan edited with these commands is
 * always one `pylon run --plan` accepts.  Swapping a provider is
 * `pylon plan set-digest PLAN ID NEW` — nothing else changes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/host_cli.h"

static const char usage_text[] =
    "usage: pylon plan COMMAND PLAN [arguments] [options]\n"
    "\n"
    "A plan maps cap ids to provider digests and says what the guest may do\n"
    "with them (docs/dynlink.md describes the format).\n"
    "\n"
    "commands:\n"
    "  create PLAN [--upstream URL] [--force]   write an empty plan\n"
    "  add PLAN ID (--digest sha256:HEX | --blob FILE) [cap options]\n"
    "                                           add a cap; the guest may resolve it\n"
    "                                           unless --no-guest\n"
    "  set PLAN ID [cap options]                change a cap\n"
    "  set-digest PLAN ID sha256:HEX|FILE       point a cap at another provider (a\n"
    "                                           FILE is also added to the store)\n"
    "  rm PLAN ID                               remove a cap\n"
    "  validate PLAN [--deep]                   check the file; --deep also checks that\n"
    "                                           every blob is in the store, intact and\n"
    "                                           trusted\n"
    "  show PLAN [--json]                       print it\n"
    "\n"
    "cap options:\n"
    "  --digest sha256:HEX     the provider's content digest\n"
    "  --blob FILE             add FILE to the blob store and use its digest\n"
    "  --methods a,b,c | '*'   methods the guest may invoke (default for add: '*')\n"
    "  --resolve a,b | ''      caps this provider may resolve itself\n"
    "  --max-memory SIZE       e.g. 16MiB, 512KiB, 1048576 (default 64MiB)\n"
    "  --fuel N                instruction budget per invoke, 0 = none (default 0)\n"
    "  --timeout-ms N          wall-clock limit per invoke, 0 = none (default 10000)\n"
    "  --max-result SIZE       largest result per invoke (default 16MiB)\n"
    "  --guest / --no-guest    whether the guest may resolve this cap\n"
    "\n";

static bool parse_size(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    uint64_t mul = 1;
    if (!strcmp(end, "K") || !strcmp(end, "KiB") || !strcmp(end, "k")) mul = 1ull << 10;
    else if (!strcmp(end, "M") || !strcmp(end, "MiB")) mul = 1ull << 20;
    else if (!strcmp(end, "G") || !strcmp(end, "GiB")) mul = 1ull << 30;
    else if (*end) return false;
    if (v > UINT64_MAX / mul) return false;
    *out = v * mul;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* "a,b,c" -> list (empty string -> empty list). */
static int split_list(const char *s, char ***out, size_t *n) {
    char *copy = strdup(s);
    size_t cap = 1;
    for (const char *c = s; *c; c++) cap += *c == ',';
    const char **items = calloc(cap, sizeof *items);
    size_t k = 0;
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ') tok++;
        if (*tok) items[k++] = tok;
    }
    int r = pylon_plan_set_list(out, n, items, k);
    free(items);
    free(copy);
    return r;
}

typedef struct cap_opts {
    const char *digest, *blob, *methods, *resolve, *max_memory, *fuel, *timeout_ms, *max_result;
    int guest;               /* -1 unchanged, 0 no, 1 yes */
} cap_opts;

static int set_guest(pylon_plan *p, const char *id, bool on) {
    size_t n = p->nguest_resolve, w = 0;
    const char **items = calloc(n + 1, sizeof *items);
    bool present = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(p->guest_resolve[i], id)) { present = true; if (!on) continue; }
        items[w++] = p->guest_resolve[i];
    }
    if (on && !present) items[w++] = id;
    /* The list owns its strings: copy before replacing. */
    char **copies = calloc(w + 1, sizeof *copies);
    for (size_t i = 0; i < w; i++) copies[i] = strdup(items[i]);
    int r = pylon_plan_set_list(&p->guest_resolve, &p->nguest_resolve, (const char *const *)copies, w);
    for (size_t i = 0; i < w; i++) free(copies[i]);
    free(copies);
    free(items);
    return r;
}

/* Applies options to cap `c`; prints and returns nonzero on a bad value. */
static int apply(pylon_plan *p, pylon_plan_cap *c, const cap_opts *o, const pylon_host_paths *paths) {
    const char *cmd = "plan";
    if (o->digest && o->blob) return hc_usage(cmd, "give --digest or --blob, not both");
    if (o->digest && pylon_digest_parse(o->digest, &c->digest))
        return hc_usage(cmd, "--digest %s: write sha256: followed by 64 hex digits", o->digest);
    if (o->blob) {
        char store[4096];
        if (!hc_path(paths, "store", store, sizeof store, cmd)) return PYLON_EXIT_USAGE;
        pylon_host_error e;
        pylon_blobstore *bs = pylon_blob_open(store, &e);
        if (!bs) return hc_fail(cmd, &e);
        int r = pylon_blob_put_file(bs, o->blob, &c->digest, &e);
        pylon_blob_close(bs);
        if (r) return hc_fail(cmd, &e);
        char dg[PYLON_DIGEST_STRLEN + 1];
        fprintf(stderr, "stored %s as %s\n", o->blob, pylon_digest_format(&c->digest, dg));
    }
    if (o->methods) {
        if (!strcmp(o->methods, "*")) {
            c->all_methods = true;
            pylon_plan_set_list(&c->methods, &c->nmethods, NULL, 0);
        } else {
            c->all_methods = false;
            split_list(o->methods, &c->methods, &c->nmethods);
        }
    }
    if (o->resolve) {
        if (split_list(o->resolve, &c->resolve, &c->nresolve)) return PYLON_EXIT_IO;
        for (size_t i = 0; i < c->nresolve; i++)
            if (strcmp(c->resolve[i], "*") && !pylon_plan_valid_id(c->resolve[i]))
                return hc_usage(cmd, "--resolve: '%s' is not a cap id", c->resolve[i]);
    }
    uint64_t v;
    if (o->max_memory) {
        if (!parse_size(o->max_memory, &v))
            return hc_usage(cmd, "--max-memory %s: give a size like 16MiB, 512KiB or 1048576", o->max_memory);
        c->limits.max_memory = v;
        c->limits_set[0] = true;
    }
    if (o->fuel) {
        if (!parse_u64(o->fuel, &v)) return hc_usage(cmd, "--fuel %s: give a whole number (0 = none)", o->fuel);
        c->limits.fuel = v;
        c->limits_set[1] = true;
    }
    if (o->timeout_ms) {
        if (!parse_u64(o->timeout_ms, &v))
            return hc_usage(cmd, "--timeout-ms %s: give a whole number of milliseconds (0 = none)", o->timeout_ms);
        c->limits.timeout_ms = v;
        c->limits_set[2] = true;
    }
    if (o->max_result) {
        if (!parse_size(o->max_result, &v))
            return hc_usage(cmd, "--max-result %s: give a size like 1MiB or 65536", o->max_result);
        c->limits.max_result = v;
        c->limits_set[3] = true;
    }
    if (o->guest >= 0 && set_guest(p, c->id, o->guest == 1)) return PYLON_EXIT_IO;
    return 0;
}

static void print_list(char **l, size_t n, const char *none) {
    if (!n) { printf("%s", none); return; }
    for (size_t i = 0; i < n; i++) printf("%s%s", i ? ", " : "", l[i]);
}

static void print_size(uint64_t v) {
    if (v && v % (1ull << 20) == 0) printf("%" PRIu64 " MiB", v >> 20);
    else if (v && v % (1ull << 10) == 0) printf("%" PRIu64 " KiB", v >> 10);
    else printf("%" PRIu64 " bytes", v);
}

static void show(const pylon_plan *p) {
    printf("%s: plan version %d, %zu cap%s%s%s\n", p->source, PYLON_PLAN_VERSION, p->ncaps,
           p->ncaps == 1 ? "" : "s", p->upstream ? ", upstream " : "", p->upstream ? p->upstream : "");
    printf("guest may resolve: ");
    print_list(p->guest_resolve, p->nguest_resolve, "(nothing)");
    printf("\n");
    for (size_t i = 0; i < p->ncaps; i++) {
        const pylon_plan_cap *c = &p->caps[i];
        char dg[PYLON_DIGEST_STRLEN + 1];
        printf("\n%s\n  digest   %s\n  methods  ", c->id, pylon_digest_format(&c->digest, dg));
        if (c->all_methods) printf("* (all)");
        else print_list(c->methods, c->nmethods, "(none)");
        printf("\n  resolve  ");
        print_list(c->resolve, c->nresolve, "(nothing)");
        printf("\n  limits   memory ");
        print_size(c->limits.max_memory);
        printf(", fuel ");
        if (c->limits.fuel) printf("%" PRIu64, c->limits.fuel); else printf("none");
        printf(", timeout ");
        if (c->limits.timeout_ms) printf("%" PRIu64 " ms", c->limits.timeout_ms); else printf("none");
        printf(", result ");
        print_size(c->limits.max_result);
        printf("\n");
    }
}

static int deep_check(const pylon_plan *p, const pylon_host_paths *paths) {
    const char *cmd = "plan";
    char store[4096], tdir[4096];
    if (!hc_path(paths, "store", store, sizeof store, cmd)) return PYLON_EXIT_USAGE;
    hc_path(paths, "trust", tdir, sizeof tdir, cmd);
    pylon_host_error e;
    pylon_blobstore *bs = pylon_blob_open(store, &e);
    if (!bs) return hc_fail(cmd, &e);
    pylon_trust *t = pylon_trust_open(tdir, &e);
    if (!t) { pylon_blob_close(bs); return hc_fail(cmd, &e); }
    const char *up = p->upstream ? p->upstream : paths->upstream;
    if (up && pylon_blob_set_upstream(bs, up, &e)) printf("upstream: %s\n", e.message);
    int bad = 0;
    for (size_t i = 0; i < p->ncaps; i++) {
        const pylon_plan_cap *c = &p->caps[i];
        uint8_t *bytes;
        size_t len;
        char how[96];
        if (pylon_blob_get(bs, &c->digest, &bytes, &len, &e)) {
            printf("BAD  %s: %s (%s)\n", c->id, e.message, pylon_host_code_name(e.code));
            bad++;
            continue;
        }
        free(bytes);
        if (pylon_trust_check(t, &c->digest, how, sizeof how, &e)) {
            printf("BAD  %s: %s (%s)\n", c->id, e.message, pylon_host_code_name(e.code));
            bad++;
            continue;
        }
        printf("ok   %s: blob present and intact (%zu bytes), trusted through %s\n", c->id, len, how);
    }
    pylon_trust_free(t);
    pylon_blob_close(bs);
    return bad ? PYLON_EXIT_FAIL : PYLON_EXIT_OK;
}

int pylon_cmd_plan(int argc, char **argv) {
    const char *cmd = "plan";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        fputs(hc_location_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? PYLON_EXIT_USAGE : PYLON_EXIT_OK;
    }
    const char *sub = argv[1];
    static const char *const subs[] = { "create", "add", "set", "set-digest", "rm", "validate", "show" };
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) known |= !strcmp(sub, subs[i]);
    if (!known)
        return hc_usage(cmd, "unknown command '%s'; the commands are create, add, set, set-digest, "
                        "rm, validate, show", sub);

    pylon_host_paths paths = { 0 };
    cap_opts o = { .guest = -1 };
    const char *args[4] = { 0 };
    int nargs = 0;
    bool force = false, deep = false, json = false;
    for (int i = 2; i < argc; i++) {
        int r;
        if (hc_flag(argv, i, "--help") || hc_flag(argv, i, "-h")) {
            fputs(usage_text, stdout);
            fputs(hc_location_help, stdout);
            return PYLON_EXIT_OK;
        }
        if ((r = hc_location_opt(argc, argv, &i, &paths, cmd))) { if (r < 0) return PYLON_EXIT_USAGE; continue; }
        struct { const char *name; const char **slot; } vals[] = {
            { "--digest", &o.digest }, { "--blob", &o.blob }, { "--methods", &o.methods },
            { "--resolve", &o.resolve }, { "--max-memory", &o.max_memory }, { "--fuel", &o.fuel },
            { "--timeout-ms", &o.timeout_ms }, { "--max-result", &o.max_result },
        };
        bool taken = false;
        for (size_t k = 0; k < sizeof vals / sizeof vals[0] && !taken; k++) {
            r = hc_opt(argc, argv, &i, vals[k].name, vals[k].slot, cmd);
            if (r < 0) return PYLON_EXIT_USAGE;
            taken = r > 0;
        }
        if (taken) continue;
        if (hc_flag(argv, i, "--guest")) { o.guest = 1; continue; }
        if (hc_flag(argv, i, "--no-guest")) { o.guest = 0; continue; }
        if (hc_flag(argv, i, "--force")) { force = true; continue; }
        if (hc_flag(argv, i, "--deep")) { deep = true; continue; }
        if (hc_flag(argv, i, "--json")) { json = true; continue; }
        if (argv[i][0] == '-' && argv[i][1])
            return hc_usage(cmd, "unknown option '%s' for 'plan %s'", argv[i], sub);
        if (nargs == 4) return hc_usage(cmd, "too many arguments for 'plan %s'", sub);
        args[nargs++] = argv[i];
    }
    int need = !strcmp(sub, "create") || !strcmp(sub, "validate") || !strcmp(sub, "show") ? 1
             : !strcmp(sub, "set-digest") ? 3 : 2;
    if (nargs != need)
        return hc_usage(cmd, "'plan %s' takes %s", sub,
                        need == 1 ? "one argument: PLAN" : need == 2 ? "two arguments: PLAN ID"
                                  : "three arguments: PLAN ID sha256:HEX|FILE");
    const char *path = args[0];
    pylon_host_error e;

    if (!strcmp(sub, "create")) {
        struct stat st;
        if (!force && stat(path, &st) == 0)
            return hc_usage(cmd, "%s exists already; pass --force to replace it, or edit it with "
                            "'pylon plan add'", path);
        pylon_plan *p = pylon_plan_new(path);
        if (paths.upstream) p->upstream = strdup(paths.upstream);
        int r = pylon_plan_save(p, path, &e);
        pylon_plan_free(p);
        if (r) return hc_fail(cmd, &e);
        printf("created %s; add caps with 'pylon plan add %s ID --blob FILE'\n", path, path);
        return PYLON_EXIT_OK;
    }

    pylon_plan *p = pylon_plan_load(path, &e);
    if (!p) {
        fprintf(stderr, "pylon plan: %s\n", e.message);
        return PYLON_EXIT_FAIL;
    }
    int rc = PYLON_EXIT_OK;
    if (!strcmp(sub, "validate")) {
        printf("%s: valid (%zu cap%s)\n", path, p->ncaps, p->ncaps == 1 ? "" : "s");
        if (deep) rc = deep_check(p, &paths);
    } else if (!strcmp(sub, "show")) {
        if (json) {
            char *text = pylon_plan_to_json(p);
            fputs(text, stdout);
            free(text);
        } else {
            show(p);
        }
    } else {
        const char *id = args[1];
        pylon_plan_cap *c = pylon_plan_find(p, id);
        if (!strcmp(sub, "add")) {
            if (c) { rc = hc_usage(cmd, "%s already has a cap \"%s\"; change it with 'pylon plan set'", path, id); goto out; }
            if (!o.digest && !o.blob) { rc = hc_usage(cmd, "plan add: give the provider with --digest sha256:HEX or --blob FILE"); goto out; }
            if (!(c = pylon_plan_add_cap(p, id, &e))) { rc = hc_fail(cmd, &e); goto out; }
            if (!o.methods) {
                o.methods = "*";
                fprintf(stderr, "note: the guest may invoke every method of \"%s\"; restrict that "
                        "with --methods a,b\n", id);
            }
            if (o.guest < 0) o.guest = 1;
        } else if (!c) {
            rc = hc_usage(cmd, "%s has no cap \"%s\"; add it with 'pylon plan add %s %s --blob FILE'",
                          path, id, path, id);
            goto out;
        }
        if (!strcmp(sub, "set-digest")) {
            if (!strncmp(args[2], "sha256:", 7)) o.digest = args[2];
            else o.blob = args[2];
        }
        if (!strcmp(sub, "rm")) {
            set_guest(p, id, false);
            size_t k = (size_t)(c - p->caps);
            /* Others that named it may no longer resolve it. */
            for (size_t i = 0; i < p->ncaps; i++) {
                pylon_plan_cap *x = &p->caps[i];
                size_t w = 0;
                for (size_t j = 0; j < x->nresolve; j++) {
                    if (!strcmp(x->resolve[j], id)) free(x->resolve[j]);
                    else x->resolve[w++] = x->resolve[j];
                }
                x->nresolve = w;
            }
            free(c->id);
            for (size_t j = 0; j < c->nmethods; j++) free(c->methods[j]);
            free(c->methods);
            for (size_t j = 0; j < c->nresolve; j++) free(c->resolve[j]);
            free(c->resolve);
            memmove(&p->caps[k], &p->caps[k + 1], (p->ncaps - k - 1) * sizeof *p->caps);
            p->ncaps--;
        } else if ((rc = apply(p, c, &o, &paths))) {
            goto out;
        }
        if (pylon_plan_save(p, path, &e)) { rc = hc_fail(cmd, &e); goto out; }
        char dg[PYLON_DIGEST_STRLEN + 1];
        if (!strcmp(sub, "rm")) printf("removed \"%s\" from %s\n", id, path);
        else printf("%s: \"%s\" -> %s\n", path, id, pylon_digest_format(&c->digest, dg));
    }
out:
    pylon_plan_free(p);
    return rc;
}
