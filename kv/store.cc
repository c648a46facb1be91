#include "kv/store.h"

#include <string>
#include <vector>

#include "engine/txn.h"

namespace daxkv::kv {
namespace {

// Overlay versions never collide with engine versions handed out so far.
constexpr uint64_t kOverlayVersionBase = 1ull << 63;
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
      db().RunRead({std::string(key)}, [&](engine::ReadOps& ops) {
        DAXKV_ASSIGN_OR_RETURN(info, ops.Stat(key));
        return OkStatus();
      }));
  return info;
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

StatusOr<engine::ReadResult> TxnStore::Get(std::string_view key) {
  auto it = overlay_.find(key);
  if (it != overlay_.end()) {
    const Pending& p = it->second;
    if (!p.value ||
        (p.expire_at_ms != 0 && p.expire_at_ms <= clock_->NowMs())) {
      return NotFoundError(key);
    }
    engine::ReadResult r;
    r.value = *p.value;
    r.expire_at_ms = p.expire_at_ms;
    r.version = p.version;
    return r;
  }
  if (flushed_) return NotFoundError(key);
  return db_->Get(key);
}

// A collection (WRONGTYPE to Get) exists too.
bool TxnStore::Exists(std::string_view key) {
  auto r = Get(key);
  return r.ok() || engine::IsWrongType(r.status());
}

void TxnStore::Stage(std::string_view key, std::optional<std::string> value,
                     int64_t expire_at_ms) {
  if (value) {
    batch_.Put(key, *value, expire_at_ms);
  } else {
    batch_.Delete(key);
  }
  Pending& p = overlay_[std::string(key)];
  p.value = std::move(value);
  p.expire_at_ms = expire_at_ms;
  p.version = kOverlayVersionBase + next_version_++;
}

Status TxnStore::Put(std::string_view key, std::string_view value,
                     int64_t expire_at_ms, engine::PutMode mode) {
  if (mode != engine::PutMode::kUpsert) {
    bool live = Exists(key);
    if (mode == engine::PutMode::kIfAbsent && live) {
      return AlreadyExistsError(key);
    }
    if (mode == engine::PutMode::kIfPresent && !live) return NotFoundError(key);
  }
  Stage(key, std::string(value), expire_at_ms);
  return OkStatus();
}

Status TxnStore::Delete(std::string_view key, bool* existed) {
  bool live = Exists(key);
  if (existed != nullptr) *existed = live;
  if (live) Stage(key, std::nullopt, 0);
  return OkStatus();
}

Status TxnStore::SetExpiry(std::string_view key, int64_t expire_at_ms) {
  auto r = Get(key);
  if (!r.ok()) return r.status();
  Stage(key, std::move(r->value), expire_at_ms);
  return OkStatus();
}

Status TxnStore::Update(std::string_view key, const engine::UpdateFn& fn) {
  auto r = Get(key);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  engine::UpdateInput in;
  if (r.ok()) {
    in.old = &r->value;
    in.old_expire_at_ms = r->expire_at_ms;
  }
  engine::UpdateOutput out;
  DAXKV_RETURN_IF_ERROR(fn(in, &out));
  if (out.value) {
    Stage(key, std::move(out.value), out.expire_at_ms);
  } else if (r.ok()) {
    Stage(key, std::nullopt, 0);
  }
  return OkStatus();
}

Status TxnStore::Rename(std::string_view src, std::string_view dst) {
  auto from = Get(src);
  if (!from.ok()) return from.status();
  if (src == dst) return OkStatus();
  Stage(dst, std::move(from->value), from->expire_at_ms);
  Stage(src, std::nullopt, 0);
  return OkStatus();
}

Status TxnStore::ChangeExpiry(std::string_view key, const ExpiryFn& decide) {
  auto r = Get(key);
  engine::KeyInfo info;
  if (r.ok()) {
    info.type = engine::KeyType::kString;
    info.expire_at_ms = r->expire_at_ms;
  } else if (r.status().code() != StatusCode::kNotFound) {
    return engine::IsWrongType(r.status())
               ? NotSupportedError("expiry of a collection inside MULTI")
               : r.status();
  }
  DAXKV_ASSIGN_OR_RETURN(int64_t when, decide(info));
  if (when == kExpireDeletes) {
    Stage(key, std::nullopt, 0);
  } else {
    Stage(key, std::move(r->value), when);
  }
  return OkStatus();
}

Status TxnStore::Copy(std::string_view src, std::string_view dst, bool replace,
                      bool* done) {
  *done = false;
  auto from = Get(src);
  if (engine::IsWrongType(from.status())) {
    return NotSupportedError("COPY of a collection inside MULTI");
  }
  if (!from.ok()) return OkStatus();
  if (!replace && Exists(dst)) return OkStatus();
  Stage(dst, std::move(from->value), from->expire_at_ms);
  *done = true;
  return OkStatus();
}

Status TxnStore::Write(const engine::WriteBatch& batch) {
  for (const auto& pre : batch.preconditions()) {
    auto r = Get(pre.key);
    uint64_t version = r.ok() ? r->version : 0;
    if (version != pre.version) return AbortedError(pre.key);
  }
  for (const auto& op : batch.ops()) {
    if (op.type == engine::WriteBatch::OpType::kPut) {
      Stage(op.key, op.value, op.expire_at_ms);
    } else {
      Stage(op.key, std::nullopt, 0);
    }
  }
  return OkStatus();
}

Status TxnStore::Flush() {
  // The batch has no "drop everything" op: delete every key the engine
  // holds, then forget the overlay; later writes are staged after these.
  uint64_t cursor = 0;
  do {
    auto page = db_->Scan(cursor, 1024);
    if (!page.ok()) return page.status();
    for (const auto& k : page->keys) batch_.Delete(k);
    cursor = page->next_cursor;
  } while (cursor != 0);
  for (const auto& [k, p] : overlay_) batch_.Delete(k);
  overlay_.clear();
  flushed_ = true;
  return OkStatus();
}

void TxnStore::Require(std::string_view key, uint64_t version) {
  // The batch's precondition compares a string's version; a collection's
  // WATCH version (KeyInfo::version, which element writes change) is
  // checked by EXEC itself, under the exclusive section that also covers
  // this block, so nobody can change the key in between.
  if (engine::IsWrongType(Get(key).status())) return;
  batch_.RequireVersion(key, version);
}

Status TxnStore::Commit() {
  if (batch_.empty()) return OkStatus();
  DAXKV_RETURN_IF_ERROR(db_->Write(batch_, kNoSync));
  if (watches_ != nullptr) {
    for (const auto& op : batch_.ops()) watches_->Touch(op.key);
  }
  return OkStatus();
}

}  // namespace daxkv::kv
