// The hidden system namespace (DB::WriteSystem / GetSystem / ListSystem;
// docs/format.md, "System entries"): kept by Flush(), invisible to every
// key walk and count, durable across reopen, compaction and crashes.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "engine/db.h"
#include "engine/txn.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

WriteBatch Puts(std::initializer_list<std::pair<std::string, std::string>> kv) {
  WriteBatch b;
  for (const auto& [k, v] : kv) b.Put(k, v);
  return b;
}

std::string System(DB* db, const std::string& key) {
  auto v = db->GetSystem(key);
  return v.ok() ? *v : "<" + v.status().ToString() + ">";
}

std::vector<std::string> AllKeys(DB* db) {
  std::vector<std::string> keys;
  uint64_t cursor = 0;
  do {
    auto page = db->Scan(cursor, 100);
    EXPECT_OK(page);
    if (!page.ok()) break;
    keys.insert(keys.end(), page->keys.begin(), page->keys.end());
    cursor = page->next_cursor;
  } while (cursor != 0);
  return keys;
}

TEST(SystemNamespaceTest, HiddenFromKeysScanCountAndStats) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->WriteSystem(Puts({{"fn/a", "code a"}, {"shared", "sys"}})));
  ASSERT_OK(f.db->Put("user", "u"));
  // A user key of the same name is another key.
  EXPECT_THAT(f.db->Get("shared").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(f.db->Exists("fn/a"));
  ASSERT_OK(f.db->Put("shared", "user"));
  EXPECT_EQ(f.db->Get("shared")->value, "user");
  EXPECT_EQ(System(f.db.get(), "shared"), "sys");
  EXPECT_EQ(f.db->Count(), 2u);
  EXPECT_EQ(AllKeys(f.db.get()).size(), 2u);
  Stats st = f.db->GetStats();
  EXPECT_EQ(st.keys, 2u);
  EXPECT_EQ(st.system_keys, 2u);
  ASSERT_OK(f.db->Delete("shared"));
  EXPECT_EQ(System(f.db.get(), "shared"), "sys");
  EXPECT_EQ(f.db->Count(), 1u);
}

TEST(SystemNamespaceTest, FlushKeepsThemAndReopenFindsThem) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("before", "x"));
  ASSERT_OK(f.db->WriteSystem(Puts({{"fn/a", "A"}, {"fn/b", "B"}})));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(f.db->Put("k" + std::to_string(i), std::string(300, 'v')));
  }
  ASSERT_OK(f.db->Flush());
  EXPECT_EQ(f.db->Count(), 0u);
  EXPECT_TRUE(AllKeys(f.db.get()).empty());
  EXPECT_EQ(System(f.db.get(), "fn/a"), "A");
  EXPECT_EQ(System(f.db.get(), "fn/b"), "B");
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Count(), 0u);
  EXPECT_EQ(System(f.db.get(), "fn/a"), "A");
  EXPECT_EQ(System(f.db.get(), "fn/b"), "B");
  // Written after the flush, flushed again, reopened: still there.
  ASSERT_OK(f.db->WriteSystem(Puts({{"fn/c", "C"}})));
  ASSERT_OK(f.db->Flush());
  ASSERT_OK(f.db->Flush());
  ASSERT_OK(f.Reopen());
  auto all = f.db->ListSystem("fn/");
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2], (std::pair<std::string, std::string>{"fn/c", "C"}));
  EXPECT_EQ(f.db->GetStats().system_keys, 3u);
}

TEST(SystemNamespaceTest, DeletesAndBatchesAreAtomicAndDurable) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->WriteSystem(Puts({{"x", "1"}, {"y", "2"}})));
  WriteBatch b;
  b.Delete("x");
  b.Put("z", "3");
  b.Put("y", "old");
  b.Put("y", "22");  // the last op on a key wins
  ASSERT_OK(f.db->WriteSystem(b));
  ASSERT_OK(f.Reopen());
  EXPECT_THAT(f.db->GetSystem("x").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(System(f.db.get(), "y"), "22");
  EXPECT_EQ(System(f.db.get(), "z"), "3");
  auto all = f.db->ListSystem("");
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 2u);
  // Expiries and preconditions are refused, nothing written.
  WriteBatch bad;
  bad.Put("w", "v", 12345);
  EXPECT_THAT(f.db->WriteSystem(bad), StatusIs(StatusCode::kInvalidArgument));
  WriteBatch guarded = Puts({{"w", "v"}});
  guarded.RequireVersion("w", 0);
  EXPECT_THAT(f.db->WriteSystem(guarded),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(f.db->GetSystem("w").status(), StatusIs(StatusCode::kNotFound));
}

TEST(SystemNamespaceTest, CompactionMovesThemAndFreesTheirOldSegments) {
  EngineFixture f(8 << 20, 64 << 10);
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->WriteSystem(Puts({{"s1", std::string(900, 'a')}})));
  ASSERT_OK(f.db->WriteSystem(Puts({{"s2", "two"}})));
  WriteBatch del;
  del.Delete("s2");
  ASSERT_OK(f.db->WriteSystem(del));
  // Overwrites fill several segments with dead bytes around them.
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 100; ++i) {
      ASSERT_OK(f.db->Put("k" + std::to_string(i), std::string(900, 'x')));
    }
  }
  ASSERT_OK(f.db->Flush());  // the segments holding s1/s2 stay in use
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(f.db->Put("n" + std::to_string(i), std::string(900, 'y')));
  }
  // The kept segments hold void user records around s1 and s2's
  // tombstone: compaction copies those two forward and frees them.
  const uint64_t used_before = f.db->GetStats().used_bytes;
  auto freed = TEST_Compact(f.db, 64);
  ASSERT_OK(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_LT(f.db->GetStats().used_bytes, used_before);
  EXPECT_EQ(System(f.db.get(), "s1"), std::string(900, 'a'));
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(System(f.db.get(), "s1"), std::string(900, 'a'));
  EXPECT_THAT(f.db->GetSystem("s2").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(f.db->Count(), 100u);
  // Compacting everything again (the copies included) loses nothing.
  ASSERT_OK(TEST_Compact(f.db, 64));
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(System(f.db.get(), "s1"), std::string(900, 'a'));
  EXPECT_THAT(f.db->GetSystem("s2").status(), StatusIs(StatusCode::kNotFound));
}

TEST(SystemNamespaceTest, ValueLargerThanASegmentTakesASpan) {
  EngineFixture f(8 << 20, 64 << 10);
  ASSERT_OK(f.Open());
  const std::string big(200 << 10, 'L');
  ASSERT_OK(f.db->WriteSystem(Puts({{"big", big}, {"small", "s"}})));
  ASSERT_OK(f.db->Flush());
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(System(f.db.get(), "big"), big);
  EXPECT_EQ(System(f.db.get(), "small"), "s");
  ASSERT_OK(f.db->WriteSystem(Puts({{"big", "now small"}})));
  ASSERT_OK(TEST_Compact(f.db, 64));  // the dead span is freed whole
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(System(f.db.get(), "big"), "now small");
}

TEST(SystemNamespaceTest, InspectCountsThemApartFromKeys) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("user", "u"));
  ASSERT_OK(f.db->WriteSystem(Puts({{"a", "1"}, {"b", "2"}})));
  WriteBatch del;
  del.Delete("b");
  ASSERT_OK(f.db->WriteSystem(del));
  f.db.reset();
  PoolReport r = InspectBuffer(f.buffer);
  EXPECT_EQ(r.keys, 1u);
  EXPECT_EQ(r.system_keys, 1u);
  EXPECT_EQ(r.system_entries, 3u);  // a, b and b's tombstone
}

// A Txn's user writes and system entry (a replica's stream offset with the
// commands it covers) commit as one record.
TEST(SystemNamespaceTest, TxnPutSystemCommitsWithTheTxn) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  TxnOptions no_sys;
  no_sys.keys = {"a"};
  EXPECT_THAT(f.db->RunTxn(no_sys, {},
                           [](Txn& t) { return t.PutSystem("s", "1"); }),
              StatusIs(StatusCode::kFailedPrecondition));
  TxnOptions opts;
  opts.keys = {"a"};
  opts.system_writes = true;
  ASSERT_OK(f.db->RunTxn(opts, {.sync = false}, [](Txn& t) -> Status {
    DAXKV_RETURN_IF_ERROR(t.Put("a", "A"));
    DAXKV_RETURN_IF_ERROR(t.PutSystem("s", "old"));
    return t.PutSystem("s", "1");  // the last call wins
  }));
  ASSERT_OK(f.db->Sync());
  EXPECT_EQ(System(f.db.get(), "s"), "1");
  EXPECT_FALSE(f.db->Exists("s"));
  // Aborted: neither the write nor the system entry.
  EXPECT_THAT(f.db->RunTxn(opts, {}, [](Txn& t) -> Status {
    DAXKV_RETURN_IF_ERROR(t.Put("a", "B"));
    DAXKV_RETURN_IF_ERROR(t.PutSystem("s", "2"));
    return AbortedError("no");
  }),
              StatusIs(StatusCode::kAborted));
  EXPECT_EQ(System(f.db.get(), "s"), "1");
  // Only a system entry (no key): still a record, kept across a flush.
  TxnOptions bare;
  bare.system_writes = true;
  ASSERT_OK(f.db->RunTxn(bare, {},
                         [](Txn& t) { return t.PutSystem("s", "3"); }));
  ASSERT_OK(f.db->Flush());
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(System(f.db.get(), "s"), "3");
  EXPECT_EQ(f.db->Count(), 0u);
  EXPECT_EQ(f.db->GetStats().system_keys, 1u);
}

// Crash test on the simulator: system batches, user writes, flushes and
// compaction, crashed at every persist point. A system batch is all or
// nothing, a flush never takes a system entry with it, compaction never
// loses one.
TEST(SystemNamespaceCrashTest, SystemWritesFlushAndCompaction) {
  using crash::CrashHarness;
  using crash::MakeValue;
  using crash::Model;
  const crash::CrashConfig config = crash::CrashConfig::FromEnv();
  CrashHarness h(
      {.workload = "system", .segments = 12, .system_prefix = "sys/"}, config);
  ASSERT_NO_FATAL_FAILURE(h.Open());
  std::mt19937_64 rng(16);
  const int ops = config.Ops(500);
  auto key = [&](const char* prefix, int n) {
    return prefix + std::to_string(rng() % static_cast<uint64_t>(n));
  };
  for (int op = 0; op < ops && !::testing::Test::HasFailure(); ++op) {
    const int kind = static_cast<int>(rng() % 22);
    Status s;
    if (kind < 11) {
      const std::string k = key("user", 40);
      const std::string v = MakeValue(k, op, 100 + rng() % 700);
      s = h.Step(
          "put " + k, [&](DB* db) { return db->Put(k, v); },
          [&](Model* m) {
            (*m)[k] = {v, 0};
          });
    } else if (kind < 16) {
      // FUNCTION RESTORE-like: several system keys at once, some deleted.
      WriteBatch b;
      Model after = h.model();
      for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
        const std::string k = key("sys/", 8);
        if (rng() % 4 == 0) {
          b.Delete(k);
          after.erase(k);
        } else {
          const std::string v = MakeValue(k, op * 8 + i, 20 + rng() % 400);
          b.Put(k, v);
          after[k] = {v, 0};
        }
      }
      s = h.Step(
          "system batch of " + std::to_string(b.Count()),
          [&](DB* db) { return db->WriteSystem(b); },
          [&](Model* m) { *m = after; });
    } else if (kind >= 20) {
      // A replica's group commit: user writes and the offset they reach,
      // one Txn record (TxnOptions::system_writes).
      const std::string k1 = key("user", 40), k2 = key("user", 40);
      const std::string v1 = MakeValue(k1, op, 50 + rng() % 300);
      const std::string v2 = MakeValue(k2, op + 1, 50 + rng() % 300);
      const std::string off = MakeValue("sys/offset", op, 20);
      TxnOptions to;
      to.keys = {k1, k2};
      to.system_writes = true;
      s = h.Step(
          "txn with a system entry",
          [&](DB* db) {
            return db->RunTxn(to, {}, [&](Txn& t) -> Status {
              DAXKV_RETURN_IF_ERROR(t.Put(k1, v1));
              DAXKV_RETURN_IF_ERROR(t.Put(k2, v2));
              return t.PutSystem("sys/offset", off);
            });
          },
          [&](Model* m) {
            (*m)[k1] = {v1, 0};
            (*m)[k2] = {v2, 0};
            (*m)["sys/offset"] = {off, 0};
          });
    } else if (kind < 18) {
      s = h.Step(
          "compact", [&](DB* db) { return TEST_Compact(db, 3).status(); },
          [](Model*) {});
    } else {
      s = h.Step(
          "flush", [&](DB* db) { return db->Flush(); },
          [](Model* m) {
            std::erase_if(*m, [](const auto& kv) {
              return !kv.first.starts_with("sys/");
            });
          });
    }
    ASSERT_OK(s) << "op " << op;
    if (op % 150 == 149) {
      ASSERT_NO_FATAL_FAILURE(h.Reopen());
    }
  }
  std::printf(
      "[crash] SystemWritesFlushAndCompaction: %llu crash points, "
      "%llu images recovered\n",
      static_cast<unsigned long long>(h.points()),
      static_cast<unsigned long long>(h.images_checked()));
  // A scaled-down run (DAXKV_CRASH_SCALE, the TSan step) checks fewer.
  EXPECT_GT(h.images_checked(), config.full_run() ? 100u : 0u);
}

}  // namespace
}  // namespace daxkv::engine
