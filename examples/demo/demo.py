"""Pylon's default demo: CRC-32C through a capability.

Runs inside the sandbox (python.wasm under `pylon run --plan`).  `crc32c` is
a runtime-linked cap: at import, its C extension resolves "crc32c" through
compose:dynlink, and the plan decides which provider (a separate wasm
module, in its own sandbox) answers.  The check values are RFC 3720's.
"""
import sys
import time

import crc32c

CHECKS = [
    ('"123456789"', b"123456789", 0xE3069283),
    ('"abc"', b"abc", 0x364B3FB7),
    ('"" (empty)', b"", 0x00000000),
    ("32 x 0x00", bytes(32), 0x8A9136AA),
    ("32 x 0xFF", b"\xff" * 32, 0x62A8AB43),
    ("0x00..0x1F", bytes(range(32)), 0x46DD794E),
    ("0x1F..0x00", bytes(range(31, -1, -1)), 0x113FDB5C),
]

print(f"provider: {crc32c.provider()}")
bad = 0
for name, data, want in CHECKS:
    got = crc32c.crc32c(data)
    ok = got == want
    bad += not ok
    print(f"  crc32c({name:<12}) = 0x{got:08X}  {'ok' if ok else 'MISMATCH'}")

# incremental hashing (the crc32c package's API) gives the same answer
h = crc32c.CRC32CHash()
for chunk in (b"1234", b"56789"):
    h.update(chunk)
print(f"  incremental 123456789   = 0x{h.checksum:08X}  {'ok' if h.checksum == 0xE3069283 else 'MISMATCH'}")
bad += h.checksum != 0xE3069283

data = bytes(range(256)) * 4096  # 1 MiB
t = time.perf_counter()
crc32c.crc32c(data)
dt = time.perf_counter() - t
print(f"  1 MiB through the cap: {len(data) / dt / 1e6:.0f} MB/s")
print(f"{'FAILED' if bad else 'ok'}: {len(CHECKS) + 1 - bad} of {len(CHECKS) + 1} check values match")
sys.exit(1 if bad else 0)
