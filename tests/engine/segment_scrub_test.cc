// SegmentScrub's plan (each planned segment taken once, pending until
// verified) and ScrubRecords over hand-built segments: valid records pass,
// a damaged payload is one damaged record, a damaged header makes the rest
// of the segment one damaged range, a record of another epoch is damage.
#include "engine/segment_scrub.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/format.h"

namespace daxkv::engine {
namespace {

constexpr uint32_t kSeed = 0x5eed;
constexpr uint64_t kEpoch = 7;
constexpr uint64_t kSegOff = 1 << 20;  // the segment's pool offset

// A segment buffer with `n` put records after its header; *offs gets each
// record's offset in the segment.
std::vector<char> SegmentWith(int n, std::vector<uint32_t>* offs,
                              uint32_t* tail) {
  std::vector<char> seg(64 << 10, 0);
  uint32_t off = format::kSegmentHeaderSize;
  for (int i = 0; i < n; ++i) {
    const std::string key = "key" + std::to_string(i);
    const std::string value(40 + i, 'v');
    format::EntryHeader e{};
    e.type = format::kPut;
    e.key_len = static_cast<uint32_t>(key.size());
    e.value_len = static_cast<uint32_t>(value.size());
    e.seq = static_cast<uint64_t>(i) + 1;
    e.epoch_lo = static_cast<uint32_t>(kEpoch);
    offs->push_back(off);
    off += static_cast<uint32_t>(
        format::EncodeRecord(seg.data() + off, kSeed, e, key, value));
  }
  *tail = off;
  return seg;
}

TEST(SegmentScrubTest, EachPlannedSegmentIsTakenOnceAndPendingUntilVerified) {
  SegmentScrub scrub;
  EXPECT_EQ(scrub.Next(), -1);
  scrub.Plan({{4, {1, 100}}, {2, {3, 200}}, {9, {5, 300}}});
  EXPECT_EQ(scrub.pending(), 3u);
  EXPECT_EQ(scrub.Next(), 2);
  const auto t = scrub.Take(9);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->epoch, 5u);
  EXPECT_EQ(t->tail, 300u);
  EXPECT_FALSE(scrub.Take(9).has_value()) << "taken twice";
  EXPECT_FALSE(scrub.Take(3).has_value()) << "never planned";
  EXPECT_EQ(scrub.pending(), 3u) << "taken is not yet verified";
  scrub.Verified(11);
  EXPECT_EQ(scrub.pending(), 2u);
  EXPECT_EQ(scrub.records(), 11u);
  ASSERT_TRUE(scrub.Take(scrub.Next()).has_value());
  ASSERT_TRUE(scrub.Take(scrub.Next()).has_value());
  EXPECT_EQ(scrub.Next(), -1);
  scrub.Verified(1);
  scrub.Verified(2);
  EXPECT_EQ(scrub.pending(), 0u);
  EXPECT_EQ(scrub.records(), 14u);
}

TEST(SegmentScrubTest, ValidRecordsPass) {
  std::vector<uint32_t> offs;
  uint32_t tail;
  const std::vector<char> seg = SegmentWith(5, &offs, &tail);
  const ScrubResult r =
      ScrubRecords(seg.data(), kSegOff, 3, kSeed, {kEpoch, tail});
  EXPECT_EQ(r.records, 5u);
  EXPECT_TRUE(r.damaged.empty()) << r.first;
}

TEST(SegmentScrubTest, ADamagedPayloadIsOneDamagedRecord) {
  std::vector<uint32_t> offs;
  uint32_t tail;
  std::vector<char> seg = SegmentWith(5, &offs, &tail);
  seg[offs[2] + format::kRecordHeaderSize + 6] ^= 0x40;  // in its value
  const ScrubResult r =
      ScrubRecords(seg.data(), kSegOff, 3, kSeed, {kEpoch, tail});
  EXPECT_EQ(r.records, 5u) << "the records after it are still walked";
  ASSERT_EQ(r.damaged.size(), 1u);
  EXPECT_EQ(r.damaged[0].first, kSegOff + offs[2]);
  EXPECT_EQ(r.damaged[0].second, kSegOff + offs[3]);
  EXPECT_NE(r.first.find("record fails its checksum"), std::string::npos)
      << r.first;
}

TEST(SegmentScrubTest, ADamagedHeaderLeavesTheRestUnreadable) {
  std::vector<uint32_t> offs;
  uint32_t tail;
  std::vector<char> seg = SegmentWith(5, &offs, &tail);
  seg[offs[1] + 12] ^= 0x01;  // in its entry header (key_len)
  const ScrubResult r =
      ScrubRecords(seg.data(), kSegOff, 3, kSeed, {kEpoch, tail});
  EXPECT_EQ(r.records, 2u);
  ASSERT_EQ(r.damaged.size(), 1u);
  EXPECT_EQ(r.damaged[0].first, kSegOff + offs[1]);
  EXPECT_EQ(r.damaged[0].second, kSegOff + tail);
  EXPECT_NE(r.first.find("rest of segment 3 is unreadable"), std::string::npos)
      << r.first;
}

TEST(SegmentScrubTest, RecordsOfAnotherEpochAreDamage) {
  std::vector<uint32_t> offs;
  uint32_t tail;
  const std::vector<char> seg = SegmentWith(3, &offs, &tail);
  const ScrubResult r =
      ScrubRecords(seg.data(), kSegOff, 3, kSeed, {kEpoch + 1, tail});
  EXPECT_FALSE(r.damaged.empty());
}

}  // namespace
}  // namespace daxkv::engine
