#!/usr/bin/env bash
# The body of `make test`: every ctest label, in order, failing on any
# failure. Usage: scripts/test.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
JOBS=$(nproc)
# Each stage's header carries the seconds since the start: CI has a time
# limit, and its log is where a slow stage shows.
START=$SECONDS
stage() { echo "== [$(date -u +%T), +$((SECONDS - START)) s] $* =="; }

# The request-parser fuzzer needs clang (libFuzzer); the main build uses gcc,
# so it gets its own small build dir. ctest's kv_resp_parser_fuzz_short runs
# it (and skips when clang-14 is absent).
if command -v clang++-14 >/dev/null 2>&1; then
  stage "building the parser fuzzer (clang-14) into $BUILD-fuzz"
  cmake -S "$(dirname "$0")/../kv/fuzz" -B "$BUILD-fuzz" -G Ninja \
    -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  cmake --build "$BUILD-fuzz" -j "$JOBS"
  # The RDB fuzzers (DUMP payloads, the replication stream reader); ctest's
  # rdb_*_fuzz_corpus_replay replay their seed corpora.
  stage "building the RDB fuzzers (clang-14) into $BUILD-rdbfuzz"
  cmake -S "$(dirname "$0")/../rdb/fuzz" -B "$BUILD-rdbfuzz" -G Ninja \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  cmake --build "$BUILD-rdbfuzz" -j "$JOBS"
fi

# The engine and the server under clang's thread-safety analysis: every
# mutex, stripe and shard lock carries annotations (GUARDED_BY, REQUIRES,
# the lock order as ACQUIRED_BEFORE/AFTER, which -Wthread-safety-beta
# checks); a violation fails the build. Its own build dir and only the
# libraries with annotated types (daxkv_engine and daxkv_kv, and what they
# build on), so it stays fast. ctest's base_thread_safety_check shows the
# analysis is live (violations fail).
if command -v clang++-14 >/dev/null 2>&1; then
  stage "clang -Wthread-safety: the engine and the server in $BUILD-tsa"
  cmake -S "$(dirname "$0")/.." -B "$BUILD-tsa" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DDAXKV_WERROR=ON \
    "-DCMAKE_CXX_FLAGS=-Wthread-safety -Wthread-safety-beta" \
    ${DAXKV_TSA_CMAKE_FLAGS:-} >/dev/null
  cmake --build "$BUILD-tsa" --target daxkv_base daxkv_engine daxkv_kv \
    -j "$JOBS"
else
  echo "clang++-14 missing (scripts/deps.sh installs it): the thread-safety" \
    "build is required" >&2
  exit 1
fi

# Everything but the lab: unit tests, the integration suite against
# redis-server and daxkv-server, and the abuse suite (label abuse).
stage "host tests (ctest -LE lab)"
ctest --test-dir "$BUILD" -LE lab --output-on-failure -j "$JOBS"

# The engine under ThreadSanitizer: its own build dir, only engine_test, with
# a reduced crash-point count (TSan makes every recovery ~20x slower).
# detect_deadlocks=0: DB::Flush holds all 4096 key-stripe mutexes at once
# (engine/space.cc), and a WriteBatch one per stripe its keys hash to
# (engine/batch.cc): beyond TSan's deadlock detector (64 held locks: a CHECK
# failure, not a report). Data races are still reported and fail the run.
stage "ThreadSanitizer: engine_test in $BUILD-tsan"
cmake -S "$(dirname "$0")/.." -B "$BUILD-tsan" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDAXKV_SANITIZE=thread >/dev/null
cmake --build "$BUILD-tsan" --target engine_test -j "$JOBS"
# The collection structures' tests (Coll*, ItemSort*), the state-code tests
# and the media-corruption tests (engines without background threads) run
# on one thread, so TSan has nothing to find in them; instrumented, they
# took minutes of pure computation.
DAXKV_CRASH_SCALE=0.05 \
  TSAN_OPTIONS="halt_on_error=1 detect_deadlocks=0 ${TSAN_OPTIONS:-}" \
  "$BUILD-tsan/bin/engine_test" --gtest_brief=1 \
  --gtest_filter='-Coll*:ItemSort*:StateCode*:CorruptMedia*:CorruptState*'

# Last: the QEMU DAX lab (tests/lab/), serial, after every host test.
stage "the QEMU DAX lab"
bash "$(dirname "$0")/../tests/lab/run.sh" "$BUILD"
stage "done"
