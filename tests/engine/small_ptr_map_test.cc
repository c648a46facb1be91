// SmallPtrMap (engine/txn_impl.h): the touched-collections map of a Txn,
// linear while small, hash-indexed past kLinear; both forms must agree.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "engine/txn_impl.h"

namespace daxkv::engine {
namespace {

using Map = SmallPtrMap<const int*, int>;

// Checks `m` against the model: every key found with its value, others
// absent, and iteration yields exactly the model.
void ExpectSame(const Map& m, const std::map<const int*, int>& model,
                const int* all, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    auto it = model.find(&all[i]);
    const int* v = m.Find(&all[i]);
    if (it == model.end()) {
      EXPECT_EQ(v, nullptr) << i;
    } else {
      ASSERT_NE(v, nullptr) << i;
      EXPECT_EQ(*v, it->second) << i;
    }
  }
  std::map<const int*, int> seen;
  for (const auto& [k, v] : m) EXPECT_TRUE(seen.emplace(k, v).second);
  EXPECT_EQ(seen, model);
  EXPECT_EQ(m.empty(), model.empty());
}

TEST(SmallPtrMapTest, InsertEraseAcrossTheIndexThresholdMatchesAModel) {
  constexpr size_t kKeys = 40;  // well past kLinear
  int keys[kKeys] = {};
  std::mt19937 rng(7);
  Map m;
  std::map<const int*, int> model;
  for (int step = 0; step < 3000; ++step) {
    const int* k = &keys[rng() % kKeys];
    if (model.count(k) != 0 && rng() % 2 == 0) {
      m.Erase(k);
      model.erase(k);
    } else if (model.count(k) == 0) {
      m.Insert(k, step);
      model[k] = step;
    } else {
      *m.Find(k) = step;
      model[k] = step;
    }
    ExpectSame(m, model, keys, kKeys);
    if (step % 700 == 699) {  // a parked Txn's map is cleared and reused
      m.clear();
      model.clear();
      ExpectSame(m, model, keys, kKeys);
    }
  }
}

TEST(SmallPtrMapTest, EraseOfAnAbsentKeyChangesNothing) {
  int a = 0, b = 0;
  Map m;
  m.Insert(&a, 1);
  m.Erase(&b);
  ASSERT_NE(m.Find(&a), nullptr);
  EXPECT_EQ(*m.Find(&a), 1);
  EXPECT_EQ(m.Find(&b), nullptr);
}

}  // namespace
}  // namespace daxkv::engine
