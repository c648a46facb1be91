// The scrub after a snapshot open (engine/scrub.cc): it verifies every
// record a snapshot open did not read, exactly as a scan would; damage it
// finds is latched, never served, never copied by compaction under a fresh
// checksum, and named by the next open, which scans.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

std::string Key(int i) { return "key" + std::to_string(i); }

// A value no other record holds, so that its bytes can be found in the pool.
const std::string& VictimValue() {
  static const std::string v = [] {
    std::string s;
    for (int i = 0; s.size() < 300; ++i) s += "victim-" + std::to_string(i);
    return s;
  }();
  return v;
}

// Every pool offset where `needle` occurs.
std::vector<size_t> FindAll(const testing::HeapRegion::Buffer& buffer,
                            const std::string& needle) {
  std::vector<size_t> at;
  auto it = buffer->begin();
  while ((it = std::search(it, buffer->end(), needle.begin(), needle.end())) !=
         buffer->end()) {
    at.push_back(static_cast<size_t>(it - buffer->begin()));
    ++it;
  }
  return at;
}

class ScrubTest : public ::testing::Test {
 protected:
  ScrubTest() : f_(16 << 20, 256 << 10) {}

  // Puts, overwrites (dead bytes for compaction), deletes, a span and the
  // victim, in the middle; then a clean close, which writes the snapshot.
  void SetUp() override {
    ASSERT_OK(f_.Open());
    for (int i = 0; i < 4000; ++i) {
      if (i == 2000) {
        ASSERT_OK(f_.db->Put("victim", VictimValue()));
      }
      ASSERT_OK(f_.db->Put(Key(i), std::string(40 + i % 300, 'a' + i % 26)));
    }
    for (int i = 0; i < 4000; i += 2) ASSERT_OK(f_.db->Put(Key(i), "again"));
    for (int i = 1; i < 4000; i += 7) ASSERT_OK(f_.db->Delete(Key(i)));
    ASSERT_OK(f_.db->Put("span", std::string(600 << 10, 's')));
    f_.db.reset();
  }

  // Flips one bit in the middle of the victim's value.
  void DamageVictim() {
    const std::vector<size_t> at = FindAll(f_.buffer, VictimValue());
    ASSERT_EQ(at.size(), 1u);
    (*f_.buffer)[at[0] + 100] ^= 0x08;
  }

  void OpenFromSnapshot() {
    ASSERT_OK(f_.Open());
    ASSERT_EQ(f_.db->GetStats().index_recovery, "snapshot");
  }

  EngineFixture f_;
};

TEST_F(ScrubTest, BackgroundScrubVerifiesWhatAScanWouldHaveRead) {
  EngineFixture scanned;
  scanned.buffer = f_.Snapshot();
  scanned.options = f_.options;
  scanned.options.index_snapshot = false;
  ASSERT_OK(scanned.Open());
  const uint64_t scan_records = scanned.db->GetStats().recovered_records;
  ASSERT_GT(scan_records, 4000u);

  f_.options.background_scrub = true;
  OpenFromSnapshot();
  EXPECT_GT(f_.db->GetStats().scrub_pending_segments, 0u);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f_.db->GetStats().scrub_pending_segments != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const Stats st = f_.db->GetStats();
  EXPECT_EQ(st.scrub_pending_segments, 0u);
  EXPECT_EQ(st.scrub_verified_records, scan_records);
  EXPECT_EQ(st.scrub_damaged_records, 0u);
  EXPECT_EQ(st.background_error, "");
  EXPECT_OK(f_.db->Put("after", "scrub"));
}

TEST_F(ScrubTest, DamageIsLatchedNeverServedAndNamedByTheNextOpen) {
  ASSERT_NO_FATAL_FAILURE(DamageVictim());
  OpenFromSnapshot();
  ASSERT_OK_AND_ASSIGN(uint64_t left, TEST_Scrub(f_.db.get(), 1 << 20));
  EXPECT_EQ(left, 0u);
  const Stats st = f_.db->GetStats();
  EXPECT_EQ(st.scrub_damaged_records, 1u);
  EXPECT_NE(st.background_error.find("1 damaged record(s)"), std::string::npos)
      << st.background_error;

  EXPECT_THAT(f_.db->Get("victim").status(), StatusIs(StatusCode::kCorruption));
  ASSERT_OK_AND_ASSIGN(auto other, f_.db->Get(Key(2001)));
  EXPECT_EQ(other.value, std::string(40 + 2001 % 300, 'a' + 2001 % 26));
  std::vector<std::string_view> keys = {"victim", "span"};
  std::vector<std::string> values(2);
  std::vector<Status> statuses(2);
  f_.db->MultiGet(keys, values, statuses);
  EXPECT_THAT(statuses[0], StatusIs(StatusCode::kCorruption));
  EXPECT_OK(statuses[1]);
  for (bool txn : {false, true}) {  // a read view, and a transaction's read
    std::string value;
    auto read = [&](ReadOps& r) { return r.Get("victim", &value); };
    const Status s = txn ? Tx(f_.db.get(), [&](Txn& t) { return read(t); })
                         : f_.db->RunRead({"victim"}, read);
    EXPECT_THAT(s, StatusIs(StatusCode::kCorruption)) << "txn " << txn;
  }
  EXPECT_THAT(f_.db->Put("new", "value"), StatusIs(StatusCode::kCorruption));

  // The close writes no snapshot: the next open scans and refuses, naming
  // the record, as it would have without the snapshot.
  f_.db.reset();
  const Status refused = f_.Open();
  EXPECT_THAT(refused, StatusIs(StatusCode::kCorruption));
  f_.options.repair = true;
  ASSERT_OK(f_.Open());
  EXPECT_EQ(f_.db->GetStats().dropped_records, 1u);
  EXPECT_THAT(f_.db->Get("victim").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(f_.db->Get(Key(2001)).status());
  EXPECT_OK(f_.db->Put("new", "value"));
}

TEST_F(ScrubTest, CompactionScrubsItsVictimBeforeCopyingIt) {
  ASSERT_NO_FATAL_FAILURE(DamageVictim());
  OpenFromSnapshot();
  // Every segment is a candidate (half the puts are dead); no background
  // scrub ran, so compaction meets the damaged record first.
  EXPECT_GT(f_.db->GetStats().scrub_pending_segments, 0u);
  auto compacted = TEST_Compact(f_.db.get(), 1 << 20);
  EXPECT_THAT(compacted.status(), StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(f_.db->GetStats().scrub_damaged_records, 1u);
  // No copy of the victim under a fresh checksum: a scan of the pool still
  // finds the one damaged record.
  f_.db.reset();
  f_.options.index_snapshot = false;
  const Status refused = f_.Open();
  EXPECT_THAT(refused, StatusIs(StatusCode::kCorruption));
  EXPECT_NE(refused.ToString().find("1 damaged"), std::string::npos)
      << refused.ToString();
}

}  // namespace
}  // namespace daxkv::engine
