// The blobs inside RDB values: listpack (built and parsed), ziplist, intset
// and zipmap (parsed), against hand-checked bytes and malformed variants.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/ziplist.h"
#include "rdb/zipmap.h"
#include "tests/rdb/rdb_test_util.h"

namespace daxkv::rdb {
namespace {

using testing::BuildZiplist;
using testing::BuildZipmap;
using testing::Unhex;

// Every truncation of `good`, and `good` with each byte set to each of
// `values`, goes through `parse`: it must return (parse or refuse), never
// crash; ASan/UBSan builds make that meaningful.
template <typename Parse>
void ForEachDamage(const std::string& good, std::initializer_list<int> values,
                   Parse parse) {
  for (size_t i = 0; i < good.size(); ++i) {
    parse(good.substr(0, i));
    for (int v : values) {
      std::string t = good;
      t[i] = static_cast<char>(v);
      parse(t);
    }
  }
}

std::vector<std::string> ParseLp(const std::string& blob) {
  std::vector<std::string> out;
  std::string error;
  EXPECT_TRUE(ParseListpack(blob, &out, &error)) << error;
  return out;
}

// Every integer width and every string-length encoding, at the boundaries.
const std::vector<std::string>& BoundaryElements() {
  static const std::vector<std::string> kElements = {
      "0",
      "127",
      "128",
      "-1",
      "-4096",
      "4095",
      "4096",
      "-4097",
      "32767",
      "-32768",
      "32768",
      "8388607",
      "-8388608",
      "8388608",
      "2147483647",
      "-2147483648",
      "2147483648",
      "9223372036854775807",
      "-9223372036854775808",
      "",
      "-0",
      "007",
      "+5",
      std::string(63, 'a'),
      std::string(64, 'b'),
      std::string(4095, 'c'),
      std::string(4096, 'd'),
      std::string("\0\xff\x80", 3),
      std::string(70000, 'e')};
  return kElements;
}

TEST(ListpackTest, BuilderMatchesRedisBytes) {
  // The quicklist node of RPUSH l 0 1 a -5000 70000 -9000000 3000000000 x*70,
  // DUMPed by redis-server 7.0.15 with rdbcompression no.
  const std::string redis =
      Unhex(
          "70000000080000010101816102f178ec03f270110104f3c0ab76ff05f4005ed0"
          "b20000000009e046") +
      std::string(70, 'x') + Unhex("48ff");
  ListpackBuilder b;
  for (const char* e :
       {"0", "1", "a", "-5000", "70000", "-9000000", "3000000000"}) {
    b.Append(e);
  }
  b.Append(std::string(70, 'x'));
  EXPECT_EQ(b.bytes(), redis.size());
  EXPECT_EQ(b.Finish(), redis);
}

TEST(ListpackTest, RoundTripsEveryEncoding) {
  ListpackBuilder b;
  size_t predicted = kEmptyListpackBytes;
  for (const std::string& e : BoundaryElements()) {
    b.Append(e);
    predicted += ListpackEntrySize(e);
    EXPECT_EQ(b.bytes(), predicted) << e.size();
  }
  EXPECT_EQ(ParseLp(b.Finish()), BoundaryElements());
}

TEST(ListpackTest, BackLengthBoundaries) {
  // Entry lengths 127/128 and 16382/16383 switch the back-length width.
  for (size_t len : {125u, 126u, 127u, 16379u, 16380u, 16381u, 16382u}) {
    ListpackBuilder b;
    b.Append(std::string(len, 'q'));
    b.Append("tail");
    std::vector<std::string> got = ParseLp(b.Finish());
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].size(), len);
  }
}

TEST(ListpackTest, CountSaturatesAt65535) {
  ListpackBuilder b;
  for (int i = 0; i < 70000; ++i) b.Append("1");
  std::string blob = b.Finish();
  EXPECT_EQ(static_cast<uint8_t>(blob[4]), 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(blob[5]), 0xFF);
  EXPECT_EQ(ParseLp(blob).size(), 70000u);
}

TEST(ListpackTest, RejectsMalformed) {
  ListpackBuilder b;
  b.Append("hello");
  b.Append("12345");
  const std::string good = b.Finish();
  std::vector<std::string> out;
  std::string error;
  auto bad = [&](const std::string& blob) {
    out.clear();
    return !ParseListpack(blob, &out, &error);
  };
  EXPECT_TRUE(bad(good.substr(0, good.size() - 1)));  // no terminator
  EXPECT_TRUE(bad(good + "x"));                       // size header mismatch
  std::string t = good;
  t[0] = static_cast<char>(t[0] + 1);
  EXPECT_TRUE(bad(t));
  t = good;
  t[4] = 3;  // count
  EXPECT_TRUE(bad(t));
  t = good;
  t[6 + 6] = 9;  // back-length of "hello"
  EXPECT_TRUE(bad(t));
  t = good;
  t[6] = static_cast<char>(0x80 | 40);  // string length past the end
  EXPECT_TRUE(bad(t));
  t = good;
  t[6] = static_cast<char>(0xF7);  // no such encoding
  EXPECT_TRUE(bad(t));
  EXPECT_TRUE(bad(std::string("\x06\x00\x00\x00\x00\x00", 6)));
  ForEachDamage(good, {0x00, 0x7F, 0x80, 0xC0, 0xE0, 0xF0, 0xF4, 0xFF}, bad);
}

TEST(ZiplistTest, ParsesEveryEncoding) {
  std::vector<std::string> entries = BoundaryElements();
  entries.push_back(std::string(300, 'p'));    // forces a 5-byte prevlen
  entries.push_back("12");                     // immediate
  entries.push_back("13");                     // int8
  entries.push_back(std::string(20000, 'z'));  // 32-bit string length
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(ParseZiplist(BuildZiplist(entries), &out, &error)) << error;
  EXPECT_EQ(out, entries);
}

TEST(ZiplistTest, EmptyZiplistIsValidAndEmpty) {
  std::vector<std::string> out;
  std::string error;
  EXPECT_TRUE(ParseZiplist(BuildZiplist({}), &out, &error)) << error;
  EXPECT_TRUE(out.empty());
}

TEST(ZiplistTest, RejectsMalformed) {
  const std::string good =
      BuildZiplist({"a", "300", std::string(260, 'x'), "b"});
  std::vector<std::string> out;
  std::string error;
  auto bad = [&](const std::string& blob) {
    out.clear();
    return !ParseZiplist(blob, &out, &error);
  };
  ASSERT_FALSE(bad(good)) << error;
  std::string t = good;
  t[4] = static_cast<char>(t[4] + 1);  // tail offset
  EXPECT_TRUE(bad(t));
  t = good;
  t[8] = 7;  // count
  EXPECT_TRUE(bad(t));
  t = good;
  t[10 + 3] = 5;  // prevlen of the second entry
  EXPECT_TRUE(bad(t));
  t = good;
  t[11] = static_cast<char>(0xC1);  // no such encoding
  EXPECT_TRUE(bad(t));
  EXPECT_TRUE(bad(good.substr(0, good.size() - 1)));
  ForEachDamage(good, {0x00, 0x3F, 0x40, 0x80, 0xC0, 0xF0, 0xFE, 0xFF}, bad);
}

TEST(IntsetTest, BuildsTheNarrowestEncodingAsRedisDoes) {
  // SADD s16 5 -3 100 / SADD s32 5 70000 / SADD s64 -1 9000000000 on
  // redis-server 7.0.15 (the blob inside the DUMP payload).
  EXPECT_EQ(BuildIntset({-3, 5, 100}), Unhex("0200000003000000fdff05006400"));
  EXPECT_EQ(BuildIntset({5, 70000}), Unhex("04000000020000000500000070110100"));
  EXPECT_EQ(BuildIntset({-1, 9000000000}),
            Unhex("0800000002000000ffffffffffffffff001a711802000000"));
}

TEST(IntsetTest, ParsesAndValidates) {
  std::vector<std::string> out;
  std::string error;
  ASSERT_TRUE(
      ParseIntset(BuildIntset({INT64_MIN, -1, 0, INT64_MAX}), &out, &error));
  EXPECT_EQ(out, (std::vector<std::string>{"-9223372036854775808", "-1", "0",
                                           "9223372036854775807"}));
  EXPECT_FALSE(ParseIntset(BuildIntset({}), &out, &error));  // empty
  std::string unsorted = BuildIntset({1, 2});
  std::swap(unsorted[8], unsorted[10]);
  EXPECT_FALSE(ParseIntset(unsorted, &out, &error));
  std::string dup = BuildIntset({1, 2});
  dup[10] = 1;
  EXPECT_FALSE(ParseIntset(dup, &out, &error));
  std::string wide = BuildIntset({1, 2});
  wide[0] = 3;
  EXPECT_FALSE(ParseIntset(wide, &out, &error));
  EXPECT_FALSE(ParseIntset(BuildIntset({1, 2}) + "xx", &out, &error));
  EXPECT_FALSE(ParseIntset("\x02\x00\x00", &out, &error));
}

TEST(ZipmapTest, ParsesAndValidates) {
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"a", "1"}, {std::string(300, 'k'), std::string(1000, 'v')}, {"", ""}};
  std::vector<std::pair<std::string, std::string>> out;
  std::string error;
  ASSERT_TRUE(ParseZipmap(BuildZipmap(pairs), &out, &error)) << error;
  EXPECT_EQ(out, pairs);
  std::string good = BuildZipmap({{"f", "v"}});
  std::string t = good;
  t[0] = 2;  // count
  EXPECT_FALSE(ParseZipmap(t, &out, &error));
  EXPECT_FALSE(ParseZipmap(good.substr(0, good.size() - 1), &out, &error));
  EXPECT_FALSE(ParseZipmap(std::string("\x00\xff", 2), &out, &error));  // empty
  t = good;
  t.insert(t.size() - 1, "junk");
  EXPECT_FALSE(ParseZipmap(t, &out, &error));
  ForEachDamage(good, {0x00, 0xFD, 0xFE, 0xFF}, [&](const std::string& b) {
    return ParseZipmap(b, &out, &error);
  });
}

}  // namespace
}  // namespace daxkv::rdb
