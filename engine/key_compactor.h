// KeyCompactor: compaction of a victim's key entries, puts and tombstones
// (docs/durability.md, "What compaction may free"). The element entries
// beside them are ElemCompactor's.
//
// A put is live iff an index slot points at it. A live put is copied to
// the compaction log without a persist; every kCopyRun copies (and at the
// victim's end) the run is persisted once, and only then does the index
// move to each copy whose original it still points at. A tombstone is
// kept while an older put of its key may outlive it on the medium (the
// dead-put rule of space.cc); its copy is persisted with the run.
//
// Most of a victim's records are dead, and telling so costs an index probe
// each: the compactor keeps the probes of the next kLookahead records on
// their way while it decides on one.
//
// Thread-safety: REQUIRES the owning DB's compaction_mu_ for every call
// (the DB holds its KeyCompactor GUARDED_BY it). Lifetime: the DB's.
#ifndef DAXKV_ENGINE_KEY_COMPACTOR_H_
#define DAXKV_ENGINE_KEY_COMPACTOR_H_

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "engine/counter_tally.h"
#include "engine/format.h"
#include "engine/key_hash.h"
#include "engine/log_head.h"

namespace daxkv::engine {

class DBImpl;

// The DB's key stripes (DBImpl::kStripes), one bit each.
inline constexpr size_t kStripeCount = 4096;
using StripeBits = std::bitset<kStripeCount>;

class KeyCompactor {
 public:
  explicit KeyCompactor(DBImpl& db) : db_(db) {}

  // Starts the victim whose records lie in [sp + kSegmentHeaderSize,
  // sp + tail). `busy`: what DBImpl::PassIdleStripes() returned once the
  // victim was sealed.
  void Begin(const char* sp, uint32_t tail, const StripeBits& busy);
  // Call as the scan reaches each record: keeps the probe window ahead.
  void Advance();
  // Copies the key entry at `loc` (hashed `kh`) if it is live, or drops
  // it. `forget`: the victim's counted puts found so far (a put's hash is
  // pushed by the caller, after this call).
  [[nodiscard]] Status Relocate(uint64_t loc, const format::EntryHeader& e,
                                const KeyHash& kh,
                                const std::vector<uint64_t>& forget);
  // Persists and indexes the copies not yet indexed. Call at the victim's
  // end, also after an error: the copies made are persisted, and indexed
  // unless their persist failed (whose error is returned).
  [[nodiscard]] Status Finish() { return IndexCopies(); }

  // Whether dead-put counter `h` counts a put outside the victim: one a
  // tombstone of its bucket may shadow, so the tombstone must be copied.
  // `forget` names the victim's counted puts found so far (one entry per
  // count, as CompactSegment drops them once the victim is freed). When
  // false, every put such a tombstone could shadow is in the victim and
  // goes with it, in the same free. Writers only add to counters meanwhile
  // (answering true more often); only compaction drops counts.
  bool DeadPutsOutsideVictim(uint64_t h, const std::vector<uint64_t>& forget);

 private:
  // A live put copied to the compaction log, not yet indexed there.
  struct Copy {
    uint64_t loc;  // the original, in the victim
    KeyHash kh;
    Placed placed;  // the copy
  };
  // Live puts copied per persist: one drain for the run, not one per copy.
  static constexpr size_t kCopyRun = 64;
  // Records whose index slots are prefetched ahead of the one decided on.
  static constexpr int kLookahead = 8;

  // Relocate's first step, under the key's stripe: the copy (pending) or
  // nothing.
  Status CopyIfLive(uint64_t loc, const format::EntryHeader& e,
                    const KeyHash& kh, const std::vector<uint64_t>& forget);
  // Prefetches the index slots of the key entries of up to `records`
  // records from ahead_.
  void PrefetchSlots(int records);
  // Persists the compaction head's pending records, then points the index
  // at each copy whose original it still points at; empties copies_. Not
  // one is indexed when the persist failed (the error is returned).
  Status IndexCopies();
  void IndexCopy(const Copy& c);

  DBImpl& db_;
  const char* sp_ = nullptr;  // the victim's segment
  uint32_t tail_ = 0;
  uint32_t ahead_ = 0;  // records below it have their slots on the way
  StripeBits busy_;
  std::vector<Copy> copies_;
  // The `forget` entries tallied by counter, the first tallied_ of them.
  CounterTally victim_dead_;
  size_t tallied_ = 0;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_KEY_COMPACTOR_H_
