// Crash-point tests of streams, laid out as the kv layer lays them out
// (kv/stream_codec.h): entries under 16-byte big-endian IDs and a metadata
// element under the empty subkey holding the last ID, written in the same
// Txn. Every persist point of XADD (with MAXLEN trims), XDEL (of the
// newest entry too), XTRIM, DEL + re-create, unsynced groups with one
// Sync(), compaction and reopen is a simulated power failure
// (tests/engine/crash_harness.h): each recovered image holds every stream
// before or after the operation in flight, whole, so an XADD or XTRIM is
// all or nothing and the last ID (compared with the rest) never goes
// backwards, not even when the entry carrying it was deleted.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/engine/crash_coll_util.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/txn_test_util.h"

namespace daxkv::engine::crash {
namespace {

std::string IdKey(uint64_t n) {
  std::string k(16, '\0');
  for (int i = 0; i < 8; ++i) k[7 - i] = static_cast<char>(n >> (8 * i));
  return k;
}

struct Stream {
  uint64_t last = 0;  // the metadata: last generated ID (its ms part)
  std::map<uint64_t, std::string> entries;
};
using State = std::map<std::string, Stream>;

std::string MetaValue(const Stream& s) {
  return "last" + std::to_string(s.last);
}

Model ToModel(const State& st) {
  Model m;
  for (const auto& [k, s] : st) {
    std::string out = "stream{" + HexOf("") + "=" + MetaValue(s) + ",";
    for (const auto& [id, v] : s.entries) {
      out += HexOf(IdKey(id)) + "=" + v + ",";
    }
    m[k] = {out + "}", 0};
  }
  return m;
}

struct Op {
  enum Kind { kAdd, kDel, kTrim, kDelete } kind = kAdd;
  std::string key;
  uint64_t gap = 1;            // XADD: the new ID is last + gap
  size_t maxlen = ~size_t{0};  // XADD MAXLEN / XTRIM MAXLEN
  std::vector<uint64_t> ids;   // XDEL
  std::string value;
};

Op MakeOp(std::mt19937_64& rng, const State& st, uint64_t n) {
  Op o;
  o.key = "x" + std::to_string(rng() % 3);
  const int r = static_cast<int>(rng() % 10);
  auto it = st.find(o.key);
  if (r < 6 || it == st.end()) {
    o.kind = Op::kAdd;
    o.gap = 1 + rng() % 3;
    if (rng() % 3 == 0) o.maxlen = rng() % 12;
    o.value = MakeValue(o.key, n, 4 + rng() % 80);
    for (char& c : o.value)
      c = static_cast<char>('a' + static_cast<uint8_t>(c) % 26);
  } else if (r < 8) {
    o.kind = Op::kDel;
    o.ids.push_back(it->second.last);  // the newest ID, often present
    for (int i = 0; i < 2; ++i) o.ids.push_back(rng() % (it->second.last + 1));
  } else if (r < 9) {
    o.kind = Op::kTrim;
    o.maxlen = rng() % 8;
  } else {
    o.kind = Op::kDelete;
  }
  return o;
}

Status Trim(Txn* t, Stream& s, const std::string& key, size_t maxlen) {
  if (s.entries.size() <= maxlen) return OkStatus();
  const size_t n = s.entries.size() - maxlen;
  for (size_t i = 0; i < n; ++i) s.entries.erase(s.entries.begin());
  uint64_t removed;
  return t ? t->StreamEraseRanks(key, 1, 1 + n, &removed) : OkStatus();
}

// Applies `o` to `st` and, when `t` is given, to the Txn.
Status RunOp(Txn* t, State& st, const Op& o) {
  bool flag;
  if (o.kind == Op::kDelete) {
    st.erase(o.key);
    return t ? t->Delete(o.key, &flag) : OkStatus();
  }
  auto it = st.find(o.key);
  if (o.kind != Op::kAdd && it == st.end()) return OkStatus();
  Stream& s = st[o.key];
  if (o.kind == Op::kTrim) return Trim(t, s, o.key, o.maxlen);
  if (o.kind == Op::kDel) {
    for (uint64_t id : o.ids) {
      s.entries.erase(id);
      if (t) DAXKV_RETURN_IF_ERROR(t->StreamDelete(o.key, IdKey(id), &flag));
    }
    return OkStatus();  // the last ID stays
  }
  s.last += o.gap;
  s.entries[s.last] = o.value;
  if (t) {
    DAXKV_RETURN_IF_ERROR(t->StreamPut(o.key, "", MetaValue(s), true, &flag));
    DAXKV_RETURN_IF_ERROR(
        t->StreamPut(o.key, IdKey(s.last), o.value, false, &flag));
  }
  return Trim(t, s, o.key, o.maxlen);
}

class CrashStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = CrashConfig::FromEnv(); }
  CrashConfig config_;
};

TEST_F(CrashStreamTest, AddDelTrimAreAllOrNothingAndLastIdNeverGoesBack) {
  CrashHarness h(
      {.workload = "streams",
       .segments = 12,
       .read = [](DB* db,
                  const std::string& key) { return ReadAnyType(db, key); }},
      config_);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(51);
  State st;
  const int steps = config_.Ops(500);
  uint64_t freed = 0;
  for (int step = 0; step < steps && !HasFailure(); ++step) {
    const int kind = static_cast<int>(rng() % 16);
    const uint64_t n = static_cast<uint64_t>(step) * 16;
    if (kind == 15) {
      Status s = CompactStep(h, &freed);
      ASSERT_TRUE(s.ok()) << "step " << step << ": " << s.ToString();
      continue;
    }
    std::vector<Op> ops;
    const bool group = kind >= 13;
    if (group) {  // distinct keys: each may be before or after its op
      std::set<std::string> used;
      for (int i = 0; i < 8 && ops.size() < 2; ++i) {
        Op o = MakeOp(rng, st, n + i);
        if (used.insert(o.key).second) ops.push_back(o);
      }
    } else {
      ops.push_back(MakeOp(rng, st, n));
    }
    State next = st;
    for (const Op& o : ops) ASSERT_TRUE(RunOp(nullptr, next, o).ok());
    const std::string what = "op " + std::to_string(ops[0].kind) + " on " +
                             ops[0].key + (group ? " (group)" : "");
    Status s;
    if (!group) {
      s = h.Step(
          what, [&](DB* db) { return RunTxnOps(db, ops, st, true, RunOp); },
          [&](Model* m) { *m = ToModel(next); });
    } else {
      s = h.Step(
          what,
          [&](DB* db) {
            State cur = st;
            for (const Op& o : ops) {
              DAXKV_RETURN_IF_ERROR(
                  RunTxnOps(db, std::vector<Op>{o}, cur, false, RunOp));
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
  std::printf(
      "[crash] streams: %llu crash points, %llu images recovered; %llu "
      "segments compacted\n",
      static_cast<unsigned long long>(h.points()),
      static_cast<unsigned long long>(h.images_checked()),
      static_cast<unsigned long long>(freed));
  if (config_.full_run()) {
    EXPECT_GE(h.points(), 500u);
  }
}

}  // namespace
}  // namespace daxkv::engine::crash
