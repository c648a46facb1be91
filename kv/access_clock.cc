#include "kv/access_clock.h"

#include <algorithm>
#include <functional>

namespace daxkv::kv {

AccessClock::AccessClock(int64_t start_ms)
    : start_ms_(start_ms), stamps_(new std::atomic<uint32_t>[kBuckets]) {
  for (size_t i = 0; i < kBuckets; ++i) {
    stamps_[i].store(0, std::memory_order_relaxed);
  }
}

uint32_t AccessClock::Stamp(int64_t now_ms) {
  int64_t s = std::clamp<int64_t>(now_ms / 1000 - kEpochS, 1, UINT32_MAX);
  return static_cast<uint32_t>(s);
}

size_t AccessClock::Bucket(std::string_view key) {
  return std::hash<std::string_view>{}(key) & (kBuckets - 1);
}

void AccessClock::Touch(std::string_view key, int64_t now_ms) {
  std::atomic<uint32_t>& slot = stamps_[Bucket(key)];
  uint32_t stamp = Stamp(now_ms);
  // Most touches repeat the stamp already there: skip the store so hot
  // keys read by several threads do not bounce the line.
  if (slot.load(std::memory_order_relaxed) != stamp) {
    slot.store(stamp, std::memory_order_relaxed);
  }
}

int64_t AccessClock::IdleSeconds(std::string_view key, int64_t now_ms) const {
  uint32_t last = stamps_[Bucket(key)].load(std::memory_order_relaxed);
  if (last == 0) last = Stamp(start_ms_);
  return std::max<int64_t>(int64_t{Stamp(now_ms)} - last, 0);
}

}  // namespace daxkv::kv
