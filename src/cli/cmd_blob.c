/*
 * cmd_blob.c — `pylon blob`: the content-addressed store providers are
 * loaded from (add, ls, verify, gc, fetch).
 *
 * The store checks digests on every load anyway; these commands are for
 * the operator: put a provider in, see what is there, find damage before a
 * guest does, and reclaim space without deleting a blob some plan still
 * names (gc only removes what none of the given plans references).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/host_cli.h"

static const char usage_text[] =
    "usage: pylon blob COMMAND [options]\n"
    "\n"
    "The blob store keeps provider modules under the SHA-256 of their bytes\n"
    "(STORE/sha256/<hex>); every load re-checks the digest.\n"
    "\n"
    "commands:\n"
    "  add FILE... [--allow] [--no-aot]\n"
    "                             store files; prints each digest.  --allow also puts\n"
    "                             the digests on the trust store's allow-list.  Each\n"
    "                             module is compiled to native code for the AOT\n"
    "                             cache as it lands (see 'pylon aot'); --no-aot skips\n"
    "                             that (a run then compiles it in the background)\n"
    "  ls [--plan PLAN]...        list blobs (digest, size; with --plan, which cap ids\n"
    "                             name each)\n"
    "  verify [DIGEST...] [--remove-bad]\n"
    "                             re-hash blobs (all by default); exit 1 if any is\n"
    "                             damaged; --remove-bad deletes the damaged ones\n"
    "  gc --plan PLAN... [--dry-run]\n"
    "                             delete blobs none of the plans references, and\n"
    "                             temporary files left by interrupted writes\n"
    "  fetch DIGEST... --upstream URL [--no-aot]\n"
    "                             copy blobs from an upstream store (verified first);\n"
    "                             compiled to native code as with add\n"
    "\n";

typedef struct ls_ctx {
    pylon_plan **plans;
    int nplans;
    int count;
    uint64_t bytes;
} ls_ctx;

/* A provider is compiled to native code as it lands, so its first run
 * already has it.  Not compiling is never an error: the module then runs
 * on the interpreter (and the note says why). */
static void compile_native(pylon_blobstore *bs, const pylon_digest *d, const char *cmd) {
    uint8_t *bytes;
    size_t len;
    pylon_host_error he;
    if (pylon_blob_get_local(bs, d, &bytes, &len, &he)) return;
    char dg[32];
    pylon_digest_short(d, dg);
    if (pylon_aot_cached(bytes, len)) {
        fprintf(stderr, "pylon %s: %s: native code already in the AOT cache\n", cmd, dg);
    } else {
        fprintf(stderr, "pylon %s: %s: compiling to native code...\n", cmd, dg);
        double t0 = pylon_now_seconds();
        pylon_error err;
        pylon_module *m = pylon_module_load_tier(bytes, len, PYLON_TIER_AOT, NULL, NULL, NULL, &err);
        if (m) fprintf(stderr, "pylon %s: %s: native code ready (%.1fs)\n", cmd, dg, pylon_now_seconds() - t0);
        else fprintf(stderr, "pylon %s: %s: no native code, it will run on the interpreter: %s\n", cmd, dg, err.message);
        pylon_module_free(m);
    }
    free(bytes);
}

static int ls_visit(const char *name, bool ok, const pylon_digest *d, uint64_t size, void *user) {
    ls_ctx *c = user;
    char dg[PYLON_DIGEST_STRLEN + 1];
    if (!ok) {
        printf("?%-70s %10" PRIu64 "  (not a blob name; 'pylon blob gc' removes it)\n", name, size);
        return 0;
    }
    printf("%s %10" PRIu64, pylon_digest_format(d, dg), size);
    for (int p = 0; p < c->nplans; p++)
        for (size_t i = 0; i < c->plans[p]->ncaps; i++)
            if (!memcmp(c->plans[p]->caps[i].digest.b, d->b, 32))
                printf("  %s:%s", c->plans[p]->source, c->plans[p]->caps[i].id);
    printf("\n");
    c->count++;
    c->bytes += size;
    return 0;
}

typedef struct verify_ctx {
    pylon_blobstore *bs;
    bool remove;
    int good, bad;
} verify_ctx;

static void verify_one(verify_ctx *c, const pylon_digest *d) {
    char dg[PYLON_DIGEST_STRLEN + 1];
    uint8_t *bytes;
    size_t len;
    pylon_host_error e;
    if (pylon_blob_get_local(c->bs, d, &bytes, &len, &e) == 0) {
        free(bytes);
        printf("ok   %s\n", pylon_digest_format(d, dg));
        c->good++;
        return;
    }
    c->bad++;
    printf("BAD  %s: %s\n", pylon_digest_format(d, dg), e.message);
    if (c->remove && e.code == PYLON_HOST_BLOB_DIGEST_MISMATCH) {
        if (pylon_blob_remove(c->bs, d, &e) == 0) printf("     removed\n");
        else printf("     %s\n", e.message);
    }
}

static int verify_visit(const char *name, bool ok, const pylon_digest *d, uint64_t size, void *user) {
    if (ok) verify_one(user, d);
    else printf("skip %s (not a blob name)\n", name);
    return 0;
}

typedef struct gc_ctx {
    pylon_blobstore *bs;
    pylon_plan **plans;
    int nplans;
    bool dry;
    int kept, removed;
    uint64_t freed;
} gc_ctx;

static int gc_visit(const char *name, bool ok, const pylon_digest *d, uint64_t size, void *user) {
    gc_ctx *c = user;
    bool used = false;
    for (int p = 0; ok && p < c->nplans && !used; p++)
        for (size_t i = 0; i < c->plans[p]->ncaps && !used; i++)
            used = !memcmp(c->plans[p]->caps[i].digest.b, d->b, 32);
    if (used) { c->kept++; return 0; }
    char path[4200];
    snprintf(path, sizeof path, "%s/sha256/%s", pylon_blob_root(c->bs), name);
    printf("%s %s (%" PRIu64 " bytes)\n", c->dry ? "would remove" : "removed", path, size);
    if (!c->dry && remove(path) != 0) {
        fprintf(stderr, "pylon blob gc: cannot remove %s: %s\n", path, strerror(errno));
        return 0;
    }
    c->removed++;
    c->freed += size;
    return 0;
}

static int load_plans(int n, char **paths, pylon_plan **out) {
    for (int i = 0; i < n; i++) {
        pylon_host_error e;
        out[i] = pylon_plan_load(paths[i], &e);
        if (!out[i]) {
            fprintf(stderr, "pylon blob: %s\n", e.message);
            for (int k = 0; k < i; k++) pylon_plan_free(out[k]);
            return -1;
        }
    }
    return 0;
}

int pylon_cmd_blob(int argc, char **argv) {
    const char *cmd = "blob";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        fputs(hc_location_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? PYLON_EXIT_USAGE : PYLON_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "add") && strcmp(sub, "ls") && strcmp(sub, "verify") && strcmp(sub, "gc") &&
        strcmp(sub, "fetch"))
        return hc_usage(cmd, "unknown command '%s'; the commands are add, ls, verify, gc, fetch", sub);

    pylon_host_paths paths = { 0 };
    char **args = calloc((size_t)argc, sizeof *args), **plan_paths = calloc((size_t)argc, sizeof *plan_paths);
    int nargs = 0, nplans = 0, rc = PYLON_EXIT_USAGE;
    bool allow = false, remove_bad = false, dry = false, aot = true;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int r;
        if (hc_flag(argv, i, "--help") || hc_flag(argv, i, "-h")) {
            fputs(usage_text, stdout);
            fputs(hc_location_help, stdout);
            rc = PYLON_EXIT_OK;
            goto out;
        }
        if ((r = hc_location_opt(argc, argv, &i, &paths, cmd))) { if (r < 0) goto out; continue; }
        if ((r = hc_opt(argc, argv, &i, "--plan", &v, cmd))) {
            if (r < 0) goto out;
            plan_paths[nplans++] = (char *)v;
            continue;
        }
        if (hc_flag(argv, i, "--allow")) { allow = true; continue; }
        if (hc_flag(argv, i, "--no-aot")) { aot = false; continue; }
        if (hc_flag(argv, i, "--remove-bad")) { remove_bad = true; continue; }
        if (hc_flag(argv, i, "--dry-run")) { dry = true; continue; }
        if (argv[i][0] == '-' && argv[i][1]) {
            rc = hc_usage(cmd, "unknown option '%s' for 'blob %s'", argv[i], sub);
            goto out;
        }
        args[nargs++] = argv[i];
    }

    char store[4096];
    if (!hc_path(&paths, "store", store, sizeof store, cmd)) goto out;
    pylon_host_error e;
    pylon_blobstore *bs = pylon_blob_open(store, &e);
    if (!bs) { rc = hc_fail(cmd, &e); goto out; }

    if (!strcmp(sub, "add")) {
        if (!nargs) { rc = hc_usage(cmd, "blob add: name at least one FILE"); goto done; }
        pylon_trust *t = NULL;
        if (allow) {
            char tdir[4096];
            hc_path(&paths, "trust", tdir, sizeof tdir, cmd);
            if (!(t = pylon_trust_open(tdir, &e))) { rc = hc_fail(cmd, &e); goto done; }
        }
        rc = PYLON_EXIT_OK;
        for (int i = 0; i < nargs; i++) {
            pylon_digest d;
            char dg[PYLON_DIGEST_STRLEN + 1];
            if (pylon_blob_put_file(bs, args[i], &d, &e)) { rc = hc_fail(cmd, &e); break; }
            if (t && pylon_trust_allow(t, &d, &e)) { rc = hc_fail(cmd, &e); break; }
            printf("%s  %s%s\n", pylon_digest_format(&d, dg), args[i], t ? "  (allowed)" : "");
            fflush(stdout);
            if (aot) compile_native(bs, &d, cmd);
        }
        pylon_trust_free(t);
    } else if (!strcmp(sub, "ls")) {
        pylon_plan **plans = calloc((size_t)nplans + 1, sizeof *plans);
        if (load_plans(nplans, plan_paths, plans)) { free(plans); rc = PYLON_EXIT_FAIL; goto done; }
        ls_ctx c = { plans, nplans, 0, 0 };
        rc = pylon_blob_list(bs, ls_visit, &c, &e) < 0 ? hc_fail(cmd, &e) : PYLON_EXIT_OK;
        if (rc == PYLON_EXIT_OK)
            fprintf(stderr, "%d blob%s, %" PRIu64 " bytes in %s\n", c.count, c.count == 1 ? "" : "s",
                    c.bytes, store);
        for (int i = 0; i < nplans; i++) pylon_plan_free(plans[i]);
        free(plans);
    } else if (!strcmp(sub, "verify")) {
        verify_ctx c = { bs, remove_bad, 0, 0 };
        if (nargs) {
            for (int i = 0; i < nargs; i++) {
                pylon_digest d;
                if (pylon_digest_parse(args[i], &d)) {
                    rc = hc_usage(cmd, "'%s' is not a digest (sha256:<64 hex>)", args[i]);
                    goto done;
                }
                verify_one(&c, &d);
            }
        } else if (pylon_blob_list(bs, verify_visit, &c, &e) < 0) {
            rc = hc_fail(cmd, &e);
            goto done;
        }
        fprintf(stderr, "%d ok, %d damaged or missing%s\n", c.good, c.bad,
                c.bad && !remove_bad ? "; 'pylon blob verify --remove-bad' deletes the damaged "
                                       "ones, then add the originals again" : "");
        rc = c.bad ? PYLON_EXIT_FAIL : PYLON_EXIT_OK;
    } else if (!strcmp(sub, "gc")) {
        if (!nplans) {
            rc = hc_usage(cmd, "blob gc: name the plans whose blobs to keep (--plan PLAN, one or "
                          "more); gc deletes everything else");
            goto done;
        }
        if (nargs) { rc = hc_usage(cmd, "blob gc takes no arguments besides options"); goto done; }
        pylon_plan **plans = calloc((size_t)nplans, sizeof *plans);
        if (load_plans(nplans, plan_paths, plans)) { free(plans); rc = PYLON_EXIT_FAIL; goto done; }
        gc_ctx c = { bs, plans, nplans, dry, 0, 0, 0 };
        rc = pylon_blob_list(bs, gc_visit, &c, &e) < 0 ? hc_fail(cmd, &e) : PYLON_EXIT_OK;
        int tmp = dry ? 0 : pylon_blob_clean_tmp(bs, 3600);
        fprintf(stderr, "%s %d blob%s (%" PRIu64 " bytes), kept %d referenced; %d stale temporary "
                "file%s removed\n", dry ? "would remove" : "removed", c.removed,
                c.removed == 1 ? "" : "s", c.freed, c.kept, tmp, tmp == 1 ? "" : "s");
        for (int i = 0; i < nplans; i++) pylon_plan_free(plans[i]);
        free(plans);
    } else {   /* fetch */
        if (!paths.upstream) { rc = hc_usage(cmd, "blob fetch: give the store to copy from with --upstream URL"); goto done; }
        if (!nargs) { rc = hc_usage(cmd, "blob fetch: name at least one DIGEST"); goto done; }
        if (pylon_blob_set_upstream(bs, paths.upstream, &e)) { rc = hc_fail(cmd, &e); goto done; }
        rc = PYLON_EXIT_OK;
        for (int i = 0; i < nargs; i++) {
            pylon_digest d;
            char dg[PYLON_DIGEST_STRLEN + 1];
            if (pylon_digest_parse(args[i], &d)) {
                rc = hc_usage(cmd, "'%s' is not a digest (sha256:<64 hex>)", args[i]);
                break;
            }
            uint8_t *bytes;
            size_t len;
            if (pylon_blob_get(bs, &d, &bytes, &len, &e)) { rc = hc_fail(cmd, &e); continue; }
            free(bytes);
            printf("%s  %zu bytes\n", pylon_digest_format(&d, dg), len);
            fflush(stdout);
            if (aot) compile_native(bs, &d, cmd);
        }
    }
done:
    pylon_blob_close(bs);
out:
    free(args);
    free(plan_paths);
    return rc;
}
