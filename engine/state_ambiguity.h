// Segments whose state word is damaged beyond correction (SegmentState::
// kAmbiguous): in use or free? Guessing "in use" can resurrect a deleted
// key (a freed segment still holds puts whose tombstones compaction has
// since dropped); guessing "free" loses whatever the segment alone holds.
//
// So recovery scans the pool twice, with the ambiguous segments left out
// (A) and scanned in use (B), and compares, key by key, what each would
// serve. Treating them as in use (B) is right for every key except those
// whose newest entry lies in an ambiguous segment and which A does not
// hold at all: were the segment free, such a put was dead, superseded by a
// delete whose tombstone compaction could drop. Repair therefore keeps the
// segments in use and deletes exactly those keys (never resurrecting one,
// naming each it drops); every other difference (a newer value there, or a
// key its tombstones delete) is kept as B has it.
//
// Thread-safety: as ScanPool (the pool bytes must stay stable).
#ifndef DAXKV_ENGINE_STATE_AMBIGUITY_H_
#define DAXKV_ENGINE_STATE_AMBIGUITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/index.h"
#include "engine/pool_scan.h"

namespace daxkv::engine {

struct AmbiguityVerdict {
  // Keys whose only entries are in ambiguous segments (newest a put):
  // repair deletes them.
  std::vector<std::string> revived;
  uint64_t newer = 0;    // keys with a newer value there than elsewhere
  uint64_t deleted = 0;  // keys that its tombstones delete
  // What repair does, one sentence (for errors and reports).
  std::string Describe(const PoolScan& scan) const;
};

// REQUIRES: `a` was built by ScanPool(options without ambiguous_in_use),
// and found ambiguous segments. Scans again into `b` / `scan_b` with them
// in use and fills `out`.
void JudgeAmbiguousSegments(const char* base, const format::SuperBlock& sb,
                            const Index& a, ScanOptions options, Index* b,
                            PoolScan* scan_b, AmbiguityVerdict* out);

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_STATE_AMBIGUITY_H_
