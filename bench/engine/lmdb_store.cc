// LMDB peer: one write transaction committed per Put (LMDB's default
// durable commit: the data and meta pages reach the file before
// mdb_txn_commit returns), read-only transactions renewed per Get.
#include <lmdb.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/engine/kv_store.h"

namespace daxkv::bench {
namespace {

Status LmdbError(const char* what, int rc) {
  return IOError(std::string("lmdb ") + what + ": " + mdb_strerror(rc));
}

class LmdbStore final : public KvStore {
 public:
  explicit LmdbStore(const StoreConfig& config) : config_(config) {}
  ~LmdbStore() override { Close(); }

  Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(config_.path, ec);
    if (ec) return IOError("mkdir " + config_.path + ": " + ec.message());
    int rc = mdb_env_create(&env_);
    if (rc != 0) return LmdbError("env_create", rc);
    mdb_env_set_mapsize(env_, config_.capacity);
    mdb_env_set_maxreaders(env_, kMaxThreads + 2);
    // MDB_NOTLS: reader slots belong to our per-thread transactions, not to
    // OS threads (benchmark threads come and go between runs).
    rc = mdb_env_open(env_, config_.path.c_str(), MDB_NOTLS, 0644);
    if (rc != 0) return LmdbError(("env_open " + config_.path).c_str(), rc);
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("txn_begin", rc);
    rc = mdb_dbi_open(txn, nullptr, 0, &dbi_);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("dbi_open", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? OkStatus() : LmdbError("txn_commit", rc);
  }

  const char* name() const override { return "lmdb"; }

  Status Put(int thread, std::string_view key,
             std::string_view value) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("txn_begin", rc);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    rc = mdb_put(txn, dbi_, &k, &v, 0);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("put", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? OkStatus() : LmdbError("commit", rc);
  }

  Status Get(int thread, std::string_view key, std::string* value) override {
    MDB_txn*& txn = readers_[thread];
    int rc = txn == nullptr ? mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn)
                            : mdb_txn_renew(txn);
    if (rc != 0) return LmdbError("read txn", rc);
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v;
    rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == 0) value->assign(static_cast<const char*>(v.mv_data), v.mv_size);
    mdb_txn_reset(txn);
    if (rc == MDB_NOTFOUND) return NotFoundError("lmdb: key not found");
    return rc == 0 ? OkStatus() : LmdbError("get", rc);
  }

  Status BulkLoad(uint64_t n, const KeyFn& key_fn,
                  const KeyFn& value_fn) override {
    std::string key, value;
    constexpr uint64_t kPerTxn = 20000;
    for (uint64_t start = 0; start < n; start += kPerTxn) {
      MDB_txn* txn = nullptr;
      int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (rc != 0) return LmdbError("txn_begin", rc);
      for (uint64_t i = start; i < n && i < start + kPerTxn; ++i) {
        key_fn(i, &key);
        value_fn(i, &value);
        MDB_val k{key.size(), key.data()};
        MDB_val v{value.size(), value.data()};
        rc = mdb_put(txn, dbi_, &k, &v, 0);
        if (rc != 0) {
          mdb_txn_abort(txn);
          return LmdbError("put", rc);
        }
      }
      rc = mdb_txn_commit(txn);
      if (rc != 0) return LmdbError("commit", rc);
    }
    return OkStatus();
  }

  Status Reopen() override {
    Close();
    return Open();
  }

 private:
  void Close() {
    for (MDB_txn*& txn : readers_) {
      if (txn != nullptr) mdb_txn_abort(txn);
      txn = nullptr;
    }
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = nullptr;
  }

  StoreConfig config_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_txn* readers_[kMaxThreads] = {};
};

}  // namespace

StatusOr<std::unique_ptr<KvStore>> OpenLmdbStore(const StoreConfig& config) {
  auto store = std::make_unique<LmdbStore>(config);
  DAXKV_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace daxkv::bench
