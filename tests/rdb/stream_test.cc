// RdbWriter -> RdbStreamReader: every value kind, expiries, databases,
// functions and AUX fields survive any chunking; every opcode Redis 7.0 may
// send is handled; failures are reported with the right class.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "rdb/crc64.h"
#include "rdb/format.h"
#include "rdb/output.h"
#include "rdb/reader.h"
#include "rdb/writer.h"
#include "tests/rdb/rdb_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::rdb {
namespace {

using ::testing::HasSubstr;
using testing::RecordingVisitor;
using Policy = RdbStreamReader::Options::OtherDbs;

struct Stream {
  std::string bytes;
  size_t pieces = 0;
};

// Writes keys (db -> key -> object) with the writer into one string.
Stream WriteStream(const std::map<uint64_t, std::map<std::string, Object>>& dbs,
                   const std::vector<std::string>& functions = {},
                   RdbAuxInfo aux = {}) {
  Stream s;
  RdbWriter w([&](std::string_view piece) {
    s.bytes.append(piece);
    ++s.pieces;
    return OkStatus();
  });
  EXPECT_OK(w.Begin(aux));
  for (const std::string& f : functions) EXPECT_OK(w.WriteFunction(f));
  for (const auto& [db, keys] : dbs) {
    uint64_t expires = 0;
    for (const auto& kv : keys) expires += kv.second.expire_ms ? 1 : 0;
    EXPECT_OK(w.SelectDb(db, keys.size(), expires));
    for (const auto& [key, obj] : keys) EXPECT_OK(w.WriteKey(key, obj));
  }
  EXPECT_OK(w.Finish());
  EXPECT_EQ(w.bytes_written(), s.bytes.size());
  return s;
}

std::map<std::string, Object> RandomKeys(std::mt19937_64& rng, int n) {
  std::map<std::string, Object> keys;
  for (int i = 0; i < n; ++i) {
    Object o{testing::RandomValue(rng, static_cast<ValueKind>(i % 5),
                                  i % 7 == 0 ? 600 : 12),
             std::nullopt};
    if (i % 3 == 0) o.expire_ms = 1700000000000 + i;
    keys["key:" + std::to_string(i)] = std::move(o);
  }
  return keys;
}

void ExpectSameKeys(const std::map<std::string, Object>& want, uint64_t db,
                    const RecordingVisitor& got) {
  size_t seen = 0;
  for (const auto& [k, obj] : want) {
    auto it = got.keys.find({db, k});
    ASSERT_NE(it, got.keys.end()) << k;
    Object a = obj, b = it->second;
    Canonicalize(&a.value);
    Canonicalize(&b.value);
    EXPECT_EQ(a, b) << k;
    ++seen;
  }
  EXPECT_EQ(seen, want.size());
}

TEST(StreamTest, RoundTripsInRandomChunks) {
  std::mt19937_64 rng(42);
  auto keys = RandomKeys(rng, 150);
  Stream s = WriteStream({{0, keys}});
  for (size_t max_chunk : {1u, 7u, 100u, 5000u, 1u << 20}) {
    RecordingVisitor v;
    RdbStreamReader r(&v);
    ASSERT_OK(testing::FeedInChunks(&r, s.bytes, rng, max_chunk));
    EXPECT_TRUE(r.done());
    EXPECT_TRUE(r.checksum_verified());
    EXPECT_EQ(r.rdb_version(), 10);
    EXPECT_EQ(r.keys_loaded(), keys.size());
    EXPECT_EQ(r.bytes_consumed(), s.bytes.size());
    ExpectSameKeys(keys, 0, v);
  }
}

// The empty key "" (Redis accepts it; so does daxkv's engine from format
// version 5) is written and read like any other, in each database.
TEST(StreamTest, TheEmptyKeyRoundTrips) {
  std::mt19937_64 rng(7);
  for (int kind = 0; kind < 5; ++kind) {
    std::map<std::string, Object> keys;
    keys[""] = Object{testing::RandomValue(rng, static_cast<ValueKind>(kind), 5),
                      1700000000000};
    keys["k"] = Object{std::string("v"), std::nullopt};
    Stream s = WriteStream({{0, keys}, {3, keys}});
    RecordingVisitor v;
    RdbStreamReader r(&v, {Policy::kPassThrough, true});
    ASSERT_OK(testing::FeedInChunks(&r, s.bytes, rng, 3));
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.keys_loaded(), 4u);
    ExpectSameKeys(keys, 0, v);
    ExpectSameKeys(keys, 3, v);
  }
}

TEST(StreamTest, HeaderAndAuxFieldsAsRedisWritesThem) {
  RdbAuxInfo aux;
  aux.ctime = 1700000000;
  aux.used_mem = 5000000000;  // beyond int32: saved as text
  aux.replication = RdbAuxInfo::Replication{3, std::string(40, 'a'), 12345};
  aux.extra = {{"daxkv-ver", "0.1.0"}};
  Stream s = WriteStream({}, {}, aux);
  EXPECT_EQ(s.bytes.substr(0, 9), "REDIS0010");
  // AUX redis-ver "7.0.15", then redis-bits as an int8-encoded 64.
  EXPECT_EQ(s.bytes.substr(9, 18), std::string("\xfa\x09redis-ver\x06"
                                               "7.0.15",
                                               18));
  EXPECT_EQ(s.bytes.substr(27, 14),
            std::string("\xfa\x0aredis-bits\xc0\x40", 14));
  RecordingVisitor v;
  RdbStreamReader r(&v);
  ASSERT_OK(r.Feed(s.bytes));
  ASSERT_OK(r.Finish());
  std::vector<std::pair<std::string, std::string>> want = {
      {"redis-ver", "7.0.15"},  {"redis-bits", "64"},
      {"ctime", "1700000000"},  {"used-mem", "5000000000"},
      {"repl-stream-db", "3"},  {"repl-id", std::string(40, 'a')},
      {"repl-offset", "12345"}, {"aof-base", "0"},
      {"daxkv-ver", "0.1.0"}};
  EXPECT_EQ(v.aux, want);
  // An empty RDB is the header, EOF and the CRC of everything before it.
  uint64_t crc = 0;
  for (int i = 7; i >= 0; --i) {
    crc = (crc << 8) | static_cast<uint8_t>(s.bytes[s.bytes.size() - 8 + i]);
  }
  EXPECT_EQ(static_cast<uint8_t>(s.bytes[s.bytes.size() - 9]), kOpEof);
  EXPECT_EQ(crc, crc64::Value(
                     std::string_view(s.bytes).substr(0, s.bytes.size() - 8)));
}

TEST(StreamTest, OtherDatabasesByPolicy) {
  std::mt19937_64 rng(1);
  auto db0 = RandomKeys(rng, 5), db3 = RandomKeys(rng, 5);
  Stream s = WriteStream({{0, db0}, {3, db3}});
  {
    RecordingVisitor v;
    RdbStreamReader r(&v);
    EXPECT_THAT(r.Feed(s.bytes),
                StatusIs(StatusCode::kNotSupported, HasSubstr("database 3")));
    EXPECT_THAT(r.Finish(), StatusIs(StatusCode::kNotSupported));
  }
  {
    RecordingVisitor v;
    RdbStreamReader r(&v, {Policy::kPassThrough, true});
    ASSERT_OK(r.Feed(s.bytes));
    ExpectSameKeys(db0, 0, v);
    ExpectSameKeys(db3, 3, v);
    EXPECT_EQ(v.resize,
              (std::vector<std::pair<uint64_t, uint64_t>>{{5, 2}, {5, 2}}));
  }
  {
    RecordingVisitor v;
    RdbStreamReader r(&v, {Policy::kMapToDb0, true});
    ASSERT_OK(r.Feed(s.bytes));
    EXPECT_EQ(v.keys.size(), 5u);  // same names in both: the later wins
    EXPECT_EQ(r.keys_loaded(), 10u);
  }
}

TEST(StreamTest, FunctionsGoToTheVisitorOrFailLoudly) {
  const std::string lib =
      "#!lua name=mylib\nredis.register_function('f', function() return 1 end)";
  Stream s = WriteStream({{0, {{"k", Object{std::string("v"), {}}}}}}, {lib});
  RecordingVisitor refuse;
  RdbStreamReader r1(&refuse);
  EXPECT_THAT(r1.Feed(s.bytes),
              StatusIs(StatusCode::kNotSupported, HasSubstr("FUNCTION2")));
  RecordingVisitor take;
  take.accept_functions = true;
  RdbStreamReader r2(&take);
  ASSERT_OK(r2.Feed(s.bytes));
  EXPECT_EQ(take.functions, std::vector<std::string>{lib});
}

TEST(StreamTest, WriterStopsAtTheSinksFirstError) {
  int calls = 0;
  RdbWriter w([&](std::string_view) {
    ++calls;
    return IOError("replica went away");
  });
  ASSERT_OK(w.Begin({}));  // buffered, nothing sent yet
  ASSERT_OK(w.SelectDb(0, 1, 0));
  // A value larger than the buffer (and incompressible) forces a flush,
  // which fails.
  std::mt19937_64 rng(5);
  std::string big(200000, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  EXPECT_THAT(w.WriteKey("k", big, std::nullopt),
              StatusIs(StatusCode::kIOError, HasSubstr("went away")));
  EXPECT_THAT(w.WriteKey("k2", std::string("v"), std::nullopt),
              StatusIs(StatusCode::kIOError));
  EXPECT_THAT(w.Finish(), StatusIs(StatusCode::kIOError));
  EXPECT_EQ(calls, 1);
}

TEST(StreamTest, WriterEnforcesOrderAndRefusesUnencodableValues) {
  RdbWriter w([](std::string_view) { return OkStatus(); });
  EXPECT_THAT(w.SelectDb(0, 0, 0), StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(w.Begin({}));
  EXPECT_THAT(w.WriteKey("k", std::string("v"), std::nullopt),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(w.SelectDb(0, 1, 0));
  EXPECT_THAT(w.WriteFunction("code"),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(w.WriteKey("empty", Set{}, std::nullopt),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'empty'")));
  ASSERT_OK(w.Finish());
  EXPECT_THAT(w.Begin({}), StatusIs(StatusCode::kFailedPrecondition));
}

// A hand-made stream carrying the opcodes the writer never emits.
std::string StreamWith(const std::string& middle, int version = 10,
                       bool zero_crc = false) {
  char magic[10];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", version);
  std::string s = std::string(magic, 9) + std::string("\xfe\x00", 2) + middle;
  s.push_back(static_cast<char>(kOpEof));
  uint64_t crc = zero_crc ? 0 : crc64::Value(s);
  if (version >= 5) {
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(crc >> (8 * i)));
  }
  return s;
}

std::string StringKey(std::string_view key, std::string_view value) {
  return std::string(1, kTypeString) +
         std::string(1, static_cast<char>(key.size())) + std::string(key) +
         std::string(1, static_cast<char>(value.size())) + std::string(value);
}

TEST(StreamTest, OpcodesRedisMaySend) {
  std::string mid;
  mid += std::string("\xf8\x05", 2) + StringKey("idle", "1");  // IDLE
  mid += std::string("\xf9\x07", 2) + StringKey("freq", "2");  // FREQ
  // EXPIRETIME (seconds, int32) and EXPIRETIME_MS.
  mid += std::string("\xfd\x10\x27\x00\x00", 5) + StringKey("sec", "3");
  mid += std::string("\xfc\x01\x00\x00\x00\x00\x00\x00\x00", 9) +
         StringKey("ms", "4");
  // MODULE_AUX from a module that saved nothing: id, when opcode 2, when, EOF.
  mid += std::string("\xf7\x05\x02\x02\x00", 5);
  mid += std::string(
      "\x01\x05"
      "empty\x00",
      8);  // an empty list: skipped
  RecordingVisitor v;
  RdbStreamReader r(&v);
  ASSERT_OK(r.Feed(StreamWith(mid)));
  ASSERT_OK(r.Finish());
  EXPECT_EQ(r.keys_loaded(), 4u);
  EXPECT_EQ(r.empty_keys_skipped(), 1u);
  EXPECT_EQ(v.keys.at({0, "sec"}).expire_ms, 10000000);
  EXPECT_EQ(v.keys.at({0, "ms"}).expire_ms, 1);
  EXPECT_EQ(v.keys.at({0, "idle"}).expire_ms, std::nullopt);
  EXPECT_EQ(v.keys.at({0, "freq"}).value, Value(std::string("2")));
}

TEST(StreamTest, OldVersionsAndDisabledChecksums) {
  RecordingVisitor v;
  RdbStreamReader r(&v);
  ASSERT_OK(r.Feed(StreamWith(StringKey("k", "v"), 4)));  // no CRC before 5
  ASSERT_OK(r.Finish());
  EXPECT_FALSE(r.checksum_verified());
  RecordingVisitor v2;
  RdbStreamReader r2(&v2);
  ASSERT_OK(r2.Feed(StreamWith(StringKey("k", "v"), 10, /*zero_crc=*/true)));
  EXPECT_TRUE(r2.done());
  EXPECT_FALSE(r2.checksum_verified());
}

TEST(StreamTest, Refusals) {
  auto fails = [](const std::string& stream, StatusCode code,
                  const char* what) {
    RecordingVisitor v;
    RdbStreamReader r(&v);
    Status s = r.Feed(stream);
    if (s.ok()) s = r.Finish();
    EXPECT_THAT(s, StatusIs(code, HasSubstr(what))) << what;
  };
  fails(StreamWith("", 11), StatusCode::kNotSupported, "version 11");
  fails("RDB0010xx", StatusCode::kCorruption, "signature");
  fails("REDIS00x0", StatusCode::kCorruption, "version digits");
  fails(StreamWith(std::string("\xf7\x05\x02\x02\x05\x01", 6)),
        StatusCode::kNotSupported, "module auxiliary data");
  fails(StreamWith(std::string("\xf7\x05\x03\x02\x00", 5)),
        StatusCode::kCorruption, "when_opcode");
  fails(StreamWith(std::string("\xf6", 1)), StatusCode::kCorruption,
        "pre-release function");
  // A stream whose one consumer group has a pending entry (1-1) that no
  // consumer holds (groups are loaded; inconsistent ones are corrupt).
  fails(StreamWith(std::string("\x13\x01s\x00\x00\x00\x00\x00\x00\x00\x00"
                               "\x00\x01\x01g\x00\x00\x00\x01",
                               19) +
                   std::string("\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\x01", 16) +
                   std::string(8, '\0') + std::string("\x01\x00", 2)),
        StatusCode::kCorruption,
        "key 's': stream 2 (type 19): a consumer group PEL entry held by no "
        "consumer");
  fails(StreamWith(std::string("\x07\x01m\x05", 4)), StatusCode::kNotSupported,
        "module type");
  fails(StreamWith(std::string("\x08\x01k", 3)), StatusCode::kCorruption,
        "unknown object type");
  fails(StreamWith(std::string("\x02\x01k\x02\x01"
                               "a\x01"
                               "a",
                               9)),
        StatusCode::kCorruption, "key 'k': set (type 2): duplicate");
  std::string bad_crc = StreamWith(StringKey("k", "v"));
  bad_crc.back() = static_cast<char>(bad_crc.back() ^ 1);
  fails(bad_crc, StatusCode::kCorruption, "CRC64 mismatch");
  std::string flipped = StreamWith(StringKey("k", "v"));
  flipped[15] = 'w';  // the value byte: CRC catches it
  fails(flipped, StatusCode::kCorruption, "CRC64");
  std::string good = StreamWith(StringKey("k", "v"));
  fails(good.substr(0, good.size() - 3), StatusCode::kIOError, "ended after");
  fails(good + "x", StatusCode::kCorruption, "after the end");
}

TEST(StreamTest, TrailingBytesBelongToTheCaller) {
  std::string good = StreamWith(StringKey("k", "v"));
  RecordingVisitor v;
  RdbStreamReader r(&v);
  size_t consumed = 0;
  ASSERT_OK(r.Feed(good.substr(0, 10), &consumed));
  EXPECT_EQ(consumed, 10u);
  ASSERT_OK(r.Feed(good.substr(10) + "*1\r\n$4\r\nPING\r\n", &consumed));
  EXPECT_EQ(consumed, good.size() - 10);
  EXPECT_TRUE(r.done());
}

TEST(StreamTest, VisitorErrorsStopTheLoad) {
  struct Failing : RecordingVisitor {
    Status OnKey(uint64_t, std::string key, Object) override {
      return NoSpaceError("pool full at " + key);
    }
  } v;
  RdbStreamReader r(&v);
  EXPECT_THAT(r.Feed(StreamWith(StringKey("k", "v"))),
              StatusIs(StatusCode::kNoSpace, HasSubstr("pool full at k")));
  EXPECT_THAT(r.Feed("more"), StatusIs(StatusCode::kNoSpace));
}

// Every truncation of a valid stream ends in IOError, and every byte change
// in an error or a clean load: never a crash or a hang.
TEST(StreamTest, TruncationsAndMutations) {
  std::mt19937_64 rng(3);
  Stream s = WriteStream({{0, RandomKeys(rng, 12)}});
  for (size_t cut = 0; cut < s.bytes.size(); cut += 1 + cut / 50) {
    RecordingVisitor v;
    RdbStreamReader r(&v);
    ASSERT_OK(r.Feed(s.bytes.substr(0, cut)));
    EXPECT_THAT(r.Finish(), StatusIs(StatusCode::kIOError)) << cut;
  }
  RdbStreamReader::Options no_crc{Policy::kRefuse, false};
  for (int i = 0; i < 400; ++i) {
    std::string t = s.bytes;
    t[9 + rng() % (t.size() - 9)] = static_cast<char>(rng());
    RecordingVisitor v;
    RdbStreamReader r(&v, no_crc);
    Status st = testing::FeedInChunks(&r, t, rng, 64);
    (void)st;
  }
}

// The reader buffers one unfinished element at most, however long the
// stream: 64 MiB of keys pass through while the buffer stays under the
// largest element.
TEST(StreamTest, LongStreamsPassInBoundedMemory) {
  struct Counting : RdbVisitor {
    Status OnKey(uint64_t, std::string, Object o) override {
      bytes += ElementCount(o.value);
      return OkStatus();
    }
    uint64_t bytes = 0;
  } v;
  RdbStreamReader r(&v);
  size_t max_pending = 0;
  RdbWriter w([&](std::string_view piece) {
    DAXKV_RETURN_IF_ERROR(r.Feed(piece));
    max_pending = std::max(max_pending, r.buffered_bytes());
    return OkStatus();
  });
  ASSERT_OK(w.Begin({}));
  ASSERT_OK(w.SelectDb(0, 0, 0));
  std::mt19937_64 rng(9);
  List big;
  for (int i = 0; i < 4000; ++i) {
    std::string e(1000, 'x');
    for (char& c : e) c = static_cast<char>(rng());
    big.elements.push_back(std::move(e));
  }
  int keys = 0;
  while (w.bytes_written() < (64u << 20)) {
    ASSERT_OK(w.WriteKey("list" + std::to_string(keys++), big, std::nullopt));
  }
  ASSERT_OK(w.Finish());
  ASSERT_OK(r.Finish());
  EXPECT_EQ(r.keys_loaded(), static_cast<uint64_t>(keys));
  // A node is at most 8 KiB; a writer piece ~64 KiB. Nothing near 64 MiB.
  EXPECT_LT(max_pending, 256u << 10);
}

}  // namespace
}  // namespace daxkv::rdb
