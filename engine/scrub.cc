// DBImpl: the scrub after a snapshot open (what is left to verify, and
// the check of a segment's records: engine/segment_scrub.h).
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

void DBImpl::PlanScrub() {
  std::map<int64_t, SegmentScrub::Target> todo;
  const uint64_t n = segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegMeta& m = segs_[i];
    if (m.use.load() != SegUse::kSealed) continue;
    todo.emplace(static_cast<int64_t>(i),
                 SegmentScrub::Target{m.epoch, m.tail.load()});
  }
  scrub_.Plan(std::move(todo));
}

void DBImpl::ScrubSome(size_t segments) {
  MutexLock l(&compaction_mu_);
  for (size_t i = 0; i < segments; ++i) {
    const int64_t seg = scrub_.Next();
    if (seg < 0) break;
    // A failure is latched by ScrubSegment; the rest is still verified,
    // so that every damaged record is known before anything reads it.
    ScrubSegment(seg).IgnoreError();
  }
}

Status DBImpl::ScrubSegment(int64_t seg) {
  const std::optional<SegmentScrub::Target> target = scrub_.Take(seg);
  if (!target) return OkStatus();
  const SegMeta& m = segs_[seg];
  // Not free, so allocated before this thread took compaction_mu_ (the
  // use store publishes epoch and seed) and not freed since.
  if (m.use.load() == SegUse::kFree || m.epoch != target->epoch) {
    scrub_.Verified(0);
    return OkStatus();
  }
  const char* sp = SegBase(seg);
  ScrubResult r =
      ScrubRecords(sp, static_cast<uint64_t>(sp - base_), seg, m.seed, *target);
  scrub_.Verified(r.records);
  if (r.damaged.empty()) return OkStatus();
  return health_.LatchDamage(std::move(r.damaged), region_->info().path,
                             r.first);
}

}  // namespace daxkv::engine
