// DeadCollQueue: the freer takes dead collections in the order they died;
// a death whose bytes the freer must account stays Pending (compaction
// then leaves its elements' dead-put counts to the freer) until Done.
#include "engine/dead_colls.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace daxkv::engine {
namespace {

DeadColl Dead(uint64_t id, bool account) {
  DeadColl d;
  d.c = std::make_unique<Collection>(KeyType::kList, id, /*meta_loc=*/0);
  d.id = id;
  d.account = account;
  return d;
}

TEST(DeadCollQueueTest, PopsInOrderOfDeathAndCountsUntilDone) {
  DeadCollQueue q;
  q.Push(Dead(7, true));
  q.Push(Dead(3, true));
  EXPECT_EQ(q.count(), 2u);
  DeadColl d;
  ASSERT_TRUE(q.Pop(&d));
  EXPECT_EQ(d.id, 7u);
  ASSERT_NE(d.c, nullptr);
  EXPECT_EQ(d.c->id, 7u);
  // Being freed still counts, and is still pending.
  EXPECT_EQ(q.count(), 2u);
  EXPECT_TRUE(q.Pending(7));
  q.Done(7);
  EXPECT_FALSE(q.Pending(7));
  EXPECT_EQ(q.count(), 1u);
  ASSERT_TRUE(q.Pop(&d));
  EXPECT_EQ(d.id, 3u);
  EXPECT_FALSE(q.Pop(&d));
  q.Done(3);
  EXPECT_EQ(q.count(), 0u);
}

TEST(DeadCollQueueTest, OnlyAccountedDeathsArePending) {
  DeadCollQueue q;
  q.Push(Dead(1, true));
  q.Push(Dead(2, false));  // a Flush(): no live bytes left to subtract
  EXPECT_TRUE(q.Pending(1));
  EXPECT_FALSE(q.Pending(2));
  EXPECT_FALSE(q.Pending(3));
  q.Clear();
  EXPECT_FALSE(q.Pending(1));
  EXPECT_EQ(q.count(), 0u);
  DeadColl d;
  EXPECT_FALSE(q.Pop(&d));
}

TEST(DeadCollQueueTest, ConcurrentDeathsAreEachFreedOnce) {
  DeadCollQueue q;
  constexpr int kPerThread = 1000;
  std::vector<std::thread> killers;
  for (int t = 0; t < 2; ++t) {
    killers.emplace_back([&q, t] {
      for (int i = 0; i < kPerThread; ++i) {
        q.Push(Dead(static_cast<uint64_t>(t * kPerThread + i + 1), true));
      }
    });
  }
  std::vector<bool> seen(2 * kPerThread + 1, false);
  int freed = 0;
  while (freed < 2 * kPerThread) {
    DeadColl d;
    if (!q.Pop(&d)) {
      std::this_thread::yield();
      continue;
    }
    ASSERT_FALSE(seen[d.id]);
    seen[d.id] = true;
    q.Done(d.id);
    ++freed;
  }
  for (std::thread& t : killers) t.join();
  EXPECT_EQ(q.count(), 0u);
}

}  // namespace
}  // namespace daxkv::engine
