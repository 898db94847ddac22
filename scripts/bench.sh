#!/usr/bin/env bash
# Throughput of Redoubt next to a durable Redis, with redis-benchmark.
#
# Redis runs with `appendonly yes` + `appendfsync always` (every write on disk before the reply),
# which is what Redoubt promises for every acknowledged write. Both run on this machine, on
# loopback, one after the other. Prints one table with requests/s and the ratio Redoubt/Redis.
#
# With --cluster it also starts a three-node Redoubt cluster (mutual TLS between nodes) and
# measures it through the leader and through a follower.
#
# Usage: scripts/bench.sh [--requests N] [--clients C] [--tests set,get,...] [--cluster]
set -euo pipefail

REQUESTS=100000
CLIENTS=50
TESTS=set,get,incr,lpush,hset
CLUSTER=0
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --cluster) CLUSTER=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
CLUSTER_PIDS=()
cleanup() {
  [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
  [ -n "${REDOUBT_PID:-}" ] && kill "$REDOUBT_PID" 2>/dev/null || true
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
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

# table TITLE PORT: one block of the table, Redoubt on PORT next to Redis.
table() {
  local title="$1" port="$2"
  for P in 1 16; do
    run "$REDIS_PORT" "$P" > "$WORK/redis.csv"
    run "$port" "$P" > "$WORK/redoubt.csv"
    join -t, <(sort "$WORK/redis.csv") <(sort "$WORK/redoubt.csv") | while IFS=, read -r name redis redoubt; do
      ratio=$(awk -v a="$redoubt" -v b="$redis" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
      printf '%-16s %-8s %-4s %14s %14s %8s\n' "$title" "$name" "$P" "$redis" "$redoubt" "$ratio"
    done
  done
}

printf '%-16s %-8s %-4s %14s %14s %8s\n' redoubt test P redis_rps redoubt_rps ratio
table single-node "$REDOUBT_PORT"
kill "$REDOUBT_PID" 2>/dev/null || true

if [ "$CLUSTER" = 1 ]; then
  "$BIN" certs init --out "$WORK/certs" --nodes node1,node2,node3 >/dev/null
  BASE=$((REDIS_PORT + 10))
  PEERS="1=node1@127.0.0.1:$((BASE + 11)),2=node2@127.0.0.1:$((BASE + 12)),3=node3@127.0.0.1:$((BASE + 13))"
  for n in 1 2 3; do
    mkdir -p "$WORK/c$n"
    extra=()
    [ "$n" = 1 ] && extra=(--bootstrap yes)
    "$BIN" --port $((BASE + n)) --dir "$WORK/c$n" --node-id "$n" --raft-addr "127.0.0.1:$((BASE + 10 + n))" \
      --peers "$PEERS" --masterauth bench-secret --logfile "$WORK/c$n/redoubt.log" \
      --peer-tls-cert-file "$WORK/certs/node$n.crt" --peer-tls-key-file "$WORK/certs/node$n.key" \
      --peer-tls-ca-cert-file "$WORK/certs/ca.crt" "${extra[@]}" &
    CLUSTER_PIDS+=($!)
  done
  for n in 1 2 3; do wait_ping $((BASE + n)); done
  LEADER=""
  for _ in $(seq 1 100); do
    LEADER="$(redis-cli -p $((BASE + 1)) raft.leader 2>/dev/null | head -1)"
    [[ "$LEADER" =~ ^[0-9]+$ ]] && break
    sleep 0.1
  done
  FOLLOWER=$(( LEADER % 3 + 1 ))
  table "cluster-leader" $((BASE + LEADER))
  table "cluster-follower" $((BASE + FOLLOWER))
fi
