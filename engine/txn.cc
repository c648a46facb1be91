// TxnImpl (txn_impl.h): begin, the keys it locks and how it sees them,
// savepoints, abort; and DB's transaction entry points.
#include <algorithm>

#include "engine/txn_impl.h"

namespace daxkv::engine {
namespace {
template <typename... C>
void ClearIfUsed(C&... containers) {
  // An empty unordered_map's clear() still zeroes its bucket array.
  ((containers.empty() ? void() : containers.clear()), ...);
}
}  // namespace

Status CheckElemSizes(std::string_view subkey, std::string_view value) {
  if (subkey.size() + value.size() > kMaxValueSize) {
    return InvalidArgumentError(
        "element of " + std::to_string(subkey.size() + value.size()) +
        " bytes exceeds the maximum of " + std::to_string(kMaxValueSize));
  }
  return OkStatus();
}

TxnImpl::TxnImpl(DBImpl* db, const TxnOptions& options)
    : db_(db), src_(db->base_, db->hash_seed_, &image_) {
  Begin(db, options);
}

TxnImpl::~TxnImpl() { Abort(); }

void TxnImpl::Begin(DBImpl* db, const TxnOptions& options) {
  db_ = db;
  src_ = PoolSource(db->base_, db->hash_seed_, &image_);
  now_ms_ = kNowUnread;
  image_.assign(format::kRecordHeaderSize, '\0');
  missed_key_.reset();
  // What an earlier Txn left (Finish keeps the containers' capacity).
  ClearIfUsed(subs_, keys_, key_index_, colls_, created_, tombs_, removed_,
              undo_, saved_views_, saved_locs_, saved_bytes_, ready_keys_,
              required_, system_);
  system_writes_ = options.system_writes;
  read_ = restart_required_ = needs_space_ = finished_ = false;
  stripes_.clear();
  for (const std::string& k : options.keys) {
    stripes_.push_back(KeyHash(k).low() & (DBImpl::kStripes - 1));
  }
  if (system_writes_) stripes_.push_back(0);  // TxnOptions::system_writes
  std::sort(stripes_.begin(), stripes_.end());
  stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
  // Ascending (db_impl.h's lock order). The analysis cannot follow a set
  // of held stripes: Commit asserts each one it relies on.
  for (size_t s : stripes_) db_->stripes_[s].native().lock();
}

namespace {
// The calling thread's parked Txn (TxnImpl::Park). A nested Acquire finds
// none and makes its own.
thread_local std::unique_ptr<TxnImpl> t_spare_txn;
// A parked Txn keeps no more than this of any buffer (a huge EXEC or
// FLUSHALL does not pin its memory for the thread's lifetime).
constexpr size_t kParkedImageBytes = size_t{1} << 20;
constexpr size_t kParkedItems = 4096;
// Clearing a hash map zeroes its buckets: a Txn with many keys or
// collections is not parked.
constexpr size_t kParkedBuckets = 64;
}  // namespace

std::unique_ptr<TxnImpl> TxnImpl::Acquire(DBImpl* db,
                                          const TxnOptions& options) {
  if (t_spare_txn == nullptr) return std::make_unique<TxnImpl>(db, options);
  std::unique_ptr<TxnImpl> txn = std::move(t_spare_txn);
  txn->Begin(db, options);
  return txn;
}

void TxnImpl::Park(std::unique_ptr<TxnImpl> txn) {
  txn->Abort();  // a no-op once committed or aborted
  if (txn->Oversized()) return;
  t_spare_txn = std::move(txn);
}

bool TxnImpl::Oversized() const {
  return image_.capacity() > kParkedImageBytes ||
         rec_.capacity() > kParkedImageBytes ||
         subs_.capacity() > kParkedItems || keys_.capacity() > kParkedItems ||
         undo_.capacity() > kParkedItems ||
         insert_plan_.keys.capacity() > kParkedItems ||
         key_index_.bucket_count() > kParkedBuckets ||
         tombs_.capacity() > kParkedBuckets ||
         colls_.bucket_count() > kParkedBuckets ||
         saved_views_.capacity() > kParkedItems ||
         saved_locs_.capacity() > kParkedItems ||
         saved_bytes_.capacity() > kParkedItems ||
         colls_.capacity() > kParkedItems ||
         removed_.capacity() > kParkedItems ||
         kept_.capacity() > kParkedItems ||
         offsets_.capacity() > kParkedItems ||
         relocs_.capacity() > kParkedItems;
}

Status TxnImpl::LockStripe(size_t stripe) {
  auto it = std::lower_bound(stripes_.begin(), stripes_.end(), stripe);
  if (it != stripes_.end() && *it == stripe) return OkStatus();
  std::mutex& mu = db_->stripes_[stripe].native();
  // Blocking is safe only above every stripe held (the lock order).
  if (it == stripes_.end()) {
    mu.lock();
  } else if (!mu.try_lock()) {
    restart_required_ = true;
    return BusyError(
        "transaction must restart: a key it did not declare is locked by "
        "another writer (run it again with the key declared)");
  }
  stripes_.insert(it, stripe);
  return OkStatus();
}

StatusOr<int32_t> TxnImpl::Use(std::string_view key) {
  if (finished_) return FailedPreconditionError("transaction is finished");
  if (restart_required_) {
    return BusyError("transaction must restart (see restart_required())");
  }
  if (const int32_t i = FindKey(key); i >= 0) return i;
  DAXKV_RETURN_IF_ERROR(db_->CheckSizes(key, {}));
  const KeyHash kh(key);
  db_->PrefetchHashed(kh, /*write=*/true);  // overlaps the stripe's locking
  if (Status s = LockStripe(kh.low() & (DBImpl::kStripes - 1)); !s.ok()) {
    missed_key_ = std::string(key);
    return s;
  }
  Key k{std::string(key), kh, db_->Lookup(kh, key), {}};
  k.view = ViewOf(k.orig);
  read_ = true;
  const auto i = static_cast<int32_t>(keys_.size());
  keys_.push_back(std::move(k));
  if (keys_.size() > kLinearKeys) {
    // Past the linear scan's reach: index every key once, then each new one.
    if (key_index_.empty()) {
      for (int32_t j = 0; j < i; ++j) key_index_.emplace(keys_[j].key, j);
    }
    key_index_.emplace(keys_[i].key, i);
  }
  return i;
}

int32_t TxnImpl::FindKey(std::string_view key) const {
  if (keys_.size() <= kLinearKeys) {
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i].key == key) return static_cast<int32_t>(i);
    }
    return -1;
  }
  auto it = key_index_.find(key);
  return it == key_index_.end() ? -1 : it->second;
}

TxnImpl::View TxnImpl::ViewOf(const DBImpl::Current& cur) const {
  View v;
  if (cur.loc == 0 || !format::HoldsValue(cur.entry.type)) return v;
  v.expire_at_ms = cur.entry.expire_at_ms;
  if (cur.entry.type != format::kMeta) {
    v.type = KeyType::kString;
    v.loc = cur.loc;
    return v;
  }
  const format::MetaPayload m = format::LoadMeta(db_->base_ + cur.loc);
  v.type = static_cast<KeyType>(m.type);
  // Pinned: every remover of a collection holds its key's stripe, as we do.
  v.coll = db_->colls_->Find(m.id);
  if (v.coll == nullptr) v.type = KeyType::kNone;  // never: a live meta
  return v;
}

bool TxnImpl::Live(const View& v) const {
  return v.type != KeyType::kNone &&
         (v.expire_at_ms == 0 || v.expire_at_ms > NowMs());
}

void TxnImpl::Writing(Key& k) {
  if (k.written) return;
  // Readers of the key on other threads wait from here to Finish().
  db_->words_.Enter(PublishWords::Slot(k.kh));
  k.written = true;
}

void TxnImpl::SaveView(int32_t k) {
  saved_views_.push_back({keys_[k].view, keys_[k].key_sub});
  undo_.push_back({Undo::kView, k, nullptr, 0, saved_views_.size() - 1});
}

void TxnImpl::SetKeyEntry(int32_t k, uint8_t type, std::string_view value,
                          int64_t expire_at_ms, const View& view,
                          bool keep_coll) {
  Writing(keys_[k]);
  SaveView(k);
  if (!keep_coll && keys_[k].view.coll != nullptr) {
    MarkDead(keys_[k].view.coll);
  }
  if (keys_[k].key_sub >= 0) Supersede(keys_[k].key_sub);
  int32_t sub = -1;
  // A tombstone only when a committed entry needs shadowing.
  if (type != format::kTombstone || keys_[k].orig.loc != 0) {
    AppendSub(type, keys_[k].key, value, expire_at_ms, 0, k, nullptr);
    sub = static_cast<int32_t>(subs_.size()) - 1;
  }
  keys_[k].key_sub = sub;
  keys_[k].view = view;
}

void TxnImpl::DeleteKey(int32_t k, bool keep_coll) {
  SetKeyEntry(k, format::kTombstone, {}, 0, View{}, keep_coll);
}

TxnImpl::TouchedColl& TxnImpl::Touch(Collection* c) {
  if (TouchedColl* t = colls_.Find(c)) return *t;
  ReadLock l(c->mu);
  return colls_.Insert(c, TouchedColl{false, false, c->size()});
}

void TxnImpl::MarkDead(Collection* c) {
  TouchedColl& t = Touch(c);
  if (t.dead) return;
  t.dead = true;
  undo_.push_back({Undo::kDead, 0, c});
}

Status TxnImpl::CollForWrite(std::string_view key, KeyType type, bool create,
                             Collection** c, int32_t* k) {
  DAXKV_ASSIGN_OR_RETURN(*k, Use(key));
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  const View& v = keys_[*k].view;
  if (Live(v)) {
    if (v.type != type) return WrongTypeError();
    *c = v.coll;
    Touch(*c);
    Writing(keys_[*k]);
    return OkStatus();
  }
  *c = nullptr;
  if (!create) return OkStatus();
  // A new id, unique forever (docs/collections.md, "Versions").
  const uint64_t id = ++db_->last_seq_;
  created_.push_back(std::make_unique<Collection>(type, id, 0));
  Collection* nc = created_.back().get();
  undo_.push_back({Undo::kCreated, 0, nc});
  colls_.Insert(nc, TouchedColl{true, false, 0});
  const format::MetaPayload m =
      format::MakeMeta(static_cast<uint8_t>(type), id);
  SetKeyEntry(*k, format::kMeta, format::MetaBytes(m), 0, View{type, 0, nc, 0});
  *c = nc;
  return OkStatus();
}

void TxnImpl::AfterRemove(int32_t k, Collection* c) {
  bool empty;
  {
    ReadLock l(c->mu);
    empty = c->size() == 0;
  }
  // Redis: a collection that loses its last element disappears (its
  // expiry with it): the key's tombstone replaces the elements'.
  if (empty) DeleteKey(k);
}

void TxnImpl::Ready(int32_t k) {
  const std::string& key = keys_[k].key;
  if (std::find(ready_keys_.begin(), ready_keys_.end(), key) !=
      ready_keys_.end()) {
    return;
  }
  ready_keys_.push_back(key);
  undo_.push_back({Undo::kReady});
}

void TxnImpl::RequireVersion(std::string_view key, uint64_t version) {
  required_.emplace_back(std::string(key), version);
}

uint64_t TxnImpl::Savepoint() const {
  return uint64_t{undo_.size()} << 32 | subs_.size();
}

void TxnImpl::RollbackTo(uint64_t savepoint) {
  if (finished_) return;
  UndoTo(savepoint >> 32);
  const size_t subs = savepoint & 0xFFFFFFFFu;
  if (subs < subs_.size()) {
    image_.resize(subs_[subs].off);
    subs_.resize(subs);
  }
}

void TxnImpl::Abort() {
  if (finished_) return;
  RollbackTo(0);
  Finish(false);
}

std::vector<std::string> TxnImpl::UsedKeys() const {
  std::vector<std::string> out;
  for (const Key& k : keys_) out.push_back(k.key);
  if (missed_key_) out.push_back(*missed_key_);
  return out;
}

void TxnImpl::Finish(bool committed) {
  for (const Key& k : keys_) {
    if (k.written) db_->words_.Exit(PublishWords::Slot(k.kh));
  }
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) {
    db_->stripes_[*it].native().unlock();
  }
  stripes_.clear();
  created_.clear();  // what a commit registered it released first
  finished_ = true;
}

}  // namespace daxkv::engine
