// ZsetIndex (engine/coll_zset.h): sorted-set order, ranks, score and lex
// bounds and member lookup, checked against a std::set model across the
// compact and large forms; ties, infinities and signed zero; and how much
// DRAM and how many medium reads the two forms cost.
#include "engine/coll_zset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>

#include "tests/engine/coll_test_util.h"

namespace daxkv::engine::coll {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// `prefix` and i in 12 zero-padded digits: redis-benchmark's members.
std::string Padded(const char* prefix, uint64_t i) {
  char b[32];
  std::snprintf(b, sizeof(b), "%s%012llu", prefix,
                static_cast<unsigned long long>(i));
  return b;
}

// The model: (score, member) pairs in Redis order, and member -> loc.
struct Model {
  std::set<std::pair<double, std::string>> order;
  std::map<std::string, std::pair<double, uint64_t>> members;

  uint64_t Rank(double score, const std::string& m) const {
    return std::distance(order.begin(), order.find({score, m}));
  }
  uint64_t ScoreBound(double s, bool after) const {
    uint64_t r = 0;
    for (auto& [sc, m] : order) r += after ? sc <= s : sc < s;
    return r;
  }
};

class CollZsetTest : public ::testing::Test {
 protected:
  void Add(const std::string& member, double score) {
    const uint64_t loc = m_.Add(member, score);
    auto it = model_.members.find(member);
    if (it == model_.members.end()) {
      z_.Insert(m_, member, score, loc);
    } else if (rescore_) {
      const auto [old, old_loc] = it->second;
      model_.order.erase({old, member});
      const uint64_t rank = z_.Rescore(m_, member, old, old_loc, score, loc);
      model_.order.insert({score, member});
      ASSERT_EQ(rank, model_.Rank(score, member));
    } else {
      ASSERT_EQ(z_.Erase(m_, member), it->second.second);
      model_.order.erase({it->second.first, member});
      z_.Insert(m_, member, score, loc);
    }
    model_.members[member] = {score, loc};
    model_.order.insert({score, member});
  }
  void Remove(const std::string& member) {
    auto it = model_.members.find(member);
    ASSERT_EQ(z_.Erase(m_, member),
              it == model_.members.end() ? 0 : it->second.second);
    if (it == model_.members.end()) return;
    model_.order.erase({it->second.first, member});
    model_.members.erase(it);
  }
  void ExpectSame() {
    ASSERT_EQ(z_.size(), model_.order.size());
    auto it = model_.order.begin();
    z_.Forward(0, z_.size(), [&](uint64_t rank, uint64_t loc) {
      EXPECT_EQ(m_.Subkey(loc), it->second) << rank;
      EXPECT_EQ(m_.Score(loc), it->first) << rank;
      ++it;
      return true;
    });
    auto rit = model_.order.rbegin();
    z_.Reverse(0, z_.size(), [&](uint64_t, uint64_t loc) {
      EXPECT_EQ(m_.Subkey(loc), rit->second);
      ++rit;
      return true;
    });
  }
  void ExpectLookups(std::mt19937_64& rng) {
    for (auto& [member, sl] : model_.members) {
      if (rng() % 8) continue;
      ASSERT_EQ(z_.Find(m_, member), sl.second);
      ASSERT_EQ(z_.RankOf(m_, member, sl.first), model_.Rank(sl.first, member));
      ASSERT_EQ(z_.At(model_.Rank(sl.first, member)), sl.second);
    }
    ASSERT_EQ(z_.Find(m_, "absent"), 0u);
    for (double s : {-kInf, -3.0, -0.0, 0.0, 0.5, 7.0, 1e9, kInf}) {
      for (bool after : {false, true}) {
        ASSERT_EQ(z_.ScoreBound(m_, s, after), model_.ScoreBound(s, after))
            << s << " " << after;
      }
    }
  }

  FakeMedium m_;
  ZsetIndex z_;
  Model model_;
  bool rescore_ = false;  // Add of a present member: Rescore, not Erase
};

TEST_F(CollZsetTest, RandomOperationsMatchASetModelInBothForms) {
  std::mt19937_64 rng(17);
  bool was_compact = true;
  for (int round = 0; round < 60; ++round) {
    const bool grow = round < 40;
    for (int op = 0; op < 100; ++op) {
      std::string member = "m" + std::to_string(rng() % 2000);
      // Scores with many ties, infinities and both zeros.
      const double scores[] = {-kInf, kInf, -0.0, 0.0, 1.5, 2.0};
      double score = rng() % 4 == 0 ? scores[rng() % 6]
                                    : double(int64_t(rng() % 200) - 100) / 4;
      if (rng() % 100 < (grow ? 80u : 30u)) {
        ASSERT_NO_FATAL_FAILURE(Add(member, score));
      } else {
        ASSERT_NO_FATAL_FAILURE(Remove(member));
      }
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSame());
    ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
    was_compact &= z_.compact();
  }
  EXPECT_FALSE(was_compact);  // it went large
}

// ZADD's update path: the same random operations with every re-add of a
// present member through Rescore, which must leave what Erase then Insert
// leaves (order, ranks, lookups) in both forms, ties and signed zeros
// included, and return the new rank.
TEST_F(CollZsetTest, RescoreMatchesEraseThenInsertInBothForms) {
  rescore_ = true;
  std::mt19937_64 rng(29);
  for (int round = 0; round < 40; ++round) {
    for (int op = 0; op < 100; ++op) {
      std::string member = "m" + std::to_string(rng() % (round < 5 ? 60 : 900));
      // Few distinct scores, so many moves keep their rank or step by one.
      const double scores[] = {-kInf, kInf, -0.0, 0.0, 1.5, 2.0};
      double score = rng() % 3 == 0 ? scores[rng() % 6]
                                    : double(int64_t(rng() % 40) - 20) / 2;
      if (rng() % 100 < 85) {
        ASSERT_NO_FATAL_FAILURE(Add(member, score));
      } else {
        ASSERT_NO_FATAL_FAILURE(Remove(member));
      }
    }
    ASSERT_NO_FATAL_FAILURE(ExpectSame());
    ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
    if (round == 4) {
      ASSERT_TRUE(z_.compact());
    }
  }
  EXPECT_FALSE(z_.compact());
}

TEST_F(CollZsetTest, EqualScoresOrderByMemberBytesAndSupportLexBounds) {
  // Unsigned byte order, a proper prefix first (Redis's sdscmp).
  for (const char* m : {"b", "a", "ab", "\xff", "", "a\x01", "aa"}) Add(m, 1.0);
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  EXPECT_EQ(m_.Subkey(z_.At(0)), "");
  EXPECT_EQ(m_.Subkey(z_.At(6)), "\xff");
  EXPECT_EQ(z_.LexBound(m_, "a", false), 1u);  // [a
  EXPECT_EQ(z_.LexBound(m_, "a", true), 2u);   // (a
  EXPECT_EQ(z_.LexBound(m_, "az", false), 5u);
  for (int i = 0; i < 300; ++i) Add("x" + std::to_string(i), 1.0);
  ASSERT_FALSE(z_.compact());
  EXPECT_EQ(z_.LexBound(m_, "a", true), 2u);
  EXPECT_EQ(z_.LexBound(m_, "x1", false), 7u);  // after "", a, a\x01, aa, ab, b, x0
  EXPECT_EQ(m_.Subkey(z_.At(z_.LexBound(m_, "x2", false))), "x2");
}

TEST_F(CollZsetTest, EraseRanksPopsFromBothEnds) {
  for (int i = 0; i < 500; ++i) Add("p" + std::to_string(i), i % 50);
  // ZPOPMIN 10, ZPOPMAX 10, ZREMRANGEBYSCORE 20 29.
  auto erase_model = [&](uint64_t from, uint64_t to) {
    auto a = std::next(model_.order.begin(), from);
    auto b = std::next(model_.order.begin(), to);
    for (auto it = a; it != b; ++it) model_.members.erase(it->second);
    model_.order.erase(a, b);
  };
  z_.EraseRanks(m_, 0, 10);
  erase_model(0, 10);
  z_.EraseRanks(m_, z_.size() - 10, z_.size());
  erase_model(model_.order.size() - 10, model_.order.size());
  const uint64_t lo = z_.ScoreBound(m_, 20, false), hi = z_.ScoreBound(m_, 29, true);
  z_.EraseRanks(m_, lo, hi);
  erase_model(lo, hi);
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  std::mt19937_64 rng(1);
  ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
}

TEST_F(CollZsetTest, RelocateMovesOnlyTheCurrentLocation) {
  for (int n : {50, 500}) {
    z_.Clear();
    model_ = {};
    for (int i = 0; i < n; ++i) Add("r" + std::to_string(i), i * 0.5);
    const uint64_t old_loc = z_.Find(m_, "r7");
    const uint64_t new_loc = m_.Copy(old_loc);
    EXPECT_FALSE(z_.Relocate(m_, "r7", 3.5, new_loc, old_loc));
    EXPECT_TRUE(z_.Relocate(m_, "r7", 3.5, old_loc, new_loc));
    EXPECT_EQ(z_.Find(m_, "r7"), new_loc);
    EXPECT_EQ(z_.At(7), new_loc);
  }
}

TEST_F(CollZsetTest, RelocateTriesTheHintedRankFirst) {
  for (int n : {50, 500}) {
    z_.Clear();
    model_ = {};
    for (int i = 0; i < n; ++i) Add("h" + std::to_string(i), i % 7);
    const uint64_t rank = model_.Rank(3, "h10");
    const uint64_t old_loc = z_.Find(m_, "h10");
    const uint64_t reads = m_.reads();
    const uint64_t hinted = m_.Copy(old_loc);
    EXPECT_TRUE(z_.Relocate(m_, "h10", 3, old_loc, hinted, rank));
    EXPECT_EQ(m_.reads() - reads, 0u) << "the hint needs no search";
    // A stale hint (another entry there now) falls back to the search.
    const uint64_t moved = m_.Copy(hinted);
    EXPECT_TRUE(z_.Relocate(m_, "h10", 3, hinted, moved, rank + 1));
    EXPECT_EQ(z_.At(rank), moved);
    EXPECT_EQ(z_.Find(m_, "h10"), moved);
    EXPECT_FALSE(z_.Relocate(m_, "h10", 3, hinted, old_loc, rank));
  }
}

TEST_F(CollZsetTest, LargeEraseFindsTheEntryByLocationThenByMember) {
  // 200 members of score 1 (a run longer than the location scan) among
  // 400 of distinct scores: erasing inside the run's first entries, past
  // them, and outside it, and the order stays the model's.
  for (int i = 0; i < 400; ++i) Add("d" + std::to_string(i), 2 + i);
  for (int i = 0; i < 200; ++i) Add("t" + std::to_string(i), 1);
  const uint64_t reads = m_.reads();
  ASSERT_NO_FATAL_FAILURE(Remove("d17"));
  // The member table's check of the subkey and the score: the order's
  // search compares no member.
  EXPECT_EQ(m_.reads() - reads, 2u);
  for (const char* m : {"t0", "t105", "t199", "t1", "t50"}) {
    ASSERT_NO_FATAL_FAILURE(Remove(m));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  std::mt19937_64 rng(7);
  ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
}

TEST_F(CollZsetTest, AssignBuildsEitherForm) {
  for (int n : {0, 1, 128, 129, 5000}) {
    std::vector<ZsetIndex::Member> members;
    model_ = {};
    for (int i = 0; i < n; ++i) {
      std::string member = "s" + std::to_string(i);
      const double score = i / 3;
      const uint64_t loc = m_.Add(member, score);
      model_.members[member] = {score, loc};
      model_.order.insert({score, member});
    }
    for (auto& [score, member] : model_.order) {
      members.push_back(
          {model_.members[member].second, score, m_.Hash(member)});
    }
    z_.Assign(m_, members);
    EXPECT_EQ(z_.compact(), n <= 128);
    ASSERT_NO_FATAL_FAILURE(ExpectSame());
    std::mt19937_64 rng(n);
    ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
  }
}

TEST_F(CollZsetTest, ScanReturnsEveryMemberOnce) {
  for (int n : {100, 3000}) {
    z_.Clear();
    model_ = {};
    for (int i = 0; i < n; ++i) Add("c" + std::to_string(i), i);
    std::multiset<std::string> seen;
    uint64_t cursor = 0;
    do {
      cursor = z_.Scan(cursor, 10, [&](uint64_t loc) {
        seen.insert(std::string(m_.Subkey(loc)));
      });
    } while (cursor != 0);
    EXPECT_EQ(seen.size(), uint64_t(n));
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(),
              uint64_t(n));
  }
}

TEST_F(CollZsetTest, LargeFormKeepsScoresInDram) {
  for (int i = 0; i < 10000; ++i) Add("d" + std::to_string(i), i * 1.25);
  const uint64_t reads = m_.reads();
  EXPECT_EQ(z_.ScoreBound(m_, 5000, false), 4000u);
  EXPECT_EQ(z_.ScoreBound(m_, 5000, true), 4001u);
  EXPECT_EQ(m_.reads(), reads);  // distinct scores: no member read at all
  EXPECT_EQ(z_.RankOf(m_, "d4000", 5000), 4000u);
  EXPECT_LE(m_.reads() - reads, 2u);  // one tie-break read at most
}

TEST(MemberPrefixTest, OrdersAsMemberBytesWhereItDecides) {
  std::mt19937_64 rng(41);
  const std::string alphabet("\0\x01a\x7f\x80\xff", 6);
  auto random_member = [&] {
    std::string m(rng() % 11, '\0');
    for (char& c : m) c = alphabet[rng() % alphabet.size()];
    return m;
  };
  for (int i = 0; i < 200000; ++i) {
    const std::string a = random_member(), b = random_member();
    const uint64_t pa = MemberPrefix(a), pb = MemberPrefix(b);
    // A prefix that differs decides as the bytes do; a < b never has a
    // larger prefix.
    if (pa != pb) {
      ASSERT_EQ(pa < pb, a < b) << i;
    }
    if (a < b) {
      ASSERT_LE(pa, pb) << i;
    }
  }
  EXPECT_EQ(MemberPrefix(""), 0u);
  EXPECT_EQ(MemberPrefix("ab"), 0x6162000000000000u);
  EXPECT_EQ(MemberPrefix("abcdefghij"), MemberPrefix("abcdefgh"));
}

// Keys past a common part: for members that share it, for members that
// order before or after it, are a proper prefix of it or extend it.
TEST(MemberKeysTest, OrderAsMemberBytesWhereTheyDecide) {
  std::mt19937_64 rng(42);
  const std::string alphabet("\0\x01a\x7f\x80\xff", 6);
  auto random_bytes = [&](size_t max) {
    std::string m(rng() % (max + 1), '\0');
    for (char& c : m) c = alphabet[rng() % alphabet.size()];
    return m;
  };
  for (int round = 0; round < 40; ++round) {
    const std::string common = random_bytes(MemberKeys::kMaxCommon);
    const MemberKeys keys(common);
    ASSERT_EQ(keys.common(), common);
    // Half the members extend the common part (or a piece of it), so
    // that every class and the boundaries between them come up.
    auto random_member = [&] {
      if (rng() % 2) return random_bytes(12);
      return common.substr(0, common.size() - rng() % 3 * (rng() % 2)) +
             random_bytes(10);
    };
    for (int i = 0; i < 20000; ++i) {
      const std::string a = random_member(), b = random_member();
      const uint64_t ka = keys.KeyOf(a), kb = keys.KeyOf(b);
      if (ka != kb) {
        ASSERT_EQ(ka < kb, a < b) << round << " " << i;
      }
      if (a < b) {
        ASSERT_LE(ka, kb) << round << " " << i;
      }
    }
  }
  EXPECT_EQ(MemberKeys().KeyOf("abcdefgh"), MemberPrefix("abcdefgh"));
  const MemberKeys keys("element:0000000");
  EXPECT_LT(keys.KeyOf("element:000000012344"),
            keys.KeyOf("element:000000012345"));
  EXPECT_EQ(MemberKeys::SharedLength("user:12", "user:3"), 5u);
  EXPECT_EQ(
      MemberKeys::SharedLength(std::string(40, 'x'), std::string(30, 'x')),
      MemberKeys::kMaxCommon);
}

// A part that shrinks remakes the keys from the old ones: the same keys
// as made from the members.
TEST(MemberKeysTest, KeysFromAWiderPartAreTheMembersKeys) {
  std::mt19937_64 rng(45);
  const std::string alphabet("\0\x01a\x7f\x80\xff", 6);
  auto random_bytes = [&](size_t n) {
    std::string m(n, '\0');
    for (char& c : m) c = alphabet[rng() % alphabet.size()];
    return m;
  };
  for (int i = 0; i < 100000; ++i) {
    const std::string part = random_bytes(1 + rng() % MemberKeys::kMaxCommon);
    const MemberKeys wider(part);
    const MemberKeys narrower(part.substr(0, rng() % part.size()));
    const std::string member = part + random_bytes(rng() % 12);
    ASSERT_TRUE(wider.Covers(member));
    ASSERT_EQ(narrower.KeyFromWider(wider.KeyOf(member), wider),
              narrower.KeyOf(member))
        << i;
  }
  EXPECT_FALSE(MemberKeys("user:0").Covers("user:"));
  EXPECT_FALSE(MemberKeys("user:0").Covers("user:1"));
  EXPECT_TRUE(MemberKeys().Covers(""));
}

// Members inserted in order of their IDs first agree on a long part
// ("user:000000000" for the first 128), which later IDs leave: the part
// shrinks and ties still break in DRAM. A recovery build of the same
// members keys them alike.
TEST_F(CollZsetTest, APartLaterMembersLeaveShrinks) {
  rescore_ = true;
  auto member = [](uint64_t i) { return Padded("user:", i); };
  for (int i = 0; i < 2000; ++i) Add(member(i), 0);
  for (int i = 0; i < 20; ++i) Add(member(i * 4999), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  std::mt19937_64 rng(46);
  const uint64_t reads = m_.reads();
  for (int i = 0; i < 300; ++i) {
    const std::string m = member(rng() % 2000);
    Add(m, model_.members[m].first + 1);
  }
  // A leaderboard's increments: the member table's check per update at
  // most, never a tie-break among the thousands at each score.
  EXPECT_LE(m_.reads() - reads, 600u);
  for (const char* m : {"", "user", "user:1", "v", "\xff"}) Add(m, 1.0);
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
  std::vector<ZsetIndex::Member> members;
  for (const auto& [score, m] : model_.order) {
    members.push_back({model_.members[m].second, score, m_.Hash(m)});
  }
  ZsetIndex rebuilt;
  rebuilt.Assign(m_, members);
  uint64_t r = 0;
  for (const auto& [score, m] : model_.order) {
    ASSERT_EQ(rebuilt.RankOf(m_, m, score), r++) << m;
  }
}

// redis-benchmark's members ("element:" and 12 zero-padded digits) share
// 15 bytes: score ties break on the digits past them, in DRAM, while
// members outside the common part still order right.
TEST_F(CollZsetTest, ScoreTiesBreakPastTheMembersCommonPart) {
  rescore_ = true;
  auto member = [](uint64_t i) { return Padded("element:", i); };
  std::mt19937_64 rng(44);
  for (int i = 0; i < 3000; ++i) Add(member(rng() % 5000), double(rng() % 4));
  ASSERT_FALSE(z_.compact());
  const std::string probe = model_.order.begin()->second;
  const double score = model_.order.begin()->first;
  uint64_t reads = m_.reads();
  EXPECT_EQ(z_.RankOf(m_, probe, score), 0u);
  EXPECT_LE(m_.reads() - reads, 1u);  // its own entry: the one equal key
  reads = m_.reads();
  for (int i = 0; i < 200; ++i) Add(member(rng() % 5000), double(rng() % 4));
  // Each Add reads its member back from the fake medium's slot once at most
  // (the member table's check); never a tie-break.
  EXPECT_LE(m_.reads() - reads, 400u);
  for (const char* m : {"", "e", "element:", "element:0000000", "element:1",
                        "elementz", "\xff", "element:00000009999999"}) {
    Add(m, 1.0);
  }
  for (int i = 0; i < 500; ++i) {
    Add(member(rng() % 5000), double(rng() % 4));
    if (i % 3 == 0) {
      ASSERT_NO_FATAL_FAILURE(Remove(member(rng() % 5000)));
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
}

// Lex bounds on a large zset of equal scores whose members share a part,
// for bounds inside, before, after and within the common part.
TEST_F(CollZsetTest, LexBoundsPastTheMembersCommonPart) {
  for (int i = 0; i < 400; ++i) Add("user:" + std::to_string(i * 7), 0.0);
  for (const char* m : {"", "use", "user", "user:", "usera", "v", "\x01"}) {
    Add(m, 0.0);
  }
  ASSERT_FALSE(z_.compact());
  std::vector<std::string> sorted;
  for (const auto& [s, m] : model_.order) sorted.push_back(m);
  for (const char* bound :
       {"", "a", "us", "user", "user:", "user:1", "user:14", "user:140",
        "user:9999", "user;", "v", "zz", "\x01", "usera"}) {
    for (bool after : {false, true}) {
      const uint64_t want =
          after ? std::upper_bound(sorted.begin(), sorted.end(), bound) -
                      sorted.begin()
                : std::lower_bound(sorted.begin(), sorted.end(), bound) -
                      sorted.begin();
      EXPECT_EQ(z_.LexBound(m_, bound, after), want) << bound << " " << after;
    }
  }
}

// A leaderboard: thousands of members per score. Members that differ in
// their first 8 bytes tie-break in DRAM (reads bounded by the member
// table's own check); a shared 8-byte prefix ("element:") still orders
// right, by reading members.
TEST_F(CollZsetTest, ScoreTiesBreakOnThePrefixBeforeTheMedium) {
  for (int i = 0; i < 4000; ++i) Add("u" + std::to_string(i), i % 4);
  uint64_t reads = m_.reads();
  EXPECT_EQ(z_.RankOf(m_, "u2001", 1), model_.Rank(1, "u2001"));
  EXPECT_LE(m_.reads() - reads, 1u);  // its own entry: the one equal prefix
  const uint64_t old_loc = z_.Find(m_, "u2001");
  const uint64_t loc = m_.Add("u2001", 2);
  reads = m_.reads();
  const uint64_t rank = z_.Rescore(m_, "u2001", 1, old_loc, 2, loc);
  EXPECT_EQ(m_.reads() - reads, 0u) << "the move reads no member";
  model_.order.erase({1, "u2001"});
  model_.order.insert({2, "u2001"});
  model_.members["u2001"] = {2, loc};
  EXPECT_EQ(rank, model_.Rank(2, "u2001"));
  reads = m_.reads();
  ASSERT_NO_FATAL_FAILURE(Remove("u3999"));
  EXPECT_LE(m_.reads() - reads, 2u);  // the member table's check and score
  ASSERT_NO_FATAL_FAILURE(ExpectSame());

  z_.Clear();
  model_ = {};
  std::mt19937_64 rng(43);
  for (int i = 0; i < 3000; ++i) {
    Add("element:" + std::to_string(rng() % 1500), double(rng() % 3));
    if (i % 5 == 0) {
      ASSERT_NO_FATAL_FAILURE(
          Remove("element:" + std::to_string(rng() % 1500)));
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectSame());
  ASSERT_NO_FATAL_FAILURE(ExpectLookups(rng));
}

TEST_F(CollZsetTest, MemoryPerMember) {
  for (int i = 0; i < 100; ++i) Add("a" + std::to_string(i), i);
  const double compact = double(z_.MemoryBytes()) / 100;
  ZsetIndex big;
  std::mt19937_64 rng(5);
  const int n = 300000;
  for (int i = 0; i < n; ++i) {
    std::string member = "b" + std::to_string(i);
    const double score = double(rng() % 1000000);
    big.Insert(m_, member, score, m_.Add(member, score));
  }
  const double large = double(big.MemoryBytes()) / n;
  std::printf("  compact 100: %.2f B/member; large 300k random: %.2f B/member\n",
              compact, large);
  EXPECT_LT(compact, 8.0);
  EXPECT_LT(large, 40.0);
}

}  // namespace
}  // namespace daxkv::engine::coll
