// Element locations and what the collection structures (coll_*.h) share:
// the 40-bit packed location, the element hash and the callback through
// which they read element bytes. See docs/collections.md.
//
// A location ("loc") names one element entry: its pool offset (a multiple
// of 8 below 2^42, the pool cap), or a *pending* location of an
// uncommitted transaction, kPendingBase + offset in that transaction's batch
// image. The DRAM structures store loc / 8 in 40 bits and never look at the
// bytes themselves; they ask an ElemSource.
//
// Thread-safety: everything here is pure, except ElemSource, whose contract
// is stated below.
#ifndef DAXKV_ENGINE_COLL_LOC_H_
#define DAXKV_ENGINE_COLL_LOC_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/key_hash.h"

namespace daxkv::engine::coll {

// Locations of committed entries lie below 2^42 (format::kMaxPoolBytes);
// pending ones (a transaction's batch image, see engine/txn.h) above.
inline constexpr uint64_t kPendingBase = uint64_t{1} << 42;
inline constexpr uint64_t kLocLimit = uint64_t{1} << 43;  // exclusive
inline constexpr int kPackedLocBytes = 5;                 // loc / 8 in 40 bits

inline bool IsPending(uint64_t loc) { return loc >= kPendingBase; }
// REQUIRES: loc % 8 == 0 and loc < kLocLimit (checked by the callers'
// debug assertions; the structures never see other values).
inline bool ValidLoc(uint64_t loc) { return loc % 8 == 0 && loc < kLocLimit; }

inline void StoreLoc(char* p, uint64_t loc) {
  const uint64_t v = loc >> 3;
  std::memcpy(p, &v, kPackedLocBytes);  // little-endian: the low 5 bytes
}
inline uint64_t LoadLoc(const char* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, kPackedLocBytes);
  return v << 3;
}

// The 64-bit hash of an element's subkey (field, member). `seed` is chosen
// at random per DB open, so an attacker cannot precompute colliding fields
// (the structures are rebuilt on open; nothing hashed is on the medium).
inline uint64_t ElemHash(uint64_t seed, std::string_view subkey) {
  return MixMul(HashBytes(subkey.data(), subkey.size()) ^ seed,
                0x9E3779B97F4A7C15ull);
}

// Reads element bytes by location for the structures: the DB implements it
// over the pool (and a transaction's image for pending locations); tests
// over a vector. Returned views stay valid while the caller holds the lock
// that keeps the collection's elements in place (docs/collections.md,
// "Concurrency"); the structures never keep them past one call.
class ElemSource {
 public:
  explicit ElemSource(uint64_t hash_seed) : hash_seed_(hash_seed) {}
  virtual ~ElemSource() = default;
  // The element's subkey: field (hash), member (set, zset), order key
  // (list).
  virtual std::string_view Subkey(uint64_t loc) const = 0;
  // A zset element's score. REQUIRES: `loc` names a zset element.
  virtual double Score(uint64_t loc) const = 0;
  // The hash the structures file `subkey` under (virtual so that tests can
  // force collisions).
  virtual uint64_t Hash(std::string_view subkey) const {
    return ElemHash(hash_seed_, subkey);
  }

 private:
  uint64_t hash_seed_;
};

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_LOC_H_
