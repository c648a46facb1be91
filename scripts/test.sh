#!/usr/bin/env bash
# The body of `make test`: every ctest label, in order, failing on any
# failure. Usage: scripts/test.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
JOBS=$(nproc)

# The request-parser fuzzer needs clang (libFuzzer); the main build uses gcc,
# so it gets its own small build dir. ctest's kv_resp_parser_fuzz_short runs
# it (and skips when clang-14 is absent).
if command -v clang++-14 >/dev/null 2>&1; then
  echo "== building the parser fuzzer (clang-14) into $BUILD-fuzz =="
  cmake -S "$(dirname "$0")/../kv/fuzz" -B "$BUILD-fuzz" -G Ninja \
    -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  cmake --build "$BUILD-fuzz" -j "$JOBS"
fi

# Everything but the lab: unit tests, the integration suite against
# redis-server and daxkv-server, and the abuse suite (label abuse).
echo "== host tests (ctest -LE lab) =="
ctest --test-dir "$BUILD" -LE lab --output-on-failure -j "$JOBS"

# The engine under ThreadSanitizer: its own build dir, only engine_test, with
# a reduced crash-point count (TSan makes every recovery ~20x slower).
# detect_deadlocks=0: DB::Flush holds all 4096 key-stripe mutexes at once
# (engine/space.cc), and a WriteBatch one per stripe its keys hash to
# (engine/batch.cc): beyond TSan's deadlock detector (64 held locks: a CHECK
# failure, not a report). Data races are still reported and fail the run.
echo "== ThreadSanitizer: engine_test in $BUILD-tsan =="
cmake -S "$(dirname "$0")/.." -B "$BUILD-tsan" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAXKV_SANITIZE=thread >/dev/null
cmake --build "$BUILD-tsan" --target engine_test -j "$JOBS"
DAXKV_CRASH_SCALE=0.05 \
  TSAN_OPTIONS="halt_on_error=1 detect_deadlocks=0 ${TSAN_OPTIONS:-}" \
  "$BUILD-tsan/bin/engine_test" --gtest_brief=1

# Last: the QEMU DAX lab (tests/lab/), serial, after every host test.
bash "$(dirname "$0")/../tests/lab/run.sh" "$BUILD"
