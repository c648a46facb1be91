// Hashes and sets through the Txn (engine/txn.h): every operation the
// HASH and SET commands need, their edge cases, and that what a Txn
// writes is what recovery and compaction rebuild.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

class TxnHashTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }
  Status HSet(const std::string& k, const std::string& f, const std::string& v,
              bool* created = nullptr) {
    bool c;
    return Tx(db(), [&](Txn& t) {
      return t.HashSet(k, f, v, SetMode::kUpsert, created ? created : &c);
    });
  }
  Status HDel(const std::string& k, const std::string& f, bool* existed) {
    return Tx(db(), [&](Txn& t) { return t.HashDelete(k, f, existed); });
  }
  EngineFixture f_{64 << 20, 1 << 20};
};

TEST_F(TxnHashTest, SetGetDeleteAndTheEmptyHashDisappears) {
  bool created = false, existed = false;
  ASSERT_TRUE(HSet("h", "f", "v1", &created).ok());
  EXPECT_TRUE(created);
  ASSERT_TRUE(HSet("h", "f", "v2", &created).ok());
  EXPECT_FALSE(created);                // HSET's reply counts new fields only
  ASSERT_TRUE(HSet("h", "", "").ok());  // empty field and value are legal
  EXPECT_EQ(HashAll(db(), "h"),
            (std::map<std::string, std::string>{{"", ""}, {"f", "v2"}}));
  KeyInfo info = StatOf(db(), "h");
  EXPECT_EQ(info.type, KeyType::kHash);
  EXPECT_EQ(info.size, 2u);
  EXPECT_TRUE(info.compact);
  ASSERT_TRUE(HDel("h", "nope", &existed).ok());
  EXPECT_FALSE(existed);
  ASSERT_TRUE(HDel("h", "f", &existed).ok());
  EXPECT_TRUE(existed);
  ASSERT_TRUE(HDel("h", "", &existed).ok());
  EXPECT_EQ(StatOf(db(), "h").type, KeyType::kNone);
  EXPECT_FALSE(db()->Exists("h"));
  EXPECT_EQ(db()->GetStats().hashes, 0u);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(StatOf(db(), "h").type, KeyType::kNone);
}

TEST_F(TxnHashTest, PointReadsSetNxAndStrlen) {
  ASSERT_TRUE(HSet("h", "a", "12345").ok());
  Status s = db()->RunRead({"h"}, [&](ReadOps& r) -> Status {
    std::string v;
    uint64_t n;
    EXPECT_TRUE(r.HashGet("h", "a", &v).ok());
    EXPECT_EQ(v, "12345");
    EXPECT_EQ(r.HashGet("h", "b", &v).code(), StatusCode::kNotFound);
    EXPECT_EQ(r.HashGet("nokey", "a", &v).code(), StatusCode::kNotFound);
    EXPECT_TRUE(r.HashValueSize("h", "a", &n).ok());
    EXPECT_EQ(n, 5u);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok());
  bool created = true;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.HashSet("h", "a", "other", SetMode::kIfAbsent,
                                 &created);
              }).ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(HashAll(db(), "h").at("a"), "12345");
}

TEST_F(TxnHashTest, WrongTypeBothWaysAndPutReplacesAHash) {
  ASSERT_TRUE(db()->Put("str", "x").ok());
  ASSERT_TRUE(HSet("h", "f", "v").ok());
  EXPECT_TRUE(IsWrongType(HSet("str", "f", "v")));
  bool b;
  EXPECT_TRUE(
      IsWrongType(Tx(db(), [&](Txn& t) { return t.SetAdd("h", "m", &b); })));
  EXPECT_TRUE(IsWrongType(db()->Get("h").status()));
  EXPECT_TRUE(IsWrongType(db()->Update(
      "h", [](const UpdateInput&, UpdateOutput*) { return OkStatus(); })));
  std::string v;
  EXPECT_TRUE(IsWrongType(db()->RunRead(
      {"str"}, [&](ReadOps& r) { return r.HashGet("str", "f", &v); })));
  // SET over a hash replaces it, and its elements die with it.
  ASSERT_TRUE(db()->Put("h", "now a string").ok());
  EXPECT_EQ(db()->Get("h")->value, "now a string");
  EXPECT_EQ(db()->GetStats().hashes, 0u);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(db()->Get("h")->value, "now a string");
  EXPECT_EQ(db()->GetStats().elements, 0u);
}

TEST_F(TxnHashTest, LargeHashScanRandomAndRecovery) {
  std::map<std::string, std::string> model;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                bool c;
                for (int i = 0; i < 1000; ++i) {
                  std::string f = "field" + std::to_string(i);
                  std::string v(i % 100, 'a' + i % 26);
                  model[f] = v;
                  DAXKV_RETURN_IF_ERROR(
                      t.HashSet("big", f, v, SetMode::kUpsert, &c));
                }
                return OkStatus();
              }).ok());
  for (int i = 0; i < 1000; i += 3) {  // overwrite a third, one Txn each
    const std::string f = "field" + std::to_string(i);
    ASSERT_TRUE(HSet("big", f, "new").ok());
    model[f] = "new";
  }
  EXPECT_EQ(HashAll(db(), "big"), model);
  KeyInfo info = StatOf(db(), "big");
  EXPECT_FALSE(info.compact);
  EXPECT_TRUE(info.had_long_element);
  // HSCAN: every field exactly once over the pages.
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    ASSERT_TRUE(db()->RunRead({"big"},
                              [&](ReadOps& r) {
                                return r.HashScan(
                                    "big", cursor, 37,
                                    [&](std::string_view f, std::string_view) {
                                      seen.emplace(f);
                                      return true;
                                    },
                                    &cursor);
                              })
                    .ok());
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), model.size());
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
            model.size());
  // HRANDFIELD: count > 0 distinct (at most all), < 0 with repetition.
  std::vector<std::string> picks;
  auto pick = [&](int64_t count) {
    picks.clear();
    EXPECT_TRUE(
        db()->RunRead({"big"},
                      [&](ReadOps& r) {
                        return r.HashRandom(
                            "big", count,
                            [&](std::string_view f, std::string_view v) {
                              EXPECT_EQ(model.at(std::string(f)), v);
                              picks.emplace_back(f);
                              return true;
                            });
                      })
            .ok());
  };
  pick(10);
  EXPECT_EQ(std::set<std::string>(picks.begin(), picks.end()).size(), 10u);
  pick(5000);
  EXPECT_EQ(picks.size(), 1000u);
  pick(-3000);
  EXPECT_EQ(picks.size(), 3000u);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(HashAll(db(), "big"), model);
  // Compaction relocates the live elements and drops the overwritten ones.
  auto freed = TEST_Compact(db(), 100);
  ASSERT_TRUE(freed.ok());
  EXPECT_EQ(HashAll(db(), "big"), model);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(HashAll(db(), "big"), model);
}

TEST_F(TxnHashTest, SetOperations) {
  bool b;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "a", &b));
                EXPECT_TRUE(b);
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "a", &b));
                EXPECT_FALSE(b);
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "", &b));
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "c", &b));
                return t.SetAdd("s", "d", &b);
              }).ok());
  EXPECT_EQ(SetAll(db(), "s"), (std::vector<std::string>{"", "a", "c", "d"}));
  bool contains = false;
  ASSERT_TRUE(db()->RunRead({"s"},
                            [&](ReadOps& r) {
                              return r.SetContains("s", "c", &contains);
                            })
                  .ok());
  EXPECT_TRUE(contains);
  // SMOVE: one Txn, both keys.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                DAXKV_RETURN_IF_ERROR(t.SetRemove("s", "c", &b));
                EXPECT_TRUE(b);
                return t.SetAdd("t", "c", &b);
              }).ok());
  EXPECT_EQ(SetAll(db(), "t"), (std::vector<std::string>{"c"}));
  // SPOP count: distinct members, removed.
  std::vector<std::string> popped;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                popped.clear();
                return t.SetPop("s", 2, [&](std::string_view m) {
                  popped.emplace_back(m);
                  return true;
                });
              }).ok());
  EXPECT_EQ(popped.size(), 2u);
  EXPECT_EQ(SetAll(db(), "s").size(), 1u);
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.SetPop("s", 10, [](std::string_view) { return true; });
              }).ok());
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kNone);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kNone);
  EXPECT_EQ(SetAll(db(), "t"), (std::vector<std::string>{"c"}));
}

// PrefetchElements is a hint: on a large hash (an open-addressing table),
// a small one (dense), a set, a string, a key the Txn has not used and
// subkeys present and absent, what the Txn then reads and writes is the
// same.
TEST_F(TxnHashTest, PrefetchElementsChangesNoResult) {
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(HSet("big", "f" + std::to_string(i), "v").ok());
  }
  ASSERT_TRUE(HSet("small", "a", "1").ok());
  bool added;
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.SetAdd("set", "m", &added); }).ok());
  ASSERT_TRUE(db()->Put("str", "v").ok());
  const std::vector<std::string_view> subkeys = {"f1", "f2999", "nope",
                                                 "a",  "m",     ""};
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                t.PrefetchElements("big", subkeys);  // not used yet: nothing
                for (const char* k : {"big", "small", "set", "str"}) {
                  DAXKV_RETURN_IF_ERROR(t.Stat(k).status());
                  t.PrefetchElements(k, subkeys);
                }
                t.PrefetchElements("absent", subkeys);
                bool created;
                DAXKV_RETURN_IF_ERROR(
                    t.HashSet("big", "f1", "w", SetMode::kUpsert, &created));
                EXPECT_FALSE(created);
                std::string v;
                DAXKV_RETURN_IF_ERROR(t.HashGet("big", "f2999", &v));
                EXPECT_EQ(v, "v");
                EXPECT_EQ(t.HashGet("big", "nope", &v).code(),
                          StatusCode::kNotFound);
                return t.SetAdd("set", "m", &added);
              }).ok());
  EXPECT_FALSE(added);
  const auto big = HashAll(db(), "big");
  EXPECT_EQ(big.size(), 3000u);
  EXPECT_EQ(big.at("f1"), "w");
  EXPECT_EQ(HashAll(db(), "small").at("a"), "1");
}

}  // namespace
}  // namespace daxkv::engine
