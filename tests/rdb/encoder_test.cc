// Encoding choices: the type Redis 7.0 picks at each configuration
// boundary, and quicklist node splits as RPUSH fills nodes.
#include "rdb/encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "rdb/format.h"
#include "rdb/input.h"
#include "rdb/listpack.h"

namespace daxkv::rdb {
namespace {

Hash HashOf(size_t n, size_t value_len) {
  Hash h;
  for (size_t i = 0; i < n; ++i) {
    h.fields.emplace_back("f" + std::to_string(i), std::string(value_len, 'v'));
  }
  return h;
}

Zset ZsetOf(size_t n, size_t member_len) {
  Zset z;
  for (size_t i = 0; i < n; ++i) {
    std::string m = std::to_string(i);
    m.resize(std::max(member_len, m.size()), 'm');
    z.entries.push_back({m, static_cast<double>(i)});
  }
  return z;
}

Set IntSet(size_t n) {
  Set s;
  for (size_t i = 0; i < n; ++i) s.members.push_back(std::to_string(i));
  return s;
}

TEST(EncoderTest, HashListpackBoundaries) {
  EncodeOptions o;
  EXPECT_EQ(ChooseRdbType(HashOf(512, 64), o), kTypeHashListpack);
  EXPECT_EQ(ChooseRdbType(HashOf(513, 1), o), kTypeHash);
  EXPECT_EQ(ChooseRdbType(HashOf(1, 65), o), kTypeHash);
  EXPECT_EQ(ChooseRdbType(Hash{{{std::string(65, 'f'), "v"}}}, o), kTypeHash);
  o.hash_max_listpack_entries = 0;
  EXPECT_EQ(ChooseRdbType(HashOf(1, 1), o), kTypeHash);
}

TEST(EncoderTest, ZsetListpackBoundaries) {
  EncodeOptions o;
  EXPECT_EQ(ChooseRdbType(ZsetOf(128, 64), o), kTypeZsetListpack);
  EXPECT_EQ(ChooseRdbType(ZsetOf(129, 1), o), kTypeZset2);
  EXPECT_EQ(ChooseRdbType(ZsetOf(1, 65), o), kTypeZset2);
  o.zset_max_listpack_entries = 0;
  EXPECT_EQ(ChooseRdbType(ZsetOf(1, 1), o), kTypeZset2);
}

TEST(EncoderTest, IntsetBoundaries) {
  EncodeOptions o;
  EXPECT_EQ(ChooseRdbType(IntSet(512), o), kTypeSetIntset);
  EXPECT_EQ(ChooseRdbType(IntSet(513), o), kTypeSet);
  EXPECT_EQ(ChooseRdbType(Set{{"1", "x"}}, o), kTypeSet);
  EXPECT_EQ(ChooseRdbType(Set{{"1", "-0"}}, o), kTypeSet);  // not canonical
  EXPECT_EQ(ChooseRdbType(Set{{"9223372036854775807"}}, o), kTypeSetIntset);
  EXPECT_EQ(ChooseRdbType(Set{{"9223372036854775808"}}, o), kTypeSet);
}

TEST(EncoderTest, StringsAndListsAlwaysTheSameType) {
  EncodeOptions o;
  EXPECT_EQ(ChooseRdbType(std::string("x"), o), kTypeString);
  EXPECT_EQ(ChooseRdbType(List{{"x"}}, o), kTypeListQuicklist2);
}

// Splits an encoded quicklist 2 body into its nodes' element counts.
std::vector<size_t> NodeSizes(const List& list, const EncodeOptions& o) {
  std::string body;
  StringSink sink(&body);
  EncodeValueBody(list, kTypeListQuicklist2, o, &sink);
  Input in(body);
  uint64_t nodes = 0;
  EXPECT_EQ(in.Len(&nodes), Rd::kOk);
  std::vector<size_t> sizes;
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t container;
    std::string blob;
    EXPECT_EQ(in.Len(&container), Rd::kOk);
    EXPECT_EQ(in.String(&blob), Rd::kOk);
    std::vector<std::string> elements;
    std::string error;
    EXPECT_TRUE(ParseListpack(blob, &elements, &error)) << error;
    EXPECT_LE(blob.size(), 8192u);
    sizes.push_back(elements.size());
  }
  EXPECT_EQ(in.remaining(), 0u);
  return sizes;
}

TEST(EncoderTest, QuicklistNodesFillToEightKilobytes) {
  EncodeOptions o;
  o.rdb_compression = false;
  List l;
  // 100-byte elements: 103 bytes each in a listpack, estimated as 108, so
  // 79 fit under 8192 (7 + 78 * 103 + 108 <= 8192 < 7 + 79 * 103 + 108).
  for (int i = 0; i < 200; ++i) l.elements.push_back(std::string(100, 'a'));
  EXPECT_EQ(NodeSizes(l, o), (std::vector<size_t>{79, 79, 42}));
  // Integer elements are smaller in the listpack than their text, and the
  // estimate is from the text: 16-digit integers take 10 bytes but count
  // 16 + 8. After "a" (3 bytes) and 816 of them the node holds 8170 bytes
  // and 8170 + 24 > 8192: redis-server 7.0.15 starts a new node there
  // (its older ziplist-style estimate, 16 + 2, would have taken one more).
  List ints{{"a"}};
  ints.elements.resize(901, "1153115311531153");
  EXPECT_EQ(NodeSizes(ints, o), (std::vector<size_t>{817, 84}));
  o.list_max_listpack_size = 10;  // a count limit
  EXPECT_EQ(NodeSizes(List{std::vector<std::string>(25, "x")}, o),
            (std::vector<size_t>{10, 10, 5}));
  o.list_max_listpack_size = -1;  // 4 KiB
  EXPECT_EQ(NodeSizes(l, o).front(), 39u);
}

}  // namespace
}  // namespace daxkv::rdb
