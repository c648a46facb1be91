// LCS and SUBSTR through the executor (raw RESP); the comparison with
// redis-server is tests/kv/integration/test_lcs.py.
#include <gtest/gtest.h>

#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using LcsTest = KvFixture;

TEST_F(LcsTest, StringLengthAndRanges) {
  Run("SET key1 ohmytext");
  Run("SET key2 mynewtext");
  EXPECT_EQ(Run("LCS key1 key2"), Bulk("mytext"));
  EXPECT_EQ(Run("LCS key1 key2 LEN"), Int(6));
  EXPECT_EQ(Run("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n"
            ":8\r\n:4\r\n$3\r\nlen\r\n:6\r\n");
  EXPECT_EQ(Run("LCS key1 key2 LEN IDX"),
            "-ERR If you want both the length and indexes, please just use "
            "IDX.\r\n");
  EXPECT_EQ(Run("LCS key1 key2 MINMATCHLEN"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("LCS key1 nokey"), Bulk(""));
}

TEST_F(LcsTest, TableOverTheBoundIsRefusedButLenWorks) {
  RunArgs({"SET", "a", std::string(9000, 'a')});
  RunArgs({"SET", "b", std::string(9000, 'a')});
  EXPECT_EQ(Run("LCS a b"),
            "-ERR Insufficient memory, failed allocating transient memory "
            "for LCS\r\n");
  EXPECT_EQ(Run("LCS a b LEN"), Int(9000));
}

TEST_F(LcsTest, SubstrIsGetrange) {
  Run("SET k ohmytext");
  EXPECT_EQ(Run("SUBSTR k -4 -1"), Bulk("text"));
  EXPECT_EQ(Run("SUBSTR k 5 2"), Bulk(""));
  EXPECT_EQ(Run("SUBSTR k 0"),
            "-ERR wrong number of arguments for 'substr' command\r\n");
}

}  // namespace
}  // namespace daxkv::kv
