// KeyHash: the 64-bit hash of a key and the fields the engine derives from
// it (index shard, 24-bit position within the shard, write stripe).
//
// The hash is part of no media structure (the index is rebuilt on open), so
// it may change between releases.
#ifndef DAXKV_ENGINE_KEY_HASH_H_
#define DAXKV_ENGINE_KEY_HASH_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace daxkv::engine {

inline constexpr int kShardBits = 10;
inline constexpr uint32_t kShardCount = 1u << kShardBits;
inline constexpr int kPosBits = 24;  // position of a key inside its shard

inline uint64_t MixMul(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// The n < 8 bytes at p as a little-endian word, zero-extended (what a
// memcpy into a zeroed word gives), by at most three loads inside [p, p+n):
// a variable-length memcpy followed by a word load stalls store forwarding,
// and short subkeys make this tail the whole hash.
inline uint64_t LoadTail(const char* p, size_t n) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);  // overlaps lo by 8 - n bytes: same bytes
    return uint64_t{lo} | uint64_t{hi} << (8 * (n - 4));
  }
  if (n == 0) return 0;
  return uint64_t{u[0]} | uint64_t{u[n / 2]} << (8 * (n / 2)) |
         uint64_t{u[n - 1]} << (8 * (n - 1));
}

inline uint64_t HashBytes(const char* p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = MixMul(h ^ w, 0xbf58476d1ce4e5b9ull);
    p += 8;
    n -= 8;
  }
  h = MixMul(h ^ LoadTail(p, n) ^ (uint64_t{n} << 56), 0x94d049bb133111ebull);
  return MixMul(h, 0x2545F4914F6CDD1Dull);
}

struct KeyHash {
  uint64_t h;
  KeyHash() = default;  // uninitialized (arrays of hashes)
  explicit KeyHash(std::string_view key)
      : h(HashBytes(key.data(), key.size())) {}
  uint32_t shard() const {
    return static_cast<uint32_t>(h >> (64 - kShardBits));
  }
  // Position within the shard; also the key's scan order.
  uint32_t pos() const {
    return static_cast<uint32_t>(h >> (64 - kShardBits - kPosBits)) &
           ((1u << kPosBits) - 1);
  }
  uint64_t low() const { return h; }
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_KEY_HASH_H_
