// TxnEngineStore: the Store a MULTI/EXEC block, a script and a collection
// command run against (docs/collections.md §11): every operation is a call
// on one engine Txn, so the block's string and collection writes commit
// together as one batch record (a crash keeps all of them or none).
//
// RunStoreTxn is the kv layer's one path to commit an engine Txn: EXEC,
// EVAL/FCALL and every collection write go through it, so whatever must
// happen inside the Txn just before it commits (serving clients blocked on
// a list the Txn pushed to, docs/collections.md §8) has one place to live.
//
// Thread-safety: a TxnEngineStore is used by the thread running its Txn.
#ifndef DAXKV_KV_TXN_ENGINE_STORE_H_
#define DAXKV_KV_TXN_ENGINE_STORE_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/function_ref.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "engine/txn.h"
#include "kv/store.h"
#include "kv/watch_registry.h"

namespace daxkv::kv {

class BlockedServer;

class TxnEngineStore final : public Store {
 public:
  // REQUIRES: `txn` and `db` outlive the store.
  TxnEngineStore(engine::Txn* txn, engine::DB* db) : txn_(txn), db_(db) {}

  StatusOr<engine::ReadResult> Get(std::string_view key) override;
  bool Exists(std::string_view key) override;
  StatusOr<engine::KeyInfo> Stat(std::string_view key) override;
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
  // Deletes every key in the Txn (FLUSHALL inside a block): atomic with the
  // rest of the block, one tombstone per key.
  Status Flush() override;
  Status Read(const std::vector<std::string>& keys, const ReadFn& fn) override;
  StatusOr<engine::DB::ScanPage> Scan(uint64_t cursor, size_t count) override;
  StatusOr<uint64_t> Count() override;
  engine::DB& db() override { return *db_; }
  TxnEngineStore* block() override { return this; }

  engine::Txn& txn() { return *txn_; }
  // Keys whose WATCHers are marked once the Txn commits (Redis's
  // signalModifiedKey); Rewind drops those of a rolled back command. A key
  // the command before touched is not listed again: a pipelined run of
  // LPUSHes to one list lists it once (a rolled back command's Rewind then
  // drops none of the earlier command's entry, which stands).
  void Touched(std::string_view key) {
    if (touched_.empty() || touched_.back() != key) touched_.emplace_back(key);
  }
  void Touched(std::string&& key) {
    if (touched_.empty() || touched_.back() != key) {
      touched_.push_back(std::move(key));
    }
  }
  size_t touched_mark() const { return touched_.size(); }
  void Rewind(size_t mark) { touched_.resize(mark); }
  const std::vector<std::string>& touched() const { return touched_; }
  // Keys a write gave a value without pushing to them (RENAME, COPY: Redis's
  // signalKeyAsReady on dbAdd): RunStoreTxn serves their blocked clients
  // with the Txn's ready keys. Serving reads each key's state in the Txn,
  // so a key whose command was rolled back since is served nothing.
  const std::vector<std::string>& filled() const { return filled_; }
  void Filled(std::string_view key) { filled_.emplace_back(key); }
  std::vector<std::string> TakeTouched() { return std::move(touched_); }

 private:
  // Every key the Txn sees (its own writes included).
  StatusOr<std::vector<std::string>> AllKeys();

  engine::Txn* txn_;
  engine::DB* db_;
  std::vector<std::string> touched_;
  std::vector<std::string> filled_;
};

// Called before RunStoreTxn returns, never kept (base/function_ref.h).
using StoreTxnFn = FunctionRef<Status(TxnEngineStore& store)>;

// Runs `body` in one engine Txn (DB::RunTxn) declaring `keys`, commits it
// and then marks the watchers of the keys it touched. Before the commit,
// `served` (unless null) hands the elements of the lists and sorted sets the
// Txn filled (pushed to, or renamed or copied onto: filled()) to the
// clients blocked on them (kv/block_serve.h); after a
// successful return the caller calls served->Committed(client). body may run
// more than once (a restart), so it must reset its side effects (replies) at
// each run. Returns body's error (nothing applied) or the commit's.
// Durability: the Txn commits with sync = false: visible at once, durable
// at the I/O thread's round DB::Sync(), which runs before any reply of the
// round is sent (every caller's command carries kCmdKeyspace).
// `system_writes`: body may write system entries (engine
// TxnOptions::system_writes; a replica's resume record).
Status RunStoreTxn(engine::DB& db, WatchRegistry* watches,
                   BlockedServer* served, std::vector<std::string> keys,
                   const StoreTxnFn& body, bool system_writes = false);

}  // namespace daxkv::kv

#endif  // DAXKV_KV_TXN_ENGINE_STORE_H_
