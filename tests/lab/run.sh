#!/usr/bin/env bash
# Runs the QEMU DAX lab through ctest (serial) and prints the summary
# table. `make test` (scripts/test.sh) runs the CI subset, label `lab`;
# `make lab` runs every part, label `lab-full` (tests/lab/README.md).
# Usage: tests/lab/run.sh BUILD_DIR [ci|full]
set -uo pipefail
BUILD=${1:-build}
case "${2:-ci}" in
  ci) label='^lab$' ;;
  full) label='^lab-full$' ;;
  *) echo "usage: $0 BUILD_DIR [ci|full]" >&2; exit 2 ;;
esac
echo "== QEMU DAX lab (ctest -L '$label') =="
ctest --test-dir "$BUILD" -L "$label" --output-on-failure
rc=$?
[ -f "$BUILD/lab/summary.txt" ] && cat "$BUILD/lab/summary.txt"
exit "$rc"
