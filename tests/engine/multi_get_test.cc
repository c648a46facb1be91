// DB::MultiGet (engine/multi_get.cc, issue 17): every key's result is what
// Get gives for it (status code, value, expiry and version), over keys
// present, missing, expired, deleted, overwritten, collections, values in
// spans, empty values and repeats, in batches across the 32-key chunks; and
// under concurrent writers and compaction, every value it returns is one
// some writer stored for that key.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/db.h"
#include "engine/txn.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/txn_test_util.h"
#include "tests/support/fake_clock.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

struct Batch {
  std::vector<std::string> owned;  // what `keys` views: a temporary may go
  std::vector<std::string_view> keys;
  std::vector<std::string> values;
  std::vector<Status> statuses;
  std::vector<ReadInfo> infos;

  explicit Batch(std::vector<std::string> ks)
      : owned(std::move(ks)),
        keys(owned.begin(), owned.end()),
        values(owned.size(), "stale"),
        statuses(owned.size()),
        infos(owned.size()) {}
  void Run(const DB& db, bool with_infos) {
    db.MultiGet(
        keys, values, statuses,
        with_infos ? std::span<ReadInfo>(infos) : std::span<ReadInfo>());
  }
};

// Every result of `b` (run with infos) is Get's for its key.
void ExpectAgreesWithGet(const DB& db, const Batch& b, bool with_infos) {
  for (size_t i = 0; i < b.keys.size(); ++i) {
    std::string value;
    ReadInfo info;
    const Status want = db.Get(b.keys[i], &value, &info);
    ASSERT_EQ(b.statuses[i].code(), want.code())
        << "key " << b.keys[i] << " at " << i << ": "
        << b.statuses[i].ToString();
    if (!want.ok()) continue;
    EXPECT_TRUE(b.values[i] == value) << "key " << b.keys[i] << " at " << i;
    if (!with_infos) continue;
    EXPECT_EQ(b.infos[i].expire_at_ms, info.expire_at_ms) << b.keys[i];
    EXPECT_EQ(b.infos[i].version, info.version) << b.keys[i];
  }
}

class MultiGetTest : public ::testing::Test {
 protected:
  MultiGetTest() : f_(64 << 20, 1 << 20) { f_.options.clock = &clock_; }
  void SetUp() override { ASSERT_OK(f_.Open()); }

  // k0..k<n-1> in every state a key can be in; returns them with missing
  // keys mixed in.
  std::vector<std::string> Populate(int n) {
    const int64_t now = clock_.NowMs();
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) {
      const std::string k = "k" + std::to_string(i);
      const std::string v = "value-" + std::to_string(i * 7919);
      switch (i % 10) {
        case 0:
          break;  // never written
        case 1:
          EXPECT_OK(f_.db->Put(k, v));
          break;  // plain
        case 2:
          EXPECT_OK(f_.db->Put(k, v, now + 10));
          break;  // will expire
        case 3:
          EXPECT_OK(f_.db->Put(k, v, now + 1000000));
          break;  // won't
        case 4:   // deleted
          EXPECT_OK(f_.db->Put(k, v));
          EXPECT_OK(f_.db->Delete(k));
          break;
        case 5:  // overwritten
          EXPECT_OK(f_.db->Put(k, v));
          EXPECT_OK(f_.db->Put(k, v + "-new"));
          break;
        case 6:  // collections
          EXPECT_OK(Tx(f_.db.get(), [&](Txn& t) -> Status {
            bool b;
            uint64_t len;
            if (i % 20 == 6) return t.HashSet(k, "f", v, SetMode::kUpsert, &b);
            return t.ListPush(k, End::kBack, v, false, &len);
          }));
          break;
        case 7:
          EXPECT_OK(f_.db->Put(k, ""));
          break;  // empty value
        case 8:   // a span
          if (i % 100 == 8) {
            EXPECT_OK(f_.db->Put(k, std::string(1 << 20 | 17, 'a' + i % 26)));
          } else {
            EXPECT_OK(f_.db->Put(k, std::string(300 + i % 500, 'b')));
          }
          break;
        case 9:  // deleted, back
          EXPECT_OK(f_.db->Put(k, v));
          EXPECT_OK(f_.db->Delete(k));
          EXPECT_OK(f_.db->Put(k, v + "-again"));
          break;
      }
      keys.push_back(k);
      if (i % 13 == 0) keys.push_back("missing" + std::to_string(i));
    }
    clock_.AdvanceMs(100);  // the "% 10 == 2" keys expire
    return keys;
  }

  FakeClock clock_;
  EngineFixture f_;
};

TEST_F(MultiGetTest, AgreesWithGetOverEveryKeyState) {
  const std::vector<std::string> keys = Populate(2000);
  for (bool with_infos : {true, false}) {
    Batch b(keys);
    b.Run(*f_.db, with_infos);
    ExpectAgreesWithGet(*f_.db, b, with_infos);
  }
  // The states really occur: present, absent, expired and wrong type.
  Batch b({"k1", "k2", "k4", "k6", "k26", "k5", "missing0", "k7"});
  b.Run(*f_.db, true);
  EXPECT_OK(b.statuses[0]);
  EXPECT_EQ(b.values[0], "value-7919");
  EXPECT_THAT(b.statuses[1], StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(b.statuses[2], StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(IsWrongType(b.statuses[3])) << b.statuses[3].ToString();
  EXPECT_TRUE(IsWrongType(b.statuses[4])) << b.statuses[4].ToString();
  EXPECT_EQ(b.values[5], "value-39595-new");
  EXPECT_THAT(b.statuses[6], StatusIs(StatusCode::kNotFound));
  EXPECT_OK(b.statuses[7]);
  EXPECT_EQ(b.values[7], "");
}

TEST_F(MultiGetTest, ValuesOverTheLimitAreLeftUnread) {
  const std::vector<std::string> keys = Populate(1000);
  constexpr size_t kLimit = 512;
  Batch b(keys);
  DB& db = *f_.db;
  db.MultiGet(b.keys, b.values, b.statuses, b.infos, kLimit);
  size_t over = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string value;
    const Status want = db.Get(b.keys[i], &value, nullptr);
    if (want.ok() && value.size() > kLimit) {
      // Long values (spans of 1 MiB among them) are not copied.
      EXPECT_TRUE(DB::IsValueOverBatchLimit(b.statuses[i])) << b.keys[i];
      EXPECT_EQ(b.values[i], "stale") << b.keys[i];
      ++over;
      continue;
    }
    ASSERT_EQ(b.statuses[i].code(), want.code()) << b.keys[i];
    EXPECT_FALSE(DB::IsValueOverBatchLimit(b.statuses[i])) << b.keys[i];
    if (want.ok()) {
      EXPECT_TRUE(b.values[i] == value) << b.keys[i];
    }
  }
  EXPECT_GT(over, 20u);  // the limit did bite
}

TEST_F(MultiGetTest, BatchesOfEverySizeAndRepeatedKeys) {
  const std::vector<std::string> all = Populate(300);
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{31}, size_t{32},
                   size_t{33}, size_t{64}, size_t{65}, all.size()}) {
    std::vector<std::string> keys(all.begin(), all.begin() + n);
    // Each key twice, once right after itself and once at the end.
    for (size_t i = 0; i < n; i += 3) {
      keys.insert(keys.begin() + i, keys[i]);
      keys.push_back(keys[i]);
    }
    Batch b(keys);
    b.Run(*f_.db, true);
    ExpectAgreesWithGet(*f_.db, b, true);
  }
}

TEST_F(MultiGetTest, AgreesAfterCompactionAndReopen) {
  const std::vector<std::string> keys = Populate(1000);
  ASSERT_OK(TEST_Compact(f_.db, 1000));
  {
    Batch b(keys);
    b.Run(*f_.db, true);
    ExpectAgreesWithGet(*f_.db, b, true);
  }
  ASSERT_OK(f_.Reopen());
  Batch b(keys);
  b.Run(*f_.db, true);
  ExpectAgreesWithGet(*f_.db, b, true);
  EXPECT_EQ(b.values[2], "value-7919");  // keys: k0, missing0, k1
}

// Writers overwrite, delete and re-create keys, in single writes and in
// transactions of two keys, while compaction moves them; every value a
// MultiGet returns is one a writer stored for that key, and a key written
// only as a string is never reported as another type.
TEST(MultiGetConcurrencyTest, ValuesAreAlwaysOnesAWriterStored) {
  EngineFixture f(64 << 20, 256 << 10);
  f.options.background_compaction = true;
  ASSERT_OK(f.Open());
  DB* db = f.db.get();
  constexpr int kKeys = 200;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("key" + std::to_string(i));
  std::atomic<bool> stop{false};
  auto writer = [&](int id) {
    for (uint64_t n = 0; !stop.load(); ++n) {
      const std::string& k = keys[(n * 7 + id * 13) % kKeys];
      const std::string v = k + "=" + std::to_string(id) + "." +
                            std::to_string(n) + std::string(n % 200, 'x');
      Status s;
      if (n % 5 == 0) {
        s = db->Delete(k);
      } else if (n % 5 == 1) {
        const std::string& k2 = keys[(n * 11 + 1) % kKeys];
        s = db->RunTxn({}, {}, [&](Txn& t) -> Status {
          DAXKV_RETURN_IF_ERROR(t.Put(k, v));
          return t.Put(k2, k2 + "=t" + std::to_string(n));
        });
      } else {
        s = db->Put(k, v, 0, WriteOptions{.sync = n % 2 == 0});
      }
      // Compaction may trail the writers for a moment.
      if (s.code() == StatusCode::kNoSpace) {
        std::this_thread::yield();
        continue;
      }
      ASSERT_OK(s);
    }
  };
  std::vector<std::thread> writers;
  for (int id = 0; id < 2; ++id) writers.emplace_back(writer, id);
  Batch b(keys);
  for (int round = 0; round < 3000; ++round) {
    b.Run(*db, round % 2 == 0);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (b.statuses[i].code() == StatusCode::kNotFound) continue;
      ASSERT_OK(b.statuses[i]) << keys[i];
      ASSERT_EQ(b.values[i].rfind(keys[i] + "=", 0), 0u)
          << keys[i] << " read " << b.values[i];
    }
  }
  stop.store(true);
  for (std::thread& t : writers) t.join();
  b.Run(*db, true);
  ExpectAgreesWithGet(*db, b, true);
}

}  // namespace
}  // namespace daxkv::engine
