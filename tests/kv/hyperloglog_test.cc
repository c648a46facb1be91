// The HLL encoding (kv/hyperloglog.h) against bytes redis-server 7.0
// produced for the same PFADDs (golden vectors recorded with GET), plus
// corruption handling. The full differential run against a live
// redis-server is tests/kv/integration/test_hyperloglog.py.
#include "kv/hyperloglog.h"

#include <gtest/gtest.h>

#include <string>

namespace daxkv::kv {
namespace {

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(HyperLogLogTest, NewIsAnEmptySparseHll) {
  std::string h = hll::New();
  EXPECT_EQ(h, FromHex("48594c4c0100000000000000000000007fff"));
  EXPECT_TRUE(hll::LooksValid(h));
  uint64_t card = 1;
  bool recomputed = true;
  ASSERT_TRUE(hll::Count(&h, &card, &recomputed));
  EXPECT_EQ(card, 0u);
  EXPECT_FALSE(recomputed);
}

// redis-server: PFADD g a; GET g / PFADD g b c foo bar; GET g; PFCOUNT g.
TEST(HyperLogLogTest, SparseBytesMatchRedis) {
  std::string h = hll::New();
  EXPECT_EQ(hll::Add(&h, "a"), 1);
  hll::InvalidateCache(&h);  // PFADD invalidates on any change
  EXPECT_EQ(h, FromHex("48594c4c01000000000000000000008071a6844e57"));
  for (const char* e : {"b", "c", "foo", "bar"}) EXPECT_EQ(hll::Add(&h, e), 1);
  EXPECT_EQ(hll::Add(&h, "a"), 0);
  EXPECT_EQ(h, FromHex("48594c4c0100000000000000000000805cb390443e804621804a8e"
                       "844bfb80425a"));
  uint64_t card = 0;
  bool recomputed = false;
  ASSERT_TRUE(hll::Count(&h, &card, &recomputed));
  EXPECT_EQ(card, 5u);
  EXPECT_TRUE(recomputed);
  EXPECT_EQ(h, FromHex("48594c4c0100000005000000000000005cb390443e804621804a8e"
                       "844bfb80425a"));
}

// redis-server: PFADD g2 x0 .. x4999 (in batches of 100): dense, PFCOUNT
// 4970.
TEST(HyperLogLogTest, PromotesToDenseAndCountsAsRedis) {
  std::string h = hll::New();
  for (int i = 0; i < 5000; ++i) hll::Add(&h, "x" + std::to_string(i));
  EXPECT_TRUE(hll::IsDense(h));
  EXPECT_EQ(h.size(), hll::kDenseSize);
  hll::InvalidateCache(&h);
  uint64_t card = 0;
  bool recomputed = false;
  ASSERT_TRUE(hll::Count(&h, &card, &recomputed));
  EXPECT_EQ(card, 4970u);
  hll::Registers max{};
  ASSERT_TRUE(hll::MergeInto(h, &max));
  EXPECT_EQ(hll::Estimate(max), 4970u);
}

TEST(HyperLogLogTest, MergeSparseIntoNewMatchesUnionCount) {
  std::string a = hll::New(), b = hll::New();
  for (int i = 0; i < 300; ++i) hll::Add(&a, "a" + std::to_string(i));
  for (int i = 0; i < 300; ++i) hll::Add(&b, "b" + std::to_string(i));
  hll::Registers max{};
  ASSERT_TRUE(hll::MergeInto(a, &max));
  ASSERT_TRUE(hll::MergeInto(b, &max));
  std::string m = hll::New();
  ASSERT_TRUE(hll::Store(&m, max, false));
  uint64_t card = 0;
  bool recomputed = false;
  ASSERT_TRUE(hll::Count(&m, &card, &recomputed));
  EXPECT_EQ(card, hll::Estimate(max));
  EXPECT_NEAR(static_cast<double>(card), 600.0, 30.0);
}

TEST(HyperLogLogTest, RejectsForeignAndCorruptValues) {
  EXPECT_FALSE(hll::LooksValid("foo"));
  EXPECT_FALSE(
      hll::LooksValid(FromHex("48594c4c0200000000000000000000807fff")));
  // Dense with the wrong size.
  EXPECT_FALSE(
      hll::LooksValid(FromHex("48594c4c0000000000000000000000807fff")));
  // Sparse covering too few registers, or too many.
  for (const char* hex : {"48594c4c0100000000000000000000807ffe",
                          "48594c4c0100000000000000000000807fff7fff",
                          "48594c4c010000000000000000000080"}) {
    std::string h = FromHex(hex);
    ASSERT_TRUE(hll::LooksValid(h)) << hex;
    uint64_t card = 0;
    bool recomputed = false;
    EXPECT_FALSE(hll::Count(&h, &card, &recomputed)) << hex;
    hll::Registers max{};
    EXPECT_FALSE(hll::MergeInto(h, &max)) << hex;
  }
  std::string empty_body = FromHex("48594c4c010000000000000000000080");
  EXPECT_EQ(hll::Add(&empty_body, "a"), -1);
}

TEST(HyperLogLogTest, MurmurHash64AAsRedis) {
  EXPECT_EQ(hll::MurmurHash64A("", 0), 0u);
  // Redis's sparse bytes for PFADD g a (above) put "a" in register 12711
  // (XZERO 12711, VAL 2, XZERO 3672) with a count of 2: hash bits 0..13
  // are 12711, bit 14 is 0 and bit 15 is 1.
  const uint64_t h = hll::MurmurHash64A("a", 0xadc83b19ULL);
  EXPECT_EQ(h & 0x3fff, 12711u);
  EXPECT_EQ((h >> 14) & 3, 2u);
}

}  // namespace
}  // namespace daxkv::kv
