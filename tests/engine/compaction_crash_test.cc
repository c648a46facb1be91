// Crashes while compaction holds the pool's last free segment for its log,
// then crashes again while recovery's resumed compaction runs: the pool must
// never open wedged (NoSpace for good) nor lose a key, however the two
// crashes fall (engine/compaction_resume.cc).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/engine/crash_harness.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSeg = 64 << 10;

StatusOr<std::unique_ptr<DB>> OpenOn(testing::SimRegion& r) {
  return DB::Open(std::make_unique<BorrowedRegion>(r), ManualOptions(kSeg));
}

// Long keys make tombstones as large as the puts, so a few deletes use up
// the space puts leave free.
std::string LongKey(int i) {
  std::string k = "key" + std::to_string(i) + "-";
  k.resize(900, 'k');
  return k;
}

// "" when `db` holds exactly `model`, and a write fits once space is
// reclaimed (the pool is not wedged); else what is wrong.
std::string CheckPool(DB* db, const std::map<std::string, std::string>& model,
                      int keys) {
  for (int i = 0; i < keys; ++i) {
    auto it = model.find(LongKey(i));
    auto got = db->Get(LongKey(i));
    if (it == model.end() && got.ok())
      return "deleted key " + std::to_string(i) + " is back";
    if (it != model.end() && (!got.ok() || got->value != it->second)) {
      return "key " + std::to_string(i) + " lost";
    }
  }
  if (db->Count() != model.size()) return "Count() disagrees";
  // Not wedged: compaction can run and a put then fits.
  auto c = TEST_Compact(db, 4);
  if (!c.ok()) return "compaction after recovery: " + c.status().ToString();
  Status put = db->Put("after-crash", "v");
  if (!put.ok()) return "put after recovery: " + put.ToString();
  return "";
}

TEST(DbSpaceTest, CrashesWhileCompactionHoldsTheLastSegmentNeverWedge) {
  testing::SimRegion region(8192 + 12 * kSeg);
  std::map<std::string, std::string> model;
  int keys = 0;
  {
    auto db = OpenOn(region);
    ASSERT_OK(db);
    // Fill with puts: they stop with the reserve free.
    for (;; ++keys) {
      std::string v = "value-" + std::to_string(keys);
      Status s = (*db)->Put(LongKey(keys), v);
      if (s.code() == StatusCode::kNoSpace) break;
      ASSERT_OK(s);
      model[LongKey(keys)] = v;
    }
    // Delete two keys in three until only compaction's segment is free:
    // the first segments are then a third live, the best victims (a
    // segment of tombstones counts as half live).
    for (int i = 0; i < keys && (*db)->GetStats().free_segments > 1; ++i) {
      if (i % 3 == 0) continue;
      ASSERT_OK((*db)->Delete(LongKey(i)));
      model.erase(LongKey(i));
    }
    ASSERT_EQ((*db)->GetStats().free_segments, 1u);
  }  // clean close: the compaction log starts without a segment
  auto db = OpenOn(region);
  ASSERT_OK(db);
  ASSERT_EQ((*db)->GetStats().free_segments, 1u);

  // First crash: every persist point of a compaction that takes the last
  // free segment for its log. A persist covers a run of copies (up to
  // KeyCompactor::kCopyRun), so each point is cut three ways: each
  // unpersisted line survives or not at random.
  std::vector<std::vector<char>> first;
  region.SetPersistHook([&](uint64_t point) {
    for (uint64_t cut = 0; cut < 3; ++cut) {
      first.push_back(region.CrashImage(point * 16 + cut * 4, 0.5));
    }
  });
  auto freed = TEST_Compact(*db, 1);
  region.SetPersistHook(nullptr);
  ASSERT_OK(freed);
  ASSERT_EQ(*freed, 1u);
  ASSERT_GT((*db)->GetStats().relocated_bytes, 10 * 900u);
  ASSERT_GT(first.size(), 10u);  // 3 per persist point

  // A scaled-down run (DAXKV_CRASH_SCALE, the TSan step; no threads here
  // for TSan to check) still recovers every first point but only every
  // stride-th second point, the offset moving with p1 so that the second
  // points checked cover every position of the follow-up compaction.
  const crash::CrashConfig config = crash::CrashConfig::FromEnv();
  const size_t stride =
      config.scale < 1.0 ? static_cast<size_t>(1 / config.scale) : 1;
  uint64_t second_points = 0;
  for (size_t p1 = 0; p1 < first.size() && !::testing::Test::HasFailure();
       ++p1) {
    // Recover; the recovery resumes the interrupted compaction, and the
    // follow-up compaction (which must finish the victim) is crashed at each
    // of its persist points in turn.
    testing::SimRegion recovered(first[p1]);
    std::vector<std::vector<char>> second;
    size_t seen = 0;
    recovered.SetPersistHook([&](uint64_t point) {
      if (seen++ % stride != p1 % stride) return;
      second.push_back(recovered.CrashImage(point * 16 + 1, 0.5));
    });
    {
      auto rdb = OpenOn(recovered);
      ASSERT_OK(rdb) << "crash point " << p1;
      auto c = TEST_Compact(*rdb, 2);
      ASSERT_OK(c) << "crash point " << p1;
      recovered.SetPersistHook(nullptr);
      std::string why = CheckPool(rdb->get(), model, keys);
      ASSERT_EQ(why, "") << "after crash point " << p1;
    }
    for (size_t p2 = 0; p2 < second.size(); ++p2) {
      testing::SimRegion again(second[p2]);
      auto adb = OpenOn(again);
      ASSERT_OK(adb) << "crash points " << p1 << ", " << p2;
      std::string why = CheckPool(adb->get(), model, keys);
      ASSERT_EQ(why, "") << "after crash points " << p1 << ", " << p2;
    }
    second_points += second.size();
  }
  std::printf(
      "[crash] double crash: %zu first points x their %llu second "
      "points recovered (1 in %zu)\n",
      first.size(), static_cast<unsigned long long>(second_points), stride);
}

}  // namespace
}  // namespace daxkv::engine
