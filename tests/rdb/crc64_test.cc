#include "rdb/crc64.h"

#include <gtest/gtest.h>

#include <string>

namespace daxkv::rdb {
namespace {

// The check value of CRC-64/Jones as Redis's crc64.c defines it (its own
// test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca).
TEST(Crc64Test, RedisCheckValue) {
  EXPECT_EQ(crc64::Value("123456789"), 0xe9c6d914c4b8d9caull);
}

TEST(Crc64Test, EmptyIsZero) { EXPECT_EQ(crc64::Value(""), 0u); }

TEST(Crc64Test, ExtendEqualsWholeAtEverySplit) {
  std::string s;
  for (int i = 0; i < 300; ++i) s.push_back(static_cast<char>(i * 7 + 3));
  uint64_t whole = crc64::Value(s);
  for (size_t split = 0; split <= s.size(); ++split) {
    EXPECT_EQ(crc64::Extend(crc64::Value(s.substr(0, split)), s.substr(split)),
              whole)
        << "split " << split;
  }
}

// A DUMP payload captured from redis-server 7.0.15 (SADD i 1 2 3): its last
// eight bytes are the CRC of the rest, little-endian.
TEST(Crc64Test, MatchesARedisDumpFooter) {
  const std::string payload(
      "\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00\x0a\x00"
      "\xa5\x02\x5c\xe2\x6d\x6e\x4d\x1b",
      26);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) {
    stored = (stored << 8) | static_cast<uint8_t>(payload[18 + i]);
  }
  EXPECT_EQ(crc64::Value(payload.substr(0, 18)), stored);
}

TEST(Crc64Test, DetectsEveryBitFlip) {
  std::string s(64, 'r');
  uint64_t base = crc64::Value(s);
  for (size_t i = 0; i < s.size() * 8; ++i) {
    std::string t = s;
    t[i / 8] = static_cast<char>(t[i / 8] ^ (1 << (i % 8)));
    EXPECT_NE(crc64::Value(t), base) << "bit " << i;
  }
}

}  // namespace
}  // namespace daxkv::rdb
