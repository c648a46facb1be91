#include "base/cycle_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace daxkv {
namespace {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

TEST(CycleClockTest, MeasuresWhatTheSteadyClockMeasures) {
  for (int ms : {2, 30}) {
    const uint64_t c0 = CycleClock::Now();
    const int64_t s0 = SteadyMicros();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    const int64_t s1 = SteadyMicros();
    const uint64_t c1 = CycleClock::Now();
    const auto steady = static_cast<double>(s1 - s0);
    const auto cycles = static_cast<double>(CycleClock::ToMicros(c1 - c0));
    // The cycle interval encloses the steady one; a preemption between the
    // paired reads may add to it, hence the absolute slack.
    EXPECT_GE(cycles, steady * 0.99) << ms << " ms";
    EXPECT_LE(cycles, steady * 1.01 + 2000) << ms << " ms";
  }
}

TEST(CycleClockTest, NeverGoesBackOnOneThreadAndClampsNegativeIntervals) {
  uint64_t prev = CycleClock::Now();
  for (int i = 0; i < 100000; ++i) {
    const uint64_t now = CycleClock::Now();
    ASSERT_GE(now, prev);
    prev = now;
  }
  EXPECT_EQ(CycleClock::ToMicros(0), 0u);
  EXPECT_EQ(CycleClock::ToMicros(static_cast<uint64_t>(-5)), 0u);
  EXPECT_GT(CycleClock::TicksPerMicro(), 0.0);
}

}  // namespace
}  // namespace daxkv
