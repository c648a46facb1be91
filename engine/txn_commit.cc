// TxnImpl::Commit (txn_impl.h; docs/collections.md, "Commit and abort"):
// the sub-entries still live become one record (a crash keeps all of it
// or none), appended with the caller's durability; then, past the point
// of no return, pending element locations become real ones, new
// collections are registered, key entries are published, and the dead
// bytes counted.
#include <algorithm>
#include <cassert>
#include <cstring>

#include "engine/txn_impl.h"

namespace daxkv::engine {

namespace {

// Lists with more pending elements than this are relocated in one walk of
// the whole list when their positions are spread too widely for a window.
constexpr size_t kBulkListRelocation = 32;

}  // namespace

Status TxnImpl::Commit(const WriteOptions& opts) {
  if (finished_) return FailedPreconditionError("transaction is finished");
  if (restart_required_) {
    Abort();
    return BusyError("transaction must restart (see restart_required())");
  }
  for (const auto& [key, version] : required_) {
    if (db_->VersionOf(KeyHash(key), key) != version) {
      Abort();
      return AbortedError("a watched key changed");
    }
  }
  Status s = CommitWrites(opts);
  if (s.code() == StatusCode::kNoSpace) {
    // RunTxn compacts with no stripe held and runs the Txn again.
    needs_space_ = restart_required_ = true;
    Abort();
    return BusyError("transaction must restart after compaction: " +
                     std::string(s.message()));
  }
  if (!s.ok()) {
    Abort();
    return s;
  }
  Finish(true);
  return OkStatus();
}

void TxnImpl::KeptSubs(std::vector<int32_t>* kept,
                       bool* only_tombstones) const {
  kept->clear();
  *only_tombstones = true;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Sub& sub = subs_[i];
    if (sub.superseded) continue;
    // Elements of a collection that dies here die with its id.
    if (sub.coll != nullptr && colls_.Find(sub.coll)->dead) continue;
    const uint8_t type = static_cast<uint8_t>(image_[sub.off]);
    if (type != format::kTombstone && type != format::kElemTombstone) {
      *only_tombstones = false;
    }
    kept->push_back(static_cast<int32_t>(i));
  }
}

void TxnImpl::RecordImage(const std::vector<int32_t>& kept, uint64_t seq,
                          std::vector<uint64_t>* offsets,
                          std::string* out) const {
  // One entry: a record of its own; several: a batch (docs/format.md). A
  // system entry is valid only as a sub-entry: with one, always a batch.
  const bool single = kept.size() == 1 && system_.empty();
  std::string& rec = *out;
  rec.assign(single ? 8 : format::kRecordHeaderSize, '\0');
  for (int32_t i : kept) {
    const Sub& sub = subs_[i];
    const format::EntryHeader e = format::LoadEntry(image_.data() + sub.off);
    const uint64_t at = rec.size();
    (*offsets)[i] = at;
    rec.append(image_, sub.off, format::EntrySize(e.key_len, e.value_len));
    format::EntryHeader stamped = e;
    stamped.seq = seq;
    if (single) stamped.flags = 0;
    std::memcpy(rec.data() + at, &stamped, sizeof(stamped));
  }
  for (size_t i = 0; i < system_.size(); ++i) {
    system_at_[i] = rec.size();
    AppendSystemSubEntry(&rec, format::kPut, seq, system_[i].first,
                         system_[i].second);
  }
  if (!single) format::SetBatchHeader(&rec, seq);
}

Status TxnImpl::PutSystem(std::string_view key, std::string_view value) {
  if (finished_) return FailedPreconditionError("transaction is finished");
  if (!system_writes_) {
    return FailedPreconditionError(
        "PutSystem needs TxnOptions::system_writes");
  }
  if (key.empty()) return InvalidArgumentError("empty system key");
  DAXKV_RETURN_IF_ERROR(db_->CheckSizes(key, value));
  for (auto& [k, v] : system_) {
    if (k == key) {
      v.assign(value);
      return OkStatus();
    }
  }
  system_.emplace_back(key, value);
  return OkStatus();
}

Status TxnImpl::CommitWrites(const WriteOptions& opts) {
  bool only_tombs;
  std::vector<int32_t>& kept = kept_;
  KeptSubs(&kept, &only_tombs);
  only_tombs = only_tombs && system_.empty();
  system_at_.assign(system_.size(), 0);
  // Durability: what this Txn read may be another writer's unsynced write;
  // a synced commit makes it durable first (PersistUserHeads, every head's
  // unsynced bytes), so a crash can never keep this Txn's record without
  // what it observed. Nothing of this Txn is on the medium yet.
  if (opts.sync && read_) DAXKV_RETURN_IF_ERROR(db_->PersistUserHeads());
  if (kept.empty() && system_.empty()) return OkStatus();
  DAXKV_RETURN_IF_ERROR(db_->health_.CheckWritable());
  const uint64_t seq = ++db_->last_seq_;
  std::vector<uint64_t>& offsets = offsets_;
  offsets.assign(subs_.size(), 0);
  std::string& rec = rec_;
  RecordImage(kept, seq, &offsets, &rec);
  uint64_t rec_off;
  // Durability: one record under one CRC (AppendImage): after a crash the
  // whole Txn is there or none of it; with opts.sync it is durable here,
  // else at the next Sync() (group commit), before which nothing it wrote
  // is acknowledged.
  Status s =
      db_->AppendImage(db_->MyHead(), &rec, opts.sync, only_tombs, &rec_off);
  if (s.code() == StatusCode::kNoSpace && only_tombs) {
    s = db_->AppendImage(db_->TombHead(), &rec, opts.sync, only_tombs,
                         &rec_off);
  }
  DAXKV_RETURN_IF_ERROR(s);
  const bool span = db_->IsSpanRecord(rec.size());
  if (opts.sync || span) {
    s = db_->CheckPersisted("a transaction");
    if (!s.ok()) {  // neither published nor acknowledged
      if (span) db_->ReleaseSpan(rec_off);
      return s;
    }
  }
  for (uint64_t& off : offsets) off += rec_off;
  Apply(kept, offsets, seq);
  // Stripe 0 held (TxnOptions::system_writes): no Flush() in between.
  for (size_t i = 0; i < system_.size(); ++i) {
    db_->PublishSystem(system_[i].first, rec_off + system_at_[i], seq, false);
  }
  if (span) db_->ReleaseSpan(rec_off);
  return OkStatus();
}

void TxnImpl::Apply(const std::vector<int32_t>& kept,
                    const std::vector<uint64_t>& locs, uint64_t seq) {
  // Structures first: a collection is registered (reachable by id) only
  // once it holds no pending location.
  RelocateElements(kept, locs);
  RegisterCreated(locs);
  // Counted before any collection dies below (KillCollection hands it to
  // the freer, which may free it at once).
  for (const auto& [c, t] : colls_) {
    if (t.created && t.dead) continue;
    ReadLock l(c->mu);
    const uint64_t size = c->size();
    db_->elements_.fetch_add(static_cast<int64_t>(size) -
                             static_cast<int64_t>(t.orig_size));
    if (size > c->peak_size.load(std::memory_order_relaxed)) {
      c->peak_size.store(size, std::memory_order_relaxed);
    }
  }
  for (const Removed& r : removed_) db_->ElemGoneHashed(r.loc, r.dead_hash);
  // Key entries: puts, links and metas first, so that a renamed
  // collection's new key owns it before the old key's tombstone lands.
  for (int pass = 0; pass < 2; ++pass) {
    for (int32_t i : kept) {
      const Sub& sub = subs_[i];
      if (sub.key < 0) continue;
      const bool tomb = image_[sub.off] == format::kTombstone;
      if (tomb != (pass == 1)) continue;
      const Key& k = keys_[sub.key];
      db_->AssertStripeHeld(k.kh);  // Use() locked it
      db_->Publish(k.kh, k.key, locs[i], seq, tomb);
    }
  }
  for (const Key& k : keys_) {
    if (k.written) db_->touch_.Touch(TouchTable::Slot(k.kh), seq);
  }
}

void TxnImpl::RegisterCreated(const std::vector<uint64_t>& locs) {
  for (const Key& k : keys_) {
    Collection* c = k.view.coll;
    if (c == nullptr || !Live(k.view)) continue;
    // A key may name a collection this Txn never touched (RENAME's dst).
    const TouchedColl* t = colls_.Find(c);
    if (t == nullptr || !t->created || t->dead) continue;
    {
      WriteLock l(c->mu);
      c->meta_loc = locs[k.key_sub];
    }
    auto it = std::find_if(created_.begin(), created_.end(),
                           [c](const auto& p) { return p.get() == c; });
    it->release();  // the table's now (freed when it dies)
    created_.erase(it);
    db_->colls_->Insert(c);
    db_->CountCollection(c->type, +1);
  }
}

void TxnImpl::RelocateElements(const std::vector<int32_t>& kept,
                               const std::vector<uint64_t>& locs) {
  // The element puts by collection, in sub order within each.
  relocs_.clear();
  for (int32_t i : kept) {
    const Sub& sub = subs_[i];
    if (sub.coll == nullptr || image_[sub.off] != format::kElem) continue;
    relocs_.emplace_back(sub.coll, i);
    db_->segs_[db_->SegOf(locs[i])].live.fetch_add(
        format::IndexedEntryBytes(format::LoadEntry(db_->base_ + locs[i])),
        std::memory_order_relaxed);
  }
  const auto by_coll = [](const auto& a, const auto& b) {
    return std::less<Collection*>()(a.first, b.first);
  };
  if (!std::is_sorted(relocs_.begin(), relocs_.end(), by_coll)) {
    std::stable_sort(relocs_.begin(), relocs_.end(), by_coll);
  }
  for (size_t from = 0, to; from < relocs_.size(); from = to) {
    Collection* c = relocs_[from].first;
    for (to = from + 1; to < relocs_.size() && relocs_[to].first == c; ++to) {
    }
    WriteLock l(c->mu);
    if (UsesListIndex(c->type) && to - from > 1 &&
        RelocateList(c, from, to, locs)) {
      continue;
    }
    for (size_t j = from; j < to; ++j) RelocateOne(c, relocs_[j].second, locs);
  }
}

void TxnImpl::RelocateOne(Collection* c, int32_t i,
                          const std::vector<uint64_t>& locs) {
  const uint64_t pending = coll::kPendingBase + subs_[i].off;
  // The subkey's bytes stay in image_ throughout.
  const bool moved =
      c->Relocate(src_, src_.Subkey(pending), pending, locs[i], subs_[i].hint);
  assert(moved && "a live pending element is in its structure");
  (void)moved;
}

// A list's position hint goes stale when a later write of the Txn moved the
// element (every LPUSH after the first moves the earlier ones), and the
// search by subkey it falls back to reads elements from the pool. Every
// write of the Txn moved an element by at most one place, so each pending
// element lies within subs_.size() places of its hint: one walk of that
// window finds them all. An element it missed (a bound that did not hold)
// is relocated alone, as before.
bool TxnImpl::RelocateList(Collection* c, size_t from, size_t to,
                           const std::vector<uint64_t>& locs) {
  const uint64_t size = c->list().size();
  const uint64_t reach = subs_.size();
  uint64_t lo = size, hi = 0;
  list_relocs_.clear();
  for (size_t j = from; j < to; ++j) {
    const int32_t i = relocs_[j].second;
    list_relocs_.push_back({coll::kPendingBase + subs_[i].off, locs[i], i});
    lo = std::min(lo, subs_[i].hint);
    hi = std::max(hi, subs_[i].hint == ~0ull ? size : subs_[i].hint);
  }
  uint64_t begin = 0, end = size;
  if (hi < size && hi - lo + 2 * reach + 1 < size) {
    begin = lo > reach ? lo - reach : 0;
    end = std::min(size, hi + reach + 1);
  }
  const uint64_t n = to - from;
  if (end - begin > 4 * (n + reach) + 64 && n <= kBulkListRelocation) {
    return false;  // spread out: one search each costs less than the walk
  }
  std::sort(list_relocs_.begin(), list_relocs_.end());
  size_t found = 0;
  c->mutable_list().Update(begin, end, [&](uint64_t, uint64_t* loc) {
    if (!coll::IsPending(*loc)) return false;
    auto it = std::lower_bound(list_relocs_.begin(), list_relocs_.end(),
                               ListReloc{*loc, 0, 0});
    if (it == list_relocs_.end() || it->pending != *loc) return false;
    *loc = it->real;
    it->real = 0;  // found
    ++found;
    return true;
  });
  if (found < n) {
    for (const ListReloc& r : list_relocs_) {
      if (r.real != 0) RelocateOne(c, r.sub, locs);
    }
  }
  return true;
}

}  // namespace daxkv::engine
