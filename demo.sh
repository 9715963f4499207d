#!/usr/bin/env bash
# Pylon's main job on its built-in default: installs what it needs, builds,
# and runs `pylon demo`.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/install-deps.sh
echo "pylon: building" >&2
make -s -j"$(nproc)" >/dev/null
exec build/pylon demo "$@"
