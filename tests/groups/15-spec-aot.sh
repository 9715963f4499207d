#!/usr/bin/env bash
# tests/groups/15-spec-aot.sh — the same testsuite through the AOT tier.
#
# Every module is compiled with wasm2c + clang-19 (artifacts are cached by
# digest under $PYLON_CACHE_DIR, so a rerun only compiles what changed).
# What the tier cannot do is skipped only under the category listed in
# tests/spec-exclusions.txt (aot-unsupported), plus the aot:FILE:LINE
# entries there (signalling NaNs that clang folds away).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/spec-files.sh
SPEC_WAST_ARGS="--engine aot" spec_run build/pylon
spec_result
[ "$SPEC_FAIL" -eq 0 ]
