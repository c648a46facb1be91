#!/usr/bin/env bash
# scripts/check_repo.sh refuses an undocumented tracked file over 1 MiB and
# accepts it once a README.md beside it names it.
set -euo pipefail
script=$(cd "$(dirname "$0")/../.." && pwd)/scripts/check_repo.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
git init -q .
mkdir -p data
head -c $((1024 * 1024 + 1)) /dev/zero > data/big.bin
head -c 1000 /dev/zero > small.bin
git add data/big.bin small.bin
if bash "$script" "$tmp" 2>/dev/null; then
  echo "FAIL: an undocumented 1 MiB + 1 file passed" >&2
  exit 1
fi
echo "big.bin: a fixture for the test" > data/README.md
bash "$script" "$tmp" >/dev/null || { echo "FAIL: a documented fixture was refused" >&2; exit 1; }
echo "PASS"
