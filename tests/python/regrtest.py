#!/usr/bin/python3.11
"""tests/python/regrtest.py: CPython's own regression tests under Pylon, against Node.

CPython's regrtest (`python -m test`, from build/python/testlib, the Lib/test
of the very source python.wasm was built from) runs one module per process
under a WASI runtime; the per-test outcomes come from regrtest's
--junit-xml report.  Two runtimes run the same python.wasm:

  pylon   build/pylon run (--engine interp or aot, or whatever auto picks)
  node    guest/python/node-python.mjs (Node's node:wasi)

Node is the reference.  Its results are recorded in a checked-in file
(tests/python/node-expected.txt, written by `regrtest.py expect`), so CI
compares against them without running Node.  The rule, per module: every
test that passes under Node must pass under Pylon; a module that passes
under Node must pass under Pylon; and Pylon must run as many tests as Node
did (a test cannot vanish).  Pylon passing where Node fails is reported,
not counted as a failure.

  regrtest.py run    [--engine E] [--jobs N] [--full] [--keep DIR] [MODULE...]
      run under Pylon, compare with the expectation file; prints one
      "ok"/"FAIL" line per module and "COUNTS <passed> <failed>" last;
      exit status 1 if any module failed
  regrtest.py expect [--jobs N] [--full] [MODULE...]
      run under Node and (re)write the expectation file
  regrtest.py node   [--jobs N] [--full] [MODULE...]
      run under Node now and compare Pylon's run with that (both live)

The module list is tests/python/modules.txt.  By default the individual
test cases named in tests/python/ci-ignore.txt are left out (the slowest
ones under Pylon's interpreter, so that CI fits its time budget); --full
runs everything, against tests/python/node-expected-full.txt.

What the guest sees, under both runtimes: the stdlib at /usr/lib (read-only
under Pylon), the test package at its real host path on PYTHONPATH (Pylon:
`--path`), and a fresh writable temp directory as "/" with an empty tmp/
inside: regrtest makes its working directory under tempfile.gettempdir()
(/tmp), chdirs into it and back to "/" at the end, and WASI has no "/"
unless something is mounted there.  PYTHONDONTWRITEBYTECODE=1 on both: Node
cannot mount the test package read-only, and nothing may be written into it.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("PYLON_PYTHON_BUILD", os.path.join(ROOT, "build/python"))
PYLON = os.environ.get("PYLON_BIN", os.path.join(ROOT, "build/pylon"))
MODULES = os.path.join(HERE, "modules.txt")
CI_IGNORE = os.path.join(HERE, "ci-ignore.txt")
EXPECTED = {False: os.path.join(HERE, "node-expected.txt"),
            True: os.path.join(HERE, "node-expected-full.txt")}
TIMEOUT = int(os.environ.get("REGRTEST_TIMEOUT", "900"))   # seconds per module


def read_list(path):
    """Lines of a list file without comments and blanks."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def command(runtime, work, engine, ignore):
    testlib = os.path.realpath(os.path.join(BUILD, "testlib"))
    args = ["-m", "test", "--junit-xml", "/junit.xml"]
    if ignore:
        args += ["--ignorefile", "/ignore.txt"]
    if runtime == "pylon":
        cmd = [PYLON, "run", "--python", os.path.join(BUILD, "python.wasm"),
               "--path", testlib, "--dir", work + "::/",
               "--env", "PYTHONDONTWRITEBYTECODE=1"]
        if engine:
            cmd += ["--engine", engine]
        return cmd + args
    return ["node", os.path.join(ROOT, "guest/python/node-python.mjs"), "--build", BUILD,
            "--dir", testlib + ":" + testlib, "--dir", work + ":/",
            "--env", "PYTHONPATH=" + testlib, "--env", "PYTHONDONTWRITEBYTECODE=1", "--"] + args


def outcome(tc):
    """A <testcase> of regrtest's junit XML -> ok/skip/fail/error/xfail/xpass."""
    tags = {c.tag for c in tc}
    if "error" in tags:
        return "error"
    if "failure" in tags:
        return "fail"
    if "skipped" in tags:
        return "skip"
    if "output" in tags:
        return "xfail"
    if "outcome" in tags:
        return "xpass"
    return "ok"


def run_module(runtime, module, engine, ignore, keep):
    """Runs one regrtest module; returns a result dict."""
    work = tempfile.mkdtemp(prefix=f"pylon-regrtest-{module}-")
    os.mkdir(os.path.join(work, "tmp"))
    if ignore:
        with open(os.path.join(work, "ignore.txt"), "w") as f:
            f.write("\n".join(ignore) + "\n")
    cmd = command(runtime, work, engine, ignore) + [module]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        rc, out = p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode("utf-8", "replace")
    secs = time.monotonic() - t0
    tests = {}
    xml = os.path.join(work, "junit.xml")
    if os.path.exists(xml):
        try:
            for tc in ET.parse(xml).getroot().iter("testcase"):
                name = tc.get("name")
                if name:
                    # a failing subtest reports on the same test id: keep the worst
                    o = outcome(tc)
                    if tests.get(name) in ("fail", "error") and o == "ok":
                        continue
                    tests[name] = o
        except ET.ParseError:
            pass
    if rc == 0 and re.search(r"^\S+ skipped", out, re.M) and not tests:
        status = "skipped"          # the whole module was skipped (e.g. a missing resource)
    elif rc == 0:
        status = "pass"
    elif rc == 2 and "Tests result: FAILURE" in out:
        status = "fail"             # regrtest's own verdict: some test failed
    else:
        status = "crash"            # a trap (pylon exits 4), a timeout, a python that died
    if keep:
        os.makedirs(keep, exist_ok=True)
        with open(os.path.join(keep, f"{module}.{runtime}.out"), "w") as f:
            f.write(" ".join(cmd) + f"\n# exit {rc}, {secs:.1f}s\n" + out)
        if os.path.exists(xml):
            shutil.copy(xml, os.path.join(keep, f"{module}.{runtime}.xml"))
    shutil.rmtree(work, ignore_errors=True)
    return {"module": module, "status": status, "rc": rc, "secs": secs, "tests": tests,
            "tail": out[-3000:]}


def run_all(runtime, modules, engine, ignore, jobs, keep, on_done=None):
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(run_module, runtime, m, engine, ignore, keep): m for m in modules}
        for fut in concurrent.futures.as_completed(futs):
            r = fut.result()
            results[r["module"]] = r
            if on_done:
                on_done(r)
    return results


def counts(tests):
    c = {}
    for o in tests.values():
        c[o] = c.get(o, 0) + 1
    return c


def fmt_counts(tests):
    c = counts(tests)
    return f"run={len(tests)} " + " ".join(f"{k}={c.get(k, 0)}"
                                         for k in ("ok", "skip", "fail", "error", "xfail", "xpass"))


# ---- the expectation file ----------------------------------------------------
# module <name> <status> run=N ok=N skip=N fail=N error=N xfail=N xpass=N
#   <outcome> <test id>          (one line per test that is not "ok")

def write_expected(path, results, header):
    with open(path, "w") as f:
        f.write(header)
        for m in sorted(results):
            r = results[m]
            f.write(f"module {m} {r['status']} {fmt_counts(r['tests'])}\n")
            for name in sorted(r["tests"]):
                if r["tests"][name] != "ok":
                    f.write(f"  {r['tests'][name]} {name}\n")


def read_expected(path):
    exp = {}
    cur = None
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith("module "):
                parts = line.split()
                cur = exp[parts[1]] = {"status": parts[2], "nonok": {},
                                       "run": int(parts[3].split("=")[1])}
            else:
                o, name = line.split(None, 1)
                cur["nonok"][name.strip()] = o
    return exp


def compare(r, exp):
    """Problems of Pylon's result r against Node's expectation; and notes."""
    problems, notes = [], []
    if exp is None:
        return [f"no Node expectation for {r['module']} (regenerate: regrtest.py expect)"], notes
    if exp["status"] == "pass" and r["status"] != "pass":
        problems.append(f"module {r['status']} under Pylon (exit {r['rc']}), passes under Node")
    elif exp["status"] != r["status"]:
        notes.append(f"module {r['status']} under Pylon, {exp['status']} under Node")
    worse = [(n, o) for n, o in r["tests"].items() if o != "ok" and n not in exp["nonok"]]
    for n, o in sorted(worse):
        problems.append(f"{o} under Pylon, ok under Node: {n}")
    if r["status"] != "crash" and len(r["tests"]) != exp["run"]:
        problems.append(f"{len(r['tests'])} tests ran under Pylon, {exp['run']} under Node "
                        "(if python.wasm, the test list or ci-ignore.txt changed on purpose: "
                        "tests/python/regrtest.py expect)")
    better = [n for n, o in exp["nonok"].items() if r["tests"].get(n) == "ok"]
    if better:
        notes.append(f"{len(better)} pass under Pylon that do not under Node: " +
                     ", ".join(sorted(better)[:6]) + (" ..." if len(better) > 6 else ""))
    return problems, notes


def tests_as_expectation(r):
    return {"status": r["status"], "run": len(r["tests"]),
            "nonok": {n: o for n, o in r["tests"].items() if o != "ok"}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["run", "expect", "node"])
    ap.add_argument("modules", nargs="*")
    ap.add_argument("--engine", choices=["interp", "aot", "auto"],
                    help="Pylon's engine (default: pylon's own default)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("REGRTEST_JOBS", "2")))
    ap.add_argument("--full", action="store_true", help="no deselected tests (ci-ignore.txt)")
    ap.add_argument("--keep", metavar="DIR", help="keep every module's output and XML in DIR")
    args = ap.parse_intermixed_args()

    modules = args.modules or read_list(MODULES)
    ignore = [] if args.full else read_list(CI_IGNORE)
    for f in (os.path.join(BUILD, "python.wasm"), os.path.join(BUILD, "testlib/test/__init__.py")):
        if not os.path.exists(f):
            sys.exit(f"regrtest.py: {f} is missing; run `make python`")
    t0 = time.monotonic()

    if args.what == "expect":
        node_v = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"running {len(modules)} modules under Node {node_v} ({args.jobs} at a time)", flush=True)
        res = run_all("node", modules, None, ignore, args.jobs, args.keep,
                      lambda r: print(f"  {r['module']}: {r['status']} {fmt_counts(r['tests'])} "
                                      f"({r['secs']:.0f}s)", flush=True))
        path = EXPECTED[args.full]
        old = read_expected(path) if os.path.exists(path) and args.modules else {}
        keep = {m: None for m in old if m not in res}
        src = open(os.path.join(BUILD, "python.wasm.txt")).read().split("\n")[1]
        header = ("# CPython regrtest results under Node's node:wasi: the reference for\n"
                  "# tests/python/regrtest.py run (tests/groups/30-python.sh).  Generated by\n"
                  f"#   tests/python/regrtest.py expect{' --full' if args.full else ''}\n"
                  f"# on {time.strftime('%Y-%m-%d')} with Node {node_v}, python.wasm built from\n"
                  f"# {src.split(':', 1)[1].strip()}\n"
                  f"# {'all tests' if args.full else 'minus the tests in ci-ignore.txt'}; "
                  "lines under a module: the tests that are not ok.\n")
        if keep:
            # partial regeneration: keep the other modules' recorded results verbatim
            with open(path) as f:
                text = f.read()
            kept = {m.group(1): m.group(0)
                    for m in re.finditer(r"^module (\S+) .*\n(?:  .*\n)*", text, re.M)}
            write_expected(path, res, header)
            with open(path, "a") as f:
                for m in sorted(keep):
                    f.write(kept[m])
        else:
            write_expected(path, res, header)
        print(f"wrote {os.path.relpath(path, ROOT)} ({time.monotonic() - t0:.0f}s)")
        return

    if args.what == "node":
        print(f"running {len(modules)} modules under Node first", flush=True)
        nres = run_all("node", modules, None, ignore, args.jobs, args.keep)
        expected = {m: tests_as_expectation(r) for m, r in nres.items()}
    else:
        path = EXPECTED[args.full]
        if not os.path.exists(path):
            sys.exit(f"regrtest.py: no {os.path.relpath(path, ROOT)}; run `tests/python/regrtest.py expect"
                     f"{' --full' if args.full else ''}` (needs node)")
        expected = read_expected(path)

    passed = failed = 0

    def report(r):
        nonlocal passed, failed
        problems, notes = compare(r, expected.get(r["module"]))
        e = expected.get(r["module"])
        side = f"pylon {r['status']} {fmt_counts(r['tests'])}; node {e['status'] if e else '?'}"
        if problems:
            failed += 1
            print(f"FAIL {r['module']}: {side} ({r['secs']:.0f}s)", flush=True)
            for p in problems[:20]:
                print(f"     {p}")
            if len(problems) > 20:
                print(f"     ... and {len(problems) - 20} more")
            if r["status"] in ("crash", "fail"):
                for line in r["tail"].splitlines()[-15:]:
                    print(f"     | {line}")
        else:
            passed += 1
            print(f"ok   {r['module']}: {side} ({r['secs']:.0f}s)", flush=True)
        for n in notes:
            print(f"     note: {n}")

    eng = args.engine or "default"
    print(f"running {len(modules)} modules under Pylon (engine {eng}, {args.jobs} at a time"
          f"{', full' if args.full else f', {len(ignore)} slow tests left out'})", flush=True)
    run_all("pylon", modules, args.engine, ignore, args.jobs, args.keep, report)
    print(f"regrtest under Pylon: {passed} modules agree with Node, {failed} do not "
          f"({time.monotonic() - t0:.0f}s)")
    print(f"COUNTS {passed} {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
