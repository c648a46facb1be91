// Recovery's two-phase index rebuild (scan, then per-shard build) on a crash
// image of a busy pool: it must reach exactly the state the live engine
// had. tests/engine/index_builder_test.cc tests the builder on its own.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/db.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

TEST(RecoveryRebuildTest, CrashImageRebuildsTheLiveState) {
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
  ASSERT_OK(TEST_Compact(f.db, 100));
  EXPECT_EQ(f.db->Count(), model.size());
  ASSERT_OK(f.db->Get("key1", &value));
  EXPECT_EQ(value, model["key1"]);
}

}  // namespace
}  // namespace daxkv::engine
