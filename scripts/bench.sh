#!/usr/bin/env bash
# Redoubt next to a durable Redis, with redis-benchmark. Every figure is printed with its ratio
# to Redis measured in the same run.
#
# Redis runs with `appendonly yes` + `appendfsync always` (every write on disk before the reply),
# which is what Redoubt promises for every acknowledged write. Both run on this machine, on
# loopback, one after the other. Sections:
#   throughput  requests/s at -P 1 and -P 16 (-c CLIENTS), the same keys over and over, then
#               SET/GET with random keys out of 1M (-r 1000000)
#   latency     one client, one request at a time (-c 1): p50 and p99 in ms
#   dataset     N keys x 100 B loaded into both: RSS, bytes on disk, time to restart to the
#               full DBSIZE, and p99/max SET latency while a snapshot (Redis: BGSAVE) is taken
# With --cluster the throughput and latency sections also run against a three-node cluster
# (mutual TLS between nodes), through the leader and through a follower.
#
# Usage: scripts/bench.sh [--requests N] [--clients C] [--tests set,get,...] [--keys N]
#                         [--sections throughput,latency,dataset] [--cluster]
# Environment: REDOUBT_BIN=path to measure a given binary (skips the build).
set -euo pipefail

REQUESTS=100000
CLIENTS=50
TESTS=set,get,incr,lpush,hset
KEYS=1000000
SECTIONS=throughput,latency,dataset
CLUSTER=0
while [ $# -gt 0 ]; do
  case "$1" in
    --requests) REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --tests) TESTS="$2"; shift 2 ;;
    --keys) KEYS="$2"; shift 2 ;;
    --sections) SECTIONS="$2"; shift 2 ;;
    --cluster) CLUSTER=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
has_section() { [[ ",$SECTIONS," == *",$1,"* ]]; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench.sh needs $tool (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

# REDOUBT_BIN=path measures that binary instead (e.g. an older build, for a before/after).
if [ -n "${REDOUBT_BIN:-}" ]; then
  BIN="$REDOUBT_BIN"
else
  echo "building redoubt (release)..." >&2
  cargo build --release --quiet --bin redoubt --manifest-path "$ROOT/Cargo.toml"
  BIN="$ROOT/target/release/redoubt"
fi

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
  for _ in $(seq 1 300); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  exit 1
}

start_redis() {
  redis-server --port "$REDIS_PORT" --dir "$WORK/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no --logfile "$WORK/redis/redis.log" &
  REDIS_PID=$!
  wait_ping "$REDIS_PORT"
}
start_redoubt() {
  "$BIN" --port "$REDOUBT_PORT" --dir "$WORK/redoubt" --raft-addr "127.0.0.1:$RAFT_PORT" \
    --logfile "$WORK/redoubt/redoubt.log" &
  REDOUBT_PID=$!
  wait_ping "$REDOUBT_PORT"
}
stop() { # PID: SIGTERM and wait for the exit
  kill "$1" 2>/dev/null || true
  while kill -0 "$1" 2>/dev/null; do sleep 0.05; done
}

mkdir -p "$WORK/redis" "$WORK/redoubt"
start_redis
start_redoubt

# bench PORT ARGS... -> csv lines "test,rps,avg,min,p50,p95,p99,max" (test names upper case)
bench() {
  local port="$1"; shift
  redis-benchmark -p "$port" "$@" --csv 2>/dev/null \
    | tail -n +2 | tr -d '"'
}

row() { # SECTION TEST P METRIC REDIS REDOUBT [lower_is_better]
  local ratio
  ratio=$(awk -v a="$6" -v b="$5" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  printf '%-17s %-12s %-5s %-10s %12s %12s %7s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$ratio"
}

# compare TITLE PORT SUFFIX METRIC_COLUMN METRIC_NAME ARGS...: one block of rows, Redoubt on
# PORT next to Redis, for the redis-benchmark ARGS.
compare() {
  local title="$1" port="$2" suffix="$3" col="$4" metric="$5" p="$6"; shift 6
  bench "$REDIS_PORT" "$@" > "$WORK/redis.csv"
  bench "$port" "$@" > "$WORK/redoubt.csv"
  join -t, <(cut -d, -f1,"$col" "$WORK/redis.csv" | sort) <(cut -d, -f1,"$col" "$WORK/redoubt.csv" | sort) \
    | while IFS=, read -r name redis redoubt; do
        row "$title" "$name$suffix" "$p" "$metric" "$redis" "$redoubt"
      done
}

throughput() { # TITLE PORT
  for P in 1 16; do
    compare "$1" "$2" "" 2 rps "$P" -t "$TESTS" -c "$CLIENTS" -n "$REQUESTS" -P "$P"
    compare "$1" "$2" "-rand" 2 rps "$P" -t set,get -c "$CLIENTS" -n "$REQUESTS" -P "$P" -r 1000000
  done
}

latency() { # TITLE PORT
  local n=$((REQUESTS / 5))
  compare "$1" "$2" "" 5 p50_ms c1 -t set,get -c 1 -n "$n"
  compare "$1" "$2" "" 7 p99_ms c1 -t set,get -c 1 -n "$n"
}

printf '%-17s %-12s %-5s %-10s %12s %12s %7s\n' redoubt test P metric redis redoubt ratio
has_section throughput && throughput single-node "$REDOUBT_PORT"
has_section latency && latency single-node "$REDOUBT_PORT"

now() { date +%s.%N; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
disk_mb() { du -sb "$1" | awk '{ printf "%.0f", $1 / 1048576 }'; }
# RESTART_SECS: seconds from starting a server with START_FN until DBSIZE answers N. (Not in
# a subshell: START_FN sets the server's PID.)
restart_time() { # START_FN PORT N
  local t0 t1
  t0=$(now)
  "$1" >/dev/null
  until [ "$(redis-cli -p "$2" dbsize 2>/dev/null)" = "$3" ]; do sleep 0.02; done
  t1=$(now)
  RESTART_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}
# p99 and max SET latency (ms) on PORT while SAVE_CMD runs there.
during_save() { # PORT SAVE_CMD...
  local port="$1"; shift
  bench "$port" -t set -c "$CLIENTS" -n $((REQUESTS * 3)) -r "$KEYS" -d 100 > "$WORK/during.csv" &
  local pid=$!
  sleep 0.5
  redis-cli -p "$port" "$@" >/dev/null
  wait "$pid"
  cut -d, -f7,8 "$WORK/during.csv"
}

if has_section dataset; then
  echo "loading $KEYS keys x 100 B into both..." >&2
  awk -v n="$KEYS" 'BEGIN {
    v = sprintf("%100s", ""); gsub(/ /, "x", v)
    for (i = 0; i < n; i++) {
      k = sprintf("key:%012d", i)
      printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n", length(k), k, v
    }
  }' > "$WORK/load.resp"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  redis-cli -p "$REDOUBT_PORT" flushall >/dev/null
  t0=$(now); redis-cli -p "$REDIS_PORT" --pipe < "$WORK/load.resp" >/dev/null; t1=$(now)
  redoubt_t0=$(now); redis-cli -p "$REDOUBT_PORT" --pipe < "$WORK/load.resp" >/dev/null; redoubt_t1=$(now)
  rm -f "$WORK/load.resp"
  row dataset "load" "pipe" seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
    "$(awk -v a="$redoubt_t0" -v b="$redoubt_t1" 'BEGIN { printf "%.2f", b - a }')"
  row dataset "dbsize" "" keys "$(redis-cli -p "$REDIS_PORT" dbsize)" "$(redis-cli -p "$REDOUBT_PORT" dbsize)"
  row dataset "rss" "" MB "$(rss_mb "$REDIS_PID")" "$(rss_mb "$REDOUBT_PID")"
  read -r redis_p99 redis_max <<<"$(during_save "$REDIS_PORT" bgsave | tr , ' ')"
  read -r redoubt_p99 redoubt_max <<<"$(during_save "$REDOUBT_PORT" bgsave | tr , ' ')"
  row dataset "SET+save" "" p99_ms "$redis_p99" "$redoubt_p99"
  row dataset "SET+save" "" max_ms "$redis_max" "$redoubt_max"
  dbsize_redis=$(redis-cli -p "$REDIS_PORT" dbsize)
  dbsize_redoubt=$(redis-cli -p "$REDOUBT_PORT" dbsize)
  # Redis: the AOF only (the RDB BGSAVE wrote above is not what it restarts from).
  rm -f "$WORK/redis/dump.rdb"
  row dataset "disk" "" MB "$(disk_mb "$WORK/redis")" "$(disk_mb "$WORK/redoubt")"
  stop "$REDIS_PID"; stop "$REDOUBT_PID"
  restart_time start_redis "$REDIS_PORT" "$dbsize_redis"; redis_restart=$RESTART_SECS
  restart_time start_redoubt "$REDOUBT_PORT" "$dbsize_redoubt"
  row dataset "restart" "" seconds "$redis_restart" "$RESTART_SECS"
  row dataset "rss-restart" "" MB "$(rss_mb "$REDIS_PID")" "$(rss_mb "$REDOUBT_PID")"
fi
stop "$REDOUBT_PID"

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
  for role in leader follower; do
    port=$((BASE + LEADER)); [ "$role" = follower ] && port=$((BASE + FOLLOWER))
    has_section throughput && throughput "cluster-$role" "$port"
    has_section latency && latency "cluster-$role" "$port"
  done
fi
