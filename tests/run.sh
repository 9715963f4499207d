#!/usr/bin/env bash
# Runs every test group in tests/groups/ (in name order) and sums them.
#
# A group is an executable script that builds what it needs, prints its own
# details, and ends by printing one line "RESULT <passed> <failed>".  A group
# that exits non-zero without a RESULT line counts as one failure.
#   tests/run.sh              all groups
#   tests/run.sh spec wasi    only groups whose file name contains a word
set -uo pipefail
cd "$(dirname "$0")/.."
export PYLON_ROOT=$PWD
total_pass=0; total_fail=0; failed_groups=()
echo "pylon: building" >&2
if ! make -s -j"$(nproc)" >/dev/null; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
for g in tests/groups/*.sh; do
  name=$(basename "$g" .sh)
  if [ $# -gt 0 ]; then
    keep=0; for w in "$@"; do [[ $name == *"$w"* ]] && keep=1; done
    [ $keep = 1 ] || continue
  fi
  echo "=== $name"
  log=$(mktemp)
  start=$(date +%s)
  bash "$g" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
  rm -f "$log"
  if [ -n "$line" ]; then
    set -- "$@"; p=$(echo "$line" | cut -d' ' -f2); f=$(echo "$line" | cut -d' ' -f3)
  else
    p=0; f=1
  fi
  [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  [ "$f" -gt 0 ] && failed_groups+=("$name")
  echo "=== $name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
done
[ ${#failed_groups[@]} -gt 0 ] && echo "failed groups: ${failed_groups[*]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
