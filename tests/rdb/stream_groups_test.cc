// Stream consumer groups in RDB: a payload DUMPed by redis-server 7.0.15
// decodes field by field and re-encodes byte for byte; type 15 groups get
// Redis 7.0's entries_read estimate; random groups round trip through
// payloads and through the stream reader in any chunking, a large PEL in
// bounded memory; every inconsistency is refused, on both sides.
#include "rdb/stream_groups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "rdb/payload.h"
#include "rdb/reader.h"
#include "rdb/stream.h"
#include "rdb/writer.h"
#include "tests/rdb/rdb_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::rdb {
namespace {

using ::testing::HasSubstr;
using testing::Unhex;

// redis-server 7.0.15, rdbcompression no: XADD s 1-1..6-1 f v<i>; XGROUP
// CREATE s g1 0, s g2 0, s g3 3-1; XREADGROUP g1 alice COUNT 3, g1 bob
// COUNT 2, g2 carol COUNT 2; XACK g1 2-1; XACK g2 1-1 2-1; XCLAIM g1 bob 0
// 1-1 JUSTID; XGROUP CREATECONSUMER s g1 dave; DUMP s.
const char kRedisGroupsHex[] =
    "13011000000000000000010000000000000001405a5a000000230006010001010181"
    "66020001020100010001827631030401020101010001827632030401020102010001"
    "82763303040102010301000182763403040102010401000182763503040102010501"
    "0001827636030401ff06060101010000060302673105010504000000000000000100"
    "0000000000000182bd8a52a2010000010000000000000003000000000000000167bd"
    "8a52a201000001000000000000000400000000000000016ebd8a52a2010000010000"
    "00000000000500000000000000016ebd8a52a2010000010305616c69636567bd8a52"
    "a2010000010000000000000003000000000000000103626f6282bd8a52a201000003"
    "00000000000000010000000000000001000000000000000400000000000000010000"
    "0000000000050000000000000001046461766586bd8a52a201000000026732020102"
    "0001056361726f6c75bd8a52a201000000026733030181ffffffffffffffff00000a"
    "007aae88580cd497b3";

// The same entries with 1-1 XDELed, as type 15 (no entries_read), groups
// a0 a1 a2 a3 a6 a7 at 0-0, 1-1, 2-1, 3-1, 6-1, 7-0. RESTOREd into
// redis-server 7.0.15, XINFO GROUPS reports entries-read 0, 0, 1, nil, 5,
// nil.
const char kType15GroupsHex[] =
    "0f011000000000000000010000000000000001405a5a000000230005010101010181"
    "66020001030100010001827631030401020101010001827632030401020102010001"
    "82763303040102010301000182763403040102010401000182763503040102010501"
    "0001827636030401ff05060106026130000000000261310101000002613202010000"
    "0261330301000002613606010000026137070000000a008e4400651696f0ff";

EncodeOptions NoCompression() {
  EncodeOptions o;
  o.rdb_compression = false;
  return o;
}

TEST(StreamGroupsTest, DecodesARedisPayloadFieldByField) {
  ASSERT_OK_AND_ASSIGN(Value v, DecodeDumpPayload(Unhex(kRedisGroupsHex)));
  const Stream& s = std::get<Stream>(v);
  ASSERT_EQ(s.entries.size(), 6u);
  EXPECT_EQ(s.last_id, (StreamId{6, 1}));
  EXPECT_EQ(s.entries_added, 6u);
  ASSERT_EQ(s.groups.size(), 3u);

  const StreamGroup& g1 = s.groups[0];
  EXPECT_EQ(g1.name, "g1");
  EXPECT_EQ(g1.last_id, (StreamId{5, 1}));
  EXPECT_EQ(g1.entries_read, 5);
  ASSERT_EQ(g1.pending.size(), 4u);
  const StreamId ids[] = {{1, 1}, {3, 1}, {4, 1}, {5, 1}};
  const char* owners[] = {"bob", "alice", "bob", "bob"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(g1.pending[i].id, ids[i]) << i;
    EXPECT_EQ(g1.pending[i].consumer, owners[i]) << i;
    EXPECT_EQ(g1.pending[i].delivery_count, 1u) << i;  // JUSTID: no count
    EXPECT_GT(g1.pending[i].delivery_time_ms, 1600000000000) << i;
  }
  ASSERT_EQ(g1.consumers.size(), 3u);
  EXPECT_EQ(g1.consumers[0].name, "alice");
  EXPECT_EQ(g1.consumers[1].name, "bob");
  EXPECT_EQ(g1.consumers[2].name, "dave");  // nothing pending
  for (const StreamConsumer& c : g1.consumers) {
    EXPECT_GT(c.seen_time_ms, 1600000000000) << c.name;
  }
  // XCLAIM moved 1-1 to bob and stamped both with the same time.
  EXPECT_EQ(g1.pending[0].delivery_time_ms, g1.consumers[1].seen_time_ms);

  const StreamGroup& g2 = s.groups[1];
  EXPECT_EQ(g2.name, "g2");
  EXPECT_EQ(g2.last_id, (StreamId{2, 1}));
  EXPECT_EQ(g2.entries_read, 2);
  EXPECT_TRUE(g2.pending.empty());
  ASSERT_EQ(g2.consumers.size(), 1u);
  EXPECT_EQ(g2.consumers[0].name, "carol");

  const StreamGroup& g3 = s.groups[2];
  EXPECT_EQ(g3.name, "g3");
  EXPECT_EQ(g3.last_id, (StreamId{3, 1}));
  EXPECT_EQ(g3.entries_read, -1);  // stored as 0x81 + eight 0xff
  EXPECT_TRUE(g3.pending.empty());
  EXPECT_TRUE(g3.consumers.empty());
}

TEST(StreamGroupsTest, EncodesTheRedisPayloadByteForByte) {
  ASSERT_OK_AND_ASSIGN(Value v, DecodeDumpPayload(Unhex(kRedisGroupsHex)));
  ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(v, NoCompression()));
  EXPECT_EQ(testing::Hex(p), kRedisGroupsHex);
}

TEST(StreamGroupsTest, Type15GroupsGetRedisEstimateOfEntriesRead) {
  ASSERT_OK_AND_ASSIGN(Value v, DecodeDumpPayload(Unhex(kType15GroupsHex)));
  const Stream& s = std::get<Stream>(v);
  ASSERT_EQ(s.entries.size(), 5u);
  EXPECT_EQ(s.entries.front().id, (StreamId{2, 1}));
  EXPECT_EQ(s.entries_added, 5u);
  std::vector<std::pair<std::string, int64_t>> got;
  for (const StreamGroup& g : s.groups) got.push_back({g.name, g.entries_read});
  const std::vector<std::pair<std::string, int64_t>> redis = {
      {"a0", 0}, {"a1", 0}, {"a2", 1}, {"a3", -1}, {"a6", 5}, {"a7", -1}};
  EXPECT_EQ(got, redis);
  // The function's other cases (a type 15 load reaches none of them).
  EXPECT_EQ(EstimateEntriesRead(Stream{}, StreamId{7, 0}), 0);
  Stream emptied;
  emptied.last_id = {9, 0};
  emptied.entries_added = 4;
  EXPECT_EQ(EstimateEntriesRead(emptied, {3, 0}), 4);
  EXPECT_EQ(EstimateEntriesRead(emptied, {10, 0}), -1);
  Stream holed = s;
  holed.max_deleted = {4, 1};  // a tombstone after the first entry
  EXPECT_EQ(EstimateEntriesRead(holed, {1, 0}), -1);
  EXPECT_EQ(EstimateEntriesRead(holed, {6, 1}), 5);
}

// An empty type 19 stream with one group "g" at 5-1, entries_read `er`,
// pending 1-1 (time 0x0102030405060708, count 3) held by "c" (seen 9).
std::string OneGroupBody(std::string_view entries_read) {
  return std::string("\x13\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 11) +
         "\x01g\x05\x01" + std::string(entries_read) + "\x01" +
         StreamIdBytes({1, 1}) + "\x08\x07\x06\x05\x04\x03\x02\x01\x03" +
         "\x01\x01" + "c" + std::string("\x09\x00\x00\x00\x00\x00\x00\x00", 8) +
         "\x01" + StreamIdBytes({1, 1});
}

Stream OneGroupStream(int64_t entries_read) {
  Stream s;
  s.groups.push_back({"g",
                      {5, 1},
                      entries_read,
                      {{{1, 1}, 0x0102030405060708, 3, "c"}},
                      {{"c", 9}}});
  return s;
}

TEST(StreamGroupsTest, EncodesEntriesReadAsRedisSaveLenDoes) {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {-1, "\x81" + std::string(8, '\xff')},  // (uint64_t)-1
      {5, "\x05"},
      {70000, std::string("\x80\x00\x01\x11\x70", 5)}};
  for (const auto& [er, bytes] : cases) {
    ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(OneGroupStream(er)));
    EXPECT_EQ(p, testing::FramePayload(OneGroupBody(bytes))) << er;
    ASSERT_OK_AND_ASSIGN(Value back, DecodeDumpPayload(p));
    EXPECT_EQ(back, Value(OneGroupStream(er))) << er;
  }
}

TEST(StreamGroupsTest, RandomGroupsRoundTripThroughPayloads) {
  std::mt19937_64 rng(20240612);
  for (int i = 0; i < 300; ++i) {
    Stream s = std::get<Stream>(
        testing::RandomValue(rng, ValueKind::kStream, i % 3 ? 20 : 300));
    s.groups.clear();
    testing::AddRandomGroups(rng, &s);
    for (bool compress : {true, false}) {
      EncodeOptions o;
      o.rdb_compression = compress;
      ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(s, o));
      ASSERT_OK_AND_ASSIGN(Value back, DecodeDumpPayload(p));
      ASSERT_EQ(back, Value(s)) << i;
    }
  }
}

// Keys -> one RDB, by the writer.
std::string WriteRdb(const std::map<std::string, Object>& keys) {
  std::string out;
  RdbWriter w([&](std::string_view piece) {
    out.append(piece);
    return OkStatus();
  });
  EXPECT_OK(w.Begin({}));
  EXPECT_OK(w.SelectDb(0, keys.size(), 0));
  for (const auto& [key, obj] : keys) EXPECT_OK(w.WriteKey(key, obj));
  EXPECT_OK(w.Finish());
  return out;
}

TEST(StreamGroupsTest, RandomGroupsRoundTripInAnyChunking) {
  std::mt19937_64 rng(11);
  std::map<std::string, Object> keys;
  for (int i = 0; i < 40; ++i) {
    Stream s =
        std::get<Stream>(testing::RandomValue(rng, ValueKind::kStream, 30));
    s.groups.clear();
    testing::AddRandomGroups(rng, &s);
    keys["s" + std::to_string(i)] = Object{std::move(s), std::nullopt};
  }
  const std::string rdb = WriteRdb(keys);
  for (size_t max_chunk : {1u, 2u, 17u, 300u, 1u << 20}) {
    testing::RecordingVisitor v;
    RdbStreamReader r(&v);
    ASSERT_OK(testing::FeedInChunks(&r, rdb, rng, max_chunk));
    ASSERT_OK(r.Finish());
    ASSERT_EQ(v.keys.size(), keys.size());
    for (const auto& [k, obj] : keys) {
      EXPECT_EQ(v.keys.at({0, k}), obj) << k << " chunk " << max_chunk;
    }
  }
}

// A PEL is read a NACK at a time: 200,000 of them (5 MB) pass through the
// reader with no more than one small unit buffered.
TEST(StreamGroupsTest, ALargePelPassesInBoundedMemory) {
  Stream s;
  s.entries.push_back({{1, 0}, {"f", "v"}});
  s.last_id = {1, 0};
  s.entries_added = 1;
  StreamGroup g{"g", {1, 0}, 1, {}, {{"a", 1}, {"b", 2}, {"c", 3}}};
  const char* owners[] = {"a", "b", "c"};
  for (uint64_t i = 0; i < 200000; ++i) {
    g.pending.push_back({{1 + i / 7, i % 7},
                         1700000000000 + static_cast<int64_t>(i),
                         i,
                         owners[i % 3]});
  }
  s.groups.push_back(g);
  testing::RecordingVisitor v;
  RdbStreamReader r(&v);
  size_t max_pending = 0;
  RdbWriter w([&](std::string_view piece) {
    // Split each piece in two at an odd place, as a socket would.
    for (std::string_view part :
         {piece.substr(0, piece.size() / 3), piece.substr(piece.size() / 3)}) {
      DAXKV_RETURN_IF_ERROR(r.Feed(part));
      max_pending = std::max(max_pending, r.buffered_bytes());
    }
    return OkStatus();
  });
  ASSERT_OK(w.Begin({}));
  ASSERT_OK(w.SelectDb(0, 1, 0));
  ASSERT_OK(w.WriteKey("s", s, std::nullopt));
  ASSERT_OK(w.Finish());
  ASSERT_OK(r.Finish());
  EXPECT_GT(w.bytes_written(), 5000000u);
  EXPECT_EQ(v.keys.at({0, "s"}).value, Value(s));
  // A NACK is at most 29 bytes, a consumer ID 16, the stream's node 60.
  EXPECT_LT(max_pending, 256u);
}

// Hand-built group sections after an empty type 19 stream.
std::string Len(uint64_t n) { return std::string(1, static_cast<char>(n)); }
std::string Str(std::string_view s) { return Len(s.size()) + std::string(s); }
std::string Nack(uint64_t ms) {
  return StreamIdBytes({ms, 0}) + std::string(8, '\x01') + Len(1);
}
std::string Consumer(std::string_view name, std::vector<uint64_t> ids) {
  std::string out = Str(name) + std::string(8, '\x02') + Len(ids.size());
  for (uint64_t ms : ids) out += StreamIdBytes({ms, 0});
  return out;
}
// A group: name, last ID 0-0, entries_read 0, NACKs, consumers.
std::string Group(std::string_view name, std::vector<uint64_t> nacks,
                  std::vector<std::string> consumers) {
  std::string out = Str(name) + Len(0) + Len(0) + Len(0) + Len(nacks.size());
  for (uint64_t ms : nacks) out += Nack(ms);
  out += Len(consumers.size());
  for (const std::string& c : consumers) out += c;
  return out;
}
std::string Body(std::vector<std::string> groups) {
  std::string out("\x13\x00\x00\x00\x00\x00\x00\x00\x00\x00", 10);
  out += Len(groups.size());
  for (const std::string& g : groups) out += g;
  return out;
}

TEST(StreamGroupsTest, HandBuiltSectionsDecode) {
  ASSERT_OK_AND_ASSIGN(
      Value v, DecodeDumpPayload(testing::FramePayload(
                   Body({Group("a", {1, 2, 3},
                               {Consumer("x", {1, 3}), Consumer("y", {2}),
                                Consumer("z", {})}),
                         Group("b", {}, {})}))));
  const Stream& s = std::get<Stream>(v);
  ASSERT_EQ(s.groups.size(), 2u);
  ASSERT_EQ(s.groups[0].pending.size(), 3u);
  EXPECT_EQ(s.groups[0].pending[0].consumer, "x");
  EXPECT_EQ(s.groups[0].pending[1].consumer, "y");
  EXPECT_EQ(s.groups[0].pending[2].consumer, "x");
  EXPECT_EQ(s.groups[0].pending[2].delivery_time_ms, 0x0101010101010101);
  EXPECT_EQ(s.groups[0].consumers[2].seen_time_ms, 0x0202020202020202);
}

TEST(StreamGroupsTest, InconsistentGroupsAreCorrupt) {
  const std::pair<std::string, const char*> cases[] = {
      {Body({Group("a", {1}, {Consumer("x", {2})})}),
       "a consumer's PEL entry is not in its group's PEL"},
      {Body({Group("a", {1}, {Consumer("x", {1}), Consumer("y", {1})})}),
       "a PEL entry held by two consumers"},
      {Body({Group("a", {1, 2}, {Consumer("x", {1})})}),
       "a consumer group PEL entry held by no consumer"},
      {Body({Group("a", {1}, {})}),
       "a consumer group PEL entry held by no consumer"},
      {Body({Group("a", {}, {}), Group("a", {}, {})}),
       "duplicate consumer group name"},
      {Body({Group("b", {}, {}), Group("a", {}, {})}),
       "consumer groups out of name order"},
      {Body({Group("a", {}, {Consumer("x", {}), Consumer("x", {})})}),
       "duplicate consumer name in a group"},
      {Body({Group("a", {}, {Consumer("y", {}), Consumer("x", {})})}),
       "a group's consumers out of name order"},
      {Body({Group("a", {1, 1}, {Consumer("x", {1})})}),
       "duplicate ID in a consumer group's PEL"},
      {Body({Group("a", {2, 1}, {Consumer("x", {1, 2})})}),
       "consumer group PEL out of ID order"},
      {Body({Group("a", {1, 2}, {Consumer("x", {2, 1})})}),
       "a consumer's PEL out of ID order, or repeating an ID"},
      {Body({Group("a", {1, 2}, {Consumer("x", {1, 1})})}),
       "a consumer's PEL out of ID order, or repeating an ID"},
      {Body({Group("a", {1}, {Consumer("x", {1})})}).substr(0, 40),
       "value truncated"},
  };
  for (const auto& [body, why] : cases) {
    StatusOr<Value> r = DecodeDumpPayload(testing::FramePayload(body));
    EXPECT_THAT(r, StatusIs(StatusCode::kInvalidArgument, HasSubstr(why)))
        << why;
    EXPECT_EQ(RestoreErrorReply(r.status()), "ERR Bad data format") << why;
  }
  // The same through the stream reader: Corruption, naming the key.
  std::string rdb = WriteRdb({{"s", Object{Stream{}, std::nullopt}}});
  const std::string empty_stream = Body({}).substr(1);
  const size_t at = rdb.find(std::string("\x13\x01s", 3) + empty_stream);
  ASSERT_NE(at, std::string::npos);
  rdb.replace(at + 3, empty_stream.size(),
              Body({Group("a", {1}, {})}).substr(1));
  testing::RecordingVisitor v;
  RdbStreamReader::Options no_crc;
  no_crc.verify_checksum = false;
  RdbStreamReader r(&v, no_crc);
  EXPECT_THAT(r.Feed(rdb),
              StatusIs(StatusCode::kCorruption,
                       HasSubstr("key 's': stream 2 (type 19): a consumer "
                                 "group PEL entry held by no consumer")));
}

TEST(StreamGroupsTest, EncodeRefusesGroupsItCouldNotWriteFaithfully) {
  auto refused = [](Stream s, const char* why) {
    EXPECT_THAT(EncodeDumpPayload(s),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(why)))
        << why;
  };
  Stream s = OneGroupStream(-1);
  s.groups[0].pending[0].consumer = "nobody";
  refused(s, "names a consumer its group does not have");
  s = OneGroupStream(-1);
  s.groups.push_back(s.groups[0]);
  refused(s, "consumer groups are not in ascending name order");
  s = OneGroupStream(-1);
  s.groups[0].consumers.push_back({"a", 0});
  refused(s, "consumers are not in ascending name order");
  s = OneGroupStream(-1);
  s.groups[0].pending.push_back(s.groups[0].pending[0]);
  refused(s, "pending entries are not in ascending ID order");
}

// Mutated group sections (CRC recomputed) decode or fail, never crash;
// whatever decodes re-encodes and decodes to the same value.
TEST(StreamGroupsTest, MutatedGroupSectionsNeverCrash) {
  std::mt19937_64 rng(5);
  std::vector<std::string> bodies;
  for (const char* hex : {kRedisGroupsHex, kType15GroupsHex}) {
    std::string p = Unhex(hex);
    bodies.push_back(p.substr(0, p.size() - 10));
  }
  for (int i = 0; i < 8; ++i) {
    Stream s =
        std::get<Stream>(testing::RandomValue(rng, ValueKind::kStream, 5));
    s.groups.clear();
    testing::AddRandomGroups(rng, &s);
    ASSERT_OK_AND_ASSIGN(std::string p, EncodeDumpPayload(s));
    bodies.push_back(p.substr(0, p.size() - 10));
  }
  int decoded = 0, failed = 0;
  for (const std::string& body : bodies) {
    for (int i = 0; i < 400; ++i) {
      std::string t = body;
      // Mostly in the tail, where the groups are.
      size_t at = t.size() - 1 - rng() % std::min<size_t>(t.size(), 200);
      if (rng() % 4 == 0) {
        t.erase(at, 1 + rng() % 3);
      } else {
        t[at] = static_cast<char>(rng());
      }
      StatusOr<Value> v = DecodeDumpPayload(testing::FramePayload(t));
      if (!v.ok()) {
        ++failed;
        continue;
      }
      ++decoded;
      ASSERT_OK_AND_ASSIGN(std::string again, EncodeDumpPayload(*v));
      ASSERT_OK_AND_ASSIGN(Value back, DecodeDumpPayload(again));
      ASSERT_EQ(back, *v);
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(decoded, 0);
}

}  // namespace
}  // namespace daxkv::rdb
