// Lists through the Txn: pushes and pops at both ends, indexes (negative
// ones too), LSET, LINSERT and LREM (by ListWalk + ListInsert/ListErase, as
// the kv layer will run them), LTRIM, LMOVE; order keys that relabel under
// adversarial inserts; recovery and compaction rebuild the same list.
#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <vector>

#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

class TxnListTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }
  Status Push(const std::string& k, End end, const std::string& v) {
    uint64_t n;
    return Tx(db(), [&](Txn& t) { return t.ListPush(k, end, v, false, &n); });
  }
  EngineFixture f_{64 << 20, 1 << 20};
};

using Strings = std::vector<std::string>;

TEST_F(TxnListTest, PushPopBothEndsAndTheEmptyListDisappears) {
  ASSERT_TRUE(Push("l", End::kBack, "b").ok());
  ASSERT_TRUE(Push("l", End::kBack, "c").ok());
  ASSERT_TRUE(Push("l", End::kFront, "a").ok());
  ASSERT_TRUE(Push("l", End::kFront, "").ok());  // empty elements are legal
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"", "a", "b", "c"}));
  std::string v;
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.ListPop("l", End::kBack, &v); }).ok());
  EXPECT_EQ(v, "c");
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.ListPop("l", End::kFront, &v); }).ok());
  EXPECT_EQ(v, "");
  uint64_t n = 99;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.ListPush("absent", End::kBack, "x", true, &n);
              }).ok());
  EXPECT_EQ(n, 0u);  // LPUSHX on an absent key
  EXPECT_EQ(StatOf(db(), "absent").type, KeyType::kNone);
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                DAXKV_RETURN_IF_ERROR(t.ListPop("l", End::kBack, &v));
                return t.ListPop("l", End::kBack, &v);
              }).ok());
  EXPECT_EQ(StatOf(db(), "l").type, KeyType::kNone);
  EXPECT_EQ(
      Tx(db(), [&](Txn& t) { return t.ListPop("l", End::kBack, &v); }).code(),
      StatusCode::kNotFound);
}

TEST_F(TxnListTest, IndexesRangesAndSet) {
  for (const char* e : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(Push("l", End::kBack, e).ok());
  }
  auto range = [&](int64_t a, int64_t b) {
    Strings out;
    EXPECT_TRUE(db()->RunRead({"l"},
                              [&](ReadOps& r) {
                                return r.ListRange("l", IndexRange{a, b},
                                                   [&](std::string_view e) {
                                                     out.emplace_back(e);
                                                     return true;
                                                   });
                              })
                    .ok());
    return out;
  };
  EXPECT_EQ(range(0, -1), (Strings{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(range(-2, -1), (Strings{"d", "e"}));
  EXPECT_EQ(range(1, 2), (Strings{"b", "c"}));
  EXPECT_EQ(range(-100, 1), (Strings{"a", "b"}));
  EXPECT_EQ(range(3, 100), (Strings{"d", "e"}));
  EXPECT_EQ(range(4, 2), Strings{});
  EXPECT_EQ(range(5, 10), Strings{});
  std::string v;
  auto index = [&](int64_t i) {
    return db()->RunRead({"l"},
                         [&](ReadOps& r) { return r.ListGet("l", i, &v); });
  };
  ASSERT_TRUE(index(-1).ok());
  EXPECT_EQ(v, "e");
  ASSERT_TRUE(index(0).ok());
  EXPECT_EQ(v, "a");
  EXPECT_EQ(index(5).code(), StatusCode::kNotFound);
  EXPECT_EQ(index(-6).code(), StatusCode::kNotFound);
  ASSERT_TRUE(Tx(db(), [&](Txn& t) { return t.ListSet("l", -2, "D"); }).ok());
  EXPECT_EQ(Tx(db(), [&](Txn& t) { return t.ListSet("l", 7, "x"); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Tx(db(), [&](Txn& t) { return t.ListSet("no", 0, "x"); }).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"a", "b", "c", "D", "e"}));
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"a", "b", "c", "D", "e"}));
}

// LINSERT BEFORE/AFTER and LREM, as the kv layer composes them.
TEST_F(TxnListTest, InsertAtPivotRemoveAndTrim) {
  for (const char* e : {"x", "p", "y", "p", "z"}) {
    ASSERT_TRUE(Push("l", End::kBack, e).ok());
  }
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                int64_t pivot = -1;
                DAXKV_RETURN_IF_ERROR(t.ListWalk(
                    "l", 0, false, [&](uint64_t i, std::string_view e) {
                      if (e != "p") return true;
                      pivot = static_cast<int64_t>(i);
                      return false;
                    }));
                EXPECT_EQ(pivot, 1);
                return t.ListInsert("l", pivot + 1, "after-p");
              }).ok());
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"x", "p", "after-p", "y", "p", "z"}));
  // LREM l -1 p: from the tail, one match.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                std::vector<uint64_t> hits;
                DAXKV_RETURN_IF_ERROR(t.ListWalk(
                    "l", -1, true, [&](uint64_t i, std::string_view e) {
                      if (e == "p") hits.push_back(i);
                      return hits.size() < 1;
                    }));
                for (uint64_t i : hits) {
                  DAXKV_RETURN_IF_ERROR(t.ListErase("l", i));
                }
                return OkStatus();
              }).ok());
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"x", "p", "after-p", "y", "z"}));
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.ListTrim("l", IndexRange{1, -2});
              }).ok());
  EXPECT_EQ(ListAll(db(), "l"), (Strings{"p", "after-p", "y"}));
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.ListTrim("l", IndexRange{5, 10});
              }).ok());
  EXPECT_EQ(StatOf(db(), "l").type, KeyType::kNone);
}

TEST_F(TxnListTest, LmoveIsOneTransaction) {
  for (const char* e : {"1", "2", "3"}) {
    ASSERT_TRUE(Push("src", End::kBack, e).ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                  std::string v;
                  uint64_t n;
                  DAXKV_RETURN_IF_ERROR(t.ListPop("src", End::kBack, &v));
                  return t.ListPush("dst", End::kFront, v, false, &n);
                }).ok());
  }
  EXPECT_EQ(StatOf(db(), "src").type, KeyType::kNone);
  EXPECT_EQ(ListAll(db(), "dst"), (Strings{"1", "2", "3"}));
  // RPOPLPUSH a list onto itself rotates it.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                std::string v;
                uint64_t n;
                DAXKV_RETURN_IF_ERROR(t.ListPop("dst", End::kBack, &v));
                return t.ListPush("dst", End::kFront, v, false, &n);
              }).ok());
  EXPECT_EQ(ListAll(db(), "dst"), (Strings{"3", "1", "2"}));
}

// Inserts at one spot make order keys grow until they relabel their
// neighbours (old keys' tombstones and new keys' puts in one batch).
TEST_F(TxnListTest, RelabellingInsertsMatchAModelAcrossRecovery) {
  std::deque<std::string> model;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 40; ++i) {
    model.push_back("seed" + std::to_string(i));
    ASSERT_TRUE(Push("l", End::kBack, model.back()).ok());
  }
  for (int i = 0; i < 600; ++i) {
    // Mostly at the same spot (adversarial), sometimes elsewhere.
    const uint64_t pos = (i % 5 == 0) ? rng() % (model.size() + 1) : 20;
    const std::string v = "ins" + std::to_string(i);
    ASSERT_TRUE(
        Tx(db(), [&](Txn& t) { return t.ListInsert("l", pos, v); }).ok());
    model.insert(model.begin() + pos, v);
    if (i % 7 == 0) {
      std::string got;
      ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                    return t.ListPop("l", End::kFront, &got);
                  }).ok());
      EXPECT_EQ(got, model.front());
      model.pop_front();
    }
  }
  const Strings want(model.begin(), model.end());
  EXPECT_EQ(ListAll(db(), "l"), want);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(ListAll(db(), "l"), want);
  ASSERT_TRUE(TEST_Compact(db(), 100).ok());
  EXPECT_EQ(ListAll(db(), "l"), want);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(ListAll(db(), "l"), want);
}

// Pops' element tombstones go out in batch records, and weigh on victim
// choice as single tombstones do (a segment's `tomb`), at append and after
// a recovery's scan. Uncounted, a segment of them looked empty, was taken
// before the segments of the puts they delete, and had every tombstone
// copied; counted, the puts' segments go first and the tombstones then
// die with nothing left to shadow.
TEST_F(TxnListTest, CompactingAPoppedListCopiesAlmostNoTombstone) {
  constexpr int kElems = 100000, kPerTxn = 100;
  const std::string value(16, 'v');
  for (int i = 0; i < kElems; i += kPerTxn) {
    ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                  uint64_t n;
                  for (int j = 0; j < kPerTxn; ++j) {
                    DAXKV_RETURN_IF_ERROR(
                        t.ListPush("q", End::kBack, value, false, &n));
                  }
                  return OkStatus();
                }).ok());
  }
  // The list stays: a dead collection's tombstones all go anyway.
  ASSERT_TRUE(Push("q", End::kBack, "last").ok());
  for (int i = 0; i < kElems; i += kPerTxn) {
    ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                  std::string v;
                  for (int j = 0; j < kPerTxn; ++j) {
                    DAXKV_RETURN_IF_ERROR(t.ListPop("q", End::kFront, &v));
                  }
                  return OkStatus();
                }).ok());
  }
  EngineFixture recovered{64 << 20, 1 << 20};
  recovered.buffer = f_.Snapshot();  // a power cut: no clean-close snapshot
  ASSERT_TRUE(recovered.Open().ok());
  for (DB* db : {f_.db.get(), recovered.db.get()}) {
    const uint64_t before = db->GetStats().relocated_bytes;
    auto freed = TEST_Compact(db, 1000);
    ASSERT_TRUE(freed.ok()) << freed.status().ToString();
    EXPECT_GE(*freed, 3u);

    // A few may share a dead-put counter with a meta still on the medium.
    EXPECT_LT(db->GetStats().relocated_bytes - before, kElems * 30 / 50)
        << (db == f_.db.get() ? "live" : "recovered");
    EXPECT_EQ(ListAll(db, "q"), Strings{"last"});
  }
}

TEST_F(TxnListTest, ManyElementsInOneTransactionAndLpos) {
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                uint64_t n;
                for (int i = 0; i < 5000; ++i) {
                  DAXKV_RETURN_IF_ERROR(
                      t.ListPush("l", i % 2 ? End::kBack : End::kFront,
                                 std::to_string(i), false, &n));
                }
                return OkStatus();
              }).ok());
  Strings all = ListAll(db(), "l");
  ASSERT_EQ(all.size(), 5000u);
  EXPECT_EQ(all.front(), "4998");
  EXPECT_EQ(all.back(), "4999");
  // LPOS: the position of "1" (pushed second, at the back).
  int64_t pos = -1;
  ASSERT_TRUE(db()->RunRead({"l"},
                            [&](ReadOps& r) {
                              return r.ListWalk(
                                  "l", 0, false,
                                  [&](uint64_t i, std::string_view e) {
                                    if (e != "1") return true;
                                    pos = static_cast<int64_t>(i);
                                    return false;
                                  });
                            })
                  .ok());
  EXPECT_EQ(pos, 2500);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(ListAll(db(), "l"), all);
}

// A Txn's commit finds its pending elements by where they were put, in one
// walk of the places later writes of the Txn can have moved them to (a run
// of pipelined pushes, kv/write_run.h), or one search each when they are
// spread out: Txns of 2 to 40 writes of every kind, at both ends and in
// the middle, must leave what the model holds, before and after recovery.
TEST_F(TxnListTest, ManyWritesPerTransactionMatchAModel) {
  std::deque<std::string> model;
  for (int i = 0; i < 2000; ++i) {
    model.push_back("s" + std::to_string(i));
    ASSERT_TRUE(Push("l", End::kBack, model.back()).ok());
  }
  std::mt19937_64 rng(11);
  for (int txn = 0; txn < 120; ++txn) {
    std::deque<std::string> after = model;
    const int writes = 2 + static_cast<int>(rng() % 39);
    const uint64_t spot = rng() % model.size();
    ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                  after = model;
                  std::mt19937_64 r(txn);
                  uint64_t n;
                  std::string v;
                  for (int w = 0; w < writes; ++w) {
                    const std::string e =
                        "t" + std::to_string(txn) + "." + std::to_string(w);
                    const uint64_t pos = r() % 4 ? spot % (after.size() + 1)
                                                 : r() % (after.size() + 1);
                    switch (r() % 6) {
                      case 0:
                        DAXKV_RETURN_IF_ERROR(
                            t.ListPush("l", End::kFront, e, false, &n));
                        after.push_front(e);
                        break;
                      case 1:
                        DAXKV_RETURN_IF_ERROR(
                            t.ListPush("l", End::kBack, e, false, &n));
                        after.push_back(e);
                        break;
                      case 2:
                        DAXKV_RETURN_IF_ERROR(t.ListInsert("l", pos, e));
                        after.insert(after.begin() + pos, e);
                        break;
                      case 3:
                        DAXKV_RETURN_IF_ERROR(t.ListPop("l", End::kFront, &v));
                        after.pop_front();
                        break;
                      case 4: {
                        const uint64_t at = pos % after.size();
                        DAXKV_RETURN_IF_ERROR(
                            t.ListSet("l", static_cast<int64_t>(at), e));
                        after[at] = e;
                        break;
                      }
                      default:
                        DAXKV_RETURN_IF_ERROR(t.ListPop("l", End::kBack, &v));
                        after.pop_back();
                        break;
                    }
                  }
                  return OkStatus();
                }).ok());
    model = after;
    if (txn % 40 == 39) {
      ASSERT_EQ(ListAll(db(), "l"), Strings(model.begin(), model.end()));
    }
  }
  const Strings want(model.begin(), model.end());
  EXPECT_EQ(ListAll(db(), "l"), want);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(ListAll(db(), "l"), want);
}

}  // namespace
}  // namespace daxkv::engine
