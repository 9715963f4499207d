#!/usr/bin/python3.11
"""bench/python/bench.py: Python under Pylon, under Node and natively, side by side.

The same Python programs (bench/python/*.py, written for this harness) run
under these runtimes in one go:

  native  Debian's /usr/bin/python3.11 (-I: no user site, no PYTHON* vars)
  node    build/python/python.wasm under Node's node:wasi
          (guest/python/node-python.mjs), V8's JIT compiling the wasm
  interp  the same python.wasm under `build/pylon run --engine interp`,
          Pylon's interpreter
  aot     the same under `build/pylon run --engine aot`: python.wasm
          compiled ahead of time to native code (wasm2c + clang-19; the
          warm-up run compiles it once if no artifact exists yet)

plus startup alone (`-c pass`).  The wasm runtimes execute the very same
python.wasm and stdlib, so between them only the WebAssembly engine and the
WASI layer differ; against native, the compiler and the platform differ too
(native CPython is Debian's -O3 build with computed gotos; the wasm one is
clang -O2 for MVP wasm, without them).

Each program prints "result ..." (must be identical everywhere, else the
run fails) and "seconds S", its own timing of the work, startup excluded.
For every (workload, runtime) the harness keeps the best of --reps runs
(wall clock of the whole process, and the program's own seconds); ratios
are runtime / native, i.e. how many times slower than native.

  bench/python/bench.py [--reps N] [--only a,b] [--runtimes native,node,interp,aot]
                        [--quick] [--markdown]
  make bench-python                      (mk/python-bench.mk)
"""
import argparse
import math
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# name -> (script, argument for a full run, argument for --quick)
WORKLOADS = {
    "startup": (None, None, None),
    "fib": ("fib.py", "28", "15"),
    "json": ("json_rt.py", "20", "1"),
    "regex": ("regex.py", "2", "1"),
    "nbody": ("nbody.py", "10000", "100"),
}


def command(runtime, script, arg, args):
    """The argv that runs `script arg` (or `-c pass` when script is None)."""
    py = ["-c", "pass"] if script is None else None
    if runtime == "native":
        return [args.native, "-I"] + (py or [os.path.join(HERE, script), arg])
    if runtime == "node":
        base = ["node", os.path.join(ROOT, "guest/python/node-python.mjs"),
                "--build", args.build, "--dir", HERE + ":/bench", "--"]
        return base + (py or ["/bench/" + script, arg])
    base = [args.pylon, "run", "--python", os.path.join(args.build, "python.wasm"),
            "--engine", runtime]
    return base + (py or [os.path.join(HERE, script), arg])


def run_once(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr[-2000:]}")
    result, inner = None, None
    for line in p.stdout.splitlines():
        if line.startswith("result "):
            result = line[7:]
        elif line.startswith("seconds "):
            inner = float(line[8:])
    return wall, inner, result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="runs per cell; the best counts (default 3)")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--runtimes", default="native,node,interp,aot")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one run: checks only")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--build", default=os.path.join(ROOT, "build/python"))
    ap.add_argument("--pylon", default=os.path.join(ROOT, "build/pylon"))
    ap.add_argument("--native", default="/usr/bin/python3.11")
    args = ap.parse_args()
    names = args.only.split(",") if args.only else list(WORKLOADS)
    runtimes = args.runtimes.split(",")
    for n in names:
        if n not in WORKLOADS:
            ap.error(f"unknown workload {n}")
    for r in runtimes:
        if r not in ("native", "node", "interp", "aot"):
            ap.error(f"unknown runtime {r}")
    if "native" not in runtimes:
        ap.error("ratios need the native runtime")
    if "node" in runtimes and not shutil.which("node"):
        ap.error("node is not installed (or leave it out: --runtimes native,interp,aot)")
    reps = 1 if args.quick else args.reps

    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {os.cpu_count()} cpus  "
          f"load {' '.join(f'{x:.1f}' for x in os.getloadavg())}  reps {reps}"
          f"{'  QUICK' if args.quick else ''}", flush=True)
    # One untimed run per runtime first: file caches, and the AOT artifact
    # (compiled here, once, when none exists for this python.wasm).
    for rt in runtimes:
        try:
            run_once(command(rt, None, None, args))
        except RuntimeError as e:
            sys.exit(f"warm-up under {rt} failed: {e}")
    rows = []
    failed = False
    for name in names:
        script, full, quick = WORKLOADS[name]
        arg = quick if args.quick else full
        best = {}
        results = {}
        # Runtimes alternate inside each repetition, so that a burst of load
        # from a neighbour hits all of them rather than skewing one.
        try:
            for _ in range(reps):
                for rt in runtimes:
                    wall, inner, result = run_once(command(rt, script, arg, args))
                    w, i = best.get(rt, (float("inf"), float("inf")))
                    best[rt] = (min(w, wall), min(i, inner) if inner is not None else None)
                    results.setdefault(rt, result)
                    if results[rt] != result:
                        raise RuntimeError(f"{name} under {rt}: result changed between runs")
        except RuntimeError as e:
            print(f"FAILED {name}: {e}", flush=True)
            failed = True
            continue
        if len(set(results.values())) != 1:
            print(f"FAILED {name}: results differ: {results}", flush=True)
            failed = True
            continue
        rows.append((name, arg, best))
        cells = "  ".join(f"{rt} {best[rt][0]:.3f}s" for rt in runtimes)
        print(f"ok {name} ({arg}): {cells}", flush=True)

    # The table: per runtime the best wall time and, for workloads, the
    # program's own time; then both as multiples of native.
    others = [r for r in runtimes if r != "native"]
    hdr = ["workload", "arg", "native s"] + [f"{r} s" for r in others] + \
          [f"{r}/native" for r in others]
    lines = []
    for name, arg, best in rows:
        key = 0 if name == "startup" else 1   # startup: wall; workloads: their own time
        nat = best["native"][key]
        cells = [name, arg or "-c pass", f"{nat:.3f}"]
        cells += [f"{best[r][key]:.3f}" for r in others]
        cells += [f"{best[r][key] / nat:.1f}x" for r in others]
        lines.append(cells)
    print()
    print("startup: wall clock of `-c pass`; workloads: the program's own seconds "
          "(startup excluded); best of", reps)
    if args.markdown:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "|".join("---" for _ in hdr) + "|")
        for c in lines:
            print("| " + " | ".join(c) + " |")
    else:
        widths = [max(len(h), *(len(c[i]) for c in lines)) if lines else len(h)
                  for i, h in enumerate(hdr)]
        print("  ".join(h.rjust(w) for h, w in zip(hdr, widths)))
        for c in lines:
            print("  ".join(x.rjust(w) for x, w in zip(c, widths)))
    # one figure per runtime: the geometric mean over the workloads (startup
    # apart), so that no single program dominates
    work = [(name, best) for name, _, best in rows if name != "startup"]
    if work:
        print()
        for r in others:
            g = math.exp(sum(math.log(b[r][1] / b["native"][1]) for _, b in work) / len(work))
            print(f"geomean {r}/native over {len(work)} workloads: {g:.1f}x")
    # whole-process wall times too (startup included), for the record
    print()
    print("wall clock of the whole process (startup included), best of", reps)
    for name, arg, best in rows:
        print(f"  {name:8s} " + "  ".join(f"{r} {best[r][0]:.3f}s" for r in runtimes))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
