// DUMP/RESTORE payloads: payloads captured from redis-server 7.0.15 decode
// to what was stored and re-encode to the same bytes; every value kind round
// trips; every failure lands in the class whose RESTORE reply Redis gives.
#include "rdb/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "rdb/format.h"
#include "rdb/listpack.h"
#include "tests/rdb/rdb_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::rdb {
namespace {

using testing::BuildZiplist;
using testing::BuildZipmap;
using testing::FramePayload;
using ::testing::HasSubstr;
using testing::Unhex;

constexpr double kInf = std::numeric_limits<double>::infinity();

EncodeOptions NoCompression() {
  EncodeOptions o;
  o.rdb_compression = false;
  return o;
}

// Payloads DUMPed by redis-server 7.0.15 (rdbcompression no, except "lzf").
struct Golden {
  const char* name;
  std::string hex;
  Value value;
};

std::vector<Golden> Goldens() {
  return {
      {"quicklist",
       "120102407070000000080000010101816102f178ec03f270110104f3c0ab76ff05f40"
       "05ed0b20000000009e046" +
           testing::Hex(std::string(70, 'x')) + "48ff0a0062c343d97f08549d",
       List{{"0", "1", "a", "-5000", "70000", "-9000000", "3000000000",
             std::string(70, 'x')}}},
      {"hash listpack",
       "101414000000040082663103827631030c01dffd02ff0a00a80c21bb77a5890b",
       Hash{{{"f1", "v1"}, {"12", "-3"}}}},
      {"zset listpack",
       "1136360000000800816302842d696e6605816202dffe0281640293302e3130303030"
       "3030303030303030303030311481610283312e3504ff0a0012006c360bec9388",
       Zset{{{"c", -kInf}, {"b", -2}, {"d", 0.1}, {"a", 1.5}}}},
      {"intset 16", "0b0e0200000003000000fdff050064000a00c294c18c013c0d27",
       Set{{"-3", "5", "100"}}},
      {"intset 32", "0b10040000000200000005000000701101000a00c108697164e28f2c",
       Set{{"5", "70000"}}},
      {"intset 64",
       "0b180800000002000000ffffffffffffffff001a7118020000000a00919f26364b7edf"
       "c9",
       Set{{"-1", "9000000000"}}},
      {"int16 string", "00c139300a009d94ea2793fc08b9", std::string("12345")},
      {"int8 string", "00c0ff0a000c937e2485089dc5", std::string("-1")},
      {"int64 as text", "000b31323334353637383930310a00304e52d727176510",
       std::string("12345678901")},
      {"lzf string", "00c30a3c02616261e02e010161620a00bb16d3ebae6fc574",
       std::string(60, 'a')},
  };
}

TEST(PayloadTest, DecodesRedisPayloads) {
  for (Golden& g : Goldens()) {
    if (std::string(g.name) == "lzf string") {
      g.value = std::string();
      for (int i = 0; i < 30; ++i) std::get<std::string>(g.value) += "ab";
    }
    ASSERT_OK_AND_ASSIGN(Value v, DecodeDumpPayload(Unhex(g.hex)));
    EXPECT_EQ(v, g.value) << g.name;
  }
}

TEST(PayloadTest, EncodesRedisPayloadsByteForByte) {
  for (const Golden& g : Goldens()) {
    if (std::string(g.name) == "lzf string") continue;  // LZF bytes vary
    ASSERT_OK_AND_ASSIGN(std::string p,
                         EncodeDumpPayload(g.value, NoCompression()));
    EXPECT_EQ(testing::Hex(p), g.hex) << g.name;
  }
}

TEST(PayloadTest, LzfStringsCompressAndDecodeBack) {
  std::string s;
  for (int i = 0; i < 30; ++i) s += "ab";
  ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(s));
  EXPECT_EQ(static_cast<uint8_t>(p[1]), 0xC3);  // LZF-encoded
  EXPECT_LT(p.size(), s.size());
  ASSERT_OK_AND_ASSIGN(Value back, DecodeDumpPayload(p));
  EXPECT_EQ(back, Value(s));
}

TEST(PayloadTest, RandomValuesRoundTrip) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 400; ++i) {
    auto kind = static_cast<ValueKind>(i % 6);
    size_t max = i % 3 == 0 ? 700 : 20;
    Value v = testing::RandomValue(rng, kind, max);
    for (bool compress : {true, false}) {
      EncodeOptions o;
      o.rdb_compression = compress;
      ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(v, o));
      ASSERT_OK_AND_ASSIGN(Value back, DecodeDumpPayload(p));
      Value a = v, b = back;
      Canonicalize(&a);
      Canonicalize(&b);
      ASSERT_EQ(a, b) << "value " << i << " kind " << KindName(kind);
    }
  }
}

// Legacy encodings Redis 7.0 still reads, hand-built as older versions
// wrote them.
TEST(PayloadTest, DecodesLegacyEncodings) {
  auto decode = [](std::string body) {
    return DecodeDumpPayload(FramePayload(body, 9));
  };
  auto str = [](std::string_view s) {  // a verbatim RDB string, len < 64
    return std::string(1, static_cast<char>(s.size())) + std::string(s);
  };
  auto blob = [](const std::string& b) {  // a 32-bit length RDB string
    std::string out("\x80", 1);
    for (int i = 3; i >= 0; --i)
      out.push_back(static_cast<char>(b.size() >> (8 * i)));
    return out + b;
  };
  ASSERT_OK_AND_ASSIGN(
      Value l, decode("\x0a" + blob(BuildZiplist({"a", "5", "-70000"}))));
  EXPECT_EQ(l, Value(List{{"a", "5", "-70000"}}));
  ASSERT_OK_AND_ASSIGN(
      Value q, decode(std::string("\x0e\x02", 2) +
                      blob(BuildZiplist({"a", "b"})) + blob(BuildZiplist({}))));
  EXPECT_EQ(q, Value(List{{"a", "b"}}));  // the empty node is skipped
  ASSERT_OK_AND_ASSIGN(
      Value h, decode("\x0d" + blob(BuildZiplist({"f", "1", "g", "v"}))));
  EXPECT_EQ(h, Value(Hash{{{"f", "1"}, {"g", "v"}}}));
  ASSERT_OK_AND_ASSIGN(
      Value z, decode("\x0c" + blob(BuildZiplist({"m", "1.5", "n", "-3"}))));
  EXPECT_EQ(z, Value(Zset{{{"m", 1.5}, {"n", -3}}}));
  ASSERT_OK_AND_ASSIGN(Value zm,
                       decode("\x09" + blob(BuildZipmap({{"a", "b"}}))));
  EXPECT_EQ(zm, Value(Hash{{{"a", "b"}}}));
  // ZSET with decimal scores: 254 = +inf, 255 = -inf.
  ASSERT_OK_AND_ASSIGN(
      Value zs, decode(std::string("\x03\x03", 2) + str("a") + "\x03" + "2.5" +
                       str("b") + "\xfe" + str("c") + "\xff"));
  EXPECT_EQ(zs, Value(Zset{{{"a", 2.5}, {"b", kInf}, {"c", -kInf}}}));
  // Plain list, set and hash with int-encoded members.
  ASSERT_OK_AND_ASSIGN(Value pl,
                       decode(std::string("\x01\x02\xc0\x07", 4) + str("x")));
  EXPECT_EQ(pl, Value(List{{"7", "x"}}));
  ASSERT_OK_AND_ASSIGN(
      Value ps, decode(std::string("\x02\x02\xc1\x00\x80", 5) + str("x")));
  EXPECT_EQ(ps, Value(Set{{"-32768", "x"}}));
  ASSERT_OK_AND_ASSIGN(Value ph,
                       decode(std::string("\x04\x01", 2) + str("f") +
                              std::string("\xc2\x00\x00\x00\x80", 5)));
  EXPECT_EQ(ph, Value(Hash{{{"f", "-2147483648"}}}));
  // A quicklist 2 plain node holds one element verbatim.
  ASSERT_OK_AND_ASSIGN(Value plain,
                       decode(std::string("\x12\x01\x01", 3) + str("big")));
  EXPECT_EQ(plain, Value(List{{"big"}}));
}

TEST(PayloadTest, FooterFailuresAreChecksumOrVersionErrors) {
  ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(std::string("v")));
  const std::string expect = "ERR DUMP payload version or checksum are wrong";
  std::string t = p;
  t[1] = static_cast<char>(t[1] ^ 1);
  EXPECT_THAT(DecodeDumpPayload(t), StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(RestoreErrorReply(DecodeDumpPayload(t).status()), expect);
  t = p;
  t.back() = static_cast<char>(t.back() ^ 0x80);
  EXPECT_THAT(DecodeDumpPayload(t), StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(DecodeDumpPayload("short"), StatusIs(StatusCode::kCorruption));
  // RDB 11 (Redis 7.2) is refused as 7.0 refuses it, even with a good CRC.
  EXPECT_THAT(DecodeDumpPayload(FramePayload(std::string("\x00\x01v", 3), 11)),
              StatusIs(StatusCode::kCorruption, HasSubstr("version 11")));
  EXPECT_OK(DecodeDumpPayload(FramePayload(std::string("\x00\x01v", 3), 1)));
}

// Bytes from numbers, so that hex escapes cannot swallow following text.
std::string B(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

void ExpectBadDataFormat(const std::string& body, const char* why) {
  StatusOr<Value> r = DecodeDumpPayload(FramePayload(body));
  EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument)) << why;
  EXPECT_EQ(RestoreErrorReply(r.status()), "ERR Bad data format") << why;
}

TEST(PayloadTest, MalformedBodiesAreBadDataFormat) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "no type"},
      {B({0, 5}) + "abc", "truncated string"},
      {B({0, 1}) + "ab", "trailing bytes"},
      {B({8, 0}), "type 8"},
      {B({20, 0}), "type 20 (RDB 11)"},
      {B({6, 0}), "pre-GA module"},
      {B({0, 0xC3, 5, 0x80, 0, 1, 0, 0}) + "aaaaa",
       "LZF claiming more than 88x its input"},
      {B({0, 0xC3, 3, 5, 5}) + "xyz", "invalid LZF stream"},
      {B({0, 0xC5}), "unknown string encoding"},
      {B({1, 0x82}), "unknown length encoding"},
      {B({18, 1, 3, 1}) + "x", "quicklist container 3"},
      {B({18, 1, 2, 0}), "empty quicklist node"},
  };
  for (const auto& [body, why] : cases) ExpectBadDataFormat(body, why);
}

TEST(PayloadTest, ValuesRedisCannotHoldAreBadDataFormat) {
  const std::string zero_score(8, '\0');
  const std::string nan_score = B({0, 0, 0, 0, 0, 0, 0xF8, 0x7F});
  ListpackBuilder odd;
  odd.Append("f");
  std::string odd_lp = odd.Finish();
  ListpackBuilder bad_score;
  bad_score.Append("m");
  bad_score.Append("notanumber");
  std::string bad_score_lp = bad_score.Finish();
  const std::pair<std::string, const char*> cases[] = {
      {B({1, 0}), "empty list"},
      {B({2, 2, 1}) + "a" + B({1}) + "a", "duplicate set member"},
      {B({4, 2, 1}) + "f" + B({1}) + "1" + B({1}) + "f" + B({1}) + "2",
       "duplicate hash field"},
      {B({5, 2, 1}) + "m" + zero_score + B({1}) + "m" + zero_score,
       "duplicate zset member"},
      {B({5, 1, 1}) + "m" + nan_score, "NaN binary score"},
      {B({3, 1, 1}) + "m" + B({0xFD}), "NaN decimal score"},
      {B({16, static_cast<int>(odd_lp.size())}) + odd_lp, "odd hash listpack"},
      {B({17, static_cast<int>(bad_score_lp.size())}) + bad_score_lp,
       "zset listpack score"},
  };
  for (const auto& [body, why] : cases) ExpectBadDataFormat(body, why);
}

TEST(PayloadTest, StreamGroupsAreReadAndModulesNamedAndRefused) {
  // An empty stream (type 19: no nodes, length 0, IDs 0-0, 0 added) with
  // one consumer group "g" at 0-0, entries_read -1, nothing pending, no
  // consumers (tests/rdb/stream_groups_test.cc has the rest).
  ASSERT_OK_AND_ASSIGN(
      Value s, DecodeDumpPayload(FramePayload(
                   std::string("\x13\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x01\x01g\x00\x00\x81",
                               16) +
                   std::string(8, '\xff') + std::string("\x00\x00", 2))));
  Stream want;
  want.groups.push_back({"g", {0, 0}, -1, {}, {}});
  EXPECT_EQ(s, Value(want));
  // Module id of "ReJSON-RL" (encoding version 3), as RedisJSON saves it.
  const std::string name = "ReJSON-RL";
  const std::string charset =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t id = 0;
  for (char c : name) id = (id << 6) | charset.find(c);
  id = (id << 10) | 3;
  std::string body("\x07\x81", 2);
  for (int i = 7; i >= 0; --i) body.push_back(static_cast<char>(id >> (8 * i)));
  EXPECT_THAT(DecodeDumpPayload(FramePayload(body)),
              StatusIs(StatusCode::kNotSupported, HasSubstr("'ReJSON-RL'")));
}

TEST(PayloadTest, EncodeRefusesWhatRedisCannotHold) {
  EXPECT_THAT(EncodeDumpPayload(List{}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(EncodeDumpPayload(Zset{{{"m", std::nan("")}}}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_OK(EncodeDumpPayload(std::string()));  // an empty string is fine
}

// Mutations with a recomputed CRC reach the body parsers: each must decode
// or fail, never crash (run under ASan/UBSan by the fuzz build too).
TEST(PayloadTest, MutatedBodiesNeverCrash) {
  std::mt19937_64 rng(7);
  std::vector<std::string> bodies;
  for (const Golden& g : Goldens()) {
    std::string p = Unhex(g.hex);
    bodies.push_back(p.substr(0, p.size() - 10));
  }
  for (int k = 0; k < 5; ++k) {
    ASSERT_OK_AND_ASSIGN(std::string p,
                         EncodeDumpPayload(testing::RandomValue(
                             rng, static_cast<ValueKind>(k), 50)));
    bodies.push_back(p.substr(0, p.size() - 10));
  }
  int decoded = 0, failed = 0;
  for (const std::string& body : bodies) {
    for (int i = 0; i < 300; ++i) {
      std::string t = body;
      int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !t.empty(); ++e) {
        size_t at = rng() % t.size();
        switch (rng() % 3) {
          case 0:
            t[at] = static_cast<char>(rng());
            break;
          case 1:
            t.erase(at, 1 + rng() % 4);
            break;
          default:
            t.insert(at, 1, static_cast<char>(rng()));
            break;
        }
      }
      (DecodeDumpPayload(FramePayload(t)).ok() ? decoded : failed)++;
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(decoded + failed, 3000);
}

}  // namespace
}  // namespace daxkv::rdb
