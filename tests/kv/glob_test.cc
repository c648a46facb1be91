// GlobMatch against Redis 7.0's stringmatchlen, the edge cases: each
// expectation was checked on redis-server 7.0.15 (test_keys.GlobTest in the
// integration suite checks 1500 more patterns against both servers; the
// everyday patterns are in resp_parser_test.cc).
#include "kv/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace daxkv::kv {
namespace {

struct GlobCase {
  const char* pattern;
  const char* text;
  bool match;
};

constexpr GlobCase kCases[] = {
    {"[a-aaaa", "a", true},  // an unterminated class ends with the pattern
    {"[a-aaaa", "aa", false},
    {"[a-aaaa", "-", false},
    {"[a-", "-", true},
    {"[a-", "a", true},
    {"[a-", "b", false},
    {"[]", "]", false},  // ']' right after '[' closes an empty class
    {"[]a]", "a", false},
    {"[]]", "]", false},
    {"[^a", "b", true},
    {"[^a", "a", false},
    {"[\\", "\\", true},
    {"[b-a]", "a", true},  // a reversed range is swapped
    {"[b-a]", "c", false},
    {"a[", "a", false},
    {"a[", "ab", false},
    {"\\", "\\", true},  // a trailing backslash is literal
    {"a\\", "a\\", true},
    {"a\\", "a", false},
    {"[a\\]", "]", true},
    {"[\\]]", "]", true},
    {"[^]", "a", true},
    {"[--a]", "-", true},
    {"[--a]", "0", true},
    {"[a-]", "-", false},  // the range is 'a'..']'
    {"*[", "a[", false},
    {"\\*", "*", true},
    {"\\*", "a", false},
    {"*\\", "a\\", true},
    {"[\x01-\xff]", "\xff", true},  // bytes compare as signed chars
    {"[\x01-\xff]", "a", false},
    {"[\x80-a]", "\x01", true},
    {"?*?", "a", false},
    {"?*?", "ab", true},
    {"**a**", "bab", true},
    {"*a*b", "aaab", true},
    {"*a*b", "aaa", false},
};

TEST(GlobTest, MatchesRedisStringmatchlen) {
  for (const GlobCase& c : kCases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match)
        << "pattern '" << c.pattern << "' text '" << c.text << "'";
  }
}

// Redis 7.0 gives up beyond 1000 nested '*' (no match, no stack overflow).
TEST(GlobTest, NestingLimit) {
  const std::string text(1500, 'a');
  auto repeat = [](const std::string& s, int n) {
    std::string r;
    for (int i = 0; i < n; ++i) r += s;
    return r;
  };
  EXPECT_TRUE(GlobMatch(repeat("*a", 1000), text));
  EXPECT_FALSE(GlobMatch(repeat("*a", 1001), text));
  EXPECT_TRUE(GlobMatch(repeat("a*", 1001), text));
  EXPECT_FALSE(GlobMatch(repeat("a*", 1002), text));
}

}  // namespace
}  // namespace daxkv::kv
