#!/usr/bin/env bash
# Replays an RDB fuzzer's seed corpus: every file once, no mutation, so it
# takes a second and belongs in the unit run (libFuzzer runs each file named
# on its command line once and exits non-zero on a crash, leak or UB).
# Exits 77 (ctest: skipped) when the fuzzer was not built.
# Usage: rdb/fuzz/replay_corpus.sh FUZZER_BINARY CORPUS_DIR
# Fuzzing proper (mutation, minutes) is a manual step, see rdb/fuzz/CMakeLists.txt.
set -euo pipefail
BIN=${1:?usage: replay_corpus.sh FUZZER_BINARY CORPUS_DIR}
CORPUS=${2:?usage: replay_corpus.sh FUZZER_BINARY CORPUS_DIR}
if [ ! -x "$BIN" ]; then
  echo "SKIP: $BIN not built (scripts/test.sh builds rdb/fuzz with clang-14)"
  exit 77
fi
shopt -s nullglob
files=("$CORPUS"/*)
if [ ${#files[@]} -eq 0 ]; then
  echo "FAIL: no seed inputs in $CORPUS" >&2
  exit 1
fi
# -rss_limit_mb catches unbounded buffering, -timeout a hang.
"$BIN" -timeout=10 -rss_limit_mb=2048 "${files[@]}"
echo "replayed ${#files[@]} inputs from $CORPUS"
