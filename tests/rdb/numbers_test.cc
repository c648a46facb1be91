#include "rdb/numbers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace daxkv::rdb {
namespace {

TEST(NumbersTest, CanonicalIntegersOnly) {
  int64_t v = 0;
  EXPECT_TRUE(ParseCanonicalInt64("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseCanonicalInt64("-12", &v));
  EXPECT_EQ(v, -12);
  EXPECT_TRUE(ParseCanonicalInt64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseCanonicalInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  for (const char* s : {"", "-", "-0", "+1", "01", " 1", "1 ", "1.0", "1e3",
                        "9223372036854775808", "-9223372036854775809",
                        "99999999999999999999"}) {
    EXPECT_FALSE(ParseCanonicalInt64(s, &v)) << s;
  }
}

TEST(NumbersTest, ScoresFormatAsRedis70D2string) {
  EXPECT_EQ(ScoreToListpackString(1.5), "1.5");
  EXPECT_EQ(ScoreToListpackString(0.1), "0.10000000000000001");
  EXPECT_EQ(ScoreToListpackString(-2), "-2");
  EXPECT_EQ(ScoreToListpackString(-0.0), "0");  // observed on 7.0.15
  EXPECT_EQ(ScoreToListpackString(1e20), "1e+20");
  EXPECT_EQ(ScoreToListpackString(4503599627370495.0), "4503599627370495");
  EXPECT_EQ(ScoreToListpackString(4503599627370496.0), "4503599627370496");
  EXPECT_EQ(ScoreToListpackString(-4503599627370495.0), "-4503599627370495");
  EXPECT_EQ(ScoreToListpackString(std::numeric_limits<double>::infinity()),
            "inf");
  EXPECT_EQ(ScoreToListpackString(-std::numeric_limits<double>::infinity()),
            "-inf");
}

TEST(NumbersTest, ParseScore) {
  double d = 0;
  EXPECT_TRUE(ParseScore("1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(ParseScore("-inf", &d));
  EXPECT_TRUE(std::isinf(d) && d < 0);
  EXPECT_TRUE(ParseScore("0.10000000000000001", &d));
  EXPECT_EQ(d, 0.1);
  EXPECT_FALSE(ParseScore("nan", &d));
  EXPECT_FALSE(ParseScore("1.5x", &d));
  EXPECT_FALSE(ParseScore("", &d));
}

TEST(NumbersTest, EveryFormattedScoreParsesBack) {
  for (double s : {0.1, 1e-300, -1e300, 123456789.125, 2.5e-8, 1.0 / 3}) {
    double back = 0;
    ASSERT_TRUE(ParseScore(ScoreToListpackString(s), &back));
    EXPECT_EQ(back, s);
  }
}

}  // namespace
}  // namespace daxkv::rdb
