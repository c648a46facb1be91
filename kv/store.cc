#include "kv/store.h"

#include <string>
#include <vector>

#include "engine/txn.h"

namespace daxkv::kv {
namespace {

const engine::WriteOptions kNoSync{.sync = false};

}  // namespace

StatusOr<engine::KeyInfo> Store::Stat(std::string_view key) {
  engine::KeyInfo info;
  auto r = Get(key);
  if (r.ok()) {
    info.type = engine::KeyType::kString;
    info.expire_at_ms = r->expire_at_ms;
    info.size = r->value.size();
    info.version = r->version;
    return info;
  }
  if (r.status().code() == StatusCode::kNotFound) return info;
  if (!engine::IsWrongType(r.status())) return r.status();
  DAXKV_RETURN_IF_ERROR(
      Read({std::string(key)}, [&](engine::ReadOps& ops) {
        DAXKV_ASSIGN_OR_RETURN(info, ops.Stat(key));
        return OkStatus();
      }));
  return info;
}

void Store::MultiGet(std::span<const std::string_view> keys,
                     std::span<std::string> values,
                     std::span<Status> statuses) {
  for (size_t i = 0; i < keys.size(); ++i) {
    auto r = Get(keys[i]);
    statuses[i] = r.status();
    if (r.ok()) values[i] = std::move(r->value);
  }
}

// Durability (all DirectStore writes): applied with sync=false; the I/O
// thread's DB::Sync() before the round's replies makes them durable. A crash
// before that Sync may lose them, but nothing was acknowledged yet.
StatusOr<engine::ReadResult> DirectStore::Get(std::string_view key) {
  return db_->Get(key);
}
bool DirectStore::Exists(std::string_view key) { return db_->Exists(key); }
Status DirectStore::Put(std::string_view key, std::string_view value,
                        int64_t expire_at_ms, engine::PutMode mode) {
  Status s = mode == engine::PutMode::kUpsert
                 ? db_->Put(key, value, expire_at_ms, kNoSync)
                 : db_->PutIf(mode, key, value, expire_at_ms, kNoSync);
  if (s.ok()) Touched(key);
  return s;
}
Status DirectStore::Delete(std::string_view key, bool* existed) {
  bool was = false;
  Status s = db_->Delete(key, &was, kNoSync);
  if (existed != nullptr) *existed = was;
  if (s.ok() && was) Touched(key);
  return s;
}
Status DirectStore::SetExpiry(std::string_view key, int64_t expire_at_ms) {
  Status s = db_->SetExpiry(key, expire_at_ms, kNoSync);
  if (s.ok()) Touched(key);
  return s;
}
Status DirectStore::Update(std::string_view key, const engine::UpdateFn& fn) {
  // Deleting an absent key writes nothing and touches no watcher.
  bool changed = false;
  Status s = db_->Update(
      key,
      [&](const engine::UpdateInput& in, engine::UpdateOutput* out) {
        Status st = fn(in, out);
        changed = st.ok() && (out->value.has_value() || in.old != nullptr);
        return st;
      },
      kNoSync);
  if (s.ok() && changed) Touched(key);
  return s;
}
Status DirectStore::Write(const engine::WriteBatch& batch) {
  Status s = db_->Write(batch, kNoSync);
  if (s.ok()) {
    for (const auto& op : batch.ops()) Touched(op.key);
  }
  return s;
}
Status DirectStore::Rename(std::string_view src, std::string_view dst) {
  Status s = db_->Rename(src, dst, kNoSync);
  if (s.ok()) {
    Touched(src);
    Touched(dst);
  }
  return s;
}

Status DirectStore::ChangeExpiry(std::string_view key, const ExpiryFn& decide) {
  engine::TxnOptions opts;
  opts.keys.emplace_back(key);
  Status s = db_->RunTxn(opts, kNoSync, [&](engine::Txn& txn) -> Status {
    DAXKV_ASSIGN_OR_RETURN(engine::KeyInfo info, txn.Stat(key));
    DAXKV_ASSIGN_OR_RETURN(int64_t when, decide(info));
    if (when != kExpireDeletes) return txn.SetExpiry(key, when);
    bool existed = false;
    return txn.Delete(key, &existed);
  });
  if (s.ok()) Touched(key);
  return s;
}

Status DirectStore::Copy(std::string_view src, std::string_view dst,
                         bool replace, bool* done) {
  engine::TxnOptions opts;
  opts.keys = {std::string(src), std::string(dst)};
  *done = false;
  Status s = db_->RunTxn(opts, kNoSync, [&](engine::Txn& txn) {
    return txn.Copy(src, dst, replace, done);
  });
  if (s.code() == StatusCode::kNotFound) return OkStatus();  // no src
  if (s.ok() && *done) Touched(dst);
  return s;
}

// FLUSHALL touches the watched keys that existed (Redis 7.0's
// touchAllWatchedKeysInDb). REQUIRES: no concurrent writer (FLUSHALL runs
// in an exclusive section), so existence does not change meanwhile.
Status DirectStore::Flush() {
  std::vector<std::string> existed;
  if (watches_ != nullptr) {
    for (auto& key : watches_->Keys()) {
      if (db_->Exists(key)) existed.push_back(std::move(key));
    }
  }
  DAXKV_RETURN_IF_ERROR(db_->Flush());
  for (const auto& k : existed) Touched(k);
  return OkStatus();
}

}  // namespace daxkv::kv
