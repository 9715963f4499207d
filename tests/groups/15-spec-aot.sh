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
# Machines without user-space FSGSBASE get artifacts that use wasm2c's own
# memory helpers instead of Segue (aot_inject.h): the memory files again,
# built that way (a separate cache key).
for f in address memory memory_trap memory_redundancy memory_grow float_memory bulk; do
  out=$(PYLON_AOT_SEGUE=0 build/pylon wast --engine aot "$SPEC_DIR/$f.wast" 2>&1)
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
  p=$(cut -d' ' -f1 <<<"$line"); x=$(cut -d' ' -f3 <<<"$line")
  if [ -n "$line" ] && [ "$x" = 0 ]; then SPEC_PASS=$((SPEC_PASS + p)); echo "$f (no Segue): $p passed"
  else SPEC_FAIL=$((SPEC_FAIL + ${x:-1})); echo "$f (no Segue): FAILED"; grep -v '^ok' <<<"$out" | head -5; fi
done
spec_result
[ "$SPEC_FAIL" -eq 0 ]
