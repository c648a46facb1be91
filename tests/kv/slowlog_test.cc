// SlowLog (kv/slowlog.h): the threshold, the cut of long commands, the
// length bound and ids. The server-level behaviour (what is logged, the
// redactions, SLOWLOG's replies) is tested against redis-server in
// tests/kv/integration/test_slowlog.py.
#include "kv/slowlog.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace daxkv::kv {
namespace {

void AddArgs(SlowLog& log, std::vector<std::string_view> args,
             uint64_t micros = 5) {
  log.Add(args, micros, 1700000000, "127.0.0.1:1", "n");
}

TEST(SlowLogTest, ThresholdInMicroseconds) {
  SlowLog log;
  EXPECT_FALSE(log.Qualifies(9999));  // Redis's default: 10 ms
  EXPECT_TRUE(log.Qualifies(10000));
  log.set_slower_than_us(0);
  EXPECT_TRUE(log.Qualifies(0));
  log.set_slower_than_us(-1);
  EXPECT_FALSE(log.Qualifies(~uint64_t{0}));
}

TEST(SlowLogTest, NewestFirstWithIdsThatOutliveAReset) {
  SlowLog log;
  AddArgs(log, {"SET", "a", "1"});
  AddArgs(log, {"GET", "a"}, 7);
  std::vector<SlowLog::Entry> e = log.Newest(10);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].id, 1);
  EXPECT_EQ(e[0].args, (std::vector<std::string>{"GET", "a"}));
  EXPECT_EQ(e[0].micros, 7u);
  EXPECT_EQ(e[0].peer, "127.0.0.1:1");
  EXPECT_EQ(e[0].name, "n");
  EXPECT_EQ(e[1].id, 0);
  EXPECT_EQ(log.Newest(1).size(), 1u);
  log.Reset();
  EXPECT_EQ(log.size(), 0u);
  AddArgs(log, {"PING"});
  EXPECT_EQ(log.Newest(10)[0].id, 2);
}

TEST(SlowLogTest, LongCommandsAreCutAsRedisCutsThem) {
  SlowLog log;
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back(std::to_string(i));
  std::vector<std::string_view> args(many.begin(), many.end());
  const std::string long_arg(200, 'x');
  args[1] = long_arg;
  AddArgs(log, args);
  const std::vector<std::string> got = log.Newest(1)[0].args;
  ASSERT_EQ(got.size(), SlowLog::kMaxArgs);
  EXPECT_EQ(got[1], std::string(128, 'x') + "... (72 more bytes)");
  EXPECT_EQ(got[30], "30");
  EXPECT_EQ(got[31], "... (9 more arguments)");  // 40 - 32 + 1
  // Exactly kMaxArgs arguments are kept whole.
  args.resize(SlowLog::kMaxArgs);
  AddArgs(log, args);
  EXPECT_EQ(log.Newest(1)[0].args.back(), "31");
}

TEST(SlowLogTest, MaxLenCutsWhenAnEntryIsAdded) {
  SlowLog log;
  for (int i = 0; i < 5; ++i) AddArgs(log, {"PING"});
  log.set_max_len(2);
  EXPECT_EQ(log.size(), 5u);  // as Redis: cut at the next entry
  AddArgs(log, {"ECHO", "x"});
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log.Newest(10)[1].id, 4);
  log.set_max_len(0);
  AddArgs(log, {"PING"});
  EXPECT_EQ(log.size(), 0u);
}

}  // namespace
}  // namespace daxkv::kv
