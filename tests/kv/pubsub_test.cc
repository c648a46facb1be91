// Pub/sub below the sockets: the mailbox (limit, overflow, notify), the
// registry, the exact RESP2/RESP3 frames, and mail moved ahead of the next
// reply. Cross-thread delivery runs in the integration suite
// (test_pubsub.py) against redis-server and daxkv-server.
#include "kv/pubsub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "kv/server_config.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

TEST(MailboxTest, PostNotifiesOnceUntilTaken) {
  Mailbox box;
  int notified = 0;
  box.set_notify([&] { ++notified; });
  EXPECT_FALSE(box.has_mail());
  EXPECT_TRUE(box.Post("a", 0, 0));
  EXPECT_TRUE(box.Post("b", 0, 0));
  EXPECT_EQ(notified, 1);
  EXPECT_TRUE(box.has_mail());
  std::string out = "x";
  EXPECT_FALSE(box.TakeInto(&out));
  EXPECT_EQ(out, "xab");
  EXPECT_FALSE(box.has_mail());
  EXPECT_TRUE(box.Post("c", 0, 0));
  EXPECT_EQ(notified, 2);
}

TEST(MailboxTest, OverLimitDropsAndReportsOverflow) {
  Mailbox box;
  // 10 unsent bytes in the connection, limit 16: 5 more fit, 7 do not.
  EXPECT_TRUE(box.Post("12345", 10, 16));
  EXPECT_FALSE(box.Post("1234567", 10, 16));
  // Once overflowed, everything is dropped until the owner takes it.
  EXPECT_FALSE(box.Post("1", 0, 16));
  std::string out;
  EXPECT_TRUE(box.TakeInto(&out));
  EXPECT_EQ(out, "");  // the held mail was released too
  EXPECT_TRUE(box.Post("1", 0, 16));
}

TEST(PubSubFrameTest, Resp2ArrayAndResp3Push) {
  const std::string_view parts[] = {"message", "ch", "hi"};
  EXPECT_EQ(PubSubFrame(2, parts),
            "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  EXPECT_EQ(PubSubFrame(3, parts),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
}

TEST(OutputLimitTest, ParsesOneOrThreeFields) {
  uint64_t hard = 1, soft = 1;
  int secs = 1;
  EXPECT_TRUE(ParseOutputLimit("32M 8M 60", &hard, &soft, &secs));
  EXPECT_EQ(hard, 32u << 20);
  EXPECT_EQ(soft, 8u << 20);
  EXPECT_EQ(secs, 60);
  EXPECT_TRUE(ParseOutputLimit("1k", &hard, &soft, &secs));
  EXPECT_EQ(hard, 1024u);
  EXPECT_EQ(soft, 0u);
  EXPECT_EQ(secs, 0);
  EXPECT_FALSE(ParseOutputLimit("1k 2k", &hard, &soft, &secs));
  EXPECT_FALSE(ParseOutputLimit("x 1 1", &hard, &soft, &secs));
  EXPECT_FALSE(ParseOutputLimit("1 1 -1", &hard, &soft, &secs));
}

class PubSubCommandsTest : public KvFixture {
 protected:
  void SetUp() override {
    KvFixture::SetUp();
    other_.id = state_->NextClientId();
    other_.authenticated = true;
    state_->Register(&other_, nullptr);
  }
  void TearDown() override {
    if (state_) state_->Unregister(&other_);
    KvFixture::TearDown();
  }
  Client other_;
};

TEST_F(PubSubCommandsTest, MailPrecedesTheNextReply) {
  EXPECT_EQ(Run("SUBSCRIBE ch"), "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "ch", "m1"}), Int(1));
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "nobody", "m"}), Int(0));
  EXPECT_TRUE(client_.pubsub.mailbox.has_mail());
  EXPECT_EQ(Run("PING"),
            "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm1\r\n"
            "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(Run("GET k"),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
            "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
            "context\r\n");
  EXPECT_EQ(Run("UNSUBSCRIBE"),
            "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n");
  EXPECT_EQ(Run("GET k"), kNil);
}

TEST_F(PubSubCommandsTest, PatternsAndShardChannels) {
  Run("PSUBSCRIBE c*");
  Run("SSUBSCRIBE ch");
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "ch", "a"}), Int(1));
  EXPECT_EQ(RunAs(other_, {"SPUBLISH", "ch", "b"}), Int(1));
  EXPECT_EQ(Run("PING x"),
            "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\na\r\n"
            "*3\r\n$8\r\nsmessage\r\n$2\r\nch\r\n$1\r\nb\r\n"
            "*2\r\n$4\r\npong\r\n$1\r\nx\r\n");
  EXPECT_EQ(RunAs(other_, {"PUBSUB", "NUMPAT"}), Int(1));
  EXPECT_EQ(RunAs(other_, {"PUBSUB", "SHARDNUMSUB", "ch"}),
            "*2\r\n$2\r\nch\r\n:1\r\n");
  EXPECT_EQ(Run("RESET"), "+RESET\r\n");
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "ch", "a"}), Int(0));
  EXPECT_FALSE(client_.pubsub.subscribed());
}

TEST_F(PubSubCommandsTest, Resp3SubscriberGetsPushesAndRunsAnything) {
  Run("HELLO 3");
  EXPECT_EQ(Run("SUBSCRIBE ch"), ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
  // Its own message comes before PUBLISH's reply.
  EXPECT_EQ(Run("PUBLISH ch hi"),
            ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n:1\r\n");
  EXPECT_EQ(Run("GET k"), "_\r\n");
}

TEST_F(PubSubCommandsTest, UnregisterUnsubscribes) {
  Run("SUBSCRIBE a b");
  Run("PSUBSCRIBE *");
  EXPECT_EQ(state_->pubsub().Size(SubKind::kChannel), 2u);
  state_->Unregister(&client_);
  EXPECT_EQ(state_->pubsub().Size(SubKind::kChannel), 0u);
  EXPECT_EQ(state_->pubsub().Size(SubKind::kPattern), 0u);
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "a", "m"}), Int(0));
  state_->Register(&client_, nullptr);
}

TEST_F(PubSubCommandsTest, OverflowClosesTheSubscriber) {
  state_->settings().pubsub_output_limit = 64;
  Run("SUBSCRIBE ch");
  EXPECT_EQ(RunAs(other_, {"PUBLISH", "ch", std::string(100, 'x')}), Int(1));
  EXPECT_FALSE(client_.close_asap);
  Run("PING");
  EXPECT_TRUE(client_.close_asap);
  EXPECT_EQ(state_->stats().client_output_limit_disconnects.load(), 1u);
}

// Counts the "message" frames in the client's mailbox, emptying it.
int TakeMessages(Client& c) {
  std::string mail;
  (void)c.pubsub.mailbox.TakeInto(&mail);
  int n = 0;
  for (size_t at = mail.find("message"); at != std::string::npos;
       at = mail.find("message", at + 1)) {
    ++n;
  }
  return n;
}

// A script publishes, then writes a key it did not declare. While another
// Txn holds that key's stripe, a stripe that sorts before the declared
// key's makes the script's Txn restart (one after it makes it wait): the
// script runs again, and its message must still go out once.
TEST_F(PubSubCommandsTest, RestartedScriptPublishesOnce) {
  EXPECT_EQ(RunAs(other_, {"SUBSCRIBE", "ch"}).substr(0, 2), "*3");
  const std::string script =
      "redis.call('PUBLISH', 'ch', 'm') redis.call('SET', ARGV[1], 1)";
  for (int i = 0; i < 16; ++i) {
    const std::string undeclared = "u" + std::to_string(i);
    std::thread holder = HoldStripe(undeclared, 20);
    EXPECT_EQ(RunArgs({"EVAL", script, "1", "declared", undeclared}), kNil);
    holder.join();
    EXPECT_EQ(TakeMessages(other_), 1) << undeclared;
  }
}

// The same inside EXEC: a message per PUBLISH of a committed block, none
// for a block that applied nothing.
TEST_F(PubSubCommandsTest, ExecPublishesOncePerCommittedBlock) {
  EXPECT_EQ(RunAs(other_, {"SUBSCRIBE", "ch"}).substr(0, 2), "*3");
  EXPECT_EQ(Run("MULTI"), "+OK\r\n");
  EXPECT_EQ(Run("PUBLISH ch a"), "+QUEUED\r\n");
  EXPECT_EQ(Run("PUBLISH ch b"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*2\r\n:1\r\n:1\r\n");
  EXPECT_EQ(TakeMessages(other_), 2);
  EXPECT_EQ(Run("WATCH w"), "+OK\r\n");
  EXPECT_EQ(RunAs(other_, {"PING"}).substr(0, 1), "*");  // still subscribed
  Client writer;
  writer.id = state_->NextClientId();
  writer.authenticated = true;
  EXPECT_EQ(RunAs(writer, {"SET", "w", "1"}), "+OK\r\n");
  EXPECT_EQ(Run("MULTI"), "+OK\r\n");
  EXPECT_EQ(Run("PUBLISH ch c"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*-1\r\n");
  EXPECT_EQ(TakeMessages(other_), 0);
}

}  // namespace
}  // namespace daxkv::kv
