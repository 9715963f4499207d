# tests/lib/spec-files.sh — the spec-testsuite loop the test groups share.
#
# 10-spec (plain build) and 90-sanitizers (ASan+UBSan build) run the same
# files with the same pass/fail rules; keeping the loop here means the two
# can never drift apart.  Source it, then:
#   spec_files                  the non-SIMD .wast files, one per line
#   spec_run BINARY             runs `BINARY wast` on each, prints per-file
#                               counts and failures, adds to SPEC_PASS/SPEC_FAIL
#   spec_result                 prints "RESULT <passed> <failed>"
# Environment: PYLON_ROOT (set by tests/run.sh), PYLON_SPEC_DIR (the
# testsuite; default $PYLON_ROOT/../shared/wasm-testsuite), SPEC_TIMEOUT
# (seconds per file, default 300), SPEC_WAST_ARGS (extra `wast` options, e.g.
# "--engine aot").

: "${PYLON_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export PYLON_ROOT
SPEC_DIR=${PYLON_SPEC_DIR:-$PYLON_ROOT/../shared/wasm-testsuite}
SPEC_PASS=0
SPEC_FAIL=0
SPEC_SKIP=0

# SIMD is not supported by Pylon, so simd_*.wast cannot pass by design.
spec_files() {
  local f
  for f in "$SPEC_DIR"/*.wast; do
    case ${f##*/} in simd_*) ;; *) [ -f "$f" ] && echo "$f" ;; esac
  done
}

# Lines a sanitizer prints when it finds something; any of them fails the
# file even if every assertion passed.
SPEC_SANITIZER_RE='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'

spec_run() {
  local bin=$1 f name out rc summary p x s extra nfiles=0
  if [ ! -x "$bin" ]; then
    echo "spec: $bin is missing; build it first (make)"; SPEC_FAIL=$((SPEC_FAIL + 1)); return
  fi
  if [ ! -d "$SPEC_DIR" ]; then
    echo "spec: testsuite not found at $SPEC_DIR (set PYLON_SPEC_DIR)"; SPEC_FAIL=$((SPEC_FAIL + 1)); return
  fi
  out=$(mktemp)
  while read -r f; do
    name=${f##*/}
    nfiles=$((nfiles + 1))
    # shellcheck disable=SC2086 # SPEC_WAST_ARGS is a list of options
    timeout "${SPEC_TIMEOUT:-300}" "$bin" wast ${SPEC_WAST_ARGS:-} "$f" >"$out" 2>&1 </dev/null
    rc=$?
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$out" | tail -1)
    extra=0
    if [ -n "$summary" ]; then
      p=$(echo "$summary" | cut -d' ' -f1)
      x=$(echo "$summary" | cut -d' ' -f3)
      s=$(echo "$summary" | sed -n 's/.*, \([0-9]*\) skipped$/\1/p')
      s=${s:-0}
    else
      p=0; x=0; s=0; extra=1
      if [ "$rc" -eq 124 ]; then echo "$name: timed out after ${SPEC_TIMEOUT:-300}s"
      else echo "$name: no summary line (exit status $rc; crashed?)"; fi
    fi
    if grep -qE "$SPEC_SANITIZER_RE" "$out"; then
      echo "$name: sanitizer report (below)"
      extra=1
    elif [ -n "$summary" ] && [ "$rc" -ne 0 ] && [ "$x" -eq 0 ]; then
      echo "$name: exit status $rc although no failure was reported"
      extra=1
    fi
    if [ "$x" -gt 0 ] || [ "$extra" -gt 0 ]; then
      # The failure lines themselves (everything but the summary), capped so
      # one broken file cannot bury the others.
      grep -vE '^[0-9]+ passed, [0-9]+ failed' "$out" | head -"${SPEC_MAX_LINES:-40}" | sed 's/^/  /'
      local total
      total=$(grep -vcE '^[0-9]+ passed, [0-9]+ failed' "$out")
      [ "$total" -gt "${SPEC_MAX_LINES:-40}" ] && echo "  ... $((total - ${SPEC_MAX_LINES:-40})) more lines"
    fi
    x=$((x + extra))
    printf '%-34s %6d passed %5d failed %5d skipped\n' "$name" "$p" "$x" "$s"
    SPEC_PASS=$((SPEC_PASS + p)); SPEC_FAIL=$((SPEC_FAIL + x)); SPEC_SKIP=$((SPEC_SKIP + s))
  done < <(spec_files)
  rm -f "$out"
  echo "spec ($bin): $nfiles files, $SPEC_PASS passed, $SPEC_FAIL failed, $SPEC_SKIP skipped"
}

spec_result() {
  echo "RESULT $SPEC_PASS $SPEC_FAIL"
}

# Pylon refuses SIMD; this proves the refusal is loud (the load error says
# "SIMD is not supported") and is never counted as a pass.  The testsuite's
# non-SIMD files contain no SIMD, so a small script of our own exercises it.
# Counts as one assertion.
spec_simd_refused() {
  local bin=$1 dir out rc
  dir=$(mktemp -d)
  cat >"$dir/simd-refused.wast" <<'WAST'
(module (func (export "f") (result i32) (drop (v128.const i64x2 0 0)) (i32.const 1)))
(assert_return (invoke "f") (i32.const 1))
WAST
  out=$("$bin" wast "$dir/simd-refused.wast" 2>&1 </dev/null)
  rc=$?
  rm -rf "$dir"
  if [ "$rc" -eq 1 ] && grep -q 'SIMD is not supported' <<<"$out" && grep -qxE '0 passed, 2 failed' <<<"$out"; then
    echo "simd: a module using v128 is refused with \"SIMD is not supported\" and counts as failed"
    SPEC_PASS=$((SPEC_PASS + 1))
  else
    echo "simd: expected the v128 module to be refused with \"SIMD is not supported\" (exit 1, 0 passed, 2 failed); got exit $rc:"
    sed 's/^/  /' <<<"$out" | head -20
    SPEC_FAIL=$((SPEC_FAIL + 1))
  fi
}
