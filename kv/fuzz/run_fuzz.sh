#!/usr/bin/env bash
# Runs a kv fuzzer (the request parser's by default) for SECONDS on a
# scratch copy of its seed corpus (CORPUS_DIR, default kv/fuzz/corpus).
# Exits 77 (ctest: skipped) when the fuzzer was not built.
# Usage: kv/fuzz/run_fuzz.sh FUZZER_BINARY [SECONDS [CORPUS_DIR]]
set -euo pipefail
BIN=${1:?usage: run_fuzz.sh FUZZER_BINARY [SECONDS]}
SECS=${2:-30}
if [ ! -x "$BIN" ]; then
  echo "SKIP: $BIN not built (scripts/test.sh builds it with clang-14)" >&2
  exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
CORPUS=${3:-$HERE/corpus}
WORK=$(mktemp -d /tmp/daxkv-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus"
cp "$CORPUS"/* "$WORK/corpus"/
# -timeout flags any single input taking > 10 s (a hang); -max_len reaches
# the 64 KiB inline/header limits.
set +e
"$BIN" "$WORK/corpus" -max_total_time="$SECS" -timeout=10 -max_len=70000 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$WORK/" \
  >"$WORK/log" 2>&1
rc=$?
set -e
tail -n 25 "$WORK/log"
if [ $rc -ne 0 ]; then
  KEEP=$(mktemp -d /tmp/daxkv-fuzz-failure.XXXXXX)
  cp "$WORK"/log "$WORK"/crash-* "$WORK"/timeout-* "$WORK"/oom-* "$KEEP"/ 2>/dev/null || true
  echo "FAIL: fuzzer exited $rc; log and reproducer kept in $KEEP" >&2
fi
exit $rc
