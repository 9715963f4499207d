#!/usr/bin/env bash
# tests/groups/80-fuzz.sh — a short libFuzzer run over the engine.
#
# 30 seconds keeps CI fast while still replaying the whole seed corpus (every
# testsuite module) under ASan+UBSan with leak checks; longer runs are for
# people: tests/fuzz/run.sh 600.  FUZZ_SECONDS overrides the duration.
set -uo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp)
tests/fuzz/run.sh "${FUZZ_SECONDS:-30}" >"$log" 2>&1
rc=$?
# libFuzzer is chatty; show the end (stats or the crash report).
grep -E '^(fuzz:|Done|stat::|INFO: (Running|Loaded|seed corpus))|==ERROR|SUMMARY|artifact|Test unit written' "$log" | head -40
if [ "$rc" -eq 0 ]; then
  echo "RESULT 1 0"
else
  echo "fuzzer failed (exit $rc); last lines:"; tail -40 "$log"
  echo "RESULT 0 1"
fi
rm -f "$log"
[ "$rc" -eq 0 ]
