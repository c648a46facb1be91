#!/usr/bin/env bash
# Runs every daxkv-server integration test by hand, the same set ctest runs
# with -L integration: the suite against redis-server (reference) and against
# daxkv-server on a /dev/shm pool and on an ordinary file, the kill -9 test
# (and its negative control), the twemproxy scale-out test and the abuse
# suite.
# Usage: tests/kv/integration/run_all.sh [BUILD_DIR] [KILL9_ROUNDS]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
ROUNDS=${2:-20}
SERVER=$(cd "$BUILD" && pwd)/bin/daxkv-server
PY=/usr/bin/python3  # Debian's interpreter, where python3-redis lives
status=0
run() {
  echo "== $*"
  "$PY" "$@"
  local rc=$?
  if [ $rc -eq 77 ]; then echo "   (skipped)"; elif [ $rc -ne 0 ]; then status=1; fi
}
run "$HERE/run_suite.py" --target redis
run "$HERE/run_suite.py" --target daxkv --server "$SERVER" --pool-kind shm
run "$HERE/run_suite.py" --target daxkv --server "$SERVER" --pool-kind file
run "$HERE/kill9_test.py" --target daxkv --server "$SERVER" --rounds "$ROUNDS"
run "$HERE/kill9_test.py" --target redis --server "$(command -v redis-server)" \
  --rounds 5 --negative-control
run "$HERE/twemproxy_test.py" --target daxkv --server "$SERVER"
run "$HERE/abuse_test.py" --daxkv "$SERVER" --redis "$(command -v redis-server)"
exit $status
