// SegmentScrub: what the scrub after a snapshot open has left to verify
// (DBImpl's driver is engine/scrub.cc), and ScrubRecords, the check of one
// segment's records that it runs.
//
// A scan open verifies every record's checksums before it serves one; a
// snapshot open reads no record. So after a snapshot open every segment
// sealed at the open is planned, and the background thread (or compaction,
// for its victim) takes them one at a time and verifies their records as
// the scan would have.
//
// Thread-safety: every SegmentScrub method may be called from any thread;
// mu_ is a leaf of DBImpl's lock order (nothing is taken under it). That a
// planned segment's records are not reused while they are verified is the
// caller's part (DBImpl verifies under compaction_mu_, which every free of
// a segment holds). ScrubRecords is a pure function of the bytes it reads.
#ifndef DAXKV_ENGINE_SEGMENT_SCRUB_H_
#define DAXKV_ENGINE_SEGMENT_SCRUB_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv::engine {

class SegmentScrub {
 public:
  // A planned segment as it was at the open.
  struct Target {
    uint64_t epoch = 0;  // the segment's epoch
    uint32_t tail = 0;   // its records end here
  };

  // Replaces the plan (recovery after a snapshot open): segment -> target.
  void Plan(std::map<int64_t, Target> todo) EXCLUDES(mu_);
  // The first planned segment, or -1 when none is left.
  int64_t Next() const EXCLUDES(mu_);
  // Removes `seg` from the plan, returning its target; nullopt when it was
  // not planned (never, or already taken). A taken segment stays pending
  // until Verified().
  std::optional<Target> Take(int64_t seg) EXCLUDES(mu_);
  // A segment Take() returned is verified, `records` records of it.
  void Verified(uint64_t records);

  // Segments planned or taken and not yet verified. A reader that sees 0
  // sees every verified record counted in records().
  uint64_t pending() const { return pending_.load(std::memory_order_acquire); }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }

 private:
  mutable Mutex mu_;
  std::map<int64_t, Target> todo_ GUARDED_BY(mu_);
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> records_{0};
};

// What ScrubRecords found in one segment.
struct ScrubResult {
  uint64_t records = 0;  // records walked, damaged ones included
  // [begin, end) pool offsets of the damaged records, in order.
  std::vector<std::pair<uint64_t, uint64_t>> damaged;
  std::string first;  // the first damage: "<hex offset>: <what is wrong>"
};

// Verifies the records of segment `seg` (its bytes at `sp`, pool offset
// `seg_off`, checksum seed `seed`) from its header up to target.tail, as a
// scan open would: each record's CRCs (format::CheckRecord, against
// target.epoch), then each entry it indexes (format::CheckEntry). A record
// whose header fails its checksum leaves the rest of the segment
// unreadable: it is reported as one damaged range up to target.tail.
ScrubResult ScrubRecords(const char* sp, uint64_t seg_off, int64_t seg,
                         uint32_t seed, const SegmentScrub::Target& target);

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_SEGMENT_SCRUB_H_
