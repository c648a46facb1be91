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
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

TEST(DbFastPathTest, GetIntoBufferMatchesGet) {
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

TEST(DbFastPathTest, RecoveryRebuildsTheLiveState) {
  FakeClock now(1'000'000);
  EngineFixture f;
  f.options.clock = &now;
  f.options.recovery_threads = 3;
  ASSERT_OK(f.Open());
  // Overwrites spread over several segments, deletes, re-puts after a
  // delete, and expiries: every rule of "newest entry wins".
  std::map<std::string, std::string> model;
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3000; ++i) {
      std::string key = "key" + std::to_string(i);
      if ((i + round) % 7 == 0) {
        ASSERT_OK(f.db->Delete(key));
        model.erase(key);
        continue;
      }
      std::string value(50 + (i * 13 + round) % 200,
                        static_cast<char>('a' + round));
      int64_t expire = i % 11 == 0 ? now.NowMs() + 1'000'000 + i : 0;
      ASSERT_OK(f.db->Put(key, value, expire));
      model[key] = value;
    }
  }
  const Stats before = f.db->GetStats();
  ASSERT_GT(before.used_bytes, 3u << 20);  // several segments
  auto image = f.Snapshot();
  f.db.reset();
  f.buffer = image;  // a crash: no clean close
  ASSERT_OK(f.Open());

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
      EXPECT_THAT(s, StatusIs(StatusCode::kNotFound)) << key;
    } else {
      ASSERT_OK(s) << key;
      EXPECT_EQ(value, it->second) << key;
    }
  }
  // Compaction after recovery agrees with the rebuilt live bytes: it keeps
  // every key.
  ASSERT_OK(f.db->Compact(100));
  EXPECT_EQ(f.db->Count(), model.size());
  ASSERT_OK(f.db->Get("key1", &value));
  EXPECT_EQ(value, model["key1"]);
}

}  // namespace
}  // namespace daxkv::engine
