#!/usr/bin/env bash
# Sets up and starts one parley node with the embedded defaults: installs the
# Debian packages, builds (Release), and runs parley-node on 127.0.0.1:7000 with
# its RocksDB in ./data. Extra arguments go to parley-node (see --help).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/deploy/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DPARLEY_TESTS=OFF
cmake --build "$root/build" -j "$(nproc)" --target parley-node parley-chat
exec "$root/build/parley-node" --host 127.0.0.1 --port 7000 --data-dir ./data "$@"
