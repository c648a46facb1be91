// Flush() (the server's FLUSHALL) against writers on other threads: a
// read-modify-write that read before the flush must not write the old value
// back after it, and the engine's live-byte accounting stays exact however
// writes and flushes interleave.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "engine/key_hash.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

// Waits (bounded) for `flag`; the bound only ends a wait the code under test
// may legitimately never end (a flush that waits for us).
void WaitBriefly(const std::atomic<bool>& flag) {
  for (int i = 0; i < 200 && !flag.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Finding 4: Update (INCR, APPEND) read the old value, Flush() ran to
// completion meanwhile, and the update wrote old + 1 back: the key outlived
// FLUSHALL. Linearizable outcomes: the update before the flush (key gone),
// or after it (the update reads nothing). It read "5", so the key is gone.
TEST(FlushRaceTest, UpdateThatReadBeforeAFlushNeverWritesBackAfterIt) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("counter", "5"));
  std::atomic<bool> in_update{false}, flushed{false};
  std::string read;
  std::thread updater([&] {
    Status s =
        f.db->Update("counter", [&](const UpdateInput& in, UpdateOutput* out) {
          read = in.old ? *in.old : "<absent>";
          in_update = true;
          WaitBriefly(flushed);  // gives a flush that ignores us time to end
          out->value = read + "+1";
          return OkStatus();
        });
    EXPECT_OK(s);
  });
  while (!in_update.load()) std::this_thread::yield();
  ASSERT_OK(f.db->Flush());
  flushed = true;
  updater.join();
  ASSERT_EQ(read, "5");
  auto got = f.db->Get("counter");
  EXPECT_THAT(got, StatusIs(StatusCode::kNotFound))
      << "counter outlived the flush";
  ASSERT_OK(f.Reopen());
  EXPECT_FALSE(f.db->Exists("counter"));
}

// Finding 4, SetExpiry: it looked the key up, the flush freed the segment
// holding the value, and SetExpiry then copied the value from there into a
// new record: the key outlived FLUSHALL (and its bytes came from freed,
// possibly reused space). The SetExpiry starts while Flush() is at its first
// persist point.
TEST(FlushRaceTest, SetExpiryDuringAFlushNeverBringsTheKeyBack) {
  testing::SimRegion region(8192 + 16 * (64 << 10));
  const Options o = ManualOptions(64 << 10);
  auto opened = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  ASSERT_OK(opened);
  std::unique_ptr<DB> db = std::move(opened).value();
  ASSERT_OK(db->Put("k", std::string(3000, 'v')));
  std::thread setter;
  Status set_status;
  std::atomic<bool> started{false};
  region.SetPersistHook([&](uint64_t) {
    if (started.exchange(true)) return;
    setter =
        std::thread([&] { set_status = db->SetExpiry("k", int64_t{1} << 50); });
    // Time for the SetExpiry to look the key up, if nothing stops it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  ASSERT_OK(db->Flush());
  region.SetPersistHook(nullptr);
  setter.join();
  EXPECT_THAT(set_status, StatusIs(StatusCode::kNotFound));
  EXPECT_FALSE(db->Exists("k")) << "k outlived the flush";
  db.reset();
  auto again = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  ASSERT_OK(again);
  EXPECT_FALSE((*again)->Exists("k"));
}

// Finding 8: Publish() subtracted the old entry's bytes from its segment
// after releasing the shard lock; a flush in between reset that segment's
// count, so the subtraction underflowed (or landed on the segment's next
// life). The count of live bytes must be exact whatever the interleaving:
// it decides what compaction copies and frees.
TEST(FlushRaceTest, LiveByteAccountingStaysExactUnderConcurrentFlushes) {
  EngineFixture f(16 << 20, 256 << 10);
  ASSERT_OK(f.Open());
  constexpr int kWriters = 3, kKeys = 64;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % kKeys);
        Status s = i % 5 == 4 ? f.db->Delete(key)
                              : f.db->Put(key, std::string(i % 300, 'v'), 0,
                                          {.sync = false});
        ASSERT_OK(s);
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    ASSERT_OK(f.db->Flush());
    std::this_thread::yield();
  }
  stop = true;
  for (auto& w : writers) w.join();
  uint64_t expected = 0;
  for (int k = 0; k < kKeys; ++k) {
    std::string key = "k" + std::to_string(k);
    auto r = f.db->Get(key);
    if (r.ok()) expected += PutRecordBytes(key, r->value.size());
  }
  Stats st = f.db->GetStats();
  EXPECT_EQ(st.live_bytes, expected);
  EXPECT_LE(st.live_bytes, st.used_bytes);
}

// A key other than `key` in the same index shard.
std::string ShardNeighbour(const std::string& key) {
  for (int i = 0;; ++i) {
    std::string n = "neighbour" + std::to_string(i);
    if (KeyHash(n).shard() == KeyHash(key).shard()) return n;
  }
}

// Finding 8: a fresh span was sealed with live = 0 before Publish() counted
// its record, so a compaction in that window took it for a dead span: it
// waited for the key's stripe, found the record live and copied it (up to
// 512 MiB), or reported NoSpace for want of another run. Only spans are
// written here, so compaction must never copy a byte: dead spans are freed
// whole. A reader copying a large value out of the same index shard keeps
// each Publish() waiting for the shard lock: the window stays open long
// enough for the compactor to look.
TEST(FlushRaceTest, CompactionNeverCopiesASpanItsWriterIsPublishing) {
  constexpr size_t kSeg = 64 << 10;
  EngineFixture f(8192 + 48 * kSeg, kSeg);
  ASSERT_OK(f.Open());
  const std::string neighbour = ShardNeighbour("big");
  ASSERT_OK(f.db->Put(neighbour, std::string(8 * kSeg, 'n')));
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::string buf;
    while (!stop.load()) ASSERT_OK(f.db->Get(neighbour, &buf));
  });
  std::thread compactor([&] {
    while (!stop.load()) {
      auto r = TEST_Compact(f.db, 1);
      ASSERT_OK(r);
    }
  });
  std::string value;
  for (int i = 0; i < 1000 && !HasFailure(); ++i) {
    value.assign(2 * kSeg + i % 1000, static_cast<char>('a' + i % 26));
    Status s = f.db->Put("big", value);
    ASSERT_OK(s) << "put " << i;
  }
  stop = true;
  compactor.join();
  reader.join();
  Stats st = f.db->GetStats();
  EXPECT_EQ(st.relocated_bytes, 0u) << "compaction copied a live span";
  EXPECT_EQ(st.live_bytes, PutRecordBytes("big", value.size()) +
                               PutRecordBytes(neighbour, 8 * kSeg));
  EXPECT_EQ(f.db->Get("big")->value, value);
}

}  // namespace
}  // namespace daxkv::engine
