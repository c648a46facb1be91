// Health (engine/health.h) on its own: the first error latches and stays,
// NoSpace in the background is counted and not latched, and damaged ranges
// refuse exactly the locations inside them.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/health.h"

namespace daxkv::engine {
namespace {

TEST(HealthStateTest, TheFirstErrorLatchesAndStays) {
  Health h;
  EXPECT_TRUE(h.CheckWritable().ok());
  EXPECT_TRUE(h.Error().ok());
  const Status first = h.Latch(IOError("media gone"), "a group commit");
  EXPECT_EQ(first.code(), StatusCode::kIOError);
  EXPECT_NE(first.message().find("during a group commit"), std::string::npos);
  EXPECT_NE(first.message().find("media gone"), std::string::npos);
  const Status second = h.Latch(CorruptionError("later"), "compaction");
  EXPECT_EQ(second.ToString(), first.ToString());  // still the first
  EXPECT_EQ(h.CheckWritable().ToString(), first.ToString());
  EXPECT_EQ(h.Error().ToString(), first.ToString());
}

TEST(HealthStateTest, BackgroundNoSpaceIsCountedNotLatched) {
  Health h;
  h.NoteBackgroundFailure(OkStatus(), "compaction");
  EXPECT_EQ(h.background_failures(), 0u);
  h.NoteBackgroundFailure(NoSpaceError("pool full"), "compaction");
  EXPECT_EQ(h.background_failures(), 1u);
  EXPECT_TRUE(h.CheckWritable().ok());
  h.NoteBackgroundFailure(IOError("flush failed"), "expiry");
  EXPECT_EQ(h.background_failures(), 2u);
  EXPECT_EQ(h.CheckWritable().code(), StatusCode::kIOError);
  EXPECT_NE(h.Error().message().find("during expiry"), std::string::npos);
}

TEST(HealthStateTest, DamagedRangesRefuseOnlyWhatIsInside) {
  Health h;
  EXPECT_FALSE(h.damage_found());
  EXPECT_EQ(h.DamagedRecords(), 0u);
  EXPECT_TRUE(h.CheckNotDamaged(4096).ok());
  const Status d =
      h.LatchDamage({{4096, 4160}, {8192, 8200}}, "/pool", "0x1000: crc");
  EXPECT_EQ(d.code(), StatusCode::kCorruption);
  EXPECT_NE(d.message().find("2 damaged record(s) in /pool"),
            std::string::npos);
  EXPECT_NE(d.message().find("first at 0x1000: crc"), std::string::npos);
  EXPECT_TRUE(h.damage_found());
  EXPECT_EQ(h.DamagedRecords(), 2u);
  EXPECT_EQ(h.CheckWritable().code(), StatusCode::kCorruption);
  for (uint64_t loc : {4095ull, 4160ull, 8191ull, 8200ull}) {
    EXPECT_TRUE(h.CheckNotDamaged(loc).ok()) << loc;
  }
  for (uint64_t loc : {4096ull, 4159ull, 8192ull, 8199ull}) {
    EXPECT_EQ(h.CheckNotDamaged(loc).code(), StatusCode::kCorruption) << loc;
  }
  // More damage adds ranges; the latched error stays the first.
  (void)h.LatchDamage({{100, 200}}, "/pool", "0x64: entry");
  EXPECT_EQ(h.DamagedRecords(), 3u);
  EXPECT_EQ(h.CheckNotDamaged(150).code(), StatusCode::kCorruption);
  EXPECT_EQ(h.Error().ToString(), d.ToString());
}

TEST(HealthStateTest, ConcurrentLatchesAgreeOnOneError) {
  Health h;
  constexpr int kThreads = 4;
  std::vector<std::string> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      seen[t] = h.Latch(IOError("cause " + std::to_string(t)), "a persist")
                    .ToString();
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1u);
  EXPECT_EQ(h.Error().ToString(), seen[0]);
}

}  // namespace
}  // namespace daxkv::engine
