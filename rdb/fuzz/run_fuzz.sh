#!/usr/bin/env bash
# Runs an RDB fuzzer for SECONDS on a scratch copy of its seed corpus. Exits
# 77 (ctest: skipped) when the fuzzer was not built.
# Usage: rdb/fuzz/run_fuzz.sh FUZZER_BINARY SECONDS CORPUS_DIR
set -euo pipefail
BIN=${1:?usage: run_fuzz.sh FUZZER_BINARY SECONDS CORPUS_DIR}
SECS=${2:-20}
CORPUS=${3:?corpus directory}
if [ ! -x "$BIN" ]; then
  echo "SKIP: $BIN not built (scripts/test.sh builds it with clang-14)" >&2
  exit 77
fi
WORK=$(mktemp -d /tmp/daxkv-rdbfuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus"
cp "$CORPUS"/* "$WORK/corpus"/
# -rss_limit_mb catches unbounded buffering; -timeout a hang.
set +e
"$BIN" "$WORK/corpus" -max_total_time="$SECS" -timeout=10 -max_len=65536 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/" \
  >"$WORK/log" 2>&1
rc=$?
set -e
tail -n 20 "$WORK/log"
if [ $rc -ne 0 ]; then
  KEEP=$(mktemp -d /tmp/daxkv-rdbfuzz-failure.XXXXXX)
  cp "$WORK"/log "$WORK"/crash-* "$WORK"/timeout-* "$WORK"/oom-* "$KEEP"/ 2>/dev/null || true
  echo "FAIL: fuzzer exited $rc; log and reproducer kept in $KEEP" >&2
fi
exit $rc
