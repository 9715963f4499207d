/* sha256.h — SHA-256 (FIPS 180-4) for the engine's own use: tying an AOT
 * artifact to the exact module bytes it was built from. */
#ifndef PYLON_SHA256_H
#define PYLON_SHA256_H

#include <stddef.h>
#include <stdint.h>

void pl_sha256(const void *data, size_t len, uint8_t out[32]);
/* 64 lowercase hex digits and a NUL. */
void pl_sha256_hex(const void *data, size_t len, char out[65]);

#endif
