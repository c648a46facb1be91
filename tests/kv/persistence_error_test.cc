// While the pool cannot be persisted (DB::BackgroundError(), or a failed
// group commit), write commands get -MISCONF as in Redis after a failed
// save, reads still work, and INFO says why (issue 11).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kv/executor.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

constexpr std::string_view kMisconf =
    "-MISCONF daxkv is unable to persist to its pool, so it could lose "
    "writes it acknowledges. Commands that may modify the data set are "
    "disabled until the server is restarted. Please check the daxkv-server "
    "log and INFO persistence for details about the error.\r\n";

class PersistenceErrorTest : public ForwardedKvFixture {
 protected:
  void ExpectWritesRefusedReadsServed() {
    for (const char* write :
         {"SET k v2", "DEL k", "INCR n", "EXPIRE k 10", "APPEND k x",
          "FLUSHALL", "MSET a 1 b 2", "RENAME k j", "PING"}) {
      EXPECT_EQ(Run(write), kMisconf) << write;
    }
    EXPECT_EQ(Run("GET k"), Bulk("v"));
    EXPECT_EQ(Run("EXISTS k"), Int(1));
    EXPECT_EQ(Run("DBSIZE"), Int(1));
    EXPECT_EQ(Run("ECHO hi"), Bulk("hi"));
    // Inside MULTI a refused write dooms the block; reads still run.
    EXPECT_EQ(Run("MULTI"), kOk);
    EXPECT_EQ(Run("SET k v3"), kMisconf);
    EXPECT_EQ(Run("EXEC"),
              "-EXECABORT Transaction discarded because of previous "
              "errors.\r\n");
    EXPECT_EQ(Run("MULTI"), kOk);
    EXPECT_EQ(Run("GET k"), "+QUEUED\r\n");
    EXPECT_EQ(Run("EXEC"), "*1\r\n" + Bulk("v"));
    std::string info = Run("INFO persistence");
    EXPECT_NE(info.find("rdb_last_bgsave_status:err"), std::string::npos);
    EXPECT_NE(info.find("daxkv_persistence_status:err"), std::string::npos);
    EXPECT_NE(info.find("daxkv_persistence_error:IOError: media gone"),
              std::string::npos)
        << info;
  }
};

TEST_F(PersistenceErrorTest, EngineBackgroundErrorRefusesWrites) {
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("SET k queued"), "+QUEUED\r\n");
  fwd_->SetBackgroundError(IOError("media gone"));
  // Queued before the error, refused at EXEC (Redis's execCommandAbort).
  EXPECT_EQ(Run("EXEC"), "-EXECABORT Transaction discarded because of: " +
                             std::string(kMisconf.substr(1)));
  ExpectWritesRefusedReadsServed();
  EXPECT_NE(Run("INFO daxkv").find("background_error:IOError: media gone"),
            std::string::npos);
  fwd_->SetBackgroundError(OkStatus());
  EXPECT_EQ(Run("SET k v2"), kOk);  // the engine's error is its to clear
  EXPECT_NE(Run("INFO persistence").find("rdb_last_bgsave_status:ok"),
            std::string::npos);
}

// A failed group commit: its clients are dropped (their replies never
// leave), and from then on writes are refused until a restart.
TEST_F(PersistenceErrorTest, FailedGroupCommitRefusesWritesUntilRestart) {
  EXPECT_EQ(Run("SET k v"), kOk);
  fwd_->SetSyncError(IOError("media gone"));
  EXPECT_FALSE(SyncRound(*state_));
  fwd_->SetSyncError(OkStatus());
  ExpectWritesRefusedReadsServed();
  UseDb(fwd_.get());  // a restart: a fresh server state
  EXPECT_EQ(Run("SET k v2"), kOk);
}

}  // namespace
}  // namespace daxkv::kv
