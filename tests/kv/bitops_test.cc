// The bit primitives behind the bitmap commands (kv/bitops.h), against
// brute-force bit-by-bit models; the commands themselves are compared with
// redis-server in tests/kv/integration/test_bitmap.py.
#include "kv/bitops.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace daxkv::kv {
namespace {

int Bit(const std::string& s, uint64_t i) {
  return (static_cast<uint8_t>(s[i / 8]) >> (7 - i % 8)) & 1;
}

TEST(BitopsTest, CountAndFindMatchABitByBitModel) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string s(1 + rng() % 40, '\0');
    for (char& c : s) {
      // Mostly runs of 0x00 / 0xff, so the word-skipping paths run.
      uint64_t r = rng() % 4;
      c = static_cast<char>(r == 0 ? 0 : r == 1 ? 0xff : rng());
    }
    const uint64_t nbits = s.size() * 8;
    uint64_t first = rng() % nbits, last = rng() % nbits;
    if (first > last) std::swap(first, last);
    uint64_t count = 0;
    int64_t first1 = -1, first0 = -1;
    for (uint64_t i = first; i <= last; ++i) {
      count += Bit(s, i);
      if (Bit(s, i) == 1 && first1 < 0) first1 = static_cast<int64_t>(i);
      if (Bit(s, i) == 0 && first0 < 0) first0 = static_cast<int64_t>(i);
    }
    EXPECT_EQ(CountBits(s, first, last), count) << round;
    EXPECT_EQ(FindBit(s, first, last, 1), first1) << round;
    EXPECT_EQ(FindBit(s, first, last, 0), first0) << round;
  }
}

TEST(BitopsTest, ResolveBitRange) {
  uint64_t f = 0, l = 0;
  ASSERT_TRUE(ResolveBitRange(1, -1, false, 6, &f, &l));
  EXPECT_EQ(f, 8u);
  EXPECT_EQ(l, 47u);
  ASSERT_TRUE(ResolveBitRange(-5, -1, true, 6, &f, &l));
  EXPECT_EQ(f, 43u);
  EXPECT_EQ(l, 47u);
  ASSERT_TRUE(ResolveBitRange(-100, 100, false, 6, &f, &l));
  EXPECT_EQ(f, 0u);
  EXPECT_EQ(l, 47u);
  EXPECT_FALSE(ResolveBitRange(5, 3, false, 6, &f, &l));
  EXPECT_FALSE(ResolveBitRange(0, -1, false, 0, &f, &l));
  EXPECT_FALSE(ResolveBitRange(6, 10, false, 6, &f, &l));
}

TEST(BitopsTest, ParseOffsetAndType) {
  const uint64_t kMax = 512ull << 20;
  uint64_t off = 0;
  EXPECT_TRUE(ParseBitOffset("4294967295", 0, kMax, &off));
  EXPECT_EQ(off, 4294967295u);
  EXPECT_FALSE(ParseBitOffset("4294967296", 0, kMax, &off));
  EXPECT_FALSE(ParseBitOffset("-1", 0, kMax, &off));
  EXPECT_FALSE(ParseBitOffset("#3", 0, kMax, &off));  // only for BITFIELD
  EXPECT_TRUE(ParseBitOffset("#3", 16, kMax, &off));
  EXPECT_EQ(off, 48u);
  EXPECT_FALSE(ParseBitOffset("#", 16, kMax, &off));
  EXPECT_FALSE(ParseBitOffset("#-1", 16, kMax, &off));
  EXPECT_FALSE(ParseBitOffset("#9223372036854775807", 8, kMax, &off));
  BitfieldType t;
  EXPECT_TRUE(ParseBitfieldType("i64", &t));
  EXPECT_TRUE(t.is_signed);
  EXPECT_EQ(t.bits, 64);
  EXPECT_TRUE(ParseBitfieldType("U63", &t));
  EXPECT_FALSE(t.is_signed);
  for (const char* bad : {"u64", "i65", "i0", "u", "x8", "", "i-1", "u08x"}) {
    EXPECT_FALSE(ParseBitfieldType(bad, &t)) << bad;
  }
}

TEST(BitopsTest, FieldsReadAndWriteMostSignificantFirst) {
  std::string s;
  SetBits(&s, 4, 8, 0xAB);
  EXPECT_EQ(s, std::string("\x0a\xb0", 2));
  EXPECT_EQ(GetUnsignedBits(s, 4, 8), 0xABu);
  EXPECT_EQ(GetSignedBits(s, 4, 8), -85);
  EXPECT_EQ(GetUnsignedBits(s, 12, 20), 0u);  // past the end reads zeros
  SetBits(&s, 0, 64, ~uint64_t{0});
  EXPECT_EQ(GetSignedBits(s, 0, 64), -1);
  EXPECT_EQ(GetUnsignedBits(s, 1, 63), (uint64_t{1} << 63) - 1);
}

TEST(BitopsTest, OverflowWrapSatFail) {
  uint64_t u = 0;
  EXPECT_EQ(CheckUnsignedOverflow(250, 10, 8, BitfieldOverflow::kWrap, &u), 1);
  EXPECT_EQ(u, 4u);
  EXPECT_EQ(CheckUnsignedOverflow(250, 10, 8, BitfieldOverflow::kSat, &u), 1);
  EXPECT_EQ(u, 255u);
  EXPECT_EQ(CheckUnsignedOverflow(3, -4, 8, BitfieldOverflow::kSat, &u), -1);
  EXPECT_EQ(u, 0u);
  EXPECT_EQ(CheckUnsignedOverflow(3, INT64_MIN, 63, BitfieldOverflow::kSat, &u),
            -1);
  EXPECT_EQ(CheckUnsignedOverflow(3, 4, 8, BitfieldOverflow::kFail, &u), 0);
  // SET of a negative value into an unsigned field wraps it.
  EXPECT_EQ(
      CheckUnsignedOverflow(~uint64_t{0}, 0, 8, BitfieldOverflow::kWrap, &u),
      1);
  EXPECT_EQ(u, 255u);
  int64_t i = 0;
  EXPECT_EQ(CheckSignedOverflow(100, 100, 8, BitfieldOverflow::kWrap, &i), 1);
  EXPECT_EQ(i, -56);
  EXPECT_EQ(CheckSignedOverflow(-100, -100, 8, BitfieldOverflow::kSat, &i), -1);
  EXPECT_EQ(i, -128);
  EXPECT_EQ(CheckSignedOverflow(INT64_MAX, 1, 64, BitfieldOverflow::kWrap, &i),
            1);
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_EQ(CheckSignedOverflow(INT64_MIN, -1, 64, BitfieldOverflow::kSat, &i),
            -1);
  EXPECT_EQ(i, INT64_MIN);
  EXPECT_EQ(CheckSignedOverflow(-1, 1, 64, BitfieldOverflow::kFail, &i), 0);
}

}  // namespace
}  // namespace daxkv::kv
