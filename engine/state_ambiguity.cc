#include "engine/state_ambiguity.h"

#include <mutex>
#include <shared_mutex>
#include <string_view>

#include "engine/key_hash.h"

namespace daxkv::engine {
namespace {

// The index's entry for `key`, or 0.
uint64_t FindLoc(const Index& index, std::string_view key) {
  KeyHash kh(key);
  const Index::Shard& s = index.shard(kh);
  ReadLock l(s.mu);
  return index.Find(s, kh, key).loc;
}

// The segment whose state decides entry `loc` (a span's head).
uint64_t Owner(const format::SuperBlock& sb, const PoolScan& scan,
               uint64_t loc) {
  uint64_t seg = (loc - sb.data_offset) / sb.segment_size;
  const SegmentScan& s = scan.segments[seg];
  return s.state == SegmentState::kSpanned ? s.span_head : seg;
}

}  // namespace

std::string AmbiguityVerdict::Describe(const PoolScan& scan) const {
  std::string segs;
  for (uint64_t i : scan.ambiguous) {
    segs += (segs.empty() ? "" : ", ") + std::to_string(i);
  }
  std::string msg = "repair keeps segment(s) " + segs + " in use";
  if (newer + deleted > 0) {
    msg += " (" + std::to_string(newer) + " key(s) keep a newer value there, " +
           std::to_string(deleted) + " stay deleted by its tombstones)";
  }
  if (revived.empty()) return msg + "; no key changes otherwise";
  msg += " and deletes the " + std::to_string(revived.size()) +
         " key(s) found only there, which a free segment would not hold "
         "(it never brings back a deleted key):";
  for (size_t i = 0; i < revived.size() && i < 8; ++i) {
    msg += " '" + revived[i].substr(0, 64) + "'";
  }
  if (revived.size() > 8) msg += " ...";
  return msg;
}

void JudgeAmbiguousSegments(const char* base, const format::SuperBlock& sb,
                            const Index& a, ScanOptions options, Index* b,
                            PoolScan* scan_b, AmbiguityVerdict* out) {
  options.ambiguous_in_use = true;
  ScanPool(base, sb, b, options, scan_b);
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = b->shard_at(i);
    ReadLock l(s.mu);
    b->ForEach(s, [&](uint64_t loc, bool tomb) {
      if (tomb || !scan_b->segments[Owner(sb, *scan_b, loc)].ambiguous) return;
      const uint64_t in_a = FindLoc(a, format::EntryKey(base + loc));
      if (in_a == 0) {
        out->revived.emplace_back(format::EntryKey(base + loc));
      } else if (format::LoadEntry(base + in_a).seq <
                 format::LoadEntry(base + loc).seq) {
        ++out->newer;
      }
    });
  }
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = a.shard_at(i);
    ReadLock l(s.mu);
    a.ForEach(s, [&](uint64_t loc, bool tomb) {
      if (!tomb && FindLoc(*b, format::EntryKey(base + loc)) == 0)
        ++out->deleted;
    });
  }
}

}  // namespace daxkv::engine
