#!/usr/bin/env bash
# Installs the Debian 12 packages that parley's build, tests and tools need.
# Idempotent: apt-get skips what is already installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev libcaf-doc            # actors and distribution (CAF 0.17.6)
  libcapnp-dev capnproto           # wire format
  librocksdb-dev                   # storage
  libmimalloc-dev                  # the node's memory allocator
  catch2                           # tests
  libsodium-dev                    # Ed25519 identities, end-to-end crypto
  libsqlite3-dev sqlite3           # client outbox
  libcli11-dev                     # command lines
  nlohmann-json3-dev               # admin shell and admin actor (JSON)
  libedit-dev                      # parley-shell line editing
  libssl-dev openssl               # TLS from clients to the load balancer
  libboost-dev                     # Boost.Beast for parley-media
  curl                             # media tests: a real HTTP client against parley-media
  haproxy                          # load balancer in front of a cluster
  coturn                           # TURN relay for calls (deploy/turnserver.conf)
  clang libclang-rt-14-dev         # libFuzzer target (deploy/run-fuzz.sh)
  python3                          # test drivers
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${packages[@]}"
# The package enables a coturn service with its stock configuration; parley's is
# deploy/turnserver.conf (README, "Calls"), started on purpose, not by default.
if command -v systemctl >/dev/null && systemctl is-enabled coturn >/dev/null 2>&1; then
  $SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
fi
