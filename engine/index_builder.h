// IndexBuilder: recovery's two-phase rebuild of the Index.
//
// Phase 1 (Add) runs on the pool scan workers: each worker files every
// valid entry it verifies under the entry's index shard, in buffers of its
// own, and counts live bytes per segment in counters of its own. Phase 2
// (Build) hands every shard to exactly one thread, which presizes the
// shard's table and inserts its entries (newest sequence number wins), then
// drops tombstones. Inserting straight from the scan workers made recovery
// contention-bound: every entry took a shard lock and bumped a shared
// per-segment counter, and tables grew step by step.
//
// Thread-safety: Add(w, ...) may run concurrently for distinct workers `w`.
// Build() REQUIRES every Add() to happen-before it (e.g. the workers were
// joined) and exclusive use of the index; LiveBytes() REQUIRES Build() done.
// The pool bytes must stay stable throughout.
#ifndef DAXKV_ENGINE_INDEX_BUILDER_H_
#define DAXKV_ENGINE_INDEX_BUILDER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/format.h"
#include "engine/index.h"

namespace daxkv::engine {

class IndexBuilder {
 public:
  // `workers`: how many scan workers call Add(), and threads Build() uses.
  IndexBuilder(const char* base, const format::SuperBlock& sb, Index* index,
               int workers);

  // Phase 1: the entry `e` at pool offset `loc` (its header). REQUIRES
  // 0 <= worker < workers.
  void Add(int worker, uint64_t loc, const format::EntryHeader& e);

  // Phase 2. Calls on_dead_put(key hash) (may be null) once per put entry
  // that lost to a newer entry of its key, from any of the build threads.
  void Build(const std::function<void(uint64_t)>& on_dead_put);

  // Bytes of indexed (winning, non-tombstone) entries in segment `seg`.
  uint64_t LiveBytes(uint64_t seg) const;

 private:
  struct Item {
    uint64_t slot;  // Index::RecoverySlot
    int64_t expire_at_ms;
  };
  struct alignas(64) Worker {
    std::vector<std::vector<Item>> shards;  // indexed by shard
    std::vector<int64_t> live;              // bytes, indexed by segment
  };

  uint64_t SegOf(uint64_t loc) const {
    return (loc - sb_.data_offset) / sb_.segment_size;
  }
  void BuildShard(uint32_t shard, Worker* self,
                  const std::function<void(uint64_t)>& on_dead_put);

  const char* base_;
  const format::SuperBlock& sb_;
  Index* index_;
  std::vector<Worker> workers_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_INDEX_BUILDER_H_
