#!/usr/bin/env bash
# tests/fuzz/run.sh [seconds] — fuzzes the engine with libFuzzer.
#
# Builds build/fuzz/fuzz_engine (make fuzz), seeds it once with every module
# of the spec testsuite (converted by wast2json into build/fuzz/seeds, so
# the fuzzer starts from valid, feature-rich modules instead of noise) and
# runs it for the given time (default 60 s).  New interesting inputs
# accumulate in build/fuzz/corpus across runs; a crash, leak or sanitizer
# report stops the run, leaves the input in build/fuzz/artifacts/ and makes
# this script exit non-zero.  Reproduce one with:
#   build/fuzz/fuzz_engine build/fuzz/artifacts/crash-<sha>
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
case $secs in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [seconds]" >&2; exit 2 ;; esac
root=$PWD
suite=${PYLON_SPEC_DIR:-$root/../shared/wasm-testsuite}

make -s -j2 fuzz

seeds=build/fuzz/seeds
if [ ! -f "$seeds/.complete" ]; then
  command -v wast2json >/dev/null || { echo "wast2json not found: apt-get install wabt" >&2; exit 1; }
  [ -d "$suite" ] || { echo "testsuite not found at $suite (set PYLON_SPEC_DIR)" >&2; exit 1; }
  rm -rf "$seeds"; mkdir -p "$seeds"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  for w in "$suite"/*.wast; do
    # wast2json may print warnings for valid scripts (see cmd_wast.c); the
    # .wasm files it writes are what matters here.
    wast2json --enable-all "$w" -o "$tmp/s.json" >/dev/null 2>&1 || true
    for m in "$tmp"/*.wasm; do
      [ -f "$m" ] || continue
      # Named by content so that identical modules collapse into one seed.
      mv "$m" "$seeds/$(sha1sum "$m" | cut -c1-40)"
    done
    rm -f "$tmp"/*
  done
  touch "$seeds/.complete"
fi
echo "fuzz: $(find "$seeds" -type f ! -name .complete | wc -l) seed modules, running ${secs}s"

mkdir -p build/fuzz/corpus build/fuzz/artifacts
exec build/fuzz/fuzz_engine build/fuzz/corpus "$seeds" \
  -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
  -artifact_prefix=build/fuzz/artifacts/ -print_final_stats=1
