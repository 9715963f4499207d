/*
 * glue.h — the compose:dynlink endpoint shared by the crc32c providers.
 *
 * Both providers answer the same methods with the same bytes; only the
 * CRC routine differs.  Keeping the endpoint in one place is what makes
 * swapping one provider for the other a plan edit and nothing else.
 * A provider file defines CRC_IMPL_NAME, CRC_INIT and CRC_EXTEND, then
 * includes this (wasm builds only).
 *
 * Methods (payloads are plain bytes, see ../wit/crc32c.wit):
 *   "crc32c"  data                      -> u32 little-endian CRC-32C(data)
 *   "extend"  u32 LE running value, data -> u32 LE value extended by data
 *   "info"    (empty)                   -> CBOR envelope
 *             {"schema": "pylon:crc32c/info", "v": 1, "body": "<impl name>"}
 */
#include "dynlink.h"

static uint8_t reply_value[4];

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

__attribute__((export_name("_initialize")))
void crc_provider_initialize(void) {
    CRC_INIT();
}

void dl_provider_handle(const char *m, size_t ml, const uint8_t *p, size_t pl, dl_reply *r) {
    if (dl_method_is(m, ml, "crc32c")) {
        put_le32(reply_value, CRC_EXTEND(0, p, pl));
        dl_reply_ok(r, reply_value, 4);
    } else if (dl_method_is(m, ml, "extend")) {
        if (pl < 4) {
            dl_reply_error(r, DL_INVALID_INPUT, "extend: the payload must start with the 4-byte "
                           "little-endian running CRC value, followed by the data");
            return;
        }
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        put_le32(reply_value, CRC_EXTEND(v, p + 4, pl - 4));
        dl_reply_ok(r, reply_value, 4);
    } else if (dl_method_is(m, ml, "info")) {
        uint8_t body[32];
        size_t bl = dl_cbor_string(body, sizeof body, 3, CRC_IMPL_NAME, sizeof(CRC_IMPL_NAME) - 1);
        size_t need = dl_envelope_encode(0, 0, "pylon:crc32c/info", 1, body, bl);
        uint8_t *out = dl_alloc(need, 1);
        dl_envelope_encode(out, need, "pylon:crc32c/info", 1, body, bl);
        dl_reply_ok(r, out, need);
    } else {
        dl_reply_error(r, DL_NOT_IMPLEMENTED, "crc32c provider: unknown method; the methods are "
                       "\"crc32c\", \"extend\" and \"info\"");
    }
}
