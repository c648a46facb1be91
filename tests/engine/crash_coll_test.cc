// Crash-point tests of collections: every persist point of a workload of
// hash, list, set and sorted-set transactions (one element, several, and
// several keys at once: LMOVE, SMOVE, RENAME, COPY, DEL + re-create, SET
// over a collection), groups of unsynced transactions with one Sync(),
// compaction and reopen is a simulated power failure
// (tests/engine/crash_harness.h). Each recovered image must hold, per key, the
// collection before or after the transaction in flight, whole: a multi-element
// or multi-key transaction is all or nothing; nothing deleted comes back.
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>

#include "tests/engine/crash_coll_util.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine::crash {
namespace {

// A key as the test expects it: a string or a collection.
struct Shadow {
  KeyType type = KeyType::kNone;
  std::string str;
  std::map<std::string, std::string> hash;
  std::deque<std::string> list;
  std::set<std::string> set;
  std::map<std::string, double> zset;

  bool Empty() const {
    switch (type) {
      case KeyType::kNone:
        return true;
      case KeyType::kString:
        return false;
      case KeyType::kHash:
        return hash.empty();
      case KeyType::kList:
        return list.empty();
      case KeyType::kSet:
        return set.empty();
      case KeyType::kZset:
        return zset.empty();
      case KeyType::kStream:  // not in this workload (crash_stream_test.cc)
        return true;
    }
    return true;
  }
  // What DumpValue (txn_test_util.h) reads back for this key.
  std::string Text() const {
    std::string out;
    switch (type) {
      case KeyType::kNone:
        return "none";
      case KeyType::kString:
        return str;  // as ReadAnyType reads a string
      case KeyType::kHash:
        out = "hash{";
        for (const auto& [f, v] : hash) out += f + "=" + v + ",";
        return out + "}";
      case KeyType::kList:
        out = "list[";
        for (const auto& e : list) out += e + ",";
        return out + "]";
      case KeyType::kSet:
        out = "set{";
        for (const auto& e : set) out += e + ",";
        return out + "}";
      case KeyType::kZset: {
        std::set<std::pair<double, std::string>> order;
        for (const auto& [m, s] : zset) order.emplace(s, m);
        out = "zset{";
        for (const auto& [s, m] : order) {
          out += m + ":" + std::to_string(s) + ",";
        }
        return out + "}";
      }
      case KeyType::kStream:
        break;
    }
    return out;
  }
};
using State = std::map<std::string, Shadow>;

Model ToModel(const State& st) {
  Model m;
  for (const auto& [k, s] : st) {
    if (!s.Empty()) m[k] = {s.Text(), 0};
  }
  return m;
}

// A printable element: values are compared as text, so no separators.
std::string Elem(const std::string& key, uint64_t op, size_t len) {
  std::string v = MakeValue(key, op, len);
  for (char& c : v) c = static_cast<char>('a' + static_cast<uint8_t>(c) % 26);
  return v;
}

// One operation, decided up front (so the Txn body can re-run).
struct Op {
  enum Kind { kElem, kMove, kDelete, kSetString, kRename, kCopy } kind = kElem;
  KeyType type = KeyType::kNone;
  std::string key, key2;  // key2: a move's, rename's or copy's destination
  bool remove = false;
  End end = End::kBack;
  std::string member, value;
  double score = 0;
};

// The keys: three of each collection type; ops turn them into other types
// (SET over a collection, DEL, then a re-create of another type). The
// first list key is the empty key "" (its meta has key_len 0).
constexpr const char* kKeys[4][3] = {{"h0", "h1", "h2"},
                                     {"", "l1", "l2"},
                                     {"s0", "s1", "s2"},
                                     {"z0", "z1", "z2"}};
constexpr KeyType kTypes[4] = {KeyType::kHash, KeyType::kList, KeyType::kSet,
                               KeyType::kZset};

// What a workload's element ops look like.
struct Mix {
  // Two ops in three on sets, whose members are small integers and now and
  // then "x": packed sets (Options::packed_set_max = packed_set_max) grow
  // past the form, take a member that is not an integer, move, copy.
  bool packed_sets = false;
  uint32_t packed_set_max = 512;
};

Op MakeElemOp(std::mt19937_64& rng, uint64_t n, const Mix& mix) {
  Op o;
  const int t =
      mix.packed_sets && rng() % 3 != 0 ? 2 : static_cast<int>(rng() % 4);
  o.type = kTypes[t];
  o.key = kKeys[t][rng() % 3];
  o.remove = rng() % 4 == 0;
  o.end = rng() % 2 ? End::kFront : End::kBack;
  o.member = "m" + std::to_string(rng() % 24);
  if (mix.packed_sets) {
    o.member = rng() % 24 == 0 ? "x" : std::to_string(int(rng() % 12) - 3);
  }
  o.value = Elem(o.key, n, 4 + rng() % 60);
  o.score = static_cast<double>(rng() % 40) / 4 - 5;
  return o;
}

// Applies `o` to `st` and, when `t` is given, to the Txn.
Status RunOp(Txn* t, State& st, const Op& o) {
  bool flag;
  if (o.kind == Op::kDelete) {
    st.erase(o.key);
    return t ? t->Delete(o.key, &flag) : OkStatus();
  }
  if (o.kind == Op::kSetString) {
    Shadow& s = st[o.key];
    s = Shadow{};
    s.type = KeyType::kString;
    s.str = o.value;
    return t ? t->Put(o.key, o.value) : OkStatus();
  }
  if (o.kind == Op::kRename || o.kind == Op::kCopy) {  // RENAME, COPY REPLACE
    auto it = st.find(o.key);
    if (it == st.end() || it->second.Empty()) return OkStatus();
    st[o.key2] = it->second;
    if (o.kind == Op::kRename) st.erase(o.key);
    if (t == nullptr) return OkStatus();
    return o.kind == Op::kRename ? t->Rename(o.key, o.key2, false, &flag)
                                 : t->Copy(o.key, o.key2, true, &flag);
  }
  if (o.kind == Op::kMove) {  // LMOVE src dst RIGHT LEFT, SMOVE
    Shadow& src = st[o.key];
    Shadow& dst = st[o.key2];
    if (src.type != o.type || src.Empty()) return OkStatus();
    if (dst.type != o.type && !dst.Empty()) return OkStatus();  // WRONGTYPE
    dst.type = o.type;
    uint64_t n;
    if (o.type == KeyType::kList) {
      std::string v = src.list.back();
      src.list.pop_back();
      dst.list.push_front(v);
      if (t == nullptr) return OkStatus();
      std::string got;
      DAXKV_RETURN_IF_ERROR(t->ListPop(o.key, End::kBack, &got));
      return t->ListPush(o.key2, End::kFront, got, false, &n);
    }
    if (src.set.erase(o.member) == 0) return OkStatus();
    dst.set.insert(o.member);
    if (t == nullptr) return OkStatus();
    DAXKV_RETURN_IF_ERROR(t->SetRemove(o.key, o.member, &flag));
    return t->SetAdd(o.key2, o.member, &flag);
  }
  Shadow& s = st[o.key];
  if (s.type != o.type && !s.Empty()) {  // DEL + create, one batch
    s = Shadow{};
    if (t) DAXKV_RETURN_IF_ERROR(t->Delete(o.key, &flag));
  }
  s.type = o.type;
  uint64_t n;
  std::string v;
  switch (o.type) {
    case KeyType::kHash:
      if (o.remove) {
        s.hash.erase(o.member);
        return t ? t->HashDelete(o.key, o.member, &flag) : OkStatus();
      }
      s.hash[o.member] = o.value;
      return t ? t->HashSet(o.key, o.member, o.value, SetMode::kUpsert, &flag)
               : OkStatus();
    case KeyType::kList:
      if (o.remove) {
        if (s.list.empty()) return OkStatus();
        o.end == End::kFront ? s.list.pop_front() : s.list.pop_back();
        return t ? t->ListPop(o.key, o.end, &v) : OkStatus();
      }
      o.end == End::kFront ? s.list.push_front(o.value)
                           : s.list.push_back(o.value);
      return t ? t->ListPush(o.key, o.end, o.value, false, &n) : OkStatus();
    case KeyType::kSet:
      if (o.remove) {
        s.set.erase(o.member);
        return t ? t->SetRemove(o.key, o.member, &flag) : OkStatus();
      }
      s.set.insert(o.member);
      return t ? t->SetAdd(o.key, o.member, &flag) : OkStatus();
    case KeyType::kZset: {
      if (o.remove) {
        s.zset.erase(o.member);
        return t ? t->ZRemove(o.key, o.member, &flag) : OkStatus();
      }
      s.zset[o.member] = o.score;
      ZAddResult r;
      return t ? t->ZAdd(o.key, o.member, o.score, {}, &r) : OkStatus();
    }
    default:
      return OkStatus();
  }
}

class CrashCollTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = CrashConfig::FromEnv(); }
  void Run(const char* workload, uint64_t seed, const Mix& mix);
  CrashConfig config_;
};

TEST_F(CrashCollTest, TransactionsGroupsCompactionAndReopen) {
  Run("collections", 14, Mix{});
}

// Packed sets of at most 6 integers: every persist point of their
// rewrites, of the Txns that unpack them (a seventh member, or "x") and of
// the compaction that moves their entries.
TEST_F(CrashCollTest, PackedSetsAcrossTheirFormChanges) {
  Run("packed sets", 15, Mix{.packed_sets = true, .packed_set_max = 6});
}

void CrashCollTest::Run(const char* workload, uint64_t seed, const Mix& mix) {
  CrashHarness h(
      {.workload = workload,
       .segments = 12,
       .read = [](DB* db,
                  const std::string& key) { return ReadAnyType(db, key); },
       .packed_set_max = mix.packed_set_max},
      config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(seed);
  State st;
  const int steps = config_.Ops(800);
  uint64_t freed = 0, moves = 0, groups = 0;
  for (int step = 0; step < steps && !HasFailure(); ++step) {
    const int kind = static_cast<int>(rng() % 20);
    const uint64_t n = static_cast<uint64_t>(step) * 16;
    std::vector<Op> ops;
    bool group = false;
    std::string what;
    if (kind < 9) {  // one element
      ops.push_back(MakeElemOp(rng, n, mix));
      what = "element op on " + ops[0].key;
    } else if (kind < 12) {  // several collections, one transaction
      for (int i = 0; i < 3; ++i) ops.push_back(MakeElemOp(rng, n + i, mix));
      what = "three element ops (" + ops[0].key + ", " + ops[1].key + ", " +
             ops[2].key + ")";
    } else if (kind < 14) {  // LMOVE / SMOVE
      Op o = MakeElemOp(rng, n, mix);
      o.kind = Op::kMove;
      o.type = rng() % 2 ? KeyType::kList : KeyType::kSet;
      const int t = o.type == KeyType::kList ? 1 : 2;
      const uint64_t src = rng() % 3;
      o.key = kKeys[t][src];
      o.key2 = kKeys[t][(src + 1 + rng() % 2) % 3];
      ops.push_back(o);
      what = "move " + o.key + " -> " + o.key2;
      ++moves;
    } else if (kind == 14 && rng() % 2) {  // RENAME or COPY over any key
      Op o = MakeElemOp(rng, n, mix);
      o.kind = rng() % 3 ? Op::kRename : Op::kCopy;
      do {  // COPY of a key onto itself is an error (as in Redis)
        o.key2 = kKeys[rng() % 4][rng() % 3];
      } while (o.key2 == o.key);
      ops.push_back(o);
      what = std::string(o.kind == Op::kRename ? "rename " : "copy ") + o.key +
             " -> " + o.key2;
    } else if (kind == 14) {  // DEL of a collection
      Op o = MakeElemOp(rng, n, mix);
      o.kind = Op::kDelete;
      ops.push_back(o);
      what = "delete " + o.key;
    } else if (kind == 15) {  // SET over a collection
      Op o = MakeElemOp(rng, n, mix);
      o.kind = Op::kSetString;
      ops.push_back(o);
      what = "set string over " + o.key;
    } else if (kind < 18) {  // unsynced transactions, then one Sync()
      // Distinct keys: each may be before or after its op after a crash.
      std::set<std::string> used;
      while (ops.size() < 4) {
        Op o = MakeElemOp(rng, n + ops.size(), mix);
        if (used.insert(o.key).second) ops.push_back(o);
      }
      group = true;
      what = "four unsynced element ops + Sync";
      ++groups;
    } else {
      Status s = CompactStep(h, &freed);
      ASSERT_TRUE(s.ok()) << "step " << step << ": " << s.ToString();
      continue;
    }
    State next = st;
    for (const Op& o : ops) ASSERT_TRUE(RunOp(nullptr, next, o).ok());
    Status s;
    if (!group) {
      s = h.Step(
          what,
          [&](DB* db) { return RunTxnOps(db, ops, st, /*sync=*/true, RunOp); },
          [&](Model* m) { *m = ToModel(next); });
    } else {
      s = h.Step(
          what,
          [&](DB* db) {
            State cur = st;
            for (const Op& o : ops) {
              DAXKV_RETURN_IF_ERROR(RunTxnOps(db, std::vector<Op>{o}, cur,
                                              /*sync=*/false, RunOp));
              DAXKV_RETURN_IF_ERROR(RunOp(nullptr, cur, o));
            }
            return db->Sync();
          },
          [&](Model* m) { *m = ToModel(next); }, /*atomic=*/false);
    }
    ASSERT_TRUE(s.ok()) << "step " << step << " (" << what
                        << "): " << s.ToString();
    st = std::move(next);
    if (step % 100 == 99) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  // Scaled-down runs (TSan: 40 steps) make too little garbage to compact.
  if (config_.full_run()) {
    EXPECT_GT(freed, 0u) << "compaction never freed a segment";
  }
  std::printf(
      "[crash] %s: %llu crash points, %llu images recovered; %llu "
      "moves, %llu groups, %llu segments compacted\n",
      workload, static_cast<unsigned long long>(h.points()),
      static_cast<unsigned long long>(h.images_checked()),
      static_cast<unsigned long long>(moves),
      static_cast<unsigned long long>(groups),
      static_cast<unsigned long long>(freed));
  if (config_.full_run()) {
    EXPECT_GE(h.points(), 1000u);
  }
}

}  // namespace
}  // namespace daxkv::engine::crash
