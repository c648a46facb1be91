#include "kv/txn_engine_store.h"

#include <string>
#include <vector>

#include "kv/block_serve.h"

namespace daxkv::kv {
namespace {

// The WATCH / precondition version of a key as the block sees it: 0 when
// absent or expired (as Store::Stat reports it outside a block).
StatusOr<uint64_t> LiveVersion(engine::Txn& txn, std::string_view key) {
  DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn.Stat(key));
  return info.type == engine::KeyType::kNone ? 0 : info.version;
}

}  // namespace

// Durability (every write below): applied to the block's Txn; RunStoreTxn
// commits it with sync = false and the round's Sync() makes it durable
// before any reply of the round leaves.
StatusOr<engine::ReadResult> TxnEngineStore::Get(std::string_view key) {
  engine::ReadResult r;
  engine::ReadInfo info;
  DAXKV_RETURN_IF_ERROR(txn_->Get(key, &r.value, &info));
  r.expire_at_ms = info.expire_at_ms;
  r.version = info.version;
  return r;
}

bool TxnEngineStore::Exists(std::string_view key) {
  auto info = txn_->Stat(key);
  return info.ok() && info->type != engine::KeyType::kNone;
}

StatusOr<engine::KeyInfo> TxnEngineStore::Stat(std::string_view key) {
  DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn_->Stat(key));
  if (info.type == engine::KeyType::kNone) info.version = 0;
  return info;
}

Status TxnEngineStore::Put(std::string_view key, std::string_view value,
                           int64_t expire_at_ms, engine::PutMode mode) {
  DAXKV_RETURN_IF_ERROR(txn_->Put(key, value, expire_at_ms, mode));
  Touched(key);
  return OkStatus();
}

Status TxnEngineStore::Delete(std::string_view key, bool* existed) {
  bool was = false;
  DAXKV_RETURN_IF_ERROR(txn_->Delete(key, &was));
  if (existed != nullptr) *existed = was;
  if (was) Touched(key);
  return OkStatus();
}

Status TxnEngineStore::SetExpiry(std::string_view key, int64_t expire_at_ms) {
  DAXKV_RETURN_IF_ERROR(txn_->SetExpiry(key, expire_at_ms));
  Touched(key);
  return OkStatus();
}

Status TxnEngineStore::Update(std::string_view key,
                              const engine::UpdateFn& fn) {
  engine::ReadResult old;
  engine::ReadInfo info;
  Status got = txn_->Get(key, &old.value, &info);
  if (!got.ok() && got.code() != StatusCode::kNotFound) return got;
  engine::UpdateInput in;
  if (got.ok()) {
    in.old = &old.value;
    in.old_expire_at_ms = info.expire_at_ms;
  }
  engine::UpdateOutput out;
  DAXKV_RETURN_IF_ERROR(fn(in, &out));
  if (out.value) {
    DAXKV_RETURN_IF_ERROR(txn_->Put(key, *out.value, out.expire_at_ms));
  } else if (got.ok()) {
    bool existed = false;
    DAXKV_RETURN_IF_ERROR(txn_->Delete(key, &existed));
  } else {
    return OkStatus();  // deleting an absent key changes nothing
  }
  Touched(key);
  return OkStatus();
}

Status TxnEngineStore::Write(const engine::WriteBatch& batch) {
  for (const auto& pre : batch.preconditions()) {
    DAXKV_ASSIGN_OR_RETURN(uint64_t version, LiveVersion(*txn_, pre.key));
    if (version != pre.version) return AbortedError(pre.key);
  }
  for (const auto& op : batch.ops()) {
    if (op.type == engine::WriteBatch::OpType::kPut) {
      DAXKV_RETURN_IF_ERROR(txn_->Put(op.key, op.value, op.expire_at_ms));
    } else {
      bool existed = false;
      DAXKV_RETURN_IF_ERROR(txn_->Delete(op.key, &existed));
    }
    Touched(op.key);
  }
  return OkStatus();
}

Status TxnEngineStore::Rename(std::string_view src, std::string_view dst) {
  bool done = false;
  DAXKV_RETURN_IF_ERROR(txn_->Rename(src, dst, /*if_absent=*/false, &done));
  Touched(src);
  Touched(dst);
  filled_.emplace_back(dst);
  return OkStatus();
}

Status TxnEngineStore::ChangeExpiry(std::string_view key,
                                    const ExpiryFn& decide) {
  DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn_->Stat(key));
  DAXKV_ASSIGN_OR_RETURN(int64_t when, decide(info));
  if (when != kExpireDeletes) {
    DAXKV_RETURN_IF_ERROR(txn_->SetExpiry(key, when));
  } else {
    bool existed = false;
    DAXKV_RETURN_IF_ERROR(txn_->Delete(key, &existed));
  }
  Touched(key);
  return OkStatus();
}

Status TxnEngineStore::Copy(std::string_view src, std::string_view dst,
                            bool replace, bool* done) {
  *done = false;
  Status s = txn_->Copy(src, dst, replace, done);
  if (s.code() == StatusCode::kNotFound) return OkStatus();  // no src
  DAXKV_RETURN_IF_ERROR(s);
  if (*done) {
    Touched(dst);
    filled_.emplace_back(dst);
  }
  return OkStatus();
}

StatusOr<engine::DB::ScanPage> TxnEngineStore::Scan(uint64_t cursor,
                                                    size_t count) {
  return txn_->ScanKeys(cursor, count, engine::KeyType::kNone);
}

StatusOr<std::vector<std::string>> TxnEngineStore::AllKeys() {
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    DAXKV_ASSIGN_OR_RETURN(engine::DB::ScanPage page, Scan(cursor, 1024));
    for (std::string& k : page.keys) keys.push_back(std::move(k));
    cursor = page.next_cursor;
  } while (cursor != 0);
  return keys;
}

StatusOr<uint64_t> TxnEngineStore::Count() {
  DAXKV_ASSIGN_OR_RETURN(std::vector<std::string> keys, AllKeys());
  return keys.size();
}

Status TxnEngineStore::Flush() {
  // The keyspace first, then the deletes: the Txn's scan includes its own
  // creations and deletions.
  DAXKV_ASSIGN_OR_RETURN(std::vector<std::string> keys, AllKeys());
  for (const std::string& k : keys) {
    bool existed = false;
    DAXKV_RETURN_IF_ERROR(txn_->Delete(k, &existed));
    if (existed) Touched(k);
  }
  return OkStatus();
}

Status TxnEngineStore::Read(const std::vector<std::string>&, const ReadFn& fn) {
  return fn(*txn_);
}

Status RunStoreTxn(engine::DB& db, WatchRegistry* watches,
                   BlockedServer* served, std::vector<std::string> keys,
                   const StoreTxnFn& body, bool system_writes) {
  engine::TxnOptions opts;
  opts.keys = std::move(keys);
  opts.system_writes = system_writes;
  // One reference captured: the std::function holds it without a heap
  // allocation.
  struct Run {
    engine::DB& db;
    BlockedServer* served;
    const StoreTxnFn& body;
    std::vector<std::string> touched;
  } run{db, served, body, {}};
  // Durability: sync = false; the round's Sync() before the reply (see the
  // header), and before the replies of the blocked clients served here.
  Status s = db.RunTxn(opts, engine::WriteOptions{.sync = false},
                       [&run](engine::Txn& txn) {
                         if (run.served != nullptr) run.served->Reset();
                         TxnEngineStore store(&txn, &run.db);
                         Status st = run.body(store);
                         if (st.ok() && run.served != nullptr) {
                           std::vector<std::string> popped;
                           st = run.served->Serve(txn, &popped, store.filled());
                           for (std::string& k : popped) {
                             store.Touched(std::move(k));
                           }
                         }
                         run.touched = store.TakeTouched();
                         return st;
                       });
  if (!s.ok()) {
    if (served != nullptr) served->Reset();
    return s;
  }
  if (watches != nullptr) {
    for (const std::string& key : run.touched) watches->Touch(key);
  }
  return OkStatus();
}

}  // namespace daxkv::kv
