#!/usr/bin/env bash
# The body of `make serve`: start daxkv-server on the embedded default pool.
# Usage: scripts/serve.sh BUILD_DIR POOL POOL_SIZE PORT
set -euo pipefail
BUILD=$1 POOL=$2 POOL_SIZE=$3 PORT=$4
SERVER="$BUILD/bin/daxkv-server"
if [ ! -x "$SERVER" ]; then
  echo "daxkv-server is missing from $BUILD/bin: run 'make build' and check its output." >&2
  exit 1
fi
mkdir -p "$(dirname "$POOL")"
echo "Starting daxkv-server on $POOL (created with $POOL_SIZE if missing), port $PORT."
echo "It prints the backing, its durability mode and the recovery time, then"
echo "'Ready to accept connections'. Connect with:  redis-cli -p $PORT"
echo "Stop it with Ctrl-C or 'redis-cli -p $PORT shutdown' (clean close)."
exec "$SERVER" --pool "$POOL" --pool_size "$POOL_SIZE" --port "$PORT"
