# json_rt.py: JSON round trips, a Python benchmark for bench/python/.
# Builds a document shaped like an API response (nested dicts and lists,
# strings with escapes and non-ASCII, ints, floats, booleans, nulls), then
# serialises and parses it repeatedly.  Most of the time is in the C
# accelerator (_json) plus dict/list/str allocation: the "library code"
# side of CPython rather than its eval loop.
# Usage: json_rt.py [ROUNDS] (default 20); prints a checksum and the seconds.
import json
import sys
import time
import zlib


def make_doc(records):
    tags = ["alpha", "beta", "gamma", "δέλτα", "ε\"quoted\"", "tab\there", "日本語"]
    items = []
    for i in range(records):
        items.append({
            "id": i,
            "name": f"item-{i:05d}",
            "price": round(i * 1.37 + 0.5, 2),
            "ratio": i / 7.0,
            "active": i % 3 == 0,
            "parent": None if i % 5 else i // 5,
            "tags": [tags[(i + k) % len(tags)] for k in range(i % 4)],
            "dims": {"w": i % 17, "h": i % 23, "d": [i % 2, i % 3, i % 5]},
            "note": "line\nbreak and a \\ backslash" if i % 11 == 0 else "",
        })
    return {"version": 3, "count": records, "items": items, "meta": {"source": "bench", "ok": True}}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    doc = make_doc(500)
    t0 = time.perf_counter()
    crc = 0
    for r in range(rounds):
        text = json.dumps(doc, ensure_ascii=(r % 2 == 0), sort_keys=(r % 3 == 0))
        back = json.loads(text)
        if back != doc:
            raise SystemExit("round trip changed the document")
        crc = zlib.crc32(text.encode("utf-8"), crc)
    pretty = json.dumps(doc, indent=2)
    crc = zlib.crc32(pretty.encode("utf-8"), crc)
    dt = time.perf_counter() - t0
    print(f"result {crc:08x} {len(text)}")
    print(f"seconds {dt:.6f}")


main()
