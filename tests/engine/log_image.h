// LogImage: a DRAM stand-in for the pool bytes the Index reads. Entries are
// laid out as in the log (EntryHeader, key, value; 8-byte aligned), without
// record CRCs or segments, which the Index never looks at.
#ifndef DAXKV_TESTS_ENGINE_LOG_IMAGE_H_
#define DAXKV_TESTS_ENGINE_LOG_IMAGE_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine {

class LogImage {
 public:
  // `first` is the location of the first entry (never 0: 0 means absent).
  explicit LogImage(size_t size = 4 << 20, uint64_t first = 64)
      : bytes_(size, 0), next_(first) {}

  const char* base() const { return bytes_.data(); }

  // Appends an entry at the next free location and returns that location.
  uint64_t Add(std::string_view key, uint64_t seq, uint8_t type = format::kPut,
               int64_t expire_at_ms = 0, std::string_view value = "value") {
    return AddAt(next_, key, seq, type, expire_at_ms, value);
  }

  // Writes an entry at `loc` (REQUIRES: 8-aligned, inside the image).
  uint64_t AddAt(uint64_t loc, std::string_view key, uint64_t seq,
                 uint8_t type = format::kPut, int64_t expire_at_ms = 0,
                 std::string_view value = "value") {
    format::EntryHeader e{};
    e.type = type;
    e.key_len = static_cast<uint32_t>(key.size());
    e.seq = seq;
    e.value_len = static_cast<uint32_t>(value.size());
    e.expire_at_ms = expire_at_ms;
    char* p = bytes_.data() + loc;
    std::memcpy(p, &e, sizeof(e));
    std::memcpy(p + format::kEntryHeaderSize, key.data(), key.size());
    std::memcpy(p + format::kEntryHeaderSize + key.size(), value.data(),
                value.size());
    const uint64_t end = loc + format::EntrySize(key.size(), value.size());
    if (end > next_) next_ = end;
    return loc;
  }

  format::EntryHeader entry(uint64_t loc) const {
    return format::LoadEntry(bytes_.data() + loc);
  }

 private:
  std::vector<char> bytes_;
  uint64_t next_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_TESTS_ENGINE_LOG_IMAGE_H_
