// The background thread maps the free segment a log head takes next
// (DBImpl::PrefaultAhead, dax::Region::Prefault), so appends to a fresh
// segment take no page faults; a region that cannot prefault is asked once.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/borrowed_region.h"
#include "engine/db.h"
#include "tests/engine/heap_region.h"
#include "tests/support/status_matchers.h"

namespace daxkv::engine {
namespace {

constexpr size_t kSegment = 64 << 10;

// A borrowed region that records its Prefault calls (and can refuse them).
class PrefaultLog final : public BorrowedRegion {
 public:
  PrefaultLog(dax::Region& r, bool supported)
      : BorrowedRegion(r), base_(r.data()), supported_(supported) {}
  Status Prefault(void* a, size_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    calls_.emplace_back(static_cast<char*>(a) - base_, n);
    return supported_ ? OkStatus() : NotSupportedError("prefault");
  }

  std::vector<std::pair<size_t, size_t>> calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  char* const base_;
  const bool supported_;
  mutable std::mutex mu_;
  std::vector<std::pair<size_t, size_t>> calls_;
};

Options BackgroundOptions() {
  Options o;
  o.segment_size = kSegment;
  o.background_compaction = true;
  o.background_expiry = false;
  o.background_scrub = false;
  return o;
}

StatusOr<std::unique_ptr<DB>> OpenOn(dax::Region& region) {
  return DB::Open(std::make_unique<BorrowedRegion>(region),
                  BackgroundOptions());
}

// Waits (up to 5 s) until the DB has prefaulted at least `n` segments.
bool WaitForPrefaulted(DB* db, uint64_t n) {
  for (int i = 0; i < 500; ++i) {
    if (db->GetStats().prefaulted_segments >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(PrefaultTest, TheFreeSegmentTakenNextIsMappedAhead) {
  testing::HeapRegion heap(testing::HeapRegion::NewBuffer(4 << 20));
  PrefaultLog log(heap, true);
  auto db = OpenOn(log);
  ASSERT_OK(db);
  ASSERT_TRUE(WaitForPrefaulted(db->get(), 1)) << "nothing prefaulted";
  // Fill ten segments, one at a time, letting the background thread catch
  // up after each: one more segment is mapped per segment taken.
  const std::string value(1000, 'v');
  int key = 0;
  for (uint64_t seg = 1; seg <= 10; ++seg) {
    const uint64_t free = (*db)->GetStats().free_segments;
    while ((*db)->GetStats().free_segments == free) {
      ASSERT_OK((*db)->Put("k" + std::to_string(key++), value));
    }
    ASSERT_TRUE(WaitForPrefaulted(db->get(), seg + 1)) << "segment " << seg;
  }
  const auto calls = log.calls();
  EXPECT_GE(calls.size(), 11u);
  for (const auto& [offset, len] : calls) {
    EXPECT_EQ(len, kSegment);
    EXPECT_LE(offset + len, heap.size());
  }
  // Each segment once: a segment stays mapped once prefaulted.
  for (size_t i = 0; i < calls.size(); ++i) {
    for (size_t j = i + 1; j < calls.size(); ++j) {
      EXPECT_NE(calls[i].first, calls[j].first) << "prefaulted twice";
    }
  }
}

TEST(PrefaultTest, ARegionThatCannotPrefaultIsAskedOnce) {
  testing::HeapRegion heap(testing::HeapRegion::NewBuffer(4 << 20));
  PrefaultLog log(heap, false);
  auto db = OpenOn(log);
  ASSERT_OK(db);
  const std::string value(1000, 'v');
  for (int i = 0; i < 400; ++i) {  // several segments
    ASSERT_OK((*db)->Put("k" + std::to_string(i), value));
    if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(log.calls().size(), 1u);
  EXPECT_EQ((*db)->GetStats().prefaulted_segments, 0u);
}

}  // namespace
}  // namespace daxkv::engine
