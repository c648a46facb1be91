// daxkv-bench: the engine against LMDB and RocksDB, same workloads, same
// process, same medium, each at its own per-operation durability.
//
// Benchmarks (Google Benchmark, JSON with --benchmark_out):
//   <Op>/<engine>/value:<n>/threads:<t>   Op in Put, Get, Mixed, YCSB-A/B/C,
//                                         and for daxkv MultiGet16/32: Gets
//                                         of uniform keys in batches of 16
//                                         or 32 (DB::MultiGet), counted per
//                                         key
//   Recovery/<engine>/keys:<n>            close + open of a loaded store
//                                         (daxkv: loads the clean-close
//                                         index snapshot; label: how)
//   RecoveryScan/daxkv/keys:<n>           the same, the open scanning the
//                                         pool (a crash's cost)
// Counters: items_per_second is wall-clock throughput summed over threads
// (each thread's operations over its own wall time); per_thread is the
// average per thread. Recovery adds recovery_ms (close + open, wall) and,
// for daxkv, close_ms and open_ms (wall, each), engine_recovery_ms (the
// open's recovery, Stats::recovery_ms), scrub_ms (from the end of a
// snapshot open until its background scrub has verified every record; not
// part of the open's time) and dram_bytes_per_key (Stats::index_bytes /
// keys).
//
// By default the pool is a file in /dev/shm and libpmem2 is told to persist
// with cache-line flushes (PMEM2_FORCE_GRANULARITY=CACHE_LINE): DAX-style
// persistence on DRAM. --pool takes a devdax/fsdax path instead; the peers'
// directories go next to the pool (or in --peer_dir).
#include <benchmark/benchmark.h>
#include <gflags/gflags.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/engine/bench_main.h"
#include "bench/engine/kv_store.h"
#include "bench/engine/workload.h"

DEFINE_string(pool, "/dev/shm/daxkv-bench/daxkv.pool",
              "daxkv pool: a file (created), an fsdax file or /dev/daxX.Y");
DEFINE_string(peer_dir, "",
              "directory for the LMDB and RocksDB stores (default: the "
              "pool's directory; must be on the same medium)");
DEFINE_uint64(keys, 1000000,
              "keys loaded before measuring (10000000 for "
              "the 10M runs)");
DEFINE_string(engines, "daxkv,lmdb,rocksdb", "engines to run, comma-separated");
DEFINE_string(values, "100,1024", "value sizes in bytes, comma-separated");
DEFINE_string(threads, "1,2", "thread counts, comma-separated");
DEFINE_string(granularity, "CACHE_LINE",
              "PMEM2_FORCE_GRANULARITY for the pool (empty: let libpmem2 "
              "detect it, as on real DAX hardware)");
DEFINE_bool(keep_files, false, "keep the stores' files after the run");

namespace daxkv::bench {
namespace {

enum class Op { kPut, kGet, kMixed, kYcsbA, kYcsbB, kYcsbC };

struct OpSpec {
  Op op;
  const char* name;
  unsigned read_percent;
  bool zipfian;
  size_t batch = 0;  // > 0: reads in MultiGet batches of this many keys
};
constexpr size_t kMaxBatch = 32;
constexpr OpSpec kOps[] = {
    {Op::kPut, "Put", 0, false},
    {Op::kGet, "Get", 100, false},
    {Op::kGet, "MultiGet16", 100, false, 16},
    {Op::kGet, "MultiGet32", 100, false, kMaxBatch},
    {Op::kMixed, "Mixed", 50, false},
    {Op::kYcsbA, "YCSB-A", 50, true},
    {Op::kYcsbB, "YCSB-B", 95, true},
    {Op::kYcsbC, "YCSB-C", 100, true},
};

// One MultiGet of spec.batch uniform keys.
Status RunBatch(KvStore* store, int t, size_t batch, KeyChooser* chooser) {
  static thread_local char keys[kMaxBatch][kKeySize];
  static thread_local std::string_view views[kMaxBatch];
  static thread_local std::string values[kMaxBatch];
  for (size_t i = 0; i < batch; ++i) {
    FormatKey(chooser->Uniform(), keys[i]);
    views[i] = std::string_view(keys[i], kKeySize);
  }
  return store->MultiGet(t, std::span<const std::string_view>(views, batch),
                         std::span<std::string>(values, batch));
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

uint64_t Align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

// What one run of an op costs the whole process, background threads
// included (compaction, a peer's flushes): the CPU time of every thread
// and the bytes daxkv's compaction copied, per op of every thread. Thread
// 0 opens it before the start barrier and closes it once every thread
// has added its ops, so a run's figures never mix with another's.
class RunTally {
 public:
  // REQUIRES: thread 0, before its first iteration (the barrier).
  void Open(const KvStore* store) {
    ops_ = 0;
    done_ = 0;
    cpu_start_ = std::clock();
    relocated_start_ = store->RelocatedBytes();
  }
  void Add(uint64_t ops) {
    ops_.fetch_add(ops);
    done_.fetch_add(1);
  }
  // REQUIRES: thread 0, after its own Add(). Waits for the others'.
  void Close(const KvStore* store, benchmark::State& state) {
    while (done_.load() < state.threads()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const uint64_t ops = ops_.load();
    if (ops == 0) return;
    const double cpu_s =
        static_cast<double>(std::clock() - cpu_start_) / CLOCKS_PER_SEC;
    state.counters["cpu_ns_per_op"] = cpu_s * 1e9 / ops;
    const std::optional<uint64_t> relocated = store->RelocatedBytes();
    if (relocated && relocated_start_) {
      state.counters["relocated_bytes_per_op"] =
          static_cast<double>(*relocated - *relocated_start_) / ops;
    }
  }

 private:
  std::atomic<uint64_t> ops_{0};
  std::atomic<int> done_{0};
  std::clock_t cpu_start_ = 0;
  std::optional<uint64_t> relocated_start_;
};

RunTally& TheTally() {
  static RunTally* tally = new RunTally();
  return *tally;
}

// The store under test: one (engine, value size) at a time, loaded with
// FLAGS_keys keys. Switching closes the previous store and deletes its files.
class Bench {
 public:
  // REQUIRES: no benchmark thread is using the current store.
  Status Prepare(const std::string& engine, size_t value_size) {
    if (store_ != nullptr && engine == engine_ && value_size == value_size_) {
      return OkStatus();
    }
    Close();
    StoreConfig config;
    config.path = PathFor(engine);
    uint64_t record = Align8(40 + kKeySize + value_size);
    // Headroom for overwrites (log-structured daxkv, copy-on-write LMDB),
    // rounded to 2 MiB as pool files must be page multiples.
    config.capacity = std::max<uint64_t>(256ull << 20, 4 * FLAGS_keys * record);
    config.capacity =
        (config.capacity + (2ull << 20) - 1) & ~((2ull << 20) - 1);
    StatusOr<std::unique_ptr<KvStore>> store =
        engine == "daxkv"  ? OpenDaxkvStore(config)
        : engine == "lmdb" ? OpenLmdbStore(config)
        : engine == "rocksdb"
            ? OpenRocksdbStore(config)
            : StatusOr<std::unique_ptr<KvStore>>(
                  InvalidArgumentError("unknown engine '" + engine + "'"));
    if (!store.ok()) return store.status().WithContext("opening " + engine);
    store_ = std::move(store).value();
    engine_ = engine;
    value_size_ = value_size;
    if (zipf_ == nullptr) zipf_ = std::make_unique<Zipfian>(FLAGS_keys);
    ValueSource values(value_size, 42);
    std::fprintf(stderr, "[daxkv-bench] loading %llu keys into %s (%zu B)\n",
                 static_cast<unsigned long long>(FLAGS_keys), engine.c_str(),
                 value_size);
    return store_->BulkLoad(
        FLAGS_keys,
        [](uint64_t i, std::string* k) {
          k->resize(kKeySize);
          FormatKey(i, k->data());
        },
        [&values](uint64_t i, std::string* v) { v->assign(values.Next(i)); });
  }

  KvStore* store() const { return store_.get(); }
  const Zipfian* zipf() const { return zipf_.get(); }

  void Close() {
    if (store_ == nullptr) return;
    store_.reset();
    if (!FLAGS_keep_files) RemoveFiles(engine_);
  }

  static std::string PeerDir() {
    if (!FLAGS_peer_dir.empty()) return FLAGS_peer_dir;
    return std::filesystem::path(FLAGS_pool).parent_path().string();
  }

 private:
  static std::string PathFor(const std::string& engine) {
    if (engine == "daxkv") {
      std::error_code ec;
      std::filesystem::create_directories(
          std::filesystem::path(FLAGS_pool).parent_path(), ec);
      return FLAGS_pool;
    }
    return PeerDir() + "/" + engine;
  }

  static void RemoveFiles(const std::string& engine) {
    std::error_code ec;
    std::string path = PathFor(engine);
    // A device (devdax) is never removed; daxkv's Flush() empties it.
    if (std::filesystem::is_directory(path, ec) ||
        std::filesystem::is_regular_file(path, ec)) {
      std::filesystem::remove_all(path, ec);
    }
  }

  std::unique_ptr<KvStore> store_;
  std::string engine_;
  size_t value_size_ = 0;
  std::unique_ptr<Zipfian> zipf_;
};

Bench& TheBench() {
  static Bench* bench = new Bench();
  return *bench;
}

void RunOps(benchmark::State& state, std::string engine, size_t value_size,
            OpSpec spec) {
  const int t = state.thread_index();
  if (t == 0) {
    Status s = TheBench().Prepare(engine, value_size);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    if (s.ok()) TheTally().Open(TheBench().store());
  }
  KvStore* store = nullptr;  // read after the start barrier
  KeyChooser chooser(FLAGS_keys, nullptr, 0);
  ValueSource values(value_size, 1000 + t);
  char key[kKeySize];
  std::string out;
  uint64_t ops = 0;
  std::chrono::steady_clock::time_point start;
  for (auto _ : state) {
    if (store == nullptr) {
      store = TheBench().store();
      chooser = KeyChooser(FLAGS_keys, TheBench().zipf(),
                           0x5eed + t * 7919 + state.iterations());
      start = std::chrono::steady_clock::now();
    }
    if (spec.batch > 0) {
      Status s = RunBatch(store, t, spec.batch, &chooser);
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        break;
      }
      ops += spec.batch;
      continue;
    }
    uint64_t id = spec.zipfian ? chooser.Zipf() : chooser.Uniform();
    FormatKey(id, key);
    std::string_view k(key, kKeySize);
    bool read = spec.read_percent == 100 ||
                (spec.read_percent > 0 && chooser.Chance(spec.read_percent));
    Status s =
        read ? store->Get(t, k, &out) : store->Put(t, k, values.Next(ops));
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    ++ops;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (ops > 0 && seconds > 0) {
    state.counters["items_per_second"] = benchmark::Counter(ops / seconds);
    state.counters["per_thread"] =
        benchmark::Counter(ops / seconds, benchmark::Counter::kAvgThreads);
  }
  TheTally().Add(ops);
  if (t == 0 && store != nullptr) TheTally().Close(store, state);
}

// `scan`: the open ignores the index snapshot (the cost of a crash).
void RunRecovery(benchmark::State& state, std::string engine, size_t value_size,
                 bool scan) {
  Status s = TheBench().Prepare(engine, value_size);
  if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  KvStore* store = TheBench().store();
  double total_ms = 0, engine_ms = 0, close_ms = 0, open_ms = 0;
  double scrub_ms = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    s = scan ? store->ReopenScanning() : store->Reopen();
    total_ms += std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    engine_ms += store->RecoveryMs();
    close_ms += store->LastCloseMs();
    open_ms += store->LastOpenMs();
    // Outside the open's time: how long its records go unverified.
    scrub_ms += store->WaitScrubMs();
  }
  const double n = static_cast<double>(state.iterations());
  if (n == 0) return;
  state.counters["recovery_ms"] = total_ms / n;
  if (engine == "daxkv") {
    state.SetLabel(store->IndexRecovery());
    state.counters["engine_recovery_ms"] = engine_ms / n;
    state.counters["close_ms"] = close_ms / n;
    state.counters["open_ms"] = open_ms / n;
    state.counters["scrub_ms"] = scrub_ms / n;
    state.counters["dram_bytes_per_key"] =
        static_cast<double>(store->IndexBytes()) / FLAGS_keys;
  }
}

void RegisterAll() {
  const std::vector<std::string> values = Split(FLAGS_values);
  for (const std::string& engine : Split(FLAGS_engines)) {
    for (const std::string& v : values) {
      size_t value_size = std::stoul(v);
      for (const OpSpec& spec : kOps) {
        if (spec.batch > 0 && engine != "daxkv") continue;
        std::string name =
            std::string(spec.name) + "/" + engine + "/value:" + v;
        auto* b = benchmark::RegisterBenchmark(name.c_str(), RunOps, engine,
                                               value_size, spec);
        for (const std::string& t : Split(FLAGS_threads)) {
          b->Threads(std::stoi(t));
        }
      }
      if (v != values.front()) continue;
      std::string name =
          "Recovery/" + engine + "/keys:" + std::to_string(FLAGS_keys);
      benchmark::RegisterBenchmark(name.c_str(), RunRecovery, engine,
                                   value_size, false)
          ->Unit(benchmark::kMillisecond);
      if (engine != "daxkv") continue;
      // After Recovery/daxkv, so that one starts from a clean close.
      name = "RecoveryScan/daxkv/keys:" + std::to_string(FLAGS_keys);
      benchmark::RegisterBenchmark(name.c_str(), RunRecovery, engine,
                                   value_size, true)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace
}  // namespace daxkv::bench

int main(int argc, char** argv) {
  // Medians of 3 unless the command line says otherwise.
  daxkv::bench::InitBenchmarks(argc, argv, 3, FLAGS_granularity);
  benchmark::AddCustomContext("daxkv_pool", FLAGS_pool);
  benchmark::AddCustomContext("peer_dir", daxkv::bench::Bench::PeerDir());
  benchmark::AddCustomContext("pmem2_force_granularity", FLAGS_granularity);
  benchmark::AddCustomContext("keys", std::to_string(FLAGS_keys));
  daxkv::bench::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  daxkv::bench::TheBench().Close();
  benchmark::Shutdown();
  return 0;
}
