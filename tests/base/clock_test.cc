#include "base/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace daxkv {
namespace {

// The system clock is the wall clock (Unix epoch), not a monotonic one:
// expiry times are absolute Unix times.
// Bracketed by std::chrono::system_clock, the precise wall clock: glibc's
// time() reads the coarse one, whose second can still lag behind (this test
// failed once on that).
TEST(ClockTest, SystemClockIsTheWallClock) {
  auto wall_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before_us = wall_us();
  const int64_t now_us = SystemClock()->NowMicros();
  const int64_t after_us = wall_us();
  EXPECT_GE(now_us, before_us);
  EXPECT_LE(now_us, after_us);
  EXPECT_EQ(SystemClock(), SystemClock());
}

// The coarse reading lags the precise one by at most a kernel tick (4 ms at
// HZ=250; 100 ms leaves room for a descheduled test) and never leads it.
TEST(ClockTest, CoarseReadingLagsTheWallClockByAtMostATick) {
  const Clock& clock = *SystemClock();
  for (int i = 0; i < 1000; ++i) {
    const int64_t coarse = clock.CoarseNowMs();
    const int64_t precise = clock.NowMs();
    ASSERT_LE(coarse, precise);
    ASSERT_LE(precise - coarse, 100);
  }
}

// A clock that does not override CoarseNowMs (a test's fake clock) answers
// it with NowMs: tests that move time by hand see the same time everywhere.
TEST(ClockTest, CoarseReadingDefaultsToNowMs) {
  class FixedClock final : public Clock {
   public:
    int64_t NowMicros() const override { return 1'700'000'000'123'456; }
  };
  FixedClock clock;
  EXPECT_EQ(clock.CoarseNowMs(), 1'700'000'000'123);
}

}  // namespace
}  // namespace daxkv
