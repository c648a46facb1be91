// PublishWords and TouchTable: the DRAM word tables behind transactions'
// isolation and WATCH (docs/collections.md, "Publish words", "Touch
// version"). Neither is on the medium nor survives a restart.
//
// PublishWords: 2^16 words by the top 16 key-hash bits, each
// [version:48][publishers:16]. A transaction enters a key's word before its
// first write of the key and exits it (version + 1) once its commit is
// published or its abort undone. A reader that saw a word with no
// publishers, read under the key's lock, and finds the word unchanged at
// the end saw no transaction's partial state.
//
// TouchTable: 2^18 words by the top 18 key-hash bits; every delete,
// transaction commit, expiry reclaim, collection death and flush of a key
// stores its seq there. A key's WATCH version is max(its index entry's seq,
// its touch word): it changes whenever the key does (creation then deletion
// included). Unrelated keys sharing a word only make EXEC fail spuriously.
//
// Thread-safety: atomics only; any thread.
#ifndef DAXKV_ENGINE_PUBLISH_WORDS_H_
#define DAXKV_ENGINE_PUBLISH_WORDS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "engine/key_hash.h"

namespace daxkv::engine {

class PublishWords {
 public:
  static constexpr int kBits = 16;
  PublishWords() : w_(new std::atomic<uint64_t>[size_t{1} << kBits]) {
    for (size_t i = 0; i < (size_t{1} << kBits); ++i) w_[i] = 0;
  }

  static size_t Slot(const KeyHash& kh) { return kh.low() >> (64 - kBits); }
  void Enter(size_t slot) { w_[slot].fetch_add(1, std::memory_order_seq_cst); }
  // publishers - 1, version + 1.
  void Exit(size_t slot) {
    w_[slot].fetch_add((uint64_t{1} << 16) - 1, std::memory_order_seq_cst);
  }
  uint64_t Load(size_t slot) const {
    return w_[slot].load(std::memory_order_seq_cst);
  }
  void Prefetch(size_t slot) const { __builtin_prefetch(&w_[slot]); }
  static bool Publishing(uint64_t word) { return (word & 0xFFFF) != 0; }
  // Waits (holding no lock) until no transaction publishes `slot`.
  void WaitQuiet(size_t slot) const {
    for (int spins = 0; Publishing(Load(slot)); ++spins) {
      if (spins > 64) std::this_thread::yield();
    }
  }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> w_;
};

class TouchTable {
 public:
  static constexpr int kBits = 18;
  TouchTable() : w_(new std::atomic<uint64_t>[size_t{1} << kBits]) {
    for (size_t i = 0; i < (size_t{1} << kBits); ++i) w_[i] = 0;
  }
  static size_t Slot(const KeyHash& kh) { return kh.low() >> (64 - kBits); }
  // The slot of a key in index shard `shard` at position `pos`: the same
  // top bits (KeyHash::shard(), then pos()).
  static size_t SlotAt(uint32_t shard, uint32_t pos) {
    return size_t{shard} << (kBits - kShardBits) |
           pos >> (kPosBits - (kBits - kShardBits));
  }
  // Monotonic (a racing older seq never lowers a word: a version must
  // never come back to a value a WATCH saw).
  void Touch(size_t slot, uint64_t seq) {
    uint64_t cur = w_[slot].load(std::memory_order_relaxed);
    while (cur < seq && !w_[slot].compare_exchange_weak(
                            cur, seq, std::memory_order_release)) {
    }
  }
  uint64_t Load(size_t slot) const {
    return w_[slot].load(std::memory_order_acquire);
  }
  void Prefetch(size_t slot) const { __builtin_prefetch(&w_[slot]); }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> w_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_PUBLISH_WORDS_H_
