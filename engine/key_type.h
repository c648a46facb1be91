// KeyType: what a key holds. The collection types' values are also the
// `type` byte of their meta entries and the `reserved` field of their
// element entries on the medium (docs/format.md, versions 4 and 5): never
// renumber.
#ifndef DAXKV_ENGINE_KEY_TYPE_H_
#define DAXKV_ENGINE_KEY_TYPE_H_

#include <cstdint>

namespace daxkv::engine {

enum class KeyType : uint8_t {
  kNone = 0,  // absent or expired
  kString = 1,
  kHash = 2,
  kList = 3,
  kSet = 4,
  kZset = 5,
  kStream = 6,  // format version 5
};

inline bool IsCollectionType(uint32_t t) {
  return t >= static_cast<uint32_t>(KeyType::kHash) &&
         t <= static_cast<uint32_t>(KeyType::kStream);
}

// Lists and streams keep their elements in a ListIndex, ordered by subkey
// bytes (order keys; a stream's 16-byte big-endian entry IDs).
inline bool UsesListIndex(KeyType t) {
  return t == KeyType::kList || t == KeyType::kStream;
}

// Redis's TYPE names: "string", "hash", "list", "set", "zset", "stream",
// "none".
const char* KeyTypeName(KeyType t);

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_KEY_TYPE_H_
