// CompactionResume: resuming, after a crash, a compaction that the crash
// interrupted.
//
// Why this exists: compaction may allocate the last free segment D for its
// log while it relocates victim V (it alone may use the whole reserve); V is
// freed only when done. A crash in between used to leave no free segment, D
// sealed at its last record and V in use: every later compaction needed a
// fresh segment and the pool answered NoSpace forever, however little live
// data it held.
//
// The invariant kept instead: at every instant, either a segment is free, or
// the compaction log D has room for everything V still has to relocate. It
// holds without crashes because V's records fit in the fresh segment D was
// (compaction copies each entry at most once, never larger than it was).
// Recovery re-establishes it:
//  * D (the newest unsealed segment whose header names a victim) is not
//    sealed but re-adopted as the compaction log, after the bytes past its
//    last valid record are zeroed (so they can never verify later);
//  * V (the in-use segment whose epoch D's header names) is compacted before
//    any other victim;
//  * V's entries already copied into D count as relocated: the index points
//    at D's copy of a put (copies keep their seq, so equal (key, seq) means
//    an identical entry), and V's tombstones with a copy in D are skipped.
// So V's remaining relocation fits in D's remaining room however many crashes
// interrupt it, no crash consumes a segment, and once V is freed a segment is
// free again (the state every other compaction needs).
//
// D outlives its first victim: it takes the copies of the next victims
// until it is full, and its header still names the first, long freed. The
// victim a crash interrupted is then the segment holding the original of
// D's last copy (VictimOfLastCopy): found, its tombstones already copied
// are skipped as above. Not found, they were copied again, and each later
// crash there left one more copy of each kept tombstone, until a pool
// near full had no room left for a put.
#include "engine/compaction_resume.h"

#include <algorithm>
#include <cstring>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

int64_t CompactionResume::FindLog(const PoolScan& scan) const {
  int64_t found = -1;
  uint64_t found_epoch = 0;
  for (uint64_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentScan& seg = scan.segments[i];
    if (seg.state != SegmentState::kInUse || seg.sealed ||
        seg.tail >= db_.segment_size_) {
      continue;
    }
    format::SegmentHeader h;
    std::memcpy(&h, db_.SegBase(static_cast<int64_t>(i)), sizeof(h));
    if (h.victim_epoch != 0 && h.epoch >= found_epoch) {
      found = static_cast<int64_t>(i);
      found_epoch = h.epoch;
    }
  }
  return found;
}

void CompactionResume::Resume(int64_t seg) {
  SegMeta& m = db_.segs_[seg];
  char* sp = db_.SegBase(seg);
  const uint32_t tail = m.tail.load();
  // Durability: the zeroes are durable before anything is appended at
  // `tail`, so no byte past the last valid record (a torn record, or with
  // group commit an unsynced record after a torn one, never recovered) can
  // verify after a later crash and come back. A crash midway leaves the
  // segment unsealed with the same last valid record; the next recovery
  // zeroes again.
  db_.region_->Set(sp + tail, 0, db_.segment_size_ - tail);
  db_.misc_persists_++;
  m.use = SegUse::kActive;
  {
    DBImpl::HeadLock l(&db_, db_.compaction_head_);
    db_.compaction_head_.seg = seg;
    db_.compaction_head_.tail = db_.compaction_head_.persisted = tail;
  }

  format::SegmentHeader h;
  std::memcpy(&h, sp, sizeof(h));
  const uint64_t n = db_.segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    if (db_.segs_[i].use.load() == SegUse::kSealed &&
        db_.segs_[i].epoch == h.victim_epoch) {
      victim_ = static_cast<int64_t>(i);
    }
  }
  if (victim_ < 0) victim_ = VictimOfLastCopy(seg);
  const uint64_t seg_off = static_cast<uint64_t>(sp - db_.base_);
  format::ForEachSegmentEntry(
      sp, tail, [&](uint64_t o, const format::EntryHeader& e) {
        if (e.seq > db_.flush_seq_.load()) AdoptCopy(seg_off + o, e);
      });
  std::sort(relocated_tombs_.begin(), relocated_tombs_.end());
}

int64_t CompactionResume::VictimOfLastCopy(int64_t log) const {
  const char* sp = db_.SegBase(log);
  uint64_t last = 0;
  format::ForEachSegmentEntry(
      sp, db_.segs_[log].tail.load(),
      [&](uint64_t o, const format::EntryHeader&) { last = o; });
  if (last == 0) return -1;
  const char* copy = sp + last;
  const format::EntryHeader ce = format::LoadEntry(copy);
  const std::string_view key = format::EntryKey(copy);
  // A copy keeps its original's seq, type and key: the sealed segment
  // holding an entry equal in all three holds its original (or an older
  // copy of it, whose victim then goes first: equally a segment whose
  // tombstones the log may already hold). Victims are the emptiest
  // segments: asked first, the search reads about one segment, not the
  // pool (it runs in crash recovery, after the full scan).
  std::vector<std::pair<double, int64_t>> sealed;
  const uint64_t n = db_.segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegMeta& m = db_.segs_[i];
    if (static_cast<int64_t>(i) == log || m.use.load() != SegUse::kSealed) {
      continue;
    }
    sealed.emplace_back(m.KeptRatio(), static_cast<int64_t>(i));
  }
  std::sort(sealed.begin(), sealed.end());
  for (const auto& [ratio, seg] : sealed) {
    const char* vp = db_.SegBase(seg);
    bool found = false;
    format::ForEachSegmentEntry(
        vp, db_.segs_[seg].tail.load(),
        [&](uint64_t o, const format::EntryHeader& e) {
          found = found || (e.seq == ce.seq && e.type == ce.type &&
                            format::EntryKey(vp + o) == key);
        });
    if (found) return seg;
  }
  return -1;
}

void CompactionResume::AdoptCopy(uint64_t loc, const format::EntryHeader& e) {
  // System copies are the scan's: SystemTable keeps one of equal seqs.
  if (format::IsSystemEntry(e)) return;
  if (format::IsElemEntry(e.type)) return AdoptElemCopy(loc, e);
  if (e.type == format::kTombstone) {
    if (victim_ >= 0) relocated_tombs_.emplace_back(e.seq, loc);
    return;
  }
  std::string_view key(db_.base_ + loc + format::kEntryHeaderSize, e.key_len);
  KeyHash kh(key);
  Index::Shard& s = db_.index_->shard(kh);
  uint64_t old_bytes;
  uint64_t old_loc;
  {
    WriteLock l(s.mu);
    IndexHit hit = db_.index_->Find(s, kh, key);
    if (hit.loc == 0 || hit.loc == loc) return;
    format::EntryHeader cur = format::LoadEntry(db_.base_ + hit.loc);
    if (cur.seq != e.seq) return;  // a newer write shadows both copies
    db_.index_->Relocate(s, kh, key, hit.loc, loc);
    old_loc = hit.loc;
    old_bytes = format::IndexedEntryBytes(cur);
  }
  if (e.type == format::kMeta)
    db_.AdoptMeta(format::LoadMeta(db_.base_ + loc), loc);
  // Recovery counted one of the two copies as a dead put; it now is the
  // original, so the dead-put count stands.
  db_.segs_[db_.SegOf(old_loc)].live.fetch_sub(old_bytes,
                                               std::memory_order_relaxed);
  db_.segs_[db_.SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                           std::memory_order_relaxed);
}

bool CompactionResume::TombstoneRelocated(uint64_t loc,
                                          const format::EntryHeader& e) const {
  if (victim_ < 0 || db_.SegOf(loc) != static_cast<uint64_t>(victim_)) {
    return false;
  }
  std::string_view key(db_.base_ + loc + format::kEntryHeaderSize, e.key_len);
  auto it = std::lower_bound(relocated_tombs_.begin(), relocated_tombs_.end(),
                             std::pair<uint64_t, uint64_t>(e.seq, 0));
  for (; it != relocated_tombs_.end() && it->first == e.seq; ++it) {
    const char* copy = db_.base_ + it->second;
    // An element tombstone's copy also names the same collection.
    const format::EntryHeader ce = format::LoadEntry(copy);
    if (ce.type == e.type && ce.expire_at_ms == e.expire_at_ms &&
        format::Load32(copy + 4) == key.size() &&
        std::memcmp(copy + format::kEntryHeaderSize, key.data(), key.size()) ==
            0) {
      return true;
    }
  }
  return false;
}

void CompactionResume::Finish(int64_t freed) {
  if (freed != victim_) return;
  victim_ = -1;
  relocated_tombs_.clear();
  relocated_tombs_.shrink_to_fit();
}

void CompactionResume::AdoptElemCopy(uint64_t loc,
                                     const format::EntryHeader& e) {
  if (e.type == format::kElemTombstone) {
    if (victim_ >= 0) relocated_tombs_.emplace_back(e.seq, loc);
    return;
  }
  Collection* c = db_.colls_->Find(format::ElemId(e));
  if (c == nullptr) return;
  const PoolSource src(db_.base_, db_.hash_seed_);
  const std::string_view subkey(db_.base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  uint64_t cur;
  {
    WriteLock l(c->mu);
    cur = c->Locate(src, subkey);
    // Indexed elsewhere with the same seq: the original of this copy.
    if (cur == 0 || cur == loc || src.Seq(cur) != e.seq) return;
    c->Relocate(src, subkey, cur, loc);
  }
  db_.segs_[db_.SegOf(cur)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(db_.base_ + cur)),
      std::memory_order_relaxed);
  db_.segs_[db_.SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                           std::memory_order_relaxed);
}

}  // namespace daxkv::engine
