#include "engine/segment_scrub.h"

#include "engine/format.h"

namespace daxkv::engine {

namespace {

// "" when every entry of the valid record at `rec` is well formed (the
// checks the scan applies beyond CRCs); else what is wrong.
std::string RecordEntriesBad(const char* rec) {
  std::string bad;
  const bool laid_out =
      format::ForEachEntry(rec, [&](uint64_t o, const format::EntryHeader& e) {
        bad = format::CheckEntry(rec + o, e);
        return bad.empty();
      });
  if (!laid_out && bad.empty()) bad = "batch with an inconsistent layout";
  return bad;
}

}  // namespace

void SegmentScrub::Plan(std::map<int64_t, Target> todo) {
  MutexLock l(&mu_);
  todo_ = std::move(todo);
  pending_.store(todo_.size(), std::memory_order_release);
}

int64_t SegmentScrub::Next() const {
  MutexLock l(&mu_);
  return todo_.empty() ? -1 : todo_.begin()->first;
}

std::optional<SegmentScrub::Target> SegmentScrub::Take(int64_t seg) {
  MutexLock l(&mu_);
  auto it = todo_.find(seg);
  if (it == todo_.end()) return std::nullopt;
  const Target target = it->second;
  todo_.erase(it);
  return target;
}

void SegmentScrub::Verified(uint64_t records) {
  records_.fetch_add(records, std::memory_order_relaxed);
  // Counted done only once its records are counted: whoever sees no
  // segment pending sees every verified record (Stats).
  pending_.fetch_sub(1, std::memory_order_release);
}

ScrubResult ScrubRecords(const char* sp, uint64_t seg_off, int64_t seg,
                         uint32_t seed, const SegmentScrub::Target& target) {
  ScrubResult r;
  for (uint32_t off = format::kSegmentHeaderSize; off < target.tail;) {
    uint64_t n = 0;
    std::string bad;
    switch (format::CheckRecord(sp + off, target.tail - off, seed, target.epoch,
                                &n)) {
      case format::RecordCheck::kBadHeader:
        bad = "record header fails its checksum; the rest of segment " +
              std::to_string(seg) + " is unreadable";
        n = target.tail - off;
        break;
      case format::RecordCheck::kBadData:
        bad = "record fails its checksum";
        break;
      case format::RecordCheck::kValid:
        bad = RecordEntriesBad(sp + off);
        break;
    }
    if (!bad.empty()) {
      r.damaged.emplace_back(seg_off + off, seg_off + off + n);
      if (r.first.empty()) {
        r.first = format::HexOffset(seg_off + off) + ": " + bad;
      }
    }
    ++r.records;
    off += static_cast<uint32_t>(n);
  }
  return r;
}

}  // namespace daxkv::engine
