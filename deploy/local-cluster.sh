#!/usr/bin/env bash
# Starts or stops a local parley cluster on loopback: N nodes that know each
# other, plus HAProxy in front of them.
#
#   deploy/local-cluster.sh start [N] [--base-port P] [--dir D] [--tls]
#   deploy/local-cluster.sh stop [--dir D]
#   deploy/local-cluster.sh status [--dir D]
#
# Clients connect to 127.0.0.1:P (HAProxy, default 7000). Node i (1..N) takes
# clients on P+i, peers on P+100+i, Prometheus on P+200+i and parley-shell on
# P+300+i; its data and log are in D/n<i> (default
# ./cluster). The cluster secret is generated once into D/cookie. With --tls,
# HAProxy also terminates TLS on P+50 with a self-signed certificate made once
# into D/tls.pem (clients: parley-chat --server 127.0.0.1:P+50 --ca-file D/tls.pem).
# The binary comes from $PARLEY_NODE, else build/parley-node.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:-}"; shift || true
n=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then n="$1"; shift; fi
base=7000
dir="$PWD/cluster"
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tls) tls=1; shift ;;
    --base-port) base="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
node_bin="${PARLEY_NODE:-$root/build/parley-node}"

wait_for_port() {  # host port seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

start() {
  [ -x "$node_bin" ] || { echo "no parley-node at $node_bin (build first)" >&2; exit 1; }
  command -v haproxy >/dev/null || { echo "haproxy is not installed (deploy/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$dir"
  [ -s "$dir/cookie" ] || { head -c 32 /dev/urandom | base64 > "$dir/cookie"; chmod 600 "$dir/cookie"; }
  local members="" servers=""
  for i in $(seq 1 "$n"); do
    members+="${members:+,}\"n$i@127.0.0.1:$((base + 100 + i))\""
    servers+="    server n$i 127.0.0.1:$((base + i)) check"$'\n'
  done
  declare -A log_start
  for i in $(seq 1 "$n"); do
    mkdir -p "$dir/n$i"
    touch "$dir/n$i/node.log"
    log_start[$i]=$(( $(wc -l < "$dir/n$i/node.log") + 1 ))
    "$node_bin" --host=127.0.0.1 --port=$((base + i)) --data-dir="$dir/n$i/data" \
      --metrics-port=$((base + 200 + i)) --admin-port=$((base + 300 + i)) \
      --cluster.name="n$i" --cluster.members="[$members]" \
      --cluster.secret-file="$dir/cookie" >> "$dir/n$i/node.log" 2>&1 &
    echo $! > "$dir/n$i/pid"
  done
  local tls_frontend=""
  if [ "$tls" = 1 ]; then
    [ -s "$dir/tls.pem" ] || bash "$root/deploy/make-test-cert.sh" "$dir/tls.pem"
    tls_frontend="frontend parley_tls
    bind 127.0.0.1:$((base + 50)) ssl crt $dir/tls.pem
    default_backend parley_nodes"
  fi
  sed -e "s|@FRONTEND@|127.0.0.1:$base|" "$root/deploy/haproxy.cfg" \
    | awk -v tls="$tls_frontend" '{ if ($0 == "@TLS_FRONTEND@") print tls; else print }' \
    | awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
    > "$dir/haproxy.cfg"
  for i in $(seq 1 "$n"); do
    wait_for_port 127.0.0.1 $((base + i)) 10 || { echo "node n$i did not start; see $dir/n$i/node.log" >&2; exit 1; }
  done
  # The cluster is formed when every node has seen every other come up.
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do
      [ "$(tail -n "+${log_start[$i]}" "$dir/n$i/node.log" | grep -o 'cluster: n[0-9]* is up' | sort -u | wc -l)" -ge $((n - 1)) ] && break
      sleep 0.1
    done
  done
  # HAProxy last: nodes that are not listening yet would fail its first health
  # checks and start out of the rotation.
  haproxy -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid" -D 2>> "$dir/haproxy.log"
  wait_for_port 127.0.0.1 "$base" 10 || { echo "haproxy did not start" >&2; exit 1; }
  if [ "$tls" = 1 ]; then
    wait_for_port 127.0.0.1 $((base + 50)) 10 || { echo "haproxy TLS did not start" >&2; exit 1; }
  fi
  echo "cluster of $n nodes up: clients connect to 127.0.0.1:$base (logs in $dir/n*/node.log)"
}

stop() {
  if [ -f "$dir/haproxy.pid" ]; then
    kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
    rm -f "$dir/haproxy.pid"
  fi
  local pids=()
  for pidfile in "$dir"/n*/pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$pidfile"
  done
  # Nodes drain and exit on SIGTERM; give them a moment.
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  echo "cluster in $dir stopped"
}

status() {
  for pidfile in "$dir"/n*/pid; do
    [ -f "$pidfile" ] || continue
    name="$(basename "$(dirname "$pidfile")")"
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name up"; else echo "$name down"; fi
  done
  if [ -f "$dir/haproxy.pid" ] && kill -0 "$(cat "$dir/haproxy.pid")" 2>/dev/null; then
    echo "haproxy up"; else echo "haproxy down"; fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
