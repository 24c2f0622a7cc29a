#!/usr/bin/env bash
# Builds everything and runs the whole test suite (unit tests and tests against
# real parley-node processes over loopback). Exits non-zero if anything fails.
# Expects the packages of deploy/install-deps.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_TESTS=ON
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
