/*
 * plan.c — plan files: which cap id is which content digest, and the policy
 * around it (who may resolve what, which methods, per-provider limits).
 *
 * A plan is the one file an operator edits to change what a guest can
 * reach, so it is validated strictly: unknown keys, wrong types, missing
 * fields, malformed digests, dangling references are all refused with the
 * file, line, column and the dotted path of the field, plus what to write
 * instead.  A silently ignored typo ("method" for "methods") would grant or
 * deny something nobody intended.
 *
 *   {
 *     "version": 1,
 *     "upstream": "http://127.0.0.1:8780",          (optional)
 *     "guest": { "resolve": ["crc32c"] },            ("*" = every id)
 *     "caps": {
 *       "crc32c": {
 *         "digest": "sha256:…",
 *         "methods": ["crc32c", "extend", "info"],   (or "*")
 *         "resolve": [],                             (optional: ids this provider may resolve)
 *         "limits": { "max_memory": "16MiB", "fuel": 0, "timeout_ms": 5000,
 *                     "max_result": "16MiB" }        (optional, each optional)
 *       }
 *     }
 *   }
 *
 * Cycles among "resolve" permissions are allowed: whether a call chain
 * re-enters a running provider is known only at run time, and the bridge
 * refuses it there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_impl.h"
#include "util/json.h"

#define PLAN_MAX_BYTES (4u << 20)

static const char *const limit_keys[4] = { "max_memory", "fuel", "timeout_ms", "max_result" };

bool pylon_plan_valid_id(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > 128) return false;
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
          (id[0] >= '0' && id[0] <= '9')))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':' || c == '/' || c == '@'))
            return false;
    }
    return true;
}

static void free_list(char **l, size_t n) {
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

static void free_cap(pylon_plan_cap *c) {
    free(c->id);
    free_list(c->methods, c->nmethods);
    free_list(c->resolve, c->nresolve);
}

void pylon_plan_free(pylon_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->ncaps; i++) free_cap(&p->caps[i]);
    free(p->caps);
    free_list(p->guest_resolve, p->nguest_resolve);
    free(p->upstream);
    free(p->source);
    free(p);
}

pylon_plan *pylon_plan_new(const char *source) {
    pylon_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->source = strdup(source ? source : "plan");
    if (!p->source) { free(p); return NULL; }
    return p;
}

static void default_limits(pylon_plan_limits *l) {
    l->max_memory = PYLON_PLAN_DEFAULT_MAX_MEMORY;
    l->fuel = 0;
    l->timeout_ms = PYLON_PLAN_DEFAULT_TIMEOUT_MS;
    l->max_result = PYLON_PLAN_DEFAULT_MAX_RESULT;
}

pylon_plan_cap *pylon_plan_find(const pylon_plan *p, const char *id) {
    for (size_t i = 0; i < p->ncaps; i++)
        if (!strcmp(p->caps[i].id, id)) return &p->caps[i];
    return NULL;
}

pylon_plan_cap *pylon_plan_add_cap(pylon_plan *p, const char *id, pylon_host_error *err) {
    if (!pylon_plan_valid_id(id)) {
        pl_herr(err, PYLON_HOST_PLAN_INVALID_SCHEMA,
                "cap id \"%s\" is not valid; use 1-128 of A-Z a-z 0-9 . _ - : / @, starting "
                "with a letter or digit", id);
        return NULL;
    }
    if (pylon_plan_find(p, id)) {
        pl_herr(err, PYLON_HOST_PLAN_INVALID_SCHEMA,
                "%s: cap \"%s\" is already in the plan; change it with 'pylon plan set'",
                p->source, id);
        return NULL;
    }
    pylon_plan_cap *bigger = realloc(p->caps, (p->ncaps + 1) * sizeof *bigger);
    if (!bigger) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    p->caps = bigger;
    pylon_plan_cap *c = &p->caps[p->ncaps];
    memset(c, 0, sizeof *c);
    c->id = strdup(id);
    if (!c->id) { pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }
    default_limits(&c->limits);
    p->ncaps++;
    return c;
}

int pylon_plan_set_list(char ***list, size_t *n, const char *const *items, size_t count) {
    char **l = count ? calloc(count, sizeof *l) : NULL;
    if (count && !l) return -1;
    for (size_t i = 0; i < count; i++) {
        l[i] = strdup(items[i]);
        if (!l[i]) { free_list(l, i); return -1; }
    }
    free_list(*list, *n);
    *list = l;
    *n = count;
    return 0;
}

bool pylon_plan_may_resolve(const pylon_plan *p, const pylon_plan_cap *self, const char *id) {
    char **l = self ? self->resolve : p->guest_resolve;
    size_t n = self ? self->nresolve : p->nguest_resolve;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], "*") || !strcmp(l[i], id)) return true;
    return false;
}

bool pylon_plan_method_allowed(const pylon_plan_cap *c, const char *method, size_t len) {
    if (c->all_methods) return true;
    for (size_t i = 0; i < c->nmethods; i++)
        if (strlen(c->methods[i]) == len && !memcmp(c->methods[i], method, len)) return true;
    return false;
}

/* ---- parsing ------------------------------------------------------------------------------ */

typedef struct ctx {
    const char *src;
    pylon_host_error *err;
} ctx;

static int bad(ctx *x, const pl_json *at, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(ctx *x, const pl_json *at, int code, const char *field, const char *fmt, ...) {
    char what[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (at)
        return pl_herr(x->err, code, "%s:%u:%u: %s: %s", x->src, at->line, at->col, field, what);
    return pl_herr(x->err, code, "%s: %s: %s", x->src, field, what);
}

/* Refuses members of `obj` not in `allowed` (NULL-terminated). */
static int only_keys(ctx *x, const pl_json *obj, const char *where, const char *const *allowed) {
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const pl_json_member *m = &obj->u.object.members[i];
        bool ok = false;
        for (size_t k = 0; allowed[k]; k++)
            if (!strcmp(m->key, allowed[k])) ok = true;
        if (!ok) {
            char list[200] = "";
            for (size_t k = 0; allowed[k]; k++) {
                strncat(list, k ? ", " : "", sizeof list - strlen(list) - 1);
                strncat(list, allowed[k], sizeof list - strlen(list) - 1);
            }
            char field[300];
            snprintf(field, sizeof field, "%s%s%s", where, *where ? "." : "", m->key);
            return bad(x, m->value, PYLON_HOST_PLAN_INVALID_SCHEMA, field,
                       "unknown field; the fields allowed here are: %s", list);
        }
    }
    return 0;
}

/* Accepts 1048576, "1048576", "64KiB", "16MiB", "1GiB". */
static bool parse_size_text(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    uint64_t mul = 1;
    if (!strcmp(end, "KiB")) mul = 1ull << 10;
    else if (!strcmp(end, "MiB")) mul = 1ull << 20;
    else if (!strcmp(end, "GiB")) mul = 1ull << 30;
    else if (*end) return false;
    if (v > UINT64_MAX / mul) return false;
    *out = v * mul;
    return true;
}

static int get_size(ctx *x, const pl_json *v, const char *field, uint64_t *out) {
    if (v->type == PL_JSON_NUMBER && pl_json_uint64(v, out)) return 0;
    if (v->type == PL_JSON_STRING && parse_size_text(v->u.string.chars, out)) return 0;
    return bad(x, v, PYLON_HOST_PLAN_INVALID_SCHEMA, field,
               "must be a size: a whole number of bytes (16777216) or a string like "
               "\"64KiB\", \"16MiB\", \"1GiB\"");
}

static int get_string_list(ctx *x, const pl_json *v, const char *field, bool star_ok,
                           bool ids, char ***list, size_t *n, bool *star) {
    if (star) *star = false;
    if (star_ok && v->type == PL_JSON_STRING && !strcmp(v->u.string.chars, "*")) {
        if (star) { *star = true; return 0; }
        const char *s = "*";
        return pylon_plan_set_list(list, n, &s, 1);
    }
    if (v->type != PL_JSON_ARRAY)
        return bad(x, v, PYLON_HOST_PLAN_INVALID_SCHEMA, field, "must be an array of strings%s",
                   star_ok ? " or the string \"*\"" : "");
    const char **items = calloc(v->u.array.len + 1, sizeof *items);
    if (!items) return pl_herr(x->err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    for (size_t i = 0; i < v->u.array.len; i++) {
        const pl_json *it = v->u.array.items[i];
        char f[300];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        if (it->type != PL_JSON_STRING || strlen(it->u.string.chars) != it->u.string.len ||
            it->u.string.len == 0) {
            free(items);
            return bad(x, it, PYLON_HOST_PLAN_INVALID_SCHEMA, f, "must be a non-empty string");
        }
        if (ids && !pylon_plan_valid_id(it->u.string.chars) && strcmp(it->u.string.chars, "*")) {
            free(items);
            return bad(x, it, PYLON_HOST_PLAN_INVALID_SCHEMA, f,
                       "\"%s\" is not a valid cap id (1-128 of A-Z a-z 0-9 . _ - : / @)",
                       it->u.string.chars);
        }
        for (size_t k = 0; k < i; k++)
            if (!strcmp(items[k], it->u.string.chars)) {
                free(items);
                return bad(x, it, PYLON_HOST_PLAN_INVALID_SCHEMA, f,
                           "\"%s\" is listed twice; remove one", it->u.string.chars);
            }
        items[i] = it->u.string.chars;
    }
    int r = pylon_plan_set_list(list, n, items, v->u.array.len);
    free(items);
    if (r) return pl_herr(x->err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    return 0;
}

static int check_limits(ctx *x, const pl_json *at, const char *field, const pylon_plan_limits *l) {
    char f[300];
    if (l->max_memory < 65536 || l->max_memory > (4ull << 30)) {
        snprintf(f, sizeof f, "%s.max_memory", field);
        return bad(x, at, PYLON_HOST_PLAN_INVALID_SCHEMA, f,
                   "%" PRIu64 " is out of range; give 64KiB to 4GiB", l->max_memory);
    }
    if (l->timeout_ms > 86400000ull) {
        snprintf(f, sizeof f, "%s.timeout_ms", field);
        return bad(x, at, PYLON_HOST_PLAN_INVALID_SCHEMA, f,
                   "%" PRIu64 " is more than a day; give 0 (none) to 86400000", l->timeout_ms);
    }
    if (l->max_result < 1 || l->max_result > (1ull << 30)) {
        snprintf(f, sizeof f, "%s.max_result", field);
        return bad(x, at, PYLON_HOST_PLAN_INVALID_SCHEMA, f,
                   "%" PRIu64 " is out of range; give 1 byte to 1GiB", l->max_result);
    }
    return 0;
}

static int parse_cap(ctx *x, pylon_plan *p, const char *id, const pl_json *v) {
    char field[300];
    snprintf(field, sizeof field, "caps.%s", id);
    if (!pylon_plan_valid_id(id))
        return bad(x, v, PYLON_HOST_PLAN_INVALID_SCHEMA, field,
                   "\"%s\" is not a valid cap id; use 1-128 of A-Z a-z 0-9 . _ - : / @, "
                   "starting with a letter or digit", id);
    if (v->type != PL_JSON_OBJECT)
        return bad(x, v, PYLON_HOST_PLAN_INVALID_SCHEMA, field,
                   "must be an object with \"digest\" and \"methods\", not %s",
                   pl_json_type_name(v->type));
    static const char *const keys[] = { "digest", "methods", "resolve", "limits", NULL };
    if (only_keys(x, v, field, keys)) return -1;
    pylon_plan_cap *c = pylon_plan_add_cap(p, id, x->err);
    if (!c) return -1;

    char f[320];
    const pl_json *d = pl_json_get(v, "digest");
    snprintf(f, sizeof f, "%s.digest", field);
    if (!d)
        return bad(x, v, PYLON_HOST_PLAN_MISSING_FIELD, f,
                   "missing; give the provider's content digest (\"sha256:<64 hex>\"), e.g. "
                   "from 'pylon blob add FILE'");
    if (d->type != PL_JSON_STRING || pylon_digest_parse(d->u.string.chars, &c->digest))
        return bad(x, d, PYLON_HOST_EMIT_INVALID_DIGEST, f,
                   "must be \"sha256:\" followed by 64 hex digits ('pylon blob add FILE' prints it)");

    const pl_json *m = pl_json_get(v, "methods");
    snprintf(f, sizeof f, "%s.methods", field);
    if (!m)
        return bad(x, v, PYLON_HOST_PLAN_MISSING_FIELD, f,
                   "missing; list the methods the guest may invoke ([\"a\", \"b\"]) or "
                   "write \"*\" for all");
    if (get_string_list(x, m, f, true, false, &c->methods, &c->nmethods, &c->all_methods))
        return -1;

    const pl_json *r = pl_json_get(v, "resolve");
    snprintf(f, sizeof f, "%s.resolve", field);
    if (r && get_string_list(x, r, f, true, true, &c->resolve, &c->nresolve, NULL)) return -1;

    const pl_json *l = pl_json_get(v, "limits");
    snprintf(f, sizeof f, "%s.limits", field);
    if (l) {
        if (l->type != PL_JSON_OBJECT)
            return bad(x, l, PYLON_HOST_PLAN_INVALID_SCHEMA, f, "must be an object");
        static const char *const lkeys[] = { "max_memory", "fuel", "timeout_ms", "max_result", NULL };
        if (only_keys(x, l, f, lkeys)) return -1;
        for (int k = 0; k < 4; k++) {
            const pl_json *lv = pl_json_get(l, limit_keys[k]);
            if (!lv) continue;
            char lf[340];
            snprintf(lf, sizeof lf, "%s.%s", f, limit_keys[k]);
            uint64_t val;
            if (k == 0 || k == 3) {
                if (get_size(x, lv, lf, &val)) return -1;
            } else if (lv->type != PL_JSON_NUMBER || !pl_json_uint64(lv, &val)) {
                return bad(x, lv, PYLON_HOST_PLAN_INVALID_SCHEMA, lf,
                           "must be a whole number ≥ 0 (0 = no limit)");
            }
            c->limits_set[k] = true;
            switch (k) {
            case 0: c->limits.max_memory = val; break;
            case 1: c->limits.fuel = val; break;
            case 2: c->limits.timeout_ms = val; break;
            case 3: c->limits.max_result = val; break;
            }
        }
        if (check_limits(x, l, f, &c->limits)) return -1;
    }
    return 0;
}

/* Checks what spans caps: references to ids that exist. */
static int check_refs(ctx *x, const pylon_plan *p, const pl_json *root) {
    const pl_json *caps = root ? pl_json_get(root, "caps") : NULL;
    const pl_json *guest = root ? pl_json_get(root, "guest") : NULL;
    for (size_t i = 0; i < p->nguest_resolve; i++) {
        const char *id = p->guest_resolve[i];
        if (strcmp(id, "*") && !pylon_plan_find(p, id)) {
            const pl_json *at = guest ? pl_json_get(guest, "resolve") : NULL;
            char f[64];
            snprintf(f, sizeof f, "guest.resolve[%zu]", i);
            return bad(x, at && at->type == PL_JSON_ARRAY ? at->u.array.items[i] : at,
                       PYLON_HOST_PLAN_INVALID_GRAPH, f,
                       "\"%s\" is not a cap of this plan; add it under \"caps\" "
                       "('pylon plan add') or remove it here", id);
        }
    }
    for (size_t c = 0; c < p->ncaps; c++) {
        const pylon_plan_cap *cap = &p->caps[c];
        for (size_t i = 0; i < cap->nresolve; i++) {
            const char *id = cap->resolve[i];
            if (!strcmp(id, "*") || pylon_plan_find(p, id)) continue;
            const pl_json *cv = caps ? pl_json_get(caps, cap->id) : NULL;
            const pl_json *at = cv ? pl_json_get(cv, "resolve") : NULL;
            char f[300];
            snprintf(f, sizeof f, "caps.%s.resolve[%zu]", cap->id, i);
            return bad(x, at && at->type == PL_JSON_ARRAY ? at->u.array.items[i] : at,
                       PYLON_HOST_PLAN_INVALID_GRAPH, f,
                       "\"%s\" is not a cap of this plan; add it under \"caps\" or remove it here",
                       id);
        }
    }
    return 0;
}

pylon_plan *pylon_plan_parse(const char *text, size_t len, const char *source,
                             pylon_host_error *err) {
    ctx x = { source ? source : "plan", err };
    pl_json_error jerr;
    memset(&jerr, 0, sizeof jerr);
    pl_json *root = pl_json_parse(text, len, &jerr);
    if (!root) {
        pl_herr(err, PYLON_HOST_PLAN_INVALID_SCHEMA, "%s:%u:%u: not valid JSON: %s",
                x.src, jerr.line, jerr.col, jerr.message);
        return NULL;
    }
    pylon_plan *p = pylon_plan_new(x.src);
    if (!p) { pl_json_free(root); pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory"); return NULL; }

    if (root->type != PL_JSON_OBJECT) {
        bad(&x, root, PYLON_HOST_PLAN_INVALID_SCHEMA, "(top level)",
            "a plan is a JSON object {\"version\": 1, \"guest\": {...}, \"caps\": {...}}; "
            "'pylon plan create FILE' writes an empty one");
        goto fail;
    }
    static const char *const keys[] = { "version", "upstream", "guest", "caps", NULL };
    if (only_keys(&x, root, "", keys)) goto fail;

    const pl_json *ver = pl_json_get(root, "version");
    int64_t vnum;
    if (!ver) {
        bad(&x, root, PYLON_HOST_PLAN_MISSING_FIELD, "version",
            "missing; add \"version\": 1 at the top level");
        goto fail;
    }
    if (ver->type != PL_JSON_NUMBER || !pl_json_int64(ver, &vnum) || vnum != PYLON_PLAN_VERSION) {
        bad(&x, ver, PYLON_HOST_PLAN_INVALID_SCHEMA, "version",
            "this Pylon reads plan version 1 only; write \"version\": 1");
        goto fail;
    }

    const pl_json *up = pl_json_get(root, "upstream");
    if (up) {
        if (up->type != PL_JSON_STRING || up->u.string.len == 0 ||
            strlen(up->u.string.chars) != up->u.string.len) {
            bad(&x, up, PYLON_HOST_PLAN_INVALID_SCHEMA, "upstream",
                "must be a directory path or an http://, https:// or file:// URL");
            goto fail;
        }
        p->upstream = strdup(up->u.string.chars);
    }

    const pl_json *caps = pl_json_get(root, "caps");
    if (!caps) {
        bad(&x, root, PYLON_HOST_PLAN_MISSING_FIELD, "caps",
            "missing; add \"caps\": {} (then 'pylon plan add FILE ID --digest ...')");
        goto fail;
    }
    if (caps->type != PL_JSON_OBJECT) {
        bad(&x, caps, PYLON_HOST_PLAN_INVALID_SCHEMA, "caps",
            "must be an object mapping cap ids to {\"digest\": ..., \"methods\": ...}");
        goto fail;
    }
    for (size_t i = 0; i < caps->u.object.len; i++) {
        const pl_json_member *m = &caps->u.object.members[i];
        if (strlen(m->key) != m->key_len) {
            bad(&x, m->value, PYLON_HOST_PLAN_INVALID_SCHEMA, "caps", "a cap id contains NUL");
            goto fail;
        }
        if (parse_cap(&x, p, m->key, m->value)) goto fail;
    }

    const pl_json *guest = pl_json_get(root, "guest");
    if (!guest) {
        bad(&x, root, PYLON_HOST_PLAN_MISSING_FIELD, "guest",
            "missing; add \"guest\": {\"resolve\": [ids the guest may resolve]}");
        goto fail;
    }
    if (guest->type != PL_JSON_OBJECT) {
        bad(&x, guest, PYLON_HOST_PLAN_INVALID_SCHEMA, "guest",
            "must be an object {\"resolve\": [...]}");
        goto fail;
    }
    static const char *const gkeys[] = { "resolve", NULL };
    if (only_keys(&x, guest, "guest", gkeys)) goto fail;
    const pl_json *gr = pl_json_get(guest, "resolve");
    if (!gr) {
        bad(&x, guest, PYLON_HOST_PLAN_MISSING_FIELD, "guest.resolve",
            "missing; list the cap ids the guest may resolve ([] for none, \"*\" for all)");
        goto fail;
    }
    if (get_string_list(&x, gr, "guest.resolve", true, true, &p->guest_resolve,
                        &p->nguest_resolve, NULL))
        goto fail;
    if (check_refs(&x, p, root)) goto fail;
    pl_json_free(root);
    return p;
fail:
    pl_json_free(root);
    pylon_plan_free(p);
    return NULL;
}

pylon_plan *pylon_plan_load(const char *path, pylon_host_error *err) {
    size_t len;
    uint8_t *text = pl_read_all(path, PLAN_MAX_BYTES, &len);
    if (!text) {
        if (errno == ENOENT)
            pl_herr(err, PYLON_HOST_PLAN_MISSING_FIELD,
                    "plan %s does not exist; create one with 'pylon plan create %s'", path, path);
        else
            pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot read plan %s: %s%s", path,
                    strerror(errno), errno == EFBIG ? " (plans are at most 4 MiB)" : "");
        return NULL;
    }
    pylon_plan *p = pylon_plan_parse((const char *)text, len, path, err);
    free(text);
    return p;
}

int pylon_plan_validate(const pylon_plan *p, pylon_host_error *err) {
    ctx x = { p->source, err };
    for (size_t i = 0; i < p->ncaps; i++) {
        const pylon_plan_cap *c = &p->caps[i];
        char f[300];
        snprintf(f, sizeof f, "caps.%s", c->id);
        if (!pylon_plan_valid_id(c->id))
            return bad(&x, NULL, PYLON_HOST_PLAN_INVALID_SCHEMA, f, "not a valid cap id");
        for (size_t k = 0; k < i; k++)
            if (!strcmp(p->caps[k].id, c->id))
                return bad(&x, NULL, PYLON_HOST_PLAN_INVALID_SCHEMA, f, "defined twice");
        if (check_limits(&x, NULL, f, &c->limits)) return -1;
    }
    return check_refs(&x, p, NULL);
}

/* ---- writing ------------------------------------------------------------------------------- */

static void put_size(pl_buf *b, uint64_t v) {
    if (v && v % (1ull << 30) == 0) pl_buf_printf(b, "\"%" PRIu64 "GiB\"", v >> 30);
    else if (v && v % (1ull << 20) == 0) pl_buf_printf(b, "\"%" PRIu64 "MiB\"", v >> 20);
    else if (v && v % (1ull << 10) == 0) pl_buf_printf(b, "\"%" PRIu64 "KiB\"", v >> 10);
    else pl_buf_printf(b, "%" PRIu64, v);
}

static void put_list(pl_buf *b, char **l, size_t n) {
    if (n == 1 && !strcmp(l[0], "*")) { pl_buf_puts(b, "\"*\""); return; }
    pl_buf_puts(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) pl_buf_puts(b, ", ");
        pl_buf_json_str(b, l[i], strlen(l[i]));
    }
    pl_buf_puts(b, "]");
}

char *pylon_plan_to_json(const pylon_plan *p) {
    pl_buf b = { 0 };
    char dg[PYLON_DIGEST_STRLEN + 1];
    pl_buf_printf(&b, "{\n  \"version\": %d,\n", PYLON_PLAN_VERSION);
    if (p->upstream) {
        pl_buf_puts(&b, "  \"upstream\": ");
        pl_buf_json_str(&b, p->upstream, strlen(p->upstream));
        pl_buf_puts(&b, ",\n");
    }
    pl_buf_puts(&b, "  \"guest\": {\"resolve\": ");
    put_list(&b, p->guest_resolve, p->nguest_resolve);
    pl_buf_puts(&b, "},\n  \"caps\": {");
    for (size_t i = 0; i < p->ncaps; i++) {
        const pylon_plan_cap *c = &p->caps[i];
        pl_buf_puts(&b, i ? ",\n    " : "\n    ");
        pl_buf_json_str(&b, c->id, strlen(c->id));
        pl_buf_printf(&b, ": {\n      \"digest\": \"%s\",\n      \"methods\": ",
                      pylon_digest_format(&c->digest, dg));
        if (c->all_methods) pl_buf_puts(&b, "\"*\"");
        else put_list(&b, c->methods, c->nmethods);
        if (c->nresolve) {
            pl_buf_puts(&b, ",\n      \"resolve\": ");
            put_list(&b, c->resolve, c->nresolve);
        }
        bool any = false;
        for (int k = 0; k < 4; k++) any |= c->limits_set[k];
        if (any) {
            pl_buf_puts(&b, ",\n      \"limits\": {");
            bool first = true;
            for (int k = 0; k < 4; k++) {
                if (!c->limits_set[k]) continue;
                pl_buf_printf(&b, "%s\"%s\": ", first ? "" : ", ", limit_keys[k]);
                first = false;
                switch (k) {
                case 0: put_size(&b, c->limits.max_memory); break;
                case 1: pl_buf_printf(&b, "%" PRIu64, c->limits.fuel); break;
                case 2: pl_buf_printf(&b, "%" PRIu64, c->limits.timeout_ms); break;
                case 3: put_size(&b, c->limits.max_result); break;
                }
            }
            pl_buf_puts(&b, "}");
        }
        pl_buf_puts(&b, "\n    }");
    }
    pl_buf_puts(&b, p->ncaps ? "\n  }\n}\n" : "}\n}\n");
    if (b.oom) { free(b.s); return NULL; }
    return b.s;
}

int pylon_plan_save(const pylon_plan *p, const char *path, pylon_host_error *err) {
    if (pylon_plan_validate(p, err)) return -1;
    char *text = pylon_plan_to_json(p);
    if (!text) return pl_herr(err, PYLON_HOST_INTERNAL_ERROR, "out of memory");
    int r = pl_write_atomic(path, text, strlen(text), 0644);
    int e = errno;
    free(text);
    if (r)
        return pl_herr(err, PYLON_HOST_BLOB_IO_ERROR, "cannot write plan %s: %s; check the "
                       "directory exists and is writable", path, strerror(e));
    return 0;
}
