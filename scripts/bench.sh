#!/usr/bin/env bash
# Throughput of Redoubt next to a durable Redis, with redis-benchmark.
#
# Redis runs with `appendonly yes` + `appendfsync always` (every write on disk before the reply),
# which is what Redoubt promises for every acknowledged write. Both run on this machine, on
# loopback, one after the other. Prints one table with requests/s and the ratio Redoubt/Redis.
#
# Usage: scripts/bench.sh [--requests N] [--clients C] [--tests set,get,...]
set -euo pipefail

REQUESTS=100000
CLIENTS=50
TESTS=set,get,incr,lpush,hset
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

echo "building redoubt (release)..." >&2
cargo build --release --quiet --bin redoubt --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/redoubt"

WORK="$(mktemp -d)"
REDIS_PORT=$((20000 + RANDOM % 10000))
REDOUBT_PORT=$((REDIS_PORT + 1))
RAFT_PORT=$((REDIS_PORT + 2))
cleanup() {
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  [ -n "${REDOUBT_PID:-}" ] && kill "$REDOUBT_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_ping() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

mkdir -p "$WORK/redis" "$WORK/redoubt"
redis-server --port "$REDIS_PORT" --dir "$WORK/redis" --appendonly yes --appendfsync always \
  --save "" --daemonize no --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
"$BIN" --port "$REDOUBT_PORT" --dir "$WORK/redoubt" --raft-addr "127.0.0.1:$RAFT_PORT" \
  --logfile "$WORK/redoubt/redoubt.log" &
REDOUBT_PID=$!
wait_ping "$REDIS_PORT"
wait_ping "$REDOUBT_PORT"

# run PORT PIPELINE -> lines "test,rps"
run() {
  redis-benchmark -p "$1" -t "$TESTS" -c "$CLIENTS" -n "$REQUESTS" -P "$2" --csv 2>/dev/null \
    | tail -n +2 | awk -F'","' '{ gsub(/"/, "", $1); gsub(/"/, "", $2); print $1 "," $2 }'
}

printf '%-8s %-4s %14s %14s %8s\n' test P redis_rps redoubt_rps ratio
for P in 1 16; do
  run "$REDIS_PORT" "$P" > "$WORK/redis.csv"
  run "$REDOUBT_PORT" "$P" > "$WORK/redoubt.csv"
  join -t, <(sort "$WORK/redis.csv") <(sort "$WORK/redoubt.csv") | while IFS=, read -r name redis redoubt; do
    ratio=$(awk -v a="$redoubt" -v b="$redis" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    printf '%-8s %-4s %14s %14s %8s\n' "$name" "$P" "$redis" "$redoubt" "$ratio"
  done
done
