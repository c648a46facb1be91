#!/usr/bin/env bash
# The body of `make test`: every ctest label, in order, failing on any
# failure. Usage: scripts/test.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
JOBS=$(nproc)

echo "== host tests (ctest -LE lab) =="
ctest --test-dir "$BUILD" -LE lab --output-on-failure -j "$JOBS"
