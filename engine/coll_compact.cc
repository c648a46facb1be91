// DBImpl: compaction of collection entries (docs/collections.md,
// "Tombstones and compaction"), the same for a resumed compaction, and
// the repair of elements recovery found under a collection of another
// type.
//
// An element put is relocated (same seq) when its collection is live and
// indexes it at this location; an element tombstone is kept while its
// collection is live, does not index its subkey, and the dead-put bucket
// of (id, subkey) counts superseded puts still on the medium. Anything of
// a dead id goes: ids are never reused, so nothing of one can come back.
#include <string>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

// The key of the meta entry at `loc` (its bytes stay put while the caller
// holds compaction_mu_: only compaction and Flush free segments).
std::string_view MetaKey(const char* base, uint64_t loc) {
  return {base + loc + format::kEntryHeaderSize,
          format::Load32(base + loc + 4)};
}

// Element entries relocated per stripe hold: bounds how long a writer of
// the collection waits.
constexpr size_t kElemRunMax = 32;

}  // namespace

Status DBImpl::QueueElem(uint64_t loc, const format::EntryHeader& e,
                         std::vector<uint64_t>* forget) {
  const uint64_t id = format::ElemId(e);
  if (!elem_run_.empty() &&
      (id != elem_run_id_ || elem_run_.size() >= kElemRunMax)) {
    DAXKV_RETURN_IF_ERROR(RelocateElems(forget));
  }
  elem_run_id_ = id;
  const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  ElemMove& m = elem_run_.emplace_back();
  m.loc = loc;
  m.put = e.type == format::kElem;
  m.dead_hash = ElemDeadHash(id, coll::ElemHash(hash_seed_, subkey));
  return OkStatus();
}

Status DBImpl::RelocateElems(std::vector<uint64_t>* forget) {
  if (elem_run_.empty()) return OkStatus();
  const uint64_t id = elem_run_id_;
  std::string key;
  Status status;
  if (!MarkElemCopies(id, &key)) {
    // Dead, for good (ids are never reused): counted dead when its id died
    // (recovery, or the freer), unless the freer has yet to count it: then
    // it never will (it skips freed segments).
    for (const ElemMove& m : elem_run_) {
      if (m.put && !dead_colls_.Pending(id)) forget->push_back(m.dead_hash);
    }
  } else {
    bool moves = false;
    for (const ElemMove& m : elem_run_) {
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
    status = CopyElems();
    // A copy that failed to persist must not become the indexed one.
    Status persisted = CheckPersisted("compaction");
    if (!persisted.ok()) {
      status = persisted;
    } else if (moves) {
      if (before_elem_swap_) before_elem_swap_();
      SwapElems(id, std::move(key), forget);
    }
  }
  elem_run_.clear();
  return status;
}

bool DBImpl::MarkElemCopies(uint64_t id, std::string* key) {
  const PoolSource src(base_, hash_seed_);
  for (;;) {
    // The owning key's stripe pins the collection (every remover and every
    // writer holds it) and keeps out transactions, whose pending locations
    // sit in the collection until they commit. Find the key first, then
    // check it still owns the id (a rename may have moved it meanwhile).
    if (!colls_->WithShared(id, [&](Collection* c) {
          c->mu.AssertReaderHeld();
          *key = MetaKey(base_, c->meta_loc);
        })) {
      return false;
    }
    const KeyHash kh(*key);
    StripeLock l(this, kh);
    Collection* c = colls_->Find(id);
    if (c == nullptr) continue;  // died meanwhile
    ReadLock r(c->mu);
    if (MetaKey(base_, c->meta_loc) != *key) continue;  // renamed
    // Which entries to copy holds only while the stripe is held: SwapElems
    // confirms it for puts (copying an element a writer then replaces
    // costs a dead copy). A tombstone needs no confirming: a newer entry of
    // its subkey, indexed now, shadows what it shadowed.
    const bool list = c->is_list();
    const coll::ListIndex::Ends ends =
        list ? c->list().GetEnds(src) : coll::ListIndex::Ends{};
    uint64_t last = ~0ull;  // a list's position of the last put found
    for (ElemMove& m : elem_run_) {
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

void DBImpl::KeepShadowingTombstones(const std::vector<uint64_t>& forget) {
  for (ElemMove& m : elem_run_) {
    if (!m.copy || m.put) continue;
    const format::EntryHeader e = format::LoadEntry(base_ + m.loc);
    m.copy = DeadPutsOutsideVictim(m.dead_hash, forget) &&
             !TombstoneRelocated(m.loc, e);
  }
}

Status DBImpl::CopyElems() {
  const PoolSource src(base_, hash_seed_);
  Status status;
  for (ElemMove& m : elem_run_) {
    if (!m.copy) continue;
    const format::EntryHeader e = format::LoadEntry(base_ + m.loc);
    const std::string_view subkey = src.Subkey(m.loc);
    const std::string_view value = src.Value(m.loc);
    if (status.ok()) {
      status =
          AppendEntry(compaction_head_, e.type, subkey, value, e.expire_at_ms,
                      e.seq, /*sync=*/false, &m.placed, e.reserved);
    }
    if (!status.ok()) {
      m.copy = false;
      continue;
    }
    relocated_bytes_ += format::RecordSize(subkey.size(), value.size());
  }
  {
    HeadLock l(this, compaction_head_);
    if (compaction_head_.seg >= 0 &&
        compaction_head_.persisted < compaction_head_.tail) {
      // Durability: one group commit for the run's copies. A crash before
      // it leaves the victim's originals indexed (recovery adopts a copy
      // only when it verifies, and the victim is not freed yet); the
      // watermark lets recovery tell later damage from a torn tail, as a
      // sync record's flag would.
      PersistPending(compaction_head_);
      PublishWatermark(compaction_head_);
    }
  }
  for (const ElemMove& m : elem_run_) {
    if (m.copy && m.placed.span) ReleaseSpan(m.placed.loc);
  }
  return status;
}

void DBImpl::SwapElems(uint64_t id, std::string key,
                       std::vector<uint64_t>* forget) {
  const PoolSource src(base_, hash_seed_);
  for (;;) {
    // The owning key's stripe: every remover and every writer holds it.
    // The collection object outlives compaction_mu_, held (only the freer
    // deletes one), so a renamed one can still be read below.
    const KeyHash kh(key);
    StripeLock l(this, kh);
    Collection* c = colls_->Find(id);
    if (c == nullptr) {
      // Died since MarkElemCopies: its originals as a dead collection's
      // (RelocateElems), and each copy is a dead put on the medium.
      for (const ElemMove& m : elem_run_) {
        if (!m.copy || !m.put) continue;
        dead_.Note(m.dead_hash);
        if (!dead_colls_.Pending(id)) forget->push_back(m.dead_hash);
      }
      return;
    }
    WriteLock w(c->mu);
    if (MetaKey(base_, c->meta_loc) != key) {
      key = MetaKey(base_, c->meta_loc);  // renamed meanwhile
      continue;
    }
    for (const ElemMove& m : elem_run_) {
      if (!m.copy || !m.put) continue;
      // The original is left dead on the medium, or the copy if a writer
      // replaced the element since MarkElemCopies: one more dead put, and
      // one count to drop once the victim is freed.
      dead_.Note(m.dead_hash);
      forget->push_back(m.dead_hash);
      const format::EntryHeader e = format::LoadEntry(base_ + m.loc);
      if (c->Relocate(src, src.Subkey(m.loc), m.loc, m.placed.loc, m.hint)) {
        segs_[SegOf(m.loc)].live.fetch_sub(format::IndexedEntryBytes(e),
                                           std::memory_order_relaxed);
        segs_[SegOf(m.placed.loc)].live.fetch_add(
            format::IndexedEntryBytes(format::LoadEntry(base_ + m.placed.loc)),
            std::memory_order_relaxed);
      }
    }
    return;
  }
}

void DBImpl::AdoptRelocatedElem(uint64_t loc, const format::EntryHeader& e) {
  if (e.type == format::kElemTombstone) {
    if (resume_victim_ >= 0) relocated_tombs_.emplace_back(e.seq, loc);
    return;
  }
  Collection* c = colls_->Find(format::ElemId(e));
  if (c == nullptr) return;
  const PoolSource src(base_, hash_seed_);
  const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  uint64_t cur;
  {
    WriteLock l(c->mu);
    cur = c->Locate(src, subkey);
    // Indexed elsewhere with the same seq: the original of this copy.
    if (cur == 0 || cur == loc || src.Seq(cur) != e.seq) return;
    c->Relocate(src, subkey, cur, loc);
  }
  segs_[SegOf(cur)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(base_ + cur)),
      std::memory_order_relaxed);
  segs_[SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                   std::memory_order_relaxed);
}

Status DBImpl::DropMismatchedElements(const PoolScan& scan) {
  for (uint64_t loc : scan.mismatched_elements) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                  e.key_len);
    Placed placed;
    // Durability: a sync element tombstone (seq above every entry)
    // shadows the element for good; recovery never indexed it.
    DAXKV_RETURN_IF_ERROR(AppendEntry(MyHead(), format::kElemTombstone, subkey,
                                      {}, e.expire_at_ms, ++last_seq_, true,
                                      &placed, e.reserved));
  }
  dropped_records_ += scan.mismatched_elements.size();
  return OkStatus();
}

}  // namespace daxkv::engine
