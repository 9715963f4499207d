#!/usr/bin/env bash
# tests/groups/10-spec.sh — the official WebAssembly testsuite, minus SIMD.
#
# Runs `build/pylon wast` over every non-SIMD .wast in the shared testsuite
# (the engine's acceptance test) and checks that SIMD is refused loudly.
# What may be skipped is listed in tests/spec-exclusions.txt, nowhere else.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/spec-files.sh
spec_run build/pylon
spec_simd_refused build/pylon
spec_result
[ "$SPEC_FAIL" -eq 0 ]
