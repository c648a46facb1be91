// RocksDB peer: every Put is WriteOptions::sync = true (the WAL is synced
// before it returns); Gets with default ReadOptions.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <string>

#include "bench/engine/kv_store.h"

namespace daxkv::bench {
namespace {

Status RocksError(const std::string& what, const rocksdb::Status& s) {
  return IOError("rocksdb " + what + ": " + s.ToString());
}

class RocksdbStore final : public KvStore {
 public:
  explicit RocksdbStore(const StoreConfig& config) : config_(config) {
    sync_.sync = true;
  }

  Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(config_.path, ec);
    if (ec) return IOError("mkdir " + config_.path + ": " + ec.message());
    rocksdb::Options options;
    options.create_if_missing = true;
    options.IncreaseParallelism(2);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, config_.path, &db);
    if (!s.ok()) return RocksError("open " + config_.path, s);
    db_.reset(db);
    return OkStatus();
  }

  const char* name() const override { return "rocksdb"; }

  Status Put(int thread, std::string_view key,
             std::string_view value) override {
    rocksdb::Status s = db_->Put(sync_, rocksdb::Slice(key.data(), key.size()),
                                 rocksdb::Slice(value.data(), value.size()));
    return s.ok() ? OkStatus() : RocksError("put", s);
  }

  Status Get(int thread, std::string_view key, std::string* value) override {
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(),
                                 rocksdb::Slice(key.data(), key.size()), value);
    if (s.IsNotFound()) return NotFoundError("rocksdb: key not found");
    return s.ok() ? OkStatus() : RocksError("get", s);
  }

  Status BulkLoad(uint64_t n, const KeyFn& key_fn,
                  const KeyFn& value_fn) override {
    std::string key, value;
    rocksdb::WriteOptions unsynced;
    constexpr uint64_t kPerBatch = 1000;
    for (uint64_t start = 0; start < n; start += kPerBatch) {
      rocksdb::WriteBatch batch;
      for (uint64_t i = start; i < n && i < start + kPerBatch; ++i) {
        key_fn(i, &key);
        value_fn(i, &value);
        batch.Put(key, value);
      }
      rocksdb::Status s = db_->Write(unsynced, &batch);
      if (!s.ok()) return RocksError("bulk write", s);
    }
    rocksdb::Status s = db_->SyncWAL();
    return s.ok() ? OkStatus() : RocksError("sync wal", s);
  }

  Status Reopen() override {
    db_.reset();
    return Open();
  }

 private:
  StoreConfig config_;
  rocksdb::WriteOptions sync_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

StatusOr<std::unique_ptr<KvStore>> OpenRocksdbStore(const StoreConfig& config) {
  auto store = std::make_unique<RocksdbStore>(config);
  DAXKV_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace daxkv::bench
