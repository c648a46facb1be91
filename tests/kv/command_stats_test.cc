#include "kv/command_stats.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "base/cycle_clock.h"

namespace daxkv::kv {
namespace {

TEST(CommandStatsTest, ErrorCodeIsTheFirstWordElseErr) {
  CommandStats stats(4);
  stats.CountError("WRONGTYPE Operation against a key");
  stats.CountError("ERR syntax error");
  stats.CountError("NOSCRIPT No matching script");
  stats.CountError("nospace");  // no word boundary: Redis files it as ERR
  // A space past byte 31 of the reply ("-" + 30 letters) is not looked for.
  stats.CountError(std::string(31, 'X') + " too long a code");
  EXPECT_EQ(stats.total_error_replies(), 5u);
  const std::map<std::string, uint64_t> want = {
      {"ERR", 3}, {"NOSCRIPT", 1}, {"WRONGTYPE", 1}};
  EXPECT_EQ(stats.ErrorCounts(), want);
}

TEST(CommandStatsTest, DistinctCodesAreCappedButAllCounted) {
  CommandStats stats(1);
  const size_t n = CommandStats::kMaxErrorCodes + 10;
  for (size_t i = 0; i < n; ++i)
    stats.CountError("E" + std::to_string(i) + " x");
  EXPECT_EQ(stats.ErrorCounts().size(), CommandStats::kMaxErrorCodes);
  EXPECT_EQ(stats.total_error_replies(), n);
}

TEST(CommandStatsTest, SumsAcrossThreadsAndResets) {
  CommandStats stats(3);
  std::vector<std::thread> threads;
  // More threads than slots: some share one.
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&stats] {
      for (int i = 0; i < 1000; ++i) stats.Record(1, 5000, i % 10 == 0);
      stats.Rejected(2);
    });
  }
  for (std::thread& t : threads) t.join();
  const CommandStats::Totals one = stats.Get(1);
  EXPECT_EQ(one.calls, 20000u);
  // Ticks are summed, then converted once.
  EXPECT_EQ(one.usec, CycleClock::ToMicros(uint64_t{20000} * 5000));
  EXPECT_EQ(one.failed, 2000u);
  EXPECT_EQ(stats.Get(2).rejected, 20u);
  EXPECT_EQ(stats.Get(0).calls, 0u);
  stats.Record(7, 1, false);  // out of range: ignored, not a crash
  EXPECT_EQ(stats.Get(7).calls, 0u);
  stats.Reset();
  EXPECT_EQ(stats.Get(1).calls, 0u);
  EXPECT_EQ(stats.Get(2).rejected, 0u);
  stats.Record(1, 0, true);
  EXPECT_EQ(stats.Get(1).calls, 1u);
  EXPECT_EQ(stats.Get(1).failed, 1u);
}

TEST(CommandStatsTest, SubMicrosecondCallsAddUp) {
  CommandStats stats(1);
  const auto third = static_cast<uint64_t>(CycleClock::TicksPerMicro() / 3);
  for (int i = 0; i < 3000; ++i) stats.Record(0, third, false);
  // ~1000 us; converted per call, each would have counted 0.
  EXPECT_GE(stats.Get(0).usec, 990u);
  EXPECT_LE(stats.Get(0).usec, 1000u);
}

}  // namespace
}  // namespace daxkv::kv
