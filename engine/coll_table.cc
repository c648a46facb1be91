#include "engine/coll_table.h"

#include <cassert>

namespace daxkv::engine {

namespace {
constexpr size_t kInitialSlots = 16;
}  // namespace

CollTable::CollTable() : shards_(new Shard[kShards]) {
  for (uint32_t i = 0; i < kShards; ++i) {
    WriteLock l(shards_[i].mu);
    shards_[i].slots.assign(kInitialSlots, nullptr);
  }
}

int64_t CollTable::Probe(const Shard& s, uint64_t h, uint64_t id) {
  const size_t mask = s.slots.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Collection* c = s.slots[i];
    if (c == nullptr) return -1;
    if (c->id == id) return static_cast<int64_t>(i);
  }
}

void CollTable::Place(Shard& s, Collection* c) {
  const size_t mask = s.slots.size() - 1;
  size_t i = Hash(c->id) & mask;
  while (s.slots[i] != nullptr) i = (i + 1) & mask;
  s.slots[i] = c;
}

void CollTable::Grow(Shard& s) {
  std::vector<Collection*> old(s.slots.size() * 2, nullptr);
  old.swap(s.slots);
  for (Collection* c : old) {
    if (c != nullptr) Place(s, c);
  }
}

void CollTable::Insert(Collection* c) {
  const uint64_t h = Hash(c->id);
  Shard& s = ShardOf(h);
  WriteLock l(s.mu);
  assert(Probe(s, h, c->id) < 0);
  if ((s.used + 1) * 4 > s.slots.size() * 3) Grow(s);
  Place(s, c);
  ++s.used;
}

Collection* CollTable::Remove(uint64_t id) {
  const uint64_t h = Hash(id);
  Shard& s = ShardOf(h);
  WriteLock l(s.mu);
  int64_t at = Probe(s, h, id);
  if (at < 0) return nullptr;
  Collection* found = s.slots[at];
  // Backward-shift deletion: every entry stays between its home and the
  // first empty slot after it.
  const size_t mask = s.slots.size() - 1;
  size_t i = static_cast<size_t>(at);
  for (size_t j = (i + 1) & mask; s.slots[j] != nullptr; j = (j + 1) & mask) {
    const size_t home = Hash(s.slots[j]->id) & mask;
    const bool movable =
        (j > i) ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      s.slots[i] = s.slots[j];
      i = j;
    }
  }
  s.slots[i] = nullptr;
  --s.used;
  return found;
}

Collection* CollTable::Find(uint64_t id) const {
  const uint64_t h = Hash(id);
  const Shard& s = ShardOf(h);
  ReadLock l(s.mu);
  const int64_t i = Probe(s, h, id);
  return i < 0 ? nullptr : s.slots[i];
}

void CollTable::ForEach(const std::function<void(Collection*)>& fn) const {
  for (uint32_t k = 0; k < kShards; ++k) {
    const Shard& s = shards_[k];
    ReadLock l(s.mu);
    for (Collection* c : s.slots) {
      if (c != nullptr) fn(c);
    }
  }
}

std::vector<Collection*> CollTable::TakeAll() {
  std::vector<Collection*> all;
  for (uint32_t k = 0; k < kShards; ++k) {
    Shard& s = shards_[k];
    WriteLock l(s.mu);
    for (Collection*& c : s.slots) {
      if (c != nullptr) all.push_back(std::exchange(c, nullptr));
    }
    s.slots.assign(kInitialSlots, nullptr);
    s.used = 0;
  }
  return all;
}

uint64_t CollTable::size() const {
  uint64_t n = 0;
  for (uint32_t k = 0; k < kShards; ++k) {
    ReadLock l(shards_[k].mu);
    n += shards_[k].used;
  }
  return n;
}

uint64_t CollTable::MemoryBytes() const {
  uint64_t n = sizeof(Shard) * kShards;
  for (uint32_t k = 0; k < kShards; ++k) {
    ReadLock l(shards_[k].mu);
    n += shards_[k].slots.capacity() * sizeof(Collection*);
  }
  return n;
}

}  // namespace daxkv::engine
