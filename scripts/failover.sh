#!/usr/bin/env bash
# Fail-over times of a three-node Redoubt cluster, as a client sees them.
#
# For each fault, N times (default 5), on a fresh cluster of real processes with a fault proxy on
# every peer link and a write load with clients on every node: the longest window in which no
# client anywhere had a write acknowledged after the fault, and a check that no acknowledged write
# was lost. Faults: kill (kill -9 of the leader), pause (SIGSTOP of the leader), isolate (the
# leader cut off from both others), transfer (RAFT.TRANSFER under load, 2 per repetition),
# rtt150 (150 ms added to every peer round trip for 5 s: gap, writes/s, leader/term change).
# Targets: <= 1.5 s for kill/pause/isolate, <= 0.3 s for transfer, writes continue at 150 ms RTT.
#
# Prints per-repetition numbers, then a markdown table. Takes several minutes (about 15 s per
# repetition of each fault, plus the release build). Not part of CI. Exits 1 on any failure.
#
# Usage: scripts/failover.sh [--reps N] [--only kill,pause,isolate,transfer,rtt150]
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

echo "building redoubt and failover (release)..." >&2
# Both binaries by name: with `--bin failover` alone cargo would build only that one.
cargo build --release --quiet -p redoubt-node -p redoubt-cluster-tests --bin redoubt --bin failover

# Measure one fixed binary: a copy, so that a rebuild of target/release during the run (another
# checkout's build, an IDE) does not swap the node under test half-way (kill restarts it).
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cp target/release/redoubt "$WORK/redoubt"
export REDOUBT_BIN="$WORK/redoubt"

echo "redoubt $(git describe --always --dirty 2>/dev/null || echo '(no git)'), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
"$ROOT/target/release/failover" "$@"
