// Group commit against the engine's other moving parts, each case a
// deterministic regression of issue 11: a crash may lose an unsynced write,
// but never what an earlier acknowledged write (or durable delete) left.
// Every case crashes by keeping only what is durable (DurableImage(): a
// power failure that drops every line in flight), the harshest image.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/sim_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSeg = 64 << 10;
constexpr WriteOptions kUnsynced{.sync = false};

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    region_ = std::make_unique<testing::SimRegion>(8192 + 24 * kSeg);
    auto db = DB::Open(std::make_unique<BorrowedRegion>(*region_), Opts());
    ASSERT_OK(db);
    db_ = std::move(db).value();
  }

  static Options Opts() { return ManualOptions(kSeg); }

  // The pool as a power failure now leaves it, opened.
  std::unique_ptr<DB> Crash() {
    crashed_ = std::make_unique<testing::SimRegion>(region_->DurableImage());
    auto db = DB::Open(std::make_unique<BorrowedRegion>(*crashed_), Opts());
    EXPECT_OK(db);
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // Synced puts of ~1 KiB values under `prefix` until the head has moved
  // past at least one whole segment of them.
  void Fill(const std::string& prefix, int n = 70) {
    for (int i = 0; i < n; ++i) {
      ASSERT_OK(db_->Put(prefix + std::to_string(i), std::string(1000, 'f')));
    }
  }

  static std::string Value(const std::unique_ptr<DB>& db,
                           const std::string& key) {
    if (db == nullptr) return "<open failed>";
    auto r = db->Get(key);
    return r.ok() ? r->value : "<absent>";
  }

  // Compacts one segment (it must free one), crashes, and reads `key` back.
  std::string CompactOneThenCrashAndRead(const std::string& key) {
    auto freed = TEST_Compact(db_, 1);
    EXPECT_OK(freed);
    if (freed.ok()) {
      EXPECT_EQ(*freed, 1u);
    }
    return Value(Crash(), key);
  }

  std::unique_ptr<testing::SimRegion> region_;
  std::unique_ptr<testing::SimRegion> crashed_;
  std::unique_ptr<DB> db_;
};

// Finding 1: compaction dropped the acknowledged put a newer, unsynced put
// superseded, and freed its segment durably: a crash before the group's
// Sync() lost both.
TEST_F(GroupCommitTest,
       CompactionNeverFreesAnAckedPutWhoseSuccessorIsUnsynced) {
  ASSERT_OK(db_->Put("k", "v1"));  // acknowledged
  Fill("a");
  Fill("a");  // the first segment is now all dead bytes but v1's
  ASSERT_OK(db_->Put("k", "v2", 0, kUnsynced));
  std::string got = CompactOneThenCrashAndRead("k");
  EXPECT_TRUE(got == "v1" || got == "v2") << "k reads " << got;
}

// Finding 1, tombstones: compaction dropped a durable tombstone because the
// key had a newer (unsynced) put; the crash lost that put and the older
// value came back after a delete that had returned.
TEST_F(GroupCommitTest, CompactionNeverUndoesADurableDeleteForAnUnsyncedPut) {
  ASSERT_OK(db_->Put("k", "old"));
  Fill("live");                 // keeps old's segment mostly live: not a victim
  ASSERT_OK(db_->Delete("k"));  // durable delete
  Fill("b");
  Fill("b");  // the tombstone's segment is now all dead bytes
  ASSERT_OK(db_->Put("k", "new", 0, kUnsynced));
  std::string got = CompactOneThenCrashAndRead("k");
  EXPECT_TRUE(got == "<absent>" || got == "new") << "k reads " << got;
}

// Finding 1, spans: a deleted span is a victim at once. Freeing it before
// the unsynced delete was durable brought back the value before the span.
TEST_F(GroupCommitTest,
       CompactionNeverFreesADeletedSpanBeforeTheDeleteIsDurable) {
  ASSERT_OK(db_->Put("k", "small"));
  Fill("live");
  const std::string big(3 * kSeg, 'B');
  ASSERT_OK(db_->Put("k", big));  // a span, acknowledged
  ASSERT_OK(db_->Delete("k", nullptr, kUnsynced));
  std::string got = CompactOneThenCrashAndRead("k");
  EXPECT_TRUE(got == big || got == "<absent>")
      << "k reads " << got.substr(0, 8);
}

// Finding 2: a synced Delete that finds the key absent only because of
// another thread's unsynced delete must not return before that absence is
// durable.
TEST_F(GroupCommitTest,
       SyncedDeleteOfAKeyAnotherThreadDeletedUnsyncedIsDurable) {
  ASSERT_OK(db_->Put("k", "v"));
  // Threads map to log heads by creation order: two fresh threads use two
  // different heads whenever the pool has more than one.
  std::thread([&] { ASSERT_OK(db_->Delete("k", nullptr, kUnsynced)); }).join();
  bool existed = true;
  std::thread([&] {
    ASSERT_OK(db_->Delete("k", &existed));  // synced
  }).join();
  EXPECT_FALSE(existed);
  auto after = Crash();
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(Value(after, "k"), "<absent>");
}

// Finding 2, batches: a synced batch whose delete found the key absent only
// because of an unsynced delete was acknowledged with its puts durable and
// its delete undone.
TEST_F(GroupCommitTest, SyncedBatchDeleteOfAKeyDeletedUnsyncedIsAllOrNothing) {
  ASSERT_OK(db_->Put("k", "v"));
  std::thread([&] { ASSERT_OK(db_->Delete("k", nullptr, kUnsynced)); }).join();
  std::thread([&] {
    WriteBatch b;
    b.Delete("k");
    b.Put("j", "batched");
    ASSERT_OK(db_->Write(b));  // synced
  }).join();
  auto after = Crash();
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(Value(after, "j"), "batched");
  EXPECT_EQ(Value(after, "k"), "<absent>") << "half of a durable batch";
}

}  // namespace
}  // namespace daxkv::engine
