// KeyType: what a key holds. The collection types' values are also the
// `type` byte of their meta entries and the `reserved` field of their
// element entries on the medium (docs/format.md, version 4): never renumber.
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
};

inline bool IsCollectionType(uint32_t t) {
  return t >= static_cast<uint32_t>(KeyType::kHash) &&
         t <= static_cast<uint32_t>(KeyType::kZset);
}

// Redis's TYPE names: "string", "hash", "list", "set", "zset", "none".
const char* KeyTypeName(KeyType t);

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_KEY_TYPE_H_
