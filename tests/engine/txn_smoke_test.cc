// First checks of the transaction path end to end: each type written,
// read, reopened (recovery), compacted.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "engine/key_hash.h"
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

// An undeclared key whose stripe another writer holds, below a stripe the
// Txn holds: RunTxn restarts fn with that key declared (so the second run
// waits for the stripe in order), not 16 times without it.
TEST(TxnSmokeTest, RestartDeclaresTheKeyThatCouldNotBeLocked) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  auto stripe = [](const std::string& k) { return KeyHash(k).low() & 4095; };
  std::string low = "l0", high = "h0";
  for (int i = 1; stripe(low) >= stripe(high); ++i) {
    high = "h" + std::to_string(i);
  }
  std::promise<void> held, missed;
  std::thread other([&] {
    TxnOptions opts;
    opts.keys = {low};
    auto txn = db->BeginTxn(opts);
    ASSERT_TRUE(txn.ok());
    held.set_value();
    missed.get_future().wait();
    // Released a little later: a restart without `low` declared would
    // fail again at once, 16 times over.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (*txn)->Abort();
  });
  held.get_future().wait();
  int runs = 0;
  TxnOptions opts;
  opts.keys = {high};
  Status s = db->RunTxn(opts, WriteOptions{}, [&](Txn& t) -> Status {
    ++runs;
    DAXKV_RETURN_IF_ERROR(t.Put(high, "1"));
    Status put = t.Put(low, "2");
    if (t.restart_required() && runs == 1) missed.set_value();
    return put;
  });
  other.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(db->Get(low)->value, "2");
}

// RunTxn reuses the thread's Txn object (its buffers keep their capacity):
// a Txn after an aborted one that touched more keys and collections than
// the small maps scan linearly must start from nothing, and one after a
// committed one must not see its bookkeeping either.
TEST(TxnSmokeTest, AThreadsNextTxnStartsCleanAfterAnAbortedOrCommittedOne) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  std::vector<std::string> keys;
  for (int i = 0; i < 20; ++i) keys.push_back("k" + std::to_string(i));
  Status failed = Tx(db, [&](Txn& t) -> Status {
    for (const std::string& k : keys) {
      bool added;
      DAXKV_RETURN_IF_ERROR(t.SetAdd(k, "m", &added));
      DAXKV_RETURN_IF_ERROR(t.SetAdd(k, "n", &added));
    }
    return AbortedError("the body gives up");
  });
  EXPECT_EQ(failed.code(), StatusCode::kAborted);
  for (const std::string& k : keys) {
    Status read = db->RunRead({k}, [&](ReadOps& r) -> Status {
      DAXKV_ASSIGN_OR_RETURN(KeyInfo info, r.Stat(k));
      EXPECT_EQ(info.type, KeyType::kNone) << k;
      return OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read.ToString();
  }
  ASSERT_TRUE(Tx(db, [&](Txn& t) -> Status {
                bool added;
                return t.SetAdd("k3", "x", &added);
              }).ok());
  ASSERT_TRUE(Tx(db, [&](Txn& t) -> Status {
                uint64_t n;
                return t.ListPush("l", End::kBack, "a", false, &n);
              }).ok());
  const std::string want = "k3=set{x,};l=list[a,];";
  EXPECT_EQ(Dump(db, {"k3", "l"}), want);
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_EQ(Dump(f.db.get(), {"k3", "l"}), want);
  EXPECT_EQ(f.db->GetStats().elements, 2u);
}

// A Txn's reads report the committed version (what WATCH compares), read
// from the entry its first use found, not from a second index lookup: the
// same as a read outside the Txn, before and after the Txn's own write, for
// a key written, deleted (its touch word) and never written.
TEST(TxnSmokeTest, ReadsInsideATxnReportTheCommittedVersion) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  ASSERT_TRUE(db->Put("k", "v1").ok());
  ASSERT_TRUE(db->Put("gone", "x").ok());
  ASSERT_TRUE(db->Delete("gone").ok());
  const uint64_t k_version = db->Get("k")->version;
  const uint64_t gone_version = StatOf(db, "gone").version;
  ASSERT_NE(k_version, 0u);
  ASSERT_GT(gone_version, k_version);  // the delete touched it
  ASSERT_TRUE(Tx(db, [&](Txn& t) -> Status {
                std::string value;
                ReadInfo info;
                DAXKV_RETURN_IF_ERROR(t.Get("k", &value, &info));
                EXPECT_EQ(info.version, k_version);
                DAXKV_RETURN_IF_ERROR(t.Put("k", "v2"));
                DAXKV_RETURN_IF_ERROR(t.Get("k", &value, &info));
                EXPECT_EQ(value, "v2");
                EXPECT_EQ(info.version, k_version);  // not committed yet
                DAXKV_ASSIGN_OR_RETURN(KeyInfo gone, t.Stat("gone"));
                EXPECT_EQ(gone.version, gone_version);
                DAXKV_ASSIGN_OR_RETURN(KeyInfo never, t.Stat("never"));
                EXPECT_EQ(never.version, StatOf(db, "never").version);
                return OkStatus();
              }).ok());
  EXPECT_GT(db->Get("k")->version, k_version);
}

// PrefetchKey is a hint: prefetching keys present, absent, deleted and
// past index growth, for reads and writes, changes no read.
TEST(TxnSmokeTest, PrefetchKeyChangesNothing) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  for (int i = 0; i < 5000; ++i) {  // the index grows several times
    const std::string key = "key" + std::to_string(i);
    db->PrefetchKey(key, i % 2 == 0);
    ASSERT_TRUE(db->Put(key, std::to_string(i)).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(db->Delete(key).ok());
    }
    db->PrefetchKey(key, i % 2 != 0);
    db->PrefetchEntry(key);
  }
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "key" + std::to_string(i);
    db->PrefetchKey(key, false);
    db->PrefetchEntry(key);
    auto r = db->Get(key);
    if (i % 3 == 0) {
      EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << key;
    } else {
      ASSERT_TRUE(r.ok()) << key;
      EXPECT_EQ(r->value, std::to_string(i));
    }
  }
  EXPECT_EQ(db->Count(), 5000u - 1667u);
}

// PrefetchEntry reads index slots under the shard lock: a thread calling it
// while another grows the index and relocates entries (TSan checks the
// locking in CI) changes no result.
TEST(TxnSmokeTest, PrefetchEntryRacesWithWritersSafely) {
  EngineFixture f(64 << 20, 1 << 20);
  ASSERT_TRUE(f.Open().ok());
  DB* db = f.db.get();
  constexpr int kKeys = 4000;
  std::atomic<bool> done{false};
  std::thread prefetcher([&] {
    int i = 0;
    do {
      const std::string key = "key" + std::to_string(i);
      db->PrefetchKey(key, false);
      db->PrefetchEntry(key);
      i = (i + 7) % kKeys;
    } while (!done.load(std::memory_order_acquire));
  });
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kKeys; ++i) {
      ASSERT_TRUE(
          db->Put("key" + std::to_string(i), std::to_string(round * kKeys + i))
              .ok());
    }
  }
  done.store(true, std::memory_order_release);
  prefetcher.join();
  for (int i = 0; i < kKeys; ++i) {
    auto r = db->Get("key" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(r->value, std::to_string(2 * kKeys + i));
  }
}

}  // namespace
}  // namespace daxkv::engine
