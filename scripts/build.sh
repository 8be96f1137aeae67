#!/usr/bin/env bash
# Configures and builds fora into build/ (or $FORA_BUILD_DIR).  Extra
# arguments go to cmake's configure step (e.g. -DFORA_SANITIZE=address,undefined).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FORA_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
