#include "kv/resp_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv/glob.h"
#include "kv/resp_writer.h"

namespace daxkv::kv {
namespace {

using Result = RequestParser::Result;

struct Parsed {
  Result result;
  std::vector<std::string> args;
  size_t consumed = 0;
  std::string error;
};

Parsed ParseAll(std::string_view in, bool authed = true,
                const ParserLimits& limits = ParserLimits()) {
  RequestParser p(limits);
  Parsed r;
  r.result = p.Parse(in.data(), in.size(), authed);
  if (r.result == Result::kComplete) {
    for (auto a : p.args()) r.args.emplace_back(a);
    r.consumed = p.consumed();
  }
  r.error = p.error();
  return r;
}

TEST(RespParserTest, Multibulk) {
  Parsed r = ParseAll("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_EQ(r.args, (std::vector<std::string>{"SET", "k", "hello"}));
  EXPECT_EQ(r.consumed, 31u);
}

TEST(RespParserTest, BinarySafeArguments) {
  using std::string_literals::operator""s;
  std::string in = "*2\r\n$3\r\nGET\r\n$4\r\na\r\n\0\r\n"s;
  Parsed r = ParseAll(in);
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_EQ(r.args[1], std::string("a\r\n\0", 4));
}

TEST(RespParserTest, ResumesByteByByteAcrossMovedBuffers) {
  const std::string full = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
  ParserLimits limits;
  RequestParser p(limits);
  std::string buf;
  Result res = Result::kIncomplete;
  for (size_t i = 0; i < full.size(); ++i) {
    buf.push_back(full[i]);
    std::string moved = buf;  // a different address every call
    res = p.Parse(moved.data(), moved.size(), true);
    if (i + 1 < full.size()) {
      ASSERT_EQ(res, Result::kIncomplete) << "at byte " << i;
    } else {
      ASSERT_EQ(res, Result::kComplete);
      EXPECT_EQ(p.args()[1], "hello world");
    }
  }
}

TEST(RespParserTest, PendingBulkBytes) {
  ParserLimits limits;
  RequestParser p(limits);
  std::string in = "*1\r\n$100000\r\nabc";
  ASSERT_EQ(p.Parse(in.data(), in.size(), true), Result::kIncomplete);
  EXPECT_EQ(p.pending_bulk_bytes(in.size()), 100000u - 3 + 2);
}

TEST(RespParserTest, EmptyMultibulkIsSkipped) {
  Parsed r = ParseAll("*0\r\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_TRUE(r.args.empty());
  EXPECT_EQ(r.consumed, 4u);
  r = ParseAll("*-1\r\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_TRUE(r.args.empty());
}

TEST(RespParserTest, Inline) {
  Parsed r = ParseAll("SET  k \"a b\\x41\\n\" 'it''s'\r\n");
  // 'it''s' is not a valid token: a closing quote must be followed by space.
  EXPECT_EQ(r.result, Result::kError);
  r = ParseAll("SET  k \"a b\\x41\\n\" 'it\\'s'\r\nGET k\r\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_EQ(r.args, (std::vector<std::string>{"SET", "k", "a bA\n", "it's"}));
  r = ParseAll("PING\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_EQ(r.args, (std::vector<std::string>{"PING"}));
  EXPECT_EQ(r.consumed, 5u);
  r = ParseAll("\r\n");
  ASSERT_EQ(r.result, Result::kComplete);
  EXPECT_TRUE(r.args.empty());
  EXPECT_EQ(ParseAll("PIN").result, Result::kIncomplete);
}

// Redis looks for an inline request's newline with strchr(): after a NUL
// byte it sees none, so the request waits until it is too big.
TEST(RespParserTest, InlineNulHidesTheNewline) {
  EXPECT_EQ(ParseAll(std::string("PI\0NG\r\n", 8)).result, Result::kIncomplete);
  EXPECT_EQ(
      ParseAll(std::string("PI\0NG\r\n", 8) + std::string(70000, 'x')).error,
      "ERR Protocol error: too big inline request");
}

TEST(RespParserTest, ProtocolErrorsUseRedisTexts) {
  EXPECT_EQ(ParseAll("*x\r\n").error,
            "ERR Protocol error: invalid multibulk length");
  // Redis's limit is INT_MAX (a bigger count waits for its arguments).
  EXPECT_EQ(ParseAll("*2147483648\r\n").error,
            "ERR Protocol error: invalid multibulk length");
  EXPECT_EQ(ParseAll("*2000000\r\n").result, Result::kIncomplete);
  EXPECT_EQ(ParseAll("*1\r\n+x\r\n").error,
            "ERR Protocol error: expected '$', got '+'");
  EXPECT_EQ(ParseAll("*1\r\n$-5\r\n").error,
            "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("*1\r\n$abc\r\n").error,
            "ERR Protocol error: invalid bulk length");
  EXPECT_EQ(ParseAll("\"unbalanced\r\n").error,
            "ERR Protocol error: unbalanced quotes in request");
  EXPECT_EQ(ParseAll(std::string(70 * 1024, 'a')).error,
            "ERR Protocol error: too big inline request");
  EXPECT_EQ(ParseAll("*" + std::string(70 * 1024, '1')).error,
            "ERR Protocol error: too big mbulk count string");
  EXPECT_EQ(ParseAll("*1\r\n$" + std::string(70 * 1024, '1')).error,
            "ERR Protocol error: too big bulk count string");
  // CR/LF never reach the error line.
  EXPECT_EQ(ParseAll("*1\r\n\r\n").error,
            "ERR Protocol error: expected '$', got ' '");
}

TEST(RespParserTest, TighterLimitsBeforeAuth) {
  std::string many = "*11\r\n";
  EXPECT_EQ(ParseAll(many, false).error,
            "ERR Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(ParseAll(many, true).result, Result::kIncomplete);
  std::string big = "*1\r\n$16385\r\n";
  EXPECT_EQ(ParseAll(big, false).error,
            "ERR Protocol error: unauthenticated bulk length");
  EXPECT_EQ(ParseAll(big, true).result, Result::kIncomplete);
  ParserLimits small;
  small.max_bulk = 10;
  EXPECT_EQ(ParseAll("*1\r\n$11\r\n", true, small).error,
            "ERR Protocol error: invalid bulk length");
}

TEST(RespParserTest, ParseInt64IsStrict) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("+1", &v));
  EXPECT_FALSE(ParseInt64("01", &v));
  EXPECT_FALSE(ParseInt64("-0", &v));
  EXPECT_FALSE(ParseInt64(" 1", &v));
  EXPECT_FALSE(ParseInt64("", &v));
  EXPECT_TRUE(ParseInt64("0", &v));
  EXPECT_EQ(v, 0);
}

TEST(RespWriterTest, Resp2AndResp3) {
  std::string out;
  ReplyWriter w(&out, 2);
  w.Null();
  w.NullArray();
  w.MapHeader(2);
  w.Double(1.5);
  w.Bool(true);
  w.Verbatim("hi");
  EXPECT_EQ(out, "$-1\r\n*-1\r\n*4\r\n$3\r\n1.5\r\n:1\r\n$2\r\nhi\r\n");
  out.clear();
  w.set_resp(3);
  w.Null();
  w.NullArray();
  w.MapHeader(2);
  w.SetHeader(1);
  w.Double(1.5);
  w.Bool(false);
  w.Verbatim("hi");
  EXPECT_EQ(out, "_\r\n_\r\n%2\r\n~1\r\n,1.5\r\n#f\r\n=6\r\ntxt:hi\r\n");
  out.clear();
  w.Error("ERR bad\r\nthing");
  w.Integer(-42);
  EXPECT_EQ(out, "-ERR bad  thing\r\n:-42\r\n");
}

TEST(GlobTest, RedisPatterns) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h\\*llo", "h*llo"));
  EXPECT_FALSE(GlobMatch("h\\*llo", "hello"));
  EXPECT_TRUE(GlobMatch("MAX*", "maxclients", true));
  // Exponential patterns finish quickly.
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

}  // namespace
}  // namespace daxkv::kv
