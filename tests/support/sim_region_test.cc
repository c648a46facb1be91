// Tests of the crash simulator itself: if it lied, every crash test built on
// it would pass for the wrong reason.
#include "tests/support/sim_region.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/status_matchers.h"

namespace daxkv::testing {
namespace {

using ::testing::HasSubstr;

constexpr size_t kSize = 64 * 1024;

std::string LineAt(const std::vector<char>& image, size_t line) {
  return std::string(image.data() + line * kSimLineSize, kSimLineSize);
}

std::string Filled(char c) { return std::string(kSimLineSize, c); }

TEST(SimRegionTest, DescribesItselfAsSimulatedCacheLine) {
  SimRegion region(kSize);
  EXPECT_EQ(region.size(), kSize);
  EXPECT_EQ(region.info().kind, dax::BackingKind::kSimulated);
  EXPECT_EQ(region.info().granularity, dax::Granularity::kCacheLine);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(region.data()) % kSimLineSize, 0u);
}

TEST(SimRegionTest, UnflushedStoresAreNotDurable) {
  SimRegion region(kSize);
  std::memset(region.data(), 'a', kSimLineSize);
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled(0));
  EXPECT_EQ(region.NonDurableLines(), 1u);
  // keep_probability 0: every non-durable line is lost.
  EXPECT_EQ(LineAt(region.CrashImage(1, 0.0), 0), Filled(0));
  // keep_probability 1: the only newer value is kept.
  EXPECT_EQ(LineAt(region.CrashImage(1, 1.0), 0), Filled('a'));
}

TEST(SimRegionTest, FlushWithoutDrainIsNotDurable) {
  SimRegion region(kSize);
  std::memset(region.data(), 'a', kSimLineSize);
  region.Flush(region.data(), kSimLineSize);
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled(0));
  region.Drain();
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled('a'));
  EXPECT_EQ(region.NonDurableLines(), 0u);
  EXPECT_EQ(region.persist_points(), 1u);
}

TEST(SimRegionTest, DrainMakesTheFlushedSnapshotDurableNotLaterStores) {
  SimRegion region(kSize);
  std::memset(region.data(), 'a', kSimLineSize);
  region.Flush(region.data(), kSimLineSize);
  std::memset(region.data(), 'b', kSimLineSize);  // after the flush: in cache
  region.Drain();
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled('a'));
  EXPECT_EQ(region.NonDurableLines(), 1u);
}

TEST(SimRegionTest, PersistCoversEveryTouchedLine) {
  SimRegion region(kSize);
  // 10 bytes straddling the boundary between lines 1 and 2.
  char* p = region.data() + 2 * kSimLineSize - 5;
  std::memset(p, 'x', 10);
  region.Persist(p, 10);
  std::vector<char> durable = region.DurableImage();
  EXPECT_EQ(std::memcmp(durable.data() + 2 * kSimLineSize - 5, p, 10), 0);
  EXPECT_EQ(region.NonDurableLines(), 0u);
}

TEST(SimRegionTest, DrainOrdersOnlyTheCallingThreadsFlushes) {
  SimRegion region(kSize);
  std::memset(region.data(), 'a', kSimLineSize);
  std::thread other([&] { region.Flush(region.data(), kSimLineSize); });
  other.join();
  region.Drain();  // this thread flushed nothing
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled(0));
  std::thread drainer([&] {
    region.Flush(region.data(), kSimLineSize);
    region.Drain();
  });
  drainer.join();
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled('a'));
}

TEST(SimRegionTest, CopyAndSetHonourFlags) {
  SimRegion region(kSize);
  std::string a = Filled('a');
  region.Copy(region.data(), a.data(), a.size());
  EXPECT_EQ(LineAt(region.DurableImage(), 0), a);
  EXPECT_EQ(region.persist_points(), 1u);

  region.Copy(region.data() + kSimLineSize, a.data(), a.size(),
              dax::kMemNoDrain);
  EXPECT_EQ(LineAt(region.DurableImage(), 1), Filled(0));
  region.Drain();
  EXPECT_EQ(LineAt(region.DurableImage(), 1), a);

  region.Set(region.data() + 2 * kSimLineSize, 'z', kSimLineSize,
             dax::kMemNoFlush);
  region.Drain();  // nothing was flushed
  EXPECT_EQ(LineAt(region.DurableImage(), 2), Filled(0));

  region.Set(region.data() + 3 * kSimLineSize, 'z', kSimLineSize);
  EXPECT_EQ(LineAt(region.DurableImage(), 3), Filled('z'));
  EXPECT_EQ(region.persist_points(), 4u);
}

TEST(SimRegionTest, CrashImageIsReproducibleAndVariesWithSeed) {
  SimRegion region(kSize);
  for (size_t line = 0; line < 64; ++line) {
    std::memset(region.data() + line * kSimLineSize, 'a' + line % 26,
                kSimLineSize);
  }
  std::set<std::vector<char>> distinct;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    std::vector<char> image = region.CrashImage(seed);
    EXPECT_EQ(image, region.CrashImage(seed)) << "seed " << seed;
    distinct.insert(image);
  }
  EXPECT_GT(distinct.size(), 4u);
}

TEST(SimRegionTest, LinesAreKeptOrDroppedWhole) {
  SimRegion region(kSize);
  for (size_t line = 0; line < 128; ++line) {
    std::memset(region.data() + line * kSimLineSize, 'q', kSimLineSize);
  }
  std::vector<char> image = region.CrashImage(42);
  size_t kept = 0;
  for (size_t line = 0; line < 128; ++line) {
    std::string got = LineAt(image, line);
    ASSERT_TRUE(got == Filled('q') || got == Filled(0)) << "line " << line;
    kept += got == Filled('q');
  }
  // 128 fair coins: far from all or nothing.
  EXPECT_GT(kept, 20u);
  EXPECT_LT(kept, 108u);
}

TEST(SimRegionTest, CrashImageCanHoldAnyIntermediateFlushedValue) {
  SimRegion region(kSize);
  std::set<std::string> seen;
  std::memset(region.data(), 'a', kSimLineSize);
  region.Flush(region.data(), kSimLineSize);
  std::memset(region.data(), 'b', kSimLineSize);
  for (uint64_t seed = 0; seed < 64; ++seed) {
    seen.insert(LineAt(region.CrashImage(seed), 0));
  }
  EXPECT_EQ(seen, (std::set<std::string>{Filled(0), Filled('a'), Filled('b')}));
}

// x86 makes only aligned 8-byte stores atomic: with tear_words a line that
// was not durable may come back as any word-by-word mix of its values, but
// never with a word torn inside.
TEST(SimRegionTest, TearWordsMixesWordsButNeverTearsOne) {
  SimRegion region(kSize);
  std::memset(region.data(), 'a', kSimLineSize);
  SimRegion::CrashOptions tear;
  tear.tear_words = true;
  std::set<std::string> seen;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::string line = LineAt(region.CrashImage(seed, tear), 0);
    for (size_t w = 0; w < kSimLineSize; w += 8) {
      std::string word = line.substr(w, 8);
      ASSERT_TRUE(word == std::string(8, 'a') || word == std::string(8, '\0'))
          << "seed " << seed << " word " << w / 8;
    }
    seen.insert(line);
  }
  // Far more than the two whole-line outcomes of the default model.
  EXPECT_GT(seen.size(), 20u);
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::string line = LineAt(region.CrashImage(seed), 0);
    EXPECT_TRUE(line == Filled('a') || line == Filled(0)) << seed;
  }
}

// A line stored to twice between its flushes may persist in the state it
// held in between, when some region call observed that state.
TEST(SimRegionTest, IntermediateStatesOfALineStoredTwice) {
  SimRegion region(kSize);
  region.SetStoreHistory(true);
  std::memset(region.data(), 'a', kSimLineSize);
  // Another thread's persist elsewhere observes line 0 holding 'a'.
  std::thread other([&] {
    std::memset(region.data() + 8 * kSimLineSize, 'x', kSimLineSize);
    region.Persist(region.data() + 8 * kSimLineSize, kSimLineSize);
  });
  other.join();
  std::memset(region.data(), 'b', kSimLineSize);
  SimRegion::CrashOptions mid;
  mid.intermediate_states = true;
  std::set<std::string> with, without;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    with.insert(LineAt(region.CrashImage(seed, mid), 0));
    without.insert(LineAt(region.CrashImage(seed), 0));
  }
  EXPECT_EQ(with, (std::set<std::string>{Filled(0), Filled('a'), Filled('b')}));
  EXPECT_EQ(without, (std::set<std::string>{Filled(0), Filled('b')}));
  // Once the line is durable, its older states are gone.
  region.Persist(region.data(), kSimLineSize);
  std::memset(region.data(), 'c', kSimLineSize);
  std::set<std::string> after;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    after.insert(LineAt(region.CrashImage(seed, mid), 0));
  }
  EXPECT_EQ(after, (std::set<std::string>{Filled('b'), Filled('c')}));
}

TEST(SimRegionTest, InjectedPersistFailureIsStickyAndLosesTheWrite) {
  SimRegion region(kSize);
  EXPECT_OK(region.PersistError());
  std::memset(region.data(), 'a', kSimLineSize);
  region.Persist(region.data(), kSimLineSize);  // point 1
  region.FailPersists(2);
  std::memset(region.data(), 'b', kSimLineSize);
  region.Persist(region.data(), kSimLineSize);  // point 2: fails
  Status s = region.PersistError();
  EXPECT_THAT(s, StatusIs(StatusCode::kIOError));
  EXPECT_NE(s.message().find("persist point 2"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled('a'));
  std::memset(region.data(), 'c', kSimLineSize);
  region.Persist(region.data(), kSimLineSize);  // still failing
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled('a'));
  EXPECT_EQ(region.PersistError(), s);
}

// A write-back error reported once (count 1): later persists succeed again,
// but the error stays reported.
TEST(SimRegionTest, OneFailedPersistStaysReported) {
  SimRegion region(kSize);
  region.FailPersists(1, 1);
  std::memset(region.data(), 'a', kSimLineSize);
  region.Persist(region.data(), kSimLineSize);  // point 1: fails
  std::memset(region.data() + kSimLineSize, 'b', kSimLineSize);
  region.Persist(region.data() + kSimLineSize, kSimLineSize);  // succeeds
  EXPECT_EQ(LineAt(region.DurableImage(), 0), Filled(0));
  EXPECT_EQ(LineAt(region.DurableImage(), 1), Filled('b'));
  EXPECT_THAT(region.PersistError(),
              StatusIs(StatusCode::kIOError,
                       HasSubstr("simulated persist failure at persist "
                                 "point 1")));
}

TEST(SimRegionTest, HookSeesEveryPersistPointBeforeItIsDurable) {
  SimRegion region(kSize);
  std::vector<uint64_t> points;
  std::vector<std::string> durable_at_hook;
  region.SetPersistHook([&](uint64_t point) {
    points.push_back(point);
    durable_at_hook.push_back(LineAt(region.DurableImage(), 0));
  });
  for (char c : {'a', 'b', 'c'}) {
    std::memset(region.data(), c, kSimLineSize);
    region.Persist(region.data(), kSimLineSize);
  }
  EXPECT_EQ(points, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(durable_at_hook,
            (std::vector<std::string>{Filled(0), Filled('a'), Filled('b')}));
}

TEST(SimRegionTest, CaptureAtReturnsTheImageOfThatPoint) {
  SimRegion region(kSize);
  region.CaptureAt(2, 7);
  std::vector<char> expected;
  region.SetPersistHook([&](uint64_t point) {
    if (point == 2) expected = region.CrashImage(7);
  });
  for (char c : {'a', 'b', 'c'}) {
    std::memset(region.data(), c, kSimLineSize);
    region.Persist(region.data(), kSimLineSize);
  }
  std::vector<char> captured = region.TakeCapturedImage();
  ASSERT_EQ(captured.size(), kSize);
  EXPECT_EQ(captured, expected);
  std::string line = LineAt(captured, 0);
  EXPECT_TRUE(line == Filled('a') || line == Filled('b'));
}

TEST(SimRegionTest, ImageReopensAsAFreshDurableRegion) {
  SimRegion region(kSize);
  std::memset(region.data() + 100, 'k', 300);
  region.Persist(region.data() + 100, 300);
  std::vector<char> image = region.CrashImage(3);
  auto reopened = SimRegion::FromImage(image);
  ASSERT_EQ(reopened->size(), kSize);
  EXPECT_EQ(std::memcmp(reopened->data(), image.data(), kSize), 0);
  EXPECT_EQ(reopened->NonDurableLines(), 0u);
  EXPECT_EQ(reopened->persist_points(), 0u);
}

TEST(SimRegionTest, GrowKeepsDataFixedWithinCapacity) {
  SimRegion region(kSize, 4 * kSize);
  char* base = region.data();
  ASSERT_OK(region.Grow(2 * kSize));
  EXPECT_EQ(region.data(), base);
  EXPECT_EQ(region.size(), 2 * kSize);
  EXPECT_EQ(region.DurableImage().size(), 2 * kSize);
  Status too_big = region.Grow(8 * kSize);
  EXPECT_THAT(too_big, StatusIs(StatusCode::kNotSupported));
}

TEST(SimRegionTest, ConcurrentWritersOnDisjointRanges) {
  SimRegion region(kSize);
  constexpr int kThreads = 4;
  constexpr size_t kSlice = kSize / kThreads;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&region, t] {
      char* base = region.data() + t * kSlice;
      for (size_t off = 0; off < kSlice; off += 256) {
        std::memset(base + off, 'A' + t, 256);
        region.Persist(base + off, 256);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(region.NonDurableLines(), 0u);
  EXPECT_EQ(region.persist_points(), kSize / 256);
  std::vector<char> durable = region.DurableImage();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(durable[t * kSlice], 'A' + t);
    EXPECT_EQ(durable[(t + 1) * kSlice - 1], 'A' + t);
  }
}

}  // namespace
}  // namespace daxkv::testing
