// daxkv-bench-sync: the cost of group commit, Sync() after a few unsynced
// writes, as the server does once per event-loop round. Format version 3
// adds one persist per Sync() per log head with pending records (the
// durable watermark); this measures what that costs next to the writes it
// commits.
//
//   GroupCommit/puts_per_sync:<n>/threads:<t>
//     each iteration: n unsynced 100-byte puts, then Sync() (every thread
//     syncing its own group, as I/O threads do). items_per_second counts
//     puts, syncs_per_second Sync() calls, both summed over threads.
//
// The pool is a file in /dev/shm persisted with cache-line flushes
// (PMEM2_FORCE_GRANULARITY=CACHE_LINE), as for daxkv-bench; --pool on a
// disk with --granularity= measures the msync(2) backing instead. Uses only the
// public DB API, so the same source measures any version of the engine.
#include <benchmark/benchmark.h>
#include <gflags/gflags.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/engine/bench_main.h"
#include "bench/engine/workload.h"
#include "dax/region.h"
#include "engine/db.h"

DEFINE_string(pool, "/dev/shm/daxkv-bench-sync/daxkv.pool",
              "pool file (created, removed at the end)");
DEFINE_uint64(keys, 100000, "distinct keys written (round robin)");
DEFINE_string(granularity, "CACHE_LINE",
              "PMEM2_FORCE_GRANULARITY for the pool (empty: let libpmem2 "
              "detect it; a file on a disk then persists with msync(2))");

namespace daxkv::bench {
namespace {

engine::DB* TheDb() {
  static engine::DB* db = [] {
    std::filesystem::create_directories(
        std::filesystem::path(FLAGS_pool).parent_path());
    std::filesystem::remove(FLAGS_pool);
    dax::OpenOptions ro;
    ro.create_if_missing = true;
    ro.create_size = size_t{1} << 30;
    auto region = dax::OpenRegion(FLAGS_pool, ro);
    if (!region.ok()) {
      std::fprintf(stderr, "%s\n", region.status().ToString().c_str());
      std::exit(1);
    }
    auto opened = engine::DB::Open(std::move(*region), engine::Options{});
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      std::exit(1);
    }
    return opened->release();
  }();
  return db;
}

void GroupCommit(benchmark::State& state) {
  engine::DB* db = TheDb();
  const int per_sync = static_cast<int>(state.range(0));
  const std::string value(100, 'v');
  engine::WriteOptions unsynced;
  unsynced.sync = false;
  char key[kKeySize];
  uint64_t id = static_cast<uint64_t>(state.thread_index()) * 7919;
  uint64_t puts = 0, syncs = 0;
  for (auto _ : state) {
    for (int i = 0; i < per_sync; ++i) {
      FormatKey(id++ % FLAGS_keys, key);
      if (!db->Put(std::string_view(key, kKeySize), value, 0, unsynced).ok()) {
        state.SkipWithError("Put failed");
        return;
      }
    }
    if (!db->Sync().ok()) {
      state.SkipWithError("Sync failed");
      return;
    }
    puts += per_sync;
    ++syncs;
  }
  state.counters["items_per_second"] = benchmark::Counter(
      static_cast<double>(puts), benchmark::Counter::kIsRate);
  state.counters["syncs_per_second"] = benchmark::Counter(
      static_cast<double>(syncs), benchmark::Counter::kIsRate);
}

BENCHMARK(GroupCommit)
    ->ArgName("puts_per_sync")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace
}  // namespace daxkv::bench

int main(int argc, char** argv) {
  // Medians of 5 unless the command line says otherwise.
  daxkv::bench::InitBenchmarks(argc, argv, 5, FLAGS_granularity);
  return daxkv::bench::RunBenchmarksAndRemovePool(FLAGS_pool);
}
