/*
 * code.h — Pylon's internal code: what compile.c emits and interp.c runs.
 *
 * A function is compiled once, at load, into a stream of 32-bit cells.
 * Each instruction starts on an even cell with its handler's address (two
 * cells, so direct-threaded dispatch is one load and one indirect jump),
 * followed by its operands, padded to an even count.  Operands are frame
 * slot indices (every value lives in a 64-bit slot of the frame), u32
 * immediates, or jump offsets (relative to the cell that holds them).
 *
 * Frame layout, in slots from the frame pointer fp:
 *   [0, nlocals)                  parameters then declared locals
 *   [nlocals, nlocals+max_height) the operand stack, one slot per height
 *   [const_base, +nconsts)        constants, copied in at every call
 * A call passes arguments by placing the callee's frame over the caller's
 * top stack slots, so arguments are never copied; results come back in the
 * callee's slots 0..nresults-1, which are exactly where the caller expects
 * them.  Because each stack height has a fixed slot, instructions address
 * their operands directly and local.get / constants usually cost nothing.
 */
#ifndef PYLON_CODE_H
#define PYLON_CODE_H

#include "engine/module.h"
#include "engine/opcodes.h"

/* Hand-written internal instructions, beside the table rows. */
#define PL_INTERNAL_OPS(X) \
    X(unreachable) X(copy) X(const32) X(const64) \
    X(br) X(br_loop) X(br_if) X(br_unless) X(br_if_loop) X(br_unless_loop) \
    X(br_table) X(ret) X(br1) X(ret1) \
    X(call_local) X(call_import) X(call_indirect) \
    X(select) X(global_get) X(global_set) \
    X(table_get) X(table_set) X(table_size) X(table_grow) X(table_fill) \
    X(table_copy) X(table_init) X(elem_drop) \
    X(memory_size) X(memory_grow) X(memory_fill) X(memory_copy) X(memory_init) \
    X(data_drop) X(ref_is_null) X(ref_func)

/* One enum for every handler: table rows (comparisons expand to the plain
 * form and three fused compare-and-branch forms; loads and stores to the
 * plain form and one whose address is the sum of two slots, fused from a
 * preceding i32.add), then internal ops. */
#define PL_ENUM_ONE(code, name, ...) PL_OP_##name,
#define PL_ENUM_CMP(code, name, ...) \
    PL_OP_##name, PL_OP_brif_##name, PL_OP_brunless_##name, PL_OP_brif_loop_##name,
#define PL_ENUM_MEM(code, name, ...) PL_OP_##name, PL_OP_##name##_add,
#define PL_ENUM_INTERNAL(name) PL_OP_##name,
typedef enum pl_op {
    PL_OPCODES(PL_ENUM_ONE, PL_ENUM_ONE, PL_ENUM_CMP, PL_ENUM_MEM, PL_ENUM_MEM)
    PL_INTERNAL_OPS(PL_ENUM_INTERNAL)
    PL_NUM_OPS
} pl_op;

typedef struct pl_code {
    uint32_t *cells;
    size_t ncells;
    uint32_t func;           /* index in the module's function space */
    uint32_t nparams, nresults;
    uint32_t nlocals;        /* params + declared locals */
    uint32_t frame_size;     /* slots */
    uint32_t const_base, nconsts;
    pylon_val *consts;
    const char *sig;         /* interned signature, for call_indirect */
} pl_code;

/* interp.c: handler addresses indexed by pl_op (computed-goto labels). */
const void *const *pl_interp_handlers(void);

/* compile.c: validate every body of m and compile it into m->code[i]. */
int pl_compile_module(pl_module *m, const uint8_t *bytes, pylon_error *err);
void pl_code_free(pl_code *code);

/* Interned signature strings: equal signatures give the same pointer. */
const char *pl_sig_intern(const char *sig);

#endif
