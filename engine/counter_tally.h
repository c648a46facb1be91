// CounterTally: how many times each dead-put counter index was named, for
// the counts a compaction victim will drop once it is freed (space.cc).
// A flat open-addressing table: a victim names tens of thousands of
// counters, and a node per entry would cost more than the question saves.
//
// Thread-safety: none; the owner serializes (DBImpl: compaction_mu_).
#ifndef DAXKV_ENGINE_COUNTER_TALLY_H_
#define DAXKV_ENGINE_COUNTER_TALLY_H_

#include <cstdint>
#include <vector>

namespace daxkv::engine {

class CounterTally {
 public:
  void Clear() {
    if (used_ != 0) slots_.assign(slots_.size(), Slot{});
    used_ = 0;
  }
  void Add(uint32_t index) {
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    Slot& s = Probe(index);
    if (s.count == 0) {
      s.index = index;
      ++used_;
    }
    ++s.count;
  }
  uint32_t Count(uint32_t index) const {
    if (slots_.empty()) return 0;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(index) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.count == 0) return 0;
      if (s.index == index) return s.count;
    }
  }

 private:
  struct Slot {
    uint32_t index = 0;
    uint32_t count = 0;  // 0: empty (nothing is ever removed)
  };
  static size_t Hash(uint32_t index) {
    return static_cast<size_t>((uint64_t{index} * 0x9E3779B97F4A7C15ull) >> 32);
  }
  // REQUIRES: a free slot remains.
  Slot& Probe(uint32_t index) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(index) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.count == 0 || s.index == index) return s;
    }
  }
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 1024 : old.size() * 2);
    for (const Slot& s : old) {
      if (s.count != 0) Probe(s.index) = s;
    }
  }

  std::vector<Slot> slots_;  // a power of two, at most half used
  size_t used_ = 0;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COUNTER_TALLY_H_
