// Issue 11, finding 13a: "after deletes, a 100 MB value no longer fits in 5
// free segments, because it needs 4 contiguous ones". A span that finds
// enough free segments but no run of them now has one made: compaction
// empties the cheapest window of sealed log segments (engine/defrag.cc).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/pool_inspect.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/heap_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSeg = 64 << 10;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%04d", i);
  return buf;
}

// (longest run of free segments, free segments) as the pool reads.
std::pair<uint64_t, uint64_t> FreeRuns(const testing::HeapRegion::Buffer& b) {
  testing::HeapRegion region(b);
  auto r = InspectPool(region, InspectOptions{});
  EXPECT_OK(r);
  uint64_t run = 0, longest = 0, free = 0;
  for (const SegmentReport& s : r->segments) {
    const bool f = s.state == "free" || s.state == "unused";
    free += f;
    run = f ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return {longest, free};
}

class SpanDefragTest : public ::testing::Test {
 protected:
  SpanDefragTest() : f_(4 << 20, kSeg) {}

  // Fills the pool's log segments with 8 records each until 3 segments
  // are left, then deletes the keys of every other segment and compacts:
  // plenty of free segments, scattered between live ones.
  void SetUp() override {
    ASSERT_OK(f_.Open());
    for (int i = 0; f_.db->GetStats().free_segments > 3; ++i) {
      values_.push_back(crash::MakeValue(Key(i), i, 8000));
      ASSERT_OK(f_.db->Put(Key(i), values_.back()));
    }
    for (size_t i = 0; i < values_.size(); ++i) {
      if ((i / 8) % 2 == 0) {
        ASSERT_OK(f_.db->Delete(Key(static_cast<int>(i))));
        values_[i].clear();
      }
    }
    ASSERT_OK(TEST_Compact(f_.db, 1000));
  }

  void ExpectValues() {
    for (size_t i = 0; i < values_.size(); ++i) {
      auto got = f_.db->Get(Key(static_cast<int>(i)));
      if (values_[i].empty()) {
        EXPECT_THAT(got, StatusIs(StatusCode::kNotFound)) << Key(i);
        continue;
      }
      ASSERT_OK(got) << Key(i);
      EXPECT_EQ(got->value, values_[i]) << Key(i);
    }
  }

  EngineFixture f_;
  std::vector<std::string> values_;  // "" = deleted
};

TEST_F(SpanDefragTest, ScatteredFreeSegmentsAreCompactedIntoARun) {
  const std::string wide(static_cast<size_t>(5.5 * kSeg), 'w');
  const uint64_t need =
      format::SpanSegments(format::RecordSize(4, wide.size()), kSeg);
  auto [longest, free] = FreeRuns(f_.buffer);
  ASSERT_LT(longest, need) << "the pool is not fragmented";
  ASSERT_GE(free, need + 2) << "not enough free segments to make a run";
  Status s = f_.db->Put("wide", wide);
  ASSERT_OK(s);
  ExpectValues();
  ASSERT_OK(f_.Reopen());
  ExpectValues();
  auto got = f_.db->Get("wide");
  ASSERT_OK(got);
  EXPECT_TRUE(got->value == wide);
  testing::HeapRegion region(f_.buffer);
  InspectOptions io;
  io.verify = true;
  auto r = InspectPool(region, io);
  ASSERT_OK(r);
  EXPECT_EQ(r->repairable_problems + r->unrecoverable_problems, 0u);
  EXPECT_EQ(r->spans, 1u);
}

// Not enough free segments at all: NoSpace as before, nothing moved in
// vain that loses anything.
TEST_F(SpanDefragTest, TooLittleFreeSpaceIsStillNoSpace) {
  auto [longest, free] = FreeRuns(f_.buffer);
  const std::string huge((free + 1) * kSeg, 'h');
  Status s = f_.db->Put("huge", huge);
  ASSERT_THAT(s, StatusIs(StatusCode::kNoSpace));
  ExpectValues();
  ASSERT_OK(f_.Reopen());
  ExpectValues();
}

}  // namespace
}  // namespace daxkv::engine
