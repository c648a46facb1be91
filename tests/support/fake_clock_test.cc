#include "tests/support/fake_clock.h"

#include <gtest/gtest.h>

namespace daxkv {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock;
  EXPECT_EQ(clock.NowMs(), FakeClock::kDefaultStartMs);
  EXPECT_EQ(clock.NowMicros(), FakeClock::kDefaultStartMs * 1000);
  EXPECT_EQ(clock.NowMs(), FakeClock::kDefaultStartMs);  // reading: no move
  clock.AdvanceMs(1'500);
  EXPECT_EQ(clock.NowMs(), FakeClock::kDefaultStartMs + 1'500);
  clock.SetMs(42);
  EXPECT_EQ(clock.NowMicros(), 42'000);
  const Clock& as_clock = clock;
  EXPECT_EQ(as_clock.NowMs(), 42);
}

}  // namespace
}  // namespace daxkv
