/*
 * decode.c — the WebAssembly binary decoder and module-level validator.
 *
 * Turns the bytes of a module (WebAssembly 2.0, without SIMD) into a
 * pl_module and checks every rule that lives outside function bodies:
 * section order and sizes, LEB128 and UTF-8 well-formedness, index spaces,
 * limits, constant expressions, export names, segment shapes.  Function
 * bodies are only delimited here (locals flattened, expression located);
 * compile.c validates and compiles them with the same pl_reader.
 *
 * The spec defines decoding and validation as two phases, so a module that
 * is both malformed and invalid must be reported as malformed.  We make one
 * pass: a malformed (or unsupported) input stops decoding at once, while the
 * first validation failure is only recorded in pl_dec and reported when the
 * whole module has decoded.  Every index space a rule needs is complete by
 * the time it is needed because the binary format orders sections so.
 *
 * Hostile input: every read is bounds-checked through pl_reader, vectors
 * grow as their entries are actually decoded (so a count the input merely
 * claims costs nothing), and every count is checked against the bytes that
 * remain before anything is sized by it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/module.h"

/* The spec's limit is 2^32-1 declared locals per function; we refuse far
 * earlier because the locals are flattened into one byte each and a frame
 * holds all of them.  No real compiler output comes near this. */
#define PL_MAX_LOCALS 50000u
/* Flattening lets ~5 input bytes claim 50000 locals, so a small hostile
 * module could otherwise make us allocate gigabytes. */
#define PL_MAX_MODULE_LOCALS (1u << 24)
#define PL_MAX_PAGES 65536u

static const char pl_why_end[] = "unexpected end";
static const char pl_why_long[] = "integer representation too long";
static const char pl_why_large[] = "integer too large";

/* ---- readers -------------------------------------------------------------- */

/* LEB128 per the spec's binary-leb128 rules: at most ceil(bits/7) bytes, and
 * in the last byte the bits beyond `bits` must be zero (unsigned) or copies
 * of the sign bit (signed). */
static bool pl_leb(pl_reader *r, unsigned bits, bool sign, uint64_t *out)
{
    const uint8_t *p = r->p;
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    for (;;) {
        if (p >= r->end) {
            r->why = pl_why_end;
            return false;
        }
        b = *p++;
        unsigned left = bits - shift;
        if (left < 7) {
            if (!sign) {
                if ((b & 0x7f) >> left) {
                    r->why = pl_why_large;
                    return false;
                }
            } else {
                uint8_t mask = (uint8_t)((0x7fu << (left - 1)) & 0x7fu);
                if ((b & mask) != 0 && (b & mask) != mask) {
                    r->why = pl_why_large;
                    return false;
                }
            }
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
        if (shift >= bits) {
            r->why = pl_why_long;
            return false;
        }
    }
    if (sign && shift < 64 && (b & 0x40))
        v |= ~0ull << shift;
    r->p = p;
    *out = v;
    return true;
}

bool pl_read_u8(pl_reader *r, uint8_t *out)
{
    if (r->p >= r->end) {
        r->why = pl_why_end;
        return false;
    }
    *out = *r->p++;
    return true;
}

bool pl_read_u32(pl_reader *r, uint32_t *out)
{
    uint64_t v;
    if (!pl_leb(r, 32, false, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

bool pl_read_s32(pl_reader *r, int32_t *out)
{
    uint64_t v;
    if (!pl_leb(r, 32, true, &v))
        return false;
    *out = (int32_t)(uint32_t)v;
    return true;
}

bool pl_read_s33(pl_reader *r, int64_t *out)
{
    uint64_t v;
    if (!pl_leb(r, 33, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

bool pl_read_s64(pl_reader *r, int64_t *out)
{
    uint64_t v;
    if (!pl_leb(r, 64, true, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

bool pl_read_f32(pl_reader *r, uint32_t *out_bits)
{
    if (r->end - r->p < 4) {
        r->why = pl_why_end;
        return false;
    }
    const uint8_t *p = r->p;
    *out_bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                (uint32_t)p[3] << 24;
    r->p += 4;
    return true;
}

bool pl_read_f64(pl_reader *r, uint64_t *out_bits)
{
    if (r->end - r->p < 8) {
        r->why = pl_why_end;
        return false;
    }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | r->p[i];
    *out_bits = v;
    r->p += 8;
    return true;
}

static void pl_vfail(pylon_error *err, pylon_error_kind kind, size_t off,
                     const char *fmt, va_list ap)
{
    err->kind = kind;
    err->offset = off;
    int n = snprintf(err->message, sizeof err->message, "offset 0x%zx: ", off);
    if (n < 0 || (size_t)n >= sizeof err->message)
        return;
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
}

void *pl_fail(pylon_error *err, pylon_error_kind kind, const pl_reader *r,
              const char *fmt, ...)
{
    if (!err)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    pl_vfail(err, kind, r ? (size_t)(r->p - r->base) : 0, fmt, ap);
    va_end(ap);
    return NULL;
}

/* ---- decoder state and error helpers ---------------------------------- */

typedef struct pl_dec {
    pl_module *m;
    pylon_error *err;
    const uint8_t *base;

    bool imports_done;     /* index-space arrays hold the imports */
    bool funcs_done;       /* nfuncs is final, func_declared allocated */
    bool have_code;

    /* Allocated capacities of the vectors that grow while decoding. */
    uint32_t cap_types, cap_imports, cap_funcs, cap_tables, cap_mems;
    uint32_t cap_globals, cap_inits, cap_exports, cap_elems, cap_datas;

    uint64_t total_locals;
    const uint8_t *names_p, *names_end;  /* payload of the "name" section */

    bool invalid;          /* first validation failure, reported at the end */
    pylon_error inv;
} pl_dec;

static bool pl_bad(pl_dec *d, pylon_error_kind kind, const uint8_t *at,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool pl_bad(pl_dec *d, pylon_error_kind kind, const uint8_t *at,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pl_vfail(d->err, kind, (size_t)(at - d->base), fmt, ap);
    va_end(ap);
    return false;
}

static void pl_invalid(pl_dec *d, const uint8_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pl_invalid(pl_dec *d, const uint8_t *at, const char *fmt, ...)
{
    if (d->invalid)
        return;
    d->invalid = true;
    va_list ap;
    va_start(ap, fmt);
    pl_vfail(&d->inv, PYLON_ERR_INVALID, (size_t)(at - d->base), fmt, ap);
    va_end(ap);
}

static bool pl_nomem(pl_dec *d, const uint8_t *at)
{
    return pl_bad(d, PYLON_ERR_NOMEM, at, "out of memory while decoding");
}

/* Reports why a pl_read_* failed, in the spec's words, with what we were
 * reading.  Every caller reads inside a section, where the spec says
 * "unexpected end of section or function". */
static bool pl_rdfail(pl_dec *d, const pl_reader *r, const char *what)
{
    const char *why = r->why ? r->why : pl_why_end;
    if (why == pl_why_end)
        why = "unexpected end of section or function";
    return pl_bad(d, PYLON_ERR_MALFORMED, r->p, "%s (reading %s)", why, what);
}

/* These zero *out on failure so no caller can see an unset value (and so
 * gcc's -Wmaybe-uninitialized can tell). */
static bool pl_u8(pl_dec *d, pl_reader *r, uint8_t *out, const char *what)
{
    if (pl_read_u8(r, out))
        return true;
    *out = 0;
    return pl_rdfail(d, r, what);
}

static bool pl_u32(pl_dec *d, pl_reader *r, uint32_t *out, const char *what)
{
    if (pl_read_u32(r, out))
        return true;
    *out = 0;
    return pl_rdfail(d, r, what);
}

/* A vector length.  Every entry takes at least one byte, so a count beyond
 * the bytes left is malformed before anything is allocated for it. */
static bool pl_count(pl_dec *d, pl_reader *r, uint32_t *out, const char *what)
{
    const uint8_t *at = r->p;
    if (!pl_u32(d, r, out, what))
        return false;
    if (*out > (size_t)(r->end - r->p))
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "unexpected end of section or function (%s %u, but only "
                      "%zu bytes left)", what, *out, (size_t)(r->end - r->p));
    return true;
}

/* Makes room for `need` entries in *arrp (a pointer to the array pointer),
 * doubling but never past `limit` (the declared count), zero-filling the
 * new tail so a half-built module can always be destroyed. */
static bool pl_room(pl_dec *d, void *arrp, uint32_t *cap, uint64_t need,
                    uint64_t limit, size_t size, const uint8_t *at)
{
    if (need <= *cap)
        return true;
    uint64_t nc = *cap ? (uint64_t)*cap * 2 : 4;
    if (nc < need)
        nc = need;
    if (nc > limit)
        nc = limit;
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, (size_t)nc * size);
    if (!p)
        return pl_nomem(d, at);
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(nc - *cap) * size);
    memcpy(arrp, &p, sizeof p);
    *cap = (uint32_t)nc;
    return true;
}

/* ---- types, names, limits ---------------------------------------------------- */


/* Type bytes are really one-byte signed LEB128s in the spec, hence the
 * "integer representation too long" for a continuation bit. */
static bool pl_typebyte_bad(pl_dec *d, const uint8_t *at, uint8_t b,
                            const char *kind, const char *what)
{
    if (b & 0x80)
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "integer representation too long (%s 0x%02x in %s)", kind, b, what);
    return pl_bad(d, PYLON_ERR_MALFORMED, at, "malformed %s 0x%02x (%s)", kind, b, what);
}

static bool pl_valtype_rd(pl_dec *d, pl_reader *r, pl_valtype *out, const char *what)
{
    const uint8_t *at = r->p;
    uint8_t b;
    if (!pl_u8(d, r, &b, what))
        return false;
    switch (b) {
    case PYLON_I32: case PYLON_I64: case PYLON_F32: case PYLON_F64:
    case PYLON_FUNCREF: case PYLON_EXTERNREF:
        *out = b;
        return true;
    case PYLON_V128:
        return pl_bad(d, PYLON_ERR_UNSUPPORTED, at,
                      "SIMD is not supported (v128 in %s)", what);
    }
    return pl_typebyte_bad(d, at, b, "value type", what);
}

static bool pl_reftype_rd(pl_dec *d, pl_reader *r, pl_valtype *out, const char *what)
{
    const uint8_t *at = r->p;
    uint8_t b;
    if (!pl_u8(d, r, &b, what))
        return false;
    if (b == PYLON_FUNCREF || b == PYLON_EXTERNREF) {
        *out = b;
        return true;
    }
    return pl_typebyte_bad(d, at, b, "reference type", what);
}

/* Well-formed UTF-8 as Unicode defines it: shortest form only, no
 * surrogates, nothing above U+10FFFF, no truncated sequence. */
static bool pl_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c == 0xe0)
            need = 2, lo = 0xa0;
        else if (c >= 0xe1 && c <= 0xec)
            need = 2;
        else if (c == 0xed)
            need = 2, hi = 0x9f;
        else if (c >= 0xee && c <= 0xef)
            need = 2;
        else if (c == 0xf0)
            need = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3)
            need = 3;
        else if (c == 0xf4)
            need = 3, hi = 0x8f;
        else
            return false;
        if (n - i - 1 < need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

/* A name: points into the input, validated as UTF-8. */
static bool pl_name_rd(pl_dec *d, pl_reader *r, const uint8_t **out, uint32_t *len,
                       const char *what)
{
    const uint8_t *at = r->p;
    if (!pl_u32(d, r, len, what))
        return false;
    if (*len > (size_t)(r->end - r->p))
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "length out of bounds (%s of %u bytes, %zu left)", what, *len,
                      (size_t)(r->end - r->p));
    if (!pl_utf8_ok(r->p, *len))
        return pl_bad(d, PYLON_ERR_MALFORMED, r->p, "malformed UTF-8 encoding (%s)", what);
    *out = r->p;
    r->p += *len;
    return true;
}

static char *pl_strndup(const uint8_t *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        if (n)
            memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}

static bool pl_limits_rd(pl_dec *d, pl_reader *r, pl_limits *l, const char *what)
{
    const uint8_t *at = r->p;
    uint8_t flag;
    if (!pl_u8(d, r, &flag, what))
        return false;
    /* The flag is a one-bit LEB128 in the spec; 2 and 3 are the threads
     * proposal's shared memories, which 2.0 does not have. */
    if (flag & 0x80)
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "integer representation too long (%s limits flag)", what);
    if (flag > 1)
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "integer too large (%s limits flag 0x%02x)", what, flag);
    if (!pl_u32(d, r, &l->min, what))
        return false;
    l->has_max = flag == 1;
    l->max = UINT32_MAX;
    if (l->has_max && !pl_u32(d, r, &l->max, what))
        return false;
    return true;
}

static void pl_check_mem_limits(pl_dec *d, const uint8_t *at, const pl_limits *l)
{
    if (l->min > PL_MAX_PAGES || (l->has_max && l->max > PL_MAX_PAGES))
        pl_invalid(d, at, "memory size must be at most 65536 pages (4GiB)");
    else if (l->has_max && l->min > l->max)
        pl_invalid(d, at, "size minimum must not be greater than maximum (%u > %u)",
                   l->min, l->max);
}

static void pl_check_table_limits(pl_dec *d, const uint8_t *at, const pl_limits *l)
{
    if (l->has_max && l->min > l->max)
        pl_invalid(d, at, "size minimum must not be greater than maximum (%u > %u)",
                   l->min, l->max);
}

static void pl_declare_func(pl_dec *d, uint32_t idx)
{
    if (idx < d->m->nfuncs && d->m->func_declared)
        d->m->func_declared[idx] = 1;
}

/* ---- constant expressions ------------------------------------------------------ */

static bool pl_zero_byte(pl_dec *d, pl_reader *r)
{
    const uint8_t *at = r->p;
    uint8_t b;
    if (!pl_u8(d, r, &b, "reserved byte"))
        return false;
    if (b != 0)
        return pl_bad(d, PYLON_ERR_MALFORMED, at, "zero byte expected (found 0x%02x)", b);
    return true;
}

static bool pl_skip_u32s(pl_dec *d, pl_reader *r, int n, const char *what)
{
    uint32_t v;
    for (int i = 0; i < n; i++)
        if (!pl_u32(d, r, &v, what))
            return false;
    return true;
}

/* Steps over the immediates of an instruction a constant expression may
 * not contain.  The spec decodes a constant expression as an ordinary
 * instruction sequence and only validation calls it non-constant, so such
 * an instruction is "invalid" — unless its encoding is itself malformed. */
static bool pl_skip_instr(pl_dec *d, pl_reader *r, uint8_t op, const uint8_t *at,
                          uint32_t *depth)
{
    switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1:
        return true;
    case 0x02: case 0x03: case 0x04: {
        uint8_t b;
        const uint8_t *bt = r->p;
        if (!pl_u8(d, r, &b, "block type"))
            return false;
        (*depth)++;
        switch (b) {
        case 0x40: case PYLON_I32: case PYLON_I64: case PYLON_F32: case PYLON_F64:
        case PYLON_FUNCREF: case PYLON_EXTERNREF:
            return true;
        case PYLON_V128:
            return pl_bad(d, PYLON_ERR_UNSUPPORTED, bt, "SIMD is not supported (v128 block type)");
        }
        r->p = bt;
        int64_t x;
        if (!pl_read_s33(r, &x))
            return pl_rdfail(d, r, "block type");
        if (x < 0)
            return pl_bad(d, PYLON_ERR_MALFORMED, bt, "malformed value type (block type)");
        return true;
    }
    case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23:
    case 0x24: case 0x25: case 0x26: case 0xd2:
        return pl_skip_u32s(d, r, 1, "instruction immediate");
    case 0x11:
        return pl_skip_u32s(d, r, 2, "call_indirect immediate");
    case 0x0e: {
        uint32_t n;
        if (!pl_count(d, r, &n, "br_table target count"))
            return false;
        for (uint64_t i = 0; i <= n; i++)  /* the targets, then the default */
            if (!pl_skip_u32s(d, r, 1, "br_table target"))
                return false;
        return true;
    }
    case 0x1c: {
        uint32_t n;
        if (!pl_count(d, r, &n, "select type count"))
            return false;
        for (uint32_t i = 0; i < n; i++) {
            pl_valtype t;
            if (!pl_valtype_rd(d, r, &t, "select type"))
                return false;
        }
        return true;
    }
    case 0x3f: case 0x40:
        return pl_zero_byte(d, r);
    case 0xd0: {
        pl_valtype t;
        return pl_reftype_rd(d, r, &t, "ref.null");
    }
    case 0xfc: {
        uint32_t sub;
        if (!pl_u32(d, r, &sub, "0xfc sub-opcode"))
            return false;
        switch (sub) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            return true;
        case 8:
            return pl_skip_u32s(d, r, 1, "memory.init data index") && pl_zero_byte(d, r);
        case 10:
            return pl_zero_byte(d, r) && pl_zero_byte(d, r);
        case 11:
            return pl_zero_byte(d, r);
        case 9: case 13: case 15: case 16: case 17:
            return pl_skip_u32s(d, r, 1, "instruction immediate");
        case 12: case 14:
            return pl_skip_u32s(d, r, 2, "instruction immediate");
        }
        return pl_bad(d, PYLON_ERR_MALFORMED, at, "illegal opcode 0xfc %u", sub);
    }
    case 0xfd:
        return pl_bad(d, PYLON_ERR_UNSUPPORTED, at, "SIMD is not supported (opcode 0xfd)");
    }
    if (op >= 0x28 && op <= 0x3e)
        return pl_skip_u32s(d, r, 2, "memory immediate");
    if (op >= 0x45 && op <= 0xc4)
        return true;
    return pl_bad(d, PYLON_ERR_MALFORMED, at, "illegal opcode 0x%02x", op);
}

/* Decodes a constant expression through its `end` into *out and checks it
 * produces `want`.  Globals visible to it are the imported ones only (the
 * 2.0 rule for global, element and data initialisers). */
static bool pl_const_rd(pl_dec *d, pl_reader *r, pl_valtype want, pl_constexpr *out,
                        const char *what)
{
    pl_module *m = d->m;
    const uint8_t *start = r->p;
    uint32_t ninstr = 0, depth = 0;
    memset(out, 0, sizeof *out);
    for (;;) {
        const uint8_t *at = r->p;
        uint8_t op;
        if (!pl_u8(d, r, &op, what))
            return false;
        if (op == 0x0b) {
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        ninstr++;
        pl_constexpr c;
        memset(&c, 0, sizeof c);
        bool is_const = true;
        switch (op) {
        case 0x41: {
            int32_t v;
            if (!pl_read_s32(r, &v))
                return pl_rdfail(d, r, "i32.const");
            c.op = PL_CONST_VALUE, c.type = PYLON_I32, c.value.i32 = v;
            break;
        }
        case 0x42: {
            int64_t v;
            if (!pl_read_s64(r, &v))
                return pl_rdfail(d, r, "i64.const");
            c.op = PL_CONST_VALUE, c.type = PYLON_I64, c.value.i64 = v;
            break;
        }
        case 0x43: {
            uint32_t bits;
            if (!pl_read_f32(r, &bits))
                return pl_rdfail(d, r, "f32.const");
            c.op = PL_CONST_VALUE, c.type = PYLON_F32;
            memcpy(&c.value.f32, &bits, sizeof bits);  /* keeps NaN payloads */
            break;
        }
        case 0x44: {
            uint64_t bits;
            if (!pl_read_f64(r, &bits))
                return pl_rdfail(d, r, "f64.const");
            c.op = PL_CONST_VALUE, c.type = PYLON_F64;
            memcpy(&c.value.f64, &bits, sizeof bits);
            break;
        }
        case 0xd0:
            if (!pl_reftype_rd(d, r, &c.type, "ref.null"))
                return false;
            c.op = PL_CONST_REF_NULL;
            break;
        case 0xd2:
            if (!pl_u32(d, r, &c.index, "ref.func index"))
                return false;
            c.op = PL_CONST_REF_FUNC, c.type = PYLON_FUNCREF;
            pl_declare_func(d, c.index);
            break;
        case 0x23:
            if (!pl_u32(d, r, &c.index, "global.get index"))
                return false;
            c.op = PL_CONST_GLOBAL_GET;
            if (c.index >= m->nglobal_imports) {
                pl_invalid(d, at, "unknown global %u (a constant expression may only "
                           "read imported globals)", c.index);
            } else {
                c.type = m->globals[c.index].type;
                if (m->globals[c.index].mut)
                    pl_invalid(d, at, "constant expression required (global %u is "
                               "mutable)", c.index);
            }
            break;
        default:
            is_const = false;
            pl_invalid(d, at, "constant expression required (opcode 0x%02x in %s)", op, what);
            if (!pl_skip_instr(d, r, op, at, &depth))
                return false;
        }
        if (ninstr == 1 && is_const)
            *out = c;
    }
    if (ninstr == 0)
        pl_invalid(d, start, "type mismatch (empty %s, expected %s)", what,
                   pylon_valtype_name(want));
    else if (ninstr > 1)
        pl_invalid(d, start, "type mismatch (%s has %u instructions, expected one)",
                   what, ninstr);
    else if (out->op == PL_CONST_REF_FUNC && out->index >= m->nfuncs)
        pl_invalid(d, start, "unknown function %u", out->index);
    else if (out->type != want)
        pl_invalid(d, start, "type mismatch (%s is %s, expected %s)", what,
                   pylon_valtype_name(out->type), pylon_valtype_name(want));
    return true;
}

/* ---- index spaces ---------------------------------------------------------- */

/* Called before the first section after the import section: builds the
 * import half of every index space, which the later sections extend. */
static bool pl_finish_imports(pl_dec *d, const uint8_t *at)
{
    pl_module *m = d->m;
    d->imports_done = true;
    uint32_t nf = 0, nt = 0, nm = 0, ng = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        switch (m->imports[i].kind) {
        case PYLON_EXTERN_FUNC: nf++; break;
        case PYLON_EXTERN_TABLE: nt++; break;
        case PYLON_EXTERN_MEMORY: nm++; break;
        case PYLON_EXTERN_GLOBAL: ng++; break;
        }
    }
    if ((nf && !pl_room(d, &m->func_types, &d->cap_funcs, nf, nf, sizeof *m->func_types, at)) ||
        (nt && !pl_room(d, &m->tables, &d->cap_tables, nt, nt, sizeof *m->tables, at)) ||
        (nm && !pl_room(d, &m->mems, &d->cap_mems, nm, nm, sizeof *m->mems, at)) ||
        (ng && !pl_room(d, &m->globals, &d->cap_globals, ng, ng, sizeof *m->globals, at)) ||
        (ng && !pl_room(d, &m->global_inits, &d->cap_inits, ng, ng, sizeof *m->global_inits, at)))
        return false;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const pl_import *im = &m->imports[i];
        switch (im->kind) {
        case PYLON_EXTERN_FUNC: m->func_types[m->nfuncs++] = im->u.typeidx; break;
        case PYLON_EXTERN_TABLE: m->tables[m->ntables++] = im->u.table; break;
        case PYLON_EXTERN_MEMORY: m->mems[m->nmems++] = im->u.mem; break;
        case PYLON_EXTERN_GLOBAL: m->globals[m->nglobals++] = im->u.global; break;
        }
    }
    m->nfunc_imports = nf, m->ntable_imports = nt;
    m->nmem_imports = nm, m->nglobal_imports = ng;
    if (nm > 1)
        pl_invalid(d, at, "multiple memories (%u imported)", nm);
    return true;
}

/* Called before the first section after the function section. */
static bool pl_finish_funcs(pl_dec *d, const uint8_t *at)
{
    d->funcs_done = true;
    d->m->func_declared = calloc(d->m->nfuncs ? d->m->nfuncs : 1, 1);
    return d->m->func_declared || pl_nomem(d, at);
}

/* Room for one more entry of an index space that already holds `have`. */
static bool pl_space_room(pl_dec *d, void *arrp, uint32_t *cap, uint32_t have,
                          uint32_t imported, uint32_t count, size_t size,
                          const uint8_t *at, const char *what)
{
    uint64_t limit = (uint64_t)imported + count;
    if (limit > UINT32_MAX)
        return pl_bad(d, PYLON_ERR_LIMIT, at, "too many %s", what);
    return pl_room(d, arrp, cap, (uint64_t)have + 1, limit, size, at);
}

/* ---- sections ----------------------------------------------------------------- */

static bool pl_sec_type(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "type count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_room(d, &m->types, &d->cap_types, (uint64_t)i + 1, n, sizeof *m->types, at))
            return false;
        pl_functype *ft = &m->types[i];
        m->ntypes = i + 1;
        uint8_t form;
        if (!pl_u8(d, r, &form, "function type"))
            return false;
        if (form != 0x60)
            return pl_typebyte_bad(d, at, form, "function type", "type section");
        uint32_t np, nr;
        if (!pl_count(d, r, &np, "parameter count"))
            return false;
        ft->params = malloc(np ? np : 1);
        if (!ft->params)
            return pl_nomem(d, at);
        for (uint32_t k = 0; k < np; k++, ft->nparams++)
            if (!pl_valtype_rd(d, r, &ft->params[k], "parameter type"))
                return false;
        if (!pl_count(d, r, &nr, "result count"))
            return false;
        ft->results = malloc(nr ? nr : 1);
        if (!ft->results)
            return pl_nomem(d, at);
        for (uint32_t k = 0; k < nr; k++, ft->nresults++)
            if (!pl_valtype_rd(d, r, &ft->results[k], "result type"))
                return false;
        ft->sig = malloc((size_t)np + nr + 2);
        if (!ft->sig)
            return pl_nomem(d, at);
        char *s = ft->sig;
        for (uint32_t k = 0; k < np; k++)
            *s++ = pylon_valtype_letter(ft->params[k]);
        *s++ = ':';
        for (uint32_t k = 0; k < nr; k++)
            *s++ = pylon_valtype_letter(ft->results[k]);
        *s = 0;
    }
    return true;
}

static bool pl_sec_import(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "import count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_room(d, &m->imports, &d->cap_imports, (uint64_t)i + 1, n,
                     sizeof *m->imports, at))
            return false;
        pl_import *im = &m->imports[i];
        m->nimports = i + 1;
        const uint8_t *mod, *name;
        uint32_t modlen, namelen;
        if (!pl_name_rd(d, r, &mod, &modlen, "import module name") ||
            !pl_name_rd(d, r, &name, &namelen, "import name"))
            return false;
        im->module = pl_strndup(mod, modlen);
        im->name = pl_strndup(name, namelen);
        if (!im->module || !im->name)
            return pl_nomem(d, at);
        im->module_len = modlen, im->name_len = namelen;
        const uint8_t *kat = r->p;
        uint8_t kind;
        if (!pl_u8(d, r, &kind, "import kind"))
            return false;
        switch (kind) {
        case PYLON_EXTERN_FUNC:
            im->kind = PYLON_EXTERN_FUNC;
            if (!pl_u32(d, r, &im->u.typeidx, "import type index"))
                return false;
            if (im->u.typeidx >= m->ntypes)
                pl_invalid(d, kat, "unknown type %u", im->u.typeidx);
            break;
        case PYLON_EXTERN_TABLE:
            im->kind = PYLON_EXTERN_TABLE;
            if (!pl_reftype_rd(d, r, &im->u.table.elem, "imported table") ||
                !pl_limits_rd(d, r, &im->u.table.lim, "imported table"))
                return false;
            pl_check_table_limits(d, kat, &im->u.table.lim);
            break;
        case PYLON_EXTERN_MEMORY:
            im->kind = PYLON_EXTERN_MEMORY;
            if (!pl_limits_rd(d, r, &im->u.mem, "imported memory"))
                return false;
            pl_check_mem_limits(d, kat, &im->u.mem);
            break;
        case PYLON_EXTERN_GLOBAL: {
            im->kind = PYLON_EXTERN_GLOBAL;
            if (!pl_valtype_rd(d, r, &im->u.global.type, "imported global"))
                return false;
            const uint8_t *mat = r->p;
            uint8_t mut;
            if (!pl_u8(d, r, &mut, "global mutability"))
                return false;
            if (mut > 1)
                return pl_bad(d, PYLON_ERR_MALFORMED, mat, "malformed mutability 0x%02x", mut);
            im->u.global.mut = mut;
            break;
        }
        default:
            return pl_bad(d, PYLON_ERR_MALFORMED, kat, "malformed import kind 0x%02x", kind);
        }
    }
    return true;
}

static bool pl_sec_function(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "function count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_space_room(d, &m->func_types, &d->cap_funcs, m->nfuncs, m->nfunc_imports, n,
                           sizeof *m->func_types, at, "functions"))
            return false;
        uint32_t t;
        if (!pl_u32(d, r, &t, "function type index"))
            return false;
        if (t >= m->ntypes)
            pl_invalid(d, at, "unknown type %u", t);
        m->func_types[m->nfuncs++] = t;
    }
    return true;
}

static bool pl_sec_table(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "table count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_space_room(d, &m->tables, &d->cap_tables, m->ntables, m->ntable_imports, n,
                           sizeof *m->tables, at, "tables"))
            return false;
        pl_tabletype *t = &m->tables[m->ntables];
        if (!pl_reftype_rd(d, r, &t->elem, "table") || !pl_limits_rd(d, r, &t->lim, "table"))
            return false;
        pl_check_table_limits(d, at, &t->lim);
        m->ntables++;
    }
    return true;
}

static bool pl_sec_memory(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "memory count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_space_room(d, &m->mems, &d->cap_mems, m->nmems, m->nmem_imports, n,
                           sizeof *m->mems, at, "memories"))
            return false;
        pl_limits *l = &m->mems[m->nmems];
        if (!pl_limits_rd(d, r, l, "memory"))
            return false;
        pl_check_mem_limits(d, at, l);
        m->nmems++;
        if (m->nmems > 1)
            pl_invalid(d, at, "multiple memories");
    }
    return true;
}

static bool pl_sec_global(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "global count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_space_room(d, &m->globals, &d->cap_globals, m->nglobals, m->nglobal_imports,
                           n, sizeof *m->globals, at, "globals") ||
            !pl_space_room(d, &m->global_inits, &d->cap_inits, m->nglobals,
                           m->nglobal_imports, n, sizeof *m->global_inits, at, "globals"))
            return false;
        pl_globaltype *g = &m->globals[m->nglobals];
        if (!pl_valtype_rd(d, r, &g->type, "global"))
            return false;
        const uint8_t *mat = r->p;
        uint8_t mut;
        if (!pl_u8(d, r, &mut, "global mutability"))
            return false;
        if (mut > 1)
            return pl_bad(d, PYLON_ERR_MALFORMED, mat, "malformed mutability 0x%02x", mut);
        g->mut = mut;
        if (!pl_const_rd(d, r, g->type, &m->global_inits[m->nglobals], "global initializer"))
            return false;
        m->nglobals++;
    }
    return true;
}

typedef struct pl_namekey {
    const uint8_t *p;
    uint32_t len;
    const uint8_t *at;
} pl_namekey;

static int pl_namekey_cmp(const void *a, const void *b)
{
    const pl_namekey *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    int c = x->len ? memcmp(x->p, y->p, x->len) : 0;
    if (c)
        return c;
    return x->at < y->at ? -1 : x->at > y->at;
}

static bool pl_sec_export(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n, cap_keys = 0;
    pl_namekey *keys = NULL;
    bool ok = false;
    if (!pl_count(d, r, &n, "export count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_room(d, &m->exports, &d->cap_exports, (uint64_t)i + 1, n,
                     sizeof *m->exports, at) ||
            !pl_room(d, &keys, &cap_keys, (uint64_t)i + 1, n, sizeof *keys, at))
            goto out;
        pl_export *ex = &m->exports[i];
        m->nexports = i + 1;
        const uint8_t *name;
        uint32_t len;
        if (!pl_name_rd(d, r, &name, &len, "export name"))
            goto out;
        keys[i] = (pl_namekey){ name, len, at };
        ex->name = pl_strndup(name, len);
        if (!ex->name) {
            pl_nomem(d, at);
            goto out;
        }
        ex->name_len = len;
        const uint8_t *kat = r->p;
        uint8_t kind;
        if (!pl_u8(d, r, &kind, "export kind"))
            goto out;
        if (kind > PYLON_EXTERN_GLOBAL) {
            pl_bad(d, PYLON_ERR_MALFORMED, kat, "malformed export kind 0x%02x", kind);
            goto out;
        }
        ex->kind = (pylon_externkind)kind;
        if (!pl_u32(d, r, &ex->index, "export index"))
            goto out;
        switch (ex->kind) {
        case PYLON_EXTERN_FUNC:
            if (ex->index >= m->nfuncs)
                pl_invalid(d, kat, "unknown function %u", ex->index);
            pl_declare_func(d, ex->index);
            break;
        case PYLON_EXTERN_TABLE:
            if (ex->index >= m->ntables)
                pl_invalid(d, kat, "unknown table %u", ex->index);
            break;
        case PYLON_EXTERN_MEMORY:
            if (ex->index >= m->nmems)
                pl_invalid(d, kat, "unknown memory %u", ex->index);
            break;
        case PYLON_EXTERN_GLOBAL:
            if (ex->index >= m->nglobals)
                pl_invalid(d, kat, "unknown global %u", ex->index);
            break;
        }
    }
    /* Sorting by (length, bytes, position) puts duplicates side by side with
     * the later one second, which is where we point. */
    if (n > 1) {
        qsort(keys, n, sizeof *keys, pl_namekey_cmp);
        for (uint32_t i = 1; i < n; i++)
            if (keys[i].len == keys[i - 1].len &&
                (!keys[i].len || !memcmp(keys[i].p, keys[i - 1].p, keys[i].len))) {
                pl_invalid(d, keys[i].at, "duplicate export name \"%.*s\"",
                           (int)(keys[i].len > 64 ? 64 : keys[i].len), (const char *)keys[i].p);
                break;
            }
    }
    ok = true;
out:
    free(keys);
    return ok;
}

static bool pl_sec_start(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    const uint8_t *at = r->p;
    if (!pl_u32(d, r, &m->start, "start function index"))
        return false;
    m->has_start = true;
    if (m->start >= m->nfuncs) {
        pl_invalid(d, at, "unknown function %u (start)", m->start);
    } else {
        uint32_t t = m->func_types[m->start];
        if (t < m->ntypes && (m->types[t].nparams || m->types[t].nresults))
            pl_invalid(d, at, "start function must have type [] -> [], not %s",
                       m->types[t].sig);
    }
    return true;
}

static bool pl_sec_elem(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "element segment count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_room(d, &m->elems, &d->cap_elems, (uint64_t)i + 1, n, sizeof *m->elems, at))
            return false;
        pl_elem *e = &m->elems[i];
        m->nelems = i + 1;
        uint32_t flags;
        if (!pl_u32(d, r, &flags, "element segment flags"))
            return false;
        if (flags > 7)
            return pl_bad(d, PYLON_ERR_MALFORMED, at,
                          "malformed elements segment kind %u", flags);
        /* bit 0: not active; bit 1: explicit table (active) or declarative
         * (not active); bit 2: items are expressions, not function indices. */
        bool exprs = flags & 4;
        e->type = PYLON_FUNCREF;
        if (!(flags & 1)) {
            e->mode = PL_SEG_ACTIVE;
            if ((flags & 2) && !pl_u32(d, r, &e->table, "element segment table index"))
                return false;
            if (!pl_const_rd(d, r, PYLON_I32, &e->offset, "element segment offset"))
                return false;
        } else {
            e->mode = (flags & 2) ? PL_SEG_DECLARATIVE : PL_SEG_PASSIVE;
        }
        if (flags & 3) {
            if (exprs) {
                if (!pl_reftype_rd(d, r, &e->type, "element segment"))
                    return false;
            } else {
                const uint8_t *kat = r->p;
                uint8_t kind;
                if (!pl_u8(d, r, &kind, "element kind"))
                    return false;
                if (kind != 0)
                    return pl_bad(d, PYLON_ERR_MALFORMED, kat, "malformed element kind 0x%02x", kind);
            }
        }
        if (e->mode == PL_SEG_ACTIVE) {
            if (e->table >= m->ntables)
                pl_invalid(d, at, "unknown table %u", e->table);
            else if (m->tables[e->table].elem != e->type)
                pl_invalid(d, at, "type mismatch (%s element segment for table %u of %s)",
                           pylon_valtype_name(e->type), e->table,
                           pylon_valtype_name(m->tables[e->table].elem));
        }
        uint32_t cnt, cap = 0;
        if (!pl_count(d, r, &cnt, "element count"))
            return false;
        for (uint32_t k = 0; k < cnt; k++) {
            const uint8_t *iat = r->p;
            if (!pl_room(d, &e->items, &cap, (uint64_t)k + 1, cnt, sizeof *e->items, iat))
                return false;
            pl_constexpr *it = &e->items[k];
            if (exprs) {
                if (!pl_const_rd(d, r, e->type, it, "element expression"))
                    return false;
            } else {
                if (!pl_u32(d, r, &it->index, "element function index"))
                    return false;
                it->op = PL_CONST_REF_FUNC, it->type = PYLON_FUNCREF;
                if (it->index >= m->nfuncs)
                    pl_invalid(d, iat, "unknown function %u", it->index);
                pl_declare_func(d, it->index);
            }
            e->count = k + 1;
        }
    }
    return true;
}

static bool pl_sec_datacount(pl_dec *d, pl_reader *r)
{
    if (!pl_u32(d, r, &d->m->datacount, "data count"))
        return false;
    d->m->has_datacount = true;
    return true;
}

static bool pl_sec_code(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    const uint8_t *at = r->p;
    uint32_t n;
    if (!pl_count(d, r, &n, "function body count"))
        return false;
    d->have_code = true;
    uint32_t ndef = m->nfuncs - m->nfunc_imports;
    if (n != ndef)
        return pl_bad(d, PYLON_ERR_MALFORMED, at,
                      "function and code section have inconsistent lengths (%u "
                      "functions, %u bodies)", ndef, n);
    if (n) {
        /* n is bounded by entries the function section really decoded. */
        m->bodies = calloc(n, sizeof *m->bodies);
        if (!m->bodies)
            return pl_nomem(d, at);
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *bat = r->p;
        pl_funcbody *fb = &m->bodies[i];
        uint32_t size;
        if (!pl_u32(d, r, &size, "function body size"))
            return false;
        if (size > (size_t)(r->end - r->p))
            return pl_bad(d, PYLON_ERR_MALFORMED, bat,
                          "unexpected end of section or function (body of function %u "
                          "is %u bytes, %zu left)", m->nfunc_imports + i, size,
                          (size_t)(r->end - r->p));
        pl_reader b = { r->p, r->p + size, d->base, NULL };
        uint32_t ndecl;
        if (!pl_count(d, &b, &ndecl, "local declaration count"))
            return false;
        /* First pass checks and counts, second fills: the total is known
         * (and bounded) before we allocate. */
        const uint8_t *decls = b.p;
        uint64_t total = 0;
        for (uint32_t k = 0; k < ndecl; k++) {
            const uint8_t *lat = b.p;
            uint32_t cnt;
            pl_valtype t;
            if (!pl_u32(d, &b, &cnt, "local count"))
                return false;
            total += cnt;
            if (total > PL_MAX_LOCALS)
                return pl_bad(d, PYLON_ERR_MALFORMED, lat,
                              "too many locals in function %u (more than %u)",
                              m->nfunc_imports + i, PL_MAX_LOCALS);
            if (!pl_valtype_rd(d, &b, &t, "local type"))
                return false;
        }
        d->total_locals += total;
        if (d->total_locals > PL_MAX_MODULE_LOCALS)
            return pl_bad(d, PYLON_ERR_LIMIT, bat,
                          "too many locals in the module (more than %u in all)",
                          PL_MAX_MODULE_LOCALS);
        fb->locals = malloc(total ? total : 1);
        if (!fb->locals)
            return pl_nomem(d, bat);
        pl_reader again = { decls, b.end, d->base, NULL };
        for (uint32_t k = 0; k < ndecl; k++) {
            uint32_t cnt = 0;  /* both reads succeeded in the first pass */
            uint8_t t = 0;
            pl_read_u32(&again, &cnt);
            pl_read_u8(&again, &t);
            memset(fb->locals + fb->nlocals, t, cnt);
            fb->nlocals += cnt;
        }
        fb->offset = (size_t)(b.p - d->base);
        fb->len = (size_t)(b.end - b.p);
        r->p = b.end;
    }
    return true;
}

static bool pl_sec_data(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    uint32_t n;
    if (!pl_count(d, r, &n, "data segment count"))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = r->p;
        if (!pl_room(d, &m->datas, &d->cap_datas, (uint64_t)i + 1, n, sizeof *m->datas, at))
            return false;
        pl_data *ds = &m->datas[i];
        m->ndatas = i + 1;
        uint32_t flags;
        if (!pl_u32(d, r, &flags, "data segment flags"))
            return false;
        if (flags > 2)
            return pl_bad(d, PYLON_ERR_MALFORMED, at, "malformed data segment kind %u", flags);
        if (flags == 1) {
            ds->mode = PL_SEG_PASSIVE;
        } else {
            ds->mode = PL_SEG_ACTIVE;
            if (flags == 2 && !pl_u32(d, r, &ds->memory, "data segment memory index"))
                return false;
            if (!pl_const_rd(d, r, PYLON_I32, &ds->offset, "data segment offset"))
                return false;
            if (ds->memory >= m->nmems)
                pl_invalid(d, at, "unknown memory %u", ds->memory);
        }
        const uint8_t *lat = r->p;
        uint32_t len;
        if (!pl_u32(d, r, &len, "data segment length"))
            return false;
        if (len > (size_t)(r->end - r->p))
            return pl_bad(d, PYLON_ERR_MALFORMED, lat,
                          "unexpected end of section or function (data segment of %u "
                          "bytes, %zu left)", len, (size_t)(r->end - r->p));
        if (len) {
            ds->bytes = malloc(len);
            if (!ds->bytes)
                return pl_nomem(d, at);
            memcpy(ds->bytes, r->p, len);
        }
        ds->len = len;
        r->p += len;
    }
    return true;
}

static bool pl_sec_custom(pl_dec *d, pl_reader *r)
{
    const uint8_t *name;
    uint32_t len;
    if (!pl_name_rd(d, r, &name, &len, "custom section name"))
        return false;
    if (len == 4 && !memcmp(name, "name", 4) && !d->names_p) {
        /* Parsed at the end, when the function index space is final. */
        d->names_p = r->p;
        d->names_end = r->end;
    }
    r->p = r->end;
    return true;
}

/* The function-names subsection of the "name" section.  Names are a
 * debugging aid, so anything wrong here just drops them all. */
static void pl_parse_names(pl_dec *d)
{
    pl_module *m = d->m;
    pl_reader r = { d->names_p, d->names_end, d->base, NULL };
    while (r.p < r.end) {
        uint8_t id;
        uint32_t size;
        if (!pl_read_u8(&r, &id) || !pl_read_u32(&r, &size) ||
            size > (size_t)(r.end - r.p))
            goto bad;
        pl_reader s = { r.p, r.p + size, d->base, NULL };
        r.p += size;
        if (id != 1)
            continue;
        if (m->func_names || !m->nfuncs)
            goto bad;
        m->func_names = calloc(m->nfuncs, sizeof *m->func_names);
        if (!m->func_names)
            goto bad;
        uint32_t n;
        if (!pl_read_u32(&s, &n))
            goto bad;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t idx, len;
            if (!pl_read_u32(&s, &idx) || !pl_read_u32(&s, &len) ||
                len > (size_t)(s.end - s.p) || idx >= m->nfuncs || !pl_utf8_ok(s.p, len))
                goto bad;
            free(m->func_names[idx]);
            m->func_names[idx] = pl_strndup(s.p, len);
            if (!m->func_names[idx])
                goto bad;
            s.p += len;
        }
        if (s.p != s.end)
            goto bad;
    }
    return;
bad:
    if (m->func_names) {
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
        free(m->func_names);
        m->func_names = NULL;
    }
}

/* ---- the module ------------------------------------------------------------- */

static const char *const pl_secname[13] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count",
};

/* Position of each section id in the required order (data count sits
 * between element and code). */
static const uint8_t pl_secorder[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };

static bool pl_decode_sections(pl_dec *d, pl_reader *r)
{
    pl_module *m = d->m;
    unsigned last = 0, last_id = 0;
    while (r->p < r->end) {
        const uint8_t *at = r->p;
        uint8_t id = *r->p++;
        if (id > 12)
            return pl_bad(d, PYLON_ERR_MALFORMED, at, "malformed section id %u", id);
        uint32_t size;
        if (!pl_read_u32(r, &size))
            return pl_bad(d, PYLON_ERR_MALFORMED, r->p, "%s (%s section size)",
                          r->why, pl_secname[id]);
        if (size > (size_t)(r->end - r->p))
            return pl_bad(d, PYLON_ERR_MALFORMED, at,
                          "length out of bounds (%s section of %u bytes, %zu left)",
                          pl_secname[id], size, (size_t)(r->end - r->p));
        pl_reader s = { r->p, r->p + size, d->base, NULL };
        if (id != 0) {
            unsigned ord = pl_secorder[id];
            if (ord == last)
                return pl_bad(d, PYLON_ERR_MALFORMED, at,
                              "unexpected content after last section (duplicate %s "
                              "section)", pl_secname[id]);
            if (ord < last)
                return pl_bad(d, PYLON_ERR_MALFORMED, at,
                              "section out of order (%s after %s)", pl_secname[id],
                              pl_secname[last_id]);
            last = ord, last_id = id;
            if (ord > 2 && !d->imports_done && !pl_finish_imports(d, at))
                return false;
            if (ord > 3 && !d->funcs_done && !pl_finish_funcs(d, at))
                return false;
        }
        bool ok;
        switch (id) {
        case 0: ok = pl_sec_custom(d, &s); break;
        case 1: ok = pl_sec_type(d, &s); break;
        case 2: ok = pl_sec_import(d, &s); break;
        case 3: ok = pl_sec_function(d, &s); break;
        case 4: ok = pl_sec_table(d, &s); break;
        case 5: ok = pl_sec_memory(d, &s); break;
        case 6: ok = pl_sec_global(d, &s); break;
        case 7: ok = pl_sec_export(d, &s); break;
        case 8: ok = pl_sec_start(d, &s); break;
        case 9: ok = pl_sec_elem(d, &s); break;
        case 10: ok = pl_sec_code(d, &s); break;
        case 11: ok = pl_sec_data(d, &s); break;
        default: ok = pl_sec_datacount(d, &s); break;
        }
        if (!ok)
            return false;
        if (s.p != s.end)
            return pl_bad(d, PYLON_ERR_MALFORMED, s.p,
                          "section size mismatch (%s section has %zu bytes left over)",
                          pl_secname[id], (size_t)(s.end - s.p));
        r->p = s.end;
    }
    const uint8_t *end = r->end;
    if (!d->imports_done && !pl_finish_imports(d, end))
        return false;
    if (!d->funcs_done && !pl_finish_funcs(d, end))
        return false;
    if (!d->have_code && m->nfuncs != m->nfunc_imports)
        return pl_bad(d, PYLON_ERR_MALFORMED, end,
                      "function and code section have inconsistent lengths (%u "
                      "functions, no code section)", m->nfuncs - m->nfunc_imports);
    if (m->has_datacount && m->datacount != m->ndatas)
        return pl_bad(d, PYLON_ERR_MALFORMED, end,
                      "data count and data section have inconsistent lengths (%u "
                      "declared, %u segments)", m->datacount, m->ndatas);
    return true;
}

pl_module *pl_decode(const uint8_t *bytes, size_t len, pylon_error *err)
{
    pylon_error scratch;
    if (!err)
        err = &scratch;
    err->kind = PYLON_OK;
    err->offset = 0;
    err->message[0] = 0;
    if (!bytes && len) {
        err->kind = PYLON_ERR_ARG;
        snprintf(err->message, sizeof err->message, "no module bytes");
        return NULL;
    }
    static const uint8_t empty[1];
    if (!bytes)
        bytes = empty;

    pl_reader r = { bytes, bytes + len, bytes, NULL };
    if (len < 4)
        return pl_fail(err, PYLON_ERR_MALFORMED, &r, "unexpected end (no magic header)");
    if (memcmp(bytes, "\0asm", 4))
        return pl_fail(err, PYLON_ERR_MALFORMED, &r, "magic header not detected");
    r.p += 4;
    if (len < 8)
        return pl_fail(err, PYLON_ERR_MALFORMED, &r, "unexpected end (no binary version)");
    if (memcmp(bytes + 4, "\1\0\0\0", 4))
        return pl_fail(err, PYLON_ERR_MALFORMED, &r, "unknown binary version");
    r.p += 4;

    pl_module *m = calloc(1, sizeof *m);
    if (!m)
        return pl_fail(err, PYLON_ERR_NOMEM, &r, "out of memory while decoding");
    pl_dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.err = err;
    d.base = bytes;
    if (!pl_decode_sections(&d, &r)) {
        pl_module_destroy(m);
        return NULL;
    }
    if (d.invalid) {
        *err = d.inv;
        pl_module_destroy(m);
        return NULL;
    }
    if (d.names_p)
        pl_parse_names(&d);
    m->refcount = 1;
    return m;
}

void pl_module_destroy(pl_module *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        free(m->types[i].params);
        free(m->types[i].results);
        free(m->types[i].sig);
    }
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_types);
    free(m->tables);
    free(m->mems);
    free(m->globals);
    free(m->global_inits);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    for (uint32_t i = 0; i < m->ndatas; i++)
        free(m->datas[i].bytes);
    free(m->datas);
    if (m->bodies)
        for (uint32_t i = 0; i < m->nfuncs - m->nfunc_imports; i++)
            free(m->bodies[i].locals);
    free(m->bodies);
    /* The compiled functions belong to compile.c, which frees them before
     * calling us; the array itself is ours to drop. */
    free(m->code);
    free(m->func_declared);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++)
            free(m->func_names[i]);
    free(m->func_names);
    free(m);
}
