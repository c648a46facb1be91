// DBImpl: the background freer of dead collections (docs/collections.md,
// "Dead collections' bytes"). DEL of a collection is O(1): its key's
// tombstone kills every element at once, and the collection object goes
// here. The freer returns its DRAM and, for each element, subtracts the
// element's bytes from its segment's live count and counts it as a dead
// put (so that compaction's bookkeeping stays exact), a bounded number of
// elements at a time under compaction_mu_, never under a lock a client
// takes: UNLINK of a 1M-element key stalls nobody.
#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

uint64_t DBImpl::RunFreer(uint64_t budget) {
  uint64_t done = 0;
  while (done < budget) {
    if (freeing_.c == nullptr && freeing_.next >= freeing_.locs.size() &&
        !dead_colls_.Pop(&freeing_)) {
      break;
    }
    if (freeing_.c != nullptr) {
      {
        WriteLock l(freeing_.c->mu);
        if (freeing_.account) freeing_.c->AppendLocs(&freeing_.locs);
        freeing_.c->Clear();
      }
      freeing_.c.reset();
      ++done;
    }
    while (freeing_.next < freeing_.locs.size() && done < budget) {
      const uint64_t loc = freeing_.locs[freeing_.next++];
      ++done;
      // A transaction's uncommitted element, or one whose segment was
      // freed (or freed and reused) since the death: compaction dropped
      // it and reset that segment's counts already.
      if (coll::IsPending(loc)) continue;
      const SegMeta& m = segs_[SegOf(loc)];
      const SegUse use = m.use.load(std::memory_order_acquire);
      if ((use != SegUse::kSealed && use != SegUse::kActive) ||
          m.epoch > freeing_.epoch) {
        continue;
      }
      ElemGone(freeing_.id, loc);
    }
    if (freeing_.next >= freeing_.locs.size()) {
      dead_colls_.Done(freeing_.id);
      freeing_ = DeadColl{};
    }
  }
  return done;
}

}  // namespace daxkv::engine
