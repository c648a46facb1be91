// DB::Rename (issue 11, finding 13b: "RENAME of a 512 MB value needs room
// for a copy, where Redis's is O(1)"). A value in a span is renamed by a
// link record naming it; smaller values are copied; either way one atomic
// record (engine/rename.cc).
#include <gtest/gtest.h>

#include <string>

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

std::string Big(double segments, char salt) {
  std::string v(static_cast<size_t>(segments * kSeg), '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = static_cast<char>(salt + i * 131 % 251);
  }
  return v;
}

PoolReport Inspect(const testing::HeapRegion::Buffer& buffer) {
  return InspectBuffer(buffer);
}

class RenameTest : public ::testing::Test {
 protected:
  RenameTest() : f_(2 << 20, kSeg) {}  // 31 segments of 64 KiB
  void SetUp() override { ASSERT_OK(f_.Open()); }

  void Expect(const std::string& key, const std::string& value,
              int64_t expire = 0) {
    auto r = f_.db->Get(key);
    ASSERT_OK(r) << key;
    EXPECT_TRUE(r->value == value) << key << ": value differs";
    EXPECT_EQ(r->expire_at_ms, expire) << key;
  }
  void ExpectGone(const std::string& key) {
    EXPECT_THAT(f_.db->Get(key), StatusIs(StatusCode::kNotFound)) << key;
  }
  uint64_t Free() { return f_.db->GetStats().free_segments; }

  EngineFixture f_;
};

TEST_F(RenameTest, SmallValueIsMovedWithItsExpiry) {
  const int64_t expire = int64_t{1} << 50;
  ASSERT_OK(f_.db->Put("a", "value of a", expire));
  ASSERT_OK(f_.db->Put("b", "old b"));
  ASSERT_OK(f_.db->Rename("a", "b"));
  ExpectGone("a");
  Expect("b", "value of a", expire);
  EXPECT_THAT(f_.db->Rename("a", "c"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(f_.db->Rename("b", "b"));
  Expect("b", "value of a", expire);
  ASSERT_OK(f_.Reopen());
  ExpectGone("a");
  Expect("b", "value of a", expire);
  EXPECT_EQ(f_.db->Count(), 1u);
}

// The regression: a value of most of the pool's free space. A copy (what
// RENAME did: GET, SET, DEL) needs as much room again; the link needs none.
TEST_F(RenameTest, SpanValueIsRenamedWithoutACopy) {
  const std::string big = Big(16.5, 'a');  // of 31 segments
  ASSERT_OK(f_.db->Put("src", big));
  EXPECT_THAT(f_.db->Put("copy", big), StatusIs(StatusCode::kNoSpace))
      << "the pool must be too small for a second copy";
  const uint64_t free_before = Free();
  ASSERT_OK(f_.db->Rename("src", "dst"));
  EXPECT_GE(Free() + 1, free_before) << "the rename took segments";
  ExpectGone("src");
  Expect("dst", big);
  // Renaming the renamed key again, and reading it after reopening.
  ASSERT_OK(f_.db->Rename("dst", "dst2"));
  ASSERT_OK(f_.Reopen());
  ExpectGone("src");
  ExpectGone("dst");
  Expect("dst2", big);
  EXPECT_EQ(f_.db->Count(), 1u);
  // The span is live while the link names it: compaction keeps it.
  ASSERT_OK(TEST_Compact(f_.db, 100));
  ASSERT_OK(f_.Reopen());
  Expect("dst2", big);
  PoolReport r = Inspect(f_.buffer);
  EXPECT_EQ(r.spans, 1u);
  EXPECT_EQ(r.repairable_problems + r.unrecoverable_problems, 0u);
}

TEST_F(RenameTest, DeletingOrOverwritingTheNewKeyFreesTheSpan) {
  const std::string big = Big(3, 'b');
  for (bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "overwrite" : "delete");
    const uint64_t free0 = Free();
    ASSERT_OK(f_.db->Put("src", big));
    ASSERT_OK(f_.db->Rename("src", "dst"));
    if (overwrite) {
      ASSERT_OK(f_.db->Put("dst", "small"));
    } else {
      ASSERT_OK(f_.db->Delete("dst"));
    }
    ASSERT_OK(TEST_Compact(f_.db, 100));
    EXPECT_GE(Free() + 1, free0) << "the dead span was not freed";
    ASSERT_OK(f_.Reopen());
    ExpectGone("src");
    if (overwrite) {
      Expect("dst", "small");
    } else {
      ExpectGone("dst");
    }
    EXPECT_EQ(Inspect(f_.buffer).spans, 0u);
  }
}

TEST_F(RenameTest, ExpiryUpdateAndScanWorkThroughALink) {
  const std::string big = Big(2.5, 'c');
  ASSERT_OK(f_.db->Put("src", big));
  ASSERT_OK(f_.db->Rename("src", "dst"));
  const uint64_t free0 = Free();
  ASSERT_OK(f_.db->SetExpiry("dst", int64_t{1} << 50));
  EXPECT_GE(Free() + 1, free0) << "SetExpiry copied the value";
  Expect("dst", big, int64_t{1} << 50);
  auto page = f_.db->Scan(0, 10);
  ASSERT_OK(page);
  ASSERT_EQ(page->keys.size(), 1u);
  EXPECT_EQ(page->keys[0], "dst");
  ASSERT_OK(f_.db->Update("dst", [&](const UpdateInput& in, UpdateOutput* out) {
    EXPECT_TRUE(in.old != nullptr && *in.old == big);
    out->value = "updated";
    return OkStatus();
  }));
  Expect("dst", "updated");
  ASSERT_OK(f_.Reopen());
  Expect("dst", "updated");
  ExpectGone("src");
}

// A link whose span is damaged: refused, then repair deletes the key (its
// value is gone) and nothing else.
TEST_F(RenameTest, LinkToADamagedSpanIsRefusedThenDropped) {
  const std::string big = Big(2.5, 'd');
  ASSERT_OK(f_.db->Put("src", big));
  ASSERT_OK(f_.db->Put("other", "kept"));
  ASSERT_OK(f_.db->Rename("src", "dst"));
  f_.db.reset();
  f_.options.index_snapshot = false;  // the damage is for the scan to find
  uint64_t head = 0;
  for (const SegmentReport& s : Inspect(f_.buffer).segments) {
    if (s.span > 1) head = s.offset;
  }
  ASSERT_NE(head, 0u);
  (*f_.buffer)[head + kSeg + 100] ^= 0x20;  // inside the value
  Status refused = f_.Open();
  ASSERT_THAT(refused, StatusIs(StatusCode::kCorruption));
  EXPECT_NE(refused.ToString().find("'dst' (renamed)"), std::string::npos)
      << refused.ToString();
  f_.options.repair = true;
  ASSERT_OK(f_.Open());
  ExpectGone("dst");
  ExpectGone("src");
  Expect("other", "kept");
  f_.options.repair = false;
  ASSERT_OK(f_.Reopen());
  ExpectGone("dst");
  Expect("other", "kept");
}

}  // namespace
}  // namespace daxkv::engine
