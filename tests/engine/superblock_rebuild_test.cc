// Lost superblocks (issue 11, finding 6): both superblock pages zeroed
// (wipefs, dd, damage) used to make Open treat the pool as blank and, with
// create_if_missing (the default), format over segments still holding
// data. Open now refuses, naming the evidence; RepairPool rebuilds the
// superblock from the segments; formatting over them takes an option named
// for it.
#include "engine/superblock_rebuild.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/pool_inspect.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

namespace fmt = format;
using testing::SimRegion;

constexpr size_t kSegment = 64 * 1024;
constexpr size_t kSegments = 12;

Options DbOptions(bool create) {
  return ManualOptions(kSegment, create, false);
}

class SuperblockRebuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    region_ =
        std::make_unique<SimRegion>(fmt::kDataOffset + kSegments * kSegment);
    auto db =
        DB::Open(std::make_unique<BorrowedRegion>(*region_), DbOptions(true));
    ASSERT_OK(db);
    for (int i = 0; i < 150; ++i) {
      std::string key = "key" + std::to_string(i);
      values_[key] = crash::MakeValue(key, i, 100 + i * 7 % 900);
      ASSERT_OK((*db)->Put(key, values_[key]));
    }
    db->reset();
    std::memcpy(&sb_, region_->data(), sizeof(sb_));
  }

  static std::vector<char> Wiped(std::vector<char> image) {
    std::memset(image.data(), 0, fmt::kDataOffset);
    return image;
  }

  void ExpectAllKeys(DB* db) {
    for (const auto& [key, value] : values_) {
      auto got = db->Get(key);
      ASSERT_OK(got) << key;
      EXPECT_EQ(got->value, value) << key;
    }
    EXPECT_EQ(db->Count(), values_.size());
  }

  std::unique_ptr<SimRegion> region_;
  std::map<std::string, std::string> values_;
  fmt::SuperBlock sb_{};
};

// The regression: with create_if_missing (the default) a pool with zeroed
// superblocks was formatted over, every key gone.
TEST_F(SuperblockRebuildTest, ZeroedSuperblocksAreRefusedNotFormattedOver) {
  const std::vector<char> image = Wiped(region_->DurableImage());
  SimRegion region(image);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(region), DbOptions(true));
  ASSERT_THAT(db, StatusIs(StatusCode::kCorruption))
      << "formatted over a pool with zeroed superblocks";
  const std::string why = db.status().ToString();
  EXPECT_NE(why.find(fmt::UuidToString(sb_.uuid)), std::string::npos) << why;
  EXPECT_NE(why.find("valid segment header"), std::string::npos) << why;
  EXPECT_NE(why.find("daxkv-inspect pool --repair"), std::string::npos) << why;
  EXPECT_EQ(region.DurableImage(), image) << "a refused open wrote";
  // Repair rebuilds the superblock from the segments: every key is back.
  auto repaired = RepairPool(region);
  ASSERT_OK(repaired);
  auto reopened =
      DB::Open(std::make_unique<BorrowedRegion>(region), DbOptions(false));
  ASSERT_OK(reopened);
  ExpectAllKeys(reopened->get());
}

TEST_F(SuperblockRebuildTest, RebuiltSuperblockMatchesTheLostOne) {
  const std::vector<char> image = Wiped(region_->DurableImage());
  SegmentEvidence ev = FindSegmentEvidence(image.data(), image.size());
  ASSERT_EQ(ev.pools.size(), 1u);
  EXPECT_GE(ev.headers, 2u);
  auto sb = RebuildSuperBlock(image.data(), image.size(), ev, {});
  ASSERT_OK(sb);
  EXPECT_EQ(std::memcmp(sb->uuid, sb_.uuid, 16), 0);
  EXPECT_EQ(sb->segment_size, sb_.segment_size);
  EXPECT_EQ(sb->segment_count, sb_.segment_count);
  EXPECT_EQ(sb->format_version, fmt::kFormatVersion);
  EXPECT_EQ(sb->clean_shutdown, 0u);
  SimRegion region(image);
  InspectOptions io;
  io.verify = true;
  auto report = InspectPool(region, io);
  ASSERT_OK(report);
  EXPECT_TRUE(report->superblock_rebuilt);
  EXPECT_EQ(report->keys, values_.size());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_NE(report->problems[0].what.find("rebuilt from"), std::string::npos);
  EXPECT_EQ(region.DurableImage(), image) << "inspection wrote";
}

// A crash in the middle of Flush() (superblock with the new flush_seq
// durable, segments not yet freed), then the superblocks are lost. The
// rebuilt flush_seq comes from the segments allocated since the flush, so
// the flushed keys stay gone.
TEST_F(SuperblockRebuildTest, RebuiltFlushSeqKeepsFlushedKeysGone) {
  std::vector<char> mid_flush;
  uint64_t points = 0;
  {
    auto db =
        DB::Open(std::make_unique<BorrowedRegion>(*region_), DbOptions(false));
    ASSERT_OK(db);
    region_->SetPersistHook([&](uint64_t) {
      // Points 1-2 write the superblock copies; 3 frees the first segment.
      if (++points == 3) mid_flush = region_->CrashImage(1, 0.0);
    });
    ASSERT_OK((*db)->Flush());
    region_->SetPersistHook(nullptr);
  }
  ASSERT_FALSE(mid_flush.empty());
  SimRegion region(mid_flush);
  {
    auto db =
        DB::Open(std::make_unique<BorrowedRegion>(region), DbOptions(false));
    ASSERT_OK(db);
    EXPECT_EQ((*db)->Count(), 0u);
    ASSERT_OK((*db)->Put("after", "the flush"));
  }
  std::vector<char> image = Wiped(region.DurableImage());
  SimRegion wiped(image);
  auto repaired = RepairPool(wiped);
  ASSERT_OK(repaired);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(wiped), DbOptions(false));
  ASSERT_OK(db);
  EXPECT_EQ((*db)->Count(), 1u) << "flushed keys came back";
  auto after = (*db)->Get("after");
  ASSERT_OK(after);
  EXPECT_EQ(after->value, "the flush");
}

TEST_F(SuperblockRebuildTest, FormatOverExistingDataOnlyWhenAskedByName) {
  const std::vector<char> image = Wiped(region_->DurableImage());
  SimRegion region(image);
  Options o = DbOptions(true);
  o.format_over_existing_data = true;
  {
    auto db = DB::Open(std::make_unique<BorrowedRegion>(region), o);
    ASSERT_OK(db);
    EXPECT_EQ((*db)->Count(), 0u);
    fmt::SuperBlock now;
    std::memcpy(&now, region.data(), sizeof(now));
    EXPECT_NE(std::memcmp(now.uuid, sb_.uuid, 16), 0);
  }
  // No header of the old pool survives to be mistaken for evidence later.
  std::vector<char> after = region.DurableImage();
  SegmentEvidence ev = FindSegmentEvidence(after.data(), after.size());
  for (const auto& p : ev.pools) {
    EXPECT_NE(std::memcmp(p.uuid, sb_.uuid, 16), 0) << ev.Describe();
  }
  // A valid pool is never formatted over, option or not.
  auto reopened = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  ASSERT_OK(reopened);
}

TEST_F(SuperblockRebuildTest, BlankRegionWithoutSegmentsIsStillFormatted) {
  SimRegion region(fmt::kDataOffset + 8 * kSegment);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(region), DbOptions(true));
  ASSERT_OK(db);
}

// Segments of two pools (a foreign pool's segment copied in): the rebuild
// needs to be told which one.
TEST_F(SuperblockRebuildTest, SegmentsOfTwoPoolsNeedAUuid) {
  std::vector<char> image = Wiped(region_->DurableImage());
  fmt::SegmentHeader foreign{};
  std::memcpy(foreign.magic, fmt::kSegmentMagic, 8);
  std::memset(foreign.uuid, 0x42, 16);
  foreign.epoch = 1;
  foreign.span = 1;
  foreign.crc = fmt::SegmentHeaderCrc(foreign);
  const uint64_t last = fmt::kDataOffset + (kSegments - 1) * kSegment;
  std::memcpy(image.data() + last, &foreign, sizeof(foreign));
  SegmentEvidence ev = FindSegmentEvidence(image.data(), image.size());
  ASSERT_EQ(ev.pools.size(), 2u);
  auto sb = RebuildSuperBlock(image.data(), image.size(), ev, {});
  ASSERT_THAT(sb, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(sb.status().ToString().find("--uuid"), std::string::npos);
  RebuildOptions ro;
  ro.uuid = fmt::UuidToString(sb_.uuid);
  sb = RebuildSuperBlock(image.data(), image.size(), ev, ro);
  ASSERT_OK(sb);
  EXPECT_EQ(sb->segment_size, kSegment);
}

// One segment header alone fits many segment sizes. Any of them reads
// every record there is; the rebuild takes one (saying so) unless told.
TEST(SuperblockRebuildAloneTest, AmbiguousGeometryStillReadsEveryRecord) {
  SimRegion region(fmt::kDataOffset + 32 * kSegment);
  {
    auto db =
        DB::Open(std::make_unique<BorrowedRegion>(region), DbOptions(true));
    ASSERT_OK(db);
    ASSERT_OK((*db)->Put("only", "one small record"));
  }
  std::vector<char> image = region.DurableImage();
  std::memset(image.data(), 0, fmt::kDataOffset);
  SegmentEvidence ev = FindSegmentEvidence(image.data(), image.size());
  ASSERT_EQ(ev.headers, 1u);
  std::string choice;
  auto sb = RebuildSuperBlock(image.data(), image.size(), ev, {}, &choice);
  ASSERT_OK(sb);
  EXPECT_NE(choice.find("--segment_size picks another"), std::string::npos);
  RebuildOptions ro;
  ro.segment_size = 3 * kSegment;
  EXPECT_OK(RebuildSuperBlock(image.data(), image.size(), ev, ro));
  ro.segment_size = 4096;  // below the minimum: not a candidate
  EXPECT_THAT(RebuildSuperBlock(image.data(), image.size(), ev, ro),
              StatusIs(StatusCode::kFailedPrecondition));
  for (uint64_t size : {uint64_t{0}, uint64_t{kSegment}}) {
    SCOPED_TRACE("segment size " + std::to_string(size));
    SimRegion wiped(image);
    RebuildOptions pick;
    pick.segment_size = size;
    ASSERT_OK(RepairPool(wiped, pick));
    auto db =
        DB::Open(std::make_unique<BorrowedRegion>(wiped), DbOptions(false));
    ASSERT_OK(db);
    auto got = (*db)->Get("only");
    ASSERT_OK(got);
    EXPECT_EQ(got->value, "one small record");
    Status put = (*db)->Put("more", std::string(3000, 'm'));
    ASSERT_OK(put);
  }
}

}  // namespace
}  // namespace daxkv::engine
