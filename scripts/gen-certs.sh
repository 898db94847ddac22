#!/usr/bin/env bash
# Makes a CA, node1..3 certificates (server + peer; SANs: the compose service name, localhost,
# 127.0.0.1, ::1) and a client certificate in DIR. Never overwrites a key without --force.
# Usage: scripts/gen-certs.sh DIR [--force]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in ""|-h|--help) sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;; esac
DIR="$1"; shift
BIN="$ROOT/target/release/redoubt"
[ -x "$BIN" ] || cargo build --release --quiet --bin redoubt --manifest-path "$ROOT/Cargo.toml"
exec "$BIN" certs init --out "$DIR" --nodes node1,node2,node3 "$@"
