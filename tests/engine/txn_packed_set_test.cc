// Packed sets (engine/coll_packed_ints.h, txn_packed_set.cc): a set of
// integers is one entry while it fits Options::packed_set_max; it leaves
// the form for good on a member that is not an integer or one too many;
// every set operation, rollback, COPY and RENAME, compaction, a crash scan
// and the clean-close snapshot see the same members either way; the limit
// changes at run time; and the DRAM a packed set costs does not grow with
// its members.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/coll_packed_ints.h"
#include "engine/format.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

using coll::PackedInts;

TEST(PackedIntsTest, EncodesNarrowestWidthAndFindsMembers) {
  const std::vector<int64_t> small = {-32768, -1, 0, 7, 32767};
  const std::string b2 = PackedInts::Encode(small);
  EXPECT_EQ(b2.size(), 8u + 2 * small.size());
  EXPECT_EQ(PackedInts::Check(b2), "");
  const std::vector<int64_t> mid = {-32769, 5};
  EXPECT_EQ(PackedInts::Encode(mid).size(), 8u + 4 * 2);
  const std::vector<int64_t> big = {INT64_MIN, 0, INT64_MAX};
  const std::string b8 = PackedInts::Encode(big);
  EXPECT_EQ(b8.size(), 8u + 8 * 3);
  const PackedInts p(b8);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p.At(0), INT64_MIN);
  EXPECT_EQ(p.At(2), INT64_MAX);
  EXPECT_TRUE(p.Contains("9223372036854775807"));
  EXPECT_TRUE(p.Contains("-9223372036854775808"));
  EXPECT_FALSE(p.Contains("1"));
  EXPECT_FALSE(p.Contains("00"));  // not canonical: never a member
  uint32_t pos;
  EXPECT_FALSE(PackedInts(b2).Find(8, &pos));
  EXPECT_EQ(pos, 4u);
  std::vector<int64_t> back;
  PackedInts(b2).Decode(&back);
  EXPECT_EQ(back, small);
}

TEST(PackedIntsTest, CheckRefusesWhatRecoveryMustNotTrust) {
  std::string b = PackedInts::Encode({1, 2, 3});
  EXPECT_NE(PackedInts::Check(b.substr(0, 7)), "");   // no header
  EXPECT_NE(PackedInts::Check(b.substr(0, 12)), "");  // short of its count
  std::string swapped = b;
  std::swap(swapped[8], swapped[10]);  // 2, 1, 3
  EXPECT_NE(PackedInts::Check(swapped), "");
  std::string width = b;
  width[0] = 3;
  EXPECT_NE(PackedInts::Check(width), "");
  std::string empty = b.substr(0, 8);
  empty[4] = 0;
  EXPECT_NE(PackedInts::Check(empty), "");
}

// The byte-level edits give exactly what encoding the edited members
// gives, across widening and narrowing.
TEST(PackedIntsTest, InsertedAndErasedMatchEncode) {
  std::mt19937_64 rng(7);
  const int64_t kScales[] = {100, 40000, int64_t{1} << 40, INT64_MAX};
  for (int round = 0; round < 2000; ++round) {
    std::set<int64_t> members;
    const int64_t scale = kScales[rng() % 4];
    const size_t n = 2 + rng() % 20;
    while (members.size() < n) {
      members.insert(
          static_cast<int64_t>(rng() % static_cast<uint64_t>(scale)) *
          (rng() % 2 ? 1 : -1));
    }
    std::vector<int64_t> sorted(members.begin(), members.end());
    const std::string bytes = PackedInts::Encode(sorted);
    // Erase one.
    const auto at = static_cast<uint32_t>(rng() % sorted.size());
    std::vector<int64_t> fewer = sorted;
    fewer.erase(fewer.begin() + at);
    ASSERT_EQ(PackedInts::Erased(bytes, at), PackedInts::Encode(fewer));
    // Insert one that is absent, at a scale that may widen.
    const int64_t v =
        static_cast<int64_t>(rng() % static_cast<uint64_t>(kScales[rng() % 4]));
    uint32_t pos;
    if (PackedInts(bytes).Find(v, &pos)) continue;
    std::vector<int64_t> more = sorted;
    more.insert(more.begin() + pos, v);
    ASSERT_EQ(PackedInts::Inserted(bytes, v, pos), PackedInts::Encode(more));
  }
}

class TxnPackedSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_.options.packed_set_max = 8;
    ASSERT_OK(f_.Open());
  }
  DB* db() { return f_.db.get(); }
  Status Add(const std::string& k, const std::vector<std::string>& ms,
             int* added = nullptr) {
    return Tx(db(), [&](Txn& t) -> Status {
      int n = 0;
      for (const std::string& m : ms) {
        bool b;
        DAXKV_RETURN_IF_ERROR(t.SetAdd(k, m, &b));
        n += b;
      }
      if (added != nullptr) *added = n;
      return OkStatus();
    });
  }
  Status Rem(const std::string& k, const std::string& m, bool* removed) {
    return Tx(db(), [&](Txn& t) { return t.SetRemove(k, m, removed); });
  }
  bool Packed(const std::string& k) { return StatOf(db(), k).packed; }
  static std::vector<std::string> Texts(std::vector<int> v) {
    std::vector<std::string> out;
    for (int i : v) out.push_back(std::to_string(i));
    std::sort(out.begin(), out.end());
    return out;
  }
  EngineFixture f_{32 << 20, 256 << 10};
};

TEST_F(TxnPackedSetTest, IntegersStayPackedThroughEveryOperation) {
  int added = 0;
  ASSERT_OK(Add("s", {"5", "-3", "5", "70000", "0"}, &added));
  EXPECT_EQ(added, 4);
  EXPECT_TRUE(Packed("s"));
  EXPECT_EQ(SetAll(db(), "s"), Texts({-3, 0, 5, 70000}));
  KeyInfo info = StatOf(db(), "s");
  EXPECT_EQ(info.size, 4u);
  EXPECT_TRUE(info.compact);
  EXPECT_FALSE(info.had_long_element);  // OBJECT ENCODING: intset
  ASSERT_OK(db()->RunRead({"s"}, [&](ReadOps& r) -> Status {
    bool in = false;
    DAXKV_RETURN_IF_ERROR(r.SetContains("s", "70000", &in));
    EXPECT_TRUE(in);
    DAXKV_RETURN_IF_ERROR(r.SetContains("s", "+5", &in));
    EXPECT_FALSE(in);
    std::vector<std::string> order, scanned, sample;
    DAXKV_RETURN_IF_ERROR(r.SetForEach("s", [&](std::string_view m) {
      order.emplace_back(m);
      return true;
    }));
    EXPECT_EQ(order, (std::vector<std::string>{"-3", "0", "5", "70000"}));
    uint64_t next = 1;
    DAXKV_RETURN_IF_ERROR(r.SetScan(
        "s", 0, 1,
        [&](std::string_view m) {
          scanned.emplace_back(m);
          return true;
        },
        &next));
    EXPECT_EQ(next, 0u);  // one page, as Redis scans an intset
    EXPECT_EQ(scanned.size(), 4u);
    DAXKV_RETURN_IF_ERROR(r.SetRandom("s", 10, [&](std::string_view m) {
      sample.emplace_back(m);
      return true;
    }));
    EXPECT_EQ(std::set<std::string>(sample.begin(), sample.end()).size(), 4u);
    sample.clear();
    DAXKV_RETURN_IF_ERROR(r.SetRandom("s", -9, [&](std::string_view m) {
      sample.emplace_back(m);
      return true;
    }));
    EXPECT_EQ(sample.size(), 9u);
    return OkStatus();
  }));
  bool removed = false;
  ASSERT_OK(Rem("s", "x", &removed));
  EXPECT_FALSE(removed);
  ASSERT_OK(Rem("s", "5", &removed));
  EXPECT_TRUE(removed);
  std::vector<std::string> popped;
  ASSERT_OK(Tx(db(), [&](Txn& t) {
    popped.clear();
    return t.SetPop("s", 2, [&](std::string_view m) {
      popped.emplace_back(m);
      return true;
    });
  }));
  ASSERT_EQ(popped.size(), 2u);
  EXPECT_EQ(SetAll(db(), "s").size(), 1u);
  EXPECT_TRUE(Packed("s"));
  ASSERT_OK(Tx(db(), [&](Txn& t) {
    return t.SetPop("s", 5, [](std::string_view) { return true; });
  }));
  EXPECT_EQ(StatOf(db(), "s").type, KeyType::kNone);
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
}

TEST_F(TxnPackedSetTest, ANonIntegerOrOneTooManyUnpacksForGood) {
  ASSERT_OK(Add("a", {"1", "2", "3"}));
  ASSERT_OK(Add("a", {"x"}));
  EXPECT_FALSE(Packed("a"));
  EXPECT_EQ(SetAll(db(), "a"), (std::vector<std::string>{"1", "2", "3", "x"}));
  bool removed;
  ASSERT_OK(Rem("a", "x", &removed));
  EXPECT_FALSE(Packed("a"));  // as Redis: never converted back
  ASSERT_OK(Add("b", {"1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_TRUE(Packed("b"));  // exactly packed_set_max
  ASSERT_OK(Add("b", {"9"}));
  EXPECT_FALSE(Packed("b"));
  EXPECT_EQ(SetAll(db(), "b"), Texts({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // The empty member is no integer, and the packed entry's subkey is "":
  // the set unpacks and the member's put supersedes the entry's tombstone.
  ASSERT_OK(Add("c", {"1"}));
  ASSERT_OK(Add("c", {""}));
  EXPECT_EQ(SetAll(db(), "c"), (std::vector<std::string>{"", "1"}));
  // A set created with a non-integer is never packed.
  ASSERT_OK(Add("d", {"y", "1"}));
  EXPECT_FALSE(Packed("d"));
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
  auto crashed = f_.Snapshot();
  ASSERT_OK(f_.Reopen());  // a clean close and a snapshot open
  EXPECT_FALSE(Packed("b"));
  EXPECT_EQ(SetAll(db(), "c"), (std::vector<std::string>{"", "1"}));
  f_.db.reset();
  f_.buffer = crashed;  // a crash: the scan
  ASSERT_OK(f_.Open());
  EXPECT_EQ(SetAll(db(), "b"), Texts({1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(SetAll(db(), "c"), (std::vector<std::string>{"", "1"}));
  EXPECT_FALSE(Packed("a"));
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
}

TEST_F(TxnPackedSetTest, RollbackRestoresTheFormAndTheMembers) {
  ASSERT_OK(Add("s", {"1", "2"}));
  ASSERT_OK(Tx(db(), [&](Txn& t) -> Status {
    bool b;
    const uint64_t sp = t.Savepoint();
    DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "3", &b));
    DAXKV_RETURN_IF_ERROR(t.SetAdd("s", "z", &b));  // unpacks
    DAXKV_RETURN_IF_ERROR(t.SetRemove("s", "1", &b));
    DAXKV_RETURN_IF_ERROR(t.SetAdd("new", "5", &b));
    t.RollbackTo(sp);
    bool in = true;
    DAXKV_RETURN_IF_ERROR(t.SetContains("s", "z", &in));
    EXPECT_FALSE(in);
    DAXKV_RETURN_IF_ERROR(t.SetContains("s", "1", &in));
    EXPECT_TRUE(in);
    return t.SetAdd("s", "4", &b);
  }));
  EXPECT_TRUE(Packed("s"));
  EXPECT_EQ(SetAll(db(), "s"), Texts({1, 2, 4}));
  EXPECT_EQ(StatOf(db(), "new").type, KeyType::kNone);
  // An aborted Txn leaves nothing.
  {
    TxnOptions o;
    o.keys = {"s"};
    auto t = db()->BeginTxn(o);
    ASSERT_OK(t);
    bool b;
    ASSERT_OK((*t)->SetAdd("s", "x", &b));
    (*t)->Abort();
  }
  EXPECT_TRUE(Packed("s"));
  EXPECT_EQ(SetAll(db(), "s"), Texts({1, 2, 4}));
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
}

TEST_F(TxnPackedSetTest, CopyRenameCompactionAndCrash) {
  ASSERT_OK(Add("s", {"10", "20", "30"}));
  bool done;
  ASSERT_OK(Tx(db(), [&](Txn& t) { return t.Copy("s", "c", false, &done); }));
  EXPECT_TRUE(done);
  ASSERT_OK(Tx(db(), [&](Txn& t) { return t.Rename("s", "r", false, &done); }));
  ASSERT_OK(Add("c", {"40"}));
  EXPECT_TRUE(Packed("c"));
  EXPECT_TRUE(Packed("r"));
  EXPECT_EQ(SetAll(db(), "r"), Texts({10, 20, 30}));
  EXPECT_EQ(SetAll(db(), "c"), Texts({10, 20, 30, 40}));
  // Rewrites leave dead packed entries behind; compaction moves the live
  // ones (every segment it can).
  for (int i = 0; i < 3000; ++i) {
    bool removed;
    ASSERT_OK(Add("r", {std::to_string(i % 5)}));
    ASSERT_OK(Rem("r", std::to_string((i + 2) % 5), &removed));
  }
  const std::vector<std::string> r = SetAll(db(), "r");
  auto freed = TEST_Compact(db(), 1000);
  ASSERT_OK(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
  EXPECT_EQ(SetAll(db(), "r"), r);
  EXPECT_EQ(SetAll(db(), "c"), Texts({10, 20, 30, 40}));
  f_.buffer = f_.Snapshot();  // a crash: no clean close
  ASSERT_OK(f_.Open());
  EXPECT_EQ(SetAll(db(), "r"), r);
  EXPECT_TRUE(Packed("r"));
  EXPECT_EQ(SetAll(db(), "c"), Texts({10, 20, 30, 40}));
  EXPECT_OK(TEST_CheckElemDeadCounts(db()));
}

// CONFIG SET set-max-intset-entries: a lowered limit unpacks a packed set
// at its next add (as Redis converts an intset), 0 packs no new set.
TEST_F(TxnPackedSetTest, SetPackedSetMaxAppliesFromTheNextAdd) {
  ASSERT_OK(Add("s", {"1", "2", "3"}));
  db()->SetPackedSetMax(2);
  EXPECT_TRUE(Packed("s"));
  bool removed;
  ASSERT_OK(Rem("s", "3", &removed));
  EXPECT_TRUE(Packed("s"));  // removals keep the form
  ASSERT_OK(Add("s", {"3"}));
  EXPECT_FALSE(Packed("s"));
  ASSERT_OK(Add("t", {"1", "2"}));
  EXPECT_TRUE(Packed("t"));
  db()->SetPackedSetMax(0);
  ASSERT_OK(Add("u", {"1"}));
  EXPECT_FALSE(Packed("u"));
  EXPECT_EQ(SetAll(db(), "s"), Texts({1, 2, 3}));
}

// The DRAM side of a packed set is its Collection alone, whatever its
// size; a set of the same members with packing off holds a slot each.
TEST_F(TxnPackedSetTest, DramDoesNotGrowWithMembers) {
  f_.options.packed_set_max = 512;
  ASSERT_OK(f_.Reopen());
  std::vector<std::string> ms;
  for (int i = 0; i < 500; ++i) ms.push_back(std::to_string(i * 3));
  ASSERT_OK(Add("p", {"1"}));
  ASSERT_OK(Add("q", ms));
  uint64_t one = 0, many = 0;
  ASSERT_OK(db()->RunRead({"p", "q"}, [&](ReadOps& r) -> Status {
    DAXKV_ASSIGN_OR_RETURN(KeyFootprint p, r.Footprint("p", 0));
    DAXKV_ASSIGN_OR_RETURN(KeyFootprint q, r.Footprint("q", 0));
    one = p.dram_bytes;
    many = q.dram_bytes;
    EXPECT_EQ(q.sampled, 500u);
    // The meta entry and one packed entry of 500 2-byte integers.
    EXPECT_LT(q.log_bytes, 1300u);
    EXPECT_GT(q.log_bytes, 1000u);
    return OkStatus();
  }));
  EXPECT_EQ(one, many);
  f_.options.packed_set_max = 0;
  ASSERT_OK(f_.Reopen());
  ASSERT_OK(Add("t", ms));
  EXPECT_FALSE(Packed("t"));
  ASSERT_OK(db()->RunRead({"t"}, [&](ReadOps& r) -> Status {
    DAXKV_ASSIGN_OR_RETURN(KeyFootprint t, r.Footprint("t", 0));
    EXPECT_GT(t.dram_bytes, one + 500 * 8);
    return OkStatus();
  }));
  EXPECT_TRUE(Packed("q"));  // the option decides new sets only
}

}  // namespace
}  // namespace daxkv::engine
