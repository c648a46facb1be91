#!/usr/bin/env bash
# Runs the lab's legacy-vs-refcounted fault cases on real persistent memory
# (Optane / NVDIMM, CXL type-3 pmem, or a real memmap= range) and lines
# the figures up beside the lab's (docs/faultbench.md, "Real hardware").
#
# Usage (root; after `make build`):
#   bench/faultbench/real_hardware.sh [--devdax=/dev/daxX.Y] [--fsdax=DIR]
#                                     [--out=DIR] [--lab=LAB_COMPARE.json]
#
# The same cases, sizes and settings as a lab comparison boot
# (tests/lab/guest/bench.sh): every touch/devdax and touch/fsdax[-sync]
# case at 64 MiB, 3 repetitions, with touch/anon/4k/write as the same-run
# baseline and the kernel-function evidence where tracefs allows. One JSON
# per target (faultbench-devdax.json, faultbench-fsdax.json in --out,
# default build/faultbench-real), then daxkv-faultbench-compare --real
# against --lab (default docs/data/lab_compare.json, the project's lab
# figures; build/lab/compare/compare.json after your own `make lab`).
# Pin to the device's NUMA node with numactl in front for clean figures.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
OUT=$ROOT/build/faultbench-real
LAB=$ROOT/docs/data/lab_compare.json
DEVDAX="" FSDAX=""
for arg in "$@"; do
  case "$arg" in
    --devdax=*) DEVDAX=${arg#*=} ;;
    --fsdax=*) FSDAX=${arg#*=} ;;
    --out=*) OUT=${arg#*=} ;;
    --lab=*) LAB=${arg#*=} ;;
    *) echo "usage: $0 [--devdax=DEV] [--fsdax=DIR] [--out=DIR] [--lab=JSON]" >&2
       exit 2 ;;
  esac
done
if [ -z "$DEVDAX$FSDAX" ]; then
  echo "$0: give --devdax=/dev/daxX.Y and/or --fsdax=DIR (daxkv-inspect devices lists them)" >&2
  exit 2
fi
mkdir -p "$OUT"
REGION_MB=${REGION_MB:-64} REPS=${REPS:-3}
run() {  # run NAME FLAG FILTER
  "$BIN/daxkv-faultbench" "$2" --region_mb="$REGION_MB" \
    --repetitions="$REPS" --kernel_functions=auto \
    --benchmark_filter="$3" --json="$OUT/faultbench-$1.json"
}
jsons=()
if [ -n "$DEVDAX" ]; then
  run devdax "--devdax=$DEVDAX" '^touch/(devdax/|anon/4k/write/iter)'
  jsons+=("$OUT/faultbench-devdax.json")
fi
if [ -n "$FSDAX" ]; then
  run fsdax "--fsdax=$FSDAX" '^touch/(fsdax/|fsdax-sync/|anon/4k/write/iter)'
  jsons+=("$OUT/faultbench-fsdax.json")
fi
echo "== your figures beside the lab's ($LAB)"
"$BIN/daxkv-faultbench-compare" --real "${jsons[@]}" --lab "$LAB"
