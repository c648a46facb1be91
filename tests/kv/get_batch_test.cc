// A pipeline of GETs read in one round runs as batched lookups (GetBatch,
// one DB::MultiGet per run of GETs): its replies and every counter GET
// moves (keyspace hits and misses, commands processed, commandstats, error
// replies) must be those of the same commands run one by one.
#include "kv/get_batch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kv/command.h"
#include "kv/executor.h"
#include "tests/kv/kv_fixture.h"
#include "tests/kv/pipelined_connection.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

struct Counts {
  uint64_t hits, misses, processed, get_calls, get_failed, errors;
  bool operator==(const Counts&) const = default;
};

class GetBatchTest : public ForwardedKvFixture {
 protected:
  Counts Snapshot() {
    const CommandTable& t = CommandTable::Default();
    const size_t get = static_cast<size_t>(t.Find("get") - t.all().data());
    const CommandStats::Totals g = state_->command_stats().Get(get);
    ServerStats& s = state_->stats();
    return {s.keyspace_hits.load(),
            s.keyspace_misses.load(),
            s.commands_processed.load(),
            g.calls,
            g.failed,
            state_->command_stats().total_error_replies()};
  }

  // The data every run starts from: strings, a list and a hash (WRONGTYPE
  // for GET), a key with a future expiry and one already expired.
  void Load() {
    ASSERT_EQ(Run("FLUSHALL"), kOk);
    for (int i = 0; i < 10; ++i) {
      const std::string k = "k" + std::to_string(i);
      ASSERT_EQ(RunArgs({"SET", k, "value-" + k}), kOk);
    }
    ASSERT_EQ(Run("RPUSH list a b"), Int(2));
    ASSERT_EQ(Run("HSET hash f v"), Int(1));
    ASSERT_EQ(Run("SET ttl v EX 1000"), kOk);
    ASSERT_EQ(Run("SET gone v PX 100"), kOk);
    clock_.AdvanceMs(200);
  }

  std::string RunPipelined(const std::string& bytes) {
    return kv::RunPipelined(*state_, bytes);
  }

  // Runs `cmds` one by one (no batch), then as one pipelined read, each
  // from Load()'s data, and expects the same replies and counts; returns
  // how many keys the pipelined run looked up with MultiGet.
  size_t ExpectSameAsUnbatched(const std::vector<Cmd>& cmds) {
    Load();
    const Counts before = Snapshot();
    std::string want, bytes;
    for (const Cmd& c : cmds) {
      want += RunArgs(c);
      bytes += Encode(c);
    }
    const Counts one_by_one = Delta(before, Snapshot());
    EXPECT_EQ(fwd_->multi_gets(), 0);
    Load();
    const Counts again = Snapshot();
    EXPECT_EQ(RunPipelined(bytes), want);
    EXPECT_EQ(Delta(again, Snapshot()), one_by_one);
    return fwd_->multi_get_keys();
  }

  static Counts Delta(const Counts& a, const Counts& b) {
    return {b.hits - a.hits,
            b.misses - a.misses,
            b.processed - a.processed,
            b.get_calls - a.get_calls,
            b.get_failed - a.get_failed,
            b.errors - a.errors};
  }
};

// 200 commands: GETs of strings, missing, expired and wrong-type keys,
// mixed with SETs, DELs and expiries that change what later GETs see.
std::vector<Cmd> MixedPipeline() {
  const std::vector<std::string> keys = {"k0",  "k1",   "k2",    "k3",
                                         "k4",  "k5",   "list",  "hash",
                                         "ttl", "gone", "nokey", "k9"};
  std::vector<Cmd> cmds;
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {
    x = x * 1103515245u + 12345u;
    const std::string& k = keys[(x >> 8) % keys.size()];
    switch ((x >> 20) % 10) {
      case 0:
        cmds.push_back({"SET", k, "new-" + std::to_string(i)});
        break;
      case 1:
        cmds.push_back({"DEL", k});
        break;
      case 2:
        cmds.push_back({"PEXPIRE", k, "-1"});
        break;
      case 3:
        cmds.push_back({"gEt", k});
        break;
      default:
        cmds.push_back({"GET", k});
        break;
    }
  }
  return cmds;
}

TEST_F(GetBatchTest, MixedPipelineRepliesAsUnbatched) {
  const size_t batched = ExpectSameAsUnbatched(MixedPipeline());
  EXPECT_GT(batched, 20u);  // runs of GETs did go through MultiGet
}

TEST_F(GetBatchTest, LongRunOfGetsSpansBatches) {
  std::vector<Cmd> cmds;
  for (int i = 0; i < 150; ++i) {
    cmds.push_back({"GET", i % 7 == 3 ? "list" : "k" + std::to_string(i % 13)});
  }
  EXPECT_EQ(ExpectSameAsUnbatched(cmds), 150u);
  EXPECT_EQ(fwd_->multi_gets(), 3);  // 64 + 64 + 22
}

TEST_F(GetBatchTest, LongValuesAreReadByTheirOwnGet) {
  // Values over kMaxValueBytes are left to each GET (the batch's memory
  // stays bounded); the replies are the same.
  const std::string big(GetBatch::kMaxValueBytes + 1, 'x');
  const std::string huge(3 * GetBatch::kMaxValueBytes, 'y');
  std::vector<Cmd> cmds = {{"SET", "big", big}, {"SET", "huge", huge}};
  // Few enough that every reply fits the socket pair's buffer at once.
  for (int i = 0; i < 6; ++i) {
    cmds.push_back({"GET", i % 3 == 0 ? "big" : i % 3 == 1 ? "huge" : "k1"});
  }
  EXPECT_EQ(ExpectSameAsUnbatched(cmds), 6u);
}

TEST_F(GetBatchTest, TransactionsAndOtherGetsAreNotBatched) {
  // Queued GETs run in EXEC's block; GET with extra arguments is an arity
  // error; a lone GET has nothing to batch with.
  const std::vector<Cmd> cmds = {
      {"GET", "k1"},   {"GET", "k2"},      {"MULTI"},     {"GET", "k1"},
      {"GET", "list"}, {"GET", "k2"},      {"EXEC"},      {"GET", "k1", "x"},
      {"GET", "k3"},   {"SET", "k3", "w"}, {"GET", "k3"}, {"GET", "k4"}};
  EXPECT_EQ(ExpectSameAsUnbatched(cmds), 4u);  // k1 k2, then k3 k4
  EXPECT_EQ(fwd_->multi_gets(), 2);
}

TEST_F(GetBatchTest, InlineGetsRunAlone) {
  Load();
  const std::string replies =
      RunPipelined("GET k1\r\nGET k2\r\n" + Encode({"GET", "k3"}) +
                   Encode({"GET", "nokey"}) + "GET k4\r\n");
  EXPECT_EQ(replies, Bulk("value-k1") + Bulk("value-k2") + Bulk("value-k3") +
                         kNil + Bulk("value-k4"));
  EXPECT_EQ(fwd_->multi_gets(), 1);
  EXPECT_EQ(fwd_->multi_get_keys(), 2u);
}

}  // namespace
}  // namespace daxkv::kv
