// Log heads and writing threads (DBImpl::MyHead, HeadContended): two threads
// on one head serialize on its mutex, held across each persist, so of two
// writers that meet on a head the younger moves on, and one that only meets
// a Sync() (which appends nothing) stays.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/heap_region.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

using testing::HeapRegion;
using Clock = std::chrono::steady_clock;

constexpr size_t kSeg = 1 << 20;

std::unique_ptr<DB> OpenTwoHeads() {
  Options o = ManualOptions(kSeg);
  o.write_heads = 2;
  auto db = DB::Open(
      std::make_unique<HeapRegion>(HeapRegion::NewBuffer(8192 + 64 * kSeg)), o);
  EXPECT_OK(db);
  return db.ok() ? std::move(db).value() : nullptr;
}

// The calling thread's user head; 9 (no head) when the hook failed.
size_t HeadOf(DB* db) {
  StatusOr<size_t> head = TEST_WriteHead(db);
  EXPECT_OK(head);
  return head.ok() ? head.value() : 9;
}

uint64_t HeadMoves(const std::unique_ptr<DB>& db) {
  return db->GetStats().head_moves;
}

// Overwrites 256 keys of its own, synced, until `stop`.
void Write(DB* db, char tag, const std::atomic<bool>& stop, uint64_t* puts) {
  std::string key = "k";
  key += tag;
  for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    std::string k = key + std::to_string(i % 256);
    ASSERT_OK(db->Put(k, "value-" + std::to_string(i)));
    ++*puts;
  }
}

TEST(WriteHeadsTest, YoungerOfTwoWritersOnOneHeadMovesOn) {
  std::unique_ptr<DB> db = OpenTwoHeads();
  ASSERT_NE(db, nullptr);
  std::atomic<bool> older_ready{false}, go{false}, stop{false};
  size_t head_after[2] = {9, 9};
  uint64_t puts[2] = {0, 0};
  // The older thread takes its id (its first append, or here the hook)
  // before the younger one starts.
  std::thread older([&] {
    ASSERT_OK(TEST_SetWriteHead(db.get(), 0));
    older_ready = true;
    while (!go.load()) std::this_thread::yield();
    Write(db.get(), 'a', stop, &puts[0]);
    head_after[0] = HeadOf(db.get());
  });
  while (!older_ready.load()) std::this_thread::yield();
  std::thread younger([&] {
    ASSERT_OK(TEST_SetWriteHead(db.get(), 0));
    go = true;
    Write(db.get(), 'b', stop, &puts[1]);
    head_after[1] = HeadOf(db.get());
  });
  // Until they have met on head 0 (one contended lock), for at most 30 s.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (HeadMoves(db) == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const uint64_t moves = HeadMoves(db);
  // Apart now: more writing makes them meet no more.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  older.join();
  younger.join();
  ASSERT_EQ(moves, 1u) << "the writers never met on head 0 in 30 s (" << puts[0]
                       << " and " << puts[1] << " puts)";
  EXPECT_EQ(head_after[0], 0u) << "the older writer moved";
  EXPECT_EQ(head_after[1], 1u) << "the younger writer stayed";
  EXPECT_EQ(HeadMoves(db), 1u) << "the writers met again after the move";
  for (char tag : {'a', 'b'}) {
    std::string key = std::string("k") + tag + "0";
    EXPECT_OK(db->Get(key)) << key;
  }
}

TEST(WriteHeadsTest, AWriterMeetingOnlySyncsStays) {
  std::unique_ptr<DB> db = OpenTwoHeads();
  ASSERT_NE(db, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> syncs{0};
  uint64_t puts = 0;
  size_t head_after = 9;
  std::thread writer([&] {
    ASSERT_OK(TEST_SetWriteHead(db.get(), 1));
    std::string key = "w";
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      ASSERT_OK(db->Put(key + std::to_string(i % 256), "v",
                        /*expire_at_ms=*/0, WriteOptions{.sync = false}));
      ++puts;
    }
    head_after = HeadOf(db.get());
  });
  // Each Sync() takes every head's mutex, the writer's among them.
  const auto end = Clock::now() + std::chrono::milliseconds(300);
  while (Clock::now() < end) {
    ASSERT_OK(db->Sync());
    ++syncs;
  }
  stop = true;
  writer.join();
  EXPECT_GT(puts, 0u);
  EXPECT_GT(syncs.load(), 0u);
  EXPECT_EQ(HeadMoves(db), 0u);
  EXPECT_EQ(head_after, 1u);
}

// A thread's writes stay durable in the order it made them across a move:
// its unsynced put on the head it leaves is durable before its synced put
// on the next head is.
TEST(WriteHeadsTest, AMoveKeepsTheThreadsWritesDurableInOrder) {
  constexpr size_t kSmallSeg = 64 << 10;
  testing::SimRegion region(8192 + 16 * kSmallSeg);
  Options o = ManualOptions(kSmallSeg);
  o.write_heads = 2;
  std::vector<char> image;
  {
    auto db = DB::Open(std::make_unique<BorrowedRegion>(region), o);
    ASSERT_OK(db);
    ASSERT_OK(TEST_SetWriteHead(db->get(), 0));
    ASSERT_OK((*db)->Put("first", "unsynced", 0, WriteOptions{.sync = false}));
    ASSERT_OK(TEST_RequestHeadMove(db->get()));
    ASSERT_OK((*db)->Put("second", "synced"));
    EXPECT_EQ(HeadOf(db->get()), 1u);
    EXPECT_EQ(HeadMoves(*db), 1u);
    // A power failure now, keeping only what was made durable.
    image = region.DurableImage();
  }
  testing::SimRegion crashed(image);
  auto db = DB::Open(std::make_unique<BorrowedRegion>(crashed), o);
  ASSERT_OK(db);
  auto second = (*db)->Get("second");
  ASSERT_OK(second);
  EXPECT_EQ(second->value, "synced");
  auto first = (*db)->Get("first");
  ASSERT_OK(first) << "the synced write on the new head is durable, the "
                      "unsynced one before it on the old head is not";
  EXPECT_EQ(first->value, "unsynced");
}

}  // namespace
}  // namespace daxkv::engine
