// ElemTable: the element index of a hash or a set (field / member ->
// element location), and the member index of a large sorted set. It holds
// no subkey bytes: an 8-byte slot packs the top 24 bits of the subkey's hash
// (its *position*) and the location / 8; subkeys are compared on the medium
// through an ElemSource, only for slots of equal position.
//
// Two forms, switched by size so that DRAM stays proportional:
//   * dense (up to kDenseMax elements): the slots in an array sorted by
//     position, grown a quarter at a time: ~9 bytes per element;
//   * table (above): open addressing with linear probing, homes in position
//     order, backward-shift deletion, load kept in [3/16, 3/4]: 10.7-21
//     bytes per element between doublings (the engine's key Index uses the
//     same scheme). Shrinking below kDenseMax / 2 returns to dense.
//
// Cursor scans (HSCAN, SSCAN, ZSCAN of a large zset) walk position ranges,
// and positions depend only on the subkey: an element present for the whole
// scan is returned exactly once, whatever the inserts, deletes, growth,
// shrinking or form changes in between. Sample() is uniform over elements.
//
// Beyond 2^24 elements several elements share each position; lookups then
// compare about size / 2^24 subkeys on the medium (Redis allows 2^32).
//
// Thread-safety: none; the collection's lock serialises writers against
// readers. Const methods may run concurrently with each other.
#ifndef DAXKV_ENGINE_COLL_ELEM_TABLE_H_
#define DAXKV_ENGINE_COLL_ELEM_TABLE_H_

#include <cstdint>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/coll_loc.h"

namespace daxkv::engine::coll {

class ElemTable {
 public:
  static constexpr uint64_t kDenseMax = 128;
  static constexpr int kPosBits = 24;
  static constexpr uint64_t kCursorEnd = uint64_t{1} << kPosBits;

  ElemTable() = default;
  ElemTable(const ElemTable&) = delete;
  ElemTable& operator=(const ElemTable&) = delete;
  ElemTable(ElemTable&& o) noexcept { *this = std::move(o); }
  ElemTable& operator=(ElemTable&& o) noexcept;
  ~ElemTable() { delete[] slots_; }

  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool dense() const { return bits_ == 0; }
  uint64_t MemoryBytes() const { return sizeof(*this) + cap_ * 8; }

  // The location of `subkey`, or 0.
  uint64_t Find(const ElemSource& src, std::string_view subkey) const;
  // Hints for the Find of a subkey of hash `hash` (ElemSource::Hash):
  // PrefetchSlot starts loading the line its search starts at;
  // ForCandidates, once that line has arrived, calls fn(loc) for the first
  // slots of the search whose position matches, the entries Find will
  // read. Nothing for the dense form (small, and searched by bisection).
  void PrefetchSlot(uint64_t hash) const {
    if (!dense()) __builtin_prefetch(&slots_[Home(Pos(hash))]);
  }
  // PrefetchSlot as a load, whose value the caller sinks: a large table's
  // slots also miss the TLB, and a software prefetch that does may be
  // dropped, where independent loads overlap their page walks.
  uint64_t LoadSlot(uint64_t hash) const {
    return dense() ? 0 : slots_[Home(Pos(hash))];
  }
  template <typename Fn>
  void ForCandidates(uint64_t hash, Fn&& fn) const {
    if (dense()) return;
    const uint32_t pos = Pos(hash);
    uint64_t i = Home(pos);
    for (int n = 0; n < 4 && slots_[i] != 0; ++n, i = (i + 1) & mask()) {
      if (SlotPos(slots_[i]) == pos) fn(SlotLoc(slots_[i]));
    }
  }
  // Points `subkey` at `loc`; returns the location it replaced (0: new).
  uint64_t Upsert(const ElemSource& src, std::string_view subkey,
                  uint64_t loc);
  // Removes `subkey`; returns its location (0: absent).
  uint64_t Erase(const ElemSource& src, std::string_view subkey);
  // Moves `subkey` from `old_loc` to `new_loc` if it is at `old_loc` now;
  // compares locations only (no subkey reads). Returns whether it did.
  bool Relocate(const ElemSource& src, std::string_view subkey,
                uint64_t old_loc, uint64_t new_loc);
  // Removes `subkey` if it is at `loc`, comparing locations only (the
  // caller read the subkey from `loc`). Returns whether it did.
  bool EraseIndexed(const ElemSource& src, std::string_view subkey,
                    uint64_t loc);
  // Whether `subkey` is indexed at exactly `loc` (compaction's liveness).
  bool IndexedAt(const ElemSource& src, std::string_view subkey,
                 uint64_t loc) const;

  // Recovery's bulk path: room for `n` elements, and inserting a location
  // whose subkey hashes to `hash` without looking for an equal subkey.
  // REQUIRES (InsertUnique): no element with that subkey is indexed.
  void Reserve(uint64_t n);
  void InsertUnique(uint64_t hash, uint64_t loc);

  // Calls fn(loc) for the elements of positions [cursor, next) where next
  // is chosen so that about `count` slots are visited (at least one
  // position); returns next, or 0 when the scan is complete. Start with 0.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, size_t count, Fn&& fn) const;
  // A uniformly random element's location. REQUIRES: !empty().
  template <typename Rng>
  uint64_t Sample(Rng& rng) const;
  // min(k, size()) distinct elements, uniformly (each k-subset equally
  // likely), appended to *out in no particular order.
  template <typename Rng>
  void SampleDistinct(uint64_t k, Rng& rng, std::vector<uint64_t>* out) const;
  // The clean-close snapshot's form of an element (index_snapshot.h): one
  // word holding a position (24 bits of the subkey's hash, or any 24-bit
  // tag) and a location, as a slot holds them.
  static uint64_t Pack(uint32_t pos, uint64_t loc) {
    return MakeSlot(pos, loc);
  }
  static uint32_t PackedPos(uint64_t packed) { return SlotPos(packed); }
  static uint64_t PackedLoc(uint64_t packed) { return SlotLoc(packed); }
  // Calls fn(packed) for every element, in no particular order.
  template <typename Fn>
  void ForEachPacked(Fn&& fn) const {
    const uint64_t n = dense() ? size_ : cap_;  // dense: past size_ is stale
    for (uint64_t i = 0; i < n; ++i) {
      if (slots_[i] != 0) fn(slots_[i]);
    }
  }
  // Restores an element ForEachPacked gave. REQUIRES: as InsertUnique.
  void InsertPacked(uint64_t packed) {
    InsertUnique(uint64_t{SlotPos(packed)} << (64 - kPosBits), SlotLoc(packed));
  }
  // Replaces the contents with the n elements ForEachPacked gave: up to
  // kDenseMax, one copy and (if they are out of order) a sort.
  void AssignPacked(const uint64_t* packed, uint64_t n);
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    ForEachPacked([&](uint64_t slot) { fn(SlotLoc(slot)); });
  }
  void Clear();

 private:
  static uint32_t Pos(uint64_t hash) {
    return static_cast<uint32_t>(hash >> (64 - kPosBits));
  }
  static uint64_t MakeSlot(uint32_t pos, uint64_t loc) {
    return uint64_t{pos} << 40 | loc >> 3;
  }
  static uint32_t SlotPos(uint64_t s) { return static_cast<uint32_t>(s >> 40); }
  static uint64_t SlotLoc(uint64_t s) { return (s & ((1ull << 40) - 1)) << 3; }
  uint64_t mask() const { return cap_ - 1; }
  uint64_t Home(uint32_t pos) const {
    return bits_ <= kPosBits ? pos >> (kPosBits - bits_)
                             : uint64_t{pos} << (bits_ - kPosBits);
  }
  // Slot index of `subkey` (of position `pos`), or -1. For the dense form
  // *insert_at is where it would go.
  int64_t Locate(const ElemSource& src, uint32_t pos, std::string_view subkey,
                 uint64_t* insert_at = nullptr) const;
  int64_t LocateLoc(uint32_t pos, uint64_t loc) const;
  uint64_t DenseLowerBound(uint32_t pos) const;
  void EraseAt(uint64_t i);
  void TableInsert(uint64_t slot);
  // Moves every slot into a table of 1 << bits (0: the dense form).
  void Reshape(uint32_t bits, uint64_t dense_cap = 0);
  // Positions [lo, hi) of a table scan starting at `lo`.
  uint64_t TableScanEnd(uint32_t lo, size_t count) const;

  uint64_t* slots_ = nullptr;
  uint64_t cap_ = 0;   // slots allocated (table: 1 << bits_)
  uint64_t size_ = 0;  // elements
  uint32_t bits_ = 0;  // 0 = dense
};

template <typename Fn>
uint64_t ElemTable::Scan(uint64_t cursor, size_t count, Fn&& fn) const {
  if (cursor >= kCursorEnd || size_ == 0) return 0;
  const auto lo = static_cast<uint32_t>(cursor);
  count = count == 0 ? 1 : count;
  if (dense()) {
    uint64_t i = DenseLowerBound(lo);
    for (size_t taken = 0; i < size_; ++i, ++taken) {
      // A position is never split across pages.
      if (taken >= count && SlotPos(slots_[i]) != SlotPos(slots_[i - 1])) {
        break;
      }
      fn(SlotLoc(slots_[i]));
    }
    return i < size_ ? SlotPos(slots_[i]) : 0;
  }
  const uint64_t hi = TableScanEnd(lo, count);
  const uint64_t walk_end = hi >= kCursorEnd ? cap_ : Home(uint32_t(hi));
  // An element homed in [Home(lo), walk_end) sits between its home and the
  // first empty slot after it (wrapping at the end of the table).
  for (uint64_t p = Home(lo); p < Home(lo) + cap_; ++p) {
    const uint64_t s = slots_[p & mask()];
    if (s == 0) {
      if (p >= walk_end) break;
      continue;
    }
    if (SlotPos(s) >= lo && SlotPos(s) < hi) fn(SlotLoc(s));
  }
  return hi >= kCursorEnd ? 0 : hi;
}

template <typename Rng>
uint64_t ElemTable::Sample(Rng& rng) const {
  if (dense()) return SlotLoc(slots_[rng() % size_]);
  // Load is at least 3/16: a handful of draws, each element equally likely.
  for (;;) {
    const uint64_t s = slots_[rng() & mask()];
    if (s != 0) return SlotLoc(s);
  }
}

template <typename Rng>
void ElemTable::SampleDistinct(uint64_t k, Rng& rng,
                               std::vector<uint64_t>* out) const {
  if (k >= size_) {
    ForEach([&](uint64_t loc) { out->push_back(loc); });
    return;
  }
  if (k * 2 <= size_) {  // rejection of repeats: few collisions
    std::unordered_set<uint64_t> picked;
    picked.reserve(k);
    while (picked.size() < k) {
      const uint64_t i = dense() ? rng() % size_ : rng() & mask();
      if (slots_[i] != 0 && picked.insert(i).second) {
        out->push_back(SlotLoc(slots_[i]));
      }
    }
    return;
  }
  // Selection sampling (Knuth's Algorithm S): one pass.
  uint64_t left = size_, need = k;
  ForEach([&](uint64_t loc) {
    if (need > 0 && rng() % left < need) {
      out->push_back(loc);
      --need;
    }
    --left;
  });
}

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_ELEM_TABLE_H_
