# cli-checks.sh — checks of `pylon wasm run` itself, sourced by
# tests/groups/20-wasi.sh (it uses ok/bad, $PYLON, $WASMDIR, $WORK, layout).
# Pylon only: exit codes, trap reports with backtraces, the limits, the
# capability options, sockets handed in, and the usage errors.

C=$WORK/cli; mkdir -p "$C"; layout "$C" cli
W=(--dir "$C/sandbox::/sandbox" --ro-dir "$C/ro::/ro")

# runs pylon with a time limit; sets $rc, $out, $err (files) and $secs
cli() {
  local t0=$SECONDS
  timeout 60 "$PYLON" "$@" >"$C/out" 2>"$C/err" </dev/null; rc=$?
  secs=$((SECONDS - t0))
}
expect_rc() {   # name want-rc [grep-pattern-in-stderr ...]
  local name=$1 want=$2; shift 2
  if [ "$rc" != "$want" ]; then bad "cli $name: exit $rc, want $want"; sed 's/^/     /' "$C/err" | head -5; return; fi
  for p in "$@"; do
    if ! grep -qiE -- "$p" "$C/err" "$C/out"; then bad "cli $name: output lacks /$p/"; sed 's/^/     /' "$C/err" | head -8; return; fi
  done
  ok "cli $name"
}

# help and usage errors
cli wasm run --help
expect_rc help 0 -- '--dir HOST' '--ro-dir' '--env NAME=VALUE' '--max-memory' '--fuel' '--timeout' '--listen' 'exit status'
cli wasm --help;                          expect_rc help.wasm 0 'pylon wasm run'
cli wasm;                                 expect_rc no_subcommand 2 'missing subcommand'
cli wasm bogus;                           expect_rc bad_subcommand 2 "unknown subcommand 'bogus'"
cli wasm run;                             expect_rc no_module 2 'no MODULE'
cli wasm run --frobnicate x.wasm;         expect_rc bad_option 2 "unknown option '--frobnicate'"
cli wasm run --fuel lots x.wasm;          expect_rc bad_fuel 2 'expected a positive whole number'
cli wasm run --timeout soon x.wasm;       expect_rc bad_timeout 2 'duration'
cli wasm run --max-memory big x.wasm;     expect_rc bad_memory 2 'expected a size'
cli wasm run --dir "" x.wasm;             expect_rc bad_dir 2 'HOST::GUEST'
cli wasm run --env WT_SURELY_UNSET_VAR x.wasm; expect_rc env_unset 2 'is not set'
cli wasm run "$C/missing.wasm";           expect_rc missing_file 5 'cannot read'
printf 'not wasm at all' >"$C/garbage.wasm"
cli wasm run "$C/garbage.wasm";           expect_rc garbage 3 'not a module'
cli wasm run --dir "$C/nonexistent" "$WASMDIR/cli_env.wasm"; expect_rc dir_missing 5 'cannot preopen' 'nonexistent'
if command -v wat2wasm >/dev/null; then
  printf '(module (import "env" "foo" (func)) (memory (export "memory") 1) (func (export "_start")))' >"$C/imp.wat"
  wat2wasm "$C/imp.wat" -o "$C/imp.wasm"
  cli wasm run "$C/imp.wasm";             expect_rc unlinkable 3 'env' 'wasi_snapshot_preview1'
  printf '(module (memory (export "memory") 1) (func (export "main")))' >"$C/nostart.wat"
  wat2wasm "$C/nostart.wat" -o "$C/nostart.wasm"
  cli wasm run "$C/nostart.wasm";         expect_rc no_start 3 '_start'
  printf '(module (func (export "_start")))' >"$C/nomem.wat"
  wat2wasm "$C/nomem.wat" -o "$C/nomem.wasm"
  cli wasm run "$C/nomem.wasm";           expect_rc no_memory_no_wasi 0
fi

# exit codes pass through
cli wasm run "${W[@]}" "$WASMDIR/proc.wasm"; expect_rc exit_code 7
cli wasm run "${W[@]}" "$WASMDIR/cli_env.wasm"; expect_rc exit_zero 0 'argv\[0\]=.*cli_env.wasm'

# the environment: nothing inherited, --env NAME passes one variable
WT_FROM_HOST=hostvalue cli wasm run --env WT_FROM_HOST --env X=1 --argv0 me "$WASMDIR/cli_env.wasm" a
if [ "$rc" = 0 ] && grep -qx 'env WT_FROM_HOST=hostvalue' "$C/out" && grep -qx 'env X=1' "$C/out" &&
   [ "$(grep -c '^env ' "$C/out")" = 2 ] && grep -qx 'argv\[0\]=me' "$C/out" && grep -qx 'argv\[1\]=a' "$C/out"; then
  ok "cli env_and_argv0"
else bad "cli env_and_argv0: $(tr '\n' ' ' <"$C/out")"; fi
# guest arguments that look like options are the guest's
cli wasm run "$WASMDIR/cli_env.wasm" --dir x -- --help
if [ "$rc" = 0 ] && grep -qx 'argv\[1\]=--dir' "$C/out" && grep -qx 'argv\[4\]=--help' "$C/out"; then ok "cli guest_args"
else bad "cli guest_args: $(tr '\n' ' ' <"$C/out")"; fi

# stdin and stdout as pipes
printf abc | "$PYLON" wasm run "$WASMDIR/cli_pipe.wasm" 2>"$C/err" | cat >"$C/out"
if [ "${PIPESTATUS[1]}" = 0 ] && ! grep -q ': FAIL' "$C/out" && grep -q '^done: 0' "$C/out"; then
  ok "cli pipes"
else bad "cli pipes"; grep ': FAIL' "$C/out" | sed 's/^/     /'; sed 's/^/     stderr: /' "$C/err" | head -5; fi

# a terminal is seen as one (script(1) provides a pseudo-terminal)
if command -v script >/dev/null; then
  timeout 30 script -qec "'$PYLON' wasm run '$WASMDIR/cli_tty.wasm'" /dev/null </dev/null >"$C/out" 2>&1; rc=$?
  if [ "$rc" = 0 ] && grep -q '^done: 0' "$C/out"; then ok "cli tty"
  else bad "cli tty: exit $rc"; grep ': FAIL' "$C/out" | sed 's/^/     /'; fi
fi

# stdio flags the guest changes are the host's again afterwards
exec 7>"$C/flags.out"
"$PYLON" wasm run "$WASMDIR/cli_flags.wasm" >&7 2>"$C/err"; rc=$?
fl=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$$/fdinfo/7")
exec 7>&-
if [ "$rc" = 0 ] && grep -qx 'set_flags: 0' "$C/flags.out" && [ $((0$fl & 06000)) = 0 ]; then
  ok "cli stdio_flags_restored"
else bad "cli stdio_flags_restored: exit $rc, host flags now 0$fl"; fi

# traps: message, backtrace with names from the name section, exit 4
cli wasm run "$WASMDIR/cli_trap.wasm"
expect_rc trap 4 'trapped' 'unreachable' 'wasm backtrace' 'crash_here' 'middle_frame'
grep -q 'before the trap' "$C/out" || bad "cli trap: the guest's output before the trap was lost"
cli wasm run "$WASMDIR/cli_trap.wasm" oob; expect_rc trap_oob 4 'out of bounds'
cli wasm run "$WASMDIR/cli_raise.wasm";    expect_rc proc_raise 4 'SIGTERM'
grep -qx 'SIGCHLD: 0' "$C/out" || bad "cli proc_raise: SIGCHLD was not a no-op"

# limits
cli wasm run --fuel 2000000 "$WASMDIR/cli_spin.wasm";       expect_rc fuel 4 'fuel'
cli wasm run --timeout 300ms "$WASMDIR/cli_spin.wasm";      expect_rc timeout_busy 4 'timeout'
[ "$secs" -le 10 ] || bad "cli timeout_busy: took ${secs}s"
cli wasm run --timeout 0.3 "$WASMDIR/cli_spin.wasm" sleep;  expect_rc timeout_sleep 4 'timeout'
[ "$secs" -le 10 ] || bad "cli timeout_sleep: took ${secs}s for a 0.3s timeout"
# a guest blocked reading a pipe that never delivers is woken too
sleep 60 >"$C/fifo.keep" & holder=$!; bgpids+=("$holder")
t0=$SECONDS
timeout 60 "$PYLON" wasm run --timeout 300ms "$WASMDIR/cli_spin.wasm" stdin \
  < <(sleep 30) >"$C/out" 2>"$C/err"; rc=$?; secs=$((SECONDS - t0))
kill "$holder" 2>/dev/null
expect_rc timeout_stdin 4 'timeout'
[ "$secs" -le 10 ] || bad "cli timeout_stdin: took ${secs}s for a 0.3s timeout"
cli wasm run --timeout 30s "$WASMDIR/cli_env.wasm";          expect_rc timeout_not_hit 0
cli wasm run --max-memory 2M "$WASMDIR/cli_grow.wasm"
if [ "$rc" = 0 ] && grep -qx 'grow 128 pages: refused' "$C/out" && grep -qx 'malloc 16 MiB: NULL' "$C/out"; then
  ok "cli max_memory"; else bad "cli max_memory: exit $rc: $(tr '\n' ' ' <"$C/out")"; fi
cli wasm run "$WASMDIR/cli_grow.wasm"
if [ "$rc" = 0 ] && grep -qx 'grow 128 pages: ok' "$C/out"; then ok "cli no_max_memory"
else bad "cli no_max_memory: exit $rc: $(tr '\n' ' ' <"$C/out")"; fi

# Ctrl-C under `pylon run`, which calls the guest's PyErr_SetInterrupt hook
# (cli_sigint.wasm exports one, as python.wasm does): a sleep (poll_oneoff
# on a clock only) must end early and successfully, not with an error
# (wasi-libc would turn it into ENOTSUP), a read of a pipe must fail with
# EINTR, and the hook must run in both cases.  Job control (set -m) so
# that the background guest does not start with SIGINT ignored.
mkdir -p "$C/fakelib/python3.11"; : >"$C/fakelib/python3.11/os.py"
for mode in sleep read; do
  set -m
  # (both waits give up by themselves after 30 s: no hang if Ctrl-C is lost)
  sleep 30 | "$PYLON" run --python "$WASMDIR/cli_sigint.wasm" --stdlib "$C/fakelib" \
    -c "$mode" >"$C/out" 2>"$C/err" & gp=$!
  set +m
  for i in $(seq 100); do grep -q ready "$C/out" && break; sleep 0.1; done
  sleep 0.3
  kill -INT "$gp"
  wait "$gp"; rc=$?
  case $mode in
    sleep) want='sleep: returned 0 (ok), early, hook called' ;;
    read)  want='read: returned -1 (Interrupted system call), early, hook called' ;;
  esac
  if [ "$rc" = 0 ] && grep -qxF "$want" "$C/out"; then ok "cli sigint_$mode"
  else bad "cli sigint_$mode: exit $rc: $(tr '\n' ' ' <"$C/out")"; sed 's/^/     stderr: /' "$C/err" | head -5; fi
done

# sockets handed in with --listen
sock_ok=0
for attempt in 1 2 3; do
  port=$((20000 + RANDOM % 30000))
  timeout 60 "$PYLON" wasm run "${W[@]}" --listen "127.0.0.1:$port" "$WASMDIR/cli_sock.wasm" \
    >"$C/sock.out" 2>"$C/sock.err" </dev/null & gp=$!
  timeout 30 node "$ROOT/tests/wasi/sock-client.mjs" "$port" >"$C/client.out" 2>&1
  wait "$gp"; rc=$?
  grep -q 'pick a free port' "$C/sock.err" && continue
  break
done
if [ "$rc" = 0 ] && ! grep -q ': FAIL' "$C/sock.out" && grep -qx 'client said: \[bye\]' "$C/sock.out" &&
   grep -qx 'received: "pong\\nmore\\n"' "$C/client.out"; then
  ok "cli sockets ($(grep -c . "$C/sock.out") lines)"
else
  bad "cli sockets: exit $rc"; sed 's/^/     guest: /' "$C/sock.out" | head -30
  sed 's/^/     client: /' "$C/client.out"; sed 's/^/     stderr: /' "$C/sock.err" | head
fi
cli wasm run --listen nonsense "$WASMDIR/cli_env.wasm"; expect_rc listen_bad 2 'HOST:PORT'
cli wasm run --listen 192.0.2.1:1 "$WASMDIR/cli_env.wasm"; expect_rc listen_unbindable 5 'pick a free port'

# every preview-1 function is imported by at least one test program
if command -v wasm-objdump >/dev/null; then
  all=$(sed -n 's/^    { "\([a-z_]*\)", "[^"]*", wasi_.*/\1/p' "$ROOT/src/wasi/wasi.c" | sort -u)
  used=$(for w in "$WASMDIR"/*.wasm; do wasm-objdump -x -j Import "$w"; done |
         sed -n 's/.*<- wasi_snapshot_preview1\.\([a-z_]*\)$/\1/p' | sort -u)
  missing=$(comm -23 <(echo "$all") <(echo "$used"))
  if [ "$(echo "$all" | grep -c .)" = 46 ] && [ -z "$missing" ]; then
    ok "coverage: all 46 wasi_snapshot_preview1 functions are imported by the test programs"
  else bad "coverage: $(echo "$all" | grep -c .) functions registered; not exercised: $missing"; fi
fi
