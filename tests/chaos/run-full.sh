#!/usr/bin/env bash
# The full chaos test (issue 4): 200 reconnecting clients exchange messages for
# 60 s while the node is killed with SIGKILL and restarted and their links are
# cut and stalled; then everything drains and every store is checked. Prints the
# counts; exits 0 only if nothing was duplicated, lost or reordered and every
# sender saw every message delivered.
#
#   tests/chaos/run-full.sh                       # against a parley-node of its own
#   tests/chaos/run-full.sh --seed 1234 --keep    # extra arguments go to parley-chaos
#   tests/chaos/run-full.sh --target 127.0.0.1:7000 \
#       --node-cmd "build/parley-node --config-file=deploy/cluster/node1.ini" ...
#                                                 # against nodes (behind HAProxy) it kills
#
# Builds parley-node and parley-chaos first (PARLEY_BUILD_DIR, default ./build).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j "$(nproc)" --target parley-node parley-chaos
own_node=(--node-bin "$build/parley-node")
for arg in "$@"; do
  case "$arg" in
    --target|--target=*) own_node=() ;;
  esac
done
exec "$build/tests/parley-chaos" --clients 200 --seconds 60 --drain-seconds 120 \
  "${own_node[@]}" "$@"
