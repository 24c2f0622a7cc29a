#!/usr/bin/env bash
# Builds the whole suite with AddressSanitizer and UBSan (in build-asan) and runs
# it (all but the long load tests): the same tests, now also failing on memory
# errors and undefined behaviour.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${PARLEY_ASAN_BUILD_DIR:-$root/build-asan}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_SANITIZE=ON
cmake --build "$build" -j "$(nproc)"
# CAF and RocksDB are not instrumented: vectors crossing into them would trip
# the container-overflow check without a real overflow.
export ASAN_OPTIONS="detect_container_overflow=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/deploy/ubsan.supp:${UBSAN_OPTIONS:-}"
# The long load tests (the chaos runs, the 100,000-message inbox, the 100 MiB
# file) run in the plain build; under ASan they would take several times longer.
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" \
  -E "^chaos:|100000-message|100 MiB|1024 members"
