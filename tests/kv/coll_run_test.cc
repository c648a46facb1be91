// kv/coll_run.h: a collection command writes its reply straight into the
// client's reply buffer, behind the replies already there (a pipeline's),
// and a failure cuts back exactly its own bytes: what the earlier commands
// replied stays, and nothing of a Txn that did not commit reaches the
// client.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "kv/executor.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

class CollRunTest : public ForwardedKvFixture {
 protected:
  // Runs `argv` behind `earlier` in one reply buffer, as the second
  // command of a pipeline.
  std::string RunBehind(std::string_view earlier,
                        const std::vector<std::string_view>& argv) {
    std::string out(earlier);
    ReplyWriter writer(&out, client_.resp);
    ExecuteCommand(*state_, client_, argv, writer);
    client_.touched_db = false;
    EXPECT_TRUE(SyncRound(*state_));
    return out;
  }
};

constexpr std::string_view kEarlier = "+earlier reply\r\n";

TEST_F(CollRunTest, RepliesFollowTheRepliesAlreadyBuffered) {
  ASSERT_EQ(Run("RPUSH q a bb ccc"), Int(3));
  EXPECT_EQ(RunBehind(kEarlier, {"LPOP", "q"}),
            std::string(kEarlier) + Bulk("a"));
  EXPECT_EQ(RunBehind(kEarlier, {"RPOP", "q", "5"}),
            std::string(kEarlier) + "*2\r\n" + Bulk("ccc") + Bulk("bb"));
  EXPECT_EQ(RunBehind(kEarlier, {"LPOP", "q"}), std::string(kEarlier) + kNil);
  ASSERT_EQ(Run("SADD s x"), Int(1));
  EXPECT_EQ(RunBehind(kEarlier, {"SMEMBERS", "s"}),
            std::string(kEarlier) + "*1\r\n" + Bulk("x"));
  EXPECT_EQ(RunBehind(kEarlier, {"LLEN", "s"}),
            std::string(kEarlier) +
                "-WRONGTYPE Operation against a key holding the wrong kind "
                "of value\r\n");
}

TEST_F(CollRunTest, AFailedCommitCutsBackOnlyItsOwnReply) {
  ASSERT_EQ(Run("RPUSH q first second"), Int(2));
  // The pop's body runs and writes its reply; then the commit fails.
  fwd_->FailTxnsDeclaring(1, IOError("media gone"));
  for (const std::vector<std::string_view>& argv :
       std::vector<std::vector<std::string_view>>{{"LPOP", "q"},
                                                  {"RPOP", "q", "2"},
                                                  {"LPUSH", "q", "x"},
                                                  {"SADD", "s", "m"}}) {
    const std::string out = RunBehind(kEarlier, argv);
    ASSERT_EQ(out.substr(0, kEarlier.size()), kEarlier) << argv[0];
    const std::string own = out.substr(kEarlier.size());
    ASSERT_FALSE(own.empty()) << argv[0];
    EXPECT_EQ(own[0], '-') << argv[0] << ": " << own;
    EXPECT_EQ(own.find("first"), std::string::npos) << own;
    EXPECT_EQ(own.find("second"), std::string::npos) << own;
    EXPECT_EQ(own.find("\r\n"), own.size() - 2) << own;  // one error line
  }
  fwd_->FailTxnsDeclaring(SIZE_MAX, OkStatus());
  EXPECT_EQ(Run("LRANGE q 0 -1"), "*2\r\n" + Bulk("first") + Bulk("second"));
  EXPECT_EQ(Run("EXISTS s"), Int(0));
}

}  // namespace
}  // namespace daxkv::kv
