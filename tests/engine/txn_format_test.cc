// Collections on the medium (format version 4): older pools open, upgrade
// and take collections; a deleted or replaced collection stays dead across
// compaction and recovery (its elements are garbage, never resurrected into
// a new collection at the same key); RENAME moves a collection with its
// elements; an expired collection is reclaimed with its elements.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "engine/format.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/support/fake_clock.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

class TxnFormatTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }
  Status HSet(const std::string& k, const std::string& f,
              const std::string& v) {
    bool created;
    return Tx(db(), [&](Txn& t) {
      return t.HashSet(k, f, v, SetMode::kUpsert, &created);
    });
  }
  EngineFixture f_{64 << 20, 1 << 20};
};

TEST_F(TxnFormatTest, VersionThreePoolOpensUpgradesAndTakesCollections) {
  ASSERT_TRUE(db()->Put("s", "string of a version-3 pool").ok());
  // A value larger than a segment, renamed: a link entry (version 3).
  const std::string big(3 << 19, 'b');
  ASSERT_TRUE(db()->Put("big", big).ok());
  ASSERT_TRUE(db()->Rename("big", "linked").ok());
  f_.db.reset();
  SetPoolFormatVersion(f_.buffer.get(), 3);
  EXPECT_EQ(InspectBuffer(f_.buffer).format_version, 3u);

  ASSERT_TRUE(f_.Open().ok());
  EXPECT_EQ(InspectBuffer(f_.buffer).format_version, format::kFormatVersion);
  EXPECT_EQ(db()->Get("s")->value, "string of a version-3 pool");
  EXPECT_EQ(db()->Get("linked")->value, big);
  ASSERT_TRUE(HSet("h", "f", "v").ok());
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(HashAll(db(), "h"),
            (std::map<std::string, std::string>{{"f", "v"}}));
  EXPECT_EQ(db()->Get("linked")->value, big);
  PoolReport r = InspectBuffer(f_.buffer);
  EXPECT_EQ(r.hashes, 1u);
  EXPECT_EQ(r.elements, 1u);
  EXPECT_EQ(r.repairable_problems + r.unrecoverable_problems, 0u);
  f_.db.reset();
  // A version-3 binary refuses this pool; so does this one a version-5 one.
  SetPoolFormatVersion(f_.buffer.get(), format::kFormatVersion + 1);
  Status s = f_.Open();
  EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
}

TEST_F(TxnFormatTest, ADeletedHashStaysDeadAcrossCompactionAndReopen) {
  // Enough elements to fill segments, so compaction has victims.
  const std::string v(200, 'x');
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                  bool c;
                  for (int i = 0; i < 4000; ++i) {
                    DAXKV_RETURN_IF_ERROR(t.HashSet(
                        "h", "f" + std::to_string(i), v, SetMode::kUpsert, &c));
                  }
                  return OkStatus();
                }).ok());
    // Round 0: DEL; round 1: replaced by a string (SET over a hash).
    if (round == 0) {
      ASSERT_TRUE(db()->Delete("h").ok());
    } else {
      ASSERT_TRUE(db()->Put("h", "a string").ok());
      ASSERT_TRUE(db()->Delete("h").ok());
    }
    // A new hash at the same key: a new id, none of the old fields.
    ASSERT_TRUE(HSet("h", "f7", "new").ok());
    const std::map<std::string, std::string> want = {{"f7", "new"}};
    EXPECT_EQ(HashAll(db(), "h"), want);
    ASSERT_TRUE(f_.Reopen().ok());
    EXPECT_EQ(HashAll(db(), "h"), want) << "round " << round;
    auto freed = TEST_Compact(db(), 1000);
    ASSERT_TRUE(freed.ok()) << freed.status().ToString();
    EXPECT_GT(*freed, 0u) << "the dead elements' segments are victims";
    EXPECT_EQ(HashAll(db(), "h"), want);
    ASSERT_TRUE(f_.Reopen().ok());
    EXPECT_EQ(HashAll(db(), "h"), want) << "round " << round;
    EXPECT_EQ(db()->GetStats().elements, 1u);
    ASSERT_TRUE(db()->Delete("h").ok());
  }
}

TEST_F(TxnFormatTest, RenameMovesTheCollectionAcrossCompactionAndReopen) {
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                bool c;
                for (int i = 0; i < 100; ++i) {
                  DAXKV_RETURN_IF_ERROR(
                      t.SetAdd("src", "m" + std::to_string(i), &c));
                }
                return OkStatus();
              }).ok());
  ASSERT_TRUE(db()->Put("dst", "replaced by the set").ok());
  ASSERT_TRUE(db()->Rename("src", "dst").ok());
  EXPECT_EQ(StatOf(db(), "src").type, KeyType::kNone);
  EXPECT_EQ(SetAll(db(), "dst").size(), 100u);
  ASSERT_TRUE(TEST_Compact(db(), 1000).ok());
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(StatOf(db(), "src").type, KeyType::kNone);
  std::vector<std::string> got = SetAll(db(), "dst");
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), "m0");
  EXPECT_EQ(db()->GetStats().sets, 1u);
}

TEST_F(TxnFormatTest, AnExpiredListIsReclaimedWithItsElements) {
  // Static: the DB in f_ (and its background threads) outlives this body.
  static FakeClock clock(1000000);
  f_.options.clock = &clock;
  ASSERT_TRUE(f_.Reopen().ok());
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                uint64_t n;
                for (int i = 0; i < 500; ++i) {
                  DAXKV_RETURN_IF_ERROR(t.ListPush(
                      "l", End::kBack, "e" + std::to_string(i), false, &n));
                }
                return t.SetExpiry("l", clock.NowMs() + 5000);
              }).ok());
  ASSERT_TRUE(f_.Reopen().ok());  // the expiry is the meta's, kept
  EXPECT_EQ(StatOf(db(), "l").expire_at_ms, clock.NowMs() + 5000);
  EXPECT_EQ(ListAll(db(), "l").size(), 500u);
  clock.AdvanceMs(5001);
  EXPECT_EQ(StatOf(db(), "l").type, KeyType::kNone) << "expired: invisible";
  auto reclaimed = TEST_ReclaimExpired(db());
  ASSERT_TRUE(reclaimed.ok()) << reclaimed.status().ToString();
  EXPECT_EQ(*reclaimed, 1u);
  EXPECT_EQ(db()->GetStats().lists, 0u);
  EXPECT_EQ(db()->GetStats().elements, 0u);
  clock.AdvanceMs(-10000);  // the clock going back brings nothing back
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(StatOf(db(), "l").type, KeyType::kNone);
  EXPECT_EQ(db()->GetStats().elements, 0u);
}

}  // namespace
}  // namespace daxkv::engine
