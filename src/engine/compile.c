/*
 * compile.c — validates function bodies and compiles them to threaded code.
 *
 * One pass per body does both jobs: the validation algorithm of the spec's
 * appendix (an operand-type stack and a control stack) also knows, at every
 * instruction, the stack height of each operand, which is all the compiler
 * needs to give every value a fixed frame slot (see code.h).
 *
 * Operands on the compile-time stack may be "deferred": a local.get or a
 * constant is not copied anywhere; the entry just remembers the local's or
 * the constant's slot and the consuming instruction reads it from there.
 * A deferred value is materialised (copied into its stack slot) when it
 * must have a home of its own: before the local it names is written, at
 * block boundaries, and for call arguments and branch values.
 *
 * Peepholes that pay for themselves: `x; local.set n` retargets x's result
 * into the local; `cmp; br_if`/`cmp; if` fuse into one compare-and-branch;
 * `i32.eqz; br_if` becomes br_unless.  Backward branches carry a fuel cost
 * (the loop body's instruction count) so budgets and interrupts are checked
 * once per iteration without a separate instruction.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/code.h"

#define MAX_CONSTS 128      /* beyond this, constants are materialised inline */
#define NO_POS ((size_t)-1)

enum { W_STACK, W_LOCAL, W_CONST };
#define T_UNKNOWN 0          /* bottom type of the polymorphic stack */

typedef struct opnd {
    uint8_t type;            /* value type, or T_UNKNOWN */
    uint8_t where;           /* W_STACK / W_LOCAL / W_CONST */
    uint32_t idx;            /* local index or constant index */
} opnd;

enum { C_FUNC, C_BLOCK, C_LOOP, C_IF, C_ELSE };

typedef struct ctl {
    uint8_t kind;
    bool unreachable;        /* stack is polymorphic after br/return/... */
    bool live;               /* code is emitted for this block */
    uint32_t height;         /* operand height below the params */
    uint32_t nparams, nresults;
    const pl_valtype *params, *results;
    pl_valtype inline_type;  /* storage for a single-valtype blocktype */
    size_t loop_pos;         /* C_LOOP: cell where the loop starts */
    uint64_t loop_icount;    /* C_LOOP: instruction count at its start */
    size_t patches;          /* chain of forward jumps to the end (0 = none) */
    size_t else_patch;       /* C_IF: the jump to the else arm, 0 if none */
} ctl;

typedef struct comp {
    const pl_module *m;
    pl_reader r;
    pylon_error *err;
    const pl_functype *type;
    uint32_t nlocals;        /* params + declared */
    pl_valtype *local_types;

    uint32_t *cells;
    size_t ncells, cap;

    opnd *stk;
    uint32_t h, stk_cap, max_h;
    ctl *ctls;
    uint32_t nctl, ctl_cap;

    pylon_val consts[MAX_CONSTS];
    uint8_t const_types[MAX_CONSTS];
    uint32_t nconsts;
    size_t *fixups;          /* cells holding a constant's index */
    size_t nfixups, fixup_cap;

    uint64_t icount;         /* wasm instructions so far, for fuel costs */

    /* peephole state: the last emitted instruction, if nothing (no label,
     * no other instruction) has come after it */
    size_t last_pos;         /* its first cell, or NO_POS */
    size_t last_dst;         /* the cell of its result slot, or NO_POS */
    int last_cmp;            /* pl_op of a plain comparison / eqz, or -1 */
    bool last_add;           /* it is an i32.add */
    opnd last_a, last_b;     /* the comparison's or the add's operands */

    const void *const *handlers;
    bool oom;
} comp;

static bool check_top(comp *c, uint32_t n, const pl_valtype *types);
static void materialize(comp *c, uint32_t i);
static void materialize_range(comp *c, uint32_t from, uint32_t to);

/* ---- errors ------------------------------------------------------------- */

static bool fail(comp *c, pylon_error_kind kind, const char *fmt, ...) {
    if (c->err->kind != PYLON_OK) return false;
    va_list ap;
    va_start(ap, fmt);
    char msg[200];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->err->kind = kind;
    c->err->offset = (size_t)(c->r.p - c->r.base);
    snprintf(c->err->message, sizeof c->err->message, "offset 0x%zx: %s", c->err->offset, msg);
    return false;
}
#define INVALID(...) return fail(c, PYLON_ERR_INVALID, __VA_ARGS__)
#define MALFORMED(...) return fail(c, PYLON_ERR_MALFORMED, __VA_ARGS__)
#define CHECK(x) do { if (!(x)) return false; } while (0)


static bool is_ref(uint8_t t) { return t == PYLON_FUNCREF || t == PYLON_EXTERNREF; }

/* ---- growable arrays ------------------------------------------------------ */

static bool grow(comp *c, void **p, uint32_t *cap32, size_t *capz, size_t need, size_t elem) {
    size_t cap = cap32 ? *cap32 : *capz;
    if (need <= cap) return true;
    size_t ncap = cap ? cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, ncap * elem);
    if (!np) { c->oom = true; return fail(c, PYLON_ERR_NOMEM, "out of host memory"); }
    *p = np;
    if (cap32) *cap32 = (uint32_t)ncap; else *capz = ncap;
    return true;
}

/* ---- emission ------------------------------------------------------------ */

static bool emitting(comp *c) {
    const ctl *t = &c->ctls[c->nctl - 1];
    return t->live && !t->unreachable;
}

static void cell(comp *c, uint32_t v) {
    if (c->oom || !grow(c, (void **)&c->cells, NULL, &c->cap, c->ncells + 1, 4)) return;
    c->cells[c->ncells++] = v;
}

/* Starts an instruction: pads to an even cell, writes the handler. */
static void op(comp *c, pl_op o) {
    if (c->ncells & 1) cell(c, 0);
    c->last_pos = c->ncells;
    c->last_dst = NO_POS;
    c->last_cmp = -1;
    c->last_add = false;
    uintptr_t h = (uintptr_t)c->handlers[o];
    uint32_t two[2];
    memcpy(two, &h, sizeof h < 8 ? sizeof h : 8);
    if (sizeof h < 8) two[1] = 0;
    cell(c, two[0]);
    cell(c, two[1]);
}

/* Marks a jump target here: peepholes may not reach across it. */
static void label(comp *c) { c->last_pos = NO_POS; c->last_dst = NO_POS; c->last_cmp = -1; c->last_add = false; }

/* Takes the last instruction back out of the code (to fuse it into the
 * next one), with the stack-slot fixups that pointed into it. */
static void unemit_last(comp *c) {
    c->ncells = c->last_pos;
    while (c->nfixups && c->fixups[c->nfixups - 1] >= c->ncells) c->nfixups--;
    label(c);
}

/* Is `o`, at stack height h, the result of the i32.add just emitted? */
static bool is_last_add(comp *c, opnd o, uint32_t h);

/* While compiling, a stack slot is numbered nlocals + height; the constant
 * count is only known at the end, so every cell holding a stack slot is
 * listed in `fixups` and shifted past the constants once the body is done. */
static uint32_t stack_slot(comp *c, uint32_t height) { return c->nlocals + height; }

static void stack_cell(comp *c, uint32_t raw) {
    if (!c->oom && grow(c, (void **)&c->fixups, NULL, &c->fixup_cap, c->nfixups + 1, sizeof(size_t)))
        c->fixups[c->nfixups++] = c->ncells;
    cell(c, raw);
}

/* A branch target slot: a stack slot, or (for the function's own label,
 * which is a return) an absolute frame slot from 0. */
static void target_cell(comp *c, uint32_t raw, bool is_stack) {
    if (is_stack) stack_cell(c, raw);
    else cell(c, raw);
}

/* Emits the slot operand for o at stack height `height`. */
static void slot(comp *c, opnd o, uint32_t height) {
    if (o.where == W_LOCAL) cell(c, o.idx);
    else if (o.where == W_CONST) cell(c, c->nlocals + o.idx); /* final: constants follow the locals */
    else stack_cell(c, stack_slot(c, height));
}

/* A result slot: the stack slot at `height`, remembered for retargeting. */
static void dst(comp *c, uint32_t height) {
    c->last_dst = c->ncells;
    stack_cell(c, stack_slot(c, height));
}

/* Drops the fixup of `at` (a cell that stops holding a stack slot). */
static void unfix(comp *c, size_t at) {
    for (size_t i = c->nfixups; i-- > 0;)
        if (c->fixups[i] == at) {
            memmove(&c->fixups[i], &c->fixups[i + 1], (c->nfixups - i - 1) * sizeof(size_t));
            c->nfixups--;
            return;
        }
}

/* A forward jump whose target is not known yet: links it into *chain. */
static void jump_fwd(comp *c, size_t *chain) {
    size_t at = c->ncells;
    cell(c, (uint32_t)*chain);
    if (!c->oom) *chain = at;
}

static void jump_to(comp *c, size_t target) {
    size_t at = c->ncells;
    cell(c, (uint32_t)(int32_t)((ptrdiff_t)target - (ptrdiff_t)at));
}

/* Resolves every jump in the chain to the current position. */
static void patch_here(comp *c, size_t chain) {
    if (c->ncells & 1) cell(c, 0); /* targets are instruction starts */
    while (chain && !c->oom) {
        size_t next = c->cells[chain];
        c->cells[chain] = (uint32_t)(int32_t)((ptrdiff_t)c->ncells - (ptrdiff_t)chain);
        chain = next;
    }
    label(c);
}

/* ---- the operand stack ---------------------------------------------------- */

static bool push(comp *c, uint8_t type) {
    CHECK(grow(c, (void **)&c->stk, &c->stk_cap, NULL, c->h + 1, sizeof(opnd)));
    c->stk[c->h++] = (opnd){type, W_STACK, 0};
    if (c->h > c->max_h) c->max_h = c->h;
    return true;
}

/* Pops a value of `expect` (T_UNKNOWN: any).  Its height is c->h after. */
static bool pop(comp *c, uint8_t expect, opnd *out) {
    ctl *t = &c->ctls[c->nctl - 1];
    if (c->h == t->height) {
        if (t->unreachable) { *out = (opnd){T_UNKNOWN, W_STACK, 0}; return true; }
        if (expect) INVALID("type mismatch: expected %s but nothing on the stack", pylon_valtype_name(expect));
        INVALID("type mismatch: expected a value but nothing on the stack");
    }
    opnd o = c->stk[--c->h];
    if (expect && o.type && o.type != expect)
        INVALID("type mismatch: expected %s, found %s", pylon_valtype_name(expect), pylon_valtype_name(o.type));
    *out = o;
    return true;
}

/* Copies stack entry i into its own slot if it is deferred. */
static void materialize(comp *c, uint32_t i) {
    opnd *o = &c->stk[i];
    if (o->where == W_STACK) return;
    if (emitting(c)) {
        op(c, PL_OP_copy);
        stack_cell(c, stack_slot(c, i));
        slot(c, *o, i);
        label(c); /* a copy is not a retargetable result */
    }
    o->where = W_STACK;
}

static void materialize_range(comp *c, uint32_t from, uint32_t to) {
    for (uint32_t i = from; i < to; i++) materialize(c, i);
}

/* Before local n is written, values that still read it must move out. */
static void materialize_local(comp *c, uint32_t n) {
    for (uint32_t i = 0; i < c->h; i++)
        if (c->stk[i].where == W_LOCAL && c->stk[i].idx == n) materialize(c, i);
}

static bool push_const(comp *c, uint8_t type, pylon_val v) {
    CHECK(push(c, type));
    uint32_t k;
    for (k = 0; k < c->nconsts; k++)
        if (c->consts[k].bits == v.bits && c->const_types[k] == type) break;
    if (k == c->nconsts && k < MAX_CONSTS) {
        c->consts[k] = v;
        c->const_types[k] = type;
        c->nconsts++;
    }
    if (k < MAX_CONSTS) {
        c->stk[c->h - 1].where = W_CONST;
        c->stk[c->h - 1].idx = k;
        return true;
    }
    if (emitting(c)) {
        bool wide = type == PYLON_I64 || type == PYLON_F64 || is_ref(type);
        op(c, wide ? PL_OP_const64 : PL_OP_const32);
        dst(c, c->h - 1);
        cell(c, (uint32_t)v.bits);
        if (wide) cell(c, (uint32_t)(v.bits >> 32));
    }
    return true;
}

/* ---- control ------------------------------------------------------------- */

static bool push_ctl(comp *c, uint8_t kind, uint32_t np, const pl_valtype *p,
                     uint32_t nr, const pl_valtype *rs, pl_valtype inline_t) {
    CHECK(grow(c, (void **)&c->ctls, &c->ctl_cap, NULL, c->nctl + 1, sizeof(ctl)));
    bool live = c->nctl == 0 || emitting(c);
    ctl *t = &c->ctls[c->nctl++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->live = live;
    t->height = c->h - np;
    t->nparams = np;
    t->nresults = nr;
    t->inline_type = inline_t;
    t->params = p;
    t->results = rs; /* NULL with nr == 1: inline_type (see results_of) */
    return true;
}

static const pl_valtype *results_of(const ctl *t) { return t->results ? t->results : &t->inline_type; }

/* Enters a block: deferred locals below must not be read across it (the
 * block may write them), and the params must sit in their own slots (a
 * loop's back-edge and an else arm write or expect them there). */
static bool enter_block(comp *c, uint8_t kind, uint32_t np, const pl_valtype *p,
                        uint32_t nr, const pl_valtype *rs, pl_valtype it) {
    CHECK(check_top(c, np, p));
    ctl *cur = &c->ctls[c->nctl - 1];
    uint32_t have = c->h - cur->height;
    uint32_t pstart = have >= np ? c->h - np : cur->height;
    for (uint32_t i = 0; i < pstart; i++)
        if (c->stk[i].where == W_LOCAL) materialize(c, i);
    materialize_range(c, pstart, c->h);
    opnd tmp;
    for (uint32_t i = 0; i < np; i++) CHECK(pop(c, p[np - 1 - i], &tmp));
    for (uint32_t i = 0; i < np; i++) CHECK(push(c, p[i]));
    return push_ctl(c, kind, np, p, nr, rs, it);
}

/* Types a branch to `t` carries: a loop's params, otherwise its results. */
static uint32_t label_arity(const ctl *t) { return t->kind == C_LOOP ? t->nparams : t->nresults; }
static const pl_valtype *label_types(const ctl *t) { return t->kind == C_LOOP ? t->params : results_of(t); }

/* First slot a branch to `t` delivers its values to. */
static uint32_t label_slot(comp *c, const ctl *t) {
    return t->kind == C_FUNC ? 0 : stack_slot(c, t->height);
}

/* Reads a blocktype: empty, one value type, or a type index. */
static bool read_blocktype(comp *c, uint32_t *np, const pl_valtype **p, uint32_t *nr,
                           const pl_valtype **rs, pl_valtype *inline_t) {
    int64_t bt;
    if (!pl_read_s33(&c->r, &bt)) MALFORMED("malformed block type");
    *np = 0; *p = NULL; *nr = 0; *rs = NULL; *inline_t = 0;
    if (bt == -64) return true; /* 0x40: empty */
    if (bt < 0) {
        uint8_t t = (uint8_t)(bt & 0x7f);
        if (t == PYLON_V128) return fail(c, PYLON_ERR_UNSUPPORTED, "SIMD is not supported (v128 block type)");
        if (t != PYLON_I32 && t != PYLON_I64 && t != PYLON_F32 && t != PYLON_F64 && !is_ref(t))
            MALFORMED("malformed block type");
        *nr = 1;
        *inline_t = t;
        return true;
    }
    if ((uint64_t)bt >= c->m->ntypes) INVALID("unknown type %lld", (long long)bt);
    const pl_functype *ft = &c->m->types[bt];
    *np = ft->nparams; *p = ft->params;
    *nr = ft->nresults; *rs = ft->results;
    return true;
}

/* Checks that the top of the stack holds `n` values of `types`. */
static bool check_top(comp *c, uint32_t n, const pl_valtype *types) {
    ctl *t = &c->ctls[c->nctl - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t depth = n - 1 - i;
        if (c->h - t->height <= depth) {
            if (t->unreachable) continue;
            INVALID("type mismatch: expected %u values, the block has %u", n, c->h - t->height);
        }
        uint8_t have = c->stk[c->h - 1 - depth].type;
        if (have && have != types[i])
            INVALID("type mismatch: expected %s, found %s", pylon_valtype_name(types[i]), pylon_valtype_name(have));
    }
    return true;
}

/* Moves the top `n` values to slots [to, to+n) (stack slots, or frame
 * slots from 0 for a return).  Sources are materialised first when n > 1
 * so that no copy reads a slot an earlier copy wrote. */
/* For a branch carrying one value: true (with *src) when exactly one copy
 * to `to` is still needed after trying to retarget its producer, so the
 * branch can do the copy itself (br1 / ret1) and save a dispatch. */
static bool single_move(comp *c, uint32_t n, uint32_t to, bool to_stack, opnd *src) {
    if (!emitting(c) || n != 1) return false;
    uint32_t base = c->h - 1;
    opnd o = c->stk[base];
    if (o.where == W_STACK && c->last_dst != NO_POS && c->cells[c->last_dst] == stack_slot(c, base))
        return false; /* move_top retargets the producer: no copy at all */
    bool in_place = to_stack ? (o.where == W_STACK && stack_slot(c, base) == to)
                             : (o.where == W_LOCAL && o.idx == to);
    if (in_place) return false;
    *src = o;
    return true;
}

static void move_top(comp *c, uint32_t n, uint32_t to, bool to_stack) {
    if (!emitting(c) || n == 0) return;
    uint32_t base = c->h - n;
    if (n == 1 && c->stk[base].where == W_STACK && c->last_dst != NO_POS &&
        c->cells[c->last_dst] == stack_slot(c, base)) {
        /* The instruction just emitted produced the value: let it write
         * straight into the target (nothing runs between it and the
         * branch, and the branch discards whatever the target slot held). */
        if (to_stack && to == stack_slot(c, base)) return;
        c->cells[c->last_dst] = to;
        if (!to_stack) unfix(c, c->last_dst);
        label(c);
        return;
    }
    if (n > 1) materialize_range(c, base, c->h);
    for (uint32_t i = 0; i < n; i++) {
        opnd o = c->stk[base + i];
        bool in_place = to_stack ? (o.where == W_STACK && stack_slot(c, base + i) == to + i)
                                 : (o.where == W_LOCAL && o.idx == to + i);
        if (in_place) continue;
        op(c, PL_OP_copy);
        target_cell(c, to + i, to_stack);
        slot(c, o, base + i);
        label(c);
    }
}

static void emit_return(comp *c) {
    opnd src;
    if (single_move(c, c->type->nresults, 0, false, &src)) {
        op(c, PL_OP_ret1);
        slot(c, src, c->h - 1);
        label(c);
        return;
    }
    move_top(c, c->type->nresults, 0, false);
    if (emitting(c)) { op(c, PL_OP_ret); label(c); }
}

static bool set_unreachable(comp *c) {
    ctl *t = &c->ctls[c->nctl - 1];
    c->h = t->height;
    t->unreachable = true;
    label(c);
    return true;
}

static bool get_label(comp *c, ctl **out) {
    uint32_t depth;
    if (!pl_read_u32(&c->r, &depth)) MALFORMED("malformed label index");
    if (depth >= c->nctl) INVALID("unknown label %u", depth);
    *out = &c->ctls[c->nctl - 1 - depth];
    return true;
}

/* Fuel a backward branch to loop `t` charges: the loop body so far. */
static uint32_t loop_cost(comp *c, const ctl *t) {
    uint64_t n = c->icount - t->loop_icount;
    return n == 0 ? 1 : n > 1000000 ? 1000000 : (uint32_t)n;
}

/* Emits an unconditional branch to `t` with its values already checked. */
static void emit_br(comp *c, ctl *t) {
    if (t->kind == C_FUNC) { emit_return(c); return; }
    opnd src;
    if (t->kind != C_LOOP && single_move(c, label_arity(t), label_slot(c, t), true, &src)) {
        op(c, PL_OP_br1);
        stack_cell(c, label_slot(c, t));
        slot(c, src, c->h - 1);
        jump_fwd(c, &t->patches);
        label(c);
        return;
    }
    move_top(c, label_arity(t), label_slot(c, t), true);
    if (!emitting(c)) return;
    if (t->kind == C_LOOP) {
        op(c, PL_OP_br_loop);
        jump_to(c, t->loop_pos);
        cell(c, loop_cost(c, t));
    } else {
        op(c, PL_OP_br);
        jump_fwd(c, &t->patches);
    }
    label(c);
}

/* Does branching to t need value moves (so no single-instruction form)? */
static bool branch_needs_moves(comp *c, const ctl *t) {
    uint32_t n = label_arity(t);
    if (t->kind == C_FUNC) return true; /* a return is never one instruction */
    uint32_t to = label_slot(c, t), base = c->h - n;
    for (uint32_t i = 0; i < n; i++) {
        opnd o = c->stk[base + i];
        if (o.where != W_STACK || stack_slot(c, base + i) != to + i) return true;
    }
    return false;
}

static bool is_last_add(comp *c, opnd o, uint32_t h) {
    return c->last_add && o.where == W_STACK && c->last_dst != NO_POS &&
           c->cells[c->last_dst] == stack_slot(c, h);
}

/* ---- the body ------------------------------------------------------------- */

static bool memarg(comp *c, uint32_t natural_log2, uint32_t *offset) {
    uint32_t align;
    if (!pl_read_u32(&c->r, &align)) MALFORMED("malformed memop alignment");
    if (!pl_read_u32(&c->r, offset)) MALFORMED("malformed memop offset");
    if (c->m->nmems == 0) INVALID("unknown memory 0");
    if (align > natural_log2) INVALID("alignment must not be larger than natural");
    return true;
}

static bool zero_byte(comp *c) {
    uint8_t b;
    if (!pl_read_u8(&c->r, &b)) MALFORMED("unexpected end");
    if (b != 0) MALFORMED("zero byte expected");
    return true;
}

static bool read_idx(comp *c, uint32_t *out, uint32_t limit, const char *what) {
    if (!pl_read_u32(&c->r, out)) MALFORMED("malformed %s index", what);
    if (*out >= limit) INVALID("unknown %s %u", what, *out);
    return true;
}

static bool need_memory(comp *c) {
    if (c->m->nmems == 0) INVALID("unknown memory 0");
    return true;
}

/* memory.init / data.drop name a data segment before the data section is
 * read, so the binary format needs the data count section for them.  With
 * no data section at all the index is simply unknown (invalid). */
static bool check_data_index(comp *c, uint32_t d) {
    if (!c->m->has_datacount) {
        if (c->m->ndatas == 0) INVALID("unknown data segment %u", d);
        MALFORMED("data count section required");
    }
    if (d >= c->m->datacount) INVALID("unknown data segment %u", d);
    return true;
}

/* Calls share their tail: arguments in place, results pushed. */
static bool call_tail(comp *c, const pl_functype *ft, uint32_t *base_out) {
    CHECK(check_top(c, ft->nparams, ft->params));
    ctl *t = &c->ctls[c->nctl - 1];
    /* pop the args (validation) while remembering where they start */
    uint32_t avail = c->h - t->height;
    uint32_t npop = ft->nparams <= avail ? ft->nparams : avail;
    materialize_range(c, c->h - npop, c->h);
    c->h -= npop;
    *base_out = stack_slot(c, c->h);
    return true;
}

static bool push_results(comp *c, const pl_functype *ft) {
    for (uint32_t i = 0; i < ft->nresults; i++) CHECK(push(c, ft->results[i]));
    return true;
}

static bool compile_body(comp *c) {
    pl_reader *r = &c->r;
    const pl_module *m = c->m;
    CHECK(push_ctl(c, C_FUNC, 0, NULL, c->type->nresults, c->type->results, 0));

    while (c->nctl > 0) {
        uint8_t b;
        if (!pl_read_u8(r, &b)) MALFORMED("unexpected end of function body");
        c->icount++;
        uint32_t code = b;
        if (b == 0xfc) {
            uint32_t sub;
            if (!pl_read_u32(r, &sub)) MALFORMED("malformed 0xfc opcode");
            if (sub > 0xff) MALFORMED("illegal opcode 0xfc %u", sub);
            code = 0xfc00 | sub;
        } else if (b == 0xfd) {
            return fail(c, PYLON_ERR_UNSUPPORTED, "SIMD is not supported (opcode 0xfd)");
        }
        opnd a, bb, x;

        switch (code) {
        /* ---- the table rows ---- */
#define I32 PYLON_I32
#define I64 PYLON_I64
#define F32 PYLON_F32
#define F64 PYLON_F64
#define C_UNOP(cd, name, in, out, cin, cout, stmt) \
        case cd: \
            CHECK(pop(c, in, &a)); \
            CHECK(push(c, out)); \
            if (emitting(c)) { \
                op(c, PL_OP_##name); dst(c, c->h - 1); slot(c, a, c->h - 1); \
                if (PL_OP_##name == PL_OP_i32_eqz) { c->last_cmp = PL_OP_##name; c->last_a = a; } \
            } \
            break;
#define C_BINOP(cd, name, in, out, cin, cout, stmt) \
        case cd: \
            CHECK(pop(c, in, &bb)); CHECK(pop(c, in, &a)); \
            CHECK(push(c, out)); \
            if (emitting(c)) { \
                op(c, PL_OP_##name); dst(c, c->h - 1); \
                slot(c, a, c->h - 1); slot(c, bb, c->h); \
                if (PL_OP_##name == PL_OP_i32_add) { c->last_add = true; c->last_a = a; c->last_b = bb; } \
            } \
            break;
#define C_CMPOP(cd, name, in, cin, expr) \
        case cd: \
            CHECK(pop(c, in, &bb)); CHECK(pop(c, in, &a)); \
            CHECK(push(c, PYLON_I32)); \
            if (emitting(c)) { \
                op(c, PL_OP_##name); dst(c, c->h - 1); \
                slot(c, a, c->h - 1); slot(c, bb, c->h); \
                c->last_cmp = PL_OP_##name; c->last_a = a; c->last_b = bb; \
            } \
            break;
/* An address that an i32.add just computed folds into the access: the
 * add's operands keep their slots (nothing was emitted since). */
#define C_LOAD(cd, name, out, mtype, cout, align) \
        case cd: { \
            uint32_t off; CHECK(memarg(c, align, &off)); \
            CHECK(pop(c, PYLON_I32, &a)); CHECK(push(c, out)); \
            if (emitting(c)) { \
                if (is_last_add(c, a, c->h - 1)) { \
                    opnd x1 = c->last_a, x2 = c->last_b; \
                    unemit_last(c); \
                    op(c, PL_OP_##name##_add); dst(c, c->h - 1); \
                    slot(c, x1, c->h - 1); slot(c, x2, c->h); cell(c, off); \
                } else { \
                    op(c, PL_OP_##name); dst(c, c->h - 1); slot(c, a, c->h - 1); cell(c, off); \
                } \
            } \
            break; }
#define C_STORE(cd, name, in, cin, mtype, align) \
        case cd: { \
            uint32_t off; CHECK(memarg(c, align, &off)); \
            CHECK(pop(c, in, &bb)); CHECK(pop(c, PYLON_I32, &a)); \
            if (emitting(c)) { \
                if (is_last_add(c, a, c->h)) { \
                    opnd x1 = c->last_a, x2 = c->last_b; \
                    unemit_last(c); \
                    op(c, PL_OP_##name##_add); \
                    slot(c, x1, c->h); slot(c, x2, c->h + 1); slot(c, bb, c->h + 1); cell(c, off); \
                } else { \
                    op(c, PL_OP_##name); slot(c, a, c->h); slot(c, bb, c->h + 1); cell(c, off); \
                } \
                label(c); \
            } \
            break; }
        PL_OPCODES(C_UNOP, C_BINOP, C_CMPOP, C_LOAD, C_STORE)

        /* ---- control ---- */
        case 0x00: /* unreachable */
            if (emitting(c)) op(c, PL_OP_unreachable);
            set_unreachable(c);
            break;
        case 0x01: /* nop */
            break;
        case 0x02: /* block */
        case 0x03: /* loop */ {
            uint32_t np, nr; const pl_valtype *p, *rs; pl_valtype it;
            CHECK(read_blocktype(c, &np, &p, &nr, &rs, &it));
            CHECK(enter_block(c, b == 0x02 ? C_BLOCK : C_LOOP, np, p, nr, rs, it));
            ctl *t = &c->ctls[c->nctl - 1];
            if (b == 0x03) {
                if (emitting(c) && (c->ncells & 1)) cell(c, 0);
                t->loop_pos = c->ncells;
                t->loop_icount = c->icount;
            }
            label(c);
            break;
        }
        case 0x04: /* if */ {
            uint32_t np, nr; const pl_valtype *p, *rs; pl_valtype it;
            CHECK(read_blocktype(c, &np, &p, &nr, &rs, &it));
            CHECK(pop(c, PYLON_I32, &x));
            /* Fuse a comparison that produced the condition: take it back
             * out of the code now, then materialise (both arms need the
             * copies), then emit the one compare-and-branch. */
            int cmp = -1;
            opnd ca = {0}, cb = {0};
            if (emitting(c) && c->last_cmp >= 0 && c->last_dst != NO_POS && x.where == W_STACK &&
                c->cells[c->last_dst] == stack_slot(c, c->h)) {
                cmp = c->last_cmp; ca = c->last_a; cb = c->last_b;
                unemit_last(c);
            }
            bool live = emitting(c);
            uint32_t cond_h = c->h;
            CHECK(enter_block(c, C_IF, np, p, nr, rs, it));
            ctl *t = &c->ctls[c->nctl - 1];
            if (live) {
                if (cmp == PL_OP_i32_eqz) {
                    op(c, PL_OP_br_if); slot(c, ca, cond_h);
                } else if (cmp >= 0) {
                    op(c, (pl_op)(cmp + 2)); /* brunless_<cmp> */
                    slot(c, ca, cond_h); slot(c, cb, cond_h + 1);
                } else {
                    op(c, PL_OP_br_unless); slot(c, x, cond_h);
                }
                jump_fwd(c, &t->else_patch);
            }
            label(c);
            break;
        }
        case 0x05: /* else */ {
            ctl *t = &c->ctls[c->nctl - 1];
            if (t->kind != C_IF) MALFORMED("else without if");
            CHECK(check_top(c, t->nresults, results_of(t)));
            if (c->h - t->height != t->nresults && !t->unreachable)
                INVALID("type mismatch: block leaves %u values, expected %u", c->h - t->height, t->nresults);
            if (emitting(c)) {
                materialize_range(c, c->h - t->nresults, c->h);
                op(c, PL_OP_br);
                jump_fwd(c, &t->patches);
            }
            if (t->live) patch_here(c, t->else_patch);
            t->else_patch = 0;
            t->kind = C_ELSE;
            t->unreachable = false;
            c->h = t->height;
            for (uint32_t i = 0; i < t->nparams; i++) CHECK(push(c, t->params[i]));
            label(c);
            break;
        }
        case 0x0b: /* end */ {
            ctl *t = &c->ctls[c->nctl - 1];
            CHECK(check_top(c, t->nresults, results_of(t)));
            if (c->h - t->height != t->nresults && !(t->unreachable && c->h - t->height < t->nresults))
                INVALID("type mismatch: block leaves %u values, expected %u", c->h - t->height, t->nresults);
            if (t->kind == C_IF) {
                /* no else arm: the false path passes the params through */
                if (t->nparams != t->nresults ||
                    (t->nparams && memcmp(t->params, results_of(t), t->nparams)))
                    INVALID("type mismatch: if without else must leave its params unchanged");
            }
            if (t->kind == C_FUNC) {
                /* fall-through return; branches to the function's label
                 * have already placed their results and land on the ret */
                opnd src;
                if (single_move(c, t->nresults, 0, false, &src)) {
                    op(c, PL_OP_ret1);
                    slot(c, src, c->h - 1);
                } else if (emitting(c)) {
                    move_top(c, t->nresults, 0, false);
                }
                if (t->live) {
                    patch_here(c, t->patches);
                    op(c, PL_OP_ret);
                }
                c->nctl--;
                break;
            }
            if (emitting(c)) materialize_range(c, c->h - t->nresults, c->h);
            if (t->live) {
                patch_here(c, t->patches);
                if (t->kind == C_IF) patch_here(c, t->else_patch);
            }
            uint32_t nr = t->nresults;
            pl_valtype rbuf = t->inline_type;
            const pl_valtype *rs = t->results ? t->results : &rbuf;
            c->h = t->height;
            c->nctl--;
            for (uint32_t i = 0; i < nr; i++) CHECK(push(c, rs[i]));
            label(c);
            break;
        }
        case 0x0c: /* br */ {
            ctl *t;
            CHECK(get_label(c, &t));
            CHECK(check_top(c, label_arity(t), label_types(t)));
            emit_br(c, t);
            set_unreachable(c);
            break;
        }
        case 0x0d: /* br_if */ {
            ctl *t;
            CHECK(get_label(c, &t));
            CHECK(pop(c, PYLON_I32, &x));
            CHECK(check_top(c, label_arity(t), label_types(t)));
            if (!emitting(c)) {
                /* the spec pops the label's types and pushes them back: in
                 * unreachable code that turns bottom values into typed ones */
                ctl *cur = &c->ctls[c->nctl - 1];
                uint32_t n = label_arity(t), avail = c->h - cur->height;
                c->h -= n < avail ? n : avail;
                const pl_valtype *lt = label_types(t);
                for (uint32_t i = 0; i < n; i++) CHECK(push(c, lt[i]));
                break;
            }
            if (!emitting(c)) break;
            bool loop = t->kind == C_LOOP;
            bool fusable = c->last_cmp >= 0 && c->last_dst != NO_POS && x.where == W_STACK &&
                           c->cells[c->last_dst] == stack_slot(c, c->h);
            if (!branch_needs_moves(c, t)) {
                if (fusable) {
                    int cmp = c->last_cmp;
                    opnd ca = c->last_a, cb = c->last_b;
                    unemit_last(c);
                    if (cmp == PL_OP_i32_eqz) {
                        op(c, loop ? PL_OP_br_unless_loop : PL_OP_br_unless);
                        slot(c, ca, c->h);
                    } else {
                        op(c, (pl_op)(cmp + (loop ? 3 : 1))); /* brif[_loop]_<cmp> */
                        slot(c, ca, c->h); slot(c, cb, c->h + 1);
                    }
                } else {
                    op(c, loop ? PL_OP_br_if_loop : PL_OP_br_if);
                    slot(c, x, c->h);
                }
                if (loop) { jump_to(c, t->loop_pos); cell(c, loop_cost(c, t)); }
                else jump_fwd(c, &t->patches);
                label(c);
            } else {
                /* skip the moves and the branch when the condition is 0 */
                size_t skip = 0;
                op(c, PL_OP_br_unless); slot(c, x, c->h);
                jump_fwd(c, &skip);
                uint32_t n = label_arity(t);
                /* move_top may materialise; do it on a copy of the stack
                 * state so the fall-through path keeps its view */
                opnd saved[16];
                opnd *sv = n <= 16 ? saved : malloc(n * sizeof(opnd));
                if (!sv) return fail(c, PYLON_ERR_NOMEM, "out of host memory");
                memcpy(sv, c->stk + c->h - n, n * sizeof(opnd));
                emit_br(c, t);
                patch_here(c, skip);
                /* on the fall-through path nothing was materialised */
                memcpy(c->stk + c->h - n, sv, n * sizeof(opnd));
                if (sv != saved) free(sv);
            }
            break;
        }
        case 0x0e: /* br_table */ {
            uint32_t n;
            if (!pl_read_u32(r, &n)) MALFORMED("malformed br_table");
            if (n > (size_t)(r->end - r->p)) MALFORMED("unexpected end: br_table has %u labels", n);
            uint32_t *depths = malloc(((size_t)n + 1) * sizeof(uint32_t));
            if (!depths) return fail(c, PYLON_ERR_NOMEM, "out of host memory");
            for (uint32_t i = 0; i <= n; i++) {
                if (!pl_read_u32(r, &depths[i])) { free(depths); MALFORMED("malformed br_table label"); }
                if (depths[i] >= c->nctl) { uint32_t bad = depths[i]; free(depths); INVALID("unknown label %u", bad); }
            }
            if (!pop(c, PYLON_I32, &x)) { free(depths); return false; }
            const ctl *def = &c->ctls[c->nctl - 1 - depths[n]];
            uint32_t arity = label_arity(def);
            for (uint32_t i = 0; i <= n; i++) {
                const ctl *t = &c->ctls[c->nctl - 1 - depths[i]];
                if (label_arity(t) != arity) { free(depths); INVALID("type mismatch: br_table labels have different arities"); }
                if (!check_top(c, arity, label_types(t))) { free(depths); return false; }
            }
            if (emitting(c)) {
                materialize_range(c, c->h - arity, c->h);
                op(c, PL_OP_br_table);
                slot(c, x, c->h);
                cell(c, n);
                cell(c, arity);
                stack_cell(c, stack_slot(c, c->h - arity));
                for (uint32_t i = 0; i <= n; i++) {
                    ctl *t = &c->ctls[c->nctl - 1 - depths[i]];
                    target_cell(c, label_slot(c, t), t->kind != C_FUNC);
                    if (t->kind == C_LOOP) jump_to(c, t->loop_pos);
                    else jump_fwd(c, &t->patches); /* C_FUNC: lands on its ret */
                }
                label(c);
            }
            free(depths);
            set_unreachable(c);
            break;
        }
        case 0x0f: /* return */
            CHECK(check_top(c, c->type->nresults, c->type->results));
            emit_return(c);
            set_unreachable(c);
            break;
        case 0x10: /* call */ {
            uint32_t f;
            CHECK(read_idx(c, &f, m->nfuncs, "function"));
            const pl_functype *ft = &m->types[m->func_types[f]];
            uint32_t base;
            CHECK(call_tail(c, ft, &base));
            if (emitting(c)) {
                if (f >= m->nfunc_imports) {
                    op(c, PL_OP_call_local);
                    cell(c, f - m->nfunc_imports);
                } else {
                    op(c, PL_OP_call_import);
                    cell(c, f);
                }
                stack_cell(c, base);
                label(c);
            }
            CHECK(push_results(c, ft));
            break;
        }
        case 0x11: /* call_indirect */ {
            uint32_t ti, tab;
            CHECK(read_idx(c, &ti, m->ntypes, "type"));
            CHECK(read_idx(c, &tab, m->ntables, "table"));
            if (m->tables[tab].elem != PYLON_FUNCREF) INVALID("type mismatch: call_indirect on a table of %s", pylon_valtype_name(m->tables[tab].elem));
            CHECK(pop(c, PYLON_I32, &x));
            const pl_functype *ft = &m->types[ti];
            /* the index sits above the args; keep it readable after the
             * args are materialised: copy it to a scratch slot if needed */
            uint32_t base;
            uint32_t idx_h = c->h;
            CHECK(call_tail(c, ft, &base));
            if (emitting(c)) {
                op(c, PL_OP_call_indirect);
                cell(c, tab);
                cell(c, ti);
                stack_cell(c, base);
                slot(c, x, idx_h);
                label(c);
            }
            CHECK(push_results(c, ft));
            break;
        }

        /* ---- parametric ---- */
        case 0x1a: /* drop */
            CHECK(pop(c, T_UNKNOWN, &x));
            break;
        case 0x1b: /* select */
        case 0x1c: /* select t */ {
            uint8_t want = T_UNKNOWN;
            if (b == 0x1c) {
                uint32_t n;
                if (!pl_read_u32(r, &n)) MALFORMED("malformed select");
                if (n != 1) INVALID("invalid result arity for select");
                uint8_t t;
                if (!pl_read_u8(r, &t)) MALFORMED("unexpected end");
                if (t == PYLON_V128) return fail(c, PYLON_ERR_UNSUPPORTED, "SIMD is not supported (select v128)");
                if (t != PYLON_I32 && t != PYLON_I64 && t != PYLON_F32 && t != PYLON_F64 && !is_ref(t))
                    MALFORMED("malformed value type");
                want = t;
            }
            CHECK(pop(c, PYLON_I32, &x));
            CHECK(pop(c, want, &bb));
            CHECK(pop(c, want, &a));
            uint8_t t = want;
            if (b == 0x1b) {
                if (is_ref(a.type) || is_ref(bb.type)) INVALID("type mismatch: select without type on references");
                if (a.type && bb.type && a.type != bb.type)
                    INVALID("type mismatch: select operands %s and %s", pylon_valtype_name(a.type), pylon_valtype_name(bb.type));
                t = a.type ? a.type : bb.type;
            }
            CHECK(push(c, t));
            if (emitting(c)) {
                op(c, PL_OP_select);
                dst(c, c->h - 1);
                slot(c, a, c->h - 1); slot(c, bb, c->h); slot(c, x, c->h + 1);
            }
            break;
        }

        /* ---- variables ---- */
        case 0x20: /* local.get */ {
            uint32_t n;
            CHECK(read_idx(c, &n, c->nlocals, "local"));
            CHECK(push(c, c->local_types[n]));
            c->stk[c->h - 1].where = W_LOCAL;
            c->stk[c->h - 1].idx = n;
            break;
        }
        case 0x21: /* local.set */
        case 0x22: /* local.tee */ {
            uint32_t n;
            CHECK(read_idx(c, &n, c->nlocals, "local"));
            CHECK(pop(c, c->local_types[n], &x));
            if (emitting(c)) {
                bool refs = false;
                for (uint32_t i = 0; i < c->h; i++)
                    if (c->stk[i].where == W_LOCAL && c->stk[i].idx == n) refs = true;
                if (x.where == W_LOCAL && x.idx == n) {
                    /* local.get n; local.set n: nothing to do */
                } else if (!refs && x.where == W_STACK && c->last_dst != NO_POS &&
                           c->cells[c->last_dst] == stack_slot(c, c->h)) {
                    c->cells[c->last_dst] = n; /* retarget the producer */
                    unfix(c, c->last_dst);
                    label(c);
                } else {
                    materialize_local(c, n);
                    op(c, PL_OP_copy);
                    cell(c, n);
                    slot(c, x, c->h);
                    label(c);
                }
            }
            if (b == 0x22) {
                CHECK(push(c, c->local_types[n]));
                c->stk[c->h - 1].where = W_LOCAL;
                c->stk[c->h - 1].idx = n;
            }
            break;
        }
        case 0x23: /* global.get */ {
            uint32_t g;
            CHECK(read_idx(c, &g, m->nglobals, "global"));
            CHECK(push(c, m->globals[g].type));
            if (emitting(c)) { op(c, PL_OP_global_get); dst(c, c->h - 1); cell(c, g); }
            break;
        }
        case 0x24: /* global.set */ {
            uint32_t g;
            CHECK(read_idx(c, &g, m->nglobals, "global"));
            if (!m->globals[g].mut) INVALID("global is immutable");
            CHECK(pop(c, m->globals[g].type, &x));
            if (emitting(c)) { op(c, PL_OP_global_set); cell(c, g); slot(c, x, c->h); label(c); }
            break;
        }

        /* ---- tables ---- */
        case 0x25: /* table.get */ {
            uint32_t t;
            CHECK(read_idx(c, &t, m->ntables, "table"));
            CHECK(pop(c, PYLON_I32, &x));
            CHECK(push(c, m->tables[t].elem));
            if (emitting(c)) { op(c, PL_OP_table_get); dst(c, c->h - 1); cell(c, t); slot(c, x, c->h - 1); }
            break;
        }
        case 0x26: /* table.set */ {
            uint32_t t;
            CHECK(read_idx(c, &t, m->ntables, "table"));
            CHECK(pop(c, m->tables[t].elem, &bb));
            CHECK(pop(c, PYLON_I32, &x));
            if (emitting(c)) { op(c, PL_OP_table_set); cell(c, t); slot(c, x, c->h); slot(c, bb, c->h + 1); label(c); }
            break;
        }

        /* ---- memory ---- */
        case 0x3f: /* memory.size */
            CHECK(zero_byte(c));
            CHECK(need_memory(c));
            CHECK(push(c, PYLON_I32));
            if (emitting(c)) { op(c, PL_OP_memory_size); dst(c, c->h - 1); }
            break;
        case 0x40: /* memory.grow */
            CHECK(zero_byte(c));
            CHECK(need_memory(c));
            CHECK(pop(c, PYLON_I32, &x));
            CHECK(push(c, PYLON_I32));
            if (emitting(c)) { op(c, PL_OP_memory_grow); dst(c, c->h - 1); slot(c, x, c->h - 1); }
            break;

        /* ---- constants ---- */
        case 0x41: {
            int32_t v;
            if (!pl_read_s32(r, &v)) MALFORMED("malformed i32.const");
            CHECK(push_const(c, PYLON_I32, (pylon_val){.bits = (uint32_t)v}));
            break;
        }
        case 0x42: {
            int64_t v;
            if (!pl_read_s64(r, &v)) MALFORMED("malformed i64.const");
            CHECK(push_const(c, PYLON_I64, (pylon_val){.bits = (uint64_t)v}));
            break;
        }
        case 0x43: {
            uint32_t v;
            if (!pl_read_f32(r, &v)) MALFORMED("unexpected end in f32.const");
            CHECK(push_const(c, PYLON_F32, (pylon_val){.bits = v}));
            break;
        }
        case 0x44: {
            uint64_t v;
            if (!pl_read_f64(r, &v)) MALFORMED("unexpected end in f64.const");
            CHECK(push_const(c, PYLON_F64, (pylon_val){.bits = v}));
            break;
        }

        /* ---- references ---- */
        case 0xd0: /* ref.null t */ {
            uint8_t t;
            if (!pl_read_u8(r, &t)) MALFORMED("unexpected end");
            if (!is_ref(t)) MALFORMED("malformed reference type");
            CHECK(push_const(c, t, (pylon_val){.bits = 0}));
            break;
        }
        case 0xd1: /* ref.is_null */ {
            CHECK(pop(c, T_UNKNOWN, &x));
            if (x.type && !is_ref(x.type)) INVALID("type mismatch: ref.is_null on %s", pylon_valtype_name(x.type));
            CHECK(push(c, PYLON_I32));
            if (emitting(c)) { op(c, PL_OP_ref_is_null); dst(c, c->h - 1); slot(c, x, c->h - 1); }
            break;
        }
        case 0xd2: /* ref.func */ {
            uint32_t f;
            CHECK(read_idx(c, &f, m->nfuncs, "function"));
            if (!m->func_declared || !m->func_declared[f]) INVALID("undeclared function reference %u", f);
            CHECK(push(c, PYLON_FUNCREF));
            if (emitting(c)) { op(c, PL_OP_ref_func); dst(c, c->h - 1); cell(c, f); }
            break;
        }

        /* ---- bulk memory and tables (0xfc 8..17) ---- */
        case 0xfc08: /* memory.init */ {
            uint32_t d;
            if (!pl_read_u32(r, &d)) MALFORMED("malformed data index");
            CHECK(zero_byte(c));
            CHECK(need_memory(c));
            CHECK(check_data_index(c, d));
            opnd n, s, dd;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, PYLON_I32, &s)); CHECK(pop(c, PYLON_I32, &dd));
            if (emitting(c)) {
                op(c, PL_OP_memory_init); cell(c, d);
                slot(c, dd, c->h); slot(c, s, c->h + 1); slot(c, n, c->h + 2); label(c);
            }
            break;
        }
        case 0xfc09: /* data.drop */ {
            uint32_t d;
            if (!pl_read_u32(r, &d)) MALFORMED("malformed data index");
            CHECK(check_data_index(c, d));
            if (emitting(c)) { op(c, PL_OP_data_drop); cell(c, d); label(c); }
            break;
        }
        case 0xfc0a: /* memory.copy */
        case 0xfc0b: /* memory.fill */ {
            CHECK(zero_byte(c));
            if (code == 0xfc0a) CHECK(zero_byte(c));
            CHECK(need_memory(c));
            opnd n, s, dd;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, PYLON_I32, &s)); CHECK(pop(c, PYLON_I32, &dd));
            if (emitting(c)) {
                op(c, code == 0xfc0a ? PL_OP_memory_copy : PL_OP_memory_fill);
                slot(c, dd, c->h); slot(c, s, c->h + 1); slot(c, n, c->h + 2); label(c);
            }
            break;
        }
        case 0xfc0c: /* table.init */ {
            uint32_t e, t;
            CHECK(read_idx(c, &e, m->nelems, "elem segment"));
            CHECK(read_idx(c, &t, m->ntables, "table"));
            if (m->elems[e].type != m->tables[t].elem) INVALID("type mismatch: table.init of %s into a table of %s", pylon_valtype_name(m->elems[e].type), pylon_valtype_name(m->tables[t].elem));
            opnd n, s, dd;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, PYLON_I32, &s)); CHECK(pop(c, PYLON_I32, &dd));
            if (emitting(c)) {
                op(c, PL_OP_table_init); cell(c, t); cell(c, e);
                slot(c, dd, c->h); slot(c, s, c->h + 1); slot(c, n, c->h + 2); label(c);
            }
            break;
        }
        case 0xfc0d: /* elem.drop */ {
            uint32_t e;
            CHECK(read_idx(c, &e, m->nelems, "elem segment"));
            if (emitting(c)) { op(c, PL_OP_elem_drop); cell(c, e); label(c); }
            break;
        }
        case 0xfc0e: /* table.copy */ {
            uint32_t td, ts;
            CHECK(read_idx(c, &td, m->ntables, "table"));
            CHECK(read_idx(c, &ts, m->ntables, "table"));
            if (m->tables[td].elem != m->tables[ts].elem) INVALID("type mismatch: table.copy between %s and %s tables", pylon_valtype_name(m->tables[td].elem), pylon_valtype_name(m->tables[ts].elem));
            opnd n, s, dd;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, PYLON_I32, &s)); CHECK(pop(c, PYLON_I32, &dd));
            if (emitting(c)) {
                op(c, PL_OP_table_copy); cell(c, td); cell(c, ts);
                slot(c, dd, c->h); slot(c, s, c->h + 1); slot(c, n, c->h + 2); label(c);
            }
            break;
        }
        case 0xfc0f: /* table.grow */ {
            uint32_t t;
            CHECK(read_idx(c, &t, m->ntables, "table"));
            opnd n, v;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, m->tables[t].elem, &v));
            CHECK(push(c, PYLON_I32));
            if (emitting(c)) {
                op(c, PL_OP_table_grow); dst(c, c->h - 1); cell(c, t);
                slot(c, v, c->h - 1); slot(c, n, c->h);
            }
            break;
        }
        case 0xfc10: /* table.size */ {
            uint32_t t;
            CHECK(read_idx(c, &t, m->ntables, "table"));
            CHECK(push(c, PYLON_I32));
            if (emitting(c)) { op(c, PL_OP_table_size); dst(c, c->h - 1); cell(c, t); }
            break;
        }
        case 0xfc11: /* table.fill */ {
            uint32_t t;
            CHECK(read_idx(c, &t, m->ntables, "table"));
            opnd n, v, i;
            CHECK(pop(c, PYLON_I32, &n)); CHECK(pop(c, m->tables[t].elem, &v)); CHECK(pop(c, PYLON_I32, &i));
            if (emitting(c)) {
                op(c, PL_OP_table_fill); cell(c, t);
                slot(c, i, c->h); slot(c, v, c->h + 1); slot(c, n, c->h + 2); label(c);
            }
            break;
        }
#undef I32
#undef I64
#undef F32
#undef F64
        default:
            if (code >= 0xfc00) MALFORMED("illegal opcode 0xfc %u", code & 0xff);
            MALFORMED("illegal opcode 0x%02x", code);
        }
        if (c->oom) return false;
    }
    if (r->p != r->end) MALFORMED("section size mismatch: bytes after the function's final end");
    return true;
}

/* ---- syntax-only skim ----------------------------------------------------- */

/* The spec decodes the whole module before validating any of it, so a
 * malformed encoding later in the code section wins over a validation error
 * found earlier.  Compilation validates as it decodes; when it finds an
 * invalid body, this skim re-reads the bodies for encoding errors only. */
static bool skim_body(comp *c) {
    pl_reader *r = &c->r;
    uint32_t depth = 1, u;
    int64_t s64;
    int32_t s32;
    uint8_t byte;
    while (depth > 0) {
        if (!pl_read_u8(r, &byte)) MALFORMED("unexpected end of function body");
        uint32_t code = byte;
        if (byte == 0xfc) {
            if (!pl_read_u32(r, &u) || u > 0xff) MALFORMED("illegal opcode 0xfc");
            code = 0xfc00 | u;
        }
        switch (code) {
#define S_CASE(cd, ...) case cd:
#define S_SKIP(...)
        PL_OPCODES(S_CASE, S_CASE, S_CASE, S_SKIP, S_SKIP)
        case 0x00: case 0x01: case 0x0f: case 0x1a: case 0x1b: case 0xd1: case 0x05:
            break;
        PL_OPCODES(S_SKIP, S_SKIP, S_SKIP, S_CASE, S_CASE)
#undef S_CASE
#undef S_SKIP
            if (!pl_read_u32(r, &u) || !pl_read_u32(r, &u)) MALFORMED("malformed memop");
            break;
        case 0x02: case 0x03: case 0x04:
            if (!pl_read_s33(r, &s64)) MALFORMED("malformed block type");
            depth++;
            break;
        case 0x0b:
            depth--;
            break;
        case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
        case 0x25: case 0x26: case 0xd2: case 0xfc09: case 0xfc0d: case 0xfc0f: case 0xfc10: case 0xfc11:
            if (!pl_read_u32(r, &u)) MALFORMED("malformed index");
            break;
        case 0x11: case 0xfc0c: case 0xfc0e:
            if (!pl_read_u32(r, &u) || !pl_read_u32(r, &u)) MALFORMED("malformed index");
            break;
        case 0x0e: {
            uint32_t n;
            if (!pl_read_u32(r, &n)) MALFORMED("malformed br_table");
            for (uint64_t i = 0; i <= n; i++)
                if (!pl_read_u32(r, &u)) MALFORMED("unexpected end in br_table");
            break;
        }
        case 0x1c: {
            uint32_t n;
            if (!pl_read_u32(r, &n)) MALFORMED("malformed select");
            for (uint64_t i = 0; i < n; i++)
                if (!pl_read_u8(r, &byte)) MALFORMED("unexpected end in select");
            break;
        }
        case 0x3f: case 0x40: case 0xfc0b: CHECK(zero_byte(c)); break;
        case 0xfc0a: CHECK(zero_byte(c)); CHECK(zero_byte(c)); break;
        case 0xfc08:
            if (!pl_read_u32(r, &u)) MALFORMED("malformed data index");
            CHECK(zero_byte(c));
            break;
        case 0x41: if (!pl_read_s32(r, &s32)) MALFORMED("malformed i32.const"); break;
        case 0x42: if (!pl_read_s64(r, &s64)) MALFORMED("malformed i64.const"); break;
        case 0x43: { uint32_t f; if (!pl_read_f32(r, &f)) MALFORMED("unexpected end"); break; }
        case 0x44: { uint64_t f; if (!pl_read_f64(r, &f)) MALFORMED("unexpected end"); break; }
        case 0xd0: if (!pl_read_u8(r, &byte)) MALFORMED("unexpected end"); break;
        default:
            if (code >= 0xfc00) MALFORMED("illegal opcode 0xfc %u", code & 0xff);
            MALFORMED("illegal opcode 0x%02x", code);
        }
    }
    if (r->p != r->end) MALFORMED("section size mismatch: bytes after the function's final end");
    return true;
}

/* ---- per-function driver --------------------------------------------------- */

static pl_code *compile_one(const pl_module *m, uint32_t defined, const uint8_t *bytes,
                            const void *const *handlers, pylon_error *err) {
    const pl_funcbody *body = &m->bodies[defined];
    uint32_t fidx = m->nfunc_imports + defined;
    const pl_functype *ft = &m->types[m->func_types[fidx]];

    comp c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.err = err;
    c.type = ft;
    c.handlers = handlers;
    c.r.base = bytes;
    c.r.p = bytes + body->offset;
    c.r.end = bytes + body->offset + body->len;
    c.last_pos = c.last_dst = NO_POS;
    c.last_cmp = -1;
    c.nlocals = ft->nparams + body->nlocals;
    c.local_types = malloc(c.nlocals ? c.nlocals : 1);
    pl_code *code = calloc(1, sizeof *code);
    bool ok = c.local_types && code;
    if (!ok) fail(&c, PYLON_ERR_NOMEM, "out of host memory");
    if (ok) {
        memcpy(c.local_types, ft->params, ft->nparams);
        memcpy(c.local_types + ft->nparams, body->locals, body->nlocals);
        ok = compile_body(&c);
    }
    if (ok) {
        /* constants sit between the locals and the operand stack, so a
         * callee's frame (laid over the caller's top stack slots) never
         * covers them: shift every stack slot past them */
        uint32_t const_base = c.nlocals;
        for (size_t i = 0; i < c.nfixups; i++) c.cells[c.fixups[i]] += c.nconsts;
        code->cells = c.cells;
        code->ncells = c.ncells;
        code->func = fidx;
        code->nparams = ft->nparams;
        code->nresults = ft->nresults;
        code->nlocals = c.nlocals;
        code->const_base = const_base;
        code->nconsts = c.nconsts;
        code->frame_size = const_base + c.nconsts + c.max_h;
        if (code->frame_size < ft->nresults) code->frame_size = ft->nresults;
        code->sig = pl_sig_intern(ft->sig);
        if (c.nconsts) {
            code->consts = malloc(c.nconsts * sizeof(pylon_val));
            if (code->consts) memcpy(code->consts, c.consts, c.nconsts * sizeof(pylon_val));
        }
        if (!code->sig || (c.nconsts && !code->consts)) {
            fail(&c, PYLON_ERR_NOMEM, "out of host memory");
            ok = false;
        }
        c.cells = NULL;
    }
    free(c.local_types);
    free(c.stk);
    free(c.ctls);
    free(c.fixups);
    free(c.cells);
    if (!ok) {
        if (code) pl_code_free(code);
        /* say which function, keep the rule */
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%.220s (in function %u)", err->message, fidx);
        memcpy(err->message, msg, sizeof msg);
        return NULL;
    }
    return code;
}

void pl_code_free(pl_code *code) {
    if (!code) return;
    free(code->cells);
    free(code->consts);
    free(code);
}

int pl_compile_module(pl_module *m, const uint8_t *bytes, pylon_error *err) {
    uint32_t n = m->nfuncs - m->nfunc_imports;
    m->code = calloc(n ? n : 1, sizeof(pl_code *));
    if (!m->code) {
        err->kind = PYLON_ERR_NOMEM;
        snprintf(err->message, sizeof err->message, "out of host memory");
        return -1;
    }
    const void *const *handlers = pl_interp_handlers();
    for (uint32_t i = 0; i < n; i++) {
        m->code[i] = compile_one(m, i, bytes, handlers, err);
        if (m->code[i]) continue;
        if (err->kind == PYLON_ERR_INVALID) {
            for (uint32_t k = i; k < n; k++) {
                pylon_error e2;
                memset(&e2, 0, sizeof e2);
                comp c;
                memset(&c, 0, sizeof c);
                c.m = m;
                c.err = &e2;
                c.r.base = bytes;
                c.r.p = bytes + m->bodies[k].offset;
                c.r.end = c.r.p + m->bodies[k].len;
                if (!skim_body(&c)) { *err = e2; break; }
            }
        }
        return -1;
    }
    return 0;
}

/* ---- signature interning --------------------------------------------------- */

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static char **sigs;
static size_t nsigs, sig_cap;

const char *pl_sig_intern(const char *sig) {
    const char *out = NULL;
    pthread_mutex_lock(&sig_lock);
    for (size_t i = 0; i < nsigs; i++)
        if (!strcmp(sigs[i], sig)) { out = sigs[i]; break; }
    if (!out) {
        if (nsigs == sig_cap) {
            size_t nc = sig_cap ? sig_cap * 2 : 64;
            char **ns = realloc(sigs, nc * sizeof *ns);
            if (ns) { sigs = ns; sig_cap = nc; }
        }
        char *copy = nsigs < sig_cap ? strdup(sig) : NULL;
        if (copy) { sigs[nsigs++] = copy; out = copy; }
    }
    pthread_mutex_unlock(&sig_lock);
    return out;
}
