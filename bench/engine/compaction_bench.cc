// daxkv-bench-compaction: what compaction costs per key it goes over, the
// CPU the background thread takes from writers (issue #17: a put's
// second core). daxkv-bench's Put runs show it only mixed with the writers'
// own work and the machine's noise; here compaction runs alone.
//
//   Compact/live_pct:<p>
//     setup, once: --keys keys of 100-byte values, every segment compacted.
//     Each iteration, untimed: every key is overwritten except a
//     pseudo-random p% of them, so every segment holding the previous
//     generation is about p% live. Timed: compaction of every segment with
//     dead bytes (the engine's TEST_Compact, which runs the background
//     thread's CompactSegment), with background compaction off.
//     The victims hold the previous generation, about one record per key
//     (records counted by key, not by the engine): items_per_second is
//     keys compacted per second, ns_per_key its inverse, and
//     copied_bytes_per_key the bytes compaction re-appended per key (about
//     p% of the records are live).
//
// The pool is a file in /dev/shm persisted with cache-line flushes
// (PMEM2_FORCE_GRANULARITY=CACHE_LINE), as for daxkv-bench.
#include <benchmark/benchmark.h>
#include <gflags/gflags.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/engine/bench_main.h"
#include "bench/engine/workload.h"
#include "dax/region.h"
#include "engine/db.h"
#include "engine/db_impl.h"
#include "engine/key_hash.h"

DEFINE_string(pool, "/dev/shm/daxkv-bench-compaction/daxkv.pool",
              "pool file (created, removed at the end)");
DEFINE_uint64(keys, 1000000, "keys written");
DEFINE_uint64(pool_mib, 1024, "pool size in MiB");
DEFINE_string(granularity, "CACHE_LINE",
              "PMEM2_FORCE_GRANULARITY for the pool (empty: let libpmem2 "
              "detect it)");

namespace daxkv::bench {
namespace {

constexpr size_t kValueSize = 100;

std::unique_ptr<engine::DB> OpenFresh() {
  std::filesystem::create_directories(
      std::filesystem::path(FLAGS_pool).parent_path());
  std::filesystem::remove(FLAGS_pool);
  dax::OpenOptions ro;
  ro.create_if_missing = true;
  ro.create_size = size_t{FLAGS_pool_mib} << 20;
  auto region = dax::OpenRegion(FLAGS_pool, ro);
  if (!region.ok()) {
    std::fprintf(stderr, "%s\n", region.status().ToString().c_str());
    std::exit(1);
  }
  engine::Options options;
  options.background_compaction = false;  // compaction runs when timed only
  auto opened = engine::DB::Open(std::move(*region), options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*opened);
}

// Puts every key whose (key, generation) lot is at or above `keep_pct`
// (every key for 0).
Status WriteGeneration(engine::DB* db, uint64_t generation, int keep_pct) {
  const std::string value(kValueSize, 'v');
  engine::WriteOptions unsynced;
  unsynced.sync = false;
  char key[kKeySize];
  for (uint64_t i = 0; i < FLAGS_keys; ++i) {
    FormatKey(i, key);
    const uint64_t lot =
        engine::MixMul(engine::HashBytes(key, kKeySize) ^ generation,
                       0x9E3779B97F4A7C15ull) %
        100;
    if (lot < static_cast<uint64_t>(keep_pct)) continue;
    DAXKV_RETURN_IF_ERROR(
        db->Put(std::string_view(key, kKeySize), value, 0, unsynced));
  }
  return db->Sync();
}

void Compact(benchmark::State& state) {
  const int live_pct = static_cast<int>(state.range(0));
  std::unique_ptr<engine::DB> db = OpenFresh();
  auto* impl = dynamic_cast<engine::DBImpl*>(db.get());
  if (impl == nullptr) {
    state.SkipWithError("not an engine DB");
    return;
  }
  Status s = WriteGeneration(db.get(), 0, 0);
  if (s.ok()) s = impl->TEST_Compact(SIZE_MAX).status();
  if (!s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  uint64_t keys = 0, copied = 0;
  double compact_ns = 0;
  uint64_t generation = 1;
  for (auto _ : state) {
    state.PauseTiming();
    s = WriteGeneration(db.get(), generation++, live_pct);
    const engine::Stats before = db->GetStats();
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    if (s.ok()) s = impl->TEST_Compact(SIZE_MAX).status();
    const auto end = std::chrono::steady_clock::now();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
    state.PauseTiming();
    compact_ns += std::chrono::duration<double, std::nano>(end - start).count();
    keys += FLAGS_keys;
    copied += db->GetStats().relocated_bytes - before.relocated_bytes;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(keys));
  state.counters["ns_per_key"] = compact_ns / static_cast<double>(keys);
  state.counters["copied_bytes_per_key"] =
      static_cast<double>(copied) / static_cast<double>(keys);
}

BENCHMARK(Compact)
    ->ArgName("live_pct")
    ->Arg(10)
    ->Arg(50)
    ->Iterations(4)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace daxkv::bench

int main(int argc, char** argv) {
  // Medians of 5 unless the command line says otherwise.
  daxkv::bench::InitBenchmarks(argc, argv, 5, FLAGS_granularity);
  return daxkv::bench::RunBenchmarksAndRemovePool(FLAGS_pool);
}
