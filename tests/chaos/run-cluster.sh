#!/usr/bin/env bash
# The chaos test against a cluster: 3 nodes behind HAProxy on loopback. Clients
# connect through HAProxy (and parley-chaos's own proxy, which cuts and stalls
# their links) while the driver kill -9s and restarts random nodes, one at a
# time; then everything drains and every device store is checked. Exits 0 only
# if nothing was duplicated, lost or reordered and every sender saw every
# message delivered.
#
#   tests/chaos/run-cluster.sh                  # 200 clients, 60 s (the full run)
#   tests/chaos/run-cluster.sh 20 15            # CLIENTS SECONDS (what ctest runs)
#   tests/chaos/run-cluster.sh 200 60 --seed 7  # further arguments go to parley-chaos
#
# Uses PARLEY_BUILD_DIR (default ./build) and builds what it needs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
clients="${1:-200}"; seconds="${2:-60}"
shift $(( $# >= 2 ? 2 : $# )) || true
if [ -z "${PARLEY_CHAOS_NO_BUILD:-}" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  cmake --build "$build" -j "$(nproc)" --target parley-node parley-chaos > /dev/null
fi
command -v haproxy > /dev/null || { echo "haproxy is not installed" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/parley-chaos-cluster-XXXXXX")"
haproxy_pid=""
cleanup() {
  [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
head -c 32 /dev/urandom | base64 > "$work/cookie"
front=$(free_port)
members=""; servers=""; node_cmds=()
declare -a client_ports
for i in 1 2 3; do
  client_ports[$i]=$(free_port)
  members+="${members:+,}\"n$i@127.0.0.1:$(free_port)\""
  servers+="    server n$i 127.0.0.1:${client_ports[$i]} check"$'\n'
done
for i in 1 2 3; do
  mkdir -p "$work/n$i"
  node_cmds+=(--node-cmd "$build/parley-node --host=127.0.0.1 --port=${client_ports[$i]} \
--data-dir=$work/n$i/data --admin-port=0 --metrics-port=0 --cluster.name=n$i \
'--cluster.members=[$members]' --cluster.secret-file=$work/cookie \
--parley.heartbeat-interval=1s")
done
sed -e "s|@FRONTEND@|127.0.0.1:$front|" -e "s|@TLS_FRONTEND@||" "$root/deploy/haproxy.cfg" \
  | awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
  > "$work/haproxy.cfg"
haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
haproxy_pid=$!
"$build/tests/parley-chaos" --clients "$clients" --seconds "$seconds" \
  --drain-seconds 120 --target "127.0.0.1:$front" "${node_cmds[@]}" \
  --max-nodes-down 1 "$@"
