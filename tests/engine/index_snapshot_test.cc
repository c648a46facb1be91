// The clean-close index snapshot (engine/index_snapshot.h): a clean reopen
// loads it and ends up exactly where a scan of the same bytes ends up; a
// missing, stale or damaged snapshot is ignored (the open scans and says
// why). Crashes during the close that writes it and the open that loads it
// are covered by every crash test that reopens (crash_harness.h: Reopen).
#include "engine/index_snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <tuple>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/txn.h"
#include "tests/engine/clean_close_fixture.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

namespace sn = snapshot;

std::string Key(int i) { return "key" + std::to_string(i); }

// What a reopen must reproduce: every key with its value and expiry, the
// system namespace, and what the scan derives (live and used bytes, free
// segments, expiring keys).
struct View {
  std::map<std::string, std::pair<std::string, int64_t>> keys;
  DB::SystemEntries system;
  std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t> stats;
  bool operator==(const View&) const = default;
};

View ObserveKeys(DB& db) {
  View v;
  uint64_t cursor = 0;
  do {
    auto page = db.Scan(cursor, 500);
    EXPECT_OK(page);
    if (!page.ok()) break;
    for (const std::string& k : page->keys) {
      auto r = db.Get(k);
      EXPECT_OK(r);
      if (r.ok()) v.keys[k] = {r->value, r->expire_at_ms};
    }
    cursor = page->next_cursor;
  } while (cursor != 0);
  auto sys = db.ListSystem("");
  EXPECT_OK(sys);
  if (sys.ok()) v.system = *sys;
  const Stats st = db.GetStats();
  v.stats = {st.keys, st.expiring_keys, st.live_bytes, st.used_bytes,
             st.free_segments};
  return v;
}

// Overwrites, deletes, expiries, a rename, system entries and a compaction
// (freed segments, relocated entries, tombstones kept for dead puts).
void PopulateKeys(DB& db) {
  for (int i = 0; i < 3000; ++i) {
    ASSERT_OK(db.Put(Key(i), std::string(50 + i % 200, 'a' + i % 26),
                     i % 7 == 0 ? InOneHour() + i : 0));
  }
  for (int i = 0; i < 3000; i += 3) ASSERT_OK(db.Put(Key(i), "again"));
  for (int i = 1; i < 3000; i += 5) ASSERT_OK(db.Delete(Key(i)));
  ASSERT_OK(db.Rename(Key(2), "renamed"));
  ASSERT_OK(db.Put("span", std::string(600 << 10, 's')));  // 3 segments
  WriteBatch sys;
  sys.Put("lib:one", "return 1");
  sys.Put("lib:two", "return 2");
  ASSERT_OK(db.WriteSystem(sys));
  ASSERT_OK(TEST_Compact(&db, 4));
}

class IndexSnapshotTest : public CleanCloseFixture<View> {
 protected:
  void Populate(DB& db) override { PopulateKeys(db); }
  View Observe(DB& db) override { return ObserveKeys(db); }
};

TEST_F(IndexSnapshotTest, CleanReopenLoadsItAndMatchesAScanOfTheSameBytes) {
  auto image = f_.Snapshot();
  EXPECT_EQ(Reopen(), "snapshot");
  const View loaded = Observe(*f_.db);
  f_.db.reset();

  EngineFixture scanned;
  ASSERT_NO_FATAL_FAILURE(OpenScanning(image, &scanned));
  EXPECT_TRUE(Observe(*scanned.db) == loaded);
}

TEST_F(IndexSnapshotTest, WritesAfterASnapshotOpenSurviveTheNextCloseAndCrash) {
  EXPECT_EQ(Reopen(), "snapshot");
  ASSERT_OK(f_.db->Put("new", "value"));
  ASSERT_OK(f_.db->Delete(Key(0)));
  ASSERT_OK(TEST_Compact(f_.db, 8));
  closed_ = Observe(*f_.db);
  // A crash now: the open cleared the snapshot, so this image scans.
  EngineFixture crashed;
  crashed.buffer = f_.Snapshot();
  crashed.options = f_.options;
  ASSERT_OK(crashed.Open());
  EXPECT_EQ(crashed.db->GetStats().index_recovery, "scan: no snapshot");
  EXPECT_FALSE(crashed.db->GetStats().clean_shutdown);
  EXPECT_TRUE(Observe(*crashed.db) == closed_);
  crashed.db.reset();
  f_.db.reset();
  EXPECT_EQ(Reopen(), "snapshot");
}

TEST_F(IndexSnapshotTest, DamagedChunkOrHeaderIsIgnored) {
  const sn::Chunk first = ChunkAt(0);
  const uint64_t chunk_payload = SuperBlockA().data_offset +
                                 first.segment * SuperBlockA().segment_size +
                                 format::kSegmentHeaderSize;
  (*f_.buffer)[chunk_payload + first.bytes / 2] ^= 0x10;
  EXPECT_EQ(Reopen(), "scan: chunk 0 (segment " +
                          std::to_string(first.segment) +
                          ") checksum mismatch");
  f_.db.reset();
  (*f_.buffer)[HeaderOffset() + 60] ^= 0x01;  // last_seq
  EXPECT_EQ(Reopen(), "scan: header checksum mismatch");
}

TEST_F(IndexSnapshotTest, SegmentStateChangedSinceTheCloseIsNoticed) {
  // One flipped bit in an in-use segment's state word: the snapshot must
  // not paper over it; the scan reports it, and repair rewrites it.
  const format::SuperBlock sb = SuperBlockA();
  uint64_t in_use = 0;
  for (uint64_t i = 0; i < sb.segment_count && in_use == 0; ++i) {
    const uint64_t off = sb.data_offset + i * sb.segment_size;
    format::DecodedState d = format::DecodeStateWord(
        format::Load64(f_.buffer->data() + off + format::kStateWordOffset),
        sb.format_version);
    if (d.state == format::SegState::kInUse) in_use = off;
  }
  ASSERT_NE(in_use, 0u);
  (*f_.buffer)[in_use + format::kStateWordOffset] ^= 0x04;
  // Refused: a snapshot open would succeed, reading no state word; the
  // scan reports the damage instead.
  const Status refused = f_.Open();
  EXPECT_THAT(refused, StatusIs(StatusCode::kCorruption));
  EXPECT_NE(refused.ToString().find("state word damaged"), std::string::npos)
      << refused.ToString();
  f_.options.repair = true;  // a repair open always scans
  EXPECT_EQ(Reopen(), "scan: Options::repair verifies every record");
  f_.db.reset();
  f_.options.repair = false;
  EXPECT_EQ(Reopen(), "snapshot");  // the repaired pool's clean close
}

TEST_F(IndexSnapshotTest, SnapshotOfAnotherGenerationIsStale) {
  // An older binary opens and closes the pool: it keeps the reserved word
  // naming the snapshot, but every superblock write bumps the generation.
  format::SuperBlock sb = SuperBlockA();
  sb.generation += 2;
  WriteSuperBlocks(sb);
  EXPECT_EQ(Reopen(), "scan: stale (generation " +
                          std::to_string(sb.generation - 2) + ", superblock " +
                          std::to_string(sb.generation) + ")");
}

TEST_F(IndexSnapshotTest, UncleanSuperblockNeverLoadsIt) {
  format::SuperBlock sb = SuperBlockA();
  sb.clean_shutdown = 0;
  WriteSuperBlocks(sb);
  EXPECT_EQ(Reopen(), "scan: the last close was not clean");
}

TEST(IndexSnapshotPoolTest, TooFewFreeSegmentsMeansNoSnapshotAndNoLoss) {
  // 8 segments of 64 KiB; the empty index alone needs several of them.
  EngineFixture f(format::kDataOffset + 8 * (64 << 10), 64 << 10);
  ASSERT_OK(f.Open());
  std::map<std::string, std::string> written;
  for (int i = 0;; ++i) {
    const std::string value(400, 'a' + i % 26);
    const Status s = f.db->Put(Key(i), value);
    if (s.code() == StatusCode::kNoSpace) break;
    ASSERT_OK(s);
    written[Key(i)] = value;
  }
  ASSERT_GT(written.size(), 100u);
  f.db.reset();
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->GetStats().index_recovery, "scan: no snapshot");
  for (const auto& [k, v] : written) {
    auto r = f.db->Get(k);
    ASSERT_OK(r);
    EXPECT_EQ(r->value, v);
  }
}

}  // namespace
}  // namespace daxkv::engine
