#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace daxkv {
namespace {

// Test vectors from RFC 3720, appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  char buf[32];
  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x8a9136aau);
  std::memset(buf, 0xff, sizeof(buf));
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x62a8ab43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x46dd794eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(crc32c::Value(buf, sizeof(buf)), 0x113fdb5cu);
}

TEST(Crc32cTest, CheckValue) {
  EXPECT_EQ(crc32c::Value("123456789", 9), 0xe3069283u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "hello persistent memory world, unaligned tail";
  for (size_t split = 0; split <= s.size(); ++split) {
    uint32_t a = crc32c::Extend(crc32c::Value(s.data(), split),
                                s.data() + split, s.size() - split);
    EXPECT_EQ(a, crc32c::Value(s.data(), s.size())) << "split " << split;
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::string s(1000, 'x');
  uint32_t base = crc32c::Value(s.data(), s.size());
  s[517] ^= 0x04;
  EXPECT_NE(crc32c::Value(s.data(), s.size()), base);
}

}  // namespace
}  // namespace daxkv
