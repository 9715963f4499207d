#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test
# group and ends with one line "N passed, N failed".  See tests/run.sh.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
exec tests/run.sh "$@"
