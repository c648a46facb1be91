#!/usr/bin/env bash
# The body of `make serve`: start daxkv-server on the embedded default pool.
# Usage: scripts/serve.sh BUILD_DIR POOL POOL_SIZE PORT
set -euo pipefail
BUILD=$1 POOL=$2 POOL_SIZE=$3 PORT=$4
SERVER="$BUILD/bin/daxkv-server"
if [ ! -x "$SERVER" ]; then
  echo "daxkv-server has not been built yet: the server is not implemented in this revision." >&2
  echo "What exists today: the dax/ layer (see $BUILD/bin/ for tools)." >&2
  exit 1
fi
mkdir -p "$(dirname "$POOL")"
echo "Starting daxkv-server on $POOL ($POOL_SIZE), port $PORT."
echo "Connect with:  redis-cli -p $PORT"
exec "$SERVER" --pool "$POOL" --pool_size "$POOL_SIZE" --port "$PORT"
