// CollBuilder: recovery's rebuild of the collections (docs/collections.md,
// "Recovery"), beside IndexBuilder's rebuild of the key index.
//
// Phase 1 (AddElem, AddMeta) runs on the pool scan workers: each element
// entry becomes a 32-byte item (collection id, subkey hash, an ordering
// hint, location, size and flags) computed while the record is in cache,
// filed in the worker's own buffer for the id's partition; meta entries
// are noted as candidates. Phase 2a (BuildCollections), once the key index
// is built, makes a Collection for each meta the index points at. Phase 2b
// (BuildElements) hands each partition to one thread, which sorts its
// items by (id, hash), keeps per element the entry with the highest seq
// (reading seqs and subkeys only where hashes collide), and bulk-builds
// each live collection's structure; elements of ids no live meta names
// are garbage.
//
// Thread-safety: AddElem/AddMeta(w, ...) run concurrently for distinct
// workers w. Phase 2 REQUIRES every Add to happen-before it and the pool
// bytes stable; it runs its own threads.
#ifndef DAXKV_ENGINE_COLL_BUILDER_H_
#define DAXKV_ENGINE_COLL_BUILDER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/coll_item_sort.h"
#include "engine/coll_table.h"
#include "engine/format.h"
#include "engine/index.h"
#include "engine/pool_scan.h"

namespace daxkv::engine {

class CollBuilder {
 public:
  static constexpr int kPartitionBits = 10;

  CollBuilder(const char* base, const format::SuperBlock& sb,
              uint64_t hash_seed, int workers);
  CollBuilder(const CollBuilder&) = delete;
  CollBuilder& operator=(const CollBuilder&) = delete;
  ~CollBuilder();

  // Phase 1: the element entry `e` at pool offset `loc` (its header).
  void AddElem(int worker, uint64_t loc, const format::EntryHeader& e);
  // Phase 1: a meta entry (a candidate: it wins if the index points at it).
  void AddMeta(int worker, uint64_t loc) {
    workers_[worker].metas.push_back(loc);
  }

  // Phase 2a: a Collection in `table` (which owns none: the caller frees
  // them) for every meta entry `index` points at. Two live metas of one id
  // are reported in out->problems.
  void BuildCollections(const Index& index, CollTable* table, PoolScan* out);
  // Phase 2b on `threads` threads. Adds the winning elements' bytes to
  // out->live_bytes (by raw segment), calls on_dead (may be null) with the
  // ElemDeadHash of every element put that lost (or whose id is dead), and
  // reports elements whose type differs from their collection's in
  // out->problems and out->mismatched_elements.
  void BuildElements(const CollTable& table, int threads,
                     const std::function<void(uint64_t)>& on_dead,
                     PoolScan* out);

 private:
  using Item = coll::RecoveryItem;
  // A worker's items of one partition: a list of fixed-size chunks, newest
  // first, so that filing an item never copies the ones before it.
  struct Chunk {
    static constexpr uint32_t kItems = 127;  // ~4 KiB a chunk
    Chunk* next;
    uint32_t n;
    Item items[kItems];
  };
  struct alignas(64) Worker {
    std::vector<Chunk*> parts;  // per partition: the newest chunk
    std::vector<uint64_t> metas;
  };
  class Partition;  // phase 2b of one partition (coll_builder.cc)

  static uint32_t PartitionOf(uint64_t id) {
    return static_cast<uint32_t>(MixMul(id, 0x9E3779B97F4A7C15ull) >>
                                 (64 - kPartitionBits));
  }

  const char* base_;
  const format::SuperBlock& sb_;
  uint64_t hash_seed_;
  std::vector<Worker> workers_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COLL_BUILDER_H_
