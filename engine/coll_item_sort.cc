#include "engine/coll_item_sort.h"

#include <algorithm>
#include <numeric>

namespace daxkv::engine::coll {

namespace {

// Below this many items a bucket is finished by insertion sort.
constexpr size_t kInsertionMax = 24;
constexpr int kInitialTableBits = 8;

void InsertionByHash(RecoveryItem* a, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    if (a[i].hash >= a[i - 1].hash) continue;
    const RecoveryItem x = a[i];
    size_t j = i;
    do {
      a[j] = a[j - 1];
      --j;
    } while (j > 0 && a[j - 1].hash > x.hash);
    a[j] = x;
  }
}

}  // namespace

uint32_t ItemSorter::DistinctIndex(uint64_t id) {
  if ((ids_.size() + 1) * 2 > table_.size()) GrowTable();
  const uint64_t mask = table_.size() - 1;
  // Not the partition's hash (MixMul by the golden ratio): its top bits are
  // equal across a partition.
  for (uint64_t i = (id * 0xbf58476d1ce4e5b9ull) >> (64 - table_bits_);;
       i = (i + 1) & mask) {
    const uint32_t v = table_[i];
    if (v == 0) {
      ids_.push_back(id);
      table_[i] = static_cast<uint32_t>(ids_.size());
      return static_cast<uint32_t>(ids_.size() - 1);
    }
    if (ids_[v - 1] == id) return v - 1;
  }
}

void ItemSorter::GrowTable() {
  ++table_bits_;
  table_.assign(size_t{1} << table_bits_, 0);
  const uint64_t mask = table_.size() - 1;
  for (size_t k = 0; k < ids_.size(); ++k) {
    uint64_t i = (ids_[k] * 0xbf58476d1ce4e5b9ull) >> (64 - table_bits_);
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = static_cast<uint32_t>(k + 1);
  }
}

void ItemSorter::Sort(RecoveryItem* items, size_t n,
                      std::vector<RecoveryItem>* out,
                      std::vector<IdGroup>* groups) {
  ids_.clear();
  table_bits_ = kInitialTableBits;
  table_.assign(size_t{1} << table_bits_, 0);
  start_.clear();
  item_index_.resize(n);
  // Pass 1: each item's distinct id, and the count per id (in start_).
  uint32_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t id = items[i].id;
    if (i == 0 || id != ids_[last]) {
      last = DistinctIndex(id);
      if (last == start_.size()) start_.push_back(0);
    }
    item_index_[i] = last;
    ++start_[last];
  }
  order_.resize(ids_.size());
  std::iota(order_.begin(), order_.end(), 0);
  std::sort(order_.begin(), order_.end(),
            [&](uint32_t a, uint32_t b) { return ids_[a] < ids_[b]; });
  groups->clear();
  size_t pos = 0;
  for (uint32_t d : order_) {
    const size_t count = start_[d];
    groups->push_back({pos, pos + count});
    start_[d] = pos;
    pos += count;
  }
  // Pass 2: scatter into the groups (shrinking *out writes nothing, so a
  // reused vector costs no clearing).
  out->resize(n);
  RecoveryItem* o = out->data();
  for (size_t i = 0; i < n; ++i) o[start_[item_index_[i]]++] = items[i];
  for (const IdGroup& g : *groups) {
    if (g.end - g.begin > 1) {
      HashRadix(o + g.begin, g.end - g.begin, 56, items);
    }
  }
}

// Most significant byte first. A level whose byte is equal in every item
// moves nothing; past the last byte every hash is equal.
void ItemSorter::HashRadix(RecoveryItem* a, size_t n, int shift,
                           RecoveryItem* scratch) {
  size_t count[256];
  for (;; shift -= 8) {
    if (n <= kInsertionMax) return InsertionByHash(a, n);
    if (shift < 0) return;
    std::fill(count, count + 256, 0);
    for (size_t i = 0; i < n; ++i) ++count[(a[i].hash >> shift) & 0xFF];
    if (count[(a[0].hash >> shift) & 0xFF] != n) break;
  }
  size_t next[256];
  size_t pos = 0;
  for (int b = 0; b < 256; ++b) {
    next[b] = pos;
    pos += count[b];
  }
  for (size_t i = 0; i < n; ++i) {
    scratch[next[(a[i].hash >> shift) & 0xFF]++] = a[i];
  }
  std::copy(scratch, scratch + n, a);
  pos = 0;
  for (int b = 0; b < 256; ++b) {
    if (count[b] > 1) HashRadix(a + pos, count[b], shift - 8, scratch);
    pos += count[b];
  }
}

}  // namespace daxkv::engine::coll
