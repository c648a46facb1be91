// ElemTable (engine/coll_elem_table.h): the element index of hashes and
// sets, checked against a std::map model across both forms, with forced
// hash collisions, scans that stay exact under concurrent change, uniform
// sampling, and memory per element.
#include "engine/coll_elem_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>

#include "tests/engine/coll_test_util.h"

namespace daxkv::engine::coll {
namespace {

// A medium whose hash puts every subkey in one of `positions` positions
// (the last possible position among them), so lookups must compare bytes.
class CollidingMedium : public FakeMedium {
 public:
  explicit CollidingMedium(uint64_t positions) : positions_(positions) {}
  uint64_t Hash(std::string_view subkey) const override {
    const uint64_t h = FakeMedium::Hash(subkey);
    return ~((h % positions_) << 40);
  }

 private:
  uint64_t positions_;
};

// Adds subkeys prefix0 .. prefix{n-1} to the medium and to `t`.
void Fill(FakeMedium& m, ElemTable& t, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    std::string k = prefix + std::to_string(i);
    t.Upsert(m, k, m.Add(k));
  }
}

void RunModel(FakeMedium& m, int ops, uint64_t keyspace, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ElemTable t;
  std::map<std::string, uint64_t> model;
  bool saw_dense_after_table = false, saw_table = false;
  for (int op = 0; op < ops; ++op) {
    // Grow for a while, then shrink: crosses dense <-> table both ways.
    const bool grow = (op / (ops / 4)) % 2 == 0;
    std::string k = "f:" + std::to_string(rng() % keyspace);
    if (rng() % 100 < (grow ? 75u : 20u)) {
      const uint64_t loc = m.Add(k);
      auto it = model.find(k);
      ASSERT_EQ(t.Upsert(m, k, loc), it == model.end() ? 0 : it->second);
      model[k] = loc;
    } else {
      // Shrinking erases present keys, so the table empties out.
      if (!grow && !model.empty()) {
        k = std::next(model.begin(), rng() % model.size())->first;
      }
      auto it = model.find(k);
      ASSERT_EQ(t.Erase(m, k), it == model.end() ? 0 : it->second);
      if (it != model.end()) model.erase(it);
    }
    ASSERT_EQ(t.size(), model.size());
    saw_table |= !t.dense();
    saw_dense_after_table |= saw_table && t.dense();
    if (op % 97 == 0) {
      for (int j = 0; j < 20; ++j) {
        std::string q = "f:" + std::to_string(rng() % keyspace);
        auto it = model.find(q);
        ASSERT_EQ(t.Find(m, q), it == model.end() ? 0 : it->second) << q;
      }
    }
  }
  std::set<uint64_t> all, want;
  t.ForEach([&](uint64_t loc) { all.insert(loc); });
  for (auto& [k, loc] : model) want.insert(loc);
  EXPECT_EQ(all, want);
  EXPECT_TRUE(saw_table);
  EXPECT_TRUE(saw_dense_after_table);
}

TEST(CollElemTableTest, MatchesAMapModelThroughBothForms) {
  FakeMedium m;
  RunModel(m, 40000, 3000, 1);
}

TEST(CollElemTableTest, CollidingPositionsAreResolvedOnTheMedium) {
  CollidingMedium m(7);  // 3000 subkeys in 7 positions, at the top end
  RunModel(m, 20000, 3000, 2);
}

TEST(CollElemTableTest, RelocateAndIndexedAtCompareLocationsOnly) {
  FakeMedium m;
  ElemTable t;
  Fill(m, t, "m", 1000);
  const uint64_t loc = t.Find(m, "m500");
  const uint64_t moved = m.Copy(loc);
  const uint64_t reads = m.reads();
  EXPECT_TRUE(t.IndexedAt(m, "m500", loc));
  EXPECT_FALSE(t.Relocate(m, "m500", moved, loc));  // not there: no change
  EXPECT_TRUE(t.Relocate(m, "m500", loc, moved));
  EXPECT_FALSE(t.IndexedAt(m, "m500", loc));
  EXPECT_TRUE(t.IndexedAt(m, "m500", moved));
  EXPECT_EQ(m.reads(), reads);  // no element bytes were read
  EXPECT_EQ(t.Find(m, "m500"), moved);
}

TEST(CollElemTableTest, BulkInsertMatchesUpserts) {
  FakeMedium m;
  ElemTable bulk, one_by_one;
  bulk.Reserve(5000);
  for (int i = 0; i < 5000; ++i) {
    std::string k = "k" + std::to_string(i);
    const uint64_t loc = m.Add(k);
    bulk.InsertUnique(m.Hash(k), loc);
    one_by_one.Upsert(m, k, loc);
  }
  for (int i = 0; i < 5000; i += 3) {
    std::string k = "k" + std::to_string(i);
    ASSERT_EQ(bulk.Find(m, k), one_by_one.Find(m, k));
  }
  EXPECT_EQ(bulk.size(), 5000u);
}

// The snapshot's round trip: ForEachPacked, then AssignPacked (or
// InsertPacked), rebuilds a table that finds every element, from the dense
// form, a table form, and a table shrunk under the dense limit (its words
// out of position order).
TEST(CollElemTableTest, PackedWordsRebuildEveryForm) {
  FakeMedium m;
  for (auto [n, keep] :
       {std::pair{100, 1}, std::pair{3000, 1}, std::pair{3000, 40}}) {
    ElemTable t;
    Fill(m, t, "p" + std::to_string(n) + "-", n);
    std::vector<std::string> kept;
    for (int i = 0; i < n; ++i) {
      const std::string k = "p" + std::to_string(n) + "-" + std::to_string(i);
      if (i % keep == 0) {
        kept.push_back(k);
      } else {
        ASSERT_NE(t.Erase(m, k), 0u);
      }
    }
    std::vector<uint64_t> words;
    t.ForEachPacked([&](uint64_t w) { words.push_back(w); });
    ElemTable copy, inserted;
    copy.AssignPacked(words.data(), words.size());
    for (uint64_t w : words) inserted.InsertPacked(w);
    ASSERT_EQ(copy.size(), kept.size());
    EXPECT_EQ(copy.dense(), kept.size() <= ElemTable::kDenseMax);
    for (const std::string& k : kept) {
      ASSERT_EQ(copy.Find(m, k), t.Find(m, k)) << k;
      ASSERT_EQ(inserted.Find(m, k), t.Find(m, k)) << k;
    }
    EXPECT_EQ(copy.Find(m, "absent"), 0u);
  }
}

// Scans interleaved with inserts, deletes, growth and shrinking: every
// element present for the whole scan comes back exactly once, and nothing
// that was never present comes back.
void ScanUnderChurn(FakeMedium& m, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ElemTable t;
  std::map<std::string, uint64_t> live;
  for (int i = 0; i < 300; ++i) {
    std::string k = "s" + std::to_string(i);
    live[k] = m.Add(k);
    t.Upsert(m, k, live[k]);
  }
  for (int scan = 0; scan < 30; ++scan) {
    std::map<uint64_t, int> seen;
    std::set<uint64_t> stable, ever;
    for (auto& [k, loc] : live) stable.insert(loc), ever.insert(loc);
    uint64_t cursor = 0;
    int pages = 0;
    do {
      cursor = t.Scan(cursor, 1 + rng() % 20, [&](uint64_t loc) { ++seen[loc]; });
      ++pages;
      for (int c = 0; c < 25; ++c) {  // churn: shrink or grow by phases
        std::string k = "s" + std::to_string(rng() % 3000);
        if (rng() % 100 < (scan % 3 == 0 ? 30u : 65u)) {
          if (live.count(k)) continue;
          live[k] = m.Add(k);
          ever.insert(live[k]);
          t.Upsert(m, k, live[k]);
        } else if (live.count(k)) {
          stable.erase(live[k]);
          t.Erase(m, k);
          live.erase(k);
        }
      }
    } while (cursor != 0 && pages < 100000);
    ASSERT_EQ(cursor, 0u);
    for (uint64_t loc : stable) ASSERT_EQ(seen[loc], 1) << "scan " << scan;
    for (auto& [loc, n] : seen) {
      ASSERT_TRUE(ever.count(loc));
      ASSERT_EQ(n, 1);
    }
  }
}

TEST(CollElemTableTest, ScansReturnStableElementsExactlyOnce) {
  FakeMedium m;
  ScanUnderChurn(m, 5);
  CollidingMedium c(50);
  ScanUnderChurn(c, 6);
}

double ChiSquare(const std::map<uint64_t, uint64_t>& counts, uint64_t cells,
                 uint64_t draws) {
  const double expect = double(draws) / cells;
  double chi = 0;
  for (auto& [loc, n] : counts) chi += (n - expect) * (n - expect) / expect;
  chi += double(cells - counts.size()) * expect;  // cells never drawn
  return chi;
}

TEST(CollElemTableTest, SampleIsUniformInBothForms) {
  for (uint64_t n : {100ull, 1000ull}) {
    FakeMedium m;
    ElemTable t;
    Fill(m, t, "u", static_cast<int>(n));
    // Delete some so the table has holes and clusters.
    for (uint64_t i = 0; i < n; i += 5) t.Erase(m, "u" + std::to_string(i));
    const uint64_t cells = t.size();
    std::mt19937_64 rng(9);
    std::map<uint64_t, uint64_t> counts;
    const uint64_t draws = cells * 400;
    for (uint64_t d = 0; d < draws; ++d) ++counts[t.Sample(rng)];
    // Chi-square with cells - 1 degrees of freedom: mean cells - 1, sd
    // sqrt(2 (cells - 1)); six sd above the mean fails.
    const double chi = ChiSquare(counts, cells, draws);
    EXPECT_LT(chi, cells - 1 + 6 * std::sqrt(2.0 * (cells - 1))) << n;
    EXPECT_EQ(counts.size(), cells);
  }
}

TEST(CollElemTableTest, SampleDistinctReturnsDistinctUniformSubsets) {
  FakeMedium m;
  ElemTable t;
  Fill(m, t, "d", 400);
  std::mt19937_64 rng(11);
  for (uint64_t k : {1ull, 50ull, 200ull, 300ull, 400ull, 1000ull}) {
    std::map<uint64_t, uint64_t> counts;
    const int rounds = 2000;
    for (int r = 0; r < rounds; ++r) {
      std::vector<uint64_t> out;
      t.SampleDistinct(k, rng, &out);
      ASSERT_EQ(out.size(), std::min<uint64_t>(k, 400));
      std::set<uint64_t> uniq(out.begin(), out.end());
      ASSERT_EQ(uniq.size(), out.size());
      for (uint64_t loc : out) ++counts[loc];
    }
    if (k < 400) {  // each element's inclusion count is Binomial-ish
      const double chi = ChiSquare(counts, 400, rounds * k);
      EXPECT_LT(chi, 399 + 6 * std::sqrt(2.0 * 399)) << k;
    }
  }
}

TEST(CollElemTableTest, MemoryPerElement) {
  FakeMedium m;
  ElemTable small, big;
  Fill(m, small, "a", 100);
  EXPECT_TRUE(small.dense());
  EXPECT_LE(small.MemoryBytes(), 100 * 8 * 5 / 4 + sizeof(ElemTable));
  const uint64_t n = 1000000;
  for (uint64_t i = 0; i < n; ++i) big.InsertUnique(m.Hash("b" + std::to_string(i)), 8 * (i + 1));
  const double per = double(big.MemoryBytes()) / n;
  std::printf("  dense 100: %.2f B/element; table 1M: %.2f B/element\n",
              double(small.MemoryBytes()) / 100, per);
  EXPECT_GE(per, 8 * 4 / 3.0);  // load <= 3/4
  EXPECT_LE(per, 8 * 16 / 3.0 + 1);  // load >= 3/16
}

}  // namespace
}  // namespace daxkv::engine::coll
