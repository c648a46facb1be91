#!/usr/bin/env bash
# Runs the QEMU DAX lab through ctest (label `lab`, serial) and prints the
# summary table. The last step of scripts/test.sh and the body of `make lab`.
# Usage: tests/lab/run.sh BUILD_DIR
set -uo pipefail
BUILD=${1:-build}
echo "== QEMU DAX lab (ctest -L lab) =="
ctest --test-dir "$BUILD" -L lab --output-on-failure
rc=$?
[ -f "$BUILD/lab/summary.txt" ] && cat "$BUILD/lab/summary.txt"
exit "$rc"
