#include <gtest/gtest.h>

#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using StringCommandsTest = KvFixture;

TEST_F(StringCommandsTest, GetSetDel) {
  EXPECT_EQ(Run("GET k"), kNil);
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("get k"), Bulk("v"));
  EXPECT_EQ(RunArgs({"SET", "k", std::string("a\0b", 3)}), kOk);
  EXPECT_EQ(Run("GET k"), Bulk(std::string("a\0b", 3)));
  EXPECT_EQ(Run("DEL k k2"), Int(1));
  EXPECT_EQ(Run("GET k"), kNil);
}

TEST_F(StringCommandsTest, SetOptions) {
  EXPECT_EQ(Run("SET k v NX"), kOk);
  EXPECT_EQ(Run("SET k w NX"), kNil);
  EXPECT_EQ(Run("SET k w XX"), kOk);
  EXPECT_EQ(Run("SET nx v XX"), kNil);
  EXPECT_EQ(Run("SET k x GET"), Bulk("w"));
  EXPECT_EQ(Run("SET k y NX GET"), Bulk("x"));  // not set; old value
  EXPECT_EQ(Run("GET k"), Bulk("x"));
  EXPECT_EQ(Run("SET k v EX 100"), kOk);
  EXPECT_EQ(Run("TTL k"), Int(100));
  EXPECT_EQ(Run("SET k v2 KEEPTTL"), kOk);
  EXPECT_EQ(Run("PTTL k"), Int(100000));
  EXPECT_EQ(Run("SET k v3"), kOk);
  EXPECT_EQ(Run("TTL k"), Int(-1));
  EXPECT_EQ(Run("SET k v PX 1500"), kOk);
  EXPECT_EQ(Run("TTL k"), Int(2));
  EXPECT_EQ(Run("SET k v EXAT 1800000000"), kOk);
  EXPECT_EQ(Run("EXPIRETIME k"), Int(1800000000));
  EXPECT_EQ(Run("SET k v PXAT 1800000000123"), kOk);
  EXPECT_EQ(Run("PEXPIRETIME k"), Int(1800000000123));
}

TEST_F(StringCommandsTest, SetErrors) {
  EXPECT_EQ(Run("SET k v NX XX"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SET k v EX 10 PX 10"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SET k v KEEPTTL EX 10"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SET k v EX"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SET k v FOO"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SET k v EX abc"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("SET k v EX 0"),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run("SET k v PX -5"),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run("SET k v EX 9223372036854775807"),
            "-ERR invalid expire time in 'set' command\r\n");
  EXPECT_EQ(Run("SET k"),
            "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(Run("SETEX k 0 v"),
            "-ERR invalid expire time in 'setex' command\r\n");
  EXPECT_EQ(Run("PSETEX k -1 v"),
            "-ERR invalid expire time in 'psetex' command\r\n");
  EXPECT_EQ(Run("GET k"), kNil);
}

TEST_F(StringCommandsTest, SetWithPastAbsoluteExpiryDeletes) {
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("SET k v2 EXAT 1000"), kOk);
  EXPECT_EQ(Run("EXISTS k"), Int(0));
}

TEST_F(StringCommandsTest, SetNxSetExGetSetGetDel) {
  EXPECT_EQ(Run("SETNX k a"), Int(1));
  EXPECT_EQ(Run("SETNX k b"), Int(0));
  EXPECT_EQ(Run("SETEX k 10 c"), kOk);
  EXPECT_EQ(Run("TTL k"), Int(10));
  EXPECT_EQ(Run("PSETEX k 2500 d"), kOk);
  EXPECT_EQ(Run("PTTL k"), Int(2500));
  EXPECT_EQ(Run("GETSET k e"), Bulk("d"));
  EXPECT_EQ(Run("TTL k"), Int(-1));
  EXPECT_EQ(Run("GETSET new x"), kNil);
  EXPECT_EQ(Run("GETDEL k"), Bulk("e"));
  EXPECT_EQ(Run("GETDEL k"), kNil);
}

TEST_F(StringCommandsTest, GetEx) {
  EXPECT_EQ(Run("GETEX missing EX 10"), kNil);
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("GETEX k EX 10"), Bulk("v"));
  EXPECT_EQ(Run("TTL k"), Int(10));
  EXPECT_EQ(Run("GETEX k PERSIST"), Bulk("v"));
  EXPECT_EQ(Run("TTL k"), Int(-1));
  EXPECT_EQ(Run("GETEX k PXAT 1800000000000"), Bulk("v"));
  EXPECT_EQ(Run("EXPIRETIME k"), Int(1800000000));
  EXPECT_EQ(Run("GETEX k EX 0"),
            "-ERR invalid expire time in 'getex' command\r\n");
  EXPECT_EQ(Run("GETEX k FOO"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("GETEX k EXAT 1"), Bulk("v"));
  EXPECT_EQ(Run("EXISTS k"), Int(0));
}

TEST_F(StringCommandsTest, MultiKey) {
  EXPECT_EQ(Run("MSET a 1 b 2"), kOk);
  EXPECT_EQ(Run("MGET a b c"), "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
  EXPECT_EQ(Run("MSET a 1 b"),
            "-ERR wrong number of arguments for 'mset' command\r\n");
  EXPECT_EQ(Run("MSETNX c 3 a 9"), Int(0));
  EXPECT_EQ(Run("EXISTS c"), Int(0));
  EXPECT_EQ(Run("GET a"), Bulk("1"));
  EXPECT_EQ(Run("MSETNX c 3 d 4"), Int(1));
  EXPECT_EQ(Run("MGET c d"), "*2\r\n$1\r\n3\r\n$1\r\n4\r\n");
}

TEST_F(StringCommandsTest, AppendStrlenRanges) {
  EXPECT_EQ(Run("APPEND k Hello"), Int(5));
  EXPECT_EQ(Run("APPEND k World"), Int(10));
  EXPECT_EQ(Run("STRLEN k"), Int(10));
  EXPECT_EQ(Run("STRLEN none"), Int(0));
  EXPECT_EQ(Run("GETRANGE k 0 3"), Bulk("Hell"));
  EXPECT_EQ(Run("GETRANGE k -3 -1"), Bulk("rld"));
  EXPECT_EQ(Run("GETRANGE k 0 -1"), Bulk("HelloWorld"));
  EXPECT_EQ(Run("GETRANGE k 10 100"), Bulk(""));
  EXPECT_EQ(Run("GETRANGE k -1 -5"), Bulk(""));
  EXPECT_EQ(Run("GETRANGE none 0 -1"), Bulk(""));
  EXPECT_EQ(Run("GETRANGE k a 1"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("SETRANGE k 5 Redis"), Int(10));
  EXPECT_EQ(Run("GET k"), Bulk("HelloRedis"));
  EXPECT_EQ(Run("SETRANGE pad 3 x"), Int(4));
  EXPECT_EQ(Run("GET pad"), Bulk(std::string("\0\0\0x", 4)));
  EXPECT_EQ(RunArgs({"SETRANGE", "empty", "3", ""}), Int(0));
  EXPECT_EQ(Run("EXISTS empty"), Int(0));
  EXPECT_EQ(Run("SETRANGE k -1 x"), "-ERR offset is out of range\r\n");
  EXPECT_EQ(
      Run("SETRANGE k 536870911 xx"),
      "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
}

TEST_F(StringCommandsTest, Counters) {
  EXPECT_EQ(Run("INCR n"), Int(1));
  EXPECT_EQ(Run("INCRBY n 10"), Int(11));
  EXPECT_EQ(Run("DECR n"), Int(10));
  EXPECT_EQ(Run("DECRBY n 20"), Int(-10));
  EXPECT_EQ(Run("SET s abc"), kOk);
  EXPECT_EQ(Run("INCR s"), "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("INCRBY n x"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("SET big 9223372036854775807"), kOk);
  EXPECT_EQ(Run("INCR big"), "-ERR increment or decrement would overflow\r\n");
  EXPECT_EQ(Run("DECRBY n -9223372036854775808"),
            "-ERR decrement would overflow\r\n");
  EXPECT_EQ(Run("SET t 5 EX 100"), kOk);
  EXPECT_EQ(Run("INCR t"), Int(6));
  EXPECT_EQ(Run("TTL t"), Int(100));  // counters keep the expiry
}

TEST_F(StringCommandsTest, IncrByFloat) {
  EXPECT_EQ(Run("INCRBYFLOAT f 10.5"), Bulk("10.5"));
  EXPECT_EQ(Run("INCRBYFLOAT f 0.1"), Bulk("10.6"));
  EXPECT_EQ(Run("INCRBYFLOAT f -5"), Bulk("5.6"));
  EXPECT_EQ(Run("SET g 5.0e3"), kOk);
  EXPECT_EQ(Run("INCRBYFLOAT g 2.0e2"), Bulk("5200"));
  EXPECT_EQ(Run("INCRBYFLOAT g abc"), "-ERR value is not a valid float\r\n");
  EXPECT_EQ(Run("SET s abc"), kOk);
  EXPECT_EQ(Run("INCRBYFLOAT s 1"), "-ERR value is not a valid float\r\n");
  EXPECT_EQ(Run("INCRBYFLOAT g inf"),
            "-ERR increment would produce NaN or Infinity\r\n");
  EXPECT_EQ(Run("INCRBYFLOAT z -0"), Bulk("0"));
}

// The fixture's pool has 1 MiB segments: these values take spans of
// segments in the engine and behave like any other string.
TEST_F(StringCommandsTest, ValuesLargerThanASegment) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i % 253);
  EXPECT_EQ(RunArgs({"SET", "big", big}), kOk);
  EXPECT_EQ(Run("STRLEN big"), Int(3 << 20));
  EXPECT_EQ(RunArgs({"GETRANGE", "big", "1048570", "1048585"}),
            Bulk(big.substr(1048570, 16)));  // across a segment boundary
  EXPECT_EQ(RunArgs({"APPEND", "big", "tail"}), Int((3 << 20) + 4));
  EXPECT_EQ(RunArgs({"SETRANGE", "big", "2621440", "mid"}), Int((3 << 20) + 4));
  big += "tail";
  big.replace(2621440, 3, "mid");
  const std::string other(1536 << 10, 'o');
  EXPECT_EQ(RunArgs({"MSET", "m1", other, "m2", big.substr(0, 1536 << 10)}),
            kOk);
  Reopen();
  EXPECT_EQ(Run("GET big"), Bulk(big));
  EXPECT_EQ(Run("GET m1"), Bulk(other));
  EXPECT_EQ(Run("GET m2"), Bulk(big.substr(0, 1536 << 10)));
  EXPECT_EQ(Run("DEL big m1 m2"), Int(3));
  EXPECT_EQ(Run("GET big"), kNil);
}

}  // namespace
}  // namespace daxkv::kv
