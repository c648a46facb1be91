// DeadCounters: the dead-put counters compaction's tombstone rule reads
// (space.cc). Per bucket of hashes (a key's KeyHash::low(), an element's
// ElemDeadHash), how many put entries on the medium are no longer the
// indexed one. A bucket shared by two hashes only keeps tombstones longer
// than needed.
//
// Thread-safety: Note, Forget, Count and Prefetch are atomic and may run
// from any thread; Reset, Clear and Store run before any reader (open,
// recovery) or with writers excluded (Flush).
#ifndef DAXKV_ENGINE_DEAD_COUNTERS_H_
#define DAXKV_ENGINE_DEAD_COUNTERS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

namespace daxkv::engine {

class DeadCounters {
 public:
  // `count` zeroed counters. REQUIRES: count a power of two; no reader.
  void Reset(uint64_t count);
  // Every counter to 0. REQUIRES: no concurrent Note or Forget.
  void Clear();
  uint64_t size() const { return mask_ + 1; }

  // The counter hash `h` falls in.
  uint32_t IndexOf(uint64_t h) const {
    return static_cast<uint32_t>((h >> 20) & mask_);
  }
  void Note(uint64_t h) {
    counts_[IndexOf(h)].fetch_add(1, std::memory_order_relaxed);
  }
  // One count off `h`'s counter, never below 0.
  void Forget(uint64_t h);
  // Forget() for each of `hashes`, their counters loaded ahead: random
  // counters, each a locked update, whose misses would otherwise come one
  // by one.
  void ForgetAll(std::span<const uint64_t> hashes);
  // Starts loading `h`'s counter for a Note or Forget soon.
  void Prefetch(uint64_t h) const {
    __builtin_prefetch(&counts_[IndexOf(h)], 1);
  }
  uint32_t Count(uint64_t h) const { return At(IndexOf(h)); }

  // By counter index (the snapshot's array, the consistency check).
  uint32_t At(uint64_t i) const {
    return counts_[i].load(std::memory_order_relaxed);
  }
  // REQUIRES: no reader yet (a snapshot open).
  void Store(uint64_t i, uint32_t v) {
    counts_[i].store(v, std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<std::atomic<uint32_t>[]> counts_;
  uint64_t mask_ = 0;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_DEAD_COUNTERS_H_
