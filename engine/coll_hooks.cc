// DBImpl: what the key-level engine does for collections
// (docs/collections.md): metas followed by their collections, collections
// dying with their key (O(1), freed in the background), WATCH versions,
// typed scans, and the transaction entry points.
#include <algorithm>

#include "engine/coll_source.h"
#include "engine/db_impl.h"
#include "engine/txn_impl.h"

namespace daxkv::engine {

void DBImpl::AdoptMeta(const format::MetaPayload& m, uint64_t loc) {
  Collection* c = colls_->Find(m.id);
  if (c == nullptr) return;  // a Txn registers its new ones first
  WriteLock l(c->mu);
  c->meta_loc = loc;
}

void DBImpl::KillCollection(uint64_t id, uint64_t loc) {
  Collection* c = colls_->Find(id);
  if (c == nullptr) return;
  {
    ReadLock l(c->mu);
    if (c->meta_loc != loc) return;  // renamed: another key owns it now
  }
  colls_->Remove(id);
  uint64_t size;
  {
    // Unreachable from the table now; readers still inside (lock coupling)
    // finish first.
    WriteLock l(c->mu);
    size = c->size();
  }
  CountCollection(c->type, -1);
  elements_.fetch_sub(static_cast<int64_t>(size), std::memory_order_relaxed);
  EnqueueDead(c, true);
}

void DBImpl::EnqueueDead(Collection* c, bool account) {
  DeadColl d;
  d.id = c->id;
  d.c.reset(c);
  d.epoch = last_epoch_.load();
  d.account = account;
  dead_colls_.Push(std::move(d));
  bg_cv_.notify_all();
}

void DBImpl::ElemGone(uint64_t id, uint64_t loc) {
  const std::string_view subkey = format::EntryKey(base_ + loc);
  ElemGoneHashed(loc, ElemDeadHash(id, coll::ElemHash(hash_seed_, subkey)));
}

void DBImpl::ElemGoneHashed(uint64_t loc, uint64_t dead_hash) {
  segs_[SegOf(loc)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(base_ + loc)),
      std::memory_order_relaxed);
  dead_.Note(dead_hash);
}

uint64_t DBImpl::VersionOf(const KeyHash& kh, std::string_view key) const {
  const Current cur = Lookup(kh, key);
  return VersionOf(kh, cur.loc != 0 ? cur.entry.seq : 0);
}

KeyType DBImpl::TypeAt(uint64_t loc) const {
  const format::EntryHeader e = format::LoadEntry(base_ + loc);
  if (e.type != format::kMeta) return KeyType::kString;
  return static_cast<KeyType>(format::LoadMeta(base_ + loc).type);
}

void DBImpl::DeleteCollections() {
  for (Collection* c : colls_->TakeAll()) delete c;
  dead_colls_.Clear();
}

StatusOr<std::unique_ptr<Txn>> DBImpl::BeginTxn(const TxnOptions& options) {
  return std::unique_ptr<Txn>(new TxnImpl(this, options));
}

Status DBImpl::RunTxn(const TxnOptions& options, const WriteOptions& wopts,
                      const std::function<Status(Txn&)>& fn) {
  // A restart declares more keys: copied into `grown` only then.
  const TxnOptions* o = &options;
  TxnOptions grown;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<TxnImpl> txn = TxnImpl::Acquire(this, *o);
    Status s = fn(*txn);
    if (s.ok() && !txn->restart_required()) s = txn->Commit(wopts);
    if (!txn->restart_required()) {
      TxnImpl::Park(std::move(txn));  // aborts after a failed fn
      return s;
    }
    const bool space = txn->needs_space();
    if (o != &grown) grown = options;
    o = &grown;
    for (std::string& k : txn->UsedKeys()) grown.keys.push_back(std::move(k));
    TxnImpl::Park(std::move(txn));
    if (space && (attempt >= 3 || !CompactForSpace())) {
      return NoSpaceError(
          "pool is full (a transaction's record does not "
          "fit after compaction; nothing acknowledged is "
          "lost)");
    }
    if (attempt >= 16) {  // fn uses new keys at every run
      return BusyError("transaction restarted 16 times");
    }
  }
}

// For DBs that do not implement transactions (e.g. forwarding wrappers).
StatusOr<std::unique_ptr<Txn>> DB::BeginTxn(const TxnOptions&) {
  return NotSupportedError("transactions");
}
Status DB::RunTxn(const TxnOptions&, const WriteOptions&,
                  const std::function<Status(Txn&)>&) {
  return NotSupportedError("transactions");
}
Status DB::RunRead(const std::vector<std::string>&,
                   const std::function<Status(ReadOps&)>&) {
  return NotSupportedError("read views");
}

}  // namespace daxkv::engine
