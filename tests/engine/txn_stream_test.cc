// Streams through the Txn (engine/txn.h, "streams"): elements kept in
// subkey order whatever the insertion order, overwrite in place, ranges
// both ways with bounds and counts, deletes and rank erases that never
// delete the key, WRONGTYPE both ways, a Txn's reads of its own writes,
// abort, and recovery and compaction rebuilding the same stream.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

std::string Id(uint64_t n) {  // a 16-byte big-endian subkey
  std::string k(16, '\0');
  for (int i = 0; i < 8; ++i) k[15 - i] = static_cast<char>(n >> (8 * i));
  return k;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

class TxnStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }
  Status Put(const std::string& sk, const std::string& v, bool create = true) {
    bool done;
    return Tx(db(),
              [&](Txn& t) { return t.StreamPut("s", sk, v, create, &done); });
  }
  Pairs Range(const std::string& from, const std::string& to, bool rev,
              uint64_t count) {
    Pairs out;
    EXPECT_TRUE(db()->RunRead({"s"},
                              [&](ReadOps& r) {
                                out.clear();
                                return r.StreamRange("s", from, to, rev, count,
                                                     [&](std::string_view k,
                                                         std::string_view v) {
                                                       out.emplace_back(k, v);
                                                       return true;
                                                     });
                              })
                    .ok());
    return out;
  }
  Pairs All() { return Range("", std::string(16, '\xff'), false, 0); }
  EngineFixture f_{64 << 20, 1 << 20};
};

TEST_F(TxnStreamTest, OrderedBySubkeyWithOverwriteAndRanges) {
  for (uint64_t n : {5, 1, 300, 2, 256}) {
    ASSERT_TRUE(Put(Id(n), "v" + std::to_string(n)).ok());
  }
  ASSERT_TRUE(Put("", "meta").ok());    // the empty subkey sorts first
  ASSERT_TRUE(Put(Id(2), "two").ok());  // overwrite in place
  EXPECT_EQ(All(), (Pairs{{"", "meta"},
                          {Id(1), "v1"},
                          {Id(2), "two"},
                          {Id(5), "v5"},
                          {Id(256), "v256"},
                          {Id(300), "v300"}}));
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kStream);
  EXPECT_EQ(StatOf(db(), "s").size, 6u);
  EXPECT_EQ(Range(Id(2), Id(256), false, 0),
            (Pairs{{Id(2), "two"}, {Id(5), "v5"}, {Id(256), "v256"}}));
  EXPECT_EQ(Range(Id(2), Id(256), true, 2),
            (Pairs{{Id(256), "v256"}, {Id(5), "v5"}}));
  EXPECT_EQ(Range(Id(3), Id(4), false, 0), Pairs{});
  EXPECT_EQ(Range(Id(9), Id(3), false, 0), Pairs{});
  EXPECT_EQ(Range(Id(300), Id(1000), false, 5), (Pairs{{Id(300), "v300"}}));
}

TEST_F(TxnStreamTest, DeletesAndEraseRanksKeepTheKeyUntilEmpty) {
  ASSERT_TRUE(Put("", "meta").ok());
  for (uint64_t n = 1; n <= 10; ++n) ASSERT_TRUE(Put(Id(n), "x").ok());
  bool existed = false;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.StreamDelete("s", Id(10), &existed);
              }).ok());
  EXPECT_TRUE(existed);
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.StreamDelete("s", Id(10), &existed);
              }).ok());
  EXPECT_FALSE(existed);
  uint64_t removed = 0;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.StreamEraseRanks("s", 1, 4, &removed);
              }).ok());
  EXPECT_EQ(removed, 3u);
  EXPECT_EQ(All().front().first, "");
  EXPECT_EQ(All()[1].first, Id(4));
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.StreamEraseRanks("s", 1, 100, &removed);
              }).ok());
  EXPECT_EQ(removed, 6u);
  EXPECT_EQ(All(), (Pairs{{"", "meta"}}));  // the metadata keeps it alive
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.StreamDelete("s", "", &existed); }).ok());
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kNone);  // empty: deleted
}

TEST_F(TxnStreamTest, WrongTypeBothWaysAndAbsentKeys) {
  ASSERT_TRUE(Tx(db(), [&](Txn& t) { return t.Put("str", "v"); }).ok());
  bool done = true;
  Status s = Tx(db(), [&](Txn& t) {
    return t.StreamPut("str", Id(1), "v", true, &done);
  });
  EXPECT_TRUE(IsWrongType(s)) << s.ToString();
  ASSERT_TRUE(Put(Id(1), "v").ok());
  uint64_t n;
  s = Tx(db(),
         [&](Txn& t) { return t.ListPush("s", End::kBack, "x", false, &n); });
  EXPECT_TRUE(IsWrongType(s)) << s.ToString();
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.StreamPut("absent", Id(1), "v", false, &done);
              }).ok());
  EXPECT_FALSE(done);
  EXPECT_EQ(StatOf(db(), "absent").type, KeyType::kNone);
}

TEST_F(TxnStreamTest, OwnWritesVisibleAndAbortLeavesNothing) {
  ASSERT_TRUE(Put(Id(1), "a").ok());
  Status s = Tx(db(), [&](Txn& t) -> Status {
    bool done;
    DAXKV_RETURN_IF_ERROR(t.StreamPut("s", Id(2), "b", true, &done));
    int seen = 0;
    DAXKV_RETURN_IF_ERROR(t.StreamRange(
        "s", "", std::string(16, '\xff'), true, 0,
        [&](std::string_view, std::string_view) { return ++seen > 0; }));
    EXPECT_EQ(seen, 2);
    return AbortedError("roll back");
  });
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_EQ(All(), (Pairs{{Id(1), "a"}}));
}

TEST_F(TxnStreamTest, RecoveryAndCompactionRebuildTheSameStream) {
  std::mt19937_64 rng(5);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 3000; ++i) {
    const std::string k = Id(rng() % 2000);
    if (rng() % 4 == 0) {
      bool existed;
      ASSERT_TRUE(Tx(
                      db(),
                      [&](Txn& t) { return t.StreamDelete("s", k, &existed); },
                      false)
                      .ok());
      model.erase(k);
    } else {
      const std::string v(8 + rng() % 100, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(Tx(
                      db(),
                      [&](Txn& t) {
                        bool done;
                        return t.StreamPut("s", k, v, true, &done);
                      },
                      false)
                      .ok());
      model[k] = v;
    }
  }
  ASSERT_TRUE(db()->Sync().ok());
  const Pairs want(model.begin(), model.end());
  EXPECT_EQ(All(), want);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(All(), want);
  ASSERT_TRUE(TEST_Compact(db(), 100).ok());
  EXPECT_EQ(All(), want);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(All(), want);
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kStream);
}

// Version 7: consumer-group state under subkeys of 16 zero bytes and more
// (kv/stream_group_codec.h) sorts between the metadata and the entries,
// StreamRank counts it, and a crash recovery (a full scan, whose entry
// check knows the form) keeps it.
TEST_F(TxnStreamTest, GroupStateSubkeysRankAndSurviveACrash) {
  const std::string z16(16, '\0');
  for (const std::string& sk :
       {std::string(), z16 + "Gname", z16 + "P" + Id(3), Id(1), Id(2)}) {
    ASSERT_TRUE(Put(sk, "v").ok());
  }
  uint64_t rank = 0;
  ASSERT_TRUE(
      db()->RunRead({"s"},
                    [&](ReadOps& r) { return r.StreamRank("s", Id(1), &rank); })
          .ok());
  EXPECT_EQ(rank, 3u);
  ASSERT_TRUE(db()->Sync().ok());
  const Pairs want = All();
  ASSERT_EQ(want.size(), 5u);
  EXPECT_EQ(want[1].first, z16 + "Gname");
  EngineFixture crashed{64 << 20, 1 << 20};
  crashed.buffer = f_.Snapshot();  // no clean close: recovery scans
  ASSERT_TRUE(crashed.Open().ok());
  f_.db = std::move(crashed.db);
  f_.buffer = crashed.buffer;
  EXPECT_EQ(All(), want);
}

TEST_F(TxnStreamTest, RenameAndCopyKeepOrder) {
  for (uint64_t n : {3, 1, 2}) ASSERT_TRUE(Put(Id(n), std::to_string(n)).ok());
  bool done;
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.Copy("s", "c", false, &done); }).ok());
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.Rename("s", "r", false, &done); }).ok());
  ASSERT_TRUE(f_.Reopen().ok());
  for (const char* k : {"c", "r"}) {
    Pairs out;
    ASSERT_TRUE(
        db()->RunRead({k},
                      [&](ReadOps& r) {
                        out.clear();
                        return r.StreamRange(
                            k, "", std::string(16, '\xff'), false, 0,
                            [&](std::string_view a, std::string_view b) {
                              out.emplace_back(a, b);
                              return true;
                            });
                      })
            .ok());
    EXPECT_EQ(out, (Pairs{{Id(1), "1"}, {Id(2), "2"}, {Id(3), "3"}})) << k;
  }
}

}  // namespace
}  // namespace daxkv::engine
