/* cli.h — what the subcommands of the pylon CLI share. */
#ifndef PYLON_CLI_H
#define PYLON_CLI_H

#include <stddef.h>
#include <stdint.h>

enum {
    PYLON_EXIT_OK = 0,
    PYLON_EXIT_FAIL = 1,      /* the guest or the tests failed */
    PYLON_EXIT_USAGE = 2,     /* bad command line */
    PYLON_EXIT_LOAD = 3,      /* module malformed / invalid / unlinkable */
    PYLON_EXIT_TRAP = 4,      /* the guest trapped */
    PYLON_EXIT_IO = 5,        /* a host file could not be read or written */
};

/* Reads a whole file; returns a malloc'd buffer or NULL with errno set. */
uint8_t *pylon_read_file(const char *path, size_t *len);
/* A monotonic clock, in seconds, for "took N s" messages. */
double pylon_now_seconds(void);

#endif
