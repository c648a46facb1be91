// daxkv: the engine on a dax::Region, durable on return (WriteOptions
// default). The pool file is created by the dax layer.
#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <thread>

#include "bench/engine/kv_store.h"
#include "dax/region.h"
#include "engine/db.h"

namespace daxkv::bench {
namespace {

class DaxkvStore final : public KvStore {
 public:
  explicit DaxkvStore(const StoreConfig& config) : config_(config) {}

  Status Open(bool use_snapshot = true) {
    dax::OpenOptions ro;
    ro.create_if_missing = true;
    ro.create_size = config_.capacity;
    DAXKV_ASSIGN_OR_RETURN(std::unique_ptr<dax::Region> region,
                           dax::OpenRegion(config_.path, ro));
    engine::Options options;
    options.index_snapshot = use_snapshot;
    DAXKV_ASSIGN_OR_RETURN(db_, engine::DB::Open(std::move(region), options));
    return OkStatus();
  }

  const char* name() const override { return "daxkv"; }
  const engine::DB& db() const { return *db_; }

  Status Put(int thread, std::string_view key,
             std::string_view value) override {
    return db_->Put(key, value);
  }

  Status Get(int thread, std::string_view key, std::string* value) override {
    return db_->Get(key, value);
  }

  Status MultiGet(int thread, std::span<const std::string_view> keys,
                  std::span<std::string> values) override {
    Status statuses[kMaxBatch];
    for (size_t off = 0; off < keys.size(); off += kMaxBatch) {
      const size_t n = std::min(kMaxBatch, keys.size() - off);
      db_->MultiGet(keys.subspan(off, n), values.subspan(off, n),
                    std::span<Status>(statuses, n));
      for (size_t i = 0; i < n; ++i) {
        if (!statuses[i].ok()) return statuses[i];
      }
    }
    return OkStatus();
  }

  Status BulkLoad(uint64_t n, const KeyFn& key_fn,
                  const KeyFn& value_fn) override {
    std::string key, value;
    engine::WriteOptions group;  // group commit: one Sync() per 4096 puts
    group.sync = false;
    for (uint64_t i = 0; i < n; ++i) {
      key_fn(i, &key);
      value_fn(i, &value);
      DAXKV_RETURN_IF_ERROR(db_->Put(key, value, 0, group));
      if (i % 4096 == 4095) DAXKV_RETURN_IF_ERROR(db_->Sync());
    }
    return db_->Sync();
  }

  Status Reopen() override { return TimedReopen(/*use_snapshot=*/true); }
  Status ReopenScanning() override { return TimedReopen(false); }
  double LastCloseMs() const override { return close_ms_; }
  double LastOpenMs() const override { return open_ms_; }

  double WaitScrubMs() override {
    while (db_->GetStats().scrub_pending_segments != 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - opened_)
        .count();
  }

  std::string IndexRecovery() const override {
    return db_->GetStats().index_recovery;
  }

  uint64_t IndexBytes() const override { return db_->GetStats().index_bytes; }
  uint64_t RecoveryMs() const override { return db_->GetStats().recovery_ms; }
  std::optional<uint64_t> RelocatedBytes() const override {
    return db_->GetStats().relocated_bytes;
  }

 private:
  Status TimedReopen(bool use_snapshot) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    db_.reset();
    const auto closed = Clock::now();
    Status s = Open(use_snapshot);
    close_ms_ =
        std::chrono::duration<double, std::milli>(closed - start).count();
    opened_ = Clock::now();
    open_ms_ = std::chrono::duration<double, std::milli>(opened_ - closed)
                   .count();
    return s;
  }

  static constexpr size_t kMaxBatch = 64;
  double close_ms_ = 0;
  double open_ms_ = 0;
  std::chrono::steady_clock::time_point opened_;
  StoreConfig config_;
  std::unique_ptr<engine::DB> db_;
};

}  // namespace

StatusOr<std::unique_ptr<KvStore>> OpenDaxkvStore(const StoreConfig& config) {
  auto store = std::make_unique<DaxkvStore>(config);
  DAXKV_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace daxkv::bench
