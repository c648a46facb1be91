// Compaction, tombstones across compaction, NoSpace, Grow, corruption and
// repair, and a bounded multi-threaded stress run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "engine/pool_inspect.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/fake_clock.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

std::string Key(int i) { return "key" + std::to_string(i); }

TEST(DbSpaceTest, CompactionKeepsLiveDataAndFreesSegments) {
  EngineFixture f(8 << 20, 256 << 10);
  ASSERT_OK(f.Open());
  std::string v(200, 'v');
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 300; ++i) {
      ASSERT_OK(f.db->Put(Key(i), v + std::to_string(round)));
    }
  }
  uint64_t free_before = f.db->GetStats().free_segments;
  auto freed = TEST_Compact(f.db, 1000);
  ASSERT_OK(freed);
  EXPECT_GT(*freed, 0u);
  EXPECT_GT(f.db->GetStats().free_segments, free_before);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(f.db->Get(Key(i))->value, v + "19");
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Count(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(f.db->Get(Key(i))->value, v + "19");
}

TEST(DbSpaceTest, DeletedKeysStayDeletedAcrossCompactionAndCrash) {
  EngineFixture f(8 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  std::string v(100, 'x');
  for (int i = 0; i < 400; ++i) ASSERT_OK(f.db->Put(Key(i), v));
  for (int i = 0; i < 400; i += 2) ASSERT_OK(f.db->Delete(Key(i)));
  // Churn so segments holding the tombstones and the old puts get compacted
  // in various orders.
  for (int round = 0; round < 10; ++round) {
    for (int i = 1000; i < 1200; ++i) ASSERT_OK(f.db->Put(Key(i), v));
    ASSERT_OK(TEST_Compact(f.db, 3));
  }
  ASSERT_OK(TEST_Compact(f.db, 1000));
  auto image = f.Snapshot();
  f.db.reset();
  f.buffer = image;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 400; ++i) {
    EXPECT_EQ(f.db->Exists(Key(i)), i % 2 == 1) << i;
  }
  EXPECT_EQ(f.db->Count(), 200u + 200u);
}

// A tombstone whose bucket counts only the victim's own dead puts has
// nothing to shadow once the victim is freed, and they go in the same free:
// it is dropped, not copied. One that shadows a put in another segment is
// copied, and the key stays deleted across a crash either way.
TEST(DbSpaceTest, ATombstoneGoesWithTheDeadPutsOfItsOwnVictim) {
  // 64 MiB: 16384 dead-put counters, so that few of the victims' puts
  // share one with another segment's.
  EngineFixture f(64 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  const std::string v(100, 'x');
  ASSERT_OK(f.db->Put("older", v));  // its delete lands segments later
  for (int i = 0; i < 2000; ++i) {
    ASSERT_OK(f.db->Put(Key(i), v));
    ASSERT_OK(f.db->Delete(Key(i)));
  }
  ASSERT_OK(f.db->Delete("older"));
  for (int i = 0; i < 300; ++i) ASSERT_OK(f.db->Put(Key(5000 + i), v));
  const uint64_t before = f.db->GetStats().relocated_bytes;
  auto freed = TEST_Compact(f.db, 1000);
  ASSERT_OK(freed);
  EXPECT_GE(*freed, 2u);
  // 2000 tombstones of about 40 bytes: only the few whose counter another
  // segment's dead put shares may be copied, not one per delete.
  EXPECT_LT(f.db->GetStats().relocated_bytes - before, 2000u * 40 / 10);
  auto image = f.Snapshot();
  f.db.reset();
  f.buffer = image;
  ASSERT_OK(f.Open());
  EXPECT_FALSE(f.db->Exists("older"));
  for (int i = 0; i < 2000; ++i) EXPECT_FALSE(f.db->Exists(Key(i))) << i;
  EXPECT_EQ(f.db->Count(), 300u);
}

TEST(DbSpaceTest, FullPoolReturnsNoSpaceAndKeepsAcknowledgedWrites) {
  EngineFixture f(2 << 20, 128 << 10);
  ASSERT_OK(f.Open());
  std::string v(1000, 'n');
  int acked = 0;
  Status s;
  for (int i = 0; i < 100000; ++i) {
    s = f.db->Put(Key(i), v);
    if (!s.ok()) break;
    acked = i + 1;
  }
  EXPECT_THAT(s, StatusIs(StatusCode::kNoSpace));
  EXPECT_GT(acked, 100);
  // Deletes may dip into the compaction reserve, so a full pool can always
  // be emptied again.
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Count(), static_cast<uint64_t>(acked));
  for (int i = 0; i < acked; ++i) ASSERT_TRUE(f.db->Exists(Key(i))) << i;
  for (int i = 0; i < acked / 2; ++i) {
    ASSERT_OK(f.db->Delete(Key(i))) << i;
  }
  ASSERT_OK(TEST_Compact(f.db, 1000));
  Status again = f.db->Put("fits-again", v);
  EXPECT_OK(again);
}

// Expired keys' space must stay reclaimable across a crash. Reclaiming
// every expired key leaves segments of dead puts plus segments of
// tombstones; compaction must pick the dead puts (which frees them and
// lets the tombstones go), not rewrite tombstone-only segments forever.
TEST(DbSpaceTest, ExpiredSpaceIsReclaimableAfterCrashDuringCompaction) {
  constexpr size_t kSeg = 64 << 10;
  testing::SimRegion region(8192 + 16 * kSeg);
  FakeClock clock(1'000'000);
  Options o;
  o.segment_size = kSeg;
  o.background_compaction = false;
  o.background_expiry = false;
  o.recovery_threads = 1;
  o.clock = &clock;
  auto open = [&](dax::Region& r) {
    return DB::Open(std::make_unique<BorrowedRegion>(r), o);
  };
  auto db = open(region);
  ASSERT_OK(db);
  std::string v(300, 'e');
  for (int i = 0; i < 100000 && (*db)->GetStats().free_segments > 3; ++i) {
    ASSERT_OK((*db)->Put(Key(i), v, clock.NowMs() + 1000));
  }
  clock.AdvanceMs(2000);  // every key has expired
  for (int round = 0; round < 100; ++round) {
    auto n = TEST_ReclaimExpired(*db);
    ASSERT_OK(n);
    if (*n == 0) break;
  }
  db->reset();
  db = open(region);  // the compaction head starts without a segment
  ASSERT_OK(db);
  std::vector<std::vector<char>> images;
  region.SetPersistHook(
      [&](uint64_t) { images.push_back(region.CrashImage(images.size())); });
  ASSERT_OK(TEST_Compact(*db, 1));
  region.SetPersistHook(nullptr);
  ASSERT_FALSE(images.empty());
  for (size_t i = 0; i < images.size(); ++i) {
    testing::SimRegion recovered(images[i]);
    auto rdb = open(recovered);
    ASSERT_OK(rdb);
    EXPECT_EQ((*rdb)->Count(), 0u) << "crash point " << i;
    Status put = (*rdb)->Put("after-crash", v);
    EXPECT_OK(put) << "crash point " << i;
  }
}

TEST(DbSpaceTest, GrowAddsSegmentsDurably) {
  EngineFixture f(1 << 20, 64 << 10, 4 << 20);
  ASSERT_OK(f.Open());
  uint64_t before = f.db->GetStats().segments;
  std::string v(1000, 'g');
  int i = 0;
  while (f.db->Put(Key(i), v).ok()) ++i;
  ASSERT_OK(f.db->Grow(4 << 20));
  EXPECT_GT(f.db->GetStats().segments, before);
  ASSERT_OK(f.db->Put(Key(i), v));
  EXPECT_THAT(f.db->Grow(1 << 20), StatusIs(StatusCode::kInvalidArgument));
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->GetStats().segments, (uint64_t{4 << 20} - 8192) / (64 << 10));
  EXPECT_EQ(f.db->Count(), static_cast<uint64_t>(i + 1));
}

// Offset of the first record of the first in-use segment.
uint64_t FirstRecordOffset(const dax::Region& r) {
  auto rep = InspectPool(r, InspectOptions());
  for (const auto& s : rep->segments) {
    if (s.state == "in-use" && s.records > 0) return s.offset + 128;
  }
  return 0;
}

TEST(DbSpaceTest, CorruptRecordIsRefusedThenRepaired) {
  EngineFixture f;
  f.options.index_snapshot = false;  // the damage is for the scan to find
  ASSERT_OK(f.Open());
  for (int i = 0; i < 50; ++i) ASSERT_OK(f.db->Put(Key(i), "value"));
  f.db.reset();  // clean close: every segment sealed
  testing::HeapRegion region(f.buffer);
  uint64_t rec = FirstRecordOffset(region);
  ASSERT_NE(rec, 0u);
  (*f.buffer)[rec + 45] ^= 0x01;  // inside the first record's key
  auto refused =
      DB::Open(std::make_unique<testing::HeapRegion>(f.buffer), f.options);
  ASSERT_THAT(refused, StatusIs(StatusCode::kCorruption));
  char off[32];
  std::snprintf(off, sizeof(off), "0x%llx", (unsigned long long)rec);
  EXPECT_NE(refused.status().message().find(off), std::string::npos)
      << refused.status().ToString();

  InspectOptions io;
  io.verify = true;
  auto report = InspectPool(region, io);
  ASSERT_OK(report);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].offset, rec);
  EXPECT_TRUE(report->problems[0].repairable);
  EXPECT_EQ(report->keys, 49u);

  f.options.repair = true;
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->GetStats().dropped_records, 1u);
  EXPECT_EQ(f.db->Count(), 49u);
  EXPECT_FALSE(f.db->Exists(Key(0)));
  EXPECT_EQ(f.db->Get(Key(1))->value, "value");
  f.db.reset();
  f.options.repair = false;
  ASSERT_OK(f.Open());  // repaired for good
  EXPECT_EQ(f.db->Count(), 49u);
}

TEST(DbSpaceTest, RepairPoolReportsWhatItFixed) {
  EngineFixture f;
  f.options.index_snapshot = false;  // the damage is for the scan to find
  ASSERT_OK(f.Open());
  for (int i = 0; i < 50; ++i) ASSERT_OK(f.db->Put(Key(i), "value"));
  f.db.reset();
  testing::HeapRegion region(f.buffer);
  uint64_t rec = FirstRecordOffset(region);
  (*f.buffer)[rec + 20] ^= 0x40;  // record header
  std::vector<char> before(*f.buffer);
  InspectOptions io;
  io.verify = true;
  ASSERT_OK(InspectPool(region, io));
  EXPECT_EQ(before, *f.buffer);  // inspection never writes
  auto rep = RepairPool(region);
  ASSERT_OK(rep);
  EXPECT_EQ(rep->repaired.size(), 1u);
  EXPECT_EQ(rep->dropped_records, 1u);
  EXPECT_TRUE(rep->unrecoverable.empty());
  auto after = InspectPool(region, io);
  EXPECT_TRUE(after->problems.empty());
  EXPECT_TRUE(after->clean_shutdown);
}

TEST(DbSpaceTest, TornTailAfterCrashIsSilentlyIgnored) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 20; ++i) ASSERT_OK(f.db->Put(Key(i), "v"));
  auto image = f.Snapshot();
  f.db.reset();
  // Fake a write in flight: garbage where the next record would go.
  testing::HeapRegion region(image);
  auto rep = InspectPool(region, InspectOptions());
  uint64_t tail = 0;
  for (const auto& s : rep->segments) {
    if (s.state == "in-use" && s.records > 0)
      tail = s.offset + 128 + s.used_bytes;
  }
  ASSERT_NE(tail, 0u);
  std::memset(image->data() + tail, 0x33, 60);
  f.buffer = image;
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->Count(), 20u);
  EXPECT_EQ(f.db->GetStats().dropped_records, 0u);
}

// Finding 11: with the pool full and several clients writing, DEL got
// NoSpace (the server's OOM): a delete is how an operator frees space, so
// it must always be possible. Put threads keep the pool full (their NoSpace
// is expected) while delete threads remove what they wrote; no delete may
// fail, and once the deletes are done puts fit again.
TEST(DbSpaceTest, DeletesNeverFailWithNoSpaceWhilePutsFillThePool) {
  EngineFixture f(8192 + 24 * (128 << 10), 128 << 10);
  f.options.background_compaction = true;
  ASSERT_OK(f.Open());
  constexpr int kPutters = 2, kDeleters = 2, kDeletes = 100000;
  std::mutex mu;
  std::vector<std::string> written;  // acknowledged, not yet deleted
  std::atomic<uint64_t> put_no_space{0}, deletes{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < kPutters; ++t) {
    ts.emplace_back([&, t] {
      std::string value(400 + t * 100, 'p');
      for (uint64_t i = 0; !stop.load(); ++i) {
        std::string key = "p" + std::to_string(t) + "-" + std::to_string(i);
        Status s = f.db->Put(key, value, 0, {.sync = i % 4 == 0});
        if (s.code() == StatusCode::kNoSpace) {
          ++put_no_space;
          std::this_thread::yield();
          continue;
        }
        ASSERT_OK(s);
        std::lock_guard<std::mutex> l(mu);
        written.push_back(std::move(key));
      }
    });
  }
  for (int t = 0; t < kDeleters; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (deletes.load() < kDeletes) {
        std::string key;
        {
          std::lock_guard<std::mutex> l(mu);
          // Delete only once the pool has been full, then keep it full.
          if (written.empty() || put_no_space.load() == 0) {
            key.clear();
          } else {
            size_t i = rng() % written.size();
            key = std::move(written[i]);
            written[i] = std::move(written.back());
            written.pop_back();
          }
        }
        if (key.empty()) {
          std::this_thread::yield();
          continue;
        }
        Status s = f.db->Delete(key, nullptr, {.sync = rng() % 4 == 0});
        ASSERT_OK(s) << "delete " << deletes.load() << " of " << key;
        ++deletes;
      }
    });
  }
  for (int t = kPutters; t < kPutters + kDeleters; ++t) ts[t].join();
  stop = true;
  for (int t = 0; t < kPutters; ++t) ts[t].join();
  EXPECT_GT(put_no_space.load(), 0u) << "the pool never filled up";
  for (const std::string& key : written) {
    Status s = f.db->Delete(key);
    ASSERT_OK(s);
  }
  auto freed = TEST_Compact(f.db, 1000);
  ASSERT_OK(freed);
  for (int i = 0; i < 100; ++i) {
    Status s = f.db->Put("again" + std::to_string(i), std::string(400, 'a'));
    ASSERT_OK(s) << "after the deletes: ";
  }
}

// The same without garbage to start from: a pool full of live keys, then
// every key deleted in random order, so each segment holds a few dead puts
// at a time and each delete needs room for its tombstone first.
TEST(DbSpaceTest, EveryKeyOfAPoolFullOfLiveDataCanBeDeleted) {
  EngineFixture f(8192 + 16 * (64 << 10), 64 << 10);
  ASSERT_OK(f.Open());
  std::vector<std::string> keys;
  for (int i = 0;; ++i) {
    Status s = f.db->Put(Key(i), std::string(200, 'l'));
    if (s.code() == StatusCode::kNoSpace) break;
    ASSERT_OK(s);
    keys.push_back(Key(i));
  }
  std::shuffle(keys.begin(), keys.end(), std::mt19937(11));
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = f.db->Delete(keys[i]);
    ASSERT_OK(s) << "delete " << i << " of " << keys.size();
  }
  EXPECT_EQ(f.db->Count(), 0u);
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Count(), 0u);
  Status again = f.db->Put("fits-again", std::string(200, 'a'));
  EXPECT_OK(again);
}

TEST(DbSpaceTest, ConcurrentStressMatchesModel) {
  EngineFixture f(16 << 20, 256 << 10);
  f.options.background_compaction = true;
  f.options.background_expiry = true;
  ASSERT_OK(f.Open());
  constexpr int kThreads = 4, kOps = 4000, kKeys = 200;
  // Each thread owns keys t, t + kThreads, ... so the final value is known.
  std::vector<std::map<std::string, std::string>> models(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(t);
      auto& model = models[t];
      for (int i = 0; i < kOps; ++i) {
        std::string k = Key((rng() % kKeys) * kThreads + t);
        int op = rng() % 10;
        if (op < 6) {
          std::string v(rng() % 300, 'a' + t);
          ASSERT_OK(f.db->Put(k, v));
          model[k] = v;
        } else if (op < 8) {
          ASSERT_OK(f.db->Delete(k));
          model.erase(k);
        } else {
          auto r = f.db->Get(k);
          auto it = model.find(k);
          ASSERT_EQ(r.ok(), it != model.end()) << k;
          if (r.ok()) {
            ASSERT_EQ(r->value, it->second);
          }
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  auto check = [&] {
    size_t total = 0;
    for (auto& m : models) {
      total += m.size();
      for (auto& [k, v] : m) ASSERT_EQ(f.db->Get(k)->value, v) << k;
    }
    EXPECT_EQ(f.db->Count(), total);
  };
  check();
  ASSERT_OK(TEST_Compact(f.db, 1000));
  check();
  ASSERT_OK(f.Reopen());
  check();
}

}  // namespace
}  // namespace daxkv::engine

namespace daxkv::engine {
namespace {

// The same engine on the real dax::Region over a tmpfs file (the backing
// daxkv-bench uses), including Grow() of the file.
TEST(DbRealRegionTest, PutReopenGrowOnTmpfsFile) {
  std::string path = "/dev/shm/daxkv-engine-test-" + std::to_string(getpid());
  dax::OpenOptions oo;
  oo.create_if_missing = true;
  oo.create_size = 4 << 20;
  auto region = dax::OpenRegion(path, oo);
  if (!region.ok()) GTEST_SKIP() << region.status().ToString();
  Options o;
  o.segment_size = 256 << 10;
  o.background_compaction = false;
  auto db = DB::Open(std::move(region).value(), o);
  ASSERT_OK(db);
  for (int i = 0; i < 100; ++i) ASSERT_OK((*db)->Put(Key(i), "v"));
  Status g = (*db)->Grow(8 << 20);
  ASSERT_OK(g);
  EXPECT_EQ((*db)->GetStats().segments, ((8u << 20) - 8192) / (256 << 10));
  db->reset();
  auto again = DB::Open(std::move(dax::OpenRegion(path, {})).value(), o);
  ASSERT_OK(again);
  EXPECT_EQ((*again)->Count(), 100u);
  EXPECT_EQ((*again)->GetStats().segments, ((8u << 20) - 8192) / (256 << 10));
  again->reset();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace daxkv::engine
