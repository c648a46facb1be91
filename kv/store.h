// Store: the key-value operations command handlers run against. Two
// implementations: DirectStore applies each operation to the engine at once
// (WriteOptions{sync=false}; the I/O thread calls DB::Sync() before it sends
// the replies of a round), and TxnEngineStore (kv/txn_engine_store.h) runs
// them in the engine Txn of a MULTI/EXEC block or a script, so the block is
// durable all-or-nothing, whatever the types of its keys.
// Both mark the WATCHers of every key they change (kv/watch_registry.h)
// once the change is applied; a write that changes nothing (DEL of an
// absent key, an Update whose callback aborts) marks nobody, as in Redis.
//
// Thread-safety: a Store object is used by one thread at a time.
#ifndef DAXKV_KV_STORE_H_
#define DAXKV_KV_STORE_H_

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "engine/key_type.h"
#include "engine/txn.h"
#include "kv/watch_registry.h"

namespace daxkv::kv {

class TxnEngineStore;

class Store {
 public:
  virtual ~Store() = default;
  // NotFound when absent or expired.
  virtual StatusOr<engine::ReadResult> Get(std::string_view key) = 0;
  // Get of every key (values, statuses: keys.size() each): one batched
  // engine lookup (DB::MultiGet) for the DirectStore, a loop of Get here
  // (inside a block).
  virtual void MultiGet(std::span<const std::string_view> keys,
                        std::span<std::string> values,
                        std::span<Status> statuses);
  // Keys of every type.
  virtual bool Exists(std::string_view key) = 0;
  // Type, expiry and size of a key of any type (type kNone when absent or
  // expired). The default reads the engine for a key Get() reports as a
  // collection (WRONGTYPE).
  virtual StatusOr<engine::KeyInfo> Stat(std::string_view key);
  // The EXPIRE family and PERSIST, for keys of every type: `decide` sees
  // the key's info and returns its new expiry (0: none), kExpireDeletes to
  // delete it (an expiry in the past), or a non-OK status to change
  // nothing (returned as is). Atomic with the read.
  static constexpr int64_t kExpireDeletes = -1;
  using ExpiryFn =
      std::function<StatusOr<int64_t>(const engine::KeyInfo& info)>;
  virtual Status ChangeExpiry(std::string_view key, const ExpiryFn& decide) = 0;
  // COPY src dst [REPLACE], any type: *done false when src is absent, or
  // dst exists and !replace.
  virtual Status Copy(std::string_view src, std::string_view dst, bool replace,
                      bool* done) = 0;
  virtual Status Put(std::string_view key, std::string_view value,
                     int64_t expire_at_ms,
                     engine::PutMode mode = engine::PutMode::kUpsert) = 0;
  virtual Status Delete(std::string_view key, bool* existed) = 0;
  // NotFound when the key is absent.
  virtual Status SetExpiry(std::string_view key, int64_t expire_at_ms) = 0;
  virtual Status Update(std::string_view key, const engine::UpdateFn& fn) = 0;
  // Aborted when a precondition fails; nothing is applied then.
  virtual Status Write(const engine::WriteBatch& batch) = 0;
  // Moves src's value and expiry to dst, replacing dst, atomically. NotFound
  // when src is absent. O(1) in the value size for values in spans
  // (engine::DB::Rename), as Redis's RENAME is.
  virtual Status Rename(std::string_view src, std::string_view dst) = 0;
  virtual Status Flush() = 0;
  // A consistent read of keys of any type: DB::RunRead, or the block's
  // Txn inside a block (reading the engine directly there could wait for
  // the block's own uncommitted writes forever).
  using ReadFn = std::function<Status(engine::ReadOps&)>;
  virtual Status Read(const std::vector<std::string>& keys,
                      const ReadFn& fn) = 0;
  // Keyspace-wide reads (KEYS, SCAN, RANDOMKEY, DBSIZE): DB::Scan and
  // DB::Count, or inside a block the Txn's scan (which sees the block's
  // own creations and deletions).
  virtual StatusOr<engine::DB::ScanPage> Scan(uint64_t cursor,
                                              size_t count) = 0;
  virtual StatusOr<uint64_t> Count() = 0;
  virtual engine::DB& db() = 0;
  // The block's store when running inside MULTI/EXEC or a script.
  virtual TxnEngineStore* block() { return nullptr; }
};

// Not final: GetBatch (kv/get_batch.h) serves GETs from a MultiGet.
class DirectStore : public Store {
 public:
  // REQUIRES: `db` (and `watches`, may be null) outlive the store.
  explicit DirectStore(engine::DB* db, WatchRegistry* watches = nullptr)
      : db_(db), watches_(watches) {}

  StatusOr<engine::ReadResult> Get(std::string_view key) override;
  void MultiGet(std::span<const std::string_view> keys,
                std::span<std::string> values,
                std::span<Status> statuses) override {
    db_->MultiGet(keys, values, statuses);
  }
  bool Exists(std::string_view key) override;
  Status Put(std::string_view key, std::string_view value, int64_t expire_at_ms,
             engine::PutMode mode) override;
  Status Delete(std::string_view key, bool* existed) override;
  Status SetExpiry(std::string_view key, int64_t expire_at_ms) override;
  Status Update(std::string_view key, const engine::UpdateFn& fn) override;
  Status Write(const engine::WriteBatch& batch) override;
  Status Rename(std::string_view src, std::string_view dst) override;
  Status ChangeExpiry(std::string_view key, const ExpiryFn& decide) override;
  Status Copy(std::string_view src, std::string_view dst, bool replace,
              bool* done) override;
  Status Flush() override;
  Status Read(const std::vector<std::string>& keys,
              const ReadFn& fn) override {
    return db_->RunRead(keys, fn);
  }
  StatusOr<engine::DB::ScanPage> Scan(uint64_t cursor, size_t count) override {
    return db_->Scan(cursor, count);
  }
  StatusOr<uint64_t> Count() override { return db_->Count(); }
  engine::DB& db() override { return *db_; }

 private:
  void Touched(std::string_view key) {
    if (watches_ != nullptr) watches_->Touch(key);
  }

  engine::DB* db_;
  WatchRegistry* watches_;
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_STORE_H_
