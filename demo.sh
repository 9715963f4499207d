#!/usr/bin/env bash
# Pylon's main job on its built-in default: a Python script that uses a
# capability, run in the sandbox.  It installs what it needs, builds
# (the first run builds CPython for wasm: several minutes), then:
#   1. puts two providers of the crc32c cap in a fresh blob store and
#      trusts them; writes a plan that maps "crc32c" to the first;
#   2. runs examples/demo/demo.py under `pylon run --plan`;
#   3. swaps the provider by editing the plan only, and runs it again:
#      same answers, the new digest in the audit log, python.wasm unchanged.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
say() { echo "demo: $*" >&2; }
say "building pylon"
make -s -j"$(nproc)" >/dev/null
say "building python.wasm and its native code (make python; first time only, several minutes)"
make -s python
make -s caps >/dev/null
P=build/pylon
export PYLON_HOME; PYLON_HOME=$(mktemp -d /tmp/pylon-demo.XXXXXX)
trap 'rm -rf "$PYLON_HOME"' EXIT
PLAN=$PYLON_HOME/plan.json
say "blob store and trust store in $PYLON_HOME"
$P blob add build/caps/crc32c/table.wasm build/caps/crc32c/wide16.wasm
$P trust allow build/caps/crc32c/table.wasm build/caps/crc32c/wide16.wasm >/dev/null
$P plan create "$PLAN" >/dev/null
$P plan add "$PLAN" crc32c --blob build/caps/crc32c/table.wasm --methods crc32c,extend,info >/dev/null
py_digest=$(sha256sum build/python/python.wasm | cut -c1-16)

echo; echo "== run 1: the plan maps crc32c to the table provider"
$P run --plan "$PLAN" examples/demo/demo.py
echo; echo "== the provider is swapped by editing the plan only"
$P plan set-digest "$PLAN" crc32c build/caps/crc32c/wide16.wasm
echo; echo "== run 2: same python.wasm, same script, the new provider"
$P run --plan "$PLAN" examples/demo/demo.py
echo
echo "python.wasm sha256 before and after: $py_digest… / $(sha256sum build/python/python.wasm | cut -c1-16)…"
echo "the audit log's resolves (each entry chained to the previous by hash):"
grep '"event":"resolve"' "$PYLON_HOME/audit.log" | sed 's/.*"digest":"\(sha256:[0-9a-f]\{16\}\)[^"]*".*"outcome":"\([a-z]*\)".*/  resolve crc32c -> \1… \2/'
$P trust audit verify >/dev/null && echo "audit chain: intact"
