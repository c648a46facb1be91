// The engine's fast paths: Get into a caller-owned buffer, and the
// two-phase (scan, then per-shard build) index rebuild of recovery, which
// must reach exactly the state the live engine had.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

#include "engine/db.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/fake_clock.h"

namespace daxkv::engine {
namespace {

TEST(DbFastPathTest, GetIntoBufferMatchesGet) {
  FakeClock now(1'000'000);
  EngineFixture f;
  f.options.clock = &now;
  ASSERT_TRUE(f.Open().ok());
  ASSERT_TRUE(f.db->Put("k", std::string(300, 'a')).ok());
  ASSERT_TRUE(f.db->Put("e", "soon", now.NowMs() + 10).ok());

  std::string value = "stale contents";
  ReadInfo info;
  ASSERT_TRUE(f.db->Get("k", &value, &info).ok());
  EXPECT_EQ(value, std::string(300, 'a'));
  EXPECT_EQ(info.version, f.db->Get("k")->version);
  EXPECT_EQ(info.expire_at_ms, 0);
  // A shorter value reuses the buffer.
  ASSERT_TRUE(f.db->Put("k", "short").ok());
  const size_t capacity = value.capacity();
  ASSERT_TRUE(f.db->Get("k", &value).ok());
  EXPECT_EQ(value, "short");
  EXPECT_EQ(value.capacity(), capacity);

  ASSERT_TRUE(f.db->Get("e", &value, &info).ok());
  EXPECT_EQ(value, "soon");
  EXPECT_EQ(info.expire_at_ms, now.NowMs() + 10);
  now.AdvanceMs(10);
  EXPECT_EQ(f.db->Get("e", &value).code(), StatusCode::kNotFound);
  EXPECT_EQ(f.db->Get("absent", &value).code(), StatusCode::kNotFound);
}

TEST(DbFastPathTest, RecoveryRebuildsTheLiveState) {
  FakeClock now(1'000'000);
  EngineFixture f;
  f.options.clock = &now;
  f.options.recovery_threads = 3;
  ASSERT_TRUE(f.Open().ok());
  // Overwrites spread over several segments, deletes, re-puts after a
  // delete, and expiries: every rule of "newest entry wins".
  std::map<std::string, std::string> model;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3000; ++i) {
      std::string key = "key" + std::to_string(i);
      if ((i + round) % 7 == 0) {
        ASSERT_TRUE(f.db->Delete(key).ok());
        model.erase(key);
        continue;
      }
      std::string value(50 + (i * 13 + round) % 200,
                        static_cast<char>('a' + round));
      int64_t expire = i % 11 == 0 ? now.NowMs() + 1'000'000 + i : 0;
      ASSERT_TRUE(f.db->Put(key, value, expire).ok());
      model[key] = value;
    }
  }
  const Stats before = f.db->GetStats();
  ASSERT_GT(before.used_bytes, 3u << 20);  // several segments
  auto image = f.Snapshot();
  f.db.reset();
  f.buffer = image;  // a crash: no clean close
  ASSERT_TRUE(f.Open().ok());

  const Stats after = f.db->GetStats();
  EXPECT_EQ(after.keys, model.size());
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.expiring_keys, before.expiring_keys);
  // Never more DRAM than the running engine (whose tables never shrink).
  EXPECT_LE(after.index_bytes, before.index_bytes);
  std::string value;
  for (int i = 0; i < 3000; ++i) {
    std::string key = "key" + std::to_string(i);
    auto it = model.find(key);
    Status s = f.db->Get(key, &value);
    if (it == model.end()) {
      EXPECT_EQ(s.code(), StatusCode::kNotFound) << key;
    } else {
      ASSERT_TRUE(s.ok()) << key << ": " << s.ToString();
      EXPECT_EQ(value, it->second) << key;
    }
  }
  // Compaction after recovery agrees with the rebuilt live bytes: it keeps
  // every key.
  ASSERT_TRUE(f.db->Compact(100).ok());
  EXPECT_EQ(f.db->Count(), model.size());
  ASSERT_TRUE(f.db->Get("key1", &value).ok());
  EXPECT_EQ(value, model["key1"]);
}

}  // namespace
}  // namespace daxkv::engine
