// Collection: the DRAM side of one hash, list, set or sorted set (issue
// 14; docs/collections.md, "DRAM structures"): its type, its id (the value
// every element entry on the medium carries), the location of the meta
// entry its key's index slot points at, and its element index (an
// ElemTable, a ListIndex or a ZsetIndex). Element bytes stay on the
// medium; the structure reads them through an ElemSource.
//
// Thread-safety: `mu` (a RwSpinLock) guards everything but type and id:
// readers hold it shared; writers (a Txn, compaction's relocation, the
// freer) hold it exclusive, and besides hold the stripe of the key owning
// the collection, except the freer, which only ever sees dead collections
// that no key and no table entry names. Lock order: collection-table shard
// < collection < index shard (db_impl.h).
#ifndef DAXKV_ENGINE_COLL_OBJECT_H_
#define DAXKV_ENGINE_COLL_OBJECT_H_

#include <atomic>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "base/thread_annotations.h"
#include "engine/coll_elem_table.h"
#include "engine/coll_list.h"
#include "engine/coll_loc.h"
#include "engine/coll_packed_ints.h"
#include "engine/coll_zset.h"
#include "engine/key_type.h"
#include "engine/rw_spin_lock.h"

namespace daxkv::engine {

// Whether `s` is an int64 in Redis's canonical text ("-12", not "012",
// "+12" or "-0"): what an intset can hold.
bool IsCanonicalInt64(std::string_view s);

// Whether Redis 7.0 stores this element outside its compact encoding: a
// hash field or value, or a sorted-set member, over 64 bytes
// (hash-max-listpack-value, zset-max-listpack-value; a zset's value here
// is its 8-byte score), or a set member an intset cannot hold. A set
// element with a value is a packed set's entry, which holds integers only.
inline bool IsLongElement(KeyType type, std::string_view subkey,
                          size_t value_len) {
  if (type == KeyType::kSet) return value_len == 0 && !IsCanonicalInt64(subkey);
  return subkey.size() > 64 || (type == KeyType::kHash && value_len > 64);
}

struct KeyInfo;

namespace coll {
// A packed set's DRAM form (coll_packed_ints.h): where its one entry is
// (0 only inside a Txn that emptied it) and how many members it holds.
struct PackedSet {
  uint64_t loc = 0;
  uint64_t count = 0;
};
}  // namespace coll

struct Collection {
  // REQUIRES: IsCollectionType(type), id != 0.
  Collection(KeyType type, uint64_t id, uint64_t meta_loc);
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  mutable RwSpinLock mu;
  const KeyType type;
  // An element longer than Redis's compact encodings take was stored
  // since the last open (IsLongElement): what OBJECT ENCODING needs
  // (Redis converts then, and never back until a reload).
  std::atomic<bool> had_long{false};
  // The largest size() a committed Txn left since the last open, for the
  // same reason (a hash that outgrew its listpack stays a hashtable).
  // Both hints are written by the Txn holding the key's stripe (or by
  // recovery) and read without `mu`: approximate by nature, never undone.
  std::atomic<uint64_t> peak_size{0};
  const uint64_t id;
  // Pool offset of the meta entry the key's index slot points at.
  uint64_t meta_loc GUARDED_BY(mu);

  coll::ElemTable& mutable_table() REQUIRES(mu) {
    return std::get<coll::ElemTable>(index_);
  }
  const coll::ElemTable& table() const REQUIRES_SHARED(mu) {
    return std::get<coll::ElemTable>(index_);
  }
  coll::ListIndex& mutable_list() REQUIRES(mu) {
    return std::get<coll::ListIndex>(index_);
  }
  const coll::ListIndex& list() const REQUIRES_SHARED(mu) {
    return std::get<coll::ListIndex>(index_);
  }
  // A set is packed (its members one entry, coll_packed_ints.h) from its
  // creation until it takes a member that is not an integer or outgrows
  // Options::packed_set_max; then it holds an ElemTable for good.
  bool packed() const REQUIRES_SHARED(mu) {
    return std::holds_alternative<coll::PackedSet>(index_);
  }
  const coll::PackedSet& packed_set() const REQUIRES_SHARED(mu) {
    return std::get<coll::PackedSet>(index_);
  }
  void SetPacked(coll::PackedSet p) REQUIRES(mu) { index_ = p; }
  // REQUIRES: packed(). The empty ElemTable a set unpacks into.
  void UseTable() REQUIRES(mu) { index_.emplace<coll::ElemTable>(); }
  coll::ZsetIndex& mutable_zset() REQUIRES(mu) {
    return std::get<coll::ZsetIndex>(index_);
  }
  const coll::ZsetIndex& zset() const REQUIRES_SHARED(mu) {
    return std::get<coll::ZsetIndex>(index_);
  }

  uint64_t size() const REQUIRES_SHARED(mu);
  // The DRAM form a Redis encoding name follows: a dense ElemTable, a
  // compact zset, a list of at most 128 elements.
  bool compact() const REQUIRES_SHARED(mu);
  // The collection's part of a KeyInfo (StatKey): size, compact and the
  // OBJECT ENCODING hints.
  void FillInfo(KeyInfo* info) const REQUIRES_SHARED(mu);
  // DRAM bytes: this object and its structure.
  uint64_t MemoryBytes() const REQUIRES_SHARED(mu);

  // The location of the element whose subkey is `subkey`, or 0.
  uint64_t Locate(const coll::ElemSource& src, std::string_view subkey) const
      REQUIRES_SHARED(mu);
  bool Contains(const coll::ElemSource& src, std::string_view subkey) const
      REQUIRES_SHARED(mu) {
    return Locate(src, subkey) != 0;
  }
  // Whether the element whose subkey is `subkey` is indexed at `loc`
  // (compaction's liveness test; hashes and sets read no bytes).
  bool IndexedAt(const coll::ElemSource& src, std::string_view subkey,
                 uint64_t loc) const REQUIRES_SHARED(mu);
  bool is_list() const {
    return type == KeyType::kList || type == KeyType::kStream;
  }
  // IndexedAt for a list (REQUIRES: is_list()) and a run of compaction's
  // lookups; *pos gets the position found, Relocate's hint while the list
  // is unchanged. `near`: the position of the run's last put found, or ~0.
  // Pushes log a list's neighbours one after another, so most of a run's
  // elements are found beside the one before, without an O(log n) search
  // reading keys from the medium. `ends`: the list's, from one GetEnds
  // per run, so that a popped element's put costs no index read.
  bool ListIndexedAt(const coll::ElemSource& src,
                     const coll::ListIndex::Ends& ends, std::string_view okey,
                     uint64_t loc, uint64_t near, uint64_t* pos) const
      REQUIRES_SHARED(mu);
  // Points the element at `old_loc` (subkey `subkey`) at `new_loc` if it
  // is there now. `hint`: a list position or zset rank to try first (or
  // ~0). Returns whether it did.
  bool Relocate(const coll::ElemSource& src, std::string_view subkey,
                uint64_t old_loc, uint64_t new_loc, uint64_t hint = ~0ull)
      REQUIRES(mu);
  // Every indexed location, in no particular order (lists: in order; a
  // packed set: its one entry's).
  void AppendLocs(std::vector<uint64_t>* out) const REQUIRES_SHARED(mu);
  // The first min(n, size()) of them in the structure's own order (list
  // order, score order, a table's position order); all when n == 0.
  void AppendFirstLocs(uint64_t n, std::vector<uint64_t>* out) const
      REQUIRES_SHARED(mu);
  void Clear() REQUIRES(mu);

 private:
  std::variant<coll::ElemTable, coll::ListIndex, coll::ZsetIndex,
               coll::PackedSet>
      index_ GUARDED_BY(mu);
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COLL_OBJECT_H_
