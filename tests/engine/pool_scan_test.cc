// The pool scan recovery and daxkv-inspect share (engine/pool_scan.h), run
// on pool images the engine wrote: what it indexes and counts, and what it
// makes of a torn tail and of a corrupt record.
#include "engine/pool_scan.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/format.h"
#include "engine/index.h"
#include "engine/key_hash.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSegment = 64 << 10;

struct Scanned {
  std::unique_ptr<Index> index;
  PoolScan scan;
  format::SuperBlock sb{};

  // The location of `key`'s indexed entry, 0 if none.
  uint64_t Find(const std::string& key) const {
    const KeyHash kh(key);
    return index->Find(index->shard(kh), kh, key).loc;
  }
};

void Scan(const std::vector<char>& bytes, int threads, Scanned* out) {
  SuperBlockRead read;
  ASSERT_OK(ReadSuperBlocks(bytes.data(), bytes.size(), &read));
  ASSERT_TRUE(read.valid_a && read.valid_b);
  out->sb = read.sb;
  out->index = std::make_unique<Index>(bytes.data());
  ScanOptions options;
  options.threads = threads;
  ScanPool(bytes.data(), read.sb, out->index.get(), options, &out->scan);
}

std::string Value(int i) { return std::string(100 + i % 50, 'a' + i % 26); }

class PoolScanTest : public ::testing::Test {
 protected:
  PoolScanTest() : f_(2 << 20, kSegment) {}

  // Segment and segment-relative offset of the record holding the entry at
  // `loc`.
  std::pair<uint64_t, uint32_t> RecordOf(const Scanned& s, uint64_t loc) {
    const uint64_t rec = loc - 8;
    const uint64_t seg = (rec - s.sb.data_offset) / s.sb.segment_size;
    return {seg, static_cast<uint32_t>(rec - SegmentOffset(s.sb, seg))};
  }

  EngineFixture f_;
};

TEST_F(PoolScanTest, IndexesTheNewestEntryOfEveryKeyWithAnyThreadCount) {
  ASSERT_OK(f_.Open());
  std::map<std::string, std::string> model;
  for (int i = 0; i < 600; ++i) {
    std::string key = "key" + std::to_string(i);
    ASSERT_OK(f_.db->Put(key, Value(i)));
    model[key] = Value(i);
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(f_.db->Delete("key" + std::to_string(i)));
    model.erase("key" + std::to_string(i));
  }
  for (int i = 50; i < 100; ++i) {
    ASSERT_OK(f_.db->Put("key" + std::to_string(i), "new"));
    model["key" + std::to_string(i)] = "new";
  }
  f_.db.reset();  // clean close

  for (int threads : {1, 3}) {
    Scanned s;
    ASSERT_NO_FATAL_FAILURE(Scan(*f_.buffer, threads, &s));
    EXPECT_TRUE(s.scan.problems.empty()) << s.scan.problems[0].what;
    EXPECT_EQ(s.scan.records, 700u) << threads << " threads";
    EXPECT_EQ(s.scan.dropped_records, 0u);
    uint64_t in_use = 0;
    uint64_t sealed = 0;
    uint64_t records = 0;
    for (const SegmentScan& seg : s.scan.segments) {
      if (seg.state != SegmentState::kInUse) continue;
      ++in_use;
      sealed += seg.sealed;
      records += seg.records;
      EXPECT_FALSE(seg.torn_tail);
    }
    EXPECT_GT(sealed, 0u) << "the keys should fill more than one segment";
    EXPECT_GE(in_use, 2u);
    EXPECT_EQ(records, s.scan.records);
    for (int i = 0; i < 600; ++i) {
      const std::string key = "key" + std::to_string(i);
      const uint64_t loc = s.Find(key);
      auto it = model.find(key);
      if (it == model.end()) {
        EXPECT_EQ(loc, 0u) << key << " was deleted";
        continue;
      }
      ASSERT_NE(loc, 0u) << key;
      EXPECT_EQ(format::EntryValue(f_.buffer->data(), loc), it->second) << key;
    }
  }
}

// Unsynced writes cut short by a crash: the record being written when the
// power failed ends its segment's scan; nothing before it is lost and it
// is not reported as damage (it was never acknowledged).
TEST_F(PoolScanTest, TornTailEndsItsSegmentScanWithoutDamage) {
  ASSERT_OK(f_.Open());
  WriteOptions unsynced;
  unsynced.sync = false;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(f_.db->Put("k" + std::to_string(i), Value(i), 0, unsynced));
  }
  std::vector<char> image = *f_.Snapshot();
  f_.db.reset();

  Scanned before;
  ASSERT_NO_FATAL_FAILURE(Scan(image, 1, &before));
  const uint64_t last = before.Find("k19");
  ASSERT_NE(last, 0u);
  const auto [seg, off] = RecordOf(before, last);
  ASSERT_GE(off, before.scan.segments[seg].watermark)
      << "the last record must lie past the durable watermark";
  // Half the last record's value never reached the medium.
  image[last + format::kEntryHeaderSize + 3 + 60] ^= 0x5a;

  Scanned after;
  ASSERT_NO_FATAL_FAILURE(Scan(image, 1, &after));
  const SegmentScan& ss = after.scan.segments[seg];
  EXPECT_TRUE(ss.torn_tail);
  EXPECT_EQ(ss.tail, off);
  EXPECT_TRUE(ss.damaged.empty());
  EXPECT_EQ(after.scan.dropped_records, 0u);
  EXPECT_EQ(after.scan.records, before.scan.records - 1);
  EXPECT_EQ(after.Find("k19"), 0u);
  for (int i = 0; i < 19; ++i) {
    EXPECT_EQ(after.Find("k" + std::to_string(i)),
              before.Find("k" + std::to_string(i)))
        << i;
  }
}

// A flipped bit in a sealed segment is media corruption: that record alone
// is dropped and reported, and the scan goes on past it.
TEST_F(PoolScanTest, CorruptRecordInASealedSegmentIsDroppedAndReported) {
  ASSERT_OK(f_.Open());
  for (int i = 0; i < 600; ++i) {
    ASSERT_OK(f_.db->Put("key" + std::to_string(i), Value(i)));
  }
  f_.db.reset();
  std::vector<char> image = *f_.buffer;

  Scanned before;
  ASSERT_NO_FATAL_FAILURE(Scan(image, 1, &before));
  const uint64_t victim = before.Find("key10");
  ASSERT_NE(victim, 0u);
  const auto [seg, off] = RecordOf(before, victim);
  ASSERT_TRUE(before.scan.segments[seg].sealed);
  image[victim + format::kEntryHeaderSize + 5 + 20] ^= 0x01;

  Scanned after;
  ASSERT_NO_FATAL_FAILURE(Scan(image, 2, &after));
  EXPECT_EQ(after.scan.dropped_records, 1u);
  ASSERT_EQ(after.scan.problems.size(), 1u);
  EXPECT_NE(after.scan.problems[0].what.find("record checksum mismatch"),
            std::string::npos)
      << after.scan.problems[0].what;
  EXPECT_EQ(after.scan.problems[0].offset, SegmentOffset(after.sb, seg) + off);
  const SegmentScan& ss = after.scan.segments[seg];
  ASSERT_EQ(ss.damaged.size(), 1u);
  EXPECT_EQ(ss.damaged[0].first, off);
  EXPECT_FALSE(ss.torn_tail);
  EXPECT_EQ(after.Find("key10"), 0u);
  for (int i = 0; i < 600; ++i) {
    if (i == 10) continue;
    EXPECT_EQ(after.Find("key" + std::to_string(i)),
              before.Find("key" + std::to_string(i)))
        << i;
  }
}

}  // namespace
}  // namespace daxkv::engine
