#include "kv/store.h"

namespace daxkv::kv {
namespace {

// Overlay versions never collide with engine versions handed out so far.
constexpr uint64_t kOverlayVersionBase = 1ull << 63;
const engine::WriteOptions kNoSync{.sync = false};

}  // namespace

// Durability (all DirectStore writes): applied with sync=false; the I/O
// thread's DB::Sync() before the round's replies makes them durable. A crash
// before that Sync may lose them, but nothing was acknowledged yet.
StatusOr<engine::ReadResult> DirectStore::Get(std::string_view key) {
  return db_->Get(key);
}
bool DirectStore::Exists(std::string_view key) { return db_->Exists(key); }
Status DirectStore::Put(std::string_view key, std::string_view value,
                        int64_t expire_at_ms, engine::PutMode mode) {
  if (mode == engine::PutMode::kUpsert) {
    return db_->Put(key, value, expire_at_ms, kNoSync);
  }
  return db_->PutIf(mode, key, value, expire_at_ms, kNoSync);
}
Status DirectStore::Delete(std::string_view key, bool* existed) {
  return db_->Delete(key, existed, kNoSync);
}
Status DirectStore::SetExpiry(std::string_view key, int64_t expire_at_ms) {
  return db_->SetExpiry(key, expire_at_ms, kNoSync);
}
Status DirectStore::Update(std::string_view key, const engine::UpdateFn& fn) {
  return db_->Update(key, fn, kNoSync);
}
Status DirectStore::Write(const engine::WriteBatch& batch) {
  return db_->Write(batch, kNoSync);
}
Status DirectStore::Flush() { return db_->Flush(); }

StatusOr<engine::ReadResult> TxnStore::Get(std::string_view key) {
  auto it = overlay_.find(key);
  if (it != overlay_.end()) {
    const Pending& p = it->second;
    if (!p.value || (p.expire_at_ms != 0 && p.expire_at_ms <= now_ms_())) {
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

bool TxnStore::Exists(std::string_view key) { return Get(key).ok(); }

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
  batch_.RequireVersion(key, version);
}

Status TxnStore::Commit() {
  if (batch_.empty()) return OkStatus();
  return db_->Write(batch_, kNoSync);
}

}  // namespace daxkv::kv
