// Recovery's check of the links the index ended up pointing at (kLink,
// written by DB::Rename): each must name a put entry, with the seq it
// recorded, inside the one valid record of an in-use span. A valid link
// keeps its span alive (its target's bytes count in the span head's live
// bytes); a broken one (its span damaged and dropped, or freed by a bug)
// is reported, and repair deletes the key.
#include <mutex>
#include <shared_mutex>
#include <string_view>

#include "engine/key_hash.h"
#include "engine/pool_scan.h"

namespace daxkv::engine {
namespace {

// The span head holding entry `target`, or -1 when the entry is not a put
// of seq `seq` inside the valid record of an in-use span.
int64_t TargetSpan(const char* base, const format::SuperBlock& sb,
                   const PoolScan& scan, uint64_t target, uint64_t seq) {
  if (target < sb.data_offset + format::kSegmentHeaderSize) return -1;
  uint64_t seg = (target - sb.data_offset) / sb.segment_size;
  if (seg >= scan.segments.size()) return -1;
  if (scan.segments[seg].state == SegmentState::kSpanned) {
    seg = scan.segments[seg].span_head;
  }
  const SegmentScan& s = scan.segments[seg];
  const uint64_t start = SegmentOffset(sb, seg);
  if (s.state != SegmentState::kInUse || s.span <= 1 || !s.damaged.empty() ||
      s.records != 1 || target < start + format::kSegmentHeaderSize + 8 ||
      target + format::kEntryHeaderSize > start + s.tail) {
    return -1;
  }
  const format::EntryHeader e = format::LoadEntry(base + target);
  if (e.type != format::kPut || e.seq != seq ||
      target + format::EntrySize(e.key_len, e.value_len) > start + s.tail) {
    return -1;
  }
  return static_cast<int64_t>(seg);
}

}  // namespace

void CheckLinks(const char* base, const format::SuperBlock& sb,
                const Index& index, const std::vector<uint64_t>& links,
                PoolScan* out) {
  for (uint64_t loc : links) {
    const format::EntryHeader e = format::LoadEntry(base + loc);
    const std::string_view key(base + loc + format::kEntryHeaderSize,
                               e.key_len);
    const KeyHash kh(key);
    {
      const Index::Shard& s = index.shard(kh);
      ReadLock l(s.mu);
      if (!index.IndexedAt(s, kh, loc)) continue;  // superseded: dead
    }
    const format::LinkPayload link = format::LoadLink(base + loc);
    const int64_t span = e.value_len == sizeof(link)
                             ? TargetSpan(base, sb, *out, link.target, link.seq)
                             : -1;
    if (span >= 0) {
      out->live_bytes[span] +=
          format::IndexedEntryBytes(format::LoadEntry(base + link.target));
      continue;
    }
    out->broken_links.push_back(loc);
    out->problems.push_back({loc, format::kEntryHeaderSize, true,
                             "key '" + std::string(key.substr(0, 64)) +
                                 "' (renamed) names a " + "value at " +
                                 format::HexOffset(link.target) +
                                 " that is gone (repair deletes the key)"});
  }
}

}  // namespace daxkv::engine
