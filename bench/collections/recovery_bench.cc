// Recovery of collections on a real pool (bench/collections/recovery_bench.h).
//
// The pool is a file in /dev/shm with libpmem2 persisting by cache-line
// flushes (PMEM2_FORCE_GRANULARITY=CACHE_LINE, as daxkv-bench does): the
// engine's real open path over DRAM. Loading goes through the Txn API, one
// transaction per collection (group commit, one Sync() per 64). Each
// iteration closes the DB and opens it again (loading the snapshot the
// close wrote, or scanning: recovery_bench.h); counters:
//   recovery_ms       the engine's own figure (Stats::recovery_ms: scan,
//                     key index, collection build)
//   open_ms           the whole DB::Open, mapping included
//   open_cpu_ms       CPU time of every thread of the process during the
//                     open (getrusage): what the open costs on a machine
//                     shared with other work, where open_ms is not it
//   ns_per_element    recovery_ms per element
//   dram_per_element  Stats::collection_bytes / elements after the open
//
// EngineMemory/<type> fills the same pool the same way (members "e<i>", or
// for intset the integers 0..P-1: Redis's intset, daxkv's packed sets) and
// counts what the whole engine holds in DRAM for it: glibc mallinfo2()
// growth from the end of DB::Open to after the last Sync (the pool is a
// file mapping, outside the heap): key index, collection table, Collection
// objects, element indexes, allocator overhead. heap_bytes_per_element is
// that per element; open_heap_mib what the open of the empty pool took
// (tables sized by the pool, not the data); dram_per_element the engine's
// own Stats::collection_bytes per element.
// Environment: DAXKV_COLL_BENCH_POOL (default /dev/shm/daxkv-coll-bench.pool).
#include "bench/collections/recovery_bench.h"

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bench/collections/heap_in_use.h"
#include "dax/region.h"
#include "engine/db.h"
#include "engine/txn.h"

namespace daxkv::engine::coll {
namespace {

double ProcessCpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

std::string PoolPath() {
  const char* p = std::getenv("DAXKV_COLL_BENCH_POOL");
  return p != nullptr ? p : "/dev/shm/daxkv-coll-bench.pool";
}

// `snapshot`: whether closes write, and opens load, the index snapshot.
StatusOr<std::unique_ptr<DB>> OpenPool(size_t size, bool snapshot) {
  dax::OpenOptions ro;
  ro.create_if_missing = true;
  ro.create_size = size;
  DAXKV_ASSIGN_OR_RETURN(std::unique_ptr<dax::Region> region,
                         dax::OpenRegion(PoolPath(), ro));
  Options o;
  o.background_compaction = false;  // nothing to compact: measure the open
  o.index_snapshot = snapshot;
  return DB::Open(std::move(region), o);
}

// One collection of `per` elements: fields/members "e<i>" (or, `ints`,
// "<i>"), 8-byte values (hash), scores i (zset), list elements pushed at
// the back.
Status Fill(Txn& t, KeyType type, const std::string& key, int per,
            bool ints = false) {
  bool b;
  uint64_t n;
  ZAddResult z;
  for (int i = 0; i < per; ++i) {
    const std::string e = (ints ? "" : "e") + std::to_string(i);
    switch (type) {
      case KeyType::kHash:
        DAXKV_RETURN_IF_ERROR(t.HashSet(
            key, e, "v" + std::to_string(i % 10000000), SetMode::kUpsert, &b));
        break;
      case KeyType::kList:
        DAXKV_RETURN_IF_ERROR(t.ListPush(key, End::kBack, e, false, &n));
        break;
      case KeyType::kSet:
        DAXKV_RETURN_IF_ERROR(t.SetAdd(key, e, &b));
        break;
      default:
        DAXKV_RETURN_IF_ERROR(t.ZAdd(key, e, i, {}, &z));
        break;
    }
  }
  return OkStatus();
}

void BM_Recovery(benchmark::State& state, KeyType type, bool snapshot) {
  const int64_t colls = state.range(0);
  const int per = static_cast<int>(state.range(1));
  setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
  std::remove(PoolPath().c_str());
  // ~64 bytes a record plus the metas, twice over for the reserve.
  const size_t size = std::max<size_t>(size_t{256} << 20,
                                       static_cast<size_t>(colls * per) * 160);
  auto db = OpenPool(size, snapshot);
  if (!db.ok()) return state.SkipWithError(db.status().ToString().c_str());
  for (int64_t c = 0; c < colls; ++c) {
    const std::string key = "coll:" + std::to_string(c);
    Status s =
        (*db)->RunTxn(TxnOptions{.keys = {key}}, WriteOptions{.sync = false},
                      [&](Txn& t) { return Fill(t, type, key, per); });
    if (s.ok() && c % 64 == 63) s = (*db)->Sync();
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  if (Status s = (*db)->Sync(); !s.ok()) {
    return state.SkipWithError(s.ToString().c_str());
  }
  double recovery_ms = 0, open_ms = 0, cpu_ms = 0, dram = 0;
  for (auto _ : state) {
    db->reset();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ProcessCpuMs();
    db = OpenPool(size, snapshot);
    cpu_ms += ProcessCpuMs() - cpu_start;
    const double ms = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - start)
                          .count();
    if (!db.ok()) return state.SkipWithError(db.status().ToString().c_str());
    state.SetIterationTime(ms / 1000);
    const Stats st = (*db)->GetStats();
    if (st.elements != static_cast<uint64_t>(colls * per)) {
      return state.SkipWithError("recovered a different element count");
    }
    recovery_ms += static_cast<double>(st.recovery_ms);
    state.SetLabel(st.index_recovery);
    open_ms += ms;
    dram = static_cast<double>(st.collection_bytes) /
           static_cast<double>(st.elements);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["recovery_ms"] = recovery_ms / n;
  state.counters["open_ms"] = open_ms / n;
  state.counters["open_cpu_ms"] = cpu_ms / n;
  state.counters["ns_per_element"] =
      recovery_ms / n * 1e6 / static_cast<double>(colls * per);
  state.counters["dram_per_element"] = dram;
  db->reset();
  std::remove(PoolPath().c_str());
}

void BM_EngineMemory(benchmark::State& state, KeyType type, bool ints) {
  const int64_t colls = state.range(0);
  const int per = static_cast<int>(state.range(1));
  setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
  const size_t size = std::max<size_t>(size_t{256} << 20,
                                       static_cast<size_t>(colls * per) * 160);
  for (auto _ : state) {
    std::remove(PoolPath().c_str());
    const uint64_t before = HeapInUse();
    auto db = OpenPool(size, false);
    if (!db.ok()) return state.SkipWithError(db.status().ToString().c_str());
    const uint64_t opened = HeapInUse();
    for (int64_t c = 0; c < colls; ++c) {
      const std::string key = "coll:" + std::to_string(c);
      Status s =
          (*db)->RunTxn(TxnOptions{.keys = {key}}, WriteOptions{.sync = false},
                        [&](Txn& t) { return Fill(t, type, key, per, ints); });
      if (s.ok() && c % 64 == 63) s = (*db)->Sync();
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    if (Status s = (*db)->Sync(); !s.ok()) {
      return state.SkipWithError(s.ToString().c_str());
    }
    const double heap = static_cast<double>(HeapInUse() - opened);
    const Stats st = (*db)->GetStats();
    const auto n = static_cast<double>(st.elements);
    state.counters["heap_bytes_per_element"] = heap / n;
    state.counters["open_heap_mib"] =
        static_cast<double>(opened - before) / (1 << 20);
    state.counters["dram_per_element"] =
        static_cast<double>(st.collection_bytes) / n;
    state.counters["elements"] = n;
    db->reset();
  }
  std::remove(PoolPath().c_str());
}

}  // namespace

void RegisterRecovery() {
  for (const bool ints : {false, true}) {
    benchmark::RegisterBenchmark(
        ints ? "EngineMemory/intset" : "EngineMemory/set",
        [ints](benchmark::State& s) {
          BM_EngineMemory(s, KeyType::kSet, ints);
        })
        ->ArgNames({"collections", "per"})
        ->Args({100000, 100})
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  constexpr struct {
    KeyType type;
    const char* name;
  } kTypes[] = {{KeyType::kHash, "hash"},
                {KeyType::kList, "list"},
                {KeyType::kSet, "set"},
                {KeyType::kZset, "zset"}};
  for (const auto& t : kTypes) {
    for (bool snapshot : {true, false}) {
      benchmark::RegisterBenchmark(
          (std::string(snapshot ? "Recovery/" : "RecoveryScan/") + t.name)
              .c_str(),
          [type = t.type, snapshot](benchmark::State& s) {
            BM_Recovery(s, type, snapshot);
          })
          ->ArgNames({"collections", "per"})
          ->Args({100000, 100})  // issue 14's target shape: 10M elements
          ->UseManualTime()
          ->Iterations(3)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace daxkv::engine::coll
