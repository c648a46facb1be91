// CollTable: collection id -> Collection (docs/collections.md, "Locks").
// The key index finds a key's meta entry; the meta's id finds the
// collection here. Compaction and recovery find collections by id alone
// (element entries carry ids, not keys).
//
// Thread-safety: sharded; each shard has a RwSpinLock. Readers use
// WithShared() (lock coupling: the shard shared, then the collection
// shared, then the shard released); a collection removed with Remove() is
// unreachable from here on, and whoever removed it takes its lock
// exclusive before freeing it (waiting out readers still inside). Find()
// returns an unlocked pointer: the caller keeps the collection alive by
// other means (the stripe of the key owning it, which every remover
// holds). The table owns no collection.
#ifndef DAXKV_ENGINE_COLL_TABLE_H_
#define DAXKV_ENGINE_COLL_TABLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/thread_annotations.h"
#include "engine/coll_object.h"
#include "engine/key_hash.h"
#include "engine/rw_spin_lock.h"

namespace daxkv::engine {

class CollTable {
 public:
  static constexpr uint32_t kShards = 256;

  CollTable();
  CollTable(const CollTable&) = delete;
  CollTable& operator=(const CollTable&) = delete;

  // REQUIRES: no collection with c->id is present.
  void Insert(Collection* c);
  // Removes and returns the collection `id` (null when absent).
  Collection* Remove(uint64_t id);
  Collection* Find(uint64_t id) const;
  // Calls fn(c) with the collection's lock held shared; false when absent.
  template <typename Fn>
  bool WithShared(uint64_t id, Fn&& fn) const;
  // Calls fn(c) for every collection, one shard at a time (shard held
  // shared: fn must not take a shard or stripe lock).
  void ForEach(const std::function<void(Collection*)>& fn) const;
  // Takes every collection out (Flush, close); the caller owns them.
  std::vector<Collection*> TakeAll();
  uint64_t size() const;
  uint64_t MemoryBytes() const;

 private:
  struct alignas(64) Shard {
    mutable RwSpinLock mu;
    std::vector<Collection*> slots GUARDED_BY(mu);
    uint64_t used GUARDED_BY(mu) = 0;
  };
  static uint64_t Hash(uint64_t id) {
    return MixMul(id, 0x9E3779B97F4A7C15ull);
  }
  Shard& ShardOf(uint64_t h) const { return shards_[h >> 56]; }
  static int64_t Probe(const Shard& s, uint64_t h, uint64_t id)
      REQUIRES_SHARED(s.mu);
  static void Place(Shard& s, Collection* c) REQUIRES(s.mu);
  static void Grow(Shard& s) REQUIRES(s.mu);

  std::unique_ptr<Shard[]> shards_;
};

template <typename Fn>
bool CollTable::WithShared(uint64_t id, Fn&& fn) const {
  const uint64_t h = Hash(id);
  const Shard& s = ShardOf(h);
  Collection* c;
  {
    ReadLock l(s.mu);
    const int64_t i = Probe(s, h, id);
    if (i < 0) return false;
    c = s.slots[i];
    c->mu.lock_shared();  // before the shard is released: lock coupling
  }
  fn(c);
  c->mu.unlock_shared();
  return true;
}

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COLL_TABLE_H_
