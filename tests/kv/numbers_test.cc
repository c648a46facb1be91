// FormatG17 must print every double exactly as snprintf's "%.17g" does:
// that text is what Redis replies with for scores and RESP doubles, and
// what the differential tests compare byte for byte.
#include "kv/numbers.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace daxkv::kv {
namespace {

std::string Printf17(double v) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, static_cast<size_t>(n));
}

std::string G17(double v) {
  char buf[kG17Max];
  return std::string(buf, FormatG17(v, buf));
}

TEST(FormatG17Test, SpecialValuesPrintAsPrintfDoes) {
  const double values[] = {0.0,
                           -0.0,
                           1.0,
                           -1.0,
                           0.1,
                           1.5,
                           -2.5e-7,
                           1e16,
                           1e17,
                           123456789012345678.0,
                           9007199254740993.0,
                           4.6116860184273879e+18,
                           DBL_MAX,
                           -DBL_MAX,
                           DBL_MIN,
                           std::numeric_limits<double>::denorm_min(),
                           -std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(),
                           -std::numeric_limits<double>::quiet_NaN()};
  for (double v : values) {
    EXPECT_EQ(G17(v), Printf17(v)) << Printf17(v);
    EXPECT_EQ(FormatG17(v), Printf17(v)) << "the string form";
  }
  EXPECT_EQ(G17(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(G17(-0.0), "-0");
  EXPECT_EQ(G17(3.0), "3");
}

TEST(FormatG17Test, RandomDoublesPrintAsPrintfDoes) {
  std::mt19937_64 rng(20261206);
  int mismatches = 0;
  for (int i = 0; i < 200000 && mismatches < 5; ++i) {
    double v;
    switch (i % 4) {
      case 0: {  // any bit pattern, NaNs and denormals included
        const uint64_t bits = rng();
        std::memcpy(&v, &bits, sizeof(v));
        break;
      }
      case 1:  // integers, as ZADD scores usually are
        v = static_cast<double>(static_cast<int64_t>(rng()) >> (rng() % 64));
        break;
      case 2:  // short decimals ("1.25", "-0.001")
        v = static_cast<double>(static_cast<int64_t>(rng() % 2000001) -
                                1000000) /
            std::pow(10.0, static_cast<double>(rng() % 7));
        break;
      default:  // around the fixed / exponent switch of %g
        v = std::ldexp(1.0 + static_cast<double>(rng() % 1000) / 1000.0,
                       static_cast<int>(rng() % 130) - 65);
        break;
    }
    const std::string want = Printf17(v);
    const std::string got = G17(v);
    if (got != want) {
      ++mismatches;
      ADD_FAILURE() << "FormatG17 wrote " << got << ", printf " << want;
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace daxkv::kv
