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

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/sim_region.h"

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
  ASSERT_TRUE(f.Open().ok());
  ASSERT_TRUE(f.db->Put("counter", "5").ok());
  std::atomic<bool> in_update{false}, flushed{false};
  std::string read;
  std::thread updater([&] {
    Status s = f.db->Update(
        "counter", [&](const UpdateInput& in, UpdateOutput* out) {
          read = in.old ? *in.old : "<absent>";
          in_update = true;
          WaitBriefly(flushed);  // gives a flush that ignores us time to end
          out->value = read + "+1";
          return OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  while (!in_update.load()) std::this_thread::yield();
  ASSERT_TRUE(f.db->Flush().ok());
  flushed = true;
  updater.join();
  ASSERT_EQ(read, "5");
  auto got = f.db->Get("counter");
  EXPECT_FALSE(got.ok()) << "counter outlived the flush: " << got->value;
  ASSERT_TRUE(f.Reopen().ok());
  EXPECT_FALSE(f.db->Exists("counter"));
}

// Finding 4, SetExpiry: it looked the key up, the flush freed the segment
// holding the value, and SetExpiry then copied the value from there into a
// new record: the key outlived FLUSHALL (and its bytes came from freed,
// possibly reused space). The SetExpiry starts while Flush() is at its first
// persist point.
TEST(FlushRaceTest, SetExpiryDuringAFlushNeverBringsTheKeyBack) {
  testing::SimRegion region(8192 + 16 * (64 << 10));
  Options o;
  o.segment_size = 64 << 10;
  o.background_compaction = false;
  o.background_expiry = false;
  auto opened = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<DB> db = std::move(opened).value();
  ASSERT_TRUE(db->Put("k", std::string(3000, 'v')).ok());
  std::thread setter;
  Status set_status;
  std::atomic<bool> started{false};
  region.SetPersistHook([&](uint64_t) {
    if (started.exchange(true)) return;
    setter = std::thread([&] {
      set_status = db->SetExpiry("k", int64_t{1} << 50);
    });
    // Time for the SetExpiry to look the key up, if nothing stops it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  ASSERT_TRUE(db->Flush().ok());
  region.SetPersistHook(nullptr);
  setter.join();
  EXPECT_EQ(set_status.code(), StatusCode::kNotFound) << set_status.ToString();
  EXPECT_FALSE(db->Exists("k")) << "k outlived the flush";
  db.reset();
  auto again = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE((*again)->Exists("k"));
}

}  // namespace
}  // namespace daxkv::engine
