"""test_crc32c.py — the crc32c cap from inside python.wasm.

Runs in the guest (see tests/groups/40-dynlink.sh): the facade's API as the
crc32c and google-crc32c packages define it, check values, and the failure
path Python sees: CapError with the compose:dynlink code, after which the
interpreter and the cap carry on.

    test_crc32c.py [IMPL]        IMPL: what crc32c.provider() must say
    test_crc32c.py --bench       throughput: the cap vs pure-Python CRC-32C

Prints "ok NAME" / "FAIL NAME: why" and "done: N failures".
"""

import sys
import time

failures = 0


def check(good, name, why=""):
    global failures
    if good:
        print("ok   " + name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))


# A pure-Python CRC-32C (table-driven), the reference and the slow baseline.
_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def py_crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _T
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def bench():
    import crc32c
    data = bytes((i * 131 + 7) & 0xFF for i in range(1 << 20))
    small = data[: 64 << 10]
    assert crc32c.crc32c(small) == py_crc32c(small)

    def rate(fn, buf, min_s=0.5):
        n, t0 = 0, time.perf_counter()
        while True:
            fn(buf)
            n += 1
            el = time.perf_counter() - t0
            if el >= min_s:
                return n * len(buf) / el / 1e6, el / n

    cap_mb, _ = rate(crc32c.crc32c, data)
    py_mb, _ = rate(py_crc32c, small)
    _, call_s = rate(crc32c.crc32c, b"", 0.3)
    h = crc32c.CRC32CHash()
    _, upd_s = rate(h.update, b"x" * 64, 0.3)
    print("## CRC-32C from Python (python.wasm, the crc32c facade, provider %s)" % crc32c.provider())
    print()
    print("| | |")
    print("|---|---:|")
    print("| `crc32c.crc32c(data)`, 1 MiB, through the cap | %.1f MB/s |" % cap_mb)
    print("| pure-Python CRC-32C (table-driven loop), 64 KiB | %.3f MB/s |" % py_mb)
    print("| the cap / pure Python | %.0f× |" % (cap_mb / py_mb))
    print("| `crc32c.crc32c(b\"\")`: a whole call from Python, empty | %.2f µs |" % (call_s * 1e6))
    print("| `CRC32CHash.update(64 bytes)` | %.2f µs |" % (upd_s * 1e6))


def main():
    if "--bench" in sys.argv:
        bench()
        return 0
    want_impl = sys.argv[1] if len(sys.argv) > 1 else None

    import crc32c
    import _crc32c_dynlink_cap as cap
    from crc32c import CapError

    check("_crc32c_dynlink_cap" in sys.builtin_module_names, "the extension is built into python.wasm")
    if want_impl:
        check(crc32c.provider() == want_impl, "provider is %s" % want_impl, crc32c.provider())

    for data, want in [(b"123456789", 0xE3069283), (b"abc", 0x364B3FB7), (b"", 0),
                       (bytes(32), 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43),
                       (bytes(range(32)), 0x46DD794E), (bytes(range(31, -1, -1)), 0x113FDB5C)]:
        got = crc32c.crc32c(data)
        check(got == want, "crc32c(%r) = 0x%08X" % (data[:12], want), "0x%08X" % got)

    check(crc32c.crc32c(b"56789", crc32c.crc32c(b"1234")) == 0xE3069283, "crc32c(data, value) continues")
    check(crc32c.crc32(b"abc") == 0x364B3FB7, "crc32 (the old name)")
    check(crc32c.crc32c(bytearray(b"abc")) == 0x364B3FB7 and
          crc32c.crc32c(memoryview(b"xabcx")[1:4]) == 0x364B3FB7, "bytearray and memoryview")
    h = crc32c.CRC32CHash(b"1234")
    h2 = h.copy()
    h.update(b"56789")
    check(h.checksum == 0xE3069283 and h.digest() == bytes.fromhex("e3069283") and
          h.hexdigest() == "e3069283" and h.name == "crc32c" and h.digest_size == 4,
          "CRC32CHash: update, checksum, digest, hexdigest")
    check(h2.checksum == crc32c.crc32c(b"1234"), "CRC32CHash.copy is independent")
    check(crc32c.value(b"123456789") == 0xE3069283 and
          crc32c.extend(crc32c.value(b"1234"), b"56789") == 0xE3069283, "google-crc32c value / extend")
    import io
    cs = crc32c.Checksum()
    chunks = list(cs.consume(io.BytesIO(b"123456789"), 4))
    check(cs.digest() == bytes.fromhex("e3069283") and len(chunks) == 3, "google-crc32c Checksum.consume")
    big = bytes((i * 7 + 3) & 0xFF for i in range(200003))
    check(crc32c.crc32c(big) == py_crc32c(big), "200003 bytes agree with pure Python")
    try:
        crc32c.crc32c(b"x", 1 << 32)
        check(False, "a value over 32 bits is refused", "accepted")
    except OverflowError:
        check(True, "a value over 32 bits is refused")
    try:
        crc32c.crc32c("text")
        check(False, "str is refused (bytes-like only)", "accepted")
    except TypeError:
        check(True, "str is refused (bytes-like only)")

    # The failure path: CapError carries the code, Python carries on.
    try:
        cap._invoke(cap._handle(), "secret", b"")
        check(False, "a method the plan does not allow raises CapError", "no exception")
    except CapError as e:
        check(e.code == "exec-capability-denied" and "method not allowed" in str(e),
              "a method the plan does not allow raises CapError", "%s %s" % (e.code, e))
    try:
        cap._resolve("no-such-cap")
        check(False, "an unknown cap raises CapError", "no exception")
    except CapError as e:
        check(e.code == "exec-capability-denied", "an unknown cap raises CapError", e.code)

    hostile = cap._resolve("hostile")
    for method, code in [("trap", "exec-trap"), ("loop", "exec-timeout"),
                         ("membomb", "exec-resource-exhausted"), ("bad-ptr", "exec-trap"),
                         ("bad-len", "exec-trap"), ("huge", "exec-resource-exhausted"),
                         ("reenter", "exec-capability-denied")]:
        try:
            cap._invoke(hostile, method, b"x")
            check(False, "hostile %s raises CapError(%s)" % (method, code), "no exception")
        except CapError as e:
            check(e.code == code, "hostile %s raises CapError(%s)" % (method, code),
                  "%s: %s" % (e.code, e))
        check(cap._invoke(hostile, "echo", b"live") == b"live", "after %s the next call works" % method)
    try:
        cap._invoke(hostile, "error", b"")
    except CapError as e:
        check(e.code == "not-implemented" and e.context == "the context" and e.code_num == 26,
              "a provider's own error: code, code_num, context", repr((e.code, e.code_num, e.context)))
    cap._drop(hostile)
    check(crc32c.crc32c(b"123456789") == 0xE3069283, "crc32c still works after all that")
    print("done: %d failures" % failures)
    return 1 if failures else 0


sys.exit(main())
