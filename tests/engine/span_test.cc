// Spans: records larger than one segment (engine/span.cc). Pools of 64 KiB
// segments keep multi-segment values small (a "9-segment" value is ~570 KiB).
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/crc32c.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/pool_inspect.h"
#include "tests/engine/db_test_hooks.h"
#include "tests/engine/engine_test_util.h"
#include "tests/engine/heap_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSeg = 64 << 10;

// A value whose record needs about `segments` segments; bytes depend on
// `salt` so a mixed or torn value never equals another.
std::string SpanValue(double segments, char salt) {
  size_t n = static_cast<size_t>(segments * kSeg) - 400;
  std::string v(n, '\0');
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<char>(salt + i * 131 % 251);
  return v;
}

uint64_t FreeSegments(DB& db) { return db.GetStats().free_segments; }

PoolReport Inspect(const testing::HeapRegion::Buffer& buffer) {
  return InspectBuffer(buffer);
}

class SpanTest : public ::testing::Test {
 protected:
  SpanTest() : f_(4 << 20, kSeg, 8 << 20) {}
  void SetUp() override { ASSERT_OK(f_.Open()); }

  void ExpectValue(const std::string& key, const std::string& value) {
    auto r = f_.db->Get(key);
    ASSERT_OK(r) << key;
    EXPECT_EQ(r->value.size(), value.size()) << key;
    EXPECT_TRUE(r->value == value) << key << ": value differs";
  }

  EngineFixture f_;
};

TEST_F(SpanTest, PutGetOverwriteDeleteAndReopen) {
  const std::string v15 = SpanValue(1.5, 'a'), v3 = SpanValue(3, 'b'),
                    v9 = SpanValue(9, 'c');
  const uint64_t free0 = FreeSegments(*f_.db);
  ASSERT_OK(f_.db->Put("small1", "x"));
  ASSERT_OK(f_.db->Put("v15", v15));
  ASSERT_OK(f_.db->Put("v3", v3, /*expire_at_ms=*/0));
  ASSERT_OK(f_.db->Put("v9", v9));
  ASSERT_OK(f_.db->Put("small2", "y"));
  // One log segment for the small keys, 2 + 3 + 9 for the spans.
  EXPECT_EQ(free0 - FreeSegments(*f_.db), 1u + 2 + 3 + 9);
  ExpectValue("v15", v15);
  ExpectValue("v3", v3);
  ExpectValue("v9", v9);
  ASSERT_OK(f_.Reopen());
  ExpectValue("v15", v15);
  ExpectValue("v3", v3);
  ExpectValue("v9", v9);
  EXPECT_EQ(f_.db->Count(), 5u);

  // Overwrite a span with a span, a span with a small value, delete one.
  const std::string v9b = SpanValue(9, 'd');
  ASSERT_OK(f_.db->Put("v9", v9b));
  ASSERT_OK(f_.db->Put("v3", "tiny"));
  bool existed = false;
  ASSERT_OK(f_.db->Delete("v15", &existed));
  EXPECT_TRUE(existed);
  ExpectValue("v9", v9b);
  ExpectValue("v3", "tiny");
  EXPECT_FALSE(f_.db->Exists("v15"));
  ASSERT_OK(f_.Reopen());
  ExpectValue("v9", v9b);
  ExpectValue("v3", "tiny");
  EXPECT_FALSE(f_.db->Exists("v15"));
  EXPECT_EQ(Inspect(f_.buffer).unrecoverable_problems, 0u);
  EXPECT_EQ(Inspect(f_.buffer).repairable_problems, 0u);
}

TEST_F(SpanTest, UpdateSetExpiryBatchAndScanThroughSpans) {
  const std::string v = SpanValue(2.5, 'e');
  ASSERT_OK(f_.db->Put("k", v));
  ASSERT_OK(f_.db->SetExpiry("k", int64_t{1} << 50));
  EXPECT_EQ(f_.db->Get("k")->expire_at_ms, int64_t{1} << 50);
  ExpectValue("k", v);
  ASSERT_OK(f_.db->Update("k", [](const UpdateInput& in, UpdateOutput* out) {
    out->value = *in.old + "tail";
    return OkStatus();
  }));
  ExpectValue("k", v + "tail");
  // A batch larger than a segment is one record in a span: its sub-entries
  // cross segment boundaries.
  WriteBatch b;
  b.Put("b1", SpanValue(1.2, 'f'));
  b.Put("b2", SpanValue(1.2, 'g'));
  b.Delete("k");
  ASSERT_OK(f_.db->Write(b));
  for (int round = 0; round < 2; ++round) {
    ExpectValue("b1", SpanValue(1.2, 'f'));
    ExpectValue("b2", SpanValue(1.2, 'g'));
    EXPECT_FALSE(f_.db->Exists("k"));
    auto page = f_.db->Scan(0, 100);
    ASSERT_OK(page);
    EXPECT_EQ(page->keys.size(), 2u);
    ASSERT_OK(f_.Reopen());
  }
  // Put, SetExpiry and Update each wrote a span (dead now, not yet freed),
  // the batch the fourth; compaction frees the three dead ones whole.
  PoolReport r = Inspect(f_.buffer);
  EXPECT_EQ(r.spans, 4u);
  EXPECT_EQ(r.repairable_problems + r.unrecoverable_problems, 0u);
  ASSERT_OK(TEST_Compact(f_.db, 100));
  ASSERT_OK(f_.Reopen());
  EXPECT_EQ(Inspect(f_.buffer).spans, 1u);
  ExpectValue("b2", SpanValue(1.2, 'g'));
}

TEST_F(SpanTest, CompactionFreesADeadSpanWhole) {
  const uint64_t free0 = FreeSegments(*f_.db);
  ASSERT_OK(f_.db->Put("big", SpanValue(9, 'h')));
  ASSERT_OK(f_.db->Put("live", SpanValue(3, 'i')));
  // A live span is never a victim.
  EXPECT_EQ(*TEST_Compact(f_.db, 100), 0u);
  ASSERT_OK(f_.db->Put("big", "small now"));
  const uint64_t before = FreeSegments(*f_.db);
  auto freed = TEST_Compact(f_.db, 100);
  ASSERT_OK(freed);
  EXPECT_GE(*freed, 1u);
  EXPECT_GE(FreeSegments(*f_.db), before + 9);
  ExpectValue("big", "small now");
  ExpectValue("live", SpanValue(3, 'i'));
  ASSERT_OK(f_.Reopen());
  ExpectValue("live", SpanValue(3, 'i'));
  // The freed span's other segments read as never used, not as value bytes.
  PoolReport r = Inspect(f_.buffer);
  EXPECT_EQ(r.spans, 1u);
  uint64_t spanned = 0;
  for (const SegmentReport& s : r.segments) spanned += s.state == "spanned";
  EXPECT_EQ(spanned, 2u);
  EXPECT_LE(free0 - FreeSegments(*f_.db), 3u + 2);
  EXPECT_EQ(r.repairable_problems + r.unrecoverable_problems, 0u);
}

TEST_F(SpanTest, NoContiguousRunIsNoSpaceAndLosesNothing) {
  // Fill the pool with 3-segment spans, then delete every other one: there
  // is then plenty of free space, but in runs of 3 only.
  int n = 0;
  while (f_.db->Put("s" + std::to_string(n), SpanValue(3, 'a' + n % 20)).ok()) {
    ++n;
  }
  ASSERT_GT(n, 8);
  for (int i = 0; i < n; i += 2) {
    ASSERT_OK(f_.db->Delete("s" + std::to_string(i)));
  }
  ASSERT_OK(TEST_Compact(f_.db, 1000));
  ASSERT_GE(FreeSegments(*f_.db), 12u);
  Status s = f_.db->Put("wide", SpanValue(5, 'w'));
  ASSERT_THAT(s, StatusIs(StatusCode::kNoSpace));
  EXPECT_NE(s.message().find("needs 5 contiguous free segments"),
            std::string::npos)
      << s.ToString();
  EXPECT_FALSE(f_.db->Exists("wide"));
  ASSERT_OK(f_.db->Put("fits", SpanValue(3, 'z')));
  ASSERT_OK(f_.Reopen());
  for (int i = 1; i < n; i += 2) {
    ExpectValue("s" + std::to_string(i), SpanValue(3, 'a' + i % 20));
  }
  ExpectValue("fits", SpanValue(3, 'z'));
  // Growing the pool makes room for the wide value.
  ASSERT_OK(f_.db->Grow(6 << 20));
  ASSERT_OK(f_.db->Put("wide", SpanValue(5, 'w')));
  ASSERT_OK(f_.Reopen());
  ExpectValue("wide", SpanValue(5, 'w'));
}

// Background compaction is off: a write that finds no run has compaction
// free dead spans first (RetryOnNoSpace), so overwrites never run dry.
TEST_F(SpanTest, OverwritesReclaimDeadSpansOnDemand) {
  for (int i = 0; i < 20; ++i) {
    Status s = f_.db->Put("k", SpanValue(9, static_cast<char>('a' + i)));
    ASSERT_OK(s) << "overwrite " << i;
  }
  EXPECT_GT(f_.db->GetStats().compactions, 0u);
  ASSERT_OK(f_.Reopen());
  ExpectValue("k", SpanValue(9, 'a' + 19));
}

TEST_F(SpanTest, ValueLargerThanThePoolIsNoSpace) {
  ASSERT_OK(f_.db->Put("k", "old"));
  Status s = f_.db->Put("k", std::string(5 << 20, 'x'));
  ASSERT_THAT(s, StatusIs(StatusCode::kNoSpace));
  EXPECT_NE(s.message().find("contiguous"), std::string::npos);
  ExpectValue("k", "old");
}

TEST_F(SpanTest, FlippedByteInsideASpanValueIsDetected) {
  const std::string v = SpanValue(4, 'j');
  ASSERT_OK(f_.db->Put("big", v));
  ASSERT_OK(f_.db->Put("other", "kept"));
  f_.db.reset();
  f_.options.index_snapshot = false;  // the damage is for the scan to find
  PoolReport clean = Inspect(f_.buffer);
  uint64_t head = 0;
  for (const SegmentReport& s : clean.segments) {
    if (s.span > 1) head = s.offset;
  }
  ASSERT_NE(head, 0u);
  (*f_.buffer)[head + 2 * kSeg + 1000] ^= 0x40;  // in the third segment
  PoolReport bad = Inspect(f_.buffer);
  EXPECT_EQ(bad.repairable_problems, 1u);
  Status refused = f_.Open();
  ASSERT_THAT(refused, StatusIs(StatusCode::kCorruption));
  f_.options.repair = true;
  ASSERT_OK(f_.Open());
  EXPECT_FALSE(f_.db->Exists("big"));  // dropped, never returned wrong
  ExpectValue("other", "kept");
  // The repaired span holds no live record: compaction frees it.
  EXPECT_GE(*TEST_Compact(f_.db, 100), 1u);
  f_.options.repair = false;
  ASSERT_OK(f_.Reopen());
  EXPECT_EQ(Inspect(f_.buffer).spans, 0u);
}

TEST_F(SpanTest, FlushFreesSpansWhole) {
  const uint64_t free0 = FreeSegments(*f_.db);
  ASSERT_OK(f_.db->Put("a", SpanValue(3, 'm')));
  ASSERT_OK(f_.db->Put("b", SpanValue(9, 'n')));
  ASSERT_OK(f_.db->Put("c", "small"));
  ASSERT_OK(f_.db->Flush());
  EXPECT_EQ(FreeSegments(*f_.db), free0);
  EXPECT_EQ(f_.db->Count(), 0u);
  ASSERT_OK(f_.db->Put("d", SpanValue(9, 'o')));  // reuses the space
  ASSERT_OK(f_.Reopen());
  EXPECT_FALSE(f_.db->Exists("a"));
  EXPECT_FALSE(f_.db->Exists("b"));
  ExpectValue("d", SpanValue(9, 'o'));
  EXPECT_EQ(Inspect(f_.buffer).spans, 1u);
}

// With 64 KiB segments a 64 KiB key makes even a tombstone larger than a
// segment: it takes a span, and compaction drops it once the put is gone.
TEST_F(SpanTest, TombstoneOfAMaximalKeyTakesASpan) {
  const std::string key(kMaxKeySize, 'K');
  const uint64_t free0 = FreeSegments(*f_.db);
  ASSERT_OK(f_.db->Put(key, "v"));
  ASSERT_OK(f_.db->Delete(key));
  EXPECT_FALSE(f_.db->Exists(key));
  ASSERT_OK(f_.Reopen());
  EXPECT_FALSE(f_.db->Exists(key));
  ASSERT_OK(TEST_Compact(f_.db, 100));
  EXPECT_EQ(FreeSegments(*f_.db), free0);
  ASSERT_OK(f_.Reopen());
  EXPECT_FALSE(f_.db->Exists(key));
  EXPECT_EQ(Inspect(f_.buffer).spans, 0u);
}

// A span write or free cut short by a crash leaves the covered segments
// holding record bytes. Even a value that embeds a genuine segment of this
// pool (header, state 0, records) at a covered segment's start must never
// be read as a segment: the head still claims them, recovery releases them.
TEST_F(SpanTest, CutShortSpanNeverExposesItsRecordBytesAsSegments) {
  ASSERT_OK(f_.db->Put("victim", "v"));
  f_.db.reset();  // seals the log segment holding "victim"
  uint64_t log_seg = 0;
  for (const SegmentReport& s : Inspect(f_.buffer).segments) {
    if (s.state == "in-use") log_seg = s.offset;
  }
  ASSERT_NE(log_seg, 0u);
  const std::string image(f_.buffer->data() + log_seg, kSeg);
  const std::string key = "evil";
  // The record starts at head + 128; its value at + 40 + key length.
  std::string value(kSeg - 128 - 40 - key.size(), 'p');
  value += image + std::string(kSeg / 2, 'q');
  for (format::SegState cut :
       {format::SegState::kAllocating, format::SegState::kFreed}) {
    ASSERT_OK(f_.Open());
    ASSERT_OK(f_.db->Put(key, value));
    f_.db.reset();
    PoolReport before = Inspect(f_.buffer);
    uint64_t head = 0;
    for (const SegmentReport& s : before.segments) {
      if (s.span == 3) head = s.offset;
    }
    ASSERT_NE(head, 0u);
    ASSERT_EQ(std::memcmp(f_.buffer->data() + head + kSeg, image.data(), 128),
              0);
    uint64_t epoch;
    std::memcpy(&epoch, f_.buffer->data() + head + 24, 8);
    const uint64_t state = format::StateWord(cut, epoch);  // the crash's
    std::memcpy(f_.buffer->data() + head + format::kStateWordOffset, &state, 8);
    PoolReport crashed = Inspect(f_.buffer);
    EXPECT_EQ(crashed.repairable_problems + crashed.unrecoverable_problems, 0u);
    EXPECT_EQ(crashed.records, 1u) << "the copy was read as a segment";
    ASSERT_OK(f_.Open());
    EXPECT_FALSE(f_.db->Exists(key));
    ExpectValue("victim", "v");
    f_.db.reset();
    // Released: the covered segments' header lines hold no magic any more.
    EXPECT_NE(std::memcmp(f_.buffer->data() + head + kSeg, image.data(), 8), 0);
    PoolReport after = Inspect(f_.buffer);
    EXPECT_EQ(after.spans, 0u);
    EXPECT_EQ(after.repairable_problems + after.unrecoverable_problems, 0u);
  }
}

TEST_F(SpanTest, VersionOnePoolOpensAndIsUpgraded) {
  ASSERT_OK(f_.db->Put("k", "v1 data"));
  f_.db.reset();
  SetPoolFormatVersion(f_.buffer.get(), 1);
  EXPECT_EQ(Inspect(f_.buffer).format_version, 1u);
  ASSERT_OK(f_.Open());
  ExpectValue("k", "v1 data");
  EXPECT_EQ(Inspect(f_.buffer).format_version, format::kFormatVersion);
  ASSERT_OK(f_.db->Put("span", SpanValue(2, 'k')));
  f_.db.reset();
  // A binary of version 1 would refuse this pool; so does this one for 3.
  SetPoolFormatVersion(f_.buffer.get(), format::kFormatVersion + 1);
  Status s = f_.Open();
  EXPECT_THAT(s, StatusIs(StatusCode::kNotSupported));
}

TEST_F(SpanTest, InspectShowsSpansAndTheirSegments) {
  ASSERT_OK(f_.db->Put("v", SpanValue(3, 'l')));
  f_.db.reset();
  PoolReport r = Inspect(f_.buffer);
  EXPECT_EQ(r.spans, 1u);
  int heads = 0, covered = 0;
  for (const SegmentReport& s : r.segments) {
    if (s.span == 3) {
      ++heads;
      EXPECT_EQ(s.state, "in-use");
      EXPECT_TRUE(s.sealed);
      EXPECT_EQ(s.records, 1u);
      EXPECT_GT(s.used_bytes, 2 * kSeg);
      EXPECT_EQ(s.live_bytes, s.used_bytes);
      EXPECT_EQ(r.segments[s.index + 1].state, "spanned");
      EXPECT_EQ(r.segments[s.index + 2].span_head, s.index);
    }
    covered += s.state == "spanned";
  }
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(covered, 2);
  EXPECT_EQ(r.repairable_problems + r.unrecoverable_problems, 0u);
}

// Span writers, log writers, readers and background compaction at once
// (bounded; run under TSan in CI): every read sees a whole value, and the
// final state survives a reopen.
TEST(SpanConcurrencyTest, SpanAndLogWritersWithCompaction) {
  EngineFixture f(6 << 20, kSeg);
  f.options.background_compaction = true;
  ASSERT_OK(f.Open());
  constexpr int kThreads = 2, kRounds = 40;
  std::atomic<bool> torn{false};
  std::atomic<int> writers{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        const std::string key =
            "t" + std::to_string(t) + "_" + std::to_string(r % 3);
        const char salt = static_cast<char>('a' + t * 7 + r);
        Status s = r % 4 == 3
                       ? f.db->Put(key, std::string(100 + r, salt))
                       : f.db->Put(key, SpanValue(1.5 + (r % 3) * 0.7, salt));
        if (!s.ok() && s.code() != StatusCode::kNoSpace) torn = true;
        f.db->Put("log" + std::to_string(t * 1000 + r), "v").IgnoreError();
      }
      writers--;
    });
  }
  threads.emplace_back([&] {
    while (writers.load() > 0) {
      for (int k = 0; k < 3; ++k) {
        auto v = f.db->Get("t0_" + std::to_string(k));
        if (!v.ok()) continue;
        // A whole value: SpanValue's or a run of one byte, never a mix.
        const std::string& x = v->value;
        bool whole = x.size() < 1000
                         ? x == std::string(x.size(), x[0])
                         : x == SpanValue((x.size() + 400.0) / kSeg, x[0]);
        if (!whole) torn = true;
      }
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_FALSE(torn.load());
  std::map<std::string, std::string> expect;
  for (int t = 0; t < kThreads; ++t) {
    for (int k = 0; k < 3; ++k) {
      std::string key = "t" + std::to_string(t) + "_" + std::to_string(k);
      auto v = f.db->Get(key);
      if (v.ok()) expect[key] = v->value;
    }
  }
  ASSERT_OK(f.Reopen());
  for (const auto& [key, value] : expect) {
    auto v = f.db->Get(key);
    ASSERT_OK(v) << key;
    EXPECT_TRUE(v->value == value) << key;
  }
}

}  // namespace
}  // namespace daxkv::engine
