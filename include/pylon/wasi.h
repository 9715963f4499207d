/*
 * pylon/wasi.h — WASI preview 1 ("wasi_snapshot_preview1") for Pylon.
 *
 * A host layer on top of engine.h: it registers the 46 preview-1 functions
 * as ordinary host functions, so it works on every engine backend and
 * touches no engine internals.  The guest gets capabilities, not ambient
 * authority: the directories it is given (optionally read-only), the
 * environment variables it is given (nothing is inherited), its arguments,
 * stdio, and any sockets the embedder hands in.  Path resolution never
 * leaves a preopened directory (see src/wasi/wasi_path.c for how).
 *
 * Typical use:
 *     pylon_wasi_config *cfg = pylon_wasi_config_new();
 *     pylon_wasi_config_arg(cfg, "prog");
 *     pylon_wasi_config_env(cfg, "HOME=/home");
 *     pylon_wasi_config_dir(cfg, "/srv/data", "/data", PYLON_WASI_READONLY);
 *     pylon_wasi *w = pylon_wasi_new(cfg, &err);      // opens the preopens
 *     pylon_imports *imp = pylon_imports_new();
 *     pylon_wasi_add_imports(imp, w);
 *     pylon_instance *inst = pylon_instantiate(mod, imp, &limits, &err, &trap);
 *     int code;
 *     if (pylon_wasi_start(inst, &code, &trap) == 0) exit(code);
 *
 * One pylon_wasi serves one instance at a time (it holds that guest's fd
 * table).  pylon_wasi_interrupt() is safe from any thread.
 */
#ifndef PYLON_WASI_H
#define PYLON_WASI_H

#include "pylon/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pylon_wasi_config pylon_wasi_config;
typedef struct pylon_wasi pylon_wasi;

/* Flags for pylon_wasi_config_dir. */
#define PYLON_WASI_READONLY 1u

pylon_wasi_config *pylon_wasi_config_new(void);
void pylon_wasi_config_free(pylon_wasi_config *cfg);

/* Appends one argument (the first is the guest's argv[0]).  Strings are
 * copied.  Each returns 0, or -1 when out of memory or given NULL. */
int pylon_wasi_config_arg(pylon_wasi_config *cfg, const char *arg);
/* Appends one environment entry "NAME=VALUE"; -1 if it has no '=' or an
 * empty NAME. */
int pylon_wasi_config_env(pylon_wasi_config *cfg, const char *name_eq_value);
/* Preopens host directory `host_path` under the guest name `guest_path`
 * (NULL: the same as host_path).  Opened by pylon_wasi_new, in the order
 * given, as guest fds 3, 4, ... */
int pylon_wasi_config_dir(pylon_wasi_config *cfg, const char *host_path,
                          const char *guest_path, unsigned flags);
/* Host fds that become the guest's 0, 1, 2 (default: the process's own
 * 0, 1, 2).  They are dup'ed, so the guest closing its stdout never
 * closes the host's.  -1 gives the guest a closed slot. */
void pylon_wasi_config_stdio(pylon_wasi_config *cfg, int in, int out, int err);
/* Hands an already open host socket to the guest (dup'ed); it appears
 * after the preopened directories, for sock_accept/recv/send/shutdown. */
int pylon_wasi_config_socket(pylon_wasi_config *cfg, int host_fd);

/* Builds the guest's state from a config (which may be freed afterwards):
 * opens every preopened directory.  On failure returns NULL and says which
 * directory and why in err->message. */
pylon_wasi *pylon_wasi_new(const pylon_wasi_config *cfg, pylon_error *err);
void pylon_wasi_free(pylon_wasi *w);

/* Registers every wasi_snapshot_preview1 function (with its signature) in
 * `imp`, bound to `w`.  Returns 0, or -1 if the imports set refused one. */
int pylon_wasi_add_imports(pylon_imports *imp, pylon_wasi *w);

/* Wakes any host call the guest is blocked in (poll_oneoff, a read on a
 * pipe or a socket); it returns EINTR to the guest, except that a sleep
 * (poll_oneoff on clocks only) ends early with its clocks fired, since
 * wasi-libc reports any error of a sleep as ENOTSUP.  Safe from any thread;
 * pair it with pylon_instance_interrupt() to stop a guest for good. */
void pylon_wasi_interrupt(pylon_wasi *w);

/* Runs a WASI command: calls the instance's `_start`.
 *   0   the guest finished: *exit_code is 0 if _start returned, or the
 *       code it gave proc_exit;
 *  -1   the guest trapped: *trap says how;
 *  -2   the module is not a command (no `_start` export of type ":");
 *       trap->message says so. */
int pylon_wasi_start(pylon_instance *inst, int *exit_code, pylon_trap *trap);

/* The number of functions pylon_wasi_add_imports registers (46) and their
 * names, for tools that list what is supported. */
size_t pylon_wasi_num_functions(void);
const char *pylon_wasi_function_name(size_t i);

#ifdef __cplusplus
}
#endif
#endif
