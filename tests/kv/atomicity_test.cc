// Atomicity of the commands that read, then write (issue 11, finding 7):
// another client's write must never land between the two halves, and no
// reader on another I/O thread may see a multi-key write half done.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "kv/executor.h"
#include "tests/kv/kv_fixture.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

class AtomicityTest : public ForwardedKvFixture {
 protected:
  // "Another client" writes `value` (no expiry) right after the command's
  // first engine call.
  void InterleaveSet(const std::string& key, const std::string& value) {
    fwd_->AfterFirstKeyedCall(
        [key, value](engine::DB* db) { ASSERT_OK(db->Put(key, value)); });
  }
};

// GETEX k EX 100 racing SET k v2: serially either GETEX first (reply v1,
// v2 keeps no TTL) or SET first (reply v2, v2 gets the TTL). The old
// read-then-SetExpiry replied v1 and put the TTL on v2.
TEST_F(AtomicityTest, GetExExpiryAppliesToTheValueItReturns) {
  EXPECT_EQ(Run("SET k v1"), kOk);
  InterleaveSet("k", "v2");
  std::string reply = Run("GETEX k EX 100");
  std::string ttl = Run("TTL k");
  EXPECT_EQ(Run("GET k"), Bulk("v2"));
  if (reply == Bulk("v1")) {
    EXPECT_EQ(ttl, Int(-1)) << "GETEX replied v1 but set the TTL of v2";
  } else {
    EXPECT_EQ(reply, Bulk("v2"));
    EXPECT_EQ(ttl, Int(100));
  }
}

TEST_F(AtomicityTest, GetExPersistRemovesOnlyTheTtlItSaw) {
  EXPECT_EQ(Run("SET k v1 EX 100"), kOk);
  fwd_->AfterFirstKeyedCall(
      [](engine::DB* db) { ASSERT_OK(db->Put("k", "v2", 1'700'000'500'000)); });
  std::string reply = Run("GETEX k PERSIST");
  std::string ttl = Run("TTL k");
  if (reply == Bulk("v1")) {
    EXPECT_EQ(ttl, Int(500)) << "GETEX replied v1 but cleared v2's TTL";
  } else {
    EXPECT_EQ(reply, Bulk("v2"));
    EXPECT_EQ(ttl, Int(-1));
  }
}

// PERSIST racing SET k v2 (no TTL): serially PERSIST first replies 1, SET
// first replies 0; either way v2 has no TTL.
TEST_F(AtomicityTest, PersistReplyMatchesTheStateItChanged) {
  EXPECT_EQ(Run("SET k v1 EX 100"), kOk);
  InterleaveSet("k", "v2");
  std::string reply = Run("PERSIST k");
  EXPECT_TRUE(reply == Int(1) || reply == Int(0)) << reply;
  EXPECT_EQ(Run("TTL k"), Int(-1));
  EXPECT_EQ(Run("GET k"), Bulk("v2"));
}

// RENAME a b / RENAME b a on one "I/O thread" while another reads EXISTS a
// b: Redis always answers 1. Each side holds the server's round lock as an
// I/O thread does, so RENAME's exclusive section is the real one.
TEST_F(AtomicityTest, RenameIsNeverSeenHalfDone) {
  EXPECT_EQ(Run("SET a v"), kOk);
  std::atomic<bool> stop{false};
  std::atomic<int> renames{0};
  std::thread writer([&] {
    Client w;
    w.id = 1001;
    w.authenticated = true;
    std::shared_lock<std::shared_timed_mutex> round(state_->exec_lock(),
                                              std::defer_lock);
    w.round_lock = &round;
    std::string out;
    ReplyWriter writer(&out);
    for (int i = 0; !stop.load(); ++i) {
      std::vector<std::string_view> argv = {"RENAME", i % 2 ? "b" : "a",
                                            i % 2 ? "a" : "b"};
      round.lock();
      out.clear();
      ExecuteCommand(*state_, w, argv, writer);
      round.unlock();
      ASSERT_EQ(out, kOk);
      renames.fetch_add(1);
    }
  });
  Client r;
  r.id = 1002;
  r.authenticated = true;
  std::string out;
  ReplyWriter reader(&out);
  std::vector<std::string_view> exists = {"EXISTS", "a", "b"};
  int torn = 0;
  for (int i = 0; i < 200000 && torn == 0; ++i) {
    std::shared_lock<std::shared_timed_mutex> round(state_->exec_lock());
    out.clear();
    ExecuteCommand(*state_, r, exists, reader);
    if (out != Int(1)) ++torn;
  }
  stop.store(true);
  writer.join();
  EXPECT_EQ(torn, 0) << "EXISTS a b saw RENAME half done";
  EXPECT_GT(renames.load(), 0);
}

}  // namespace
}  // namespace daxkv::kv
