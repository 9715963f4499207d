# regex.py: regular expressions, a Python benchmark for bench/python/.
# Generates a log-like text, then tokenises it, extracts fields with named
# groups, substitutes with a callback and splits it: the sre engine (C)
# driven from Python, with backtracking, alternation, character classes,
# and case-insensitive matching.
# Usage: regex.py [ROUNDS] (default 2); prints a checksum and the seconds.
import re
import sys
import time
import zlib


def make_text(lines):
    levels = ["INFO", "WARN", "ERROR", "debug"]
    words = ["connect", "timeout", "retry", "user", "request", "reply", "cache", "miss"]
    out = []
    x = 12345
    for i in range(lines):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        ip = f"10.{x % 256}.{(x >> 8) % 256}.{(x >> 16) % 256}"
        msg = " ".join(words[(x >> k) % len(words)] for k in range(0, 15, 3))
        out.append(f"2025-11-{1 + i % 28:02d}T{i % 24:02d}:{x % 60:02d}:{(x >> 6) % 60:02d}Z "
                   f"{levels[x % 4]} [{ip}] id={x % 100000} {msg} took={x % 997}ms "
                   f"mail=user{x % 50}@example.{'org' if x & 1 else 'com'}")
    return "\n".join(out)


LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (?P<lvl>\w+) \[(?P<ip>[\d.]+)\] "
    r"id=(?P<id>\d+) (?P<msg>.*?) took=(?P<ms>\d+)ms", re.M)
WORD = re.compile(r"\b[a-z]{4,}\b")
MAIL = re.compile(r"[\w.+-]+@(?:example)\.(?:org|com)")
ERR = re.compile(r"^.*\b(?:error|timeout)\b.*$", re.I | re.M)
NUM = re.compile(r"\d+")


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    text = make_text(3000)
    t0 = time.perf_counter()
    crc = 0
    for _ in range(rounds):
        total = 0
        for m in LINE.finditer(text):
            total += int(m["ms"]) + len(m["msg"])
        words = WORD.findall(text)
        mails = MAIL.findall(text)
        errs = ERR.findall(text)
        masked = NUM.sub(lambda m: str(len(m.group())), text)
        parts = re.split(r"[ \[\]=]+", text)
        summary = f"{total} {len(words)} {len(mails)} {len(errs)} {len(masked)} {len(parts)}"
        crc = zlib.crc32(summary.encode(), crc)
    dt = time.perf_counter() - t0
    print(f"result {crc:08x} {summary}")
    print(f"seconds {dt:.6f}")


main()
