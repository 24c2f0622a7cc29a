#!/usr/bin/env bash
# Builds the libFuzzer target with clang (in build-fuzz), replays every kept
# regression input, then fuzzes for SECONDS (default 60) from seeds that capnp
# encodes from the schema. A crash fails the run and leaves its input in
# build-fuzz/crashes/: fix it and keep the input in tests/fuzz/regressions/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
build="${PARLEY_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARLEY_FUZZ=ON \
  -DPARLEY_TESTS=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
cmake --build "$build" -j "$(nproc)" --target parley-fuzz-frames
fuzzer="$build/parley-fuzz-frames"
regressions=("$root"/tests/fuzz/regressions/*)
if [ -e "${regressions[0]}" ]; then
  "$fuzzer" "${regressions[@]}"
fi
corpus="$build/corpus"
bash "$root/tests/fuzz/make-seeds.sh" "$corpus"
mkdir -p "$build/crashes"
"$fuzzer" -max_total_time="$seconds" -artifact_prefix="$build/crashes/" \
  -print_final_stats=1 "$corpus"
