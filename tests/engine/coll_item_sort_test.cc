// ItemSorter (engine/coll_item_sort.h): recovery's radix sort of element
// items by (id, hash), checked against std::sort on random, duplicate and
// adversarial keys: the output must be a permutation of the input, in
// (id, hash) order, with exact id groups; one sorter reused across calls of
// different sizes, as recovery's threads reuse theirs.
#include "engine/coll_item_sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace daxkv::engine::coll {
namespace {

auto Key(const RecoveryItem& a) {
  return std::tie(a.id, a.hash, a.aux, a.packed);
}

// Items tagged by position (aux, packed) so that a lost or duplicated item
// shows even among equal (id, hash) keys.
std::vector<RecoveryItem> Tagged(
    const std::vector<std::pair<uint64_t, uint64_t>>& keys) {
  std::vector<RecoveryItem> v;
  for (size_t i = 0; i < keys.size(); ++i) {
    v.push_back({keys[i].first, keys[i].second, i * 7 + 1, ~uint64_t{i}});
  }
  return v;
}

void ExpectSorted(ItemSorter& sorter, const std::vector<RecoveryItem>& in) {
  std::vector<RecoveryItem> out;
  std::vector<IdGroup> groups;
  std::vector<RecoveryItem> work = in;  // Sort clobbers its input
  sorter.Sort(work.data(), work.size(), &out, &groups);
  ASSERT_EQ(out.size(), in.size());
  // Same keys as std::sort, in order.
  std::vector<RecoveryItem> ref = in;
  std::sort(ref.begin(), ref.end(),
            [](const auto& a, const auto& b) { return Key(a) < Key(b); });
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i].id, ref[i].id) << "at " << i;
    ASSERT_EQ(out[i].hash, ref[i].hash) << "at " << i;
  }
  // A permutation: every item once, aux and packed intact.
  std::vector<RecoveryItem> perm = out;
  std::sort(perm.begin(), perm.end(),
            [](const auto& a, const auto& b) { return Key(a) < Key(b); });
  for (size_t i = 0; i < perm.size(); ++i) {
    ASSERT_EQ(Key(perm[i]), Key(ref[i])) << "at " << i;
  }
  // Groups: consecutive, covering, one id each, ascending, maximal.
  size_t pos = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    ASSERT_EQ(groups[g].begin, pos);
    ASSERT_LT(groups[g].begin, groups[g].end);
    for (size_t i = groups[g].begin; i < groups[g].end; ++i) {
      ASSERT_EQ(out[i].id, out[groups[g].begin].id);
    }
    if (g > 0) {
      ASSERT_LT(out[groups[g - 1].begin].id, out[pos].id);
    }
    pos = groups[g].end;
  }
  EXPECT_EQ(pos, out.size());
}

TEST(ItemSortTest, Empty) {
  ItemSorter s;
  ExpectSorted(s, {});
}

TEST(ItemSortTest, RandomMatchesStdSort) {
  std::mt19937_64 rng(14);
  ItemSorter s;
  for (size_t n : {1, 2, 23, 24, 25, 100, 1000, 10000, 50000, 7}) {
    for (uint64_t ids : {1, 3, 100, 5000, 1000000}) {
      std::vector<std::pair<uint64_t, uint64_t>> keys;
      for (size_t i = 0; i < n; ++i) keys.push_back({rng() % ids, rng()});
      ExpectSorted(s, Tagged(keys));
    }
  }
}

TEST(ItemSortTest, RunsOfOneIdAsRecoveryFilesThem) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<uint64_t, uint64_t>> keys;
  for (uint64_t c = 0; c < 300; ++c) {
    const uint64_t id = rng();
    for (int i = 0; i < 100; ++i) keys.push_back({id, rng()});
  }
  ItemSorter s;
  ExpectSorted(s, Tagged(keys));
}

TEST(ItemSortTest, Duplicates) {
  std::mt19937_64 rng(3);
  std::vector<std::pair<uint64_t, uint64_t>> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back({rng() % 5, rng() % 40});
  ItemSorter s;
  ExpectSorted(s, Tagged(keys));
  // One key, many times (every radix level sees one bucket).
  ExpectSorted(s, Tagged(std::vector<std::pair<uint64_t, uint64_t>>(
                      5000, {42, 0x0123456789abcdefull})));
}

TEST(ItemSortTest, AdversarialHashes) {
  std::mt19937_64 rng(11);
  ItemSorter s;
  const uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // Differing only in the lowest byte, only in the highest, or in one
  // middle byte; extremes of both fields.
  for (int shift : {0, 8, 24, 48, 56}) {
    std::vector<std::pair<uint64_t, uint64_t>> keys;
    for (int i = 0; i < 3000; ++i) {
      keys.push_back({rng() % 2 ? 0 : kMax,
                      0xA5A5A5A5A5A5A5A5ull ^ ((rng() & 0xFF) << shift)});
    }
    ExpectSorted(s, Tagged(keys));
  }
  // Already sorted, reversed, and hashes of the form 2^k.
  std::vector<std::pair<uint64_t, uint64_t>> asc, desc, pow2;
  for (uint64_t i = 0; i < 4000; ++i) {
    asc.push_back({i / 1000, i * 0x10001});
    desc.push_back({kMax - i / 1000, kMax - i});
    pow2.push_back({i % 3, uint64_t{1} << (i % 64)});
  }
  ExpectSorted(s, Tagged(asc));
  ExpectSorted(s, Tagged(desc));
  ExpectSorted(s, Tagged(pow2));
}

// Ids equal in their high bits (as in one partition) and consecutive ids:
// the distinct-id table must grow and probe past collisions.
TEST(ItemSortTest, ManyDistinctIds) {
  std::mt19937_64 rng(5);
  std::vector<std::pair<uint64_t, uint64_t>> keys;
  for (uint64_t i = 0; i < 40000; ++i) {
    keys.push_back({(uint64_t{0x3FF} << 54) | (rng() % 30000), rng()});
    keys.push_back({i, rng()});
  }
  ItemSorter s;
  ExpectSorted(s, Tagged(keys));
  ExpectSorted(s, Tagged({{9, 1}, {8, 2}}));  // small after large: reuse
}

TEST(ItemSortTest, SortByHash) {
  std::mt19937_64 rng(9);
  ItemSorter s;
  for (size_t n : {0, 1, 30, 300, 70000}) {
    std::vector<RecoveryItem> a;
    for (size_t i = 0; i < n; ++i) a.push_back({1, rng() >> (i % 50), i, 0});
    std::vector<RecoveryItem> ref = a;
    s.SortByHash(a.data(), a.size());
    std::sort(ref.begin(), ref.end(), [](const auto& x, const auto& y) {
      return std::tie(x.hash, x.aux) < std::tie(y.hash, y.aux);
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(a[i].hash, ref[i].hash);
    std::sort(a.begin(), a.end(), [](const auto& x, const auto& y) {
      return std::tie(x.hash, x.aux) < std::tie(y.hash, y.aux);
    });
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(a[i].aux, ref[i].aux);
  }
}

}  // namespace
}  // namespace daxkv::engine::coll
