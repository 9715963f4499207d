#!/usr/bin/env bash
# tests/groups/90-sanitizers.sh — the spec run again, under ASan + UBSan.
#
# The spec scripts reach most of the engine (decoder, validator, every
# instruction, traps, linking), so running them on the `make SAN=1` build
# catches memory errors, leaks and undefined behaviour that still give the
# right answers in the plain build.  Same files and pass/fail rules as
# 10-spec; a sanitizer report anywhere fails that file.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/spec-files.sh
log=$(mktemp)
if ! make SAN=1 -j2 -s >"$log" 2>&1; then
  echo "make SAN=1 failed:"; tail -30 "$log"; rm -f "$log"
  echo "RESULT 0 1"; exit 1
fi
rm -f "$log"
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
SPEC_TIMEOUT=${SPEC_TIMEOUT:-600} spec_run build-san/pylon
spec_result
[ "$SPEC_FAIL" -eq 0 ]
