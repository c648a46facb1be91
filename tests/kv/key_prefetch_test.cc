// A pipeline of writes that run one by one starts, before its first write,
// the loads of the next writes' index slots and entries
// (PrefetchPipelineKeys). Prefetches are hints: the replies must be those of
// the same commands run one by one, and the window must start, cap and end
// where the contract says.
#include "kv/key_prefetch.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv/executor.h"
#include "tests/kv/kv_fixture.h"
#include "tests/kv/pipelined_connection.h"

namespace daxkv::kv {
namespace {

class KeyPrefetchTest : public ForwardedKvFixture {
 protected:
  // The events of running `cmds` as one pipelined read.
  std::vector<std::string> EventsOf(const std::vector<Cmd>& cmds) {
    std::string bytes;
    for (const Cmd& c : cmds) bytes += Encode(c);
    fwd_->LogEvents(true);
    RunPipelined(*state_, bytes);
    std::vector<std::string> events = fwd_->events();
    fwd_->LogEvents(false);
    return events;
  }
};

std::vector<std::string> Events(const std::string& what,
                                const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const std::string& k : keys) out.push_back(what + " " + k);
  return out;
}

std::vector<std::string> Concat(std::vector<std::vector<std::string>> parts) {
  std::vector<std::string> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_F(KeyPrefetchTest, WindowLoadsEveryEntryBeforeTheFirstWrite) {
  ASSERT_EQ(Run("SET a 1"), kOk);
  ASSERT_EQ(Run("SET c 5"), kOk);
  EXPECT_EQ(EventsOf({{"SET", "a", "2"},
                      {"SET", "b", "3"},
                      {"PSETEX", "c", "100000", "4"},
                      {"DEL", "d"}}),
            Concat({Events("entry", {"a", "b", "c", "d"}),
                    Events("write", {"a", "b", "c", "d"})}));
}

TEST_F(KeyPrefetchTest, WindowHoldsAtMostTheKeyCap) {
  std::vector<Cmd> cmds;
  std::vector<std::string> first, second;
  for (size_t i = 0; i < kMaxPrefetchedKeys + 4; ++i) {
    const std::string k = "k" + std::to_string(i);
    cmds.push_back({"SET", k, "v"});
    (i < kMaxPrefetchedKeys ? first : second).push_back(k);
  }
  EXPECT_EQ(EventsOf(cmds),
            Concat({Events("entry", first), Events("write", first),
                    Events("entry", second), Events("write", second)}));
}

TEST_F(KeyPrefetchTest, WindowEndsAtAReadAndALoneWriteHasNone) {
  // SET a's window ends at the GET: one key, which its own PrefetchKeys
  // covers. SET b's window takes b and c. MSET's two keys make a window.
  EXPECT_EQ(EventsOf({{"SET", "a", "1"},
                      {"GET", "x"},
                      {"SET", "b", "2"},
                      {"SET", "c", "3"},
                      {"GET", "y"},
                      {"MSET", "d", "4", "e", "5"}}),
            Concat({{"write a"},
                    Events("entry", {"b", "c"}),
                    Events("write", {"b", "c"}),
                    Events("entry", {"d", "e"})}));
}

TEST_F(KeyPrefetchTest, NoWindowInsideMulti) {
  const std::vector<std::string> events = EventsOf({{"MULTI"},
                                                    {"SET", "a", "1"},
                                                    {"SET", "b", "2"},
                                                    {"SET", "c", "3"},
                                                    {"EXEC"}});
  for (const std::string& e : events) EXPECT_NE(e.rfind("entry", 0), 0u) << e;
}

TEST_F(KeyPrefetchTest, PipelinedWritesReplyAsOneByOne) {
  // Writes of every shape the window parses past: string writes, expiries,
  // errors (wrong type, wrong arity, unknown command) and an inline request.
  const std::vector<Cmd> cmds = {{"SET", "s", "1"},
                                 {"INCR", "s"},
                                 {"INCRBY", "s", "x"},
                                 {"LPUSH", "l", "a"},
                                 {"INCR", "l"},
                                 {"APPEND", "s", "0"},
                                 {"SETNX", "s", "9"},
                                 {"GETSET", "s", "7"},
                                 {"EXPIRE", "s", "100"},
                                 {"SET"},
                                 {"NOSUCH", "s"},
                                 {"DEL", "l", "s", "t"},
                                 {"MSET", "a", "1", "b", "2"},
                                 {"GETDEL", "a"},
                                 {"SET", "b", "3", "NX"},
                                 {"PERSIST", "b"}};
  // The inline request runs after GETSET, in both runs.
  std::string one_by_one, bytes;
  ASSERT_EQ(Run("FLUSHALL"), kOk);
  for (size_t i = 0; i < cmds.size(); ++i) {
    one_by_one += RunArgs(cmds[i]);
    bytes += Encode(cmds[i]);
    if (i == 7) {
      one_by_one += Run("SET inline v");
      bytes += "SET inline v\r\n";
    }
  }
  ASSERT_EQ(Run("FLUSHALL"), kOk);
  EXPECT_EQ(RunPipelined(*state_, bytes), one_by_one);
  EXPECT_EQ(Run("GET b"), Bulk("2"));
  EXPECT_EQ(Run("TTL b"), Int(-1));
}

}  // namespace
}  // namespace daxkv::kv
