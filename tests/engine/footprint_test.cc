// ReadOps::Footprint (MEMORY USAGE): a string's one put record and index
// slot, a collection's meta entry, structures and element entries, the
// first-N sample extrapolated to the whole collection, and the same view
// from inside a Txn (its pending elements counted).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "engine/format.h"
#include "engine/index.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

class FootprintTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }
  StatusOr<KeyFootprint> Of(const std::string& key, uint64_t samples) {
    StatusOr<KeyFootprint> out = NotFoundError("unset");
    Status s = db()->RunRead({key}, [&](ReadOps& r) {
      out = r.Footprint(key, samples);
      return OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  EngineFixture f_{64 << 20, 1 << 20};
};

TEST_F(FootprintTest, AStringIsOnePutRecordAndAnIndexSlot) {
  ASSERT_TRUE(db()->Put("k", std::string(100, 'v')).ok());
  auto f = Of("k", 5);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->log_bytes, format::EntrySize(1, 100) + 8);
  EXPECT_EQ(f->dram_bytes, kIndexBytesPerKey);
  ASSERT_TRUE(db()->Put("e", "v", /*expire_at_ms=*/4102444800000).ok());
  f = Of("e", 5);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->dram_bytes, kIndexBytesPerKey + kIndexBytesPerExpiry);
  EXPECT_EQ(Of("nokey", 5).status().code(), StatusCode::kNotFound);
}

TEST_F(FootprintTest, ACollectionExtrapolatesItsFirstElements) {
  // 40 fields of 8 bytes and values of 20: every element entry the same.
  for (int i = 0; i < 40; ++i) {
    bool created;
    ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                  char field[16];
                  std::snprintf(field, sizeof(field), "f%07d", i);
                  return t.HashSet("h", field, std::string(20, 'x'),
                                   SetMode::kUpsert, &created);
                }).ok());
  }
  const uint64_t meta = format::EntrySize(1, sizeof(format::MetaPayload)) + 8;
  const uint64_t elem = format::EntrySize(8, 20);
  auto all = Of("h", 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->sampled, 40u);
  EXPECT_EQ(all->log_bytes, meta + 40 * elem);
  EXPECT_GT(all->dram_bytes, kIndexBytesPerKey);  // the element table
  auto five = Of("h", 5);
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(five->sampled, 5u);
  EXPECT_EQ(five->log_bytes, all->log_bytes);
  EXPECT_EQ(five->dram_bytes, all->dram_bytes);
}

TEST_F(FootprintTest, ListsSortedSetsAndATxnsPendingElements) {
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                uint64_t len;
                for (int i = 0; i < 10; ++i) {
                  DAXKV_RETURN_IF_ERROR(
                      t.ListPush("l", End::kBack, "value", false, &len));
                }
                ZAddResult r;
                DAXKV_RETURN_IF_ERROR(t.ZAdd("z", "m1", 1, {}, &r));
                return t.ZAdd("z", "m2", 2, {}, &r);
              }).ok());
  auto l = Of("l", 3);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->sampled, 3u);
  EXPECT_GT(l->log_bytes, 10 * format::EntrySize(0, 5));
  auto z = Of("z", 0);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->log_bytes,
            format::EntrySize(1, sizeof(format::MetaPayload)) + 8 +
                2 * format::EntrySize(2, 8));  // member, 8-byte score
  // Inside a Txn: its own pending elements count.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                ZAddResult r;
                DAXKV_RETURN_IF_ERROR(t.ZAdd("z", "m3", 3, {}, &r));
                DAXKV_ASSIGN_OR_RETURN(KeyFootprint f, t.Footprint("z", 0));
                EXPECT_EQ(f.log_bytes, z->log_bytes + format::EntrySize(2, 8));
                return OkStatus();
              }).ok());
}

}  // namespace
}  // namespace daxkv::engine
