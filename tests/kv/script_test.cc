// Scripting in process: SHA-1, shebang parsing, EVAL/EVALSHA/SCRIPT replies,
// a script's writes as one batch (durable, inside MULTI joining EXEC's),
// and scripts under a persistence error. The byte-for-byte comparison with
// redis-server is tests/kv/integration/test_scripting.py.
#include <gtest/gtest.h>

#include <string>

#include "kv/script_engine.h"
#include "kv/script_text.h"
#include "kv/sha1.h"
#include "tests/kv/kv_fixture.h"

namespace daxkv::kv {
namespace {

TEST(Sha1Test, KnownDigests) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  // 55, 56 and 64 bytes: the padding fits one block, just not, and exactly.
  EXPECT_EQ(Sha1Hex(std::string(55, 'a')),
            "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(Sha1Hex(std::string(56, 'a')),
            "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(Sha1Hex(std::string(64, 'a')),
            "0098ba824b5c16427bd7a1122a5a442a25ec644d");
  EXPECT_EQ(Sha1Hex(std::string(1000000, 'a')),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(ShebangTest, Flags) {
  ScriptFlags f;
  size_t skip = 0;
  std::string error;
  ASSERT_TRUE(ParseShebang("return 1", &f, &skip, &error));
  EXPECT_FALSE(f.has_shebang);
  EXPECT_EQ(skip, 0u);
  ASSERT_TRUE(ParseShebang("#!lua flags=no-writes,allow-oom\nreturn 1", &f,
                           &skip, &error));
  EXPECT_TRUE(f.has_shebang);
  EXPECT_TRUE(f.no_writes);
  EXPECT_EQ(skip, 31u);  // up to the newline, which stays (line numbers)
  ASSERT_TRUE(ParseShebang("#!lua  flags=\n", &f, &skip, &error));
  EXPECT_FALSE(f.no_writes);
  EXPECT_FALSE(ParseShebang("#!lua", &f, &skip, &error));
  EXPECT_EQ(error, "ERR Invalid script shebang");
  EXPECT_FALSE(ParseShebang("#!python\n", &f, &skip, &error));
  EXPECT_EQ(error, "ERR Unexpected engine in script shebang: #!python");
  EXPECT_FALSE(ParseShebang("#!lua flags=no-writes,x\n", &f, &skip, &error));
  EXPECT_EQ(error, "ERR Unexpected flag in script shebang: x");
  EXPECT_FALSE(ParseShebang("#!lua name=f\n", &f, &skip, &error));
  EXPECT_EQ(error, "ERR Unknown lua shebang option: name=f");
}

using ScriptTest = KvFixture;

TEST_F(ScriptTest, EvalAndConversions) {
  EXPECT_EQ(RunArgs({"EVAL", "return {1, 'two', {3}, true, false}", "0"}),
            "*5\r\n:1\r\n$3\r\ntwo\r\n*1\r\n:3\r\n:1\r\n$-1\r\n");
  EXPECT_EQ(RunArgs({"EVAL", "return {KEYS[1], ARGV[1]}", "1", "k", "a"}),
            "*2\r\n$1\r\nk\r\n$1\r\na\r\n");
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('set', KEYS[1], 'v')", "1",
                     "k"}),
            kOk);
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('get', 'k')", "0"}),
            Bulk("v"));
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('get', 'none')", "0"}), kNil);
  EXPECT_EQ(RunArgs({"EVAL", "return redis.status_reply('FINE')", "0"}),
            "+FINE\r\n");
}

TEST_F(ScriptTest, ErrorsCarryTheScriptAndLine) {
  const std::string body = "local a = 1\nreturn redis.call('nosuch')";
  EXPECT_EQ(RunArgs({"EVAL", body, "0"}),
            "-ERR Unknown Redis command called from script script: " +
                Sha1Hex(body) + ", on @user_script:2.\r\n");
  EXPECT_EQ(RunArgs({"EVAL", "x = 5", "0"}),
            "-ERR user_script:1: Attempt to modify a readonly table script: " +
                Sha1Hex("x = 5") + ", on @user_script:1.\r\n");
  EXPECT_EQ(RunArgs({"EVAL", "return os.time()", "0"}).substr(0, 79),
            "-ERR user_script:1: Script attempted to access nonexistent "
            "global variable 'os'");
  EXPECT_EQ(Run("SET k abc"), kOk);
  EXPECT_EQ(RunArgs({"EVAL", "return redis.pcall('incr', 'k')", "0"}),
            "-ERR value is not an integer or out of range\r\n");
}

// Lua 5.1 runs precompiled bytecode unchecked (CVE-2015-4335): neither a
// script body nor loadstring/load may load it.
TEST_F(ScriptTest, BytecodeIsNeverLoaded) {
  EXPECT_EQ(RunArgs({"EVAL",
                     "local f = loadstring(string.dump(function() return 1 "
                     "end)) return type(f)",
                     "0"}),
            Bulk("nil"));
  EXPECT_EQ(RunArgs({"EVAL",
                     "local n = 0 local f = load(function() n = n + 1 "
                     "if n == 1 then return string.dump(function() end) end "
                     "end) return type(f)",
                     "0"}),
            Bulk("nil"));
  std::string body("\x1bLuaQ\0return 1", 15);
  EXPECT_EQ(RunArgs({"EVAL", body, "0"}),
            "-ERR Error compiling script (new function): user_script:1: "
            "unexpected symbol near 'char(27)'\r\n");
}

// Debian's lua-bitop and lua-cjson lack Redis's patches (the old code
// crashes on the first, and overflows cjson's int-sized buffer past 2 GiB
// on the second; here 10 references to one 20 MiB string must be refused
// before cjson starts).
TEST_F(ScriptTest, ModulesHardenedAsRedis) {
  EXPECT_EQ(RunArgs({"EVAL", "return bit.tohex(65535, -2147483648)", "0"}),
            Bulk("0000FFFF"));
  std::string reply = RunArgs(
      {"EVAL",
       "local s = string.rep('a', 20 * 1024 * 1024) local t = {} "
       "for i = 1, 10 do t[i] = s end return #cjson.encode(t)",
       "0"});
  EXPECT_EQ(reply.substr(0, 50),
            "-ERR user_script:1: Cannot serialise: the encoding");
  EXPECT_EQ(RunArgs({"EVAL", "return cjson.encode({1, 'x'})", "0"}),
            Bulk("[1,\"x\"]"));
}

TEST_F(ScriptTest, ScriptCache) {
  const std::string sha = Sha1Hex("return 7");
  EXPECT_EQ(RunArgs({"EVALSHA", sha, "0"}),
            "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  EXPECT_EQ(RunArgs({"SCRIPT", "LOAD", "return 7"}), Bulk(sha));
  EXPECT_EQ(RunArgs({"EVALSHA", sha, "0"}), Int(7));
  EXPECT_EQ(RunArgs({"SCRIPT", "EXISTS", sha, "nope"}),
            "*2\r\n:1\r\n:0\r\n");
  EXPECT_EQ(Run("SCRIPT FLUSH"), kOk);
  EXPECT_EQ(RunArgs({"SCRIPT", "EXISTS", sha}), "*1\r\n:0\r\n");
  EXPECT_EQ(Run("SCRIPT KILL"),
            "-NOTBUSY No scripts in execution right now.\r\n");
}

TEST_F(ScriptTest, WritesSurviveARestartAndReadTheirOwnWrites) {
  const std::string body =
      "for i = 1, 100 do redis.call('set', 'k' .. i, i) end "
      "redis.call('incrby', 'k1', 41) "
      "return redis.call('get', 'k1')";
  EXPECT_EQ(RunArgs({"EVAL", body, "0"}), Bulk("42"));
  Reopen();
  EXPECT_EQ(Run("GET k1"), Bulk("42"));
  EXPECT_EQ(Run("GET k100"), Bulk("100"));
  EXPECT_EQ(Run("DBSIZE"), Int(100));
}

TEST_F(ScriptTest, WritesBeforeAnErrorStayAsInRedis) {
  EXPECT_EQ(Run("SET s abc"), kOk);
  std::string reply = RunArgs(
      {"EVAL", "redis.call('set', 'a', 1) redis.call('incr', 's')", "0"});
  EXPECT_EQ(reply.substr(0, 44), "-ERR value is not an integer or out of range");
  EXPECT_EQ(Run("GET a"), Bulk("1"));
}

TEST_F(ScriptTest, InsideMultiTheScriptJoinsExec) {
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('incr', 'n')", "0"}),
            "+QUEUED\r\n");
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('incr', 'n')", "0"}),
            "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*2\r\n:1\r\n:2\r\n");
  EXPECT_EQ(Run("GET n"), Bulk("2"));
}

TEST_F(ScriptTest, ReadOnlyScripts) {
  EXPECT_EQ(RunArgs({"EVAL_RO", "return redis.pcall('set', 'a', 1)", "0"}),
            "-ERR Write commands are not allowed from read-only scripts.\r\n");
  EXPECT_EQ(RunArgs({"EVAL_RO", "#!lua\nreturn 1", "0"}),
            "-ERR Can not execute a script with write flag using *_ro "
            "command.\r\n");
  EXPECT_EQ(RunArgs({"EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"}),
            Int(1));
  EXPECT_EQ(Run("EXISTS a"), Int(0));
}

using FunctionTest = KvFixture;

constexpr char kLibrary[] =
    "#!lua name=counters\n"
    "redis.register_function('add', function(keys, args)\n"
    "  local v = redis.call('incrby', keys[1], args[1])\n"
    "  redis.call('set', keys[2], v)\n"
    "  return v\n"
    "end)\n"
    "redis.register_function{function_name='peek', flags={'no-writes'},\n"
    "  callback=function(keys) return redis.call('get', keys[1]) end}";

TEST_F(FunctionTest, LoadCallAndWritesSurviveARestart) {
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", kLibrary}), Bulk("counters"));
  EXPECT_EQ(RunArgs({"FCALL", "add", "2", "n", "copy", "5"}), Int(5));
  EXPECT_EQ(RunArgs({"FCALL", "add", "2", "n", "copy", "2"}), Int(7));
  EXPECT_EQ(RunArgs({"FCALL_RO", "peek", "1", "copy"}), Bulk("7"));
  EXPECT_EQ(RunArgs({"FCALL_RO", "add", "2", "n", "copy", "1"}),
            "-ERR Can not execute a script with write flag using *_ro "
            "command.\r\n");
  Reopen();
  EXPECT_EQ(Run("MGET n copy"), "*2\r\n" + Bulk("7") + Bulk("7"));
}

TEST_F(FunctionTest, DumpFlushRestore) {
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", kLibrary}), Bulk("counters"));
  std::string dump = Run("FUNCTION DUMP");
  ASSERT_EQ(dump[0], '$');
  std::string payload = dump.substr(dump.find("\r\n") + 2);
  payload.resize(payload.size() - 2);
  EXPECT_EQ(Run("FUNCTION FLUSH"), kOk);
  EXPECT_EQ(Run("FCALL peek 1 x"), "-ERR Function not found\r\n");
  EXPECT_EQ(RunArgs({"FUNCTION", "RESTORE", payload}), kOk);
  EXPECT_EQ(RunArgs({"FUNCTION", "RESTORE", payload}),
            "-ERR Library counters already exists\r\n");
  payload.back() ^= 1;
  EXPECT_EQ(RunArgs({"FUNCTION", "RESTORE", payload, "REPLACE"}),
            "-ERR DUMP payload version or checksum are wrong\r\n");
  EXPECT_EQ(Run("SET x 1"), kOk);
  EXPECT_EQ(Run("FCALL peek 1 x"), Bulk("1"));
}

TEST_F(FunctionTest, InsideMultiTheFunctionJoinsExec) {
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", kLibrary}), Bulk("counters"));
  EXPECT_EQ(Run("MULTI"), kOk);
  EXPECT_EQ(Run("FCALL add 2 n copy 3"), "+QUEUED\r\n");
  EXPECT_EQ(Run("FCALL_RO peek 1 copy"), "+QUEUED\r\n");
  EXPECT_EQ(Run("EXEC"), "*2\r\n:3\r\n" + Bulk("3"));
}

class ScriptPersistenceErrorTest : public ForwardedKvFixture {};

TEST_F(ScriptPersistenceErrorTest, WritesRefusedReadsServed) {
  EXPECT_EQ(Run("SET k v"), kOk);
  fwd_->SetBackgroundError(IOError("media gone"));
  std::string refused = RunArgs(
      {"EVAL", "return redis.pcall('set', 'k', 'x')['err']", "0"});
  EXPECT_EQ(refused[0], '$') << refused;  // pcall returns the error
  EXPECT_NE(refused.find("MISCONF daxkv is unable to persist"),
            std::string::npos)
      << refused;
  EXPECT_EQ(RunArgs({"EVAL", "#!lua\nreturn 1", "0"}).substr(0, 8),
            "-MISCONF");
  EXPECT_EQ(RunArgs({"EVAL", "#!lua flags=no-writes\n"
                             "return redis.call('get', 'k')",
                     "0"}),
            Bulk("v"));
  EXPECT_EQ(RunArgs({"EVAL", "return redis.call('get', 'k')", "0"}),
            Bulk("v"));
  EXPECT_EQ(RunArgs({"FUNCTION", "LOAD", kLibrary}), Bulk("counters"));
  EXPECT_EQ(Run("FCALL add 2 k x 1").substr(0, 8), "-MISCONF");
  EXPECT_EQ(Run("FCALL_RO peek 1 k"), Bulk("v"));
  fwd_->SetBackgroundError(OkStatus());
}

}  // namespace
}  // namespace daxkv::kv
