// Index: the DRAM hash index from key to the log location of its newest
// entry. It stores no keys: an 8-byte slot holds the key's 24-bit position
// (hash bits; also its scan order), a tombstone bit (used only while
// recovering) and the entry's pool offset / 8. Keys are compared against the
// entry in the log, so the index costs ~11-21 bytes per key (load 0.375 -
// 0.75), plus ~64 bytes per key that has an expiry (the expiry set).
//
// The index is split into kShardCount shards, each an open-addressing table
// with linear probing in position order (home slot = top bits of the
// position), so that a scan by position range is stable across inserts,
// deletes (backward-shift, no tombstones) and table growth.
//
// Thread-safety: every Shard method REQUIRES the shard's `mu` held (shared
// for const methods, exclusive otherwise; annotated, so clang checks it),
// except PrefetchSlot(), which
// reads only atomics and dereferences nothing. Entry bytes referenced by slots
// must stay readable while the lock is held (the DB frees a log segment only
// after no slot points into it).
#ifndef DAXKV_ENGINE_INDEX_H_
#define DAXKV_ENGINE_INDEX_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/key_hash.h"
#include "engine/rw_spin_lock.h"

namespace daxkv::engine {

// What one key costs the index, for MEMORY USAGE: its 8-byte slot at the
// tables' mean load (0.5), and an expiry-set node when it has an expiry.
inline constexpr uint64_t kIndexBytesPerKey = 16;
inline constexpr uint64_t kIndexBytesPerExpiry = 64;

struct IndexHit {
  uint64_t loc = 0;  // 0 = absent
  bool tombstone = false;
};

// An allocator that leaves new elements uninitialised (default-init): slot
// tables loaded from a snapshot are overwritten whole, so zeroing them
// first would cost a pass over the whole index. Every other use assigns
// or value-initialises explicitly.
template <typename T>
struct NoInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    if constexpr (sizeof...(Args) == 0) {
      ::new (static_cast<void*>(p)) U;
    } else {
      ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
  }
};
using SlotTable = std::vector<uint64_t, NoInitAllocator<uint64_t>>;

class Index {
 public:
  // `base` is the pool's first byte; locations are offsets from it.
  explicit Index(const char* base);

  struct alignas(64) Shard {
    mutable RwSpinLock mu;
    SlotTable slots GUARDED_BY(mu);
    uint32_t bits GUARDED_BY(mu) = 0;
    uint64_t used GUARDED_BY(mu) = 0;
    uint64_t tombstones GUARDED_BY(mu) = 0;
    // (expire_at_ms, loc) of every indexed entry with an expiry.
    std::set<std::pair<int64_t, uint64_t>> expiring GUARDED_BY(mu);
  };

  Shard& shard(const KeyHash& kh) { return shards_[kh.shard()]; }
  const Shard& shard(const KeyHash& kh) const { return shards_[kh.shard()]; }
  Shard& shard_at(uint32_t i) { return shards_[i]; }
  const Shard& shard_at(uint32_t i) const { return shards_[i]; }

  IndexHit Find(const Shard& s, const KeyHash& kh, std::string_view key) const
      REQUIRES_SHARED(s.mu);
  // Whether `kh`'s key is indexed at exactly `loc`. Reads no log bytes: a
  // location identifies its entry, so no key comparison is needed.
  bool IndexedAt(const Shard& s, const KeyHash& kh, uint64_t loc) const
      REQUIRES_SHARED(s.mu);

  // The location of the first slot on `kh`'s probe path holding kh's
  // position (0: none): the entry Find() most likely compares first, found
  // without reading the log, for a prefetch.
  uint64_t Candidate(const Shard& s, const KeyHash& kh) const
      REQUIRES_SHARED(s.mu);

  // Starts loading `kh`'s home slot into the cache, so that a probe after
  // other work (a persist) does not wait for DRAM. Needs no lock: it reads
  // only the shard's hint, and a prefetch of a stale address never faults.
  void PrefetchSlot(const KeyHash& kh) const {
    const Hint& h = hints_[kh.shard()];
    const uint64_t* t = h.slots.load(std::memory_order_relaxed);
    const uint32_t shift = h.shift.load(std::memory_order_relaxed);
    if (t != nullptr) __builtin_prefetch(t + (kh.pos() >> shift));
  }

  // Points `key` at `loc`; returns what it pointed at before.
  IndexHit Upsert(Shard& s, const KeyHash& kh, std::string_view key,
                  uint64_t loc, bool tombstone) REQUIRES(s.mu);
  IndexHit Erase(Shard& s, const KeyHash& kh, std::string_view key)
      REQUIRES(s.mu);
  // Moves `key` from `expect` to `loc`; false (no change) if it has moved.
  bool Relocate(Shard& s, const KeyHash& kh, std::string_view key,
                uint64_t expect, uint64_t loc) REQUIRES(s.mu);

  // Recovery: removes every tombstone slot of `s`.
  void DropTombstones(Shard& s) REQUIRES(s.mu);

  // Bulk recovery (IndexBuilder): the slot image of an entry, computed
  // while the entry is in cache so that inserting it later reads the log
  // only when another slot of its shard has the same position.
  static uint64_t RecoverySlot(const KeyHash& kh, uint64_t loc,
                               bool tombstone) {
    return MakeSlot(kh.pos(), loc, tombstone);
  }
  // Sizes the empty shard `s` so that `n` inserts never grow it (the size
  // incremental growth would reach). REQUIRES s.used == 0.
  void Presize(Shard& s, uint64_t n) REQUIRES(s.mu);
  // Shrinks `s` to the size incremental growth reaches for s.used keys
  // (after a Presize counted superseded entries and tombstones).
  void Fit(Shard& s) REQUIRES(s.mu);
  // Index snapshot load: `s` takes the slot table of a shard as it was
  // dumped (1 << bits slots, `used` of them in use; no tombstones).
  // REQUIRES s.used == 0.
  void Restore(Shard& s, uint32_t bits, uint64_t used, SlotTable slots)
      REQUIRES(s.mu);
  // Recovery: keeps the newer of the indexed entry and a RecoverySlot image;
  // `expire_at_ms` is the entry's expiry (0 = none), so a new key costs no log
  // read.
  uint64_t InsertNewestSlot(Shard& s, uint64_t slot, int64_t expire_at_ms,
                            bool* inserted) REQUIRES(s.mu);

  // Calls fn(loc) for each live (non-tombstone) slot of `s` whose position
  // lies in [lo, hi) where hi is the returned end of the covered range
  // (chosen so that ~`count` slots are visited; 1 << kPosBits at the end).
  uint32_t ScanRange(const Shard& s, uint32_t lo, size_t count,
                     const std::function<void(uint64_t)>& fn) const
      REQUIRES_SHARED(s.mu);

  // Calls fn(loc, tombstone) for every slot of `s`.
  void ForEach(const Shard& s,
               const std::function<void(uint64_t, bool)>& fn) const
      REQUIRES_SHARED(s.mu);

  void Clear(Shard& s) REQUIRES(s.mu);
  // DRAM bytes held by the index (slots and expiry sets).
  uint64_t MemoryBytes() const;

 private:
  static constexpr int kLocBits = 39;
  static constexpr uint64_t kLocMask = (1ull << kLocBits) - 1;
  static constexpr uint64_t kTombBit = 1ull << kLocBits;

  static uint64_t MakeSlot(uint32_t pos, uint64_t loc, bool tomb) {
    return uint64_t{pos} << 40 | (tomb ? kTombBit : 0) | (loc >> 3);
  }
  static uint32_t SlotPos(uint64_t s) { return static_cast<uint32_t>(s >> 40); }
  static uint64_t SlotLoc(uint64_t s) { return (s & kLocMask) << 3; }
  static bool SlotTomb(uint64_t s) { return (s & kTombBit) != 0; }
  static size_t Home(const Shard& s, uint32_t pos) REQUIRES_SHARED(s.mu) {
    return pos >> (kPosBits - s.bits);
  }

  // Slot index holding `key`, or -1.
  int64_t Probe(const Shard& s, const KeyHash& kh, std::string_view key) const
      REQUIRES_SHARED(s.mu);
  bool KeyAt(uint64_t loc, std::string_view key) const;
  void InsertSlot(Shard& s, uint64_t slot) REQUIRES(s.mu);
  void EraseAt(Shard& s, size_t i) REQUIRES(s.mu);
  void Grow(Shard& s) REQUIRES(s.mu);
  // Moves every slot into a fresh table of 1 << bits slots.
  void Rehash(Shard& s, uint32_t bits) REQUIRES(s.mu);
  // Call after every change of s.slots' buffer or s.bits.
  void UpdateHint(Shard& s) REQUIRES(s.mu) {
    Hint& h = hints_[&s - shards_.get()];
    h.slots.store(s.slots.data(), std::memory_order_relaxed);
    h.shift.store(kPosBits - s.bits, std::memory_order_relaxed);
  }
  void TrackExpiry(Shard& s, uint64_t old_loc, bool old_tomb, uint64_t new_loc,
                   bool new_tomb) REQUIRES(s.mu);

  // Lock-free copy of a shard's (slots.data(), kPosBits - bits) for
  // PrefetchSlot: only ever used as a prefetch address, so staleness is
  // harmless. Apart from the shards, whose second cache line it would
  // otherwise take: 16 KiB that stay cached, where the shards (lock, table,
  // expiry set) do not.
  struct Hint {
    std::atomic<const uint64_t*> slots{nullptr};
    std::atomic<uint32_t> shift{0};
  };

  const char* base_;
  std::unique_ptr<Shard[]> shards_;
  std::unique_ptr<Hint[]> hints_;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_INDEX_H_
