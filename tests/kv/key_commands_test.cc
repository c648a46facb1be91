#include <gtest/gtest.h>

#include <string>

#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

using KeyCommandsTest = KvFixture;

TEST_F(KeyCommandsTest, ExistsTypeDelUnlink) {
  EXPECT_EQ(Run("MSET a 1 b 2 c 3"), kOk);
  EXPECT_EQ(Run("EXISTS a a b x"), Int(3));
  EXPECT_EQ(Run("TYPE a"), "+string\r\n");
  EXPECT_EQ(Run("TYPE x"), "+none\r\n");
  EXPECT_EQ(Run("DEL a b x"), Int(2));
  EXPECT_EQ(Run("UNLINK c"), Int(1));
  EXPECT_EQ(Run("DBSIZE"), Int(0));
}

TEST_F(KeyCommandsTest, ExpireFamily) {
  EXPECT_EQ(Run("EXPIRE none 10"), Int(0));
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("TTL k"), Int(-1));
  EXPECT_EQ(Run("TTL none"), Int(-2));
  EXPECT_EQ(Run("PTTL none"), Int(-2));
  EXPECT_EQ(Run("EXPIRETIME k"), Int(-1));
  EXPECT_EQ(Run("EXPIRE k 100 XX"), Int(0));
  EXPECT_EQ(Run("EXPIRE k 100 NX"), Int(1));
  EXPECT_EQ(Run("EXPIRE k 200 NX"), Int(0));
  EXPECT_EQ(Run("EXPIRE k 50 GT"), Int(0));
  EXPECT_EQ(Run("EXPIRE k 150 GT"), Int(1));
  EXPECT_EQ(Run("TTL k"), Int(150));
  EXPECT_EQ(Run("EXPIRE k 300 LT"), Int(0));
  EXPECT_EQ(Run("PEXPIRE k 1500 LT"), Int(1));
  EXPECT_EQ(Run("PTTL k"), Int(1500));
  EXPECT_EQ(Run("EXPIREAT k 1800000000"), Int(1));
  EXPECT_EQ(Run("EXPIRETIME k"), Int(1800000000));
  EXPECT_EQ(Run("PEXPIREAT k 1800000000500"), Int(1));
  EXPECT_EQ(Run("PEXPIRETIME k"), Int(1800000000500));
  EXPECT_EQ(Run("EXPIRETIME k"), Int(1800000001));  // rounded like Redis
  EXPECT_EQ(Run("PERSIST k"), Int(1));
  EXPECT_EQ(Run("PERSIST k"), Int(0));
  EXPECT_EQ(Run("PERSIST none"), Int(0));
  EXPECT_EQ(Run("SET n v"), kOk);
  EXPECT_EQ(Run("EXPIRE n 100 GT"), Int(0));  // no TTL = infinite
  EXPECT_EQ(Run("EXPIRE n 100 LT"), Int(1));
  EXPECT_EQ(Run("EXPIRE k -1"), Int(1));  // a past time deletes
  EXPECT_EQ(Run("EXISTS k"), Int(0));
}

TEST_F(KeyCommandsTest, ExpireErrors) {
  EXPECT_EQ(Run("SET k v"), kOk);
  EXPECT_EQ(Run("EXPIRE k 10 NX XX"),
            "-ERR NX and XX, GT or LT options at the same time are not "
            "compatible\r\n");
  EXPECT_EQ(Run("EXPIRE k 10 GT LT"),
            "-ERR GT and LT options at the same time are not compatible\r\n");
  EXPECT_EQ(Run("EXPIRE k 10 FOO"), "-ERR Unsupported option FOO\r\n");
  EXPECT_EQ(Run("EXPIRE k abc"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("EXPIRE k 9223372036854775807"),
            "-ERR invalid expire time in 'expire' command\r\n");
  EXPECT_EQ(Run("PEXPIRE k 9223372036854775807"),
            "-ERR invalid expire time in 'pexpire' command\r\n");
  EXPECT_EQ(Run("EXPIRE k"),
            "-ERR wrong number of arguments for 'expire' command\r\n");
}

TEST_F(KeyCommandsTest, LazyExpiryAndRestart) {
  EXPECT_EQ(Run("SET k v EX 10"), kOk);
  EXPECT_EQ(Run("SET p v"), kOk);
  Reopen();
  EXPECT_EQ(Run("TTL k"), Int(10));
  clock_.AdvanceMs(10'001);
  EXPECT_EQ(Run("GET k"), kNil);
  EXPECT_EQ(Run("TTL k"), Int(-2));
  EXPECT_EQ(Run("EXISTS k p"), Int(1));
  Reopen();
  EXPECT_EQ(Run("GET k"), kNil);
  EXPECT_EQ(Run("GET p"), Bulk("v"));
}

TEST_F(KeyCommandsTest, RenameAndCopy) {
  EXPECT_EQ(Run("RENAME none x"), "-ERR no such key\r\n");
  EXPECT_EQ(Run("RENAMENX none x"), "-ERR no such key\r\n");
  EXPECT_EQ(Run("SET a 1 EX 100"), kOk);
  EXPECT_EQ(Run("RENAME a b"), kOk);
  EXPECT_EQ(Run("GET b"), Bulk("1"));
  EXPECT_EQ(Run("TTL b"), Int(100));
  EXPECT_EQ(Run("EXISTS a"), Int(0));
  EXPECT_EQ(Run("RENAME b b"), kOk);
  EXPECT_EQ(Run("SET c 3"), kOk);
  EXPECT_EQ(Run("RENAMENX b c"), Int(0));
  EXPECT_EQ(Run("RENAMENX b d"), Int(1));
  EXPECT_EQ(Run("COPY d e"), Int(1));
  EXPECT_EQ(Run("TTL e"), Int(100));
  EXPECT_EQ(Run("COPY d c"), Int(0));
  EXPECT_EQ(Run("COPY d c REPLACE"), Int(1));
  EXPECT_EQ(Run("GET c"), Bulk("1"));
  EXPECT_EQ(Run("COPY none z"), Int(0));
  EXPECT_EQ(Run("COPY d d"),
            "-ERR source and destination objects are the same\r\n");
  EXPECT_EQ(Run("COPY d z DB 1"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(Run("COPY d z DB 0"), Int(1));
  EXPECT_EQ(Run("COPY d y FOO"), "-ERR syntax error\r\n");
}

TEST_F(KeyCommandsTest, KeysScanRandomKey) {
  EXPECT_EQ(Run("RANDOMKEY"), kNil);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Run("SET key:" + std::to_string(i) + " v"), kOk);
  }
  EXPECT_EQ(Run("SET other v"), kOk);
  std::string keys = Run("KEYS key:1?");
  EXPECT_EQ(keys.substr(0, 5), "*10\r\n");
  EXPECT_EQ(Run("KEYS nomatch*"), "*0\r\n");
  // SCAN to completion sees every key.
  std::string cursor = "0";
  int seen = 0;
  for (int rounds = 0; rounds < 1000; ++rounds) {
    std::string r = Run("SCAN " + cursor + " MATCH key:* COUNT 7");
    ASSERT_EQ(r.substr(0, 4), "*2\r\n");
    size_t nl = r.find("\r\n", 4);
    size_t start = r.find("\r\n", nl + 2) + 2;
    cursor = r.substr(nl + 2, start - nl - 4);
    size_t arr = r.find('*', start);
    seen += std::stoi(r.substr(arr + 1));
    if (cursor == "0") break;
  }
  EXPECT_EQ(cursor, "0");
  EXPECT_GE(seen, 50);
  EXPECT_EQ(Run("SCAN 0 TYPE hash COUNT 1000"), "*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(Run("SCAN abc"), "-ERR invalid cursor\r\n");
  EXPECT_EQ(Run("SCAN 0 COUNT 0"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("SCAN 0 COUNT x"),
            "-ERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Run("SCAN 0 FOO"), "-ERR syntax error\r\n");
  EXPECT_EQ(Run("RANDOMKEY").substr(0, 1), "$");
  EXPECT_EQ(Run("DBSIZE"), Int(51));
  EXPECT_EQ(Run("FLUSHDB"), kOk);
  EXPECT_EQ(Run("DBSIZE"), Int(0));
  EXPECT_EQ(Run("FLUSHALL ASYNC"), kOk);
  EXPECT_EQ(Run("FLUSHALL FOO"), "-ERR syntax error\r\n");
}

TEST_F(KeyCommandsTest, ObjectCommand) {
  EXPECT_EQ(Run("SET i 12345"), kOk);
  EXPECT_EQ(Run("SET e hello"), kOk);
  EXPECT_EQ(RunArgs({"SET", "r", std::string(45, 'x')}), kOk);
  EXPECT_EQ(Run("OBJECT ENCODING i"), Bulk("int"));
  EXPECT_EQ(Run("OBJECT ENCODING e"), Bulk("embstr"));
  EXPECT_EQ(Run("OBJECT ENCODING r"), Bulk("raw"));
  EXPECT_EQ(Run("OBJECT ENCODING none"), kNil);
  EXPECT_EQ(Run("OBJECT REFCOUNT e"), Int(1));
  EXPECT_EQ(Run("OBJECT IDLETIME e"), Int(0));
  EXPECT_EQ(Run("OBJECT FOO e"),
            "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n");
}

TEST_F(KeyCommandsTest, ObjectIdletimeCountsSecondsSinceLastAccess) {
  EXPECT_EQ(Run("SET a 1"), kOk);
  EXPECT_EQ(Run("SET b 2"), kOk);
  clock_.AdvanceMs(7'400);
  EXPECT_EQ(Run("OBJECT IDLETIME a"), Int(7));
  // As in Redis, TYPE, EXISTS, TTL and OBJECT itself are not accesses.
  EXPECT_EQ(Run("TYPE a"), "+string\r\n");
  EXPECT_EQ(Run("EXISTS a"), Int(1));
  EXPECT_EQ(Run("TTL a"), Int(-1));
  EXPECT_EQ(Run("OBJECT IDLETIME a"), Int(7));
  EXPECT_EQ(Run("GET a"), Bulk("1"));
  EXPECT_EQ(Run("OBJECT IDLETIME a"), Int(0));
  EXPECT_EQ(Run("OBJECT IDLETIME b"), Int(7));
  clock_.AdvanceMs(3'000);
  // MSET touches every key it writes (first key 1, step 2).
  EXPECT_EQ(Run("MSET b 3 c 4"), kOk);
  EXPECT_EQ(Run("OBJECT IDLETIME a"), Int(3));
  EXPECT_EQ(Run("OBJECT IDLETIME b"), Int(0));
  EXPECT_EQ(Run("OBJECT IDLETIME missing"), kNil);
}

}  // namespace
}  // namespace daxkv::kv
