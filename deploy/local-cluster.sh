#!/usr/bin/env bash
# Starts or stops a local parley cluster on loopback: N nodes that know each
# other, plus HAProxy in front of them; with --media M, M media servers too.
#
#   deploy/local-cluster.sh start [N] [--media M] [--base-port P] [--dir D] [--tls]
#   deploy/local-cluster.sh stop [--dir D]
#   deploy/local-cluster.sh status [--dir D]
#
# Clients connect to 127.0.0.1:P (HAProxy, default 7000). Node i (1..N) takes
# clients on P+i, peers on P+100+i, Prometheus on P+200+i and parley-shell on
# P+300+i; its data and log are in D/n<i> (default
# ./cluster). The cluster secret is generated once into D/cookie. With --tls,
# HAProxy also terminates TLS on P+50 with a self-signed certificate made once
# into D/tls.pem (clients: parley-chat --server 127.0.0.1:P+50 --ca-file D/tls.pem).
# Media server j (1..M) listens on P+400+j with its blobs and log in D/m<j>;
# HAProxy hashes media URIs over them on 127.0.0.1:P+400, which the nodes
# name to clients; nodes and media servers share the key D/media.key.
# The binaries come from $PARLEY_NODE and $PARLEY_MEDIA, else build/; every node
# also gets the options in $PARLEY_NODE_ARGS (e.g. --parley.login-rate=100000).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:-}"; shift || true
n=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then n="$1"; shift; fi
media=0
base=7000
dir="$PWD/cluster"
tls=0
while [ $# -gt 0 ]; do
  case "$1" in
    --media) media="$2"; shift 2 ;;
    --tls) tls=1; shift ;;
    --base-port) base="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
node_bin="${PARLEY_NODE:-$root/build/parley-node}"
media_bin="${PARLEY_MEDIA:-$root/build/parley-media}"

fail() {  # message [log file to show]
  echo "$1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -n 20 "$2" | sed 's/^/  | /' >&2; fi
  exit 1
}

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
  local members="" servers="" media_servers="" media_args=()
  for i in $(seq 1 "$n"); do
    members+="${members:+,}\"n$i@127.0.0.1:$((base + 100 + i))\""
    servers+="    server n$i 127.0.0.1:$((base + i)) check"$'\n'
  done
  if [ "$media" -gt 0 ]; then
    [ -x "$media_bin" ] || { echo "no parley-media at $media_bin (build first)" >&2; exit 1; }
    [ -s "$dir/media.key" ] || { head -c 32 /dev/urandom | base64 > "$dir/media.key"; chmod 600 "$dir/media.key"; }
    media_args=(--parley.media-key-file="$dir/media.key" --parley.media-url="http://127.0.0.1:$((base + 400))")
    for j in $(seq 1 "$media"); do
      mkdir -p "$dir/m$j"
      "$media_bin" --host 127.0.0.1 --port $((base + 400 + j)) --blob-dir "$dir/m$j" \
        --key-file "$dir/media.key" >> "$dir/m$j/media.log" 2>&1 &
      echo $! > "$dir/m$j/pid"
      media_servers+="    server m$j 127.0.0.1:$((base + 400 + j)) check"$'\n'
    done
  fi
  declare -A log_start
  for i in $(seq 1 "$n"); do
    mkdir -p "$dir/n$i"
    touch "$dir/n$i/node.log"
    log_start[$i]=$(( $(wc -l < "$dir/n$i/node.log") + 1 ))
    "$node_bin" --host=127.0.0.1 --port=$((base + i)) --data-dir="$dir/n$i/data" \
      --metrics-port=$((base + 200 + i)) --admin-port=$((base + 300 + i)) \
      --cluster.name="n$i" --cluster.members="[$members]" \
      --cluster.secret-file="$dir/cookie" "${media_args[@]}" ${PARLEY_NODE_ARGS:-} \
      >> "$dir/n$i/node.log" 2>&1 &
    echo $! > "$dir/n$i/pid"
  done
  local tls_frontend=""
  if [ "$tls" = 1 ]; then
    [ -s "$dir/tls.pem" ] || bash "$root/deploy/make-test-cert.sh" "$dir/tls.pem" \
      || fail "could not make a certificate in $dir/tls.pem (openssl)"
    tls_frontend="frontend parley_tls
    bind 127.0.0.1:$((base + 50)) ssl crt $dir/tls.pem
    default_backend parley_nodes"
  fi
  sed -e "s|@FRONTEND@|127.0.0.1:$base|" "$root/deploy/haproxy.cfg" \
    | awk -v tls="$tls_frontend" '{ if ($0 == "@TLS_FRONTEND@") print tls; else print }' \
    | awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
    > "$dir/haproxy.cfg"
  if [ "$media" -gt 0 ]; then
    sed -e "s|@MEDIA_FRONTEND@|127.0.0.1:$((base + 400))|" "$root/deploy/haproxy-media.cfg" \
      | awk -v servers="$media_servers" '{ if ($0 == "@MEDIA_SERVERS@") printf "%s", servers; else print }' \
      >> "$dir/haproxy.cfg"
  fi
  for i in $(seq 1 "$n"); do
    wait_for_port 127.0.0.1 $((base + i)) 10 || fail "node n$i did not start; $dir/n$i/node.log ends:" "$dir/n$i/node.log"
  done
  # The cluster is formed when every node has seen every other come up.
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do
      [ "$(tail -n "+${log_start[$i]}" "$dir/n$i/node.log" | grep -o 'cluster: n[0-9]* is up' | sort -u | wc -l)" -ge $((n - 1)) ] && break
      sleep 0.1
    done
  done
  for j in $(seq 1 "$media"); do
    wait_for_port 127.0.0.1 $((base + 400 + j)) 10 || fail "media server m$j did not start; $dir/m$j/media.log ends:" "$dir/m$j/media.log"
  done
  # HAProxy last: servers that are not listening yet would fail its first health
  # checks and start out of the rotation.
  haproxy -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid" -D 2>> "$dir/haproxy.log" \
    || fail "haproxy did not start; $dir/haproxy.log ends:" "$dir/haproxy.log"
  wait_for_port 127.0.0.1 "$base" 10 || fail "haproxy does not listen on $base" "$dir/haproxy.log"
  if [ "$tls" = 1 ]; then
    wait_for_port 127.0.0.1 $((base + 50)) 10 || fail "haproxy does not listen on $((base + 50)) (TLS)" "$dir/haproxy.log"
  fi
  echo "cluster of $n nodes up: clients connect to 127.0.0.1:$base (logs in $dir/n*/node.log)"
  if [ "$media" -gt 0 ]; then
    wait_for_port 127.0.0.1 $((base + 400)) 10 || fail "haproxy's media frontend does not listen" "$dir/haproxy.log"
    echo "$media media servers behind http://127.0.0.1:$((base + 400)) (logs in $dir/m*/media.log)"
  fi
}

stop() {
  if [ -f "$dir/haproxy.pid" ]; then
    kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
    rm -f "$dir/haproxy.pid"
  fi
  local pids=()
  for pidfile in "$dir"/n*/pid "$dir"/m*/pid; do
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
  for pidfile in "$dir"/n*/pid "$dir"/m*/pid; do
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
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
