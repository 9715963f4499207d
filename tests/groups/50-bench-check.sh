#!/usr/bin/env bash
# 50-bench-check — keeps the benchmark honest in CI: builds bench/ and runs
# `build/bench/bench --quick`, which runs every workload once natively and
# once under the engine at a small n and requires equal checksums.  No
# timing is checked (that would flake on a shared machine); one pass or
# fail per workload.  The full timed run is `make bench`.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}

if ! make -s -j2 bench-build; then
  echo "bench: build failed"
  echo "RESULT 0 1"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The runner's own watchdog interrupts a looping engine call; the outer
# timeout is for a hang outside the engine's reach (e.g. in the loader).
timeout 600 "$build/bench/bench" --quick --timeout 60 >"$log" 2>&1
rc=$?
cat "$log"
pass=$(grep -c '^ok ' "$log")
fail=$(grep -c '^FAILED' "$log")
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
  echo "bench --quick exited with status $rc without a FAILED line"
  fail=1
fi
if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
  echo "bench --quick ran no workload"
  fail=1
fi
echo "RESULT $pass $fail"
