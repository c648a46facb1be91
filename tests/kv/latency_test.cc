// The latency monitor's samples (kv/latency_monitor.h) and the duration
// histogram's buckets and percentiles (kv/duration_histogram.h).
#include <gtest/gtest.h>

#include <vector>

#include "kv/duration_histogram.h"
#include "kv/latency_monitor.h"

namespace daxkv::kv {
namespace {

namespace dh = duration_histogram;

TEST(DurationHistogramTest, BucketsCoverTheRangeInOrderWithinTwoPercent) {
  EXPECT_EQ(dh::BucketOf(0), 0u);
  EXPECT_EQ(dh::BucketOf(1023), 0u);
  EXPECT_EQ(dh::BucketOf(1024), 1u);
  EXPECT_EQ(dh::BucketOf(uint64_t{1} << 40), dh::kBuckets - 1);
  size_t prev = 0;
  for (uint64_t ns = 1000; ns < 2000000000; ns = ns * 21 / 20) {
    const size_t b = dh::BucketOf(ns);
    EXPECT_GE(b, prev);
    prev = b;
    if (b + 1 < dh::kBuckets) {
      EXPECT_LE(ns, dh::BucketHigh(b)) << ns;
      EXPECT_GT(ns, b == 0 ? 0 : dh::BucketHigh(b - 1)) << ns;
      if (b > 0) {  // within 1/64 of the value (bucket 0: below 1 µs)
        EXPECT_LE(dh::BucketHigh(b), ns + ns / 64 + 1) << ns;
      }
    }
  }
}

TEST(DurationHistogramTest, PercentilesAreTheBucketHoldingThem) {
  std::vector<uint64_t> h(dh::kBuckets);
  h[dh::BucketOf(5000)] = 98;   // 98 calls of 5 µs
  h[dh::BucketOf(800000)] = 2;  // 2 of 800 µs
  EXPECT_NEAR(dh::PercentileMicros(h, 50), 5.0, 0.1);
  EXPECT_NEAR(dh::PercentileMicros(h, 98), 5.0, 0.1);
  EXPECT_NEAR(dh::PercentileMicros(h, 99), 800.0, 13);
  EXPECT_NEAR(dh::PercentileMicros(h, 100), 800.0, 13);
  EXPECT_NEAR(dh::PercentileMicros(h, 0), 5.0, 0.1);  // the first recorded
  EXPECT_EQ(dh::PercentileMicros(std::vector<uint64_t>(dh::kBuckets), 50), 0);
}

TEST(LatencyMonitorTest, OffUntilAThresholdAndOneSamplePerSecond) {
  LatencyMonitor m;
  m.MaybeAdd("command", 500, 100);
  EXPECT_TRUE(m.LatestSamples().empty());  // threshold 0: off
  m.set_threshold_ms(10);
  m.MaybeAdd("command", 9, 100);
  EXPECT_TRUE(m.LatestSamples().empty());
  m.MaybeAdd("command", 10, 100);
  m.MaybeAdd("command", 30, 100);  // the same second: its worst is kept
  m.MaybeAdd("command", 12, 100);
  m.MaybeAdd("command", 11, 101);
  m.MaybeAdd("fast-command", 15, 101);
  const auto h = m.History("command");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].unix_s, 100);
  EXPECT_EQ(h[0].ms, 30u);
  EXPECT_EQ(h[1].ms, 11u);
  const auto latest = m.LatestSamples();
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].event, "command");
  EXPECT_EQ(latest[0].last.ms, 11u);
  EXPECT_EQ(latest[0].max_ms, 30u);
  EXPECT_EQ(m.Reset({"command", "nosuch"}), 1u);
  EXPECT_TRUE(m.History("command").empty());
  EXPECT_EQ(m.Reset({}), 1u);
}

TEST(LatencyMonitorTest, KeepsTheNewest160Samples) {
  LatencyMonitor m;
  m.set_threshold_ms(1);
  for (int s = 0; s < 400; ++s) m.MaybeAdd("command", 1 + s, s);
  const auto h = m.History("command");
  ASSERT_EQ(h.size(), LatencyMonitor::kSamples);
  EXPECT_EQ(h.front().unix_s, 400 - 160);
  EXPECT_EQ(h.back().unix_s, 399);
  EXPECT_EQ(*m.Max("command"), 400u);
}

}  // namespace
}  // namespace daxkv::kv
