#!/usr/bin/env bash
# 20-wasi.sh — WASI preview 1: every program in tests/wasi/*.c runs under
# `pylon wasm run` and under Node's node:wasi (tests/wasi/node-run.mjs) in
# fresh, identical temp trees, and the outputs and exit codes must agree,
# except for the divergences tests/wasi/node-known-wrong.txt lists with a
# reason.  Under Pylon a program must also pass its own checks (no
# "key: FAIL" line), never print ESCAPED, and leave the read-only preopen
# and the directory beside the sandbox exactly as they were.  cli_*.c
# programs are not diffed; the CLI checks at the end use them.
#   tests/groups/20-wasi.sh            everything
#   tests/groups/20-wasi.sh fd_ paths  only programs whose name contains a word
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PYLON=${PYLON_BIN:-$ROOT/build/pylon}   # PYLON_BIN=build-san/pylon: the same under ASan/UBSan
WASMDIR=$ROOT/build/wasi-tests
KNOWN=$ROOT/tests/wasi/node-known-wrong.txt
NODE=(node --no-turbo-fast-api-calls --no-warnings "$ROOT/tests/wasi/node-run.mjs")

pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

buildlog=$(mktemp)
if ! make -s -j2 all wasi-tests >"$buildlog" 2>&1; then
  tail -20 "$buildlog"; rm -f "$buildlog"
  echo "the WASI test programs did not build (make wasi-tests)"; echo "RESULT 0 1"; exit 1
fi
rm -f "$buildlog"
WORK=$(mktemp -d /tmp/pylon-wasi.XXXXXX)
bgpids=()
# WASI_KEEP=1 keeps the temp trees (outputs, stderr, exit codes) to look at.
cleanup() {
  for p in "${bgpids[@]}"; do kill "$p" 2>/dev/null; done
  if [ -n "${WASI_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- the tree every program starts from ------------------------------------
#   sandbox/   preopened read-write as /sandbox (empty)
#   ro/        preopened read-only as /ro
#   outside/   beside the sandbox, never preopened: the sentinel
#   stdin.txt  the guest's stdin
layout() {
  local t=$1 name=$2
  mkdir -p "$t/sandbox" "$t/ro/sub" "$t/outside/dir"
  printf 'read-only\n' >"$t/ro/file.txt"
  printf 'inner\n' >"$t/ro/sub/inner.txt"
  ln -s file.txt "$t/ro/link"
  printf 'TOP SECRET\n' >"$t/outside/secret.txt"
  printf 'TOP SECRET\n' >"$t/outside/dir/x.txt"
  printf 'line one\nline two\n' >"$t/stdin.txt"
  case $name in escape_*) escape_layout "$t" ;; esac
}

# Ways out the guest cannot make itself (symlinks pointing out, chains,
# loops, a magic /proc link), placed in the sandbox by the host.
escape_layout() {
  local s=$1/sandbox
  mkdir -p "$s/sub/deeper" "$s/inside"
  printf 'inside\n' >"$s/inside/x.txt"
  printf 'mine\n' >"$s/file.txt"
  ln -s "$1/outside" "$s/abs_out"               # absolute, to the outside dir
  ln -s "$1/outside/secret.txt" "$s/abs_file"   # absolute, to a file outside
  ln -s /etc "$s/etc_link"                      # absolute, to the host's /etc
  ln -s ../outside "$s/rel_out"                 # relative, one level up
  ln -s ../../outside "$s/sub/up2"              # from a subdirectory
  ln -s ../.. "$s/sub/deeper/top"               # lands exactly on the sandbox: allowed
  ln -s ../../.. "$s/sub/deeper/above"          # one above the sandbox
  ln -s c2 "$s/c1"; ln -s c3 "$s/c2"; ln -s sub/../../outside "$s/c3"  # a chain
  ln -s loop2 "$s/loop1"; ln -s loop1 "$s/loop2"   # a loop
  ln -s self "$s/self"
  ln -s ../outside/newfile "$s/dangling_out"    # creating through it would land outside
  ln -s inside "$s/in_link"                     # stays inside: allowed
  ln -s /proc/self/root "$s/proc_root"          # a "magic" link
  ln -s swap_in "$s/swap"                       # flipped by the race below
  ln -s inside "$s/swap_in"
}

# Everything outside the sandbox that must not change, with content, link
# targets, sizes and modification times.
fingerprint() {
  (cd "$1" && find outside ro -printf '%p %y %s %l %T@ %m\n' | sort &&
    find outside ro -type f -exec md5sum {} + | sort)
}

# ---- known Node divergences -------------------------------------------------
# "test key reason": lines "key: ..." are not diffed for that test (Pylon's
# own checks still apply); key "*" skips the diff, "-" does not run Node.
# The "done: N failures" summary is never diffed: each side's own checks are
# judged line by line.
declare -A known
while read -r t k _; do
  [[ -z ${t:-} || $t == \#* ]] && continue
  known["$t/$k"]=1
done <"$KNOWN"

filter() {   # drop the known-wrong keys of test $1 from stdin
  local name=$1 line key
  while IFS= read -r line; do
    key=${line%%:*}
    [[ -n ${known["$name/$key"]:-} || $key == done ]] && continue
    printf '%s\n' "$line"
  done
}

want() {   # whether the program name matches the command-line words
  [ $# -le 1 ] && return 0
  local n=$1 w; shift
  for w in "$@"; do [[ $n == *"$w"* ]] && return 0; done
  return 1
}

run_guest() {   # runtime tree name [options... -- MODULE ARGS...]
  local rt=$1 t=$2 name=$3; shift 3
  local opts=(--dir "$t/sandbox::/sandbox" --ro-dir "$t/ro::/ro")
  if [ $# -eq 0 ]; then
    set -- --env WT_A=alpha --env WT_EMPTY= --env WT_EQ=a=b --argv0 "$name" -- \
      "$WASMDIR/$name.wasm" arg1 "two words" ""
  fi
  while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
  local cmd=("$PYLON" wasm run); [ "$rt" = node ] && cmd=("${NODE[@]}")
  (cd "$t" && timeout 60 "${cmd[@]}" "${opts[@]}" "$@" <"$t/stdin.txt" >"$t/out" 2>"$t/err")
  echo $? >"$t/rc"
}

# The race: while the guest opens swap/x.txt over and over, the host flips
# `swap` between a link inside and links that lead out, atomically (rename).
start_flipper() {
  local s=$1/sandbox
  ( cd "$s" || exit
    while :; do
      ln -sfn inside .f1 && mv -Tf .f1 swap
      ln -sfn ../outside/dir .f2 && mv -Tf .f2 swap
      ln -sfn "$1/outside/dir" .f3 && mv -Tf .f3 swap
    done ) >/dev/null 2>&1 &
  bgpids+=($!)
  echo $!
}

# Exit codes other than 0 that a program gives on purpose.
declare -A want_rc=([proc]=7)

diff_one() {
  local name=$1 tp=$WORK/$name.pylon tn=$WORK/$name.node extra=()
  layout "$tp" "$name"; layout "$tn" "$name"
  local before_p; before_p=$(fingerprint "$tp")
  local flip=""
  [[ $name == escape_race* ]] && flip=$(start_flipper "$tp")
  run_guest pylon "$tp" "$name"
  [ -n "$flip" ] && { kill "$flip" 2>/dev/null; wait "$flip" 2>/dev/null; }
  local problems=()
  [ "$(cat "$tp/rc")" = "${want_rc[$name]:-0}" ] || problems+=("pylon exit $(cat "$tp/rc")")
  grep -q ': FAIL' "$tp/out" && problems+=("own checks failed under pylon: $(grep -c ': FAIL' "$tp/out")")
  grep -q 'ESCAPED' "$tp/out" && problems+=("ESCAPED under pylon")
  grep -q '^done: ' "$tp/out" || problems+=("pylon output incomplete")
  [ "$(fingerprint "$tp")" = "$before_p" ] || problems+=("outside/ or ro/ changed under pylon")

  if [ -z "${known["$name/-"]:-}" ]; then
    [[ $name == escape_race* ]] && flip=$(start_flipper "$tn")
    run_guest node "$tn" "$name"
    [ -n "$flip" ] && { kill "$flip" 2>/dev/null; wait "$flip" 2>/dev/null; }
    if [ -z "${known["$name/*"]:-}" ]; then
      # A program exits 1 when its own checks fail; under Node that is fine
      # when every failed check is a known divergence.
      local rcp rcn; rcp=$(cat "$tp/rc"); rcn=$(cat "$tn/rc")
      [ "$rcp" = 0 ] && [ "$rcn" = 1 ] && ! filter "$name" <"$tn/out" | grep -q ': FAIL' && rcn=0
      [ "$rcp" = "$rcn" ] || problems+=("exit codes differ: pylon $rcp, node $(cat "$tn/rc")")
      if ! diff <(filter "$name" <"$tp/out") <(filter "$name" <"$tn/out") >"$WORK/$name.diff"; then
        problems+=("output differs from node:")
      fi
    fi
  fi
  local note=""
  if [ -n "${known["$name/*"]:-}" ] && [ -f "$tn/out" ]; then
    note=", not diffed: known Node divergence"
    grep -q ESCAPED "$tn/out" && note+="; Node printed ESCAPED on $(grep -c ESCAPED "$tn/out") lines"
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    ok "$name ($(grep -c . "$tp/out") lines$note)"
  else
    bad "$name: ${problems[*]}"
    [ -s "$WORK/$name.diff" ] && sed 's/^/     /' "$WORK/$name.diff" | head -40
    grep ': FAIL\|ESCAPED' "$tp/out" | sed 's/^/     pylon: /' | head -20
    sed 's/^/     stderr: /' "$tp/err" | head -10
  fi
}

for src in tests/wasi/*.c; do
  name=$(basename "$src" .c)
  [[ $name == cli_* ]] && continue
  want "$name" "$@" || continue
  diff_one "$name"
done

# ---- CPython's os layer, when python.wasm has been built ---------------------
PYDIR=$ROOT/build/python
if want python_os "$@"; then
  if [ -f "$PYDIR/python.wasm" ] && [ -d "$PYDIR/lib" ]; then
    py=(--ro-dir "$PYDIR/lib::/usr/lib" --env PYTHONHOME=/usr --argv0 python --
        "$PYDIR/python.wasm" /ro/python_os.py x "y z")
    for rt in pylon node; do
      t=$WORK/python_os.$rt; layout "$t" python_os
      cp tests/wasi/python_os.py "$t/ro/"
      [ $rt = pylon ] && before=$(fingerprint "$t")
      run_guest $rt "$t" python_os "${py[@]}"
    done
    tp=$WORK/python_os.pylon tn=$WORK/python_os.node
    if [ "$(cat "$tp/rc")" = 5 ] && [ "$(cat "$tn/rc")" = 5 ] && [ "$(fingerprint "$tp")" = "$before" ] &&
       diff <(filter python_os <"$tp/out") <(filter python_os <"$tn/out") >"$WORK/python_os.diff"; then
      ok "python_os: python.wasm's os layer agrees with Node ($(grep -c . "$tp/out") lines)"
    else
      bad "python_os: exit pylon $(cat "$tp/rc") node $(cat "$tn/rc") (want 5)"
      sed 's/^/     /' "$WORK/python_os.diff" | head -30; sed 's/^/     stderr: /' "$tp/err" | head
    fi
  else
    echo "skip python_os: build/python/python.wasm is not built (guest/python/build.sh)"
  fi
fi

# ---- the CLI itself (Pylon only) --------------------------------------------
if want cli "$@"; then
  . tests/wasi/cli-checks.sh
fi

echo "RESULT $pass $fail"
