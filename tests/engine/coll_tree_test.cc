// CountedTree and ListIndex (engine/coll_tree.h, engine/coll_list.h):
// differential tests against a std::vector model, the end-push fast paths,
// bulk build, search through the medium, and memory per element.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <vector>

#include "engine/coll_list.h"
#include "engine/coll_order_key.h"
#include "tests/engine/coll_test_util.h"

namespace daxkv::engine::coll {
namespace {

using Tree = CountedTree<LocCodec>;

void ExpectSame(const Tree& t, const std::vector<uint64_t>& model) {
  ASSERT_EQ(t.size(), model.size());
  std::vector<uint64_t> fwd, rev;
  t.Forward(0, t.size(), [&](uint64_t pos, uint64_t loc) {
    EXPECT_EQ(pos, fwd.size());
    fwd.push_back(loc);
    return true;
  });
  ASSERT_EQ(fwd, model);
  t.Reverse(0, t.size(), [&](uint64_t pos, uint64_t loc) {
    EXPECT_EQ(pos, model.size() - 1 - rev.size());
    rev.push_back(loc);
    return true;
  });
  std::reverse(rev.begin(), rev.end());
  ASSERT_EQ(rev, model);
}

// Random mixes of every mutation, biased to the ends and to one hot spot,
// checked against a vector after every batch.
TEST(CollTreeTest, RandomOperationsMatchAVectorModel) {
  std::mt19937_64 rng(42);
  Tree t;
  std::vector<uint64_t> model;
  uint64_t next = 8;
  uint32_t max_height = 0;
  uint64_t max_size = 0;
  for (int round = 0; round < 300; ++round) {
    const bool growing = round < 150;  // to ~25k entries, then back down
    for (int op = 0; op < 400; ++op) {
      const uint64_t n = model.size();
      const int r = static_cast<int>(rng() % 100);
      uint64_t pos = rng() % (n + 1);
      if (r % 4 == 0) pos = 0;
      if (r % 4 == 1) pos = n;
      if (r < (growing ? 70 : 40) || n == 0) {
        t.Insert(pos, next);
        model.insert(model.begin() + pos, next);
        next += 8;
      } else if (r < 85) {
        pos = std::min(pos, n - 1);
        ASSERT_EQ(t.Erase(pos), model[pos]);
        model.erase(model.begin() + pos);
      } else if (r < 99) {
        pos = std::min(pos, n - 1);
        t.Set(pos, next);
        model[pos] = next;
        next += 8;
      } else {
        uint64_t from = std::min(pos, n), len = rng() % 50;
        uint64_t to = std::min(n, from + len);
        t.EraseRange(from, to);
        model.erase(model.begin() + from, model.begin() + to);
      }
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model)) << "round " << round;
    ASSERT_TRUE(t.TEST_FirstsAgree()) << "round " << round;
    max_height = std::max(max_height, t.height());
    max_size = std::max<uint64_t>(max_size, model.size());
    for (int k = 0; k < 20 && !model.empty(); ++k) {
      uint64_t i = rng() % model.size();
      ASSERT_EQ(t.At(i), model[i]);
    }
  }
  // The walk went through inner-node splits and merges, not one leaf.
  EXPECT_GE(max_height, 2u) << "largest size " << max_size;
  t.EraseRange(0, t.size());
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.MemoryBytes(), sizeof(Tree));  // every node freed
}

void ExpectSame(const Tree& t, const std::deque<uint64_t>& model) {
  ExpectSame(t, std::vector<uint64_t>(model.begin(), model.end()));
}

TEST(CollTreeTest, EndPushesAndPopsBehaveAsADequeAndStayShallow) {
  Tree t;
  std::deque<uint64_t> model;
  for (uint64_t i = 1; i <= 300000; ++i) {
    if (i % 2) {
      t.PushBack(8 * i);
      model.push_back(8 * i);
    } else {
      t.PushFront(8 * i);
      model.push_front(8 * i);
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model));
  EXPECT_LE(t.height(), 3u);
  // A queue: push at the front, pop at the back, size steady.
  for (uint64_t i = 0; i < 500000; ++i) {
    t.PushFront(8 * (1000000 + i));
    ASSERT_EQ(t.Erase(t.size() - 1), model.back());
    model.pop_back();
    model.push_front(8 * (1000000 + i));
    if (i % 100000 == 0) {
      ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model));
      ASSERT_TRUE(t.TEST_FirstsAgree());
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model));
  EXPECT_TRUE(t.TEST_FirstsAgree());
}

TEST(CollTreeTest, MemoryPerElementIsNearTheFiveBytesOfALocation) {
  Tree back, front;
  const uint64_t n = 1000000;
  for (uint64_t i = 1; i <= n; ++i) back.PushBack(8 * i);
  for (uint64_t i = 1; i <= n; ++i) front.PushFront(8 * i);
  const double per_back = double(back.MemoryBytes()) / n;
  const double per_front = double(front.MemoryBytes()) / n;
  std::printf("  RPUSH-built: %.2f B/element, LPUSH-built: %.2f B/element\n",
              per_back, per_front);
  EXPECT_LT(per_back, 5.3);
  EXPECT_LT(per_front, 5.3);
  // A small list is one leaf sized to its contents.
  Tree small;
  for (uint64_t i = 1; i <= 100; ++i) small.PushBack(8 * i);
  EXPECT_EQ(small.height(), 0u);
  EXPECT_LT(small.MemoryBytes(), 100 * 5 + 200u);
}

TEST(CollTreeTest, AssignBuildsBalancedTreesThatStayMutable) {
  for (uint64_t n : {0ull, 1ull, 409ull, 410ull, 5000ull, 200000ull}) {
    SCOPED_TRACE(n);
    Tree t;
    t.Assign(n, [](uint64_t i) { return 8 * (i + 1); });
    std::vector<uint64_t> model(n);
    for (uint64_t i = 0; i < n; ++i) model[i] = 8 * (i + 1);
    ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model));
    t.Insert(n / 2, 8);
    model.insert(model.begin() + n / 2, 8);
    EXPECT_TRUE(t.TEST_FirstsAgree());
    t.Erase(0);
    model.erase(model.begin());
    ASSERT_NO_FATAL_FAILURE(ExpectSame(t, model));
    EXPECT_TRUE(t.TEST_FirstsAgree());
  }
}

TEST(CollTreeTest, PartitionPointIsLowerBound) {
  Tree t;
  std::vector<uint64_t> sorted;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50000; ++i) sorted.push_back(8 * (rng() % 1000000 + 1));
  std::sort(sorted.begin(), sorted.end());
  t.Assign(sorted.size(), [&](uint64_t i) { return sorted[i]; });
  for (int i = 0; i < 2000; ++i) {
    uint64_t target = 8 * (rng() % 1000002);
    uint64_t want =
        std::lower_bound(sorted.begin(), sorted.end(), target) - sorted.begin();
    ASSERT_EQ(t.PartitionPoint([&](uint64_t e) { return e < target; }), want);
  }
  EXPECT_EQ(Tree().PartitionPoint([](uint64_t) { return true; }), 0u);
}

// SearchForward walks on from where its search ended, which may be past
// a leaf's last entry: the same entries as PartitionPoint then Forward.
TEST(CollTreeTest, SearchForwardWalksOnFromThePoint) {
  Tree t;
  std::vector<uint64_t> sorted;
  std::mt19937_64 rng(4);
  for (int i = 0; i < 20000; ++i) sorted.push_back(8 * (rng() % 100000 + 1));
  std::sort(sorted.begin(), sorted.end());
  t.Assign(sorted.size(), [&](uint64_t i) { return sorted[i]; });
  // Inserts split leaves, so that points fall on leaf ends of every kind.
  for (int i = 0; i < 5000; ++i) {
    const uint64_t v = 8 * (rng() % 100000 + 1);
    const auto at = std::lower_bound(sorted.begin(), sorted.end(), v);
    t.Insert(at - sorted.begin(), v);
    sorted.insert(at, v);
  }
  for (int i = 0; i < 3000; ++i) {
    const uint64_t target = 8 * (rng() % 100002);
    const uint64_t want =
        std::lower_bound(sorted.begin(), sorted.end(), target) - sorted.begin();
    const uint64_t to = want + rng() % 300;
    std::vector<std::pair<uint64_t, uint64_t>> walked;
    const uint64_t point =
        t.SearchForward([&](uint64_t e) { return e < target; }, to,
                        [&](uint64_t pos, uint64_t e) {
                          walked.emplace_back(pos, e);
                          return walked.size() < 200;
                        });
    ASSERT_EQ(point, want);
    const uint64_t end = std::min<uint64_t>({to, sorted.size(), want + 200});
    ASSERT_EQ(walked.size(), end - want) << i;
    for (size_t k = 0; k < walked.size(); ++k) {
      ASSERT_EQ(walked[k].first, want + k);
      ASSERT_EQ(walked[k].second, sorted[want + k]);
    }
  }
  EXPECT_EQ(Tree().SearchForward([](uint64_t) { return true; }, 5,
                                 [](uint64_t, uint64_t) { return true; }),
            0u);
}

// Update changes entries in place, leaf firsts included (the copies inner
// nodes keep of them, which searches compare), and SetIf only where its
// expectation holds.
TEST(CollTreeTest, UpdateAndSetIfChangeEntriesInPlace) {
  Tree t;
  std::vector<uint64_t> model;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 30000; ++i) {
    const uint64_t at = rng() % (model.size() + 1);
    t.Insert(at, 8 * (i + 1));
    model.insert(model.begin() + at, 8 * (i + 1));
  }
  for (int round = 0; round < 300; ++round) {
    const uint64_t from = rng() % (model.size() + 10);
    const uint64_t to = from + rng() % 2000;
    uint64_t visited = 0;
    t.Update(from, to, [&](uint64_t pos, uint64_t* loc) {
      EXPECT_EQ(*loc, model[pos]);
      ++visited;
      if (pos % 3 != 0) return false;
      *loc += 8 * 100000;
      model[pos] = *loc;
      return true;
    });
    ASSERT_EQ(visited, from >= model.size()
                           ? 0
                           : std::min<uint64_t>(to, model.size()) - from);
    const uint64_t i = rng() % model.size();
    const uint64_t next = model[i] + 8;
    ASSERT_FALSE(t.SetIf(
        i, [&](uint64_t e) { return e == next; }, 16));
    ASSERT_TRUE(t.SetIf(
        i, [&](uint64_t e) { return e + 8 == next; }, next));
    model[i] = next;
  }
  ASSERT_TRUE(t.TEST_FirstsAgree());
  t.Forward(0, t.size(), [&](uint64_t pos, uint64_t loc) {
    EXPECT_EQ(loc, model[pos]) << pos;
    return true;
  });
}

TEST(CollTreeTest, RangesStopEarlyAndClampToTheEnd) {
  Tree t;
  t.Assign(1000, [](uint64_t i) { return 8 * (i + 1); });
  std::vector<uint64_t> seen;
  EXPECT_FALSE(t.Forward(10, 2000, [&](uint64_t, uint64_t loc) {
    seen.push_back(loc);
    return seen.size() < 3;
  }));
  EXPECT_EQ(seen, (std::vector<uint64_t>{88, 96, 104}));
  seen.clear();
  EXPECT_TRUE(t.Reverse(995, 5000, [&](uint64_t, uint64_t loc) {
    seen.push_back(loc);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<uint64_t>{8000, 7992, 7984, 7976, 7968}));
  EXPECT_TRUE(t.Forward(7, 7, [](uint64_t, uint64_t) { return false; }));
}

TEST(CollTreeTest, TrimmingAMillionEntriesFreesTheirMemory) {
  Tree t;
  t.Assign(1000000, [](uint64_t i) { return 8 * (i + 1); });
  const uint64_t full = t.MemoryBytes();
  t.EraseRange(100, 999900);  // LTRIM key 0 99, then the tail
  EXPECT_EQ(t.size(), 200u);
  EXPECT_EQ(t.At(99), 800u);
  EXPECT_EQ(t.At(100), 8u * 999901);
  EXPECT_LT(t.MemoryBytes(), full / 100);
}

TEST(CollListTest, FindsAndRelocatesElementsByOrderKey) {
  FakeMedium m;
  ListIndex list;
  std::string key = FirstOrderKey();
  for (int i = 0; i < 5000; ++i) {
    list.PushBack(m.Add(key));
    key = OrderKeyAfter(key);
  }
  key = FirstOrderKey();
  for (int i = 0; i < 5000; i += 7) {
    const std::string k = m.Subkey(list.At(i)).data();
    const uint64_t before = m.reads();
    ASSERT_EQ(list.Find(m, m.Subkey(list.At(i))), uint64_t(i));
    EXPECT_LE(m.reads() - before, 40u);  // O(log n) reads of the medium
  }
  EXPECT_EQ(list.Find(m, OrderKeyAfter(m.Subkey(list.At(4999)))), 5000u);
  // Compaction moved element 1234: only the current location relocates.
  const uint64_t old_loc = list.At(1234);
  const uint64_t new_loc = m.Copy(old_loc);
  const std::string okey(m.Subkey(old_loc));
  EXPECT_FALSE(list.Relocate(m, okey, new_loc, old_loc));
  EXPECT_TRUE(list.Relocate(m, okey, old_loc, new_loc));
  EXPECT_EQ(list.At(1234), new_loc);
}

TEST(CollListTest, FindWithEndsFetchedOnceReadsNothingForPoppedKeys) {
  FakeMedium m;
  ListIndex list;
  std::vector<std::string> okeys;  // every element's, pushed or popped
  std::string key = FirstOrderKey();
  for (int i = 0; i < 3000; ++i) {
    okeys.push_back(key);
    list.PushBack(m.Add(key));
    key = OrderKeyAfter(key);
  }
  list.EraseRange(0, 1000);  // LPOP's and RPOP's leftovers in a queue
  list.EraseRange(1000, 2000);
  const ListIndex::Ends ends = list.GetEnds(m);
  EXPECT_EQ(ends.front, okeys[1000]);
  EXPECT_EQ(ends.back, okeys[1999]);
  const uint64_t before = m.reads();
  for (int i : {0, 999, 2000, 2999}) {
    EXPECT_EQ(list.Find(m, okeys[i], ends), list.size()) << i;
  }
  EXPECT_EQ(m.reads(), before);  // popped: no search, no read
  for (int i = 1000; i < 2000; i += 37) {
    EXPECT_EQ(list.Find(m, okeys[i], ends), uint64_t(i - 1000));
    EXPECT_EQ(list.Find(m, okeys[i]), uint64_t(i - 1000));
  }
  ListIndex empty;
  const ListIndex::Ends none = empty.GetEnds(m);
  EXPECT_TRUE(none.front.empty() && none.back.empty());
  EXPECT_EQ(empty.Find(m, okeys[0], none), 0u);
}

}  // namespace
}  // namespace daxkv::engine::coll
