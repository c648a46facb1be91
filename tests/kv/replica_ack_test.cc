// The replica's durability promise (docs/replication.md): REPLCONF ACK
// never reports an offset that no engine Sync() has covered. A fake master
// on a loopback socket drives the real link (handshake, a full sync, the
// command stream, GETACK); the replica's engine is a ForwardingDb whose
// Sync() the test makes fail.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/kv/fake_master.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using ReplicaAckTest = ForwardedKvFixture;

TEST_F(ReplicaAckTest, AcksOnlyOffsetsASyncCovered) {
  FakeMaster master;
  state_->replication().ReplicaOf("127.0.0.1", master.port());
  ASSERT_TRUE(master.Accept());
  ASSERT_EQ(AnswerHandshake(master),
            (std::vector<std::string>{"PSYNC", "?", "-1"}));
  master.Send("+FULLRESYNC " + std::string(40, 'a') + " 100\r\n");
  const std::string rdb = OneKeyRdb();
  master.Send("$" + std::to_string(rdb.size()) + "\r\n" + rdb);
  EXPECT_EQ(master.ReadAckReaching(100), 100);
  EXPECT_EQ(Run("GET loaded"), Bulk("1"));

  const std::string set1 = Command({"SET", "k", "v"});
  master.Send(set1);
  const int64_t durable = 100 + static_cast<int64_t>(set1.size());
  EXPECT_EQ(master.ReadAckReaching(durable), durable);

  // From here no Sync succeeds: what the master sends is applied but must
  // never be ACKed.
  fwd_->SetSyncError(IOError("injected: the medium stopped persisting"));
  const std::string set2 = Command({"SET", "k2", "v2"});
  const std::string getack = Command({"REPLCONF", "GETACK", "*"});
  master.Send(set2 + getack);
  for (int i = 0; i < 3; ++i) {  // the GETACK answer and periodic ACKs
    std::vector<std::string> c = master.Read();
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[1], "ACK");
    EXPECT_EQ(std::stoll(c[2]), durable) << "ACKed a non-durable offset";
  }
  const std::string info = Run("INFO replication");
  const int64_t applied =
      durable + static_cast<int64_t>(set2.size() + getack.size());
  EXPECT_NE(info.find("slave_repl_offset:" + std::to_string(applied)),
            std::string::npos)
      << info;
  EXPECT_NE(info.find("daxkv_repl_durable_offset:" + std::to_string(durable)),
            std::string::npos)
      << info;
  state_->replication().ReplicaOf("", 0);
}

}  // namespace
}  // namespace daxkv::kv
