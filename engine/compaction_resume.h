// CompactionResume: resuming, after a crash, the compaction the crash
// interrupted (why, and the invariant it keeps: compaction_resume.cc).
//
// Recovery finds the compaction log the crash left (FindLog) and makes it
// the compaction log again (Resume), which names its victim: compaction
// frees that victim before any other (victim()), skipping the tombstones
// whose copy the log already holds (TombstoneRelocated), and Finish() ends
// the resume once the victim is freed.
//
// Thread-safety: REQUIRES the owning DB's compaction_mu_ for every call
// (the DB holds its CompactionResume GUARDED_BY it). Lifetime: the DB's.
#ifndef DAXKV_ENGINE_COMPACTION_RESUME_H_
#define DAXKV_ENGINE_COMPACTION_RESUME_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine {

class DBImpl;
struct PoolScan;

class CompactionResume {
 public:
  explicit CompactionResume(DBImpl& db) : db_(db) {}

  // Recovery: the newest unsealed compaction log, or -1.
  int64_t FindLog(const PoolScan& scan) const;
  // Recovery: makes `seg` the compaction log again (zeroing past its last
  // record), names the victim to compact first and adopts the copies it
  // holds. REQUIRES: the index is rebuilt and the segments adopted.
  void Resume(int64_t seg);
  // The victim a crash interrupted, compacted before any other; -1: none.
  int64_t victim() const { return victim_; }
  // Whether the tombstone at `loc` (in the victim) already has its copy in
  // the compaction log.
  bool TombstoneRelocated(uint64_t loc, const format::EntryHeader& e) const;
  // Called when compaction frees `freed` (or Flush() frees every segment).
  void Finish(int64_t freed);

 private:
  // A copy in the resumed log: the index (or its collection) points at it
  // in place of its original, or a tombstone copy is remembered.
  void AdoptCopy(uint64_t loc, const format::EntryHeader& e);
  void AdoptElemCopy(uint64_t loc, const format::EntryHeader& e);
  // The victim of a resumed log `log` whose header names a victim already
  // freed: the sealed segment holding the original of the log's last copy,
  // or -1 (that victim was freed too).
  int64_t VictimOfLastCopy(int64_t log) const;

  DBImpl& db_;
  int64_t victim_ = -1;
  // The (seq, loc) of the tombstone copies the log held at recovery, sorted.
  std::vector<std::pair<uint64_t, uint64_t>> relocated_tombs_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COMPACTION_RESUME_H_
