// First checks of the transaction path end to end: each type written,
// read, reopened (recovery), compacted.
#include <gtest/gtest.h>

#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

TEST(TxnSmokeTest, EachTypeSurvivesReopenAndCompaction) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  ASSERT_TRUE(
      Tx(db, [](Txn& t) -> Status {
        bool b;
        uint64_t n;
        ZAddResult zr;
        DAXKV_RETURN_IF_ERROR(t.HashSet("h", "f1", "v1", SetMode::kUpsert, &b));
        DAXKV_RETURN_IF_ERROR(t.HashSet("h", "f2", "v2", SetMode::kUpsert, &b));
        DAXKV_RETURN_IF_ERROR(t.ListPush("l", End::kBack, "a", false, &n));
        DAXKV_RETURN_IF_ERROR(t.ListPush("l", End::kBack, "b", false, &n));
        DAXKV_RETURN_IF_ERROR(t.ListPush("l", End::kFront, "z", false, &n));
        DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "m1", &b));
        DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "m2", &b));
        DAXKV_RETURN_IF_ERROR(t.ZAdd("z", "x", 2.5, {}, &zr));
        DAXKV_RETURN_IF_ERROR(t.ZAdd("z", "y", -1, {}, &zr));
        return t.Put("str", "val");
      }).ok());
  const std::vector<std::string> keys = {"h", "l", "s", "z", "str"};
  const std::string want =
      "h=hash{f1=v1,f2=v2,};l=list[z,a,b,];s=set{m1,m2,};"
      "z=zset{y:-1.000000,x:2.500000,};str='val';";
  EXPECT_EQ(Dump(db, keys), want);
  EXPECT_TRUE(IsWrongType(db->Get("h").status()));
  ASSERT_TRUE(f.Reopen().ok());
  db = f.db.get();
  EXPECT_EQ(Dump(db, keys), want);
  Stats st = db->GetStats();
  EXPECT_EQ(st.hashes, 1u);
  EXPECT_EQ(st.lists, 1u);
  EXPECT_EQ(st.sets, 1u);
  EXPECT_EQ(st.zsets, 1u);
  EXPECT_EQ(st.elements, 9u);
}

}  // namespace
}  // namespace daxkv::engine
