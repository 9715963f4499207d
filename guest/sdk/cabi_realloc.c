/* cabi_realloc: the canonical-ABI allocator every Pylon guest exports.
 *
 *   void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size);
 *
 * This is the `cabi_realloc` of the Component Model canonical ABI (see
 * /work/shared/reference/conventions.md).  The host calls it to place bytes in
 * the guest's linear memory: result lists and strings it hands back to the
 * guest, arguments it passes in.  At the core-wasm level it is
 * (i32 old_ptr, i32 old_size, i32 align, i32 new_size) -> (i32 ptr).
 *
 *   - A fresh allocation passes old = 0, old_size = 0.
 *   - Otherwise (old, old_size) is a block an earlier call returned; it is
 *     resized to new_size bytes, keeping the first min(old_size, new_size).
 *   - The result is aligned to `align` (a power of two).
 *   - new_size = 0 releases the old block and returns `align` itself: a
 *     non-null, suitably aligned pointer that must not be dereferenced (the
 *     canonical ABI never reads a zero-length buffer).  Because no real block
 *     is ever zero bytes long, old_size = 0 always means "no block to free".
 *   - Failure (out of memory, align not a power of two) traps: the canonical
 *     ABI has no error return here, and a trap is what the host expects.
 *
 * Memory comes from wasi-libc's malloc, so the guest frees what it received
 * with free().  Linked into python.wasm by guest/python/build.sh and exported
 * with -Wl,--export=cabi_realloc (the export_name attribute below makes the
 * export happen even without that flag).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What malloc/realloc already guarantee. */
#define MALLOC_ALIGN _Alignof(max_align_t)

__attribute__((export_name("cabi_realloc"), used))
void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size)
{
    if (align == 0 || (align & (align - 1)) != 0)
        __builtin_trap();
    if (old_size == 0)
        old = NULL;                     /* nothing to keep, nothing to free */

    if (new_size == 0) {
        free(old);
        return (void *)(uintptr_t)align;
    }

    void *p;
    if (align <= MALLOC_ALIGN) {
        p = realloc(old, new_size);     /* realloc(NULL, n) == malloc(n) */
    } else {
        /* aligned_alloc wants a size that is a multiple of the alignment. */
        size_t rounded = (new_size + align - 1) & ~(align - 1);
        if (rounded < new_size)
            __builtin_trap();
        p = aligned_alloc(align, rounded);
        if (p && old) {
            memcpy(p, old, old_size < new_size ? old_size : new_size);
            free(old);
        }
    }
    if (!p)
        __builtin_trap();
    return p;
}
