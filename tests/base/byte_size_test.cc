#include "base/byte_size.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

namespace daxkv {
namespace {

struct ParseCase {
  std::string_view text;
  uint64_t bytes;
};

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

// Every spelling daxkv-server's config (decimal, any-case b/k/kb/kib ...
// t/tb/tib) or daxkv-inspect (hex, K/k/KiB, M/MiB, G/GiB) accepted before
// the two parsers became this one.
constexpr ParseCase kAccepted[] = {
    {"0", 0},
    {"4096", 4096},
    {"010", 10},  // decimal, never octal
    {"18446744073709551615", UINT64_MAX},
    {"7b", 7},
    {"7B", 7},
    {"2k", 2 * kKiB},
    {"2K", 2 * kKiB},
    {"2kb", 2 * kKiB},
    {"2KB", 2 * kKiB},
    {"2kib", 2 * kKiB},
    {"2KiB", 2 * kKiB},
    {"64m", 64 * kMiB},
    {"64M", 64 * kMiB},
    {"64MB", 64 * kMiB},
    {"64MiB", 64 * kMiB},
    {"1g", kGiB},
    {"1G", kGiB},
    {"1gb", kGiB},
    {"1GiB", kGiB},
    {"3t", 3 * kTiB},
    {"3T", 3 * kTiB},
    {"3TB", 3 * kTiB},
    {"3TiB", 3 * kTiB},
    {"16777215T", 16777215 * kTiB},  // the largest whole TiB count
    {"0x1000", 4096},
    {"0X1000", 4096},
    {"0xff", 255},
    {"0x1b", 27},  // after hex digits a "b" is a digit
    {"0x10M", 16 * kMiB},
    {"0x2G", 2 * kGiB},
};

TEST(ByteSizeTest, AcceptsEverySpelling) {
  for (const ParseCase& c : kAccepted) {
    uint64_t bytes = 12345;
    EXPECT_TRUE(ParseByteSize(c.text, &bytes)) << c.text;
    EXPECT_EQ(bytes, c.bytes) << c.text;
  }
}

constexpr std::string_view kRefused[] = {
    "",
    "-1",
    "+1",                    // no sign
    " 1",                    // no spaces
    "1 ",                    //
    "1 M",                   //
    "1.5G",                  // no fractions
    "12X",                   // unknown unit
    "12Q",                   //
    "M",                     // no number
    "0x",                    // no hex digits
    "0xG",                   //
    "1Mi",                   // half a unit
    "1kk",                   //
    "1pb",                   // beyond TiB
    "99999999999999999999",  // over 64 bits
    "16777216T",             // 2^64 bytes
    "17179869184G",          //
    "99999999999T",          //
    "0x10000000000000000",   //
};

TEST(ByteSizeTest, RefusesAnythingElseAndLeavesTheOutputAlone) {
  for (std::string_view text : kRefused) {
    uint64_t bytes = 12345;
    EXPECT_FALSE(ParseByteSize(text, &bytes)) << "'" << text << "'";
    EXPECT_EQ(bytes, 12345u) << text;
  }
}

struct HumanCase {
  uint64_t bytes;
  std::string_view text;
};

constexpr HumanCase kHuman[] = {
    {0, "0 B"},
    {512, "512 B"},
    {1023, "1023 B"},
    {1024, "1 KiB"},
    {1536, "1.5 KiB"},
    {2 * kMiB, "2 MiB"},
    {64 * kMiB + 512 * 1024, "64.5 MiB"},
    {1536 * kMiB, "1.5 GiB"},
    {kGiB + 1, "1.0 GiB"},  // not whole: one decimal
    {5 * kTiB, "5 TiB"},
    {2048 * kTiB, "2048 TiB"},  // TiB is the largest unit
};

TEST(ByteSizeTest, HumanBytes) {
  for (const HumanCase& c : kHuman) {
    EXPECT_EQ(HumanBytes(c.bytes), c.text) << c.bytes;
  }
}

TEST(ByteSizeTest, HumanBytesParsesBackWhenWhole) {
  for (const HumanCase& c : kHuman) {
    if (c.text.find('.') != std::string_view::npos) continue;
    std::string text = HumanBytes(c.bytes);
    text.erase(text.find(' '), 1);
    uint64_t bytes = 0;
    EXPECT_TRUE(ParseByteSize(text, &bytes)) << text;
    EXPECT_EQ(bytes, c.bytes) << text;
  }
}

}  // namespace
}  // namespace daxkv
