// Blocking pops without sockets: the BlockRegistry's claim protocol (FIFO
// place kept across a claimer that does not commit, cancellation of a
// claimed waiter, CLIENT UNBLOCK), and the executor path: a blocking
// command registers on empty keys and is served inside the pusher's Txn.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/txn.h"
#include "kv/block_registry.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using engine::KeyType;

std::shared_ptr<Waiter> MakeWaiter(uint64_t id, std::vector<std::string> keys,
                                   KeyType type = KeyType::kList) {
  BlockOp op;
  op.type = type;
  if (type == KeyType::kZset) op.cmd = BlockOp::Cmd::kZPop;
  return std::make_shared<Waiter>(id, std::move(keys), op, 2, 0, nullptr);
}

std::string Taken(Waiter& w) {
  std::string reply;
  bool close = false;
  bool served = false;
  return w.TakeReply(&reply, &close, &served) ? reply : "(nothing)";
}

// Whether the reply delivered to `w` ended its wait served (the slow log
// records only those).
bool WasServed(Waiter& w) {
  std::string reply;
  bool close = false;
  bool served = false;
  return w.TakeReply(&reply, &close, &served) && served;
}

TEST(BlockRegistryTest, ClaimsInBlockingOrderAndKeepsPlaceOnUnclaim) {
  BlockRegistry r;
  auto a = MakeWaiter(1, {"k"});
  auto b = MakeWaiter(2, {"k", "other"});
  auto z = MakeWaiter(3, {"k"}, KeyType::kZset);
  r.Block(a);
  r.Block(z);
  r.Block(b);
  EXPECT_EQ(r.blocked_count(), 3u);
  EXPECT_EQ(r.Claim("k", KeyType::kList), a);
  EXPECT_EQ(r.Claim("k", KeyType::kList), b);  // a is claimed: skipped
  EXPECT_EQ(r.Claim("k", KeyType::kList), nullptr);
  r.Unclaim(a);  // its Txn did not commit: first again
  r.Unclaim(b);
  EXPECT_EQ(r.Claim("k", KeyType::kList), a);
  r.Served(a);
  EXPECT_EQ(r.blocked_count(), 2u);
  EXPECT_EQ(r.Claim("k", KeyType::kZset), z);
  r.Served(z);
  EXPECT_TRUE(r.HasWaiters("other"));
  EXPECT_EQ(r.Claim("other", KeyType::kList), b);
  r.Served(b);
  EXPECT_FALSE(r.HasWaiters("k"));
  EXPECT_FALSE(r.HasWaiters("other"));
  EXPECT_EQ(r.blocked_count(), 0u);
}

TEST(BlockRegistryTest, CancelOfAClaimedWaiterWaitsForTheClaimer) {
  BlockRegistry r;
  auto a = MakeWaiter(1, {"k"});
  r.Block(a);
  ASSERT_EQ(r.Claim("k", KeyType::kList), a);
  EXPECT_FALSE(r.Cancel(a));  // timed out while a pusher serves it
  EXPECT_EQ(Taken(*a), "(nothing)");
  r.Unclaim(a);  // the pusher did not commit: the timeout reply
  EXPECT_EQ(Taken(*a), "*-1\r\n");
  EXPECT_FALSE(WasServed(*a));
  EXPECT_EQ(r.blocked_count(), 0u);
  EXPECT_EQ(r.Claim("k", KeyType::kList), nullptr);

  auto b = MakeWaiter(2, {"k"});
  r.Block(b);
  EXPECT_TRUE(r.Cancel(b));  // waiting: gone at once
  EXPECT_FALSE(r.Cancel(b));
  EXPECT_EQ(r.blocked_count(), 0u);
}

TEST(BlockRegistryTest, UnblockByClientId) {
  BlockRegistry r;
  auto a = MakeWaiter(7, {"k"});
  r.Block(a);
  EXPECT_FALSE(r.Unblock(8, ""));
  EXPECT_TRUE(r.Unblock(7, "UNBLOCKED client unblocked via CLIENT UNBLOCK"));
  EXPECT_EQ(Taken(*a), "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
  EXPECT_FALSE(WasServed(*a));
  EXPECT_FALSE(r.Unblock(7, ""));
  EXPECT_EQ(r.blocked_count(), 0u);
}

class BlockingCommandTest : public KvFixture {};

TEST_F(BlockingCommandTest, BlockedThenServedInsideThePushersTxn) {
  Client waiter;
  waiter.id = state_->NextClientId();
  waiter.authenticated = true;
  EXPECT_EQ(RunAs(waiter, {"BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"}), "");
  ASSERT_NE(waiter.blocked, nullptr);
  EXPECT_EQ(state_->blocked().blocked_count(), 1u);
  // No round here (round_woken is null): delivered at commit.
  EXPECT_EQ(Run("RPUSH src a b"), Int(2));
  EXPECT_EQ(Taken(*waiter.blocked), Bulk("a"));
  EXPECT_EQ(state_->blocked().blocked_count(), 0u);
  EXPECT_EQ(Run("LRANGE src 0 -1"), "*1\r\n" + Bulk("b"));
  EXPECT_EQ(Run("LRANGE dst 0 -1"), "*1\r\n" + Bulk("a"));
  waiter.blocked.reset();
}

// The pusher's Txn declares only src and takes the destination's stripe on
// first use; while another Txn holds that stripe, a destination whose
// stripe sorts before src's makes the pusher's Txn restart (its claim is
// reset, then taken again), one that sorts after makes it wait. Either way
// the waiter is served once, with the element moved once.
TEST_F(BlockingCommandTest, ServedMoveSurvivesTheRestartOfThePushersTxn) {
  for (int i = 0; i < 8; ++i) {
    const std::string dst = "dst" + std::to_string(i);
    const std::string v = "v" + std::to_string(i);
    Client waiter;
    waiter.id = state_->NextClientId();
    waiter.authenticated = true;
    RunAs(waiter, {"BLMOVE", "src", dst, "RIGHT", "LEFT", "0"});
    ASSERT_NE(waiter.blocked, nullptr);
    std::thread holder = HoldStripe(dst, 20);
    EXPECT_EQ(RunArgs({"LPUSH", "src", v}), Int(1));
    holder.join();
    EXPECT_EQ(Taken(*waiter.blocked), Bulk(v));
    EXPECT_EQ(RunArgs({"LRANGE", dst, "0", "-1"}), "*1\r\n" + Bulk(v));
    EXPECT_EQ(Run("EXISTS src"), Int(0));
    waiter.blocked.reset();
  }
  EXPECT_EQ(state_->blocked().blocked_count(), 0u);
}

TEST_F(BlockingCommandTest, DataAtOnceDoesNotBlock) {
  EXPECT_EQ(Run("ZADD z 2 b 1 a"), Int(2));
  EXPECT_EQ(Run("BZPOPMIN nokey z 0"),
            "*3\r\n" + Bulk("z") + Bulk("a") + Bulk("1"));
  EXPECT_EQ(client_.blocked, nullptr);
  EXPECT_EQ(state_->blocked().blocked_count(), 0u);
}

}  // namespace
}  // namespace daxkv::kv
