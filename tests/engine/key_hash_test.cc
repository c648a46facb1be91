// HashBytes (engine/key_hash.h): LoadTail must read the last n < 8 bytes
// exactly as a memcpy into a zeroed word does, so that the hash of every
// key is what it was.
#include "engine/key_hash.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace daxkv::engine {
namespace {

TEST(KeyHashTest, LoadTailEqualsMemcpy) {
  std::mt19937_64 rng(8);
  char buf[16];
  for (int round = 0; round < 2000; ++round) {
    for (char& c : buf) c = static_cast<char>(rng());
    for (size_t off = 0; off < 8; ++off) {
      for (size_t n = 0; n < 8; ++n) {
        uint64_t want = 0;
        std::memcpy(&want, buf + off, n);
        ASSERT_EQ(LoadTail(buf + off, n), want) << "n=" << n;
      }
    }
  }
}

TEST(KeyHashTest, KnownValuesUnchanged) {
  // Computed with the memcpy tail before LoadTail replaced it.
  uint64_t want[8] = {};
  const char* text = "abcdefghijklmnop";
  for (size_t n = 0; n < 8; ++n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    uint64_t w = 0;
    std::memcpy(&w, text, n);
    h = MixMul(h ^ w ^ (uint64_t{n} << 56), 0x94d049bb133111ebull);
    want[n] = MixMul(h, 0x2545F4914F6CDD1Dull);
    EXPECT_EQ(HashBytes(text, n), want[n]) << "n=" << n;
  }
}

}  // namespace
}  // namespace daxkv::engine
