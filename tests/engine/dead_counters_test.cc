// DeadCounters (engine/dead_counters.h): the tombstone rule is only
// conservative while a counter never drops below what its bucket holds, so
// Forget stops at 0 and every hash of one bucket shares its count.
#include "engine/dead_counters.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace daxkv::engine {
namespace {

TEST(DeadCountersTest, HashesOfOneBucketShareItsCount) {
  DeadCounters d;
  d.Reset(4096);
  EXPECT_EQ(d.size(), 4096u);
  const uint64_t h = 0x123456789abcdefull;
  // Only bits 20.. pick the bucket.
  const uint64_t same = h ^ 0xfffff;
  const uint64_t other = h ^ (uint64_t{1} << 20);
  ASSERT_EQ(d.IndexOf(h), d.IndexOf(same));
  ASSERT_NE(d.IndexOf(h), d.IndexOf(other));
  d.Note(h);
  d.Note(same);
  EXPECT_EQ(d.Count(h), 2u);
  EXPECT_EQ(d.Count(other), 0u);
  EXPECT_EQ(d.At(d.IndexOf(h)), 2u);
}

TEST(DeadCountersTest, ForgetStopsAtZero) {
  DeadCounters d;
  d.Reset(4096);
  d.Note(7 << 20);
  d.Forget(7 << 20);
  d.Forget(7 << 20);
  EXPECT_EQ(d.Count(7 << 20), 0u);
  d.Note(7 << 20);
  EXPECT_EQ(d.Count(7 << 20), 1u);
}

TEST(DeadCountersTest, ForgetAllMatchesForgetOneByOne) {
  DeadCounters a;
  DeadCounters b;
  a.Reset(1024);
  b.Reset(1024);
  std::mt19937_64 rng(5);
  std::vector<uint64_t> noted(5000);
  for (uint64_t& h : noted) {
    h = rng();
    a.Note(h);
    b.Note(h);
  }
  // More forgets than notes for some buckets: both must stop at zero.
  std::vector<uint64_t> forget(noted.begin(), noted.begin() + 3000);
  for (int i = 0; i < 3000; ++i) forget.push_back(rng());
  a.ForgetAll(forget);
  for (uint64_t h : forget) b.Forget(h);
  for (uint64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.At(i), b.At(i)) << i;
  a.Clear();
  for (uint64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a.At(i), 0u);
}

}  // namespace
}  // namespace daxkv::engine
