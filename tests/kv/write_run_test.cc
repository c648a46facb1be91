// A pipeline of collection writes read in one round runs as one engine Txn
// per run (WriteRun): its replies, the data it leaves and every counter its
// commands move must be those of the same commands run one by one, errors
// included; a run gives way to the commands one by one when a client waits
// on one of its keys, or when its Txn fails as a whole.
#include "kv/write_run.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kv/command.h"
#include "tests/kv/kv_fixture.h"
#include "tests/kv/pipelined_connection.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

struct Counts {
  uint64_t processed, errors, lpush_calls, lpush_failed, hincrby_failed;
  bool operator==(const Counts&) const = default;
};

class WriteRunTest : public ForwardedKvFixture {
 protected:
  Counts Snapshot() {
    const CommandTable& t = CommandTable::Default();
    auto totals = [&](const char* name) {
      const size_t i = static_cast<size_t>(t.Find(name) - t.all().data());
      return state_->command_stats().Get(i);
    };
    return {state_->stats().commands_processed.load(),
            state_->command_stats().total_error_replies(),
            totals("lpush").calls, totals("lpush").failed,
            totals("hincrby").failed};
  }
  static Counts Delta(const Counts& a, const Counts& b) {
    return {b.processed - a.processed, b.errors - a.errors,
            b.lpush_calls - a.lpush_calls, b.lpush_failed - a.lpush_failed,
            b.hincrby_failed - a.hincrby_failed};
  }

  // Every run starts from this: a string (WRONGTYPE for the collection
  // commands), and one collection of each type.
  void Load() {
    ASSERT_EQ(Run("FLUSHALL"), kOk);
    ASSERT_EQ(Run("SET str v"), kOk);
    ASSERT_EQ(Run("RPUSH l0 a b c"), Int(3));
    ASSERT_EQ(Run("HSET h0 f0 1 f1 text"), Int(2));
    ASSERT_EQ(Run("SADD s0 a b"), Int(2));
    ASSERT_EQ(Run("ZADD z0 1 a 2 b"), Int(2));
  }

  // What the keys the workloads write hold, in an order that does not
  // depend on the run.
  std::string State() {
    std::string out;
    for (const char* l : {"l0", "l1"}) out += RunArgs({"LRANGE", l, "0", "-1"});
    for (const char* h : {"h0", "h1"}) {
      out += RunArgs({"HMGET", h, "f0", "f1", "f2", "f3"});
    }
    for (const char* s : {"s0", "s1"}) out += RunArgs({"SORT", s, "ALPHA"});
    for (const char* z : {"z0", "z1"}) {
      out += RunArgs({"ZRANGE", z, "0", "-1", "WITHSCORES"});
    }
    return out + Run("GET str") + Run("DBSIZE");
  }

  // Runs `cmds` one by one, then as one pipelined read, each from Load()'s
  // data; expects the same replies, data and counts. Returns how many Txns
  // the pipelined read ran against the one-by-one count.
  std::pair<int, int> ExpectSameAsOneByOne(const std::vector<Cmd>& cmds) {
    Load();
    const Counts before = Snapshot();
    const int txns_before = fwd_->run_txns();
    std::string want, bytes;
    for (const Cmd& c : cmds) {
      want += RunArgs(c);
      bytes += Encode(c);
    }
    const int one_by_one_txns = fwd_->run_txns() - txns_before;
    const Counts one_by_one = Delta(before, Snapshot());
    const std::string want_state = State();
    Load();
    const Counts again = Snapshot();
    const int txns_again = fwd_->run_txns();
    EXPECT_EQ(RunPipelined(*state_, bytes), want);
    const int pipelined_txns = fwd_->run_txns() - txns_again;
    EXPECT_EQ(Delta(again, Snapshot()), one_by_one);
    EXPECT_EQ(State(), want_state);
    return {pipelined_txns, one_by_one_txns};
  }
};

// 300 commands of every kind a run takes, on every type, with their
// errors (WRONGTYPE, a non-integer field, a bad score, LSET out of range),
// mixed with commands that end a run (GET, SET, DEL, LRANGE).
std::vector<Cmd> MixedWrites() {
  std::vector<Cmd> cmds;
  uint32_t x = 4242;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245u + 12345u;
    const std::string n = std::to_string((x >> 4) % 2);
    const std::string v = "v" + std::to_string(i);
    const std::string f = "f" + std::to_string((x >> 6) % 4);
    const std::string l = "l" + n, h = "h" + n, s = "s" + n, z = "z" + n;
    switch ((x >> 16) % 24) {
      case 0:
        cmds.push_back({"LPUSH", l, v});
        break;
      case 1:
        cmds.push_back({"rpush", l, v, v + "b"});
        break;
      case 2:
        cmds.push_back({"LPOP", l});
        break;
      case 3:
        cmds.push_back({"RPOP", l, "2"});
        break;
      case 4:
        cmds.push_back({"LSET", l, (x >> 8) % 3 ? "0" : "9", v});
        break;
      case 5:
        cmds.push_back({"LTRIM", l, "0", "4"});
        break;
      case 6:
        cmds.push_back({"LPUSHX", l, v});
        break;
      case 7:
        cmds.push_back({"HSET", h, f, v});
        break;
      case 8:
        cmds.push_back({"HINCRBY", h, f, "3"});
        break;
      case 9:
        cmds.push_back({"HDEL", h, f});
        break;
      case 10:
        cmds.push_back({"HSETNX", h, f, v});
        break;
      case 11:
        cmds.push_back({"HINCRBYFLOAT", h, "f0", "0.5"});
        break;
      case 12:
        cmds.push_back({"SADD", s, f, v});
        break;
      case 13:
        cmds.push_back({"SREM", s, f});
        break;
      case 14:
        cmds.push_back({"ZADD", z, std::to_string(i % 7), f});
        break;
      case 15:
        cmds.push_back({"ZADD", z, "nan-ish", f});
        break;
      case 16:
        cmds.push_back({"ZINCRBY", z, "2", f});
        break;
      case 17:
        cmds.push_back({"ZPOPMIN", z});
        break;
      case 18:
        cmds.push_back({"ZREM", z, f});
        break;
      case 19:
        cmds.push_back({"LPUSH", "str", v});
        break;  // WRONGTYPE
      case 20:
        cmds.push_back({"HSET", h, f});
        break;  // arity
      case 21:
        cmds.push_back({"GET", "str"});
        break;
      case 22:
        cmds.push_back({"DEL", l});
        break;
      default:
        cmds.push_back({"LRANGE", l, "0", "-1"});
        break;
    }
  }
  return cmds;
}

TEST_F(WriteRunTest, MixedWritesReplyAsOneByOne) {
  const auto [pipelined, one_by_one] = ExpectSameAsOneByOne(MixedWrites());
  EXPECT_GT(one_by_one, 200);
  EXPECT_LT(pipelined, one_by_one * 3 / 4);  // runs did share Txns
}

TEST_F(WriteRunTest, LongRunsOfPushesKeepEveryElement) {
  // Pushes at both ends of one list and the front of another: each run's
  // commit finds its pending elements by their insert positions, which the
  // later pushes of the run moved.
  std::vector<Cmd> cmds;
  for (int i = 0; i < 200; ++i) {
    const std::string v = "e" + std::to_string(i);
    cmds.push_back({i % 3 == 0 ? "RPUSH" : "LPUSH", "l0", v});
    if (i % 2 == 0) cmds.push_back({"LPUSH", "l1", v, v + "x"});
    if (i % 17 == 0) cmds.push_back({"RPOP", "l0"});
  }
  const auto [pipelined, one_by_one] = ExpectSameAsOneByOne(cmds);
  EXPECT_EQ(one_by_one, static_cast<int>(cmds.size()));
  // Runs of at most kMaxCommands.
  EXPECT_LE(pipelined,
            static_cast<int>(cmds.size() / WriteRun::kMaxCommands + 1));
}

TEST_F(WriteRunTest, PopsOfLargeSortedSetsReplyAsOneByOne) {
  // Runs of ZPOPMIN and ZPOPMAX (each prefetching the members the later
  // pops of its run take) over two large sorted sets, with counts good and
  // bad, between writes that change which members come next.
  std::vector<Cmd> cmds;
  for (int i = 0; i < 600; ++i) {
    cmds.push_back({"ZADD", i % 2 ? "za" : "zb", std::to_string(i % 40),
                    "m" + std::to_string(i)});
  }
  const char* counts[] = {"", "1", "3", "0", "-1", "abc", "100", "2"};
  for (int i = 0; i < 300; ++i) {
    Cmd pop = {i % 5 == 4 ? "ZPOPMAX" : "ZPOPMIN", i % 7 == 6 ? "za" : "zb"};
    if (counts[i % 8][0] != 0) pop.push_back(counts[i % 8]);
    cmds.push_back(pop);
    if (i % 11 == 10)
      cmds.push_back({"ZADD", "zb", "-1", "n" + std::to_string(i)});
  }
  const auto [pipelined, one_by_one] = ExpectSameAsOneByOne(cmds);
  EXPECT_GT(one_by_one, 800);            // bad counts fail before their Txn
  EXPECT_LT(pipelined, one_by_one / 4);  // runs did share Txns
}

TEST_F(WriteRunTest, LargeRepliesEndARun) {
  Load();
  const std::string big(1024, 'b');
  for (int i = 0; i < 80; ++i) {
    ASSERT_EQ(RunArgs({"RPUSH", "l1", big}), Int(i + 1));
  }
  // 40 KiB a pop: the run takes no command once its replies reach
  // kMaxReplyBytes, so the last LPUSH runs after it, alone.
  const std::vector<Cmd> cmds = {{"LPOP", "l1", "40"},
                                 {"LPUSH", "l0", "x"},
                                 {"LPOP", "l1", "40"},
                                 {"LPUSH", "l0", "y"}};
  std::string want, bytes;
  for (const Cmd& c : cmds) bytes += Encode(c);
  want = RunArgs({"LRANGE", "l1", "0", "39"}) + Int(4) +
         RunArgs({"LRANGE", "l1", "40", "79"}) + Int(5);
  const int before = fwd_->run_txns();
  EXPECT_EQ(RunPipelined(*state_, bytes), want);
  EXPECT_EQ(fwd_->run_txns() - before, 2);
  EXPECT_EQ(Run("LLEN l1"), Int(0));
  EXPECT_EQ(Run("LRANGE l0 0 1"), "*2\r\n" + Bulk("y") + Bulk("x"));
}

TEST_F(WriteRunTest, AWaitingClientIsServedAsAfterEachCommand) {
  // Redis serves a blocked client after each command: of RPUSH q a; LPOP q
  // the waiter gets a and LPOP nothing. A run would pop it itself, so it
  // gives way.
  Load();
  Client waiter;
  waiter.id = state_->NextClientId();
  waiter.authenticated = true;
  EXPECT_EQ(RunAs(waiter, {"BLPOP", "q", "0"}), "");
  ASSERT_NE(waiter.blocked, nullptr);
  const std::string replies = RunPipelined(
      *state_, Encode({"RPUSH", "q", "a"}) + Encode({"LPOP", "q"}) +
                   Encode({"RPUSH", "q", "b"}) + Encode({"RPUSH", "q", "c"}));
  EXPECT_EQ(replies, Int(1) + kNil + Int(1) + Int(2));
  std::string got;
  bool close = false;
  bool served = false;
  ASSERT_TRUE(waiter.blocked->TakeReply(&got, &close, &served));
  EXPECT_TRUE(served);
  EXPECT_EQ(got, "*2\r\n" + Bulk("q") + Bulk("a"));
  waiter.blocked.reset();
  EXPECT_EQ(Run("LRANGE q 0 -1"), "*2\r\n" + Bulk("b") + Bulk("c"));
}

TEST_F(WriteRunTest, ARunWhoseTxnFailsGivesWayToOneByOne) {
  // Txns of two keys or more fail at commit (nothing applied), as on a
  // full pool: the run's commands then run alone, each committing.
  std::vector<Cmd> cmds;
  for (int i = 0; i < 10; ++i) {
    cmds.push_back({"HSET", "h" + std::to_string(i % 2), "f0", "x"});
    cmds.push_back({"SADD", "s0", std::to_string(i)});
  }
  Load();
  std::string want, bytes;
  for (const Cmd& c : cmds) {
    want += RunArgs(c);
    bytes += Encode(c);
  }
  const std::string want_state = State();
  Load();
  fwd_->FailTxnsDeclaring(2, NoSpaceError("full"));
  EXPECT_EQ(RunPipelined(*state_, bytes), want);
  fwd_->FailTxnsDeclaring(SIZE_MAX, OkStatus());
  EXPECT_EQ(State(), want_state);
}

TEST_F(WriteRunTest, MultiAndInlineRequestsRunAlone) {
  // Inside MULTI the writes queue; inline requests have no run.
  const std::vector<Cmd> cmds = {{"MULTI"},
                                 {"LPUSH", "l0", "a"},
                                 {"SADD", "s0", "z"},
                                 {"EXEC"},
                                 {"LPUSH", "l0", "b"},
                                 {"SADD", "s0", "y"},
                                 {"HSET", "h0", "f2", "w"}};
  const auto [pipelined, one_by_one] = ExpectSameAsOneByOne(cmds);
  EXPECT_EQ(one_by_one, 4);  // EXEC and each write after it
  EXPECT_EQ(pipelined, 2);   // EXEC, then one run of three
  Load();
  EXPECT_EQ(RunPipelined(*state_, "LPUSH l0 x\r\nLPUSH l0 y\r\n"),
            Int(4) + Int(5));
}

}  // namespace
}  // namespace daxkv::kv
