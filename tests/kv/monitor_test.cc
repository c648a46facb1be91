// MonitorLine and MonitorFeed (kv/monitor.h). What the server feeds, and
// when, is tested against redis-server in
// tests/kv/integration/test_monitor.py.
#include "kv/monitor.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace daxkv::kv {
namespace {

TEST(MonitorLineTest, QuotesAndEscapesAsRedisSdscatrepr) {
  const std::string bin = "x\x01y\n\r\t\a\b\xc3\xa9 \"\\";
  const std::vector<std::string_view> args = {"SET", "k", bin};
  EXPECT_EQ(MonitorLine(1700000000000042, "127.0.0.1:5000", args),
            "+1700000000.000042 [0 127.0.0.1:5000] \"SET\" \"k\" "
            "\"x\\x01y\\n\\r\\t\\a\\b\\xc3\\xa9 \\\"\\\\\"\r\n");
  EXPECT_EQ(MonitorLine(5, "lua", std::vector<std::string_view>{""}),
            "+0.000005 [0 lua] \"\"\r\n");
}

TEST(MonitorFeedTest, FeedsEachMonitorsMailboxUntilRemoved) {
  MonitorFeed feed;
  Client a, b, from;
  from.addr = "10.0.0.1:7";
  EXPECT_FALSE(feed.active());
  EXPECT_TRUE(feed.Add(&a));
  EXPECT_FALSE(feed.Add(&a));
  EXPECT_TRUE(feed.Add(&b));
  const std::vector<std::string_view> ping = {"PING"};
  feed.Feed(from, ping);
  feed.Remove(&b);
  from.script_client = true;
  feed.Feed(from, ping);
  std::string got_a, got_b;
  EXPECT_FALSE(a.pubsub.mailbox.TakeInto(&got_a));
  EXPECT_FALSE(b.pubsub.mailbox.TakeInto(&got_b));
  EXPECT_NE(got_a.find("[0 10.0.0.1:7] \"PING\"\r\n+"), std::string::npos);
  EXPECT_NE(got_a.find("[0 lua] \"PING\"\r\n"), std::string::npos);
  EXPECT_EQ(got_b.find("lua"), std::string::npos);
  EXPECT_NE(got_b.find("10.0.0.1:7"), std::string::npos);
  feed.Remove(&a);
  EXPECT_FALSE(feed.active());
}

}  // namespace
}  // namespace daxkv::kv
