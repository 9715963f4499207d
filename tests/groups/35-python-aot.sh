#!/usr/bin/env bash
# 35-python-aot.sh — the whole Python group (30-python.sh) again, on the AOT
# tier: process behaviour and Ctrl-C against native python3.11 (Ctrl-C in a
# busy loop reaches native code through its loop safepoints), the REPL, and
# CPython's regression tests against Node's results.  `make python` compiles
# build/python/python.aot.so first when it is missing or stale (about 2
# minutes on 2 cores); the checks themselves take under a minute.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY_ENGINE=aot exec bash tests/groups/30-python.sh "$@"
