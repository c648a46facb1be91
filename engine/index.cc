#include "engine/index.h"

#include <cstring>

#include "engine/format.h"

namespace daxkv::engine {

namespace {
constexpr uint32_t kInitialBits = 4;
}  // namespace

Index::Index(const char* base)
    : base_(base),
      shards_(new Shard[kShardCount]),
      hints_(new Hint[kShardCount]) {
  for (uint32_t i = 0; i < kShardCount; ++i) {
    WriteLock l(shards_[i].mu);  // uncontended: nobody sees the index yet
    Clear(shards_[i]);
  }
}

void Index::Clear(Shard& s) {
  s.bits = kInitialBits;
  s.slots.assign(size_t{1} << kInitialBits, 0);
  s.slots.shrink_to_fit();
  UpdateHint(s);
  s.used = 0;
  s.tombstones = 0;
  s.expiring.clear();
}

bool Index::KeyAt(uint64_t loc, std::string_view key) const {
  const char* e = base_ + loc;
  uint32_t len = format::Load32(e + 4);
  return len == key.size() &&
         std::memcmp(e + format::kEntryHeaderSize, key.data(), len) == 0;
}

int64_t Index::Probe(const Shard& s, const KeyHash& kh,
                     std::string_view key) const {
  const size_t mask = s.slots.size() - 1;
  const uint32_t pos = kh.pos();
  for (size_t i = Home(s, pos);; i = (i + 1) & mask) {
    uint64_t slot = s.slots[i];
    if (slot == 0) return -1;
    if (SlotPos(slot) == pos && KeyAt(SlotLoc(slot), key)) {
      return static_cast<int64_t>(i);
    }
  }
}

IndexHit Index::Find(const Shard& s, const KeyHash& kh,
                     std::string_view key) const {
  int64_t i = Probe(s, kh, key);
  if (i < 0) return {};
  return {SlotLoc(s.slots[i]), SlotTomb(s.slots[i])};
}

uint64_t Index::Candidate(const Shard& s, const KeyHash& kh) const {
  const size_t mask = s.slots.size() - 1;
  const uint32_t pos = kh.pos();
  for (size_t i = Home(s, pos);; i = (i + 1) & mask) {
    uint64_t slot = s.slots[i];
    if (slot == 0) return 0;
    if (SlotPos(slot) == pos) return SlotLoc(slot);
  }
}

bool Index::IndexedAt(const Shard& s, const KeyHash& kh, uint64_t loc) const {
  const size_t mask = s.slots.size() - 1;
  const uint32_t pos = kh.pos();
  for (size_t i = Home(s, pos);; i = (i + 1) & mask) {
    uint64_t slot = s.slots[i];
    if (slot == 0) return false;
    if (SlotPos(slot) == pos && SlotLoc(slot) == loc) return true;
  }
}

void Index::InsertSlot(Shard& s, uint64_t slot) {
  if ((s.used + 1) * 4 > s.slots.size() * 3 && s.bits < kPosBits) Grow(s);
  const size_t mask = s.slots.size() - 1;
  size_t i = Home(s, SlotPos(slot));
  while (s.slots[i] != 0) i = (i + 1) & mask;
  s.slots[i] = slot;
  ++s.used;
}

void Index::Grow(Shard& s) { Rehash(s, s.bits + 1); }

void Index::Rehash(Shard& s, uint32_t bits) {
  SlotTable old;
  old.swap(s.slots);
  s.bits = bits;
  s.slots.assign(size_t{1} << bits, 0);
  UpdateHint(s);
  s.used = 0;
  for (uint64_t slot : old) {
    if (slot != 0) InsertSlot(s, slot);
  }
}

void Index::EraseAt(Shard& s, size_t i) {
  // Backward-shift deletion keeps every key between its home and the first
  // empty slot, which Probe() and ScanRange() rely on.
  const size_t mask = s.slots.size() - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    uint64_t slot = s.slots[j];
    if (slot == 0) break;
    size_t k = Home(s, SlotPos(slot));
    bool movable = (j > i) ? (k <= i || k > j) : (k <= i && k > j);
    if (movable) {
      s.slots[i] = slot;
      i = j;
    }
  }
  s.slots[i] = 0;
  --s.used;
}

void Index::TrackExpiry(Shard& s, uint64_t old_loc, bool old_tomb,
                        uint64_t new_loc, bool new_tomb) {
  if (old_loc != 0 && !old_tomb) {
    int64_t exp = format::LoadEntry(base_ + old_loc).expire_at_ms;
    if (exp != 0) s.expiring.erase({exp, old_loc});
  }
  if (new_loc != 0 && !new_tomb) {
    int64_t exp = format::LoadEntry(base_ + new_loc).expire_at_ms;
    if (exp != 0) s.expiring.emplace(exp, new_loc);
  }
}

IndexHit Index::Upsert(Shard& s, const KeyHash& kh, std::string_view key,
                       uint64_t loc, bool tombstone) {
  int64_t i = Probe(s, kh, key);
  uint64_t slot = MakeSlot(kh.pos(), loc, tombstone);
  if (i < 0) {
    InsertSlot(s, slot);
    if (tombstone) ++s.tombstones;
    TrackExpiry(s, 0, false, loc, tombstone);
    return {};
  }
  IndexHit prev{SlotLoc(s.slots[i]), SlotTomb(s.slots[i])};
  s.tombstones += (tombstone ? 1 : 0) - (prev.tombstone ? 1 : 0);
  s.slots[i] = slot;
  TrackExpiry(s, prev.loc, prev.tombstone, loc, tombstone);
  return prev;
}

IndexHit Index::Erase(Shard& s, const KeyHash& kh, std::string_view key) {
  int64_t i = Probe(s, kh, key);
  if (i < 0) return {};
  IndexHit prev{SlotLoc(s.slots[i]), SlotTomb(s.slots[i])};
  if (prev.tombstone) --s.tombstones;
  TrackExpiry(s, prev.loc, prev.tombstone, 0, false);
  EraseAt(s, static_cast<size_t>(i));
  return prev;
}

bool Index::Relocate(Shard& s, const KeyHash& kh, std::string_view key,
                     uint64_t expect, uint64_t loc) {
  int64_t i = Probe(s, kh, key);
  if (i < 0 || SlotLoc(s.slots[i]) != expect) return false;
  bool tomb = SlotTomb(s.slots[i]);
  s.slots[i] = MakeSlot(kh.pos(), loc, tomb);
  TrackExpiry(s, expect, tomb, loc, tomb);
  return true;
}

namespace {
// Table bits growth reaches for n keys (load <= 3/4).
uint32_t BitsFor(uint64_t n) {
  uint32_t bits = kInitialBits;
  while (n * 4 > (uint64_t{1} << bits) * 3 && bits < kPosBits) ++bits;
  return bits;
}
}  // namespace

void Index::Presize(Shard& s, uint64_t n) {
  s.bits = BitsFor(n);
  s.slots.assign(size_t{1} << s.bits, 0);
  UpdateHint(s);
}

void Index::Restore(Shard& s, uint32_t bits, uint64_t used, SlotTable slots) {
  s.bits = bits;
  s.slots = std::move(slots);
  s.used = used;
  s.tombstones = 0;
  UpdateHint(s);
}

void Index::Fit(Shard& s) {
  const uint32_t bits = BitsFor(s.used);
  if (bits < s.bits) Rehash(s, bits);
}

uint64_t Index::InsertNewestSlot(Shard& s, uint64_t slot, int64_t expire_at_ms,
                                 bool* inserted) {
  const uint64_t loc = SlotLoc(slot);
  const uint32_t pos = SlotPos(slot);
  const size_t mask = s.slots.size() - 1;
  *inserted = true;
  for (size_t i = Home(s, pos);; i = (i + 1) & mask) {
    const uint64_t cur = s.slots[i];
    if (cur == 0) break;
    if (SlotPos(cur) != pos) continue;
    const format::EntryHeader ne = format::LoadEntry(base_ + loc);
    const uint64_t cur_loc = SlotLoc(cur);
    if (!KeyAt(cur_loc, std::string_view(base_ + loc + format::kEntryHeaderSize,
                                         ne.key_len))) {
      continue;
    }
    if (ne.seq <= format::LoadEntry(base_ + cur_loc).seq) {
      *inserted = false;
      return loc;
    }
    s.tombstones += (SlotTomb(slot) ? 1 : 0) - (SlotTomb(cur) ? 1 : 0);
    s.slots[i] = slot;
    TrackExpiry(s, cur_loc, SlotTomb(cur), loc, SlotTomb(slot));
    return cur_loc;
  }
  InsertSlot(s, slot);
  if (SlotTomb(slot)) {
    ++s.tombstones;
  } else if (expire_at_ms != 0) {
    s.expiring.emplace(expire_at_ms, loc);
  }
  return 0;
}

void Index::DropTombstones(Shard& s) {
  if (s.tombstones == 0) return;
  std::vector<uint64_t> keep;
  keep.reserve(s.used - s.tombstones);
  for (uint64_t slot : s.slots) {
    if (slot != 0 && !SlotTomb(slot)) keep.push_back(slot);
  }
  std::fill(s.slots.begin(), s.slots.end(), 0);
  s.used = 0;
  s.tombstones = 0;
  for (uint64_t slot : keep) InsertSlot(s, slot);
}

uint32_t Index::ScanRange(const Shard& s, uint32_t lo, size_t count,
                          const std::function<void(uint64_t)>& fn) const {
  const size_t size = s.slots.size();
  const size_t mask = size - 1;
  const size_t b_start = Home(s, lo);
  const size_t b_end = std::min(size, b_start + std::max<size_t>(count, 1));
  const uint64_t hi = b_end == size ? (uint64_t{1} << kPosBits)
                                    : uint64_t{b_end} << (kPosBits - s.bits);
  // A key homed in [b_start, b_end) sits between its home and the first
  // empty slot after it, so walking to the first empty slot at or past
  // b_end finds them all (wrapping at the table's end).
  for (size_t p = b_start; p < b_start + size; ++p) {
    uint64_t slot = s.slots[p & mask];
    if (slot == 0) {
      if (p >= b_end) break;
      continue;
    }
    uint32_t pos = SlotPos(slot);
    if (!SlotTomb(slot) && pos >= lo && pos < hi) fn(SlotLoc(slot));
  }
  return static_cast<uint32_t>(hi);
}

void Index::ForEach(const Shard& s,
                    const std::function<void(uint64_t, bool)>& fn) const {
  for (uint64_t slot : s.slots) {
    if (slot != 0) fn(SlotLoc(slot), SlotTomb(slot));
  }
}

uint64_t Index::MemoryBytes() const {
  uint64_t n = sizeof(Shard) * kShardCount;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Shard& s = shards_[i];
    ReadLock l(s.mu);
    n += s.slots.capacity() * sizeof(uint64_t) + s.expiring.size() * 64;
  }
  return n;
}

}  // namespace daxkv::engine
