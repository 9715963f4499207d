/*
 * aot_inject.h — what Pylon adds to wasm2c's output: Pylon inserts an
 * #include of this file just before wasm2c instantiates its load/store
 * helpers (so it may redefine them) and rewrites every backward goto (a
 * loop's back-edge) into PL_BACK.  Compiled into the artifact only.
 *
 * 1. Loop safepoints.  Native code would otherwise notice an interrupt
 * only at its next host call: a loop that never calls the host (Python
 * spinning in `while True: pass`) could not take Ctrl-C gently.  The
 * back-edges of loops that call something (see aot_build.c, inject) read the
 * artifact's poll word, which counts its instances with an interrupt
 * pending (pylon_instance_interrupt); when it is set, the glue's
 * pl_poll_slow asks Pylon to run the interrupt handler of the instance
 * running on this thread, or to trap.  One RIP-relative compare and a
 * not-taken branch; no register, so leaf-call loops keep their shape.
 *
 * 2. Trap kinds.  wasm2c has one trap code for every call_indirect failure
 * and one for memory and table bounds; Pylon tells them apart as the
 * interpreter does: CALL_INDIRECT is redefined below, and inject() wraps
 * wasm2c's table helpers in a TRAP that is PL_TABLE_TRAP.  The
 * codes continue wasm2c's wasm_rt_trap_t; aot.c (host_trap) maps them.
 *
 * 3. Memory access.  wasm2c's own helpers read `mem->data` on every access.  The memory is an
 * import here, so that is two dependent loads, and because a store into
 * linear memory may alias anything, the compiler must redo them after every
 * store: loops that write memory keep reloading the base.
 *
 * With PL_SEGUE the artifact addresses memory through the %gs segment
 * instead ("Segue"): Pylon points the thread's GS base at the memory when it
 * enters native code (aot.c, aot_run) and every access is a single
 * `mov %gs:addr` — no base register, nothing to reload, and stores into
 * address space 256 cannot clobber the instance's fields.  It needs the
 * FSGSBASE instructions (x86-64, Linux >= 5.9) and exactly one memory.
 *
 * The empty asm keeps a load whose value is unused: out-of-bounds accesses
 * must still fault (and trap), as in wasm2c's own helpers.  Unlike theirs,
 * it lets a float stay in an SSE register ("x"): "r" would force every f64
 * load through a general-purpose register.  Cells are may_alias (wasm code
 * reads the bytes of a float as an integer) and aligned(1) (any address).
 */
#define WASM_RT_TRAP_PL_UNDEFINED_ELEMENT ((wasm_rt_trap_t)100)
#define WASM_RT_TRAP_PL_UNINITIALIZED_ELEMENT ((wasm_rt_trap_t)101)
#define WASM_RT_TRAP_PL_TYPE_MISMATCH ((wasm_rt_trap_t)102)
#define WASM_RT_TRAP_PL_TABLE_OOB ((wasm_rt_trap_t)103)
#define PL_TABLE_TRAP(x) (wasm_rt_trap(WASM_RT_TRAP_PL_TABLE_##x), 0)
#undef CALL_INDIRECT
#define CALL_INDIRECT(table, t, ft, x, ...)                                          \
    ((LIKELY((x) < table.size) || TRAP(PL_UNDEFINED_ELEMENT)),                       \
     (LIKELY(table.data[x].func != NULL) || TRAP(PL_UNINITIALIZED_ELEMENT)),         \
     (LIKELY(table.data[x].func_type == func_types[ft]) || TRAP(PL_TYPE_MISMATCH)), \
     ((t)table.data[x].func)(__VA_ARGS__))

extern volatile uint32_t pl_poll_pending;
void pl_poll_slow(void);
#define PL_BACK(label)                                                     \
    do {                                                                   \
        if (UNLIKELY(pl_poll_pending)) pl_poll_slow();                     \
        goto label;                                                        \
    } while (0)

#if PL_SEGUE
#undef DEFINE_LOAD
#undef DEFINE_STORE
#define PL_SEG __attribute__((address_space(256)))
static inline void pl_keep_int(u64 v) { __asm__("" ::"r"(v)); }
static inline void pl_keep_f32(f32 v) { __asm__("" ::"x"(v)); }
static inline void pl_keep_f64(f64 v) { __asm__("" ::"x"(v)); }
#define PL_KEEP(v) _Generic((v), f32: pl_keep_f32, f64: pl_keep_f64, default: pl_keep_int)(v)
#define DEFINE_LOAD(name, t1, t2, t3)                                      \
    static inline t3 name(wasm_rt_memory_t *mem, u64 addr) {               \
        (void)mem;                                                         \
        typedef t1 PL_SEG __attribute__((aligned(1), may_alias)) pl_cell;         \
        t1 result = *(pl_cell *)(uintptr_t)addr;                           \
        PL_KEEP(result);                                                   \
        return (t3)(t2)result;                                             \
    }
#define DEFINE_STORE(name, t1, t2)                                         \
    static inline void name(wasm_rt_memory_t *mem, u64 addr, t2 value) {   \
        (void)mem;                                                         \
        typedef t1 PL_SEG __attribute__((aligned(1), may_alias)) pl_cell;         \
        *(pl_cell *)(uintptr_t)addr = (t1)value;                           \
    }
#endif
