// TxnTombs: a Txn's element tombstones by (collection, subkey), so that a
// later put of the element in the same Txn supersedes its tombstone
// (TxnImpl::PutElem). The subkey bytes are not copied: each tombstone's
// are in the Txn's image, at an offset that stays valid as the image grows.
// A flat open-addressing table: a pipelined run of pops adds one entry per
// command, and a node and a string per entry cost more than the pops'
// own index work.
//
// Thread-safety: none (a Txn is one thread's).
#ifndef DAXKV_ENGINE_TXN_TOMBS_H_
#define DAXKV_ENGINE_TXN_TOMBS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine {

struct Collection;

class TxnTombs {
 public:
  // A tombstone: its sub-entry's index in the Txn, and where its subkey
  // lies in the image.
  struct Tomb {
    int32_t sub = -1;  // -1: an empty slot
    uint32_t key_len = 0;
    uint64_t key_off = 0;
    Collection* coll = nullptr;
    uint64_t hash = 0;
  };

  bool empty() const { return size_ == 0; }
  size_t capacity() const { return slots_.size(); }
  void clear() {
    slots_.assign(slots_.size(), Tomb{});
    size_ = 0;
  }

  // Adds the tombstone sub-entry `sub`, at `sub_off` in `image`.
  // REQUIRES: no tombstone of (coll, its subkey) is present.
  void Add(const std::string& image, Collection* coll, uint64_t sub_off,
           int32_t sub) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    const std::string_view key = SubKey(image, sub_off);
    const uint64_t key_off = sub_off + format::kEntryHeaderSize;
    const uint32_t key_len = static_cast<uint32_t>(key.size());
    const uint64_t h = Hash(coll, key);
    const size_t mask = slots_.size() - 1;
    size_t i = h & mask;
    while (slots_[i].sub >= 0) i = (i + 1) & mask;
    slots_[i] = Tomb{sub, key_len, key_off, coll, h};
    ++size_;
  }
  // Removes (coll, subkey)'s tombstone and returns its sub-entry index;
  // -1 when there is none.
  int32_t Take(const std::string& image, Collection* coll,
               std::string_view subkey) {
    const size_t i = Slot(image, coll, subkey);
    if (i == kNone) return -1;
    const int32_t sub = slots_[i].sub;
    EraseSlot(i);
    return sub;
  }
  // Removes the tombstone sub-entry at `sub_off` in `image` (Add's undo).
  void Remove(const std::string& image, Collection* coll, uint64_t sub_off) {
    Take(image, coll, SubKey(image, sub_off));
  }

 private:
  static constexpr size_t kNone = ~size_t{0};

  static std::string_view Key(const std::string& image, uint64_t off,
                              uint32_t len) {
    return std::string_view(image).substr(off, len);
  }
  static std::string_view SubKey(const std::string& image, uint64_t sub_off) {
    return Key(image, sub_off + format::kEntryHeaderSize,
               format::LoadEntry(image.data() + sub_off).key_len);
  }
  static uint64_t Hash(Collection* coll, std::string_view subkey) {
    const uint64_t h = std::hash<std::string_view>()(subkey) ^
                       reinterpret_cast<uintptr_t>(coll);
    return h * 0x9E3779B97F4A7C15ull;
  }
  size_t Slot(const std::string& image, Collection* coll,
              std::string_view subkey) const {
    if (size_ == 0) return kNone;
    const uint64_t h = Hash(coll, subkey);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask; slots_[i].sub >= 0; i = (i + 1) & mask) {
      const Tomb& t = slots_[i];
      if (t.hash == h && t.coll == coll &&
          Key(image, t.key_off, t.key_len) == subkey) {
        return i;
      }
    }
    return kNone;
  }
  // Backward-shift deletion: later entries of the probe run move up, so no
  // deleted markers are needed.
  void EraseSlot(size_t hole) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = (hole + 1) & mask; slots_[i].sub >= 0; i = (i + 1) & mask) {
      const size_t home = slots_[i].hash & mask;
      // Movable when its home is not in (hole, i], cyclically.
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = Tomb{};
    --size_;
  }
  void Grow() {
    std::vector<Tomb> old;
    old.swap(slots_);
    slots_.resize(old.empty() ? 16 : old.size() * 2);
    const size_t mask = slots_.size() - 1;
    for (const Tomb& t : old) {
      if (t.sub < 0) continue;
      size_t i = t.hash & mask;
      while (slots_[i].sub >= 0) i = (i + 1) & mask;
      slots_[i] = t;
    }
  }

  std::vector<Tomb> slots_;  // a power of two, at most half used
  size_t size_ = 0;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_TXN_TOMBS_H_
