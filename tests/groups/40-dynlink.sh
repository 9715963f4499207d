#!/usr/bin/env bash
# 40-dynlink.sh — the compose:dynlink host: plan, blob store, trust, audit,
# the bridge and its failure containment, the CLI, and the crc32c cap.
#
#   1. unit tests of the parts (build/dynlink/unit)
#   2. a Pylon home set up with the CLI only (blob add, trust, plan add/set)
#   3. the C test guest's suite: resolve/invoke/drop, policy refusals, every
#      hostile provider (tests/dynlink/hostile.c) -> error code, next call ok;
#      with the providers as native code and on the interpreter; tier-up
#      from the interpreter to native code after a background compile
#   4. refusals that need the disk changed between runs, each showing that
#      nothing was instantiated: untrusted digest, bad signature, revoked
#      key, tampered blob, missing blob, malformed plan
#   5. upstream stores: a directory and an HTTP server on 127.0.0.1
#   6. swapping the crc32c provider by editing the plan only
#   7. CLI behaviour (--help, usage errors, gc, audit tampering)
#   8. Python: tests/dynlink/test_crc32c.py in a python.wasm that has the
#      extension (skipped, with a note, when there is none yet)
#   9. the unit tests and the guest suite again under ASan + UBSan
#  10. the boundary bench in --quick mode (results checked, not timed)
# Ends with "RESULT <passed> <failed>".
#   tests/groups/40-dynlink.sh          everything
#   DL_KEEP=1 tests/groups/40-dynlink.sh  keep the temp home to look at
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
B=$ROOT/build
PYLON=$B/pylon
DLRUN=$B/dynlink/dlrun
GUEST=$B/dynlink/guest.wasm
FIX=$B/dynlink/fixtures
CAPS=$B/caps/crc32c

pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# check NAME CMD...: passes when CMD succeeds.
check() { local name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else bad "$name"; fi; }

if ! make -s -j2 all dynlink >/dev/null; then
  echo "the dynlink targets did not build (make dynlink)"; echo "RESULT 0 1"; exit 1
fi
WORK=$(mktemp -d /tmp/pylon-dynlink.XXXXXX)
HTTP_PID=
cleanup() {
  [ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
  if [ -n "${DL_KEEP:-}" ]; then echo "kept $WORK"; else chmod -R u+w "$WORK"; rm -rf "$WORK"; fi
}
trap cleanup EXIT
export PYLON_HOME=$WORK/home     # never the user's own ~/.pylon
PLAN=$WORK/plan.json

# Counts a guest run's own "ok"/"FAIL" lines into ours.
tally() {   # NAME LOGFILE RC
  local n_ok n_fail
  n_ok=$(grep -ac '^ok ' "$2"); n_fail=$(grep -ac '^FAIL ' "$2")
  pass=$((pass + n_ok)); fail=$((fail + n_fail))
  grep -a '^FAIL ' "$2" | sed "s|^|     [$1] |"
  if [ "$3" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
    bad "$1: exit status $3 without a FAIL line"; sed 's/^/     /' "$2" | tail -5
  fi
  echo "     [$1] $n_ok passed, $n_fail failed"
}

# guest ARGS...: runs the test guest under the plan; output in $WORK/out,
# stderr (bridge log + counters) in $WORK/err.
guest() {
  DLRUN_LOG=1 timeout 120 "$DLRUN" --stats --plan "$PLAN" "$GUEST" "$@" >"$WORK/out" 2>"$WORK/err"
}
stat_of() { sed -n "s/.*dynlink-stats:.* $1=\([0-9]*\).*/\1/p" "$WORK/err"; }

# expect_refusal NAME ID CODE NEEDLE: the guest's resolve of ID fails with
# CODE, the message contains NEEDLE, and no provider was instantiated.
expect_refusal() {
  local name=$1 id=$2 code=$3 needle=$4
  guest resolve "$id" "$code"
  if grep -aq "^ok " "$WORK/out" && grep -aqF -- "$needle" "$WORK/out"; then
    if [ "$(stat_of instantiations)" = 0 ]; then ok "$name"
    else bad "$name: something was instantiated ($(stat_of instantiations))"; fi
  else
    bad "$name"; sed 's/^/     /' "$WORK/out" | head -5
  fi
}

# ---- 1. unit tests ----------------------------------------------------------------
"$B/dynlink/unit" >"$WORK/unit.log" 2>&1
tally unit "$WORK/unit.log" $?

# ---- 2. a home made with the CLI ----------------------------------------------------
for f in hostile echo noexport badimport badinit bigmem; do
  "$PYLON" blob add --allow "$FIX/$f.wasm" >/dev/null || bad "blob add $f"
done
TABLE=$("$PYLON" blob add "$CAPS/table.wasm" | cut -d' ' -f1)
SLICE8=$(sha256sum "$CAPS/slice8.wasm" | cut -d' ' -f1)
# crc32c is trusted by signature, the fixtures by the allow-list.
check "trust keygen" "$PYLON" trust keygen publisher
check "trust sign (a file)" "$PYLON" trust sign --key publisher "$CAPS/table.wasm"
check "trust check says signed" sh -c "'$PYLON' trust check $TABLE | grep -q \"key 'publisher'\""
check "plan create" "$PYLON" plan create "$PLAN"
check "plan add (--digest, restricted methods)" "$PYLON" plan add "$PLAN" crc32c --digest "$TABLE" \
  --methods crc32c,extend,info
padd() { "$PYLON" plan add "$PLAN" "$@" >/dev/null 2>&1 || bad "plan add $*"; }
padd echo --blob "$FIX/echo.wasm"
padd hidden --blob "$FIX/echo.wasm" --no-guest
padd hostile --blob "$FIX/hostile.wasm" --resolve hostile --fuel 50000000 --timeout-ms 5000 \
  --max-memory 4MiB --max-result 1MiB
padd hostile-timed --blob "$FIX/hostile.wasm" --methods loop,echo,count --timeout-ms 300
for f in noexport badimport badinit; do padd "$f" --blob "$FIX/$f.wasm"; done
padd bigmem --blob "$FIX/bigmem.wasm" --max-memory 1MiB
check "plan set (limits)" "$PYLON" plan set "$PLAN" hostile-timed --fuel 0
check "plan validate --deep" "$PYLON" plan validate "$PLAN" --deep
check "plan show" sh -c "'$PYLON' plan show '$PLAN' | grep -q 'hostile-timed'"

# ---- 3. the guest's suite -------------------------------------------------------------
cp "$PLAN" "$WORK/plan-suite.json"     # section 9 runs the suite again
guest suite "${TABLE#sha256:}"
rc=$?
tally suite "$WORK/out" $rc
grep -aq '^done: ' "$WORK/out" || bad "suite: the guest did not finish"
[ "$(stat_of discards)" -ge 15 ] && ok "every hostile case discarded its instance ($(stat_of discards) discards)" \
  || bad "too few discards: $(stat_of discards)"
check "audit chain intact after the suite" "$PYLON" trust audit verify
grep -q '"outcome":"denied"' "$PYLON_HOME/audit.log" && ok "denials are in the audit log" || bad "no denial audited"
grep -q '"event":"invoke".*"code":"exec-trap"' "$PYLON_HOME/audit.log" && ok "invoke failures are in the audit log" \
  || bad "no invoke failure audited"
# `blob add` compiled the providers as they landed, so the suite above ran
# them as native code; the same suite must pass on the interpreter too.
grep -q '"event":"instantiate".*"message":"native code"' "$PYLON_HOME/audit.log" \
  && ok "providers ran as native code (compiled by 'blob add'; audited)" || bad "no provider ran as native code"
DLRUN_LOG=1 timeout 300 "$DLRUN" --engine interp --stats --plan "$PLAN" "$GUEST" suite "${TABLE#sha256:}" \
  >"$WORK/out" 2>"$WORK/err"
rc=$?
tally "suite, providers on the interpreter" "$WORK/out" $rc
grep -aq '^done: ' "$WORK/out" || bad "suite (interpreter): the guest did not finish"
tail -1 "$PYLON_HOME/audit.log" >/dev/null
grep '"event":"instantiate"' "$PYLON_HOME/audit.log" | tail -1 | grep -q '"message":"interpreter"' \
  && ok "--engine interp: providers instantiated on the interpreter" || bad "--engine interp did not reach the providers"

# Tier-up: with an empty AOT cache a provider starts on the interpreter while
# a background process compiles it; once the artifact exists, the next run
# (a new instance) is native.
(
  export PYLON_CACHE_DIR=$WORK/cold-cache
  guest invoke crc32c crc32c ok
  first=$(grep '"event":"instantiate"' "$PYLON_HOME/audit.log" | tail -1)
  for i in $(seq 1200); do ls "$PYLON_CACHE_DIR"/aot/*.so >/dev/null 2>&1 && break; sleep 0.1; done
  sleep 0.2
  guest invoke crc32c crc32c ok
  second=$(grep '"event":"instantiate"' "$PYLON_HOME/audit.log" | tail -1)
  if grep -q '"message":"interpreter"' <<<"$first" && grep -q '"message":"native code"' <<<"$second"; then
    echo "ok   tier-up: first run interpreted while compiling in the background, next run native"
  else
    echo "FAIL tier-up: first: $first"; echo "     second: $second"; ls -la "$PYLON_CACHE_DIR/aot" 2>&1 | head -5
  fi
) >"$WORK/tier" 2>&1
tally tier-up "$WORK/tier" 0

# Live tier-up: a provider with state in its memory (echo's call counter)
# is invoked for 8 s from one guest; its native code becomes ready during
# the run and takes over the live instance; the counter never skips.
(
  export PYLON_CACHE_DIR=$WORK/cold-cache-live
  DLRUN_LOG=1 timeout 120 "$DLRUN" --plan "$PLAN" "$GUEST" count echo 8 >"$WORK/live.out" 2>"$WORK/live.err"
  rc=$?
  cat "$WORK/live.out"
  [ $rc = 0 ] || echo "FAIL live tier-up: guest exit $rc"
  if grep '"event":"instantiate".*"cap":"echo"' "$PYLON_HOME/audit.log" | tail -1 | grep -q 'tier-up of the live instance'; then
    echo "ok   live tier-up: the running provider moved to native code with its state"
  else
    echo "FAIL live tier-up: no tier-up in the audit log"; tail -3 "$WORK/live.err"
  fi
) >"$WORK/live" 2>&1
tally live-tier-up "$WORK/live" 0

guest invoke crc32c secret exec-capability-denied
grep -aq '^ok ' "$WORK/out" && grep -q '"method":"secret","outcome":"denied"' "$PYLON_HOME/audit.log" \
  && ok "refusal: method not allowed by policy (audited as denied)" || bad "method refusal"

# ---- 4. refusals that change the disk ---------------------------------------------------
expect_refusal "refusal: unknown id" nope exec-capability-denied "no cap \"nope\" in plan"
"$PYLON" plan add "$PLAN" fast --digest "sha256:$SLICE8" >/dev/null 2>&1
"$PYLON" blob add "$CAPS/slice8.wasm" >/dev/null
expect_refusal "refusal: digest not trusted" fast trust-untrusted-source "pylon trust allow sha256:$SLICE8"
"$PYLON" trust sign --key publisher "sha256:$SLICE8" >/dev/null 2>&1
sig=$PYLON_HOME/trust/sigs/$SLICE8/publisher.sig
first=$(head -c1 "$sig"); [ "$first" = 0 ] && to=1 || to=0
sed -i "1s/^./$to/" "$sig"             # one hex digit changed: no longer the signature
expect_refusal "refusal: bad signature" fast trust-signature-invalid "does not verify"
"$PYLON" trust sign --key publisher "sha256:$SLICE8" >/dev/null 2>&1
guest resolve fast ok; grep -aq '^ok ' "$WORK/out" && ok "a fresh signature is accepted" || bad "re-signed resolve"
"$PYLON" trust revoke --key publisher >/dev/null
expect_refusal "refusal: key revoked" fast trust-untrusted-source "key was revoked"
"$PYLON" trust allow "sha256:$SLICE8" >/dev/null
"$PYLON" trust allow "$TABLE" >/dev/null      # the key is gone: allow crc32c explicitly

blob=$PYLON_HOME/blobs/sha256/${TABLE#sha256:}
chmod u+w "$blob"; printf 'x' >>"$blob"
expect_refusal "refusal: blob tampered on disk" crc32c blob-digest-mismatch "changed or damaged on disk"
"$PYLON" blob verify >"$WORK/v" 2>&1; [ $? = 1 ] && grep -q "^BAD  $TABLE" "$WORK/v" \
  && ok "blob verify finds the tampered blob" || bad "blob verify"
check "blob verify --remove-bad" sh -c "'$PYLON' blob verify --remove-bad >/dev/null 2>&1; [ ! -e '$blob' ]"
expect_refusal "refusal: blob missing, no upstream" crc32c blob-not-found "pylon blob add"
"$PYLON" blob add "$CAPS/table.wasm" >/dev/null
guest crc crc32c table; tally "crc after repair" "$WORK/out" $?

printf '{"version": 1, "guest": {"resolve": []},\n "caps": {"x": {"digest": "sha256:00", "methods": "*"}}}\n' >"$WORK/bad.json"
timeout 30 "$DLRUN" --stats --plan "$WORK/bad.json" "$GUEST" crc x >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc = 3 ] && grep -q 'bad.json:2:27: caps.x.digest' "$WORK/err" && ! grep -q dynlink-stats "$WORK/err" \
  && ok "refusal: malformed plan (nothing runs; the field is named)" || { bad "malformed plan (rc $rc)"; cat "$WORK/err"; }
"$PYLON" plan validate "$WORK/bad.json" >"$WORK/v" 2>&1; [ $? = 1 ] && grep -q 'caps.x.digest' "$WORK/v" \
  && ok "plan validate names the bad field" || bad "plan validate on a bad plan"

# ---- 5. upstream stores -----------------------------------------------------------------
# A fresh home whose plan names an upstream: the blob comes from there, verified.
up_plan() {   # PLAN UPSTREAM
  printf '{"version":1,"upstream":"%s","guest":{"resolve":["crc32c","ghost"]},"caps":{"crc32c":{"digest":"%s","methods":"*"},"ghost":{"digest":"sha256:%064d","methods":"*"}}}\n' \
    "$2" "$TABLE" 0 >"$1"
}
H2=$WORK/home2; mkdir -p "$H2/trust"; echo "$TABLE" >"$H2/trust/allow"
echo "sha256:$(printf '%064d' 0)" >>"$H2/trust/allow"
up_plan "$WORK/up-dir.json" "$PYLON_HOME/blobs"
PYLON_HOME=$H2 PLAN=$WORK/up-dir.json guest crc crc32c table
tally "upstream directory" "$WORK/out" $?
[ -f "$H2/blobs/sha256/${TABLE#sha256:}" ] && ok "the fetched blob is kept locally" || bad "not stored after fetch"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVE=$WORK/serve; mkdir -p "$SERVE/sha256"
cp "$PYLON_HOME/blobs/sha256/${TABLE#sha256:}" "$SERVE/sha256/"
printf 'not the blob' >"$SERVE/sha256/$(printf '%064d' 0)"     # served under the wrong name
timeout 120 python3 -m http.server --bind 127.0.0.1 --directory "$SERVE" "$PORT" >/dev/null 2>&1 &
HTTP_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
H3=$WORK/home3; mkdir -p "$H3/trust"; cp "$H2/trust/allow" "$H3/trust/allow"
up_plan "$WORK/up-http.json" "http://127.0.0.1:$PORT"
PYLON_HOME=$H3 PLAN=$WORK/up-http.json guest crc crc32c table
tally "upstream HTTP on 127.0.0.1" "$WORK/out" $?
[ -f "$H3/blobs/sha256/${TABLE#sha256:}" ] && ok "HTTP: the fetched blob is kept locally" || bad "HTTP: not stored"
PYLON_HOME=$H3 PLAN=$WORK/up-http.json guest resolve ghost blob-digest-mismatch
grep -aq '^ok ' "$WORK/out" && [ ! -e "$H3/blobs/sha256/$(printf '%064d' 0)" ] \
  && ok "HTTP: wrong bytes from upstream are refused and not stored" || bad "HTTP: wrong bytes"
rm "$SERVE/sha256/$(printf '%064d' 0)"
PYLON_HOME=$H3 PLAN=$WORK/up-http.json guest resolve ghost blob-not-found
grep -aq '^ok ' "$WORK/out" && grep -aq 'HTTP 404' "$WORK/out" && ok "HTTP: a missing blob is blob-not-found" \
  || { bad "HTTP: missing blob"; head -3 "$WORK/out"; }
check "blob fetch from the HTTP upstream" env PYLON_HOME="$WORK/home4" "$PYLON" blob fetch "$TABLE" \
  --upstream "http://127.0.0.1:$PORT"
kill "$HTTP_PID" 2>/dev/null; HTTP_PID=

# ---- 6. swapping the provider: the plan is the only thing edited ------------------------------
guest crc crc32c table; tally "crc32c on the table provider" "$WORK/out" $?
before=$(sha256sum "$GUEST")
check "plan set-digest crc32c slice8.wasm" "$PYLON" plan set-digest "$PLAN" crc32c "$CAPS/slice8.wasm"
guest crc crc32c slice8; tally "crc32c on the slice8 provider" "$WORK/out" $?
check "plan set-digest crc32c wide16.wasm" "$PYLON" plan set-digest "$PLAN" crc32c "$CAPS/wide16.wasm"
check "trust allow wide16.wasm" "$PYLON" trust allow "$CAPS/wide16.wasm"
guest crc crc32c wide16; tally "crc32c on the wide16 provider" "$WORK/out" $?
[ "$(sha256sum "$GUEST")" = "$before" ] && ok "the guest is byte-identical across the swaps" || bad "guest changed"

# ---- 7. the CLI ----------------------------------------------------------------------------------
for c in blob plan trust; do
  check "pylon $c --help" sh -c "'$PYLON' $c --help | grep -q '^usage: pylon $c'"
  "$PYLON" $c frobnicate >/dev/null 2>"$WORK/e"; rc=$?
  [ $rc = 2 ] && grep -q "unknown command 'frobnicate'" "$WORK/e" && grep -q -- "--help" "$WORK/e" \
    && ok "pylon $c: an unknown command says what to do" || bad "pylon $c frobnicate (rc $rc)"
done
check "pylon plan add --help" sh -c "'$PYLON' plan add --help | grep -q 'cap options'"
"$PYLON" plan add "$PLAN" x >/dev/null 2>"$WORK/e"; [ $? = 2 ] && grep -q -- '--digest' "$WORK/e" \
  && ok "plan add without a provider says --digest/--blob" || bad "plan add usage"
"$PYLON" plan add "$PLAN" 'bad id' --digest "$TABLE" >/dev/null 2>"$WORK/e"; [ $? != 0 ] && grep -q 'not valid' "$WORK/e" \
  && ok "plan add refuses an invalid id" || bad "plan add invalid id"
"$PYLON" trust sign --key nobody "$TABLE" >/dev/null 2>"$WORK/e"; [ $? != 0 ] && grep -q 'pylon trust keygen' "$WORK/e" \
  && ok "trust sign with a missing key says how to make one" || bad "trust sign missing key"
"$PYLON" blob gc >/dev/null 2>"$WORK/e"; [ $? = 2 ] && grep -q -- '--plan' "$WORK/e" \
  && ok "blob gc insists on the plans to keep" || bad "blob gc without plans"
"$PYLON" plan rm "$PLAN" bigmem >/dev/null 2>&1
n_before=$(ls "$PYLON_HOME/blobs/sha256" | wc -l)
check "blob gc --plan" "$PYLON" blob gc --plan "$PLAN"
n_after=$(ls "$PYLON_HOME/blobs/sha256" | wc -l)
[ ! -e "$PYLON_HOME/blobs/sha256/$(sha256sum "$FIX/bigmem.wasm" | cut -d' ' -f1)" ] && [ "$n_after" -lt "$n_before" ] \
  && ok "gc removed the blob no plan references ($n_before -> $n_after)" || bad "gc ($n_before -> $n_after)"
check "plan validate --deep after gc" "$PYLON" plan validate "$PLAN" --deep
check "trust list" sh -c "'$PYLON' trust list | grep -q 'publisher.*REVOKED'"
check "trust audit show" sh -c "'$PYLON' trust audit show -n 3 | grep -c '\"hash\"' | grep -qx 3"
log=$PYLON_HOME/audit.log
sed -i '5s/"seq":5,/"seq":5, /' "$log"      # one byte added: still JSON, no longer hashed
"$PYLON" trust audit verify >/dev/null 2>"$WORK/e"; [ $? = 1 ] && grep -q 'TAMPERED.*audit.log:5:' "$WORK/e" \
  && ok "trust audit verify names the tampered line" || { bad "audit tamper"; cat "$WORK/e"; }

# ---- 8. Python: the extension and the facade in python.wasm ---------------------------------
# Runs when build/python/python.wasm (make python) exists and has
# _crc32c_dynlink_cap (docs/dynlink.md, "Python").
PYW=
for cand in "$B/python/python.wasm"; do
  if [ -f "$cand" ] && grep -q 'compose:dynlink/linker' <<<"$(wasm-objdump -x -j Import "$cand" 2>/dev/null)"; then
    PYW=$cand; break
  fi
done
if [ -n "$PYW" ]; then
  pyrun() {   # PLAN-OPTION... -- python args
    timeout 300 "$DLRUN" "$@" >"$WORK/out" 2>"$WORK/err"
  }
  PYOPTS=(--ro-dir "$(dirname "$PYW")/lib::/usr/lib" --ro-dir "$ROOT/caps/crc32c/python::/caps"
          --ro-dir "$ROOT/tests/dynlink::/t" --env PYTHONHOME=/usr --env PYTHONPATH=/caps
          --env PYTHONDONTWRITEBYTECODE=1)
  "$PYLON" plan set "$PLAN" crc32c --methods crc32c,extend,info >/dev/null
  pyrun --plan "$PLAN" "${PYOPTS[@]}" "$PYW" /t/test_crc32c.py wide16
  tally "python (${PYW#"$ROOT"/})" "$WORK/out" $?
  grep -aq '^done: ' "$WORK/out" || { bad "python: the test did not finish"; tail -5 "$WORK/err"; }
  pyrun --no-plan "${PYOPTS[@]}" "$PYW" -c 'import crc32c'
  grep -q "ImportError: the crc32c cap is not available: exec-capability-denied.*--plan" "$WORK/err" \
    && ok "python without a plan: import crc32c says to pass --plan" || { bad "python without a plan"; tail -3 "$WORK/err"; }
elif [ -f "$B/python/python.wasm" ]; then
  bad "python: build/python/python.wasm has no _crc32c_dynlink_cap (guest/python/Setup.local lists it; rebuild with make python)"
else
  echo "     (python: no python.wasm built yet (make python); its part is not run)"
fi

# ---- 9. the host code under ASan + UBSan ----------------------------------------------------------
if make SAN=1 -s -j2 build-san/dynlink/dlrun build-san/dynlink/unit >"$WORK/san.log" 2>&1; then
  export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  "$ROOT/build-san/dynlink/unit" >"$WORK/out" 2>&1 && ! grep -q 'Sanitizer' "$WORK/out" \
    && ok "unit tests under ASan+UBSan" || { bad "unit tests under ASan+UBSan"; grep -A5 Sanitizer "$WORK/out" | head; }
  "$PYLON" blob add "$CAPS/table.wasm" "$FIX"/*.wasm >/dev/null    # gc took some
  timeout 300 "$ROOT/build-san/dynlink/dlrun" --plan "$WORK/plan-suite.json" "$GUEST" suite "${TABLE#sha256:}" \
    >"$WORK/out" 2>"$WORK/err"
  rc=$?
  [ $rc = 0 ] && ! grep -q 'Sanitizer' "$WORK/err" && grep -aq '^done: 0 failures' "$WORK/out" \
    && ok "the guest suite under ASan+UBSan (bridge, hostile providers)" \
    || { bad "suite under ASan+UBSan (rc $rc)"; grep -A8 Sanitizer "$WORK/err" | head -20; grep -a '^FAIL' "$WORK/out" | head; }
  unset ASAN_OPTIONS UBSAN_OPTIONS
else
  bad "make SAN=1 of the dynlink tools"; tail -5 "$WORK/san.log"
fi

# ---- 10. the bench, checked not timed ------------------------------------------------------------
if timeout 300 "$B/dynlink/dynlink_bench" --quick --dir "$B/dynlink" --caps "$CAPS" >"$WORK/bench" 2>&1; then
  ok "dynlink_bench --quick (crc values agree: dynlink, direct, native)"
else
  bad "dynlink_bench --quick"; tail -5 "$WORK/bench"
fi

echo "RESULT $pass $fail"
