/*
 * json.c — the strict JSON reader declared in json.h.
 *
 * A plain recursive-descent parser over a byte buffer.  It is strict on
 * purpose (see json.h): every refusal names the line and column and what
 * was expected, so a person editing a plan file by hand can fix it without
 * guessing.  Columns count characters, not bytes, so they match what an
 * editor shows for lines with non-ASCII text.
 */
#include "util/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    uint32_t line;
    size_t line_start;
    /* Column cache: positions only move forward, so the column of `pos` is
     * found by counting from the last computed one instead of from the
     * start of the line (which would be quadratic on one-line documents). */
    size_t col_pos;
    uint32_t col;
    int depth;
    pl_json_error *err;
} parser;

static uint32_t column_at(parser *p, size_t pos) {
    if (pos < p->col_pos) { /* cannot happen going forward; be safe anyway */
        p->col_pos = p->line_start;
        p->col = 1;
    }
    for (; p->col_pos < pos && p->col_pos < p->len; p->col_pos++)
        if ((p->s[p->col_pos] & 0xC0) != 0x80) p->col++; /* skip UTF-8 continuation bytes */
    return p->col;
}

static void *fail_at(parser *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *fail_at(parser *p, size_t pos, const char *fmt, ...) {
    if (p->err->message[0]) return NULL; /* keep the innermost (first) error */
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    p->err->line = p->line;
    p->err->col = column_at(p, pos);
    snprintf(p->err->message, sizeof p->err->message, "line %u, column %u: %s",
             p->err->line, p->err->col, what);
    return NULL;
}
#define fail(p, ...) fail_at((p), (p)->pos, __VA_ARGS__)

/* A short description of the byte at pos for "found ..." in messages. */
static const char *found(const parser *p, char *buf, size_t cap) {
    if (p->pos >= p->len) return "end of input";
    unsigned c = p->s[p->pos];
    if (c >= 0x21 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
    else if (c == ' ') snprintf(buf, cap, "a space");
    else if (c == '\t') snprintf(buf, cap, "a tab");
    else snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->col_pos = p->pos;
            p->col = 1;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static pl_json *new_value(parser *p, pl_json_type t, size_t pos) {
    pl_json *v = calloc(1, sizeof *v);
    if (!v) return fail_at(p, pos, "out of memory");
    v->type = t;
    v->line = p->line;
    v->col = column_at(p, pos);
    return v;
}

/* A growable byte buffer for string contents. */
typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static bool buf_put(buf *b, const void *src, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = 0;
    return true;
}

static size_t utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the well-formed UTF-8 sequence at s[0..avail), or 0 if it is
 * not one (overlong forms, surrogates and code points past U+10FFFF are
 * all refused, per RFC 3629). */
static size_t utf8_valid_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) { n = 3; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) n = 3;
    else if (c == 0xED) { n = 3; hi = 0x9F; }
    else if (c == 0xF0) { n = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else if (c == 0xF4) { n = 4; hi = 0x8F; }
    else return 0;
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

static int hex4(const unsigned char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string starting at the opening quote into b (which it resets). */
static bool parse_string_into(parser *p, buf *b) {
    b->len = 0;
    if (!buf_put(b, "", 0)) { fail(p, "out of memory"); return false; }
    size_t open = p->pos;
    p->pos++; /* the opening quote */
    for (;;) {
        if (p->pos >= p->len) {
            fail_at(p, open, "string is not terminated (missing closing '\"')");
            return false;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') { p->pos++; return true; }
        if (c < 0x20) {
            fail(p, "control character U+%04X must be escaped in a string (write \\u%04x%s)", c, c,
                 c == '\n' ? "; a string cannot span lines" : "");
            return false;
        }
        if (c == '\\') {
            if (p->pos + 1 >= p->len) { fail(p, "string ends inside an escape"); return false; }
            unsigned char e = p->s[p->pos + 1];
            char out[4];
            size_t n = 1;
            switch (e) {
            case '"': out[0] = '"'; break;
            case '\\': out[0] = '\\'; break;
            case '/': out[0] = '/'; break;
            case 'b': out[0] = '\b'; break;
            case 'f': out[0] = '\f'; break;
            case 'n': out[0] = '\n'; break;
            case 'r': out[0] = '\r'; break;
            case 't': out[0] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2, &cp) < 0) {
                    fail(p, "\\u must be followed by four hex digits");
                    return false;
                }
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail(p, "lone low surrogate \\u%04X (it must follow a high surrogate \\uD800-\\uDBFF)", cp);
                    return false;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (p->pos + 12 > p->len || p->s[p->pos + 6] != '\\' || p->s[p->pos + 7] != 'u' ||
                        hex4(p->s + p->pos + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                        fail(p, "lone high surrogate \\u%04X (it must be followed by a low surrogate \\uDC00-\\uDFFF)", cp);
                        return false;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->pos += 6;
                }
                n = utf8_encode(cp, out);
                p->pos += 4;
                break;
            }
            default: {
                char f[16];
                p->pos++;
                fail(p, "invalid escape '\\%s' (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                     e >= 0x21 && e < 0x7f ? (snprintf(f, sizeof f, "%c", e), f) : "?");
                return false;
            }
            }
            p->pos += 2;
            if (!buf_put(b, out, n)) { fail(p, "out of memory"); return false; }
            continue;
        }
        size_t n = 1;
        if (c >= 0x80) {
            n = utf8_valid_len(p->s + p->pos, p->len - p->pos);
            if (!n) {
                fail(p, "invalid UTF-8 (byte 0x%02x) in string; JSON text must be UTF-8", c);
                return false;
            }
        }
        /* Copy the run of plain bytes in one go. */
        size_t start = p->pos;
        p->pos += n;
        while (p->pos < p->len) {
            unsigned char d = p->s[p->pos];
            if (d == '"' || d == '\\' || d < 0x20 || d >= 0x80) break;
            p->pos++;
        }
        if (!buf_put(b, p->s + start, p->pos - start)) { fail(p, "out of memory"); return false; }
    }
}

static pl_json *parse_value(parser *p);

static pl_json *parse_number(parser *p) {
    size_t start = p->pos;
    const unsigned char *s = p->s;
    size_t i = p->pos;
#define DIGIT(k) ((k) < p->len && s[k] >= '0' && s[k] <= '9')
    if (i < p->len && s[i] == '-') i++;
    if (!DIGIT(i)) { p->pos = i; return fail(p, "expected a digit in number"); }
    if (s[i] == '0') {
        i++;
        if (DIGIT(i)) { p->pos = start; return fail(p, "leading zeros are not allowed in numbers"); }
    } else {
        while (DIGIT(i)) i++;
    }
    if (i < p->len && s[i] == '.') {
        i++;
        if (!DIGIT(i)) { p->pos = i; return fail(p, "expected a digit after the decimal point"); }
        while (DIGIT(i)) i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (!DIGIT(i)) { p->pos = i; return fail(p, "expected a digit in the exponent"); }
        while (DIGIT(i)) i++;
    }
#undef DIGIT
    pl_json *v = new_value(p, PL_JSON_NUMBER, start);
    if (!v) return NULL;
    size_t n = i - start;
    v->u.number.text = malloc(n + 1);
    if (!v->u.number.text) { free(v); return fail(p, "out of memory"); }
    memcpy(v->u.number.text, s + start, n);
    v->u.number.text[n] = 0;
    errno = 0;
    v->u.number.value = strtod(v->u.number.text, NULL);
    if (errno == ERANGE && (v->u.number.value > 1.0 || v->u.number.value < -1.0)) {
        pl_json_free(v);
        return fail_at(p, start, "number is too large for a double");
    }
    p->pos = i;
    return v;
}

static pl_json *parse_array(parser *p) {
    pl_json *v = new_value(p, PL_JSON_ARRAY, p->pos);
    if (!v) return NULL;
    p->pos++;
    size_t cap = 0;
    char f[16];
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') { p->pos++; return v; }
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']' && v->u.array.len) {
            pl_json_free(v);
            return fail(p, "trailing comma before ']' is not allowed");
        }
        pl_json *item = parse_value(p);
        if (!item) { pl_json_free(v); return NULL; }
        if (v->u.array.len == cap) {
            cap = cap ? cap * 2 : 4;
            pl_json **items = realloc(v->u.array.items, cap * sizeof *items);
            if (!items) { pl_json_free(item); pl_json_free(v); return fail(p, "out of memory"); }
            v->u.array.items = items;
        }
        v->u.array.items[v->u.array.len++] = item;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == ']') { p->pos++; return v; }
        fail(p, "expected ',' or ']' after an array element, found %s", found(p, f, sizeof f));
        pl_json_free(v);
        return NULL;
    }
}

static pl_json *parse_object(parser *p) {
    pl_json *v = new_value(p, PL_JSON_OBJECT, p->pos);
    if (!v) return NULL;
    p->pos++;
    size_t cap = 0;
    char f[16];
    buf key = {0};
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') { p->pos++; return v; }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            if (p->pos < p->len && p->s[p->pos] == '}' && v->u.object.len)
                fail(p, "trailing comma before '}' is not allowed");
            else
                fail(p, "expected a string key (in double quotes), found %s", found(p, f, sizeof f));
            goto bad;
        }
        size_t key_pos = p->pos;
        if (!parse_string_into(p, &key)) goto bad;
        for (size_t i = 0; i < v->u.object.len; i++) {
            const pl_json_member *m = &v->u.object.members[i];
            if (m->key_len == key.len && !memcmp(m->key, key.data, key.len)) {
                fail_at(p, key_pos, "duplicate key \"%.60s\" (its first value is at line %u)",
                        key.data, m->value->line);
                goto bad;
            }
        }
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            fail(p, "expected ':' after the key \"%.60s\", found %s", key.data, found(p, f, sizeof f));
            goto bad;
        }
        p->pos++;
        skip_ws(p);
        pl_json *item = parse_value(p);
        if (!item) goto bad;
        if (v->u.object.len == cap) {
            cap = cap ? cap * 2 : 4;
            pl_json_member *ms = realloc(v->u.object.members, cap * sizeof *ms);
            if (!ms) { pl_json_free(item); fail(p, "out of memory"); goto bad; }
            v->u.object.members = ms;
        }
        pl_json_member *m = &v->u.object.members[v->u.object.len++];
        m->key = key.data;
        m->key_len = key.len;
        m->value = item;
        key = (buf){0};
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->len && p->s[p->pos] == '}') { p->pos++; return v; }
        fail(p, "expected ',' or '}' after an object member, found %s", found(p, f, sizeof f));
        goto bad;
    }
bad:
    free(key.data);
    pl_json_free(v);
    return NULL;
}

static pl_json *parse_literal(parser *p, const char *word, pl_json_type t, bool b) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "expected a value (object, array, string, number, true, false or null)");
    pl_json *v = new_value(p, t, p->pos);
    if (!v) return NULL;
    v->u.boolean = b;
    p->pos += n;
    return v;
}

static pl_json *parse_value(parser *p) {
    char f[16];
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "expected a value, found end of input");
    unsigned char c = p->s[p->pos];
    pl_json *v;
    switch (c) {
    case '{':
    case '[':
        if (++p->depth > PL_JSON_MAX_DEPTH)
            return fail(p, "nesting is deeper than %d levels", PL_JSON_MAX_DEPTH);
        v = c == '{' ? parse_object(p) : parse_array(p);
        p->depth--;
        return v;
    case '"': {
        buf b = {0};
        size_t start = p->pos;
        uint32_t line = p->line;
        uint32_t col = column_at(p, start);
        if (!parse_string_into(p, &b)) { free(b.data); return NULL; }
        v = calloc(1, sizeof *v);
        if (!v) { free(b.data); return fail(p, "out of memory"); }
        v->type = PL_JSON_STRING;
        v->line = line;
        v->col = col;
        v->u.string.chars = b.data;
        v->u.string.len = b.len;
        return v;
    }
    case 't': return parse_literal(p, "true", PL_JSON_BOOL, true);
    case 'f': return parse_literal(p, "false", PL_JSON_BOOL, false);
    case 'n': return parse_literal(p, "null", PL_JSON_NULL, false);
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
        if (c == '\'') return fail(p, "strings must use double quotes, not single quotes");
        if (c == '/') return fail(p, "comments are not allowed in JSON");
        return fail(p, "expected a value (object, array, string, number, true, false or null), found %s",
                    found(p, f, sizeof f));
    }
}

pl_json *pl_json_parse(const char *text, size_t len, pl_json_error *err) {
    pl_json_error dummy;
    if (!err) err = &dummy;
    memset(err, 0, sizeof *err);
    parser p = {.s = (const unsigned char *)text, .len = len, .line = 1, .col = 1, .err = err};
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        return fail(&p, "the text starts with a UTF-8 byte order mark; save it without one");
    pl_json *v = parse_value(&p);
    if (!v) return NULL;
    skip_ws(&p);
    if (p.pos < p.len) {
        char f[16];
        fail(&p, "unexpected %s after the end of the JSON value", found(&p, f, sizeof f));
        pl_json_free(v);
        return NULL;
    }
    return v;
}

void pl_json_free(pl_json *v) {
    if (!v) return;
    switch (v->type) {
    case PL_JSON_NUMBER: free(v->u.number.text); break;
    case PL_JSON_STRING: free(v->u.string.chars); break;
    case PL_JSON_ARRAY:
        for (size_t i = 0; i < v->u.array.len; i++) pl_json_free(v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case PL_JSON_OBJECT:
        for (size_t i = 0; i < v->u.object.len; i++) {
            free(v->u.object.members[i].key);
            pl_json_free(v->u.object.members[i].value);
        }
        free(v->u.object.members);
        break;
    default: break;
    }
    free(v);
}

const char *pl_json_type_name(pl_json_type t) {
    switch (t) {
    case PL_JSON_NULL: return "null";
    case PL_JSON_BOOL: return "boolean";
    case PL_JSON_NUMBER: return "number";
    case PL_JSON_STRING: return "string";
    case PL_JSON_ARRAY: return "array";
    case PL_JSON_OBJECT: return "object";
    }
    return "?";
}

const pl_json *pl_json_get(const pl_json *v, const char *key) {
    if (!v || v->type != PL_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < v->u.object.len; i++)
        if (v->u.object.members[i].key_len == n && !memcmp(v->u.object.members[i].key, key, n))
            return v->u.object.members[i].value;
    return NULL;
}

const char *pl_json_string(const pl_json *v) {
    return v && v->type == PL_JSON_STRING ? v->u.string.chars : NULL;
}

/* Reads the integer digits of a number literal exactly; false if the
 * literal has a fraction/exponent or the magnitude exceeds UINT64_MAX. */
static bool integer_text(const pl_json *v, bool *neg, uint64_t *mag) {
    if (!v || v->type != PL_JSON_NUMBER) return false;
    const char *s = v->u.number.text;
    *neg = *s == '-';
    if (*neg) s++;
    uint64_t m = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (m > (UINT64_MAX - d) / 10) return false;
        m = m * 10 + d;
    }
    *mag = m;
    return true;
}

bool pl_json_int64(const pl_json *v, int64_t *out) {
    bool neg;
    uint64_t m;
    if (!integer_text(v, &neg, &m)) return false;
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1) return false;
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > INT64_MAX) return false;
        *out = (int64_t)m;
    }
    return true;
}

bool pl_json_uint64(const pl_json *v, uint64_t *out) {
    bool neg;
    uint64_t m;
    if (!integer_text(v, &neg, &m)) return false;
    if (neg && m != 0) return false;
    *out = m;
    return true;
}
