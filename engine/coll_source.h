// PoolSource: the ElemSource (engine/coll_loc.h) of a DB: element bytes
// by location from the pool, and, for a transaction, pending locations
// (kPendingBase + offset) from its batch image. An element's entry has the
// layout of docs/format.md (header, subkey, value) in both places.
//
// Thread-safety: as ElemSource: the bytes must stay in place while a
// structure reads them (the caller holds the collection's lock, and for
// pending locations is the transaction's own thread).
#ifndef DAXKV_ENGINE_COLL_SOURCE_H_
#define DAXKV_ENGINE_COLL_SOURCE_H_

#include <cstring>
#include <string>
#include <string_view>

#include "engine/coll_loc.h"
#include "engine/format.h"
#include "engine/key_hash.h"

namespace daxkv::engine {

// The dead-put counter bucket hash (engine/dead_counters.h) of element (id,
// subkey), from the subkey's ElemHash: superseded element puts count there
// so that compaction keeps an element tombstone while an older put of its
// element may remain on the medium.
inline uint64_t ElemDeadHash(uint64_t id, uint64_t elem_hash) {
  return MixMul(id ^ elem_hash, 0xD6E8FEB86659FD93ull);
}

class PoolSource final : public coll::ElemSource {
 public:
  // `image`: a transaction's batch image (null: no pending locations).
  PoolSource(const char* base, uint64_t hash_seed,
             const std::string* image = nullptr)
      : ElemSource(hash_seed), base_(base), image_(image) {}

  // The entry header at `loc`.
  const char* Entry(uint64_t loc) const {
    return coll::IsPending(loc) ? image_->data() + (loc - coll::kPendingBase)
                                : base_ + loc;
  }
  std::string_view Subkey(uint64_t loc) const override {
    return format::EntryKey(Entry(loc));
  }
  std::string_view Value(uint64_t loc) const {
    const char* p = Entry(loc);
    const uint32_t klen = format::Load32(p + 4);
    return {p + format::kEntryHeaderSize + klen, format::Load32(p + 16)};
  }
  double Score(uint64_t loc) const override {
    double d;
    std::memcpy(&d, Value(loc).data(), sizeof(d));
    return d;
  }
  uint64_t Seq(uint64_t loc) const { return format::Load64(Entry(loc) + 8); }

 private:
  const char* base_;
  const std::string* image_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COLL_SOURCE_H_
