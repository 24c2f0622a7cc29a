#!/usr/bin/env bash
# Runs issue 9's workloads W1-W4 the way docs/BENCHMARKS.md reports them: the node
# pinned to CPU 0 (taskset -c 0), parley-bench on CPU 1, fsync on (the default),
# a fresh data folder per workload. Each result goes to OUT as a table (NAME.txt,
# with the machine's load before the run) and as JSON (NAME.json).
#
#   tools/bench/measure.sh [OUT [WORKLOAD...]]   (default: out/bench; w1 w2 w3 w4)
#
# Environment: PARLEY_BUILD_DIR (default build), BENCH_PORT (default 7311),
# BENCH_SECONDS (sending time of w2 and w3, default 20), BENCH_NODE_ARGS (more
# parley-node options, e.g. --parley.inbox-window=1024). The node's per-client
# limits (rate, logins per address, connections) are lifted: the workloads
# measure its capacity, and one bench process is one address sending for many.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${PARLEY_BUILD_DIR:-$root/build}"
out="${1:-$root/out/bench}"
[ $# -gt 0 ] && shift
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(w1 w2 w3 w4)
port="${BENCH_PORT:-7311}"
seconds="${BENCH_SECONDS:-20}"
mkdir -p "$out"
keys="$out/keys"
data="$out/data"
node_pid=""

start_node() {  # "keep": on the data folder of the last node
  [ "${1:-}" = keep ] || rm -rf "$data"
  rm -f "$out/port"
  taskset -c 0 "$build/parley-node" --host=127.0.0.1 --port="$port" \
    --data-dir="$data" --port-file="$out/port" --admin-port=0 --metrics-port=0 \
    --parley.rate-messages=10000000 --parley.rate-bytes=10000000000 \
    --parley.login-rate=1000000 --parley.max-connections=100000 \
    ${BENCH_NODE_ARGS:-} >>"$out/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 100); do
    [ -s "$out/port" ] && return 0
    sleep 0.1
  done
  echo "measure: the node did not start; see $out/node.log" >&2
  exit 1
}

# A node that does not stop within 30 s is hung: its threads' stacks go to
# OUT/hung-<pid>.txt (with gdb), then it is killed.
stop_node() {
  [ -n "$node_pid" ] || return 0
  kill -TERM "$node_pid"
  for _ in $(seq 300); do
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$node_pid" 2>/dev/null; then
    echo "measure: node $node_pid did not stop; see $out/hung-$node_pid.txt" >&2
    if command -v gdb >/dev/null; then
      timeout 60 gdb -p "$node_pid" -batch -ex "thread apply all bt 16" \
        >"$out/hung-$node_pid.txt" 2>&1 || true
    fi
    kill -KILL "$node_pid"
  fi
  wait "$node_pid" || true
  node_pid=""
}
trap stop_node EXIT

# bench NAME ARGS...: one parley-bench run against the running node.
bench() {
  local name="$1"
  shift
  {
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# busiest processes before the run:"
    ps -eo pid,pcpu,comm --sort=-pcpu | sed -n '2,5p' | sed 's/^/#   /'
    echo "# taskset -c 1 parley-bench --port $port --node-pid NODE $*"
  } >"$out/$name.txt"
  # A run whose checks fail is recorded, and the others still run.
  if ! taskset -c 1 "$build/parley-bench" --port "$port" --node-pid "$node_pid" \
    --json-file "$out/$name.json" "$@" | tee -a "$out/$name.txt"; then
    echo "measure: $name failed its checks" >&2
    failed+=("$name")
  fi
}
failed=()

# One key file of 18,000 users for every workload.
if [ ! -s "$keys" ]; then
  start_node
  taskset -c 1 "$build/parley-bench" --port "$port" --node-pid "$node_pid" \
    --keys "$keys" --quiet register --users 18000 >/dev/null
  stop_node
fi

for w in "${workloads[@]}"; do
  case "$w" in
    w1)
      # Registered on disk, not in the node's memory: logins pay for their caches.
      start_node
      bench w1-register --keys "$keys" --register register --users 18000
      stop_node
      start_node keep
      bench w1 --keys "$keys" w1 --users 18000
      stop_node
      ;;
    w2)
      start_node
      bench w2 --keys "$keys" --register w2 --users 1000 --window 16 --seconds "$seconds"
      stop_node
      ;;
    w3)
      start_node
      bench w3-5000 --keys "$keys" --register w3 --users 10000 --rate 5000 --seconds "$seconds"
      stop_node
      start_node
      bench w3-20000 --keys "$keys" --register w3 --users 10000 --rate 20000 --seconds "$seconds"
      stop_node
      ;;
    w4)
      start_node
      bench w4 --keys "$keys" --register w4 --count 50000
      stop_node
      ;;
    *)
      echo "measure: no workload $w" >&2
      exit 2
      ;;
  esac
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "measure: failed: ${failed[*]}" >&2
  exit 1
fi
