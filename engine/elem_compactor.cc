// ElemCompactor (elem_compactor.h): a victim's element entries, a run of
// one collection's at a time.
#include "engine/elem_compactor.h"

#include <string>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

// Element entries relocated per stripe hold: bounds how long a writer of
// the collection waits.
constexpr size_t kElemRunMax = 32;

}  // namespace

Status ElemCompactor::Queue(uint64_t loc, const format::EntryHeader& e,
                            std::vector<uint64_t>* forget) {
  const uint64_t id = format::ElemId(e);
  if (!run_.empty() && (id != run_id_ || run_.size() >= kElemRunMax)) {
    DAXKV_RETURN_IF_ERROR(Relocate(forget));
  }
  run_id_ = id;
  const std::string_view subkey(db_.base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  ElemMove& m = run_.emplace_back();
  m.loc = loc;
  m.put = e.type == format::kElem;
  m.dead_hash = ElemDeadHash(id, coll::ElemHash(db_.hash_seed_, subkey));
  return OkStatus();
}

Status ElemCompactor::Relocate(std::vector<uint64_t>* forget) {
  if (run_.empty()) return OkStatus();
  const uint64_t id = run_id_;
  std::string key;
  Status status;
  if (!MarkCopies(id, &key)) {
    // Dead, for good (ids are never reused): counted dead when its id died
    // (recovery, or the freer), unless the freer has yet to count it: then
    // it never will (it skips freed segments).
    for (const ElemMove& m : run_) {
      if (m.put && !db_.dead_colls_.Pending(id)) forget->push_back(m.dead_hash);
    }
  } else {
    bool moves = false;
    for (const ElemMove& m : run_) {
      if (!m.put) continue;
      // A put not indexed was counted dead when a writer replaced it; its
      // count goes once the victim is freed.
      if (!m.copy) forget->push_back(m.dead_hash);
      moves |= m.copy;
    }
    // After the run's dead puts are in `forget`: a queue's pop often shares
    // a victim, and a run, with the push it deletes.
    KeepShadowingTombstones(*forget);
    // A failed append still moves the copies made before it.
    status = CopyRun();
    // A copy that failed to persist must not become the indexed one.
    Status persisted = db_.CheckPersisted("compaction");
    if (!persisted.ok()) {
      status = persisted;
    } else if (moves) {
      if (before_swap_) before_swap_();
      Swap(id, std::move(key), forget);
    }
  }
  run_.clear();
  return status;
}

bool ElemCompactor::MarkCopies(uint64_t id, std::string* key) {
  const PoolSource src(db_.base_, db_.hash_seed_);
  for (;;) {
    // The owning key's stripe pins the collection (every remover and every
    // writer holds it) and keeps out transactions, whose pending locations
    // sit in the collection until they commit. Find the key first, then
    // check it still owns the id (a rename may have moved it meanwhile).
    // The meta entry's bytes stay put while compaction_mu_ is held: only
    // compaction and Flush free segments.
    if (!db_.colls_->WithShared(id, [&](Collection* c) {
          c->mu.AssertReaderHeld();
          *key = format::EntryKey(db_.base_ + c->meta_loc);
        })) {
      return false;
    }
    const KeyHash kh(*key);
    DBImpl::StripeLock l(&db_, kh);
    Collection* c = db_.colls_->Find(id);
    if (c == nullptr) continue;  // died meanwhile
    ReadLock r(c->mu);
    if (format::EntryKey(db_.base_ + c->meta_loc) != *key) continue;  // renamed
    // Which entries to copy holds only while the stripe is held: SwapElems
    // confirms it for puts (copying an element a writer then replaces
    // costs a dead copy). A tombstone needs no confirming: a newer entry of
    // its subkey, indexed now, shadows what it shadowed.
    const bool list = c->is_list();
    const coll::ListIndex::Ends ends =
        list ? c->list().GetEnds(src) : coll::ListIndex::Ends{};
    uint64_t last = ~0ull;  // a list's position of the last put found
    for (ElemMove& m : run_) {
      const std::string_view subkey = src.Subkey(m.loc);
      if (!m.put) {
        m.copy = list ? c->list().Find(src, subkey, ends) == c->list().size()
                      : !c->Contains(src, subkey);
        continue;
      }
      m.copy = list ? c->ListIndexedAt(src, ends, subkey, m.loc, last, &m.hint)
                    : c->IndexedAt(src, subkey, m.loc);
      if (m.copy && list) last = m.hint;
    }
    break;
  }
  return true;
}

void ElemCompactor::KeepShadowingTombstones(
    const std::vector<uint64_t>& forget) {
  // The DB calls its ElemCompactor only under compaction_mu_ (the member
  // is GUARDED_BY it), which the analysis cannot see from here.
  db_.compaction_mu_.AssertHeld();
  for (ElemMove& m : run_) {
    if (!m.copy || m.put) continue;
    const format::EntryHeader e = format::LoadEntry(db_.base_ + m.loc);
    m.copy = db_.keys_.DeadPutsOutsideVictim(m.dead_hash, forget) &&
             !db_.resume_.TombstoneRelocated(m.loc, e);
  }
}

Status ElemCompactor::CopyRun() {
  const PoolSource src(db_.base_, db_.hash_seed_);
  Status status;
  for (ElemMove& m : run_) {
    if (!m.copy) continue;
    const format::EntryHeader e = format::LoadEntry(db_.base_ + m.loc);
    const std::string_view subkey = src.Subkey(m.loc);
    const std::string_view value = src.Value(m.loc);
    if (status.ok()) {
      status = db_.AppendEntry(db_.compaction_head_, e.type, subkey, value,
                               e.expire_at_ms, e.seq, /*sync=*/false, &m.placed,
                               e.reserved);
    }
    if (!status.ok()) {
      m.copy = false;
      continue;
    }
    db_.relocated_bytes_ += format::RecordSize(subkey.size(), value.size());
  }
  // Durability: one group commit for the run's copies. A crash before it
  // leaves the victim's originals indexed (recovery adopts a copy only when
  // it verifies, and the victim is not freed yet).
  db_.CommitHead(db_.compaction_head_);
  for (const ElemMove& m : run_) {
    if (m.copy && m.placed.span) db_.ReleaseSpan(m.placed.loc);
  }
  return status;
}

void ElemCompactor::Swap(uint64_t id, std::string key,
                         std::vector<uint64_t>* forget) {
  const PoolSource src(db_.base_, db_.hash_seed_);
  for (;;) {
    // The owning key's stripe: every remover and every writer holds it.
    // The collection object outlives compaction_mu_, held (only the freer
    // deletes one), so a renamed one can still be read below.
    const KeyHash kh(key);
    DBImpl::StripeLock l(&db_, kh);
    Collection* c = db_.colls_->Find(id);
    if (c == nullptr) {
      // Died since MarkElemCopies: its originals as a dead collection's
      // (RelocateElems), and each copy is a dead put on the medium.
      for (const ElemMove& m : run_) {
        if (!m.copy || !m.put) continue;
        db_.dead_.Note(m.dead_hash);
        if (!db_.dead_colls_.Pending(id)) forget->push_back(m.dead_hash);
      }
      return;
    }
    WriteLock w(c->mu);
    if (format::EntryKey(db_.base_ + c->meta_loc) != key) {
      key = format::EntryKey(db_.base_ + c->meta_loc);  // renamed meanwhile
      continue;
    }
    for (const ElemMove& m : run_) {
      if (!m.copy || !m.put) continue;
      // The original is left dead on the medium, or the copy if a writer
      // replaced the element since MarkElemCopies: one more dead put, and
      // one count to drop once the victim is freed.
      db_.dead_.Note(m.dead_hash);
      forget->push_back(m.dead_hash);
      const format::EntryHeader e = format::LoadEntry(db_.base_ + m.loc);
      if (c->Relocate(src, src.Subkey(m.loc), m.loc, m.placed.loc, m.hint)) {
        db_.segs_[db_.SegOf(m.loc)].live.fetch_sub(format::IndexedEntryBytes(e),
                                                   std::memory_order_relaxed);
        db_.segs_[db_.SegOf(m.placed.loc)].live.fetch_add(
            format::IndexedEntryBytes(
                format::LoadEntry(db_.base_ + m.placed.loc)),
            std::memory_order_relaxed);
      }
    }
    return;
  }
}

}  // namespace daxkv::engine
