// DBImpl: the scrub after a snapshot open.
//
// A scan open verifies every record's checksums before it serves one; a
// snapshot open (index_snapshot_load.cc) reads no record. So after a
// snapshot open the background thread verifies, one segment at a time,
// every record that was on the medium at the open, exactly as the scan
// would have (CRCs, then format::CheckEntry). Compaction scrubs its victim
// first: it must never copy a damaged entry under a fresh checksum.
//
// Damage found is what a scan open would have refused with Corruption: it
// is latched (writes are refused until the pool is reopened), the damaged
// records are never served again (Get, MultiGet and read views answer
// Corruption for entries inside them), and the close writes no snapshot,
// so the next open scans, names the offsets and asks for a repair.
//
// Each segment is verified under compaction_mu_: segments are freed only
// under it (compaction, Flush), so the records checked cannot be reused
// meanwhile. A segment freed, or freed and reused, since the open is
// skipped: its records from before the open are no longer served.
#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

// "" when every entry of the valid record at `rec` is well formed (the
// checks the scan applies beyond CRCs); else what is wrong.
std::string RecordEntriesBad(const char* rec) {
  std::string bad;
  const bool laid_out =
      format::ForEachEntry(rec, [&](uint64_t o, const format::EntryHeader& e) {
        bad = format::CheckEntry(rec + o, e);
        return bad.empty();
      });
  if (!laid_out && bad.empty()) bad = "batch with an inconsistent layout";
  return bad;
}

}  // namespace

void DBImpl::PlanScrub() {
  const uint64_t n = segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegMeta& m = segs_[i];
    if (m.use.load() != SegUse::kSealed) continue;
    scrub_todo_.emplace(static_cast<int64_t>(i),
                        ScrubTarget{m.epoch, m.tail.load()});
  }
  scrub_pending_.store(scrub_todo_.size());
}

void DBImpl::ScrubSome(size_t segments) {
  MutexLock l(&compaction_mu_);
  for (size_t i = 0; i < segments && !scrub_todo_.empty(); ++i) {
    // A failure is latched by ScrubSegment; the rest is still verified,
    // so that every damaged record is known before anything reads it.
    ScrubSegment(scrub_todo_.begin()->first).IgnoreError();
  }
}

Status DBImpl::ScrubSegment(int64_t seg) {
  auto it = scrub_todo_.find(seg);
  if (it == scrub_todo_.end()) return OkStatus();
  const ScrubTarget target = it->second;
  scrub_todo_.erase(it);
  Status s = VerifySegment(seg, target);
  // Counted done only once its records are counted: whoever sees no
  // segment pending sees every verified record (Stats).
  scrub_pending_.fetch_sub(1, std::memory_order_release);
  return s;
}

Status DBImpl::VerifySegment(int64_t seg, const ScrubTarget& target) {
  const SegMeta& m = segs_[seg];
  // Not free, so allocated before this thread took compaction_mu_ (the
  // use store publishes epoch and seed) and not freed since.
  if (m.use.load() == SegUse::kFree || m.epoch != target.epoch) {
    return OkStatus();
  }
  const char* sp = SegBase(seg);
  const uint64_t seg_off = static_cast<uint64_t>(sp - base_);
  std::vector<std::pair<uint64_t, uint64_t>> damaged;
  std::string first;
  uint64_t records = 0;
  for (uint32_t off = format::kSegmentHeaderSize; off < target.tail;) {
    uint64_t n = 0;
    std::string bad;
    switch (format::CheckRecord(sp + off, target.tail - off, m.seed,
                                target.epoch, &n)) {
      case format::RecordCheck::kBadHeader:
        bad = "record header fails its checksum; the rest of segment " +
              std::to_string(seg) + " is unreadable";
        n = target.tail - off;
        break;
      case format::RecordCheck::kBadData:
        bad = "record fails its checksum";
        break;
      case format::RecordCheck::kValid:
        bad = RecordEntriesBad(sp + off);
        break;
    }
    if (!bad.empty()) {
      damaged.emplace_back(seg_off + off, seg_off + off + n);
      if (first.empty()) first = format::HexOffset(seg_off + off) + ": " + bad;
    }
    ++records;
    off += static_cast<uint32_t>(n);
  }
  scrub_records_.fetch_add(records, std::memory_order_relaxed);
  if (damaged.empty()) return OkStatus();
  return health_.LatchDamage(std::move(damaged), region_->info().path, first);
}

}  // namespace daxkv::engine
