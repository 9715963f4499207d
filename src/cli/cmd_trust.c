/*
 * cmd_trust.c — `pylon trust`: which provider digests Pylon may run, and
 * the audit log that records what it did run.
 *
 * Two ways to trust a digest: put it on the allow-list (you vouch for it
 * yourself), or trust a publisher's Ed25519 key and keep their signature
 * of it.  Revocation wins over both.  Secret keys made by `keygen` stay in
 * the keys directory (mode 0600); the trust store only ever holds public
 * keys.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/host_cli.h"

static const char usage_text[] =
    "usage: pylon trust COMMAND [arguments] [options]\n"
    "\n"
    "A provider is instantiated only if its digest is trusted: on the allow-list,\n"
    "or signed by a trusted key, and not revoked.\n"
    "\n"
    "commands:\n"
    "  keygen NAME [--no-trust]       make an Ed25519 key pair: the secret goes to\n"
    "                                 KEYS/NAME.key (0600), the public key is trusted\n"
    "                                 unless --no-trust\n"
    "  sign --key NAME sha256:HEX|FILE\n"
    "                                 sign a digest with KEYS/NAME.key; the signature\n"
    "                                 is stored in the trust store and printed\n"
    "  allow sha256:HEX|FILE...       put digests on the allow-list\n"
    "  revoke sha256:HEX|FILE...      refuse digests from now on, even if allowed or\n"
    "                                 signed\n"
    "  revoke --key NAME              stop trusting a key (and everything it signed)\n"
    "  add-key NAME HEX               trust a publisher's public key (64 hex digits)\n"
    "  add-sig sha256:HEX NAME SIGHEX store a publisher's signature (verified first)\n"
    "  list                           show keys, allowed and revoked digests\n"
    "  check sha256:HEX|FILE          say whether a digest is trusted, and why;\n"
    "                                 exit 1 if not\n"
    "  audit [verify|show] [-n N]     check the audit log's hash chain (default), or\n"
    "                                 print its last N entries (default 20)\n"
    "\n";

static int open_trust(const pylon_host_paths *paths, pylon_trust **t) {
    char dir[4096];
    if (!hc_path(paths, "trust", dir, sizeof dir, "trust")) return PYLON_EXIT_USAGE;
    pylon_host_error e;
    if (!(*t = pylon_trust_open(dir, &e))) return hc_fail("trust", &e);
    return 0;
}

static int secret_path(const pylon_host_paths *paths, const char *name, char *buf, size_t cap) {
    char keys[4096];
    if (!hc_path(paths, "keys", keys, sizeof keys, "trust")) return -1;
    if (!pylon_trust_valid_key_name(name)) {
        hc_usage("trust", "'%s' is not a key name; use 1-64 of A-Z a-z 0-9 . _ -", name);
        return -1;
    }
    snprintf(buf, cap, "%s/%s.key", keys, name);
    return 0;
}

static int audit_cmd(const pylon_host_paths *paths, const char *what, long n) {
    char path[4096];
    if (!hc_path(paths, "audit", path, sizeof path, "trust")) return PYLON_EXIT_USAGE;
    pylon_host_error e;
    if (!strcmp(what, "verify")) {
        size_t entries;
        char head[65];
        if (pylon_audit_verify(path, &entries, head, &e)) {
            if (e.code == PYLON_HOST_BLOB_NOT_FOUND) {
                printf("%s: no audit log yet (nothing has been resolved with this home)\n", path);
                return PYLON_EXIT_OK;
            }
            fprintf(stderr, "pylon trust audit: TAMPERED: %s\n", e.message);
            return PYLON_EXIT_FAIL;
        }
        printf("%s: %zu entries, hash chain intact; head %s\n", path, entries, head);
        printf("(keep the head hash elsewhere: comparing it later also shows a rewritten tail)\n");
        return PYLON_EXIT_OK;
    }
    size_t len;
    uint8_t *text = pylon_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "pylon trust audit: cannot read %s: %s\n", path, strerror(errno));
        return PYLON_EXIT_IO;
    }
    size_t start = len;
    long lines = 0;
    while (start > 0) {
        if (text[start - 1] == '\n' && start != len && ++lines >= n) break;
        start--;
    }
    fwrite(text + start, 1, len - start, stdout);
    free(text);
    return PYLON_EXIT_OK;
}

int pylon_cmd_trust(int argc, char **argv) {
    const char *cmd = "trust";
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        fputs(hc_location_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? PYLON_EXIT_USAGE : PYLON_EXIT_OK;
    }
    const char *sub = argv[1];
    static const char *const subs[] = { "keygen", "sign", "allow", "revoke", "add-key", "add-sig",
                                        "list", "check", "audit" };
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) known |= !strcmp(sub, subs[i]);
    if (!known)
        return hc_usage(cmd, "unknown command '%s'; the commands are keygen, sign, allow, revoke, "
                        "add-key, add-sig, list, check, audit", sub);

    pylon_host_paths paths = { 0 };
    const char *key = NULL, *nstr = NULL;
    bool no_trust = false;
    char **args = calloc((size_t)argc, sizeof *args);
    int nargs = 0, rc = PYLON_EXIT_USAGE;
    for (int i = 2; i < argc; i++) {
        int r;
        if (hc_flag(argv, i, "--help") || hc_flag(argv, i, "-h")) {
            fputs(usage_text, stdout);
            fputs(hc_location_help, stdout);
            rc = PYLON_EXIT_OK;
            goto out;
        }
        if ((r = hc_location_opt(argc, argv, &i, &paths, cmd))) { if (r < 0) goto out; continue; }
        if ((r = hc_opt(argc, argv, &i, "--key", &key, cmd))) { if (r < 0) goto out; continue; }
        if ((r = hc_opt(argc, argv, &i, "-n", &nstr, cmd))) { if (r < 0) goto out; continue; }
        if (hc_flag(argv, i, "--no-trust")) { no_trust = true; continue; }
        if (argv[i][0] == '-' && argv[i][1]) {
            rc = hc_usage(cmd, "unknown option '%s' for 'trust %s'", argv[i], sub);
            goto out;
        }
        args[nargs++] = argv[i];
    }

    if (!strcmp(sub, "audit")) {
        const char *what = nargs ? args[0] : "verify";
        if ((strcmp(what, "verify") && strcmp(what, "show")) || nargs > 1) {
            rc = hc_usage(cmd, "trust audit takes 'verify' or 'show'");
            goto out;
        }
        long n = nstr ? strtol(nstr, NULL, 10) : 20;
        rc = audit_cmd(&paths, what, n > 0 ? n : 20);
        goto out;
    }

    pylon_trust *t = NULL;
    if ((rc = open_trust(&paths, &t))) goto out;
    pylon_host_error e;
    char dg[PYLON_DIGEST_STRLEN + 1], hex[129];
    rc = PYLON_EXIT_OK;

    if (!strcmp(sub, "keygen")) {
        char sp[4200];
        if (nargs != 1) { rc = hc_usage(cmd, "trust keygen takes one NAME"); goto done; }
        if (secret_path(&paths, args[0], sp, sizeof sp)) { rc = PYLON_EXIT_USAGE; goto done; }
        uint8_t pk[32];
        if (pylon_trust_keygen(no_trust ? NULL : t, args[0], sp, pk, &e)) { rc = hc_fail(cmd, &e); goto done; }
        for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02x", pk[i]);
        printf("key '%s'\n  public  %s\n  secret  %s (keep it private)\n%s", args[0], hex, sp,
               no_trust ? "  not trusted here: others add it with 'pylon trust add-key NAME HEX'\n"
                        : "  trusted: digests it signs may now run\n");
    } else if (!strcmp(sub, "sign")) {
        char sp[4200];
        if (!key || nargs != 1) { rc = hc_usage(cmd, "trust sign takes --key NAME and one sha256:HEX or FILE"); goto done; }
        if (secret_path(&paths, key, sp, sizeof sp)) { rc = PYLON_EXIT_USAGE; goto done; }
        pylon_digest d;
        if (hc_digest_arg(args[0], &d, cmd)) { rc = PYLON_EXIT_USAGE; goto done; }
        uint8_t sig[64], pk[32];
        if (pylon_trust_sign(sp, &d, sig, pk, &e)) { rc = hc_fail(cmd, &e); goto done; }
        for (int i = 0; i < 64; i++) sprintf(hex + 2 * i, "%02x", sig[i]);
        if (pylon_trust_add_signature(t, &d, key, sig, &e)) {
            /* The key is not trusted here: the signature is still useful elsewhere. */
            printf("%s\n", hex);
            fprintf(stderr, "pylon trust sign: signed, but not stored here: %s\n", e.message);
            rc = PYLON_EXIT_FAIL;
            goto done;
        }
        printf("%s\n", hex);
        fprintf(stderr, "signed %s with '%s'; stored in the trust store (give others the "
                "signature: 'pylon trust add-sig %s %s SIG')\n", pylon_digest_format(&d, dg), key,
                dg, key);
    } else if (!strcmp(sub, "allow")) {
        if (!nargs) { rc = hc_usage(cmd, "trust allow takes one or more sha256:HEX or FILE"); goto done; }
        for (int i = 0; i < nargs; i++) {
            pylon_digest d;
            if (hc_digest_arg(args[i], &d, cmd)) { rc = PYLON_EXIT_USAGE; break; }
            if (pylon_trust_allow(t, &d, &e)) { rc = hc_fail(cmd, &e); break; }
            printf("allowed %s\n", pylon_digest_format(&d, dg));
        }
    } else if (!strcmp(sub, "revoke")) {
        if (key) {
            if (nargs) { rc = hc_usage(cmd, "trust revoke --key NAME takes no other argument"); goto done; }
            if (pylon_trust_revoke_key(t, key, &e)) { rc = hc_fail(cmd, &e); goto done; }
            printf("revoked key '%s': its signatures no longer count\n", key);
        } else {
            if (!nargs) { rc = hc_usage(cmd, "trust revoke takes sha256:HEX / FILE arguments, or --key NAME"); goto done; }
            for (int i = 0; i < nargs; i++) {
                pylon_digest d;
                if (hc_digest_arg(args[i], &d, cmd)) { rc = PYLON_EXIT_USAGE; break; }
                if (pylon_trust_revoke_digest(t, &d, &e)) { rc = hc_fail(cmd, &e); break; }
                printf("revoked %s\n", pylon_digest_format(&d, dg));
            }
        }
    } else if (!strcmp(sub, "add-key")) {
        uint8_t pk[32];
        if (nargs != 2) { rc = hc_usage(cmd, "trust add-key takes NAME and the 64-hex-digit public key"); goto done; }
        bool ok = strlen(args[1]) == 64;
        for (int i = 0; ok && i < 32; i++) ok = sscanf(args[1] + 2 * i, "%2hhx", &pk[i]) == 1;
        if (!ok) { rc = hc_usage(cmd, "'%s' is not a public key: 64 hex digits expected", args[1]); goto done; }
        if (pylon_trust_add_key(t, args[0], pk, &e)) { rc = hc_fail(cmd, &e); goto done; }
        printf("trusting key '%s'\n", args[0]);
    } else if (!strcmp(sub, "add-sig")) {
        pylon_digest d;
        uint8_t sig[64];
        if (nargs != 3) { rc = hc_usage(cmd, "trust add-sig takes sha256:HEX, the key NAME and the 128-hex-digit signature"); goto done; }
        if (hc_digest_arg(args[0], &d, cmd)) { rc = PYLON_EXIT_USAGE; goto done; }
        bool ok = strlen(args[2]) == 128;
        for (int i = 0; ok && i < 64; i++) ok = sscanf(args[2] + 2 * i, "%2hhx", &sig[i]) == 1;
        if (!ok) { rc = hc_usage(cmd, "'%s' is not a signature: 128 hex digits expected", args[2]); goto done; }
        if (pylon_trust_add_signature(t, &d, args[1], sig, &e)) { rc = hc_fail(cmd, &e); goto done; }
        printf("stored the signature of %s by '%s'\n", pylon_digest_format(&d, dg), args[1]);
    } else if (!strcmp(sub, "list")) {
        size_t nk = pylon_trust_num_keys(t), na = pylon_trust_num_allowed(t),
               nr = pylon_trust_num_revoked_digests(t);
        printf("keys (%zu):\n", nk);
        for (size_t i = 0; i < nk; i++) {
            uint8_t pk[32];
            bool revoked;
            const char *name = pylon_trust_key(t, i, pk, &revoked);
            for (int k = 0; k < 32; k++) sprintf(hex + 2 * k, "%02x", pk[k]);
            printf("  %-20s ed25519 %s%s\n", name, hex, revoked ? "  REVOKED" : "");
        }
        printf("allowed digests (%zu):\n", na);
        for (size_t i = 0; i < na; i++) printf("  %s\n", pylon_digest_format(pylon_trust_allowed(t, i), dg));
        printf("revoked digests (%zu):\n", nr);
        for (size_t i = 0; i < nr; i++)
            printf("  %s\n", pylon_digest_format(pylon_trust_revoked_digest(t, i), dg));
    } else {   /* check */
        pylon_digest d;
        char how[96];
        if (nargs != 1) { rc = hc_usage(cmd, "trust check takes one sha256:HEX or FILE"); goto done; }
        if (hc_digest_arg(args[0], &d, cmd)) { rc = PYLON_EXIT_USAGE; goto done; }
        if (pylon_trust_check(t, &d, how, sizeof how, &e)) {
            printf("NOT trusted (%s): %s\n", pylon_host_code_name(e.code), e.message);
            rc = PYLON_EXIT_FAIL;
        } else {
            printf("trusted: %s, through %s\n", pylon_digest_format(&d, dg), how);
        }
    }
done:
    pylon_trust_free(t);
out:
    free(args);
    return rc;
}
