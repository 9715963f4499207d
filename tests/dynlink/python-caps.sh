#!/usr/bin/env bash
# python-caps.sh — builds a private python.wasm that has the crc32c cap's
# extension module (_crc32c_dynlink_cap) built in, in build/python-caps/.
#
# Why a private build: the shared build (guest/python/build.sh) refuses any
# import other than wasi_snapshot_preview1, and every host that runs the
# shared python.wasm (pylon run without a plan, node-python.mjs) would have
# to provide compose:dynlink/linker@0.1.0 once the module is in.  Until the
# owners of guest/python/ and `pylon run` take that step (see
# docs/dynlink.md, "Python"), this script builds the same sources with the
# one Setup.local line added, from a copy of guest/python/ whose import
# check also accepts the linker, so the Python side can be tested now.
# It changes nothing outside build/.
#
#   tests/dynlink/python-caps.sh [--force]     about 3 minutes the first time
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHADOW=$ROOT/build/python-caps-src
OUT=$ROOT/build/python-caps
LINE='_crc32c_dynlink_cap @PYLON_ROOT@/caps/crc32c/ext/_crc32c_dynlink_cap.c @PYLON_ROOT@/guest/sdk/dynlink.c -I@PYLON_ROOT@/guest/sdk'

mkdir -p "$SHADOW/guest/python" "$OUT"
ln -sfn "$ROOT/guest/sdk" "$SHADOW/guest/sdk"
ln -sfn "$ROOT/caps" "$SHADOW/caps"
# Everything else in guest/python/ is used as it is (build.sh finds its
# helper files next to itself).
for f in "$ROOT"/guest/python/*; do
  case $(basename "$f") in build.sh|Setup.local) ;; *) ln -sfn "$f" "$SHADOW/guest/python/$(basename "$f")" ;; esac
done
{ cat "$ROOT/guest/python/Setup.local"; echo "$LINE"; } >"$SHADOW/guest/python/Setup.local.new"
cmp -s "$SHADOW/guest/python/Setup.local.new" "$SHADOW/guest/python/Setup.local" 2>/dev/null ||
  mv "$SHADOW/guest/python/Setup.local.new" "$SHADOW/guest/python/Setup.local"
rm -f "$SHADOW/guest/python/Setup.local.new"
# The import check also accepts the linker; node:wasi has no linker, so the
# node smoke test is skipped (the dynlink tests run this python.wasm).
sed -e "s|grep -v '^wasi_snapshot_preview1\\\\.'|grep -v -e '^wasi_snapshot_preview1\\\\.' -e '^compose:dynlink/linker@0\\\\.1\\\\.0\\\\.'|" \
    -e 's|^if command -v node >/dev/null; then|if false; then|' \
    -e "s|echo \"\$imports\" \| sed 's/^wasi_snapshot_preview1\\\\.//'|echo \"\$imports\" \| grep '^wasi_snapshot_preview1\\\\.' \| sed 's/^wasi_snapshot_preview1\\\\.//'|" \
    "$ROOT/guest/python/build.sh" >"$SHADOW/guest/python/build.sh.new"
grep -q "compose:dynlink" "$SHADOW/guest/python/build.sh.new" || {
  echo "python-caps: guest/python/build.sh changed shape; the import check could not be patched" >&2; exit 1; }
cmp -s "$SHADOW/guest/python/build.sh.new" "$SHADOW/guest/python/build.sh" 2>/dev/null ||
  mv "$SHADOW/guest/python/build.sh.new" "$SHADOW/guest/python/build.sh"
rm -f "$SHADOW/guest/python/build.sh.new"
chmod +x "$SHADOW/guest/python/build.sh"
# Reuse the shared build's downloads: same pins, same digests (checked again).
if [ -d "$ROOT/build/python/dl" ] && [ ! -d "$OUT/dl" ]; then cp -r "$ROOT/build/python/dl" "$OUT/dl"; fi
PYLON_PYTHON_BUILD_DIR=$OUT "$SHADOW/guest/python/build.sh" "$@"
imports=$(wasm-objdump -x -j Import "$OUT/python.wasm")   # (not piped into grep -q: pipefail + SIGPIPE)
grep -q 'compose:dynlink/linker@0.1.0' <<<"$imports" ||
  { echo "python-caps: $OUT/python.wasm does not import the linker" >&2; exit 1; }
echo "python-caps: $OUT/python.wasm has _crc32c_dynlink_cap"
