// Batches, conditional writes, Update, expiry, Scan, Flush, Sync and stats.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "engine/db.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

TEST(DbOpsTest, BatchAppliesAllOpsAndLastOpOnAKeyWins) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("gone", "x"));
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("gone");
  b.Put("a", "3");
  b.Delete("never-existed");
  ASSERT_OK(f.db->Write(b));
  EXPECT_EQ(f.db->Get("a")->value, "3");
  EXPECT_EQ(f.db->Get("b")->value, "2");
  EXPECT_FALSE(f.db->Exists("gone"));
  EXPECT_EQ(f.db->Get("a")->version, f.db->Get("b")->version);
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Get("a")->value, "3");
  EXPECT_FALSE(f.db->Exists("gone"));
  EXPECT_EQ(f.db->Count(), 2u);
}

TEST(DbOpsTest, BatchPreconditionsAbortAtomically) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("w", "1"));
  uint64_t v = f.db->Get("w")->version;
  WriteBatch b;
  b.RequireVersion("w", v);
  b.RequireVersion("absent", 0);
  b.Put("w", "2");
  b.Put("x", "1");
  ASSERT_OK(f.db->Write(b));
  EXPECT_EQ(f.db->Get("w")->value, "2");
  // Same batch again: "w" has a new version now.
  EXPECT_THAT(f.db->Write(b), StatusIs(StatusCode::kAborted));
  EXPECT_EQ(f.db->Get("w")->value, "2");
  EXPECT_EQ(f.db->Get("x")->version, f.db->Get("w")->version);
}

TEST(DbOpsTest, PutIfModes) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  EXPECT_THAT(f.db->PutIf(PutMode::kIfPresent, "k", "v"),
              StatusIs(StatusCode::kNotFound));
  ASSERT_OK(f.db->PutIf(PutMode::kIfAbsent, "k", "v1"));
  EXPECT_THAT(f.db->PutIf(PutMode::kIfAbsent, "k", "v2"),
              StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(f.db->PutIf(PutMode::kIfPresent, "k", "v3"));
  EXPECT_EQ(f.db->Get("k")->value, "v3");
}

TEST(DbOpsTest, UpdateIsAtomicAcrossThreads) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  auto incr = [](const UpdateInput& in, UpdateOutput* out) {
    long v = in.old ? std::stol(*in.old) : 0;
    out->value = std::to_string(v + 1);
    return OkStatus();
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 500; ++i) ASSERT_OK(f.db->Update("ctr", incr));
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(f.db->Get("ctr")->value, "2000");
  // Abort leaves the value; nullopt deletes.
  EXPECT_EQ(
      f.db->Update("ctr", [](const UpdateInput&,
                             UpdateOutput*) { return AbortedError("no"); })
          .code(),
      StatusCode::kAborted);
  EXPECT_EQ(f.db->Get("ctr")->value, "2000");
  ASSERT_OK(f.db->Update(
      "ctr", [](const UpdateInput&, UpdateOutput*) { return OkStatus(); }));
  EXPECT_FALSE(f.db->Exists("ctr"));
}

TEST(DbOpsTest, ExpiryWithInjectedClockSurvivesRestart) {
  EngineFixture f;
  FakeClock now(1000000);
  f.options.clock = &now;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("short", "s", 1000500));
  ASSERT_OK(f.db->Put("long", "l", 9000000));
  ASSERT_OK(f.db->Put("plain", "p"));
  EXPECT_EQ(f.db->Get("short")->expire_at_ms, 1000500);
  EXPECT_EQ(f.db->Count(), 3u);
  EXPECT_EQ(f.db->GetStats().expiring_keys, 2u);
  now.SetMs(1000600);
  EXPECT_FALSE(f.db->Exists("short"));
  EXPECT_THAT(f.db->Get("short"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(f.db->Count(), 2u);
  // An expired key is absent for conditional puts.
  ASSERT_OK(f.db->PutIf(PutMode::kIfAbsent, "short", "again", 1000700));
  now.SetMs(1000800);
  EXPECT_EQ(*TEST_ReclaimExpired(f.db), 1u);
  EXPECT_EQ(f.db->GetStats().expired_reclaimed, 1u);
  ASSERT_OK(f.db->SetExpiry("plain", 1000900));
  ASSERT_OK(f.db->SetExpiry("long", 0));
  EXPECT_THAT(f.db->SetExpiry("short", 5), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(f.db->Get("long")->expire_at_ms, 0);
  now.SetMs(1001000);
  ASSERT_OK(f.Reopen());
  EXPECT_FALSE(f.db->Exists("short"));
  EXPECT_FALSE(f.db->Exists("plain"));  // expired, not yet reclaimed
  EXPECT_EQ(f.db->Get("long")->value, "l");
  EXPECT_EQ(f.db->Count(), 1u);
  EXPECT_EQ(*TEST_ReclaimExpired(f.db), 1u);
  now.SetMs(1);  // even with the clock set back, reclaimed keys stay gone
  ASSERT_OK(f.Reopen());
  EXPECT_FALSE(f.db->Exists("short"));
  EXPECT_FALSE(f.db->Exists("plain"));
}

TEST(DbOpsTest, GetIntoBufferMatchesGet) {
  FakeClock now(1'000'000);
  EngineFixture f;
  f.options.clock = &now;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("k", std::string(300, 'a')));
  ASSERT_OK(f.db->Put("e", "soon", now.NowMs() + 10));

  std::string value = "stale contents";
  ReadInfo info;
  ASSERT_OK(f.db->Get("k", &value, &info));
  EXPECT_EQ(value, std::string(300, 'a'));
  EXPECT_EQ(info.version, f.db->Get("k")->version);
  EXPECT_EQ(info.expire_at_ms, 0);
  // A shorter value reuses the buffer.
  ASSERT_OK(f.db->Put("k", "short"));
  const size_t capacity = value.capacity();
  ASSERT_OK(f.db->Get("k", &value));
  EXPECT_EQ(value, "short");
  EXPECT_EQ(value.capacity(), capacity);

  ASSERT_OK(f.db->Get("e", &value, &info));
  EXPECT_EQ(value, "soon");
  EXPECT_EQ(info.expire_at_ms, now.NowMs() + 10);
  now.AdvanceMs(10);
  EXPECT_THAT(f.db->Get("e", &value), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(f.db->Get("absent", &value), StatusIs(StatusCode::kNotFound));
}

TEST(DbOpsTest, ScanReturnsEveryKeyOnce) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 3000; ++i) {
    ASSERT_OK(f.db->Put("s" + std::to_string(i), "v"));
  }
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  int pages = 0;
  do {
    auto page = f.db->Scan(cursor, 100);
    ASSERT_OK(page);
    seen.insert(page->keys.begin(), page->keys.end());
    cursor = page->next_cursor;
    ASSERT_LT(++pages, 100000);
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 3000u);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), 3000u);
  EXPECT_THAT(f.db->Scan(uint64_t{1} << 40, 10),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(DbOpsTest, ScanIsStableUnderConcurrentWrites) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(f.db->Put("stable" + std::to_string(i), "v"));
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Inserts and deletes other keys, growing and shrinking the tables.
    for (int round = 0; round < 50 && !stop; ++round) {
      for (int i = 0; i < 400; ++i) {
        std::string k = "churn" + std::to_string(round * 400 + i);
        ASSERT_OK(f.db->Put(k, "x"));
        if (i % 2) {
          ASSERT_OK(f.db->Delete(k));
        }
      }
    }
  });
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    auto page = f.db->Scan(cursor, 10);
    ASSERT_OK(page);
    seen.insert(page->keys.begin(), page->keys.end());
    cursor = page->next_cursor;
  } while (cursor != 0);
  stop = true;
  writer.join();
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(seen.count("stable" + std::to_string(i))) << i;
  }
}

TEST(DbOpsTest, FlushDropsEverythingDurably) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(f.db->Put("f" + std::to_string(i), "v"));
  }
  ASSERT_OK(f.db->Flush());
  EXPECT_EQ(f.db->Count(), 0u);
  ASSERT_OK(f.db->Put("after", "flush"));
  auto image = f.Snapshot();
  f.db.reset();
  f.buffer = image;
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->Count(), 1u);
  EXPECT_EQ(f.db->Get("after")->value, "flush");
  EXPECT_FALSE(f.db->Exists("f1"));
}

TEST(DbOpsTest, UnsyncedWritesAreVisibleAndDurableAfterSync) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  WriteOptions lazy;
  lazy.sync = false;
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(f.db->Put("u" + std::to_string(i), "v", 0, lazy));
  }
  EXPECT_TRUE(f.db->Exists("u99"));
  uint64_t before = f.db->GetStats().persists;
  ASSERT_OK(f.db->Sync());
  uint64_t after = f.db->GetStats().persists;
  EXPECT_LE(after - before, 16u);  // one group commit per log head
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Count(), 100u);
}

TEST(DbOpsTest, StatsAreConsistent) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(f.db->Put("st" + std::to_string(i), std::string(100, 'v')));
  }
  Stats st = f.db->GetStats();
  EXPECT_EQ(st.keys, 1000u);
  EXPECT_EQ(st.pool_bytes, 32u << 20);
  EXPECT_EQ(st.segments, 31u);
  EXPECT_GE(st.persists, 1000u);
  EXPECT_GE(st.used_bytes, st.live_bytes);
  EXPECT_GE(st.live_bytes, 1000u * (40 + 3 + 100));
  EXPECT_GT(st.index_bytes, 0u);
  EXPECT_EQ(st.segments - st.free_segments, 1u);
}

}  // namespace
}  // namespace daxkv::engine
