#!/usr/bin/env bash
# Builds the `redoubt:local` image FROM scratch from a statically linked release binary.
# Usage: scripts/build-image.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in -h|--help) sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;; esac
TARGET=x86_64-unknown-linux-gnu
echo "building a static redoubt binary..."
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --quiet --bin redoubt \
  --target "$TARGET" --manifest-path "$ROOT/Cargo.toml"
mkdir -p "$ROOT/target/image"
cp "$ROOT/target/$TARGET/release/redoubt" "$ROOT/target/image/redoubt"
docker build -q -t redoubt:local -f "$ROOT/Dockerfile" "$ROOT" >/dev/null
echo "built image redoubt:local"
