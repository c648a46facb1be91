// Basic API and restart tests of the engine on a HeapRegion.
#include <gtest/gtest.h>

#include <string>

#include "engine/db.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

using testing::HeapRegion;

TEST(DbBasicTest, PutGetDeleteExistsCount) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  DB& db = *f.db;
  EXPECT_EQ(db.Count(), 0u);
  ASSERT_OK(db.Put("alpha", "1"));
  ASSERT_OK(db.Put("beta", "2"));
  auto r = db.Get("alpha");
  ASSERT_OK(r);
  EXPECT_EQ(r->value, "1");
  EXPECT_GT(r->version, 0u);
  EXPECT_TRUE(db.Exists("beta"));
  EXPECT_FALSE(db.Exists("gamma"));
  EXPECT_EQ(db.Count(), 2u);
  ASSERT_OK(db.Put("alpha", "one"));
  auto r2 = db.Get("alpha");
  ASSERT_OK(r2);
  EXPECT_EQ(r2->value, "one");
  EXPECT_GT(r2->version, r->version);
  bool existed = false;
  ASSERT_OK(db.Delete("alpha", &existed));
  EXPECT_TRUE(existed);
  ASSERT_OK(db.Delete("alpha", &existed));
  EXPECT_FALSE(existed);
  EXPECT_THAT(db.Get("alpha"), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(db.Count(), 1u);
}

TEST(DbBasicTest, BinaryKeysAndValuesAndSizes) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  std::string key("a\0b", 3), value("\0\1\2\0", 4);
  ASSERT_OK(f.db->Put(key, value));
  EXPECT_EQ(f.db->Get(key)->value, value);
  EXPECT_THAT(f.db->Get(std::string("a")), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(f.db->Put(std::string(kMaxKeySize + 1, 'k'), "x"),
              StatusIs(StatusCode::kInvalidArgument));
  std::string big_key(kMaxKeySize, 'k');
  ASSERT_OK(f.db->Put(big_key, "v"));
  EXPECT_EQ(f.db->Get(big_key)->value, "v");
  std::string big(200 * 1024, 'z');  // non-temporal path
  ASSERT_OK(f.db->Put("big", big));
  EXPECT_EQ(f.db->Get("big")->value, big);
  // Larger than a segment: stored in a span (see span_test.cc).
  std::string huge(2 << 20, 'h');
  ASSERT_OK(f.db->Put("huge", huge));
  EXPECT_EQ(f.db->Get("huge")->value, huge);
}

TEST(DbBasicTest, ReopenKeepsDataAndReportsCleanShutdown) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  EXPECT_TRUE(f.db->GetStats().clean_shutdown);  // fresh pool
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(f.db->Put("k" + std::to_string(i), "v" + std::to_string(i)));
  }
  for (int i = 0; i < 1000; i += 3) {
    ASSERT_OK(f.db->Delete("k" + std::to_string(i)));
  }
  ASSERT_OK(f.db->Put("k1", "new"));
  ASSERT_OK(f.Reopen());
  Stats st = f.db->GetStats();
  EXPECT_TRUE(st.clean_shutdown);
  EXPECT_EQ(st.index_recovery, "snapshot");
  EXPECT_EQ(st.recovered_records, 0u);  // a snapshot open scans none
  EXPECT_EQ(f.db->Count(), 1000u - 334u);
  f.options.index_snapshot = false;
  ASSERT_OK(f.Reopen());
  EXPECT_GT(f.db->GetStats().recovered_records, 1000u);
  EXPECT_EQ(f.db->Count(), 1000u - 334u);
  EXPECT_EQ(f.db->Get("k1")->value, "new");
  EXPECT_FALSE(f.db->Exists("k0"));
  EXPECT_EQ(f.db->Get("k2")->value, "v2");
}

TEST(DbBasicTest, CrashWithoutCloseRecovers) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  for (int i = 0; i < 500; ++i) {
    ASSERT_OK(f.db->Put("k" + std::to_string(i), std::to_string(i)));
  }
  ASSERT_OK(f.db->Delete("k7"));
  auto image = f.Snapshot();  // the bytes at the instant of a power failure
  f.db.reset();
  f.buffer = image;
  ASSERT_OK(f.Open());
  EXPECT_FALSE(f.db->GetStats().clean_shutdown);
  EXPECT_EQ(f.db->Count(), 499u);
  EXPECT_FALSE(f.db->Exists("k7"));
  EXPECT_EQ(f.db->Get("k499")->value, "499");
  // Still writable after recovery, and survives another restart.
  ASSERT_OK(f.db->Put("after", "crash"));
  ASSERT_OK(f.Reopen());
  EXPECT_EQ(f.db->Get("after")->value, "crash");
  EXPECT_EQ(f.db->Count(), 500u);
}

TEST(DbBasicTest, BlankRegionWithoutCreateIsNotFound) {
  EngineFixture f;
  Options o;
  o.create_if_missing = false;
  auto db = DB::Open(std::make_unique<HeapRegion>(f.buffer), o);
  EXPECT_THAT(db, StatusIs(StatusCode::kNotFound));
}

TEST(DbBasicTest, ForeignBytesAreNeverFormattedOver) {
  EngineFixture f;
  std::memset(f.buffer->data(), 0x5a, 8192);
  auto db = DB::Open(std::make_unique<HeapRegion>(f.buffer), Options());
  EXPECT_THAT(db, StatusIs(StatusCode::kCorruption));
  EXPECT_EQ((*f.buffer)[0], 0x5a);
}

TEST(DbBasicTest, NewerFormatVersionIsRefused) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  f.db.reset();
  uint32_t v = 99;
  std::memcpy(f.buffer->data() + 8, &v, 4);
  std::memcpy(f.buffer->data() + 4096 + 8, &v, 4);
  auto db = DB::Open(std::make_unique<HeapRegion>(f.buffer), Options());
  EXPECT_THAT(db, StatusIs(StatusCode::kNotSupported));
  EXPECT_NE(db.status().message().find("version 99"), std::string::npos)
      << db.status().ToString();
}

TEST(DbBasicTest, DamagedSuperblockCopyIsHealed) {
  EngineFixture f;
  ASSERT_OK(f.Open());
  ASSERT_OK(f.db->Put("k", "v"));
  f.db.reset();
  (*f.buffer)[40] ^= 0x10;  // copy A
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->Get("k")->value, "v");
  f.db.reset();
  (*f.buffer)[4096 + 40] ^= 0x10;  // copy B; A was rewritten on open
  ASSERT_OK(f.Open());
  EXPECT_EQ(f.db->Get("k")->value, "v");
}

}  // namespace
}  // namespace daxkv::engine
