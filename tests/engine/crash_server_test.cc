// Crash points of a workload shaped like daxkv-server's: several writer
// threads writing unsynced (and now and then synced) puts, deletes,
// batches, read-modify-writes, expiries and large values (spans), and
// SADD, SREM, SMOVE and DEL on sets of integers that cross the packed
// form (packed_set_max 8, a member "x" unpacks) in Txns; a
// committer calling Sync() once per "round" (group commit) and now and then
// Flush() (FLUSHALL); the engine's own background compaction and expiry
// reclaim running. Every persist point of every thread is a power failure:
// the image (every keep probability, whole lines, torn 8-byte words,
// intermediate line states) is recovered at once and judged by
// ServerCrashModel (server_crash_model.h): every acknowledged write present
// (or superseded), completed flushes and durable deletes never undone,
// batches all or nothing.
//
// Thread interleavings are not reproducible: a failure names the persist
// point and seed to find it in the log of that run.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/txn.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/server_crash_model.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine::crash {
namespace {

constexpr size_t kSeg = 64 << 10;
constexpr int kWriters = 3;
constexpr int kKeys = 8;  // per writer; key 0 takes the large values
constexpr int kSetKeys = 3;  // per writer, after its string keys
constexpr uint32_t kPackedSetMax = 8;
constexpr size_t kMaxOps = 150000;

// A writer's sets as it wrote them (writers own their keys): their members
// and the stamp member of the op that wrote each last. The stamp (20 + the
// op's index, an integer, so a set stays packed) makes every state of a
// set unique, as the string values' uids do, so that a batch found
// applied was applied.
struct SetView {
  std::vector<std::set<std::string>> members =
      std::vector<std::set<std::string>>(kSetKeys);
  std::vector<std::string> stamps = std::vector<std::string>(kSetKeys);
  // Whether the engine keeps the set packed: created with an integer, and
  // it never held "x" or more than kPackedSetMax members since.
  std::vector<bool> packed = std::vector<bool>(kSetKeys, true);
  uint64_t flushes_seen = 0;
};

class ServerCrashTest : public ::testing::Test {
 protected:
  ServerCrashTest()
      : config_(CrashConfig::FromEnv()),
        model_(kWriters, kKeys, kSetKeys, kMaxOps),
        region_(8192 + 40 * kSeg) {}

  Options DbOptions(bool background, const Clock* clock) const {
    Options o;
    o.segment_size = kSeg;
    o.recovery_threads = 1;
    o.background_compaction = background;
    o.background_expiry = background;
    o.clock = clock;
    o.packed_set_max = kPackedSetMax;
    return o;
  }

  // Fills `op` (the next op of writer `w`) and returns the call that
  // issues it. `view` is the writer's idea of its keys (for SetExpiry).
  using Call = std::function<Status(DB*)>;
  Call PrepareOp(int w, uint64_t i, std::mt19937_64& rng,
                 const std::vector<KeyState>& view, ModelOp& op);
  // SADD, SREM or SMOVE (a Txn, with the stamp moved), or DEL of a set.
  // REQUIRES: flush_mu_ held shared, `sets` current.
  Call PrepareSetOp(int w, uint64_t i, std::mt19937_64& rng, SetView& sets,
                    ModelOp& op);
  void Writer(DB* db, int w);
  void Committer(DB* db);
  void OnPersistPoint(uint64_t point);
  // Closes `db` cleanly (its close writes the index snapshot), recovering
  // every persist point of the close, then reopens: the snapshot loads and
  // every key is what `all` says.
  void CloseCleanlyAndReopen(std::unique_ptr<DB> db, Instant all);

  CrashConfig config_;
  ServerCrashModel model_;
  testing::SimRegion region_;
  FakeClock clock_;
  std::atomic<bool> capturing_{false};
  std::atomic<bool> stop_{false};
  // The server runs FLUSHALL with the exec lock held exclusively: no
  // command overlaps it. Set ops (whose effects are computed from the
  // writer's view of the set) hold this shared, Flush() exclusively.
  std::shared_mutex flush_mu_;
  uint64_t target_points_ = 0;
  // One persist point in this many is checked (picked by a hash of the
  // point, so that the seeds still reach every crash model).
  uint64_t check_one_in_ = 1;

  // Guarded by the region's lock (the hook runs under it).
  uint64_t checked_ = 0;
  uint64_t failures_ = 0;
  uint64_t modes_[4] = {};
  uint64_t keeps_[4] = {};
  // Counts of what the workload did.
  std::atomic<uint64_t> spans_{0}, batches_{0}, large_deletes_{0};
  std::atomic<uint64_t> syncs_{0}, flushes_{0}, set_ops_{0};
  std::atomic<uint64_t> packed_set_writes_{0}, unpacks_{0};
};

// Half the expiries come due within the next few committer rounds (the
// fake clock moves 1 ms a round): a key is rewritten every few dozen real
// milliseconds, so only short ones outlive their writer's next write long
// enough for the background reclaim to find them expired. With expiries
// spread over 120 rounds alone, a run reclaimed nothing now and then.
int64_t ExpiryAfter(int64_t now, std::mt19937_64& rng) {
  return now + 1 +
         static_cast<int64_t>(rng() % 2 == 0 ? rng() % 3 : rng() % 120);
}

ServerCrashTest::Call ServerCrashTest::PrepareOp(
    int w, uint64_t i, std::mt19937_64& rng, const std::vector<KeyState>& view,
    ModelOp& op) {
  const int64_t now = clock_.NowMs();
  const uint64_t uid = (uint64_t(w) << 40) | (i << 4);
  const WriteOptions wo{.sync = rng() % 8 == 0};
  op.sync = wo.sync;
  auto value = [&](int k, uint64_t sub) {
    size_t len = 20 + rng() % 700;
    if (k == 0 && rng() % 3 == 0) len = kSeg + rng() % kSeg;  // a span
    return MakeValue(ServerCrashModel::KeyName(w, k), uid | sub, len);
  };
  const int k = static_cast<int>(rng() % kKeys);
  const std::string key = ServerCrashModel::KeyName(w, k);
  const int kind = static_cast<int>(rng() % 100);
  if (kind < 40) {  // SET, sometimes with an expiry
    int64_t expire = rng() % 5 == 0 ? ExpiryAfter(now, rng) : 0;
    std::string v = value(k, 0);
    op.effects = {{k, KeyState::Of(v, expire)}};
    if (v.size() > kSeg) ++spans_;
    return [=](DB* db) { return db->Put(key, v, expire, wo); };
  }
  if (kind < 58 || (kind >= 86 && !view[k].present)) {  // DEL
    op.effects = {{k, {}}};
    if (view[k].present && view[k].size > kSeg) ++large_deletes_;
    return [=](DB* db) { return db->Delete(key, nullptr, wo); };
  }
  if (kind < 72) {  // MULTI/EXEC or MSET: one batch
    WriteBatch b;
    op.batch = true;
    int n = 2 + static_cast<int>(rng() % 3);
    for (int j = 0; j < n; ++j) {
      int bk = static_cast<int>(rng() % kKeys);
      bool dup = std::any_of(op.effects.begin(), op.effects.end(),
                             [bk](const Effect& e) { return e.key == bk; });
      if (dup) continue;
      const std::string bkey = ServerCrashModel::KeyName(w, bk);
      if (rng() % 4 == 0) {
        op.effects.push_back({bk, {}});
        b.Delete(bkey);
      } else {
        std::string v = value(bk, 1 + j);
        op.effects.push_back({bk, KeyState::Of(v, 0)});
        b.Put(bkey, v);
      }
    }
    ++batches_;
    return [=](DB* db) { return db->Write(b, wo); };
  }
  if (kind < 86) {  // INCR / APPEND: a read-modify-write
    std::string next = value(k, 0);
    op.effects = {{k, KeyState::Of(next, 0)}};
    return [=](DB* db) {
      return db->Update(
          key,
          [next](const UpdateInput&, UpdateOutput* out) {
            out->value = next;
            return OkStatus();
          },
          wo);
    };
  }
  // EXPIRE / PERSIST on a key the writer believes live (NotFound when a
  // flush or its expiry got there first).
  int64_t expire = rng() % 3 == 0 ? 0 : ExpiryAfter(now, rng);
  KeyState after = view[k];
  after.expire_at_ms = expire;
  op.effects = {{k, after}};
  return [=](DB* db) { return db->SetExpiry(key, expire, wo); };
}

// A member: mostly small integers (16-bit packed entries), some wider
// ones, and now and then one that is not an integer (the set unpacks).
std::string SetMember(std::mt19937_64& rng) {
  const int r = static_cast<int>(rng() % 40);
  if (r == 0) return "x";
  if (r < 3) return std::to_string(-100000 - static_cast<int>(rng() % 3));
  return std::to_string(rng() % 12);
}

ServerCrashTest::Call ServerCrashTest::PrepareSetOp(int w, uint64_t i,
                                                    std::mt19937_64& rng,
                                                    SetView& sets,
                                                    ModelOp& op) {
  const WriteOptions wo{.sync = rng() % 8 == 0};
  op.sync = wo.sync;
  const int s = static_cast<int>(rng() % kSetKeys);
  const std::string key = ServerCrashModel::KeyName(w, kKeys + s);
  const int kind = static_cast<int>(rng() % 100);
  if (kind < 6) {  // DEL
    sets.members[s].clear();
    sets.stamps[s].clear();
    sets.packed[s] = true;
    op.effects = {{kKeys + s, {}}};
    return [=](DB* db) {
      return db->RunTxn(TxnOptions{}, wo, [&](Txn& t) {
        bool existed;
        return t.Delete(key, &existed);
      });
    };
  }
  // Each op: (set, member, add?) edits, then the stamps moved.
  struct Edit {
    int set;
    std::string member;
    bool add;
  };
  std::vector<Edit> edits;
  if (kind < 25) {  // SMOVE: one batch over two sets
    const int d = (s + 1 + static_cast<int>(rng() % (kSetKeys - 1))) % kSetKeys;
    std::string m = SetMember(rng);
    if (sets.members[s].erase(m) > 0) {
      sets.members[d].insert(m);
      edits = {{s, m, false}, {d, m, true}};
    }
    op.batch = true;
    op.effects = {{kKeys + s, {}}, {kKeys + d, {}}};
  } else {  // SADD or SREM of 1 to 4 members
    const bool add = kind < 70;
    for (int n = 1 + static_cast<int>(rng() % 4); n > 0; --n) {
      std::string m = SetMember(rng);
      add ? (void)sets.members[s].insert(m) : (void)sets.members[s].erase(m);
      edits.push_back({s, m, add});
    }
    op.effects = {{kKeys + s, {}}};
  }
  const std::string stamp = std::to_string(20 + i);
  for (Effect& e : op.effects) {
    const int set = e.key - kKeys;
    if (!sets.stamps[set].empty()) {
      edits.push_back({set, sets.stamps[set], false});
      sets.members[set].erase(sets.stamps[set]);
    }
    edits.push_back({set, stamp, true});
    sets.members[set].insert(stamp);
    sets.stamps[set] = stamp;
    e.after = KeyState::OfSet(sets.members[set]);
    if (sets.packed[set]) {
      ++packed_set_writes_;
      if (sets.members[set].size() > kPackedSetMax ||
          sets.members[set].contains("x")) {
        sets.packed[set] = false;
        ++unpacks_;
      }
    }
  }
  return [=](DB* db) {
    return db->RunTxn(TxnOptions{}, wo, [&](Txn& t) {
      for (const Edit& e : edits) {
        const std::string k = ServerCrashModel::KeyName(w, kKeys + e.set);
        bool changed;
        DAXKV_RETURN_IF_ERROR(e.add ? t.SetAdd(k, e.member, &changed)
                                    : t.SetRemove(k, e.member, &changed));
      }
      return OkStatus();
    });
  };
}

void ServerCrashTest::Writer(DB* db, int w) {
  WriterModel& wm = model_.writer(w);
  std::mt19937_64 rng(1000 + w);
  std::vector<KeyState> view(kKeys);
  SetView sets;
  for (uint64_t i = 0; i < kMaxOps && !stop_.load(); ++i) {
    ModelOp& op = wm.ops[i];
    std::shared_lock<std::shared_mutex> flush_guard(flush_mu_, std::defer_lock);
    SetView sets_after;
    Call call;
    if (rng() % 4 == 0) {
      flush_guard.lock();
      if (model_.flushes_completed().load() != sets.flushes_seen) {
        sets = SetView{.flushes_seen = model_.flushes_completed().load()};
      }
      sets_after = sets;
      call = PrepareSetOp(w, i, rng, sets_after, op);
    } else {
      call = PrepareOp(w, i, rng, view, op);
    }
    op.flushes_completed_at_start = model_.flushes_completed().load();
    wm.started.store(i + 1);
    Status s = call(db);
    op.failed = !s.ok();
    op.flushes_started_at_end = model_.flushes_started().load();
    wm.completed.store(i + 1);
    // A full pool may refuse a write, a flush or expiry may beat EXPIRE to
    // its key: no effect, which the model knows (op.failed).
    if (s.code() == StatusCode::kNoSpace || s.code() == StatusCode::kNotFound) {
      if (s.code() == StatusCode::kNotFound) view[op.effects[0].key] = {};
      continue;
    }
    ASSERT_OK(s) << "writer " << w << " op " << i;
    if (flush_guard.owns_lock()) {
      sets = std::move(sets_after);
      ++set_ops_;
    } else {
      for (const Effect& e : op.effects) view[e.key] = e.after;
    }
  }
}

void ServerCrashTest::Committer(DB* db) {
  std::vector<uint64_t> covered(kWriters);
  for (uint64_t round = 1; !stop_.load(); ++round) {
    for (int w = 0; w < kWriters; ++w) {
      covered[w] = model_.writer(w).completed.load();
    }
    Status s = db->Sync();
    ASSERT_OK(s);
    ++syncs_;
    for (int w = 0; w < kWriters; ++w) {
      model_.writer(w).acked.store(covered[w]);
    }
    if (round % 60 == 10) {  // FLUSHALL
      std::unique_lock<std::shared_mutex> exclusive(flush_mu_);
      model_.flushes_started().fetch_add(1);
      Status f = db->Flush();
      ASSERT_OK(f);
      model_.flushes_completed().fetch_add(1);
      ++flushes_;
    }
    clock_.AdvanceMs(1);  // expiries come due
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void ServerCrashTest::OnPersistPoint(uint64_t point) {
  if (!capturing_.load()) return;
  if (internal::Mix(point) % check_one_in_ != 0) return;
  Instant in = model_.Before();
  const uint64_t seed = point * 16 + 1;
  const testing::SimRegion::CrashOptions crash =
      internal::CrashOptionsFor(seed);
  std::vector<char> image = region_.CrashImage(seed, crash);
  model_.After(&in, clock_.NowMs());
  ++modes_[crash.tear_words + 2 * crash.intermediate_states];
  ++keeps_[(seed ^ (seed >> 4)) % 4];
  testing::SimRegion recovered(image);
  FakeClock at_crash(in.now);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(recovered),
                     DbOptions(false, &at_crash));
  std::string violation = db.ok() ? model_.Check(db->get(), in)
                                  : "open failed: " + db.status().ToString();
  if (++checked_ >= target_points_) stop_ = true;
  if (violation.empty() || ++failures_ > 10) return;
  ADD_FAILURE() << "crash point " << point << " seed " << seed << " (keep "
                << crash.keep_probability << ", torn words " << crash.tear_words
                << ", intermediate states " << crash.intermediate_states
                << "): " << violation;
}

void ServerCrashTest::CloseCleanlyAndReopen(std::unique_ptr<DB> db,
                                            Instant all) {
  const uint64_t before = checked_;
  const uint64_t free_segments = db->GetStats().free_segments;
  check_one_in_ = 1;
  region_.SetStoreHistory(true);
  region_.SetPersistHook([this](uint64_t point) { OnPersistPoint(point); });
  capturing_ = true;
  db.reset();
  capturing_ = false;
  region_.SetPersistHook(nullptr);
  region_.SetStoreHistory(false);
  EXPECT_GT(checked_, before) << "the close had no persist point";
  auto reopened = DB::Open(std::make_unique<BorrowedRegion>(region_),
                           DbOptions(false, &clock_));
  ASSERT_OK(reopened);
  EXPECT_EQ((*reopened)->GetStats().index_recovery, "snapshot")
      << free_segments << " segments were free before the close";
  EXPECT_EQ(model_.Check(reopened->get(), all), "");
}

TEST_F(ServerCrashTest, GroupCommitWithBackgroundWorkAndFlushes) {
  // A scaled-down run (DAXKV_CRASH_SCALE, the TSan step) runs about the
  // concurrent workload of 10500 * scale persist points (the syncs, flushes
  // and compactions the checks below need, every thread overlapping) but
  // recovers one point in 4: the recoveries, serial under the region's lock,
  // are most of its time.
  check_one_in_ = config_.full_run() ? 1 : 4;
  target_points_ =
      config_.full_run()
          ? 10500
          : std::max<uint64_t>(50, uint64_t(10500 * config_.scale) / 4);
  region_.SetStoreHistory(true);
  auto opened = DB::Open(std::make_unique<BorrowedRegion>(region_),
                         DbOptions(true, &clock_));
  ASSERT_OK(opened);
  std::unique_ptr<DB> db = std::move(opened).value();
  region_.SetPersistHook([this](uint64_t point) { OnPersistPoint(point); });
  capturing_ = true;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] { Writer(db.get(), w); });
  }
  threads.emplace_back([&] { Committer(db.get()); });
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop_ = true;
  threads.back().join();
  capturing_ = false;
  region_.SetPersistHook(nullptr);
  region_.SetStoreHistory(false);

  // Without a crash: after a last Sync() every key is exactly what the
  // model says (everything acknowledged).
  ASSERT_OK(db->Sync());
  Instant all = model_.Before();
  for (int w = 0; w < kWriters; ++w) {
    all.acked[w] = all.completed[w] = model_.writer(w).completed.load();
  }
  model_.After(&all, clock_.NowMs());
  EXPECT_EQ(model_.Check(db.get(), all), "");

  Stats st = db->GetStats();
  uint64_t ops = 0;
  for (int w = 0; w < kWriters; ++w) ops += model_.writer(w).completed.load();
  std::printf(
      "[crash] ServerShaped: %llu crash points checked (keep 0.5/0.9/0.1/0.5: "
      "%llu/%llu/%llu/%llu; whole lines %llu, torn words %llu, "
      "intermediate states %llu, both %llu), %llu persist points, %llu ops, "
      "%llu syncs, %llu flushes, %llu batches, %llu span writes, %llu "
      "large deletes, %llu set ops (%llu writes of packed sets, %llu "
      "unpacked), %llu compactions, %llu expired reclaimed\n",
      (unsigned long long)checked_, (unsigned long long)keeps_[0],
      (unsigned long long)keeps_[1], (unsigned long long)keeps_[2],
      (unsigned long long)keeps_[3], (unsigned long long)modes_[0],
      (unsigned long long)modes_[1], (unsigned long long)modes_[2],
      (unsigned long long)modes_[3],
      (unsigned long long)region_.persist_points(), (unsigned long long)ops,
      (unsigned long long)syncs_.load(), (unsigned long long)flushes_.load(),
      (unsigned long long)batches_.load(), (unsigned long long)spans_.load(),
      (unsigned long long)large_deletes_.load(),
      (unsigned long long)set_ops_.load(),
      (unsigned long long)packed_set_writes_.load(),
      (unsigned long long)unpacks_.load(), (unsigned long long)st.compactions,
      (unsigned long long)st.expired_reclaimed);
  RecordProperty("crash_points", static_cast<int>(checked_));
  EXPECT_GE(checked_, target_points_);
  EXPECT_GT(st.compactions, 0u);
  EXPECT_GT(flushes_.load(), 0u);
  EXPECT_GT(spans_.load(), 0u);
  EXPECT_GT(packed_set_writes_.load(), 0u);
  EXPECT_GT(unpacks_.load(), 0u);
  if (config_.full_run()) {
    EXPECT_GT(st.expired_reclaimed, 0u);
    for (uint64_t n : keeps_) EXPECT_GT(n, 0u);
    for (uint64_t n : modes_) EXPECT_GT(n, 0u);
  }
  // The close writes its snapshot into free segments only (a full pool gets
  // none: IndexSnapshotPoolTest). Compaction first makes room however full
  // the workload left this small pool, so that the snapshot's writes are
  // among the close's persist points crashed below.
  ASSERT_OK(TEST_Compact(db, 40).status());
  CloseCleanlyAndReopen(std::move(db), all);
}

}  // namespace
}  // namespace daxkv::engine::crash
