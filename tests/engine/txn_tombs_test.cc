// TxnTombs against a std::map model: adds, takes and the undo's re-adds in
// random order, across growth and the backward shifts of deletion, with
// subkeys that share prefixes and two collections that share subkeys.
#include "engine/txn_tombs.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace daxkv::engine {
namespace {

// Stand-ins: TxnTombs compares the pointers, never follows them.
Collection* Coll(int i) {
  static char colls[2];
  return reinterpret_cast<Collection*>(&colls[i]);
}

class TxnTombsTest : public ::testing::Test {
 protected:
  // Appends a tombstone sub-entry for `subkey` to the image; its offset.
  uint64_t AppendSub(std::string_view subkey) {
    const uint64_t off = image_.size();
    format::AppendSubEntry(&image_, format::kElemTombstone, 0, subkey, {}, 0,
                           0);
    return off;
  }

  std::string image_;
  TxnTombs tombs_;
};

TEST_F(TxnTombsTest, MatchesAMapModel) {
  std::mt19937 rng(7);
  std::map<std::pair<Collection*, std::string>, int32_t> model;
  std::vector<uint64_t> sub_offs;
  for (int step = 0; step < 20000; ++step) {
    Collection* c = Coll(rng() % 2);
    // Few distinct subkeys, so that takes often hit.
    const std::string subkey = "order-key-" + std::to_string(rng() % 300);
    const auto key = std::make_pair(c, subkey);
    if (rng() % 3 != 0 && model.count(key) == 0) {
      sub_offs.push_back(AppendSub(subkey));
      const int32_t sub = static_cast<int32_t>(sub_offs.size()) - 1;
      tombs_.Add(image_, c, sub_offs.back(), sub);
      model[key] = sub;
    } else {
      auto it = model.find(key);
      const int32_t want = it == model.end() ? -1 : it->second;
      ASSERT_EQ(tombs_.Take(image_, c, subkey), want) << step;
      if (it != model.end()) model.erase(it);
    }
    ASSERT_EQ(tombs_.empty(), model.empty());
  }
  for (const auto& [key, sub] : model) {
    EXPECT_EQ(tombs_.Take(image_, key.first, key.second), sub);
  }
  EXPECT_TRUE(tombs_.empty());
}

TEST_F(TxnTombsTest, ClearEmptiesAndKeepsWorking) {
  for (int i = 0; i < 100; ++i) {
    tombs_.Add(image_, Coll(0), AppendSub("k" + std::to_string(i)), i);
  }
  EXPECT_EQ(tombs_.Take(image_, Coll(1), "k5"), -1);  // another collection
  tombs_.clear();
  EXPECT_TRUE(tombs_.empty());
  EXPECT_EQ(tombs_.Take(image_, Coll(0), "k5"), -1);
  tombs_.Add(image_, Coll(0), AppendSub("k5"), 100);
  EXPECT_EQ(tombs_.Take(image_, Coll(0), "k5"), 100);
  EXPECT_EQ(tombs_.Take(image_, Coll(0), ""), -1);
}

}  // namespace
}  // namespace daxkv::engine
