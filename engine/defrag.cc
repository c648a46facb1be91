// DBImpl: making a run of contiguous free segments for a span.
//
// A span needs N contiguous free segments. Deletes leave free segments
// scattered between segments still holding live records, so a pool can
// have far more than N free segments and no run of N (issue 11, finding
// 13a). MakeContiguousRun picks the window of N segments that is cheapest
// to empty (only free segments and sealed log segments: spans never move,
// active logs are being written) and compacts the sealed ones, with every
// allocation meanwhile kept out of the window, until the window is free.
//
// Crash safety is that of compaction: every segment is emptied by
// CompactSegment (live entries re-appended and persisted with their seq
// before the segment is freed). The window reservation lives in DRAM only.
#include <algorithm>

#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

// Segments a relocation of `bytes` fills, plus one for the compaction
// log's partly used segment.
uint64_t LogSegmentsFor(uint64_t bytes, uint64_t capacity) {
  return bytes == 0 ? 0 : (bytes + capacity - 1) / capacity + 1;
}

}  // namespace

std::vector<uint8_t> DBImpl::FreeMapLocked() const {
  std::vector<uint8_t> is_free(segment_count_.load(), 0);
  for (int64_t s : free_list_) is_free[s] = 1;
  return is_free;
}

uint64_t DBImpl::LongestFreeRun() const {
  std::vector<uint8_t> is_free;
  {
    MutexLock l(&alloc_mu_);
    is_free = FreeMapLocked();
  }
  uint64_t run = 0, longest = 0;
  for (uint8_t f : is_free) {
    run = f ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest;
}

int64_t DBImpl::PickRunWindow(uint64_t n) const {
  const uint64_t count = segment_count_.load();
  const uint64_t capacity = segment_size_ - format::kSegmentHeaderSize;
  std::vector<uint8_t> is_free;
  uint64_t free_total;
  {
    MutexLock l(&alloc_mu_);
    is_free = FreeMapLocked();
    free_total = free_list_.size();
  }
  int64_t best = -1;
  uint64_t best_cost = 0;
  for (uint64_t i = 0; i + n <= count; ++i) {
    uint64_t cost = 0, free_inside = 0;
    bool movable = true;
    for (uint64_t k = i; k < i + n && movable; ++k) {
      const SegMeta& m = segs_[k];
      if (is_free[k]) {
        ++free_inside;
        continue;
      }
      movable = m.use.load() == SegUse::kSealed && m.span.load() == 1 &&
                static_cast<int64_t>(k) != resume_.victim();
      cost += m.live.load() + m.tomb.load();
    }
    if (!movable || free_inside == n) continue;
    // The copies go to segments outside the window, which must then still
    // leave the reserve a span write keeps free.
    const uint64_t outside = free_total - free_inside;
    if (outside < LogSegmentsFor(cost, capacity) + reserve_) continue;
    if (best < 0 || cost <= best_cost) {  // ties: the higher window
      best = static_cast<int64_t>(i);
      best_cost = cost;
    }
  }
  return best;
}

bool DBImpl::MakeContiguousRun(uint64_t n) {
  const int64_t start = PickRunWindow(n);
  if (start < 0) return false;
  {
    MutexLock l(&alloc_mu_);
    run_window_ = {start, start + static_cast<int64_t>(n)};
  }
  for (int64_t k = start; k < start + static_cast<int64_t>(n); ++k) {
    if (segs_[k].use.load() != SegUse::kSealed) continue;  // free already
    if (!CompactSegment(k).ok()) return false;
  }
  return true;
}

int64_t DBImpl::PopFreeSegmentLocked() {
  // Outside the window a span is waiting for, unless nothing else is free.
  const auto window = run_window_;
  auto outside = [window](int64_t s) {
    return s < window.first || s >= window.second;
  };
  auto it = std::find_if(free_list_.rbegin(), free_list_.rend(), outside);
  if (it == free_list_.rend()) {
    run_window_ = {0, 0};
    it = free_list_.rbegin();
  }
  const int64_t seg = *it;
  free_list_.erase(std::next(it).base());
  return seg;
}

}  // namespace daxkv::engine
