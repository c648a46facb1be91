// Sorted sets and sets through the Txn against a model (random ZADD /
// ZREM / ZPOP / range removals; every read form checked after each batch,
// across reopen and compaction), lex ranges, and the Txn's own controls:
// RollbackTo(Savepoint()), RequireVersion (WATCH) and Abort.
#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine {
namespace {

using Scored = std::vector<std::pair<std::string, double>>;

class TxnZsetTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(f_.Open().ok()); }
  DB* db() { return f_.db.get(); }

  // The model in ZRANGE order.
  static Scored Ordered(const std::map<std::string, double>& m) {
    std::set<std::pair<double, std::string>> o;
    for (const auto& [k, s] : m) o.emplace(s, k);
    Scored out;
    for (const auto& [s, k] : o) out.emplace_back(k, s);
    return out;
  }
  // Checks every read form of `key` against `model`.
  void Check(const std::string& key, const std::map<std::string, double>& model,
             std::mt19937_64& rng) {
    const Scored want = Ordered(model);
    ASSERT_EQ(ZAll(db(), key), want);
    ASSERT_TRUE(
        db()->RunRead(
                {key},
                [&](ReadOps& r) -> Status {
                  for (size_t i = 0; i < want.size(); i += 7) {
                    uint64_t rank;
                    DAXKV_RETURN_IF_ERROR(
                        r.ZRank(key, want[i].first, false, &rank));
                    EXPECT_EQ(rank, i);
                    DAXKV_RETURN_IF_ERROR(
                        r.ZRank(key, want[i].first, true, &rank));
                    EXPECT_EQ(rank, want.size() - 1 - i);
                    double score;
                    DAXKV_RETURN_IF_ERROR(r.ZScore(key, want[i].first, &score));
                    EXPECT_EQ(score, want[i].second);
                  }
                  for (int q = 0; q < 20; ++q) {
                    ScoreRange sr;
                    sr.min = static_cast<double>(rng() % 60) / 2 - 15;
                    sr.max = sr.min + static_cast<double>(rng() % 30) / 2;
                    sr.min_exclusive = rng() % 2;
                    sr.max_exclusive = rng() % 2;
                    Scored got;
                    uint64_t count = 0;
                    DAXKV_RETURN_IF_ERROR(r.ZRangeByScore(
                        key, sr, false, Limit{},
                        [&](std::string_view m, double s) {
                          got.emplace_back(m, s);
                          return true;
                        },
                        &count));
                    Scored expect;
                    for (const auto& e : want) {
                      const bool lo = sr.min_exclusive ? e.second > sr.min
                                                       : e.second >= sr.min;
                      const bool hi = sr.max_exclusive ? e.second < sr.max
                                                       : e.second <= sr.max;
                      if (lo && hi) expect.push_back(e);
                    }
                    EXPECT_EQ(got, expect) << sr.min << " " << sr.max;
                    EXPECT_EQ(count, expect.size());
                  }
                  return OkStatus();
                })
            .ok());
  }

  EngineFixture f_{64 << 20, 1 << 20};
};

TEST_F(TxnZsetTest, RandomOpsMatchAModelAcrossReopenAndCompaction) {
  std::mt19937_64 rng(7);
  std::map<std::string, double> model;
  for (int round = 0; round < 30; ++round) {
    std::map<std::string, double> next = model;
    ASSERT_TRUE(
        Tx(db(), [&](Txn& t) -> Status {
          next = model;  // a re-run starts over
          for (int i = 0; i < 40; ++i) {
            const std::string m = "m" + std::to_string(rng() % 300);
            const int kind = static_cast<int>(rng() % 10);
            if (kind < 6) {
              const double s = static_cast<double>(rng() % 60) / 2 - 15;
              ZAddResult r;
              DAXKV_RETURN_IF_ERROR(t.ZAdd("z", m, s, {}, &r));
              EXPECT_EQ(r.added, next.count(m) == 0);
              next[m] = s;
            } else if (kind < 8) {
              bool removed;
              DAXKV_RETURN_IF_ERROR(t.ZRemove("z", m, &removed));
              EXPECT_EQ(removed, next.erase(m) == 1);
            } else if (kind == 8) {
              const bool max = rng() % 2;
              Scored popped;
              DAXKV_RETURN_IF_ERROR(
                  t.ZPop("z", max, 2, [&](std::string_view mm, double s) {
                    popped.emplace_back(mm, s);
                    return true;
                  }));
              Scored o = Ordered(next);
              Scored expect;
              for (size_t j = 0; j < std::min<size_t>(2, o.size()); ++j) {
                expect.push_back(max ? o[o.size() - 1 - j] : o[j]);
              }
              EXPECT_EQ(popped, expect);
              for (const auto& e : expect) next.erase(e.first);
            } else {
              ScoreRange sr;
              sr.min = static_cast<double>(rng() % 60) / 2 - 15;
              sr.max = sr.min + 1;
              uint64_t removed;
              DAXKV_RETURN_IF_ERROR(t.ZRemoveRangeByScore("z", sr, &removed));
              uint64_t expect = 0;
              for (auto it = next.begin(); it != next.end();) {
                if (it->second >= sr.min && it->second <= sr.max) {
                  it = next.erase(it);
                  ++expect;
                } else {
                  ++it;
                }
              }
              EXPECT_EQ(removed, expect);
            }
          }
          return OkStatus();
        }).ok());
    model = next;
    ASSERT_NO_FATAL_FAILURE(Check("z", model, rng));
    if (round % 10 == 9) {
      ASSERT_TRUE(TEST_Compact(db(), 100).ok());
      ASSERT_TRUE(f_.Reopen().ok());
      ASSERT_NO_FATAL_FAILURE(Check("z", model, rng));
    }
  }
  EXPECT_EQ(db()->GetStats().elements, model.size());
}

TEST_F(TxnZsetTest, LexRangesWithEqualScores) {
  const std::vector<std::string> members = {"a", "b", "ba", "c", "d", "e"};
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                ZAddResult r;
                for (const auto& m : members) {
                  DAXKV_RETURN_IF_ERROR(t.ZAdd("lex", m, 0, {}, &r));
                }
                return OkStatus();
              }).ok());
  auto range = [&](LexBound lo, LexBound hi, bool rev, Limit lim) {
    std::vector<std::string> out;
    uint64_t count = 0;
    EXPECT_TRUE(db()->RunRead({"lex"},
                              [&](ReadOps& r) {
                                out.clear();
                                return r.ZRangeByLex(
                                    "lex", LexRange{lo, hi}, rev, lim,
                                    [&](std::string_view m, double) {
                                      out.emplace_back(m);
                                      return true;
                                    },
                                    &count);
                              })
                    .ok());
    EXPECT_EQ(count, out.size());
    return out;
  };
  using K = LexBound::Kind;
  EXPECT_EQ(range({K::kInclusive, "b"}, {K::kExclusive, "d"}, false, {}),
            (std::vector<std::string>{"b", "ba", "c"}));
  EXPECT_EQ(range({K::kExclusive, "b"}, {K::kPlusInf, ""}, false, {1, 2}),
            (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(range({K::kMinusInf, ""}, {K::kInclusive, "ba"}, true, {}),
            (std::vector<std::string>{"ba", "b", "a"}));
  uint64_t removed;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) {
                return t.ZRemoveRangeByLex(
                    "lex", LexRange{{K::kInclusive, "b"}, {K::kInclusive, "c"}},
                    &removed);
              }).ok());
  EXPECT_EQ(removed, 3u);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(range({K::kMinusInf, ""}, {K::kPlusInf, ""}, false, {}),
            (std::vector<std::string>{"a", "d", "e"}));
}

TEST_F(TxnZsetTest, SavepointRollbackWatchAndAbortLeaveNoTrace) {
  bool b;
  ASSERT_TRUE(Tx(db(), [&](Txn& t) { return t.SetAdd("s", "kept", &b); }).ok());
  // A failing command inside a block: RollbackTo undoes it, the rest
  // commits.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "first", &b));
                const uint64_t sp = t.Savepoint();
                DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "undone", &b));
                uint64_t n;
                DAXKV_RETURN_IF_ERROR(
                    t.ListPush("l", End::kBack, "undone", false, &n));
                bool removed;
                DAXKV_RETURN_IF_ERROR(t.SetRemove("s", "kept", &removed));
                t.RollbackTo(sp);
                return OkStatus();
              }).ok());
  const std::vector<std::string> want = {"first", "kept"};
  EXPECT_EQ(SetAll(db(), "s"), want);
  EXPECT_EQ(StatOf(db(), "l").type, KeyType::kNone);

  // WATCH: a write of the key after the version was read aborts the Txn.
  const uint64_t version = StatOf(db(), "s").version;
  ASSERT_TRUE(
      Tx(db(), [&](Txn& t) { return t.SetAdd("s", "other", &b); }).ok());
  auto txn = db()->BeginTxn(TxnOptions{.keys = {"s"}});
  ASSERT_TRUE(txn.ok());
  (*txn)->RequireVersion("s", version);
  ASSERT_TRUE((*txn)->SetAdd("s", "watched", &b).ok());
  Status s = (*txn)->Commit(WriteOptions{});
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  const std::vector<std::string> want2 = {"first", "kept", "other"};
  EXPECT_EQ(SetAll(db(), "s"), want2);
  // An unchanged version commits.
  auto txn2 = db()->BeginTxn(TxnOptions{.keys = {"s"}});
  ASSERT_TRUE(txn2.ok());
  (*txn2)->RequireVersion("s", StatOf(db(), "s").version);
  ASSERT_TRUE((*txn2)->SetAdd("s", "watched", &b).ok());
  ASSERT_TRUE((*txn2)->Commit(WriteOptions{}).ok());
  txn2->reset();

  // Abort: a new collection and changes to an old one vanish.
  const Stats before = db()->GetStats();
  auto txn3 = db()->BeginTxn(TxnOptions{});
  ASSERT_TRUE(txn3.ok());
  ASSERT_TRUE((*txn3)->SetAdd("new", "x", &b).ok());
  bool removed;
  ASSERT_TRUE((*txn3)->SetRemove("s", "kept", &removed).ok());
  EXPECT_TRUE(removed);
  (*txn3)->Abort();
  txn3->reset();
  EXPECT_EQ(StatOf(db(), "new").type, KeyType::kNone);
  EXPECT_EQ(SetAll(db(), "s").size(), 4u);
  EXPECT_EQ(db()->GetStats().sets, before.sets);
  EXPECT_EQ(db()->GetStats().elements, before.elements);
  ASSERT_TRUE(f_.Reopen().ok());
  EXPECT_EQ(StatOf(db(), "new").type, KeyType::kNone);
  EXPECT_EQ(SetAll(db(), "s").size(), 4u);
}

// PrefetchElements is a hint for sorted sets too: on a large zset (its
// member table), a compact one (nothing to prefetch) and members present
// and absent, what the Txn then reads and writes is the same.
// A large zset "big" (2000 members "m<i>" on `scores` scores), a compact
// one "small" ({a: 1}) and a string "str", with their models.
void FillBigSmallAndString(DB* db, int scores,
                           std::map<std::string, double>* big,
                           std::map<std::string, double>* small) {
  ASSERT_TRUE(Tx(db, [&](Txn& t) -> Status {
                ZAddResult r;
                for (int i = 0; i < 2000; ++i) {
                  const std::string m = "m" + std::to_string(i);
                  (*big)[m] = i % scores;
                  DAXKV_RETURN_IF_ERROR(t.ZAdd("big", m, i % scores, {}, &r));
                }
                (*small)["a"] = 1;
                DAXKV_RETURN_IF_ERROR(t.ZAdd("small", "a", 1, {}, &r));
                return t.Put("str", "v", {});
              }).ok());
}

TEST_F(TxnZsetTest, PrefetchElementsChangesNoResult) {
  std::map<std::string, double> big, small;
  ASSERT_NO_FATAL_FAILURE(FillBigSmallAndString(db(), 10, &big, &small));
  const std::vector<std::string_view> members = {"m1", "m1999", "nope", "a",
                                                 ""};
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                t.PrefetchElements("big", members);  // not used yet: nothing
                for (const char* k : {"big", "small"}) {
                  DAXKV_RETURN_IF_ERROR(t.Stat(k).status());
                  t.PrefetchElements(k, members);
                }
                ZAddResult r;
                ZAddOptions incr;
                incr.incr = true;
                DAXKV_RETURN_IF_ERROR(t.ZAdd("big", "m1", 5, incr, &r));
                EXPECT_EQ(r.score, 6);
                DAXKV_RETURN_IF_ERROR(t.ZAdd("big", "nope", -1, {}, &r));
                EXPECT_TRUE(r.added);
                return t.ZAdd("small", "a", 2, {}, &r);
              }).ok());
  big["m1"] = 6;
  big["nope"] = -1;
  small["a"] = 2;
  std::mt19937_64 rng(3);
  ASSERT_NO_FATAL_FAILURE(Check("big", big, rng));
  ASSERT_NO_FATAL_FAILURE(Check("small", small, rng));
}

TEST_F(TxnZsetTest, PrefetchPopsChangesNoResult) {
  std::map<std::string, double> big, small;
  ASSERT_NO_FATAL_FAILURE(FillBigSmallAndString(db(), 50, &big, &small));
  // Pops from both ends between hints of every size, on the large form,
  // the compact one, a string and a missing key: the popped members are
  // the model's.
  ASSERT_TRUE(Tx(db(), [&](Txn& t) -> Status {
                t.PrefetchPops("big", false, 5);  // not used yet: nothing
                for (const char* k : {"big", "small", "str", "none"}) {
                  (void)t.Stat(k);
                }
                for (uint64_t hint : {0, 1, 7, 64, 65, 100000}) {
                  for (bool max : {false, true}) {
                    for (const char* k : {"big", "small", "str", "none"}) {
                      t.PrefetchPops(k, max, hint);
                    }
                    DAXKV_RETURN_IF_ERROR(t.ZPop(
                        "big", max, 3, [&](std::string_view m, double sc) {
                          std::set<std::pair<double, std::string>> order;
                          for (const auto& [mm, ss] : big)
                            order.emplace(ss, mm);
                          const auto& want =
                              max ? *order.rbegin() : *order.begin();
                          EXPECT_EQ(m, want.second);
                          EXPECT_EQ(sc, want.first);
                          big.erase(std::string(m));
                          return true;
                        }));
                  }
                }
                return OkStatus();
              }).ok());
  std::mt19937_64 rng(4);
  ASSERT_NO_FATAL_FAILURE(Check("big", big, rng));
  ASSERT_NO_FATAL_FAILURE(Check("small", small, rng));
}

}  // namespace
}  // namespace daxkv::engine
