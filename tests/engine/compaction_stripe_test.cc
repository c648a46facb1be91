// Compaction and the stripes of the keys whose puts it drops: once its
// victim is sealed it passes every stripe no writer holds (PassIdleStripes)
// and tells a dead put of one by the index alone; a put of a stripe a
// writer held is told under that stripe, since the writer may have
// appended a record it has not published yet.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

std::string Key(int i) { return "key" + std::to_string(i); }

TEST(CompactionStripeTest, ADeadPutOfAHeldStripeIsToldUnderIt) {
  EngineFixture f(8 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  const std::string v(100, 'v');
  ASSERT_OK(f.db->Put("held", v));  // dead below, in the oldest segment
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(f.db->Put(Key(i), v + std::to_string(round)));
    }
  }
  ASSERT_OK(f.db->Put("held", "new"));
  TxnOptions opts;
  opts.keys = {"held"};  // the stripe is held from here to Abort()
  auto txn = f.db->BeginTxn(opts);
  ASSERT_OK(txn.status());
  std::atomic<bool> done{false};
  std::thread compactor([&] {
    auto freed = TEST_Compact(f.db, 1000);
    EXPECT_OK(freed.status());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The oldest segment holds the dead put of "held": compaction waits for
  // the stripe rather than judge it by the index alone.
  EXPECT_FALSE(done.load());
  (*txn)->Abort();
  compactor.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(f.db->Get("held")->value, "new");
  for (int i = 0; i < 300; ++i) EXPECT_EQ(f.db->Get(Key(i))->value, v + "9");
}

// Writers (synced and unsynced) on every stripe while compaction drops
// their dead puts without the stripes: nothing acknowledged is lost, the
// live-byte accounting stays exact, and a reopen finds the same values.
TEST(CompactionStripeTest, WritersRacingCompactionLoseNothing) {
  EngineFixture f(16 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  constexpr int kWriters = 3;
  constexpr int kKeysPerWriter = 200;
  std::atomic<int> finished{0};
  std::vector<std::map<std::string, std::string>> last(kWriters);
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        const std::string key = Key(t + kWriters * (i % kKeysPerWriter));
        const std::string value(20 + (i * 13) % 200,
                                static_cast<char>('a' + t));
        ASSERT_OK(
            f.db->Put(key, value + std::to_string(i), 0, {.sync = i % 3 != 0}));
        last[t][key] = value + std::to_string(i);
      }
      ASSERT_OK(f.db->Sync());
      ++finished;
    });
  }
  uint64_t compactions = 0;
  while (finished.load() < kWriters) {
    auto freed = TEST_Compact(f.db, 2);
    ASSERT_OK(freed.status());
    compactions += *freed;
  }
  for (auto& w : writers) w.join();
  EXPECT_GT(compactions, 0u);
  ASSERT_OK(TEST_Compact(f.db, 1000).status());
  uint64_t expected = 0;
  for (const auto& keys : last) {
    for (const auto& [key, value] : keys) {
      auto r = f.db->Get(key);
      ASSERT_OK(r.status()) << key;
      EXPECT_EQ(r->value, value) << key;
      expected += PutRecordBytes(key, value.size());
    }
  }
  EXPECT_EQ(f.db->GetStats().live_bytes, expected);
  ASSERT_OK(f.Reopen());
  for (const auto& keys : last) {
    for (const auto& [key, value] : keys) {
      EXPECT_EQ(f.db->Get(key)->value, value) << key;
    }
  }
}

}  // namespace
}  // namespace daxkv::engine
