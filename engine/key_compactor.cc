// KeyCompactor (key_compactor.h): a victim's key entries.
#include "engine/key_compactor.h"

#include "engine/db_impl.h"

namespace daxkv::engine {

void KeyCompactor::Begin(const char* sp, uint32_t tail,
                         const StripeBits& busy) {
  sp_ = sp;
  tail_ = tail;
  ahead_ = format::kSegmentHeaderSize;
  busy_ = busy;
  copies_.clear();
  victim_dead_.Clear();
  tallied_ = 0;
  PrefetchSlots(kLookahead);
}

void KeyCompactor::Advance() { PrefetchSlots(1); }

bool KeyCompactor::DeadPutsOutsideVictim(uint64_t h,
                                         const std::vector<uint64_t>& forget) {
  for (; tallied_ < forget.size(); ++tallied_) {
    victim_dead_.Add(db_.dead_.IndexOf(forget[tallied_]));
  }
  return db_.dead_.Count(h) > victim_dead_.Count(db_.dead_.IndexOf(h));
}

Status KeyCompactor::Relocate(uint64_t loc, const format::EntryHeader& e,
                              const KeyHash& kh,
                              const std::vector<uint64_t>& forget) {
  DAXKV_RETURN_IF_ERROR(CopyIfLive(loc, e, kh, forget));
  // Outside the stripe CopyIfLive held: indexing takes each copy's.
  return copies_.size() >= kCopyRun ? IndexCopies() : OkStatus();
}

Status KeyCompactor::CopyIfLive(uint64_t loc, const format::EntryHeader& e,
                                const KeyHash& kh,
                                const std::vector<uint64_t>& forget) {
  // The DB calls its KeyCompactor only under compaction_mu_ (the member
  // is GUARDED_BY it), which the analysis cannot see from here.
  db_.compaction_mu_.AssertHeld();
  const std::string_view key = format::EntryKey(db_.base_ + loc);
  Index::Shard& s = db_.index_->shard(kh);
  if (format::HoldsValue(e.type) && !busy_[kh.low() & (DBImpl::kStripes - 1)]) {
    // A put no slot points at is dead: its stripe was idle after the seal,
    // so its writer had published it, and only compaction, this thread,
    // moves a slot to an older record. Most of a victim's puts are dead:
    // telling so without the stripe spares the key's writers a lock line
    // taken from under them.
    ReadLock rl(s.mu);
    if (!db_.index_->IndexedAt(s, kh, loc)) return OkStatus();
  }
  // A live put is copied, and a tombstone judged, under the stripe: a
  // writer of the key may replace the put meanwhile.
  DBImpl::StripeLock l(&db_, kh);
  IndexHit hit;
  {
    ReadLock rl(s.mu);
    // A put is live iff a slot points at it; asking that, rather than
    // Find(), spares a DRAM miss on the newest entry of each dead put.
    hit = format::HoldsValue(e.type)
              ? IndexHit{db_.index_->IndexedAt(s, kh, loc) ? loc : 0, false}
              : db_.index_->Find(s, kh, key);
  }
  Placed placed;
  if (format::HoldsValue(e.type)) {
    if (hit.loc != loc) return OkStatus();  // dead: already counted
    // A link is copied as a link: the span it names never moves.
    std::string_view value(key.data() + key.size(), e.value_len);
    DAXKV_RETURN_IF_ERROR(db_.AppendEntry(db_.compaction_head_, e.type, key,
                                          value, e.expire_at_ms, e.seq, false,
                                          &placed));
    db_.relocated_bytes_ += format::RecordSize(key.size(), value.size());
    // One of the two is left dead on the medium: the original once the copy
    // is indexed, else the copy (a writer replaced the key meanwhile, and
    // counted the original). Counted now, before any tombstone of the
    // victim is judged against the count.
    db_.NoteDeadPut(kh);
    copies_.push_back({loc, kh, placed});
    return OkStatus();
  }
  // A newer put shadows every older record; without dead puts in the
  // bucket, or with only the victim's own, nothing older outlives the
  // tombstone for it to shadow.
  if (hit.loc != 0 || !DeadPutsOutsideVictim(kh.low(), forget)) {
    return OkStatus();
  }
  if (db_.resume_.TombstoneRelocated(loc, e)) return OkStatus();
  // Durability: pending like a put's copy, persisted with the run (or at
  // the victim's end) before the victim is freed. A crash before that
  // leaves the victim, and so the tombstone, in use.
  DAXKV_RETURN_IF_ERROR(db_.AppendEntry(db_.compaction_head_,
                                        format::kTombstone, key, {}, 0, e.seq,
                                        false, &placed));
  db_.relocated_bytes_ += format::RecordSize(key.size(), 0);
  if (placed.span) db_.ReleaseSpan(placed.loc);
  return OkStatus();
}

Status KeyCompactor::IndexCopies() {
  // Durability: one group commit for the run's copies. A crash before it
  // leaves the originals indexed and the victim in use (it is freed only
  // after the last run); recovery adopts a copy only when it verifies.
  db_.CommitHead(db_.compaction_head_);
  // A copy that failed to persist must not become the indexed entry, nor be
  // followed by more copies (which would make it read as damage).
  Status s = db_.CheckPersisted("compaction");
  for (const Copy& c : copies_) {
    if (s.ok()) IndexCopy(c);
    if (c.placed.span) db_.ReleaseSpan(c.placed.loc);
  }
  copies_.clear();
  return s;
}

void KeyCompactor::IndexCopy(const Copy& c) {
  const char* copy = db_.base_ + c.placed.loc;
  const std::string_view key = format::EntryKey(copy);
  Index::Shard& s = db_.index_->shard(c.kh);
  // Under the stripe, as a writer publishes: a collection's writers hold it
  // while they use its meta_loc.
  DBImpl::StripeLock l(&db_, c.kh);
  bool moved;
  {
    WriteLock wl(s.mu);
    moved = db_.index_->Relocate(s, c.kh, key, c.loc, c.placed.loc);
  }
  if (!moved) return;  // replaced since the copy: the copy is the dead one
  const format::EntryHeader e = format::LoadEntry(copy);
  if (e.type == format::kMeta) {  // its collection follows it
    db_.AdoptMeta(format::LoadMeta(copy), c.placed.loc);
  }
  db_.segs_[db_.SegOf(c.loc)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(db_.base_ + c.loc)),
      std::memory_order_relaxed);
  db_.segs_[db_.SegOf(c.placed.loc)].live.fetch_add(
      format::IndexedEntryBytes(e), std::memory_order_relaxed);
}

void KeyCompactor::PrefetchSlots(int records) {
  for (int i = 0; i < records && ahead_ < tail_; ++i) {
    const char* rec = sp_ + ahead_;
    const format::EntryHeader re = format::LoadEntry(rec + 8);
    format::ForEachEntry(rec, [&](uint64_t o, const format::EntryHeader& e) {
      if (format::IsKeyEntry(e.type) && !format::IsSystemEntry(e)) {
        db_.index_->PrefetchSlot(KeyHash(format::EntryKey(rec + o)));
      }
      return true;
    });
    ahead_ +=
        static_cast<uint32_t>(format::RecordSize(re.key_len, re.value_len));
  }
}

}  // namespace daxkv::engine
