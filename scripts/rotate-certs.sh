#!/usr/bin/env bash
# Rotates the certificates of the cluster started by scripts/cluster.sh, without restarting a
# node or failing a request.
#
# Usage: scripts/rotate-certs.sh [--ca]
#   (default)  issue new node and client certificates from the current CA
#   --ca       roll a new CA in three phases: every node trusts old+new, leaves are reissued
#              from the new CA, then the old CA is dropped
#
# Files are replaced atomically; nodes reload them by themselves (file watcher, a periodic
# re-check, and SIGHUP for local processes). After each phase the script checks, with
# `redoubt certs probe`, that every node serves the expected certificate on its TLS and peer
# ports.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/cluster"
CERTS="$STATE/certs"
BIN="$ROOT/target/release/redoubt"
NODES=(1 2 3)

ROLL_CA=0
for arg in "$@"; do
  case "$arg" in
    --ca) ROLL_CA=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done
[ -f "$CERTS/ca.crt" ] || { echo "no cluster/certs/ca.crt: run scripts/cluster.sh up first" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release --quiet --bin redoubt --manifest-path "$ROOT/Cargo.toml"

nudge() {
  # Local processes also get SIGHUP (the file watcher would see the change within seconds).
  for n in "${NODES[@]}"; do
    local pidfile="$STATE/node$n/pid"
    [ -f "$pidfile" ] && kill -HUP "$(cat "$pidfile")" 2>/dev/null || true
  done
}

# serial_of FILE
serial_of() { "$BIN" certs show "$1" | awk -F': *' '/^serial/ {print $2}'; }

# verify_serving CAFILE: every node serves its current certificate on both ports.
verify_serving() {
  local ca="$1"
  for n in "${NODES[@]}"; do
    local want; want="$(serial_of "$CERTS/node$n.crt")"
    local deadline=$((SECONDS + 30))
    for port in "639$n" "1638$n"; do
      # The TLS port takes the client certificate; the peer port admits node certificates only.
      local who=client
      [ "$port" = "1638$n" ] && who="node$n"
      until out="$("$BIN" certs probe "127.0.0.1:$port" --ca "$ca" --server-name "node$n" \
              --cert "$CERTS/$who.crt" --key "$CERTS/$who.key" 2>&1)" && grep -q "$want" <<<"$out"; do
        if [ $SECONDS -ge $deadline ]; then
          echo "node $n port $port does not serve serial $want:" >&2; echo "$out" >&2; exit 1
        fi
        sleep 0.5
      done
      echo "node $n port $port serves serial $want"
    done
  done
}

reissue_leaves() {
  local ca_dir="$1"
  for n in "${NODES[@]}"; do
    "$BIN" certs issue --ca-dir "$ca_dir" --name "node$n" --out "$CERTS" --force >/dev/null
  done
  "$BIN" certs issue --ca-dir "$ca_dir" --name client --client --out "$CERTS" --force >/dev/null
}

if [ "$ROLL_CA" = 0 ]; then
  reissue_leaves "$CERTS"
  nudge
  verify_serving "$CERTS/ca.crt"
  echo "leaf certificates rotated"
  exit 0
fi

NEW="$CERTS/next-ca"
mkdir -p "$NEW"
[ -f "$NEW/ca.crt" ] || "$BIN" certs new-ca --out "$NEW" >/dev/null
# Phase 1: trust both CAs.
cat "$CERTS/ca.crt" "$NEW/ca.crt" > "$CERTS/ca.crt.tmp" && mv "$CERTS/ca.crt.tmp" "$CERTS/ca.crt"
nudge; sleep 6
echo "phase 1: nodes trust the old and the new CA"
# Phase 2: leaves from the new CA (the bundle still trusts the old ones still in use).
reissue_leaves "$NEW"
nudge
verify_serving "$CERTS/ca.crt"
echo "phase 2: nodes serve certificates of the new CA"
# Phase 3: drop the old CA.
cp "$NEW/ca.crt" "$CERTS/ca.crt.tmp" && mv "$CERTS/ca.crt.tmp" "$CERTS/ca.crt"
cp "$NEW/ca.key" "$CERTS/ca.key.tmp" && chmod 600 "$CERTS/ca.key.tmp" && mv "$CERTS/ca.key.tmp" "$CERTS/ca.key"
rm -rf "$NEW"
nudge
verify_serving "$CERTS/ca.crt"
echo "phase 3: the old CA is no longer trusted; CA roll done"
