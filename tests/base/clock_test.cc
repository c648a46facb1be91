#include "base/clock.h"

#include <gtest/gtest.h>

#include <ctime>

namespace daxkv {
namespace {

// The system clock is the wall clock (Unix epoch), not a monotonic one:
// expiry times are absolute Unix times.
TEST(ClockTest, SystemClockIsTheWallClock) {
  const int64_t before_s = static_cast<int64_t>(std::time(nullptr));
  const int64_t now_us = SystemClock()->NowMicros();
  const int64_t after_s = static_cast<int64_t>(std::time(nullptr));
  EXPECT_GE(now_us / 1'000'000, before_s);
  EXPECT_LE(now_us / 1'000'000, after_s);
  EXPECT_EQ(SystemClock(), SystemClock());
}

}  // namespace
}  // namespace daxkv
