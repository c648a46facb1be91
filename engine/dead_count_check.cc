// DBImpl::TEST_CheckElemDeadCounts: the invariant compaction's tombstone
// rule rests on (space.cc), checked against the medium. Every element put
// on the medium that its live collection does not index must be counted
// in its dead-put bucket (over-counting only keeps tombstones longer), or
// compaction may drop a tombstone while a put it shadows survives.
#include <string>
#include <unordered_map>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

Status DBImpl::TEST_CheckElemDeadCounts() {
  MutexLock l(&compaction_mu_);
  const PoolSource src(base_, hash_seed_);
  std::unordered_map<uint64_t, uint32_t> dead;  // counter index -> puts
  const uint64_t n = segment_count_.load();
  for (uint64_t seg = 0; seg < n; ++seg) {
    const SegMeta& m = segs_[seg];
    const SegUse use = m.use.load();
    if ((use != SegUse::kSealed && use != SegUse::kActive) ||
        m.span.load() > 1) {
      continue;
    }
    const char* sp = SegBase(static_cast<int64_t>(seg));
    const uint64_t seg_off = static_cast<uint64_t>(sp - base_);
    const uint32_t tail = m.tail.load();
    format::ForEachSegmentEntry(
        sp, tail, [&](uint64_t o, const format::EntryHeader& e) {
          if (e.type != format::kElem || e.seq <= flush_seq_.load()) return;
          const uint64_t loc = seg_off + o;
          const uint64_t id = format::ElemId(e);
          const std::string_view subkey = src.Subkey(loc);
          bool indexed = false;
          const bool live = colls_->WithShared(id, [&](Collection* c) {
            c->mu.AssertReaderHeld();
            indexed = c->IndexedAt(src, subkey, loc);
          });
          // A dead collection's puts are counted by the freer, or never
          // looked at again (its id is never reused).
          if (live && !indexed) {
            const uint64_t h = ElemDeadHash(id, src.Hash(subkey));
            ++dead[dead_.IndexOf(h)];
          }
        });
  }
  for (const auto& [i, puts] : dead) {
    const uint32_t counted = dead_.At(i);
    if (counted < puts) {
      return InternalError("dead-put counter " + std::to_string(i) +
                           " counts " + std::to_string(counted) + ", but " +
                           std::to_string(puts) +
                           " unindexed element puts are on the medium");
    }
  }
  return OkStatus();
}

}  // namespace daxkv::engine
