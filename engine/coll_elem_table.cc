#include "engine/coll_elem_table.h"

#include <algorithm>
#include <cstring>

namespace daxkv::engine::coll {

namespace {
constexpr uint32_t kMinTableBits = 4;

// Table bits for n elements at load <= 1/2 (room to grow before the next
// doubling at 3/4).
uint32_t BitsFor(uint64_t n) {
  uint32_t bits = kMinTableBits;
  while ((uint64_t{1} << bits) < n * 2) ++bits;
  return bits;
}
}  // namespace

ElemTable& ElemTable::operator=(ElemTable&& o) noexcept {
  if (this != &o) {
    delete[] slots_;
    slots_ = std::exchange(o.slots_, nullptr);
    cap_ = std::exchange(o.cap_, 0);
    size_ = std::exchange(o.size_, 0);
    bits_ = std::exchange(o.bits_, 0);
  }
  return *this;
}

void ElemTable::Clear() {
  delete[] slots_;
  slots_ = nullptr;
  cap_ = size_ = 0;
  bits_ = 0;
}

uint64_t ElemTable::DenseLowerBound(uint32_t pos) const {
  return static_cast<uint64_t>(
      std::lower_bound(slots_, slots_ + size_, uint64_t{pos} << 40) - slots_);
}

int64_t ElemTable::Locate(const ElemSource& src, uint32_t pos,
                          std::string_view subkey, uint64_t* insert_at) const {
  if (dense()) {
    uint64_t i = DenseLowerBound(pos);
    for (; i < size_ && SlotPos(slots_[i]) == pos; ++i) {
      if (src.Subkey(SlotLoc(slots_[i])) == subkey) return int64_t(i);
    }
    if (insert_at != nullptr) *insert_at = i;
    return -1;
  }
  for (uint64_t i = Home(pos);; i = (i + 1) & mask()) {
    const uint64_t s = slots_[i];
    if (s == 0) return -1;
    if (SlotPos(s) == pos && src.Subkey(SlotLoc(s)) == subkey) {
      return int64_t(i);
    }
  }
}

int64_t ElemTable::LocateLoc(uint32_t pos, uint64_t loc) const {
  const uint64_t want = MakeSlot(pos, loc);
  if (dense()) {
    for (uint64_t i = DenseLowerBound(pos);
         i < size_ && SlotPos(slots_[i]) == pos; ++i) {
      if (slots_[i] == want) return int64_t(i);
    }
    return -1;
  }
  for (uint64_t i = Home(pos);; i = (i + 1) & mask()) {
    if (slots_[i] == 0) return -1;
    if (slots_[i] == want) return int64_t(i);
  }
}

uint64_t ElemTable::Find(const ElemSource& src, std::string_view subkey) const {
  if (size_ == 0) return 0;
  const int64_t i = Locate(src, Pos(src.Hash(subkey)), subkey);
  return i < 0 ? 0 : SlotLoc(slots_[i]);
}

bool ElemTable::IndexedAt(const ElemSource& src, std::string_view subkey,
                          uint64_t loc) const {
  return size_ != 0 && LocateLoc(Pos(src.Hash(subkey)), loc) >= 0;
}

uint64_t ElemTable::Upsert(const ElemSource& src, std::string_view subkey,
                           uint64_t loc) {
  const uint64_t hash = src.Hash(subkey);
  if (size_ != 0) {
    const int64_t i = Locate(src, Pos(hash), subkey);
    if (i >= 0) {
      const uint64_t old = SlotLoc(slots_[i]);
      slots_[i] = MakeSlot(Pos(hash), loc);
      return old;
    }
  }
  InsertUnique(hash, loc);
  return 0;
}

bool ElemTable::Relocate(const ElemSource& src, std::string_view subkey,
                         uint64_t old_loc, uint64_t new_loc) {
  if (size_ == 0) return false;
  const uint32_t pos = Pos(src.Hash(subkey));
  const int64_t i = LocateLoc(pos, old_loc);
  if (i < 0) return false;
  slots_[i] = MakeSlot(pos, new_loc);
  return true;
}

void ElemTable::Reserve(uint64_t n) {
  if (n <= kDenseMax) {
    if (dense() && n > cap_) Reshape(0, n);
    return;
  }
  const uint32_t bits = BitsFor(n);
  if (bits > bits_) Reshape(bits);
}

void ElemTable::AssignPacked(const uint64_t* packed, uint64_t n) {
  Clear();
  if (n > kDenseMax) {
    Reserve(n);
    for (uint64_t i = 0; i < n; ++i) InsertPacked(packed[i]);
    return;
  }
  Reshape(0, n);
  std::copy(packed, packed + n, slots_);
  // The dense form is in position order; a table's slots nearly are.
  if (!std::is_sorted(slots_, slots_ + n)) std::sort(slots_, slots_ + n);
  size_ = n;
}

void ElemTable::InsertUnique(uint64_t hash, uint64_t loc) {
  const uint64_t slot = MakeSlot(Pos(hash), loc);
  if (dense() && size_ < kDenseMax) {
    if (size_ == cap_) Reshape(0, cap_ + std::max<uint64_t>(4, cap_ / 8));
    // After the slots of equal position (none follow the last position);
    // recovery inserts in hash order, hence the test for the end first.
    const uint32_t pos = Pos(hash);
    const uint64_t i =
        size_ == 0 || SlotPos(slots_[size_ - 1]) <= pos || pos + 1 == kCursorEnd
            ? size_
            : DenseLowerBound(pos + 1);
    std::memmove(slots_ + i + 1, slots_ + i, (size_ - i) * 8);
    slots_[i] = slot;
    ++size_;
    return;
  }
  if (dense()) {
    Reshape(BitsFor(size_ + 1));
  } else if ((size_ + 1) * 4 > cap_ * 3) {
    Reshape(bits_ + 1);
  }
  TableInsert(slot);
  ++size_;
}

void ElemTable::TableInsert(uint64_t slot) {
  uint64_t i = Home(SlotPos(slot));
  while (slots_[i] != 0) i = (i + 1) & mask();
  slots_[i] = slot;
}

uint64_t ElemTable::Erase(const ElemSource& src, std::string_view subkey) {
  if (size_ == 0) return 0;
  const int64_t i = Locate(src, Pos(src.Hash(subkey)), subkey);
  if (i < 0) return 0;
  const uint64_t loc = SlotLoc(slots_[i]);
  EraseAt(uint64_t(i));
  return loc;
}

bool ElemTable::EraseIndexed(const ElemSource& src, std::string_view subkey,
                             uint64_t loc) {
  if (size_ == 0) return false;
  const int64_t i = LocateLoc(Pos(src.Hash(subkey)), loc);
  if (i < 0) return false;
  EraseAt(uint64_t(i));
  return true;
}

void ElemTable::EraseAt(uint64_t i) {
  --size_;
  if (dense()) {
    std::memmove(slots_ + i, slots_ + i + 1, (size_ - i) * 8);
    if (cap_ > 8 && size_ < cap_ / 2) Reshape(0, size_ + size_ / 4 + 1);
    return;
  }
  // Backward shift: every element stays between its home and the first
  // empty slot after it, which Locate() and Scan() rely on.
  for (uint64_t j = i;;) {
    j = (j + 1) & mask();
    const uint64_t s = slots_[j];
    if (s == 0) break;
    const uint64_t k = Home(SlotPos(s));
    if (j > i ? (k <= i || k > j) : (k <= i && k > j)) {
      slots_[i] = s;
      i = j;
    }
  }
  slots_[i] = 0;
  if (size_ < kDenseMax / 2) {
    Reshape(0, size_ + size_ / 4 + 1);
  } else if (size_ * 16 < cap_ * 3 && bits_ > kMinTableBits) {
    Reshape(bits_ - 1);
  }
}

void ElemTable::Reshape(uint32_t bits, uint64_t dense_cap) {
  uint64_t* old = slots_;
  const uint64_t old_cap = cap_;
  const uint64_t n = size_;
  const bool was_dense = dense();
  bits_ = bits;
  cap_ = bits == 0 ? std::max(dense_cap, n) : uint64_t{1} << bits;
  slots_ = cap_ == 0 ? nullptr : new uint64_t[cap_]();
  if (was_dense && bits == 0) {
    std::copy(old, old + n, slots_);
  } else if (bits != 0) {
    for (uint64_t i = 0; i < old_cap; ++i) {
      if (old[i] != 0) TableInsert(old[i]);
    }
  } else {  // table -> dense: the slots in position order
    uint64_t k = 0;
    for (uint64_t i = 0; i < old_cap; ++i) {
      if (old[i] != 0) slots_[k++] = old[i];
    }
    std::sort(slots_, slots_ + n);
  }
  delete[] old;
}

uint64_t ElemTable::TableScanEnd(uint32_t lo, size_t count) const {
  const uint64_t b_end = std::min(cap_, Home(lo) + count);
  if (b_end == cap_) return kCursorEnd;
  if (bits_ <= kPosBits) return b_end << (kPosBits - bits_);
  // Several slots per position: round up, and always make progress.
  const uint32_t shift = bits_ - kPosBits;
  return std::max<uint64_t>(lo + 1, (b_end + (1ull << shift) - 1) >> shift);
}

}  // namespace daxkv::engine::coll
