#!/usr/bin/env bash
# Installs the Debian packages Pylon builds and tests with, if any is missing.
# Idempotent and quiet when everything is there.  Needs root (or sudo).
set -euo pipefail
PKGS=(make gcc tmux clang-19 lld-19 llvm-19 wabt wasi-libc libclang-rt-19-dev-wasm32
      libclang-rt-19-dev libfuzzer-19-dev nodejs libsodium-dev libcurl4-openssl-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "pylon: installing Debian packages: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
