#include "engine/dead_counters.h"

#include <algorithm>

namespace daxkv::engine {

void DeadCounters::Reset(uint64_t count) {
  counts_.reset(new std::atomic<uint32_t>[count]);
  mask_ = count - 1;
  Clear();
}

void DeadCounters::Clear() {
  for (uint64_t i = 0; i <= mask_; ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void DeadCounters::Forget(uint64_t h) {
  std::atomic<uint32_t>& c = counts_[IndexOf(h)];
  uint32_t v = c.load(std::memory_order_relaxed);
  while (v > 0 && !c.compare_exchange_weak(v, v - 1)) {
  }
}

void DeadCounters::ForgetAll(std::span<const uint64_t> hashes) {
  constexpr size_t kAhead = 8;
  const size_t n = hashes.size();
  for (size_t i = 0; i < std::min(n, kAhead); ++i) Prefetch(hashes[i]);
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) Prefetch(hashes[i + kAhead]);
    Forget(hashes[i]);
  }
}

}  // namespace daxkv::engine
