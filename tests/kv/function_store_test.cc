// Function libraries in the pool's system namespace (kv/function_store.h):
// every change is durable before its reply, survives a reopen and
// FLUSHALL, and a change the engine could not persist is undone.
#include "kv/function_store.h"

#include <gtest/gtest.h>

#include <string>

#include "kv/script_engine.h"
#include "tests/kv/kv_fixture.h"
#include "tests/support/status_matchers.h"

namespace daxkv::kv {
namespace {

std::string Library(const std::string& name, const std::string& fn,
                    const std::string& body) {
  return "#!lua name=" + name + "\nredis.register_function('" + fn +
         "', function(keys, args) " + body + " end)";
}

class FunctionStoreTest : public ForwardedKvFixture {
 protected:
  // A restart: the engine reopened, the libraries loaded from it as
  // Server::Open does.
  size_t Restart() {
    UseDb(db_.get());
    Reopen();
    fwd_ = std::make_unique<ForwardingDb>(db_.get());
    UseDb(fwd_.get());
    std::string warnings;
    auto n =
        LoadStoredFunctions(*db_, state_->scripts().functions(), &warnings);
    EXPECT_OK(n);
    EXPECT_EQ(warnings, "");
    return n.ok() ? *n : 0;
  }
};

TEST_F(FunctionStoreTest, LoadsDeletesAndFlushesSurviveARestart) {
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", Library("a", "fa", "return 1")}),
            Bulk("a"));
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", Library("b", "fb", "return 2")}),
            Bulk("b"));
  EXPECT_EQ(
      RunArgs({"FUNCTION", "LOAD", "REPLACE", Library("b", "fb", "return 3")}),
      Bulk("b"));
  EXPECT_EQ(Restart(), 2u);
  EXPECT_EQ(Run("FCALL fa 0"), Int(1));
  EXPECT_EQ(Run("FCALL fb 0"), Int(3));
  EXPECT_EQ(Run("FUNCTION DELETE a"), kOk);
  EXPECT_EQ(Restart(), 1u);
  EXPECT_EQ(Run("FCALL fa 0"), "-ERR Function not found\r\n");
  EXPECT_EQ(Run("FUNCTION FLUSH"), kOk);
  EXPECT_EQ(Restart(), 0u);
  auto stored = db_->ListSystem(kFunctionKeyPrefix);
  ASSERT_OK(stored);
  EXPECT_TRUE(stored->empty());
}

TEST_F(FunctionStoreTest, FlushallKeepsThemAndTheyAreNoKeys) {
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", Library("lib", "f", "return 'x'")}),
            Bulk("lib"));
  EXPECT_EQ(Run("DBSIZE"), Int(0));
  EXPECT_EQ(Run("KEYS *"), "*0\r\n");
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("FLUSHALL"), kOk);
  EXPECT_EQ(Restart(), 1u);
  EXPECT_EQ(Run("DBSIZE"), Int(0));
  EXPECT_EQ(Run("FCALL f 0"), Bulk("x"));
  EXPECT_EQ(db_->GetStats().system_keys, 1u);
}

TEST_F(FunctionStoreTest, RestoreIsOneAtomicBatch) {
  RunArgs({"FUNCTION", "LOAD", Library("x", "fx", "return 1")});
  RunArgs({"FUNCTION", "LOAD", Library("y", "fy", "return 2")});
  const std::string dump = RunArgs({"FUNCTION", "DUMP"});
  ASSERT_EQ(dump[0], '$');
  const std::string payload =
      dump.substr(dump.find("\r\n") + 2, dump.size() - dump.find("\r\n") - 4);
  EXPECT_EQ(Run("FUNCTION FLUSH"), kOk);
  RunArgs({"FUNCTION", "LOAD", Library("z", "fz", "return 3")});
  // FLUSH policy: z deleted, x and y written, in one WriteSystem.
  EXPECT_EQ(RunArgs({"FUNCTION", "RESTORE", payload, "FLUSH"}), kOk);
  const LibraryCodes before = {{"z", Library("z", "fz", "return 3")}};
  const LibraryCodes after = state_->scripts().functions().Codes();
  engine::WriteBatch batch = FunctionChanges(before, after);
  EXPECT_EQ(batch.Count(), 3u);
  EXPECT_TRUE(FunctionChanges(after, after).empty());
  EXPECT_EQ(Restart(), 2u);
  EXPECT_EQ(Run("FCALL fy 0"), Int(2));
  EXPECT_EQ(Run("FCALL fz 0"), "-ERR Function not found\r\n");
}

TEST_F(FunctionStoreTest, AChangeThatCannotBePersistedIsUndone) {
  RunArgs({"FUNCTION", "LOAD", Library("keep", "fk", "return 1")});
  fwd_->SetSystemWriteError(IOError("injected"));
  const std::string reply =
      RunArgs({"FUNCTION", "LOAD", Library("new", "fn", "return 2")});
  EXPECT_EQ(reply.rfind("-ERR daxkv engine: ", 0), 0u) << reply;
  EXPECT_EQ(Run("FCALL fn 0"), "-ERR Function not found\r\n");
  EXPECT_EQ(Run("FUNCTION DELETE keep").rfind("-ERR daxkv engine", 0), 0u);
  EXPECT_EQ(Run("FUNCTION FLUSH").rfind("-ERR daxkv engine", 0), 0u);
  EXPECT_EQ(Run("FCALL fk 0"), Int(1));
  fwd_->SetSystemWriteError(OkStatus());
  EXPECT_EQ(Restart(), 1u);
  EXPECT_EQ(Run("FCALL fk 0"), Int(1));
}

TEST_F(FunctionStoreTest, AStoredLibraryThatNoLongerLoadsIsReportedAndKept) {
  engine::WriteBatch b;
  b.Put(std::string(kFunctionKeyPrefix) + "bad",
        "#!lua name=bad\nthis is not lua");
  ASSERT_OK(db_->WriteSystem(b));
  UseDb(db_.get());
  Reopen();
  std::string warnings;
  auto n = LoadStoredFunctions(*db_, state_->scripts().functions(), &warnings);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_NE(warnings.find("function/bad"), std::string::npos) << warnings;
  EXPECT_OK(db_->GetSystem(std::string(kFunctionKeyPrefix) + "bad").status());
  fwd_ = std::make_unique<ForwardingDb>(db_.get());
  UseDb(fwd_.get());
}

}  // namespace
}  // namespace daxkv::kv
