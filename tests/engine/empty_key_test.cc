// The empty key "" (format version 5, docs/format.md "Records"): a key like
// any other for every write path (single puts, batches, expiry, renames,
// Txns of every collection type), indexed, recovered on reopen, moved by
// compaction and clean for the pool inspector.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/db.h"
#include "engine/pool_inspect.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr int64_t kFarFuture = int64_t{4} << 40;  // year 2109, in ms

// The pool's bytes verify clean and hold `keys` indexed keys.
void ExpectCleanPool(const EngineFixture& f, uint64_t keys) {
  PoolReport r = InspectBuffer(f.Snapshot());
  EXPECT_TRUE(r.problems.empty()) << r.problems.front().what;
  EXPECT_EQ(r.keys, keys);
}

TEST(EmptyKeyTest, PutGetExpireDeleteAndReopen) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("", "v"));
  EXPECT_TRUE(f.db->Exists(""));
  EXPECT_EQ(f.db->Get("")->value, "v");
  EXPECT_EQ(f.db->Count(), 1u);
  ASSERT_OK(f.db->SetExpiry("", kFarFuture));
  EXPECT_EQ(f.db->Get("")->expire_at_ms, kFarFuture);
  ASSERT_OK(f.db->Update("", [](const UpdateInput& in, UpdateOutput* out) {
    out->value = *in.old + "x";
    out->expire_at_ms = in.old_expire_at_ms;
    return OkStatus();
  }));
  auto scan = f.db->Scan(0, 100);
  ASSERT_OK(scan);
  EXPECT_EQ(scan->keys, std::vector<std::string>{""});
  ASSERT_OK(f.Reopen());
  auto r = f.db->Get("");
  ASSERT_OK(r);
  EXPECT_EQ(r->value, "vx");
  EXPECT_EQ(r->expire_at_ms, kFarFuture);
  ExpectCleanPool(f, 1);
  bool existed = false;
  ASSERT_OK(f.db->Delete("", &existed));
  EXPECT_TRUE(existed);
  ASSERT_OK(f.Reopen());
  EXPECT_FALSE(f.db->Exists(""));
  EXPECT_EQ(f.db->Count(), 0u);
  ExpectCleanPool(f, 0);
}

TEST(EmptyKeyTest, ExpiredEmptyKeyIsReclaimed) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("", "gone", /*expire_at_ms=*/1));
  EXPECT_FALSE(f.db->Exists(""));
  auto n = TEST_ReclaimExpired(f.db);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 1u);
  ASSERT_OK(f.Reopen());
  EXPECT_FALSE(f.db->Exists(""));
  ExpectCleanPool(f, 0);
}

TEST(EmptyKeyTest, BatchesAndRenamesBothWays) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  WriteBatch b;
  b.RequireVersion("", 0);
  b.Put("", "batched");
  b.Put("a", "1");
  ASSERT_OK(f.db->Write(b));
  EXPECT_EQ(f.db->Get("")->value, "batched");
  ASSERT_OK(f.db->Rename("", "moved"));
  EXPECT_FALSE(f.db->Exists(""));
  ASSERT_OK(f.db->Rename("a", ""));
  EXPECT_EQ(f.db->Get("")->value, "1");
  ASSERT_OK(f.db->Rename("", ""));  // src == dst: no change
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Get("")->value, "1");
  EXPECT_EQ(f.db->Get("moved")->value, "batched");
  EXPECT_FALSE(f.db->Exists("a"));
  ExpectCleanPool(f, 2);
}

TEST(EmptyKeyTest, EveryCollectionTypeUnderTheEmptyKey) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  DB* db = f.db.get();
  const std::vector<std::string> keys = {""};
  auto make = [&](KeyType type) {
    ASSERT_OK(Tx(db, [&](Txn& t) -> Status {
      bool b;
      uint64_t n;
      ZAddResult zr;
      switch (type) {
        case KeyType::kHash:
          DAXKV_RETURN_IF_ERROR(t.HashSet("", "", "empty", SetMode::kUpsert, &b));
          return t.HashSet("", "f", "v", SetMode::kUpsert, &b);
        case KeyType::kList:
          DAXKV_RETURN_IF_ERROR(t.ListPush("", End::kBack, "a", false, &n));
          return t.ListPush("", End::kBack, "", false, &n);
        case KeyType::kSet:
          DAXKV_RETURN_IF_ERROR(t.SetAdd("", "", &b));
          return t.SetAdd("", "m", &b);
        case KeyType::kZset:
          DAXKV_RETURN_IF_ERROR(t.ZAdd("", "", 1, {}, &zr));
          return t.ZAdd("", "m", 2, {}, &zr);
        case KeyType::kStream:
          DAXKV_RETURN_IF_ERROR(t.StreamPut("", "", "meta", true, &b));
          return t.StreamPut("", std::string(16, '\1'), "entry", true, &b);
        default:
          return InternalError("not a collection type");
      }
    }));
  };
  const std::vector<std::pair<KeyType, std::string>> cases = {
      {KeyType::kHash, "=hash{=empty,f=v,};"},
      {KeyType::kList, "=list[a,,];"},
      {KeyType::kSet, "=set{,m,};"},
      {KeyType::kZset, "=zset{:1.000000,m:2.000000,};"},
      {KeyType::kStream,
       "=stream{=meta," + HexOf(std::string(16, '\1')) + "=entry,};"},
  };
  for (const auto& [type, want] : cases) {
    SCOPED_TRACE(static_cast<int>(type));
    make(type);
    EXPECT_EQ(StatOf(db, "").type, type);
    EXPECT_EQ(Dump(db, keys), want);
    // Expiry, rename away and back (O(1): the elements keep their id).
    ASSERT_OK(Tx(db, [](Txn& t) { return t.SetExpiry("", kFarFuture); }));
    ASSERT_OK(Tx(db, [](Txn& t) {
      bool done;
      return t.Rename("", "elsewhere", false, &done);
    }));
    EXPECT_EQ(StatOf(db, "").type, KeyType::kNone);
    ASSERT_OK(Tx(db, [](Txn& t) {
      bool done;
      DAXKV_RETURN_IF_ERROR(t.Copy("elsewhere", "", false, &done));
      return done ? t.Delete("elsewhere", &done) : InternalError("no copy");
    }));
    ASSERT_OK(f.Reopen());
    db = f.db.get();
    EXPECT_EQ(Dump(db, keys), want);
    EXPECT_EQ(StatOf(db, "").expire_at_ms, kFarFuture);  // COPY keeps it
    ExpectCleanPool(f, 1);
    ASSERT_OK(Tx(db, [](Txn& t) {
      bool existed;
      return t.Delete("", &existed);
    }));
    ASSERT_OK(f.Reopen());
    db = f.db.get();
    EXPECT_EQ(StatOf(db, "").type, KeyType::kNone);
    EXPECT_EQ(db->Count(), 0u);
  }
}

// Compaction relocates the empty key's put, and a meta under "" with its
// elements, with the dead records around them: same contents afterwards,
// and after a reopen from the relocated copies.
TEST(EmptyKeyTest, CompactionMovesTheEmptyKeyAndItsCollection) {
  EngineFixture f(8 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  DB* db = f.db.get();
  const std::string filler(200, 'f');
  ASSERT_OK(db->Put("", "string"));
  ASSERT_OK(db->Rename("", "str"));
  ASSERT_OK(Tx(db, [](Txn& t) {
    bool b;
    return t.HashSet("", "field", "value", SetMode::kUpsert, &b);
  }));
  ASSERT_OK(Tx(db, [](Txn& t) {  // the put replaces the hash's meta
    bool b;
    return t.Rename("str", "", false, &b);
  }));
  EXPECT_EQ(StatOf(db, "").type, KeyType::kString);
  ASSERT_OK(Tx(db, [](Txn& t) {
    bool b;
    uint64_t n;
    DAXKV_RETURN_IF_ERROR(t.ListPush("l", End::kBack, "x", false, &n));
    return t.HashSet("h", "", "hv", SetMode::kUpsert, &b);
  }));
  ASSERT_OK(db->Rename("h", "hh"));
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(db->Put("k" + std::to_string(i), filler));
    }
  }
  const std::vector<std::string> keys = {"", "hh", "l"};
  const std::string want = "='string';hh=hash{=hv,};l=list[x,];";
  EXPECT_EQ(Dump(db, keys), want);
  const uint64_t relocated = db->GetStats().relocated_bytes;
  auto freed = TEST_Compact(db, 1000);
  ASSERT_OK(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_GT(db->GetStats().relocated_bytes, relocated);
  EXPECT_EQ(Dump(db, keys), want);
  ASSERT_OK(f.Reopen());
  db = f.db.get();
  EXPECT_EQ(Dump(db, keys), want);
  EXPECT_EQ(db->Count(), 303u);
  ExpectCleanPool(f, 303);
}

}  // namespace
}  // namespace daxkv::engine
