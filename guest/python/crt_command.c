/* crt_command.c: the entry point of python.wasm, in place of wasi-libc's
 * crt1-command.o (python.wasm is linked with -nostartfiles and this object).
 *
 * Why: Debian's wasi-libc (snapshot 2022-05-10) has a crt1-command.o whose
 * _start never calls __wasm_call_ctors.  wasm-ld then makes up for it by
 * wrapping *every* exported function of the command, not only _start, as
 *     __wasm_call_ctors(); f(...); __wasm_call_dtors();
 * so each call the host makes to cabi_realloc while python is running (it
 * does, to hand results back) would re-run libc's constructors (re-read the
 * environment, re-register the preopened directories, reset the process
 * clock) and then its destructors (atexit handlers, stdio shutdown).
 *
 * Calling __wasm_call_ctors here, explicitly, is what later wasi-libc
 * releases do too: once the symbol is referenced, wasm-ld adds no wrappers
 * and cabi_realloc is exported as itself.  guest/python/build.sh checks that
 * no export of python.wasm is such a wrapper.
 */
extern void __wasm_call_ctors(void);
extern void __wasm_call_dtors(void);
extern int __main_void(void);          /* wasi-libc: gets argv, calls main */
extern _Noreturn void exit(int status);

__attribute__((export_name("_start")))
void _start(void)
{
    /* A command runs once per instance. */
    static volatile int started;
    if (started)
        __builtin_trap();
    started = 1;

    __wasm_call_ctors();
    int status = __main_void();
    if (status != 0)
        exit(status);                  /* atexit, stdio flush, proc_exit */
    __wasm_call_dtors();               /* atexit, stdio flush; return = 0 */
}
