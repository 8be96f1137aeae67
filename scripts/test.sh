#!/usr/bin/env bash
# Installs dependencies, builds, and runs the whole test suite through ctest.
# This is the README's test command and what CI runs.
#
# It runs the suite twice: a normal build with warnings as errors, then a
# build with AddressSanitizer + UndefinedBehaviorSanitizer.  Set
# FORA_TEST_SANITIZE=0 to skip the second pass locally.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

echo "== clang-format check"
find server analysis include tests -name '*.[ch]' -print0 | xargs -0 clang-format --dry-run --Werror

echo "== build (warnings are errors)"
FORA_BUILD_DIR=build ./scripts/build.sh -DFORA_WERROR=ON -DFORA_SANITIZE=
echo "== ctest"
(cd build && ctest --output-on-failure -j2)

if [ "${FORA_TEST_SANITIZE:-1}" != "0" ]; then
    echo "== build with AddressSanitizer + UndefinedBehaviorSanitizer"
    # the Node tools of the first build are reused (npm ci takes a minute)
    FORA_BUILD_DIR=build-asan ./scripts/build.sh -DFORA_WERROR=ON -DFORA_SANITIZE=address,undefined \
        -DFORA_NODE_DIR="$PWD/build/node"
    echo "== ctest (sanitizers)"
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --output-on-failure -j2)
fi
