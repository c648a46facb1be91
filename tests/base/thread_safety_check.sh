#!/usr/bin/env bash
# Shows clang's thread-safety analysis is live: each violation in
# thread_safety_violations.cc fails to compile with a thread-safety
# diagnostic; the correct variant compiles. Usage: thread_safety_check.sh SRC_DIR
set -euo pipefail
SRC=${1:?source dir}
CXX=clang++-14
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "$CXX missing (scripts/deps.sh installs clang-14)" >&2
  exit 1
fi
FILE="$SRC/tests/base/thread_safety_violations.cc"
compile() {
  "$CXX" -std=c++20 -fsyntax-only -I"$SRC" -Wthread-safety \
    -Wthread-safety-beta -Werror -DVIOLATION="$1" "$FILE" 2>&1
}
if ! out=$(compile 0); then
  echo "FAIL: the correctly locked variant does not compile:" >&2
  echo "$out" >&2
  exit 1
fi
for v in 1 2 3 4; do
  if out=$(compile "$v"); then
    echo "FAIL: violation $v compiled: the analysis is not running" >&2
    exit 1
  fi
  if ! grep -q -- '-Werror,-Wthread-safety' <<<"$out"; then
    echo "FAIL: violation $v failed for another reason:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "violation $v rejected: $(grep -m1 'error:' <<<"$out")"
done
