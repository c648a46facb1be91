// RESTORE of streams whose entries daxkv's layout cannot hold apart from its
// consumer-group state (kv/stream_group_codec.h): refused, nothing written.
#include <string>
#include <vector>

#include "rdb/payload.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

class StreamRestoreTest : public KvFixture {};

std::string Payload(uint64_t first_seq) {
  rdb::Stream s;
  s.entries.push_back({{0, first_seq}, {"f", "v"}});
  s.entries.push_back({{5, 0}, {"f", "w"}});
  s.last_id = {5, 0};
  s.entries_added = 2;
  auto p = rdb::EncodeDumpPayload(rdb::Value(s));
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : std::string();
}

TEST_F(StreamRestoreTest, AnEntryZeroZeroIsBadDataAndWritesNothing) {
  EXPECT_EQ(RunArgs({"RESTORE", "s", "0", Payload(0)}),
            "-ERR Bad data format\r\n");
  EXPECT_EQ(Run("EXISTS s"), ":0\r\n");
  // The smallest ID Redis makes, 0-1, is an entry like any other.
  EXPECT_EQ(RunArgs({"RESTORE", "s", "0", Payload(1)}), "+OK\r\n");
  EXPECT_EQ(Run("XLEN s"), ":2\r\n");
}

}  // namespace
}  // namespace daxkv::kv
