/*
 * host_cli.h — what the blob, plan and trust subcommands share: the
 * options that say where the Pylon home and its stores are, option
 * parsing in both "--opt VALUE" and "--opt=VALUE" forms, and reading an
 * argument that is either a digest or a file to hash.
 */
#ifndef PYLON_CLI_HOST_CLI_H
#define PYLON_CLI_HOST_CLI_H

#include <stdbool.h>

#include "pylon/host.h"

/* The help text of the location options, for usage messages. */
extern const char hc_location_help[];

/* If argv[*i] is option `name` (taking a value), sets *val, advances *i past
 * the value and returns 1; returns -1 (after a message) when the value is
 * missing; 0 when argv[*i] is another option. */
int hc_opt(int argc, char **argv, int *i, const char *name, const char **val, const char *cmd);
/* Whether argv[*i] is flag `name` (no value). */
bool hc_flag(char **argv, int i, const char *name);
/* --home, --store, --trust, --keys, --audit, --upstream: 1 consumed, 0 not
 * one of them, -1 error. */
int hc_location_opt(int argc, char **argv, int *i, pylon_host_paths *p, const char *cmd);
/* Resolves a location (see pylon_host_path); prints why and returns NULL
 * when there is no home. */
char *hc_path(const pylon_host_paths *p, const char *which, char *buf, size_t cap, const char *cmd);

/* "sha256:<hex>" or the path of a file whose SHA-256 is meant.  Prints
 * what is wrong and returns -1 otherwise. */
int hc_digest_arg(const char *arg, pylon_digest *d, const char *cmd);

/* Prints "pylon CMD: MESSAGE" to stderr and returns the exit code that
 * fits the error's code (I/O errors 5, the rest 1). */
int hc_fail(const char *cmd, const pylon_host_error *e);
int hc_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
