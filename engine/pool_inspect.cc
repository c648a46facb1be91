#include "engine/pool_inspect.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "engine/borrowed_region.h"
#include "engine/coll_table.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/index.h"
#include "engine/state_ambiguity.h"
#include "engine/system_table.h"

namespace daxkv::engine {

namespace {

const char* StateName(SegmentState s) {
  switch (s) {
    case SegmentState::kUnused:
      return "unused";
    case SegmentState::kFree:
      return "free";
    case SegmentState::kInUse:
      return "in-use";
    case SegmentState::kDamaged:
      return "damaged";
    case SegmentState::kSpanned:
      return "spanned";
    case SegmentState::kAmbiguous:
      return "ambiguous";
  }
  return "?";
}

void FillSuperBlock(const SuperBlockRead& read, PoolReport* r) {
  const format::SuperBlock& sb = read.sb;
  r->format_version = sb.format_version;
  r->supported_format_version = format::kFormatVersion;
  r->uuid = format::UuidToString(sb.uuid);
  r->segment_size = sb.segment_size;
  r->segment_count = sb.segment_count;
  r->data_offset = sb.data_offset;
  r->generation = sb.generation;
  r->superblock_a_valid = read.valid_a;
  r->superblock_b_valid = read.valid_b;
  r->clean_shutdown = sb.clean_shutdown != 0;
  r->open_count = sb.open_count;
  r->crash_recoveries = sb.crash_recoveries;
  r->created_ms = sb.created_ms;
  r->last_open_ms = sb.last_open_ms;
  r->last_close_ms = sb.last_close_ms;
  r->last_recovery_ms = sb.last_recovery_ms;
  r->flush_seq = sb.flush_seq;
  r->index_snapshot_segment = sb.clean_shutdown != 0 && sb.index_snapshot != 0
                                  ? static_cast<int64_t>(sb.index_snapshot - 1)
                                  : -1;
}

// Reads the superblocks; when both are blank or damaged but segments remain,
// rebuilds one in memory from them (*rebuilt set, a problem reported).
Status ReadOrRebuild(const dax::Region& region, const RebuildOptions& options,
                     SuperBlockRead* read, bool* rebuilt) {
  const char* base = region.data();
  const std::string& path = region.info().path;
  Status s = ReadSuperBlocks(base, region.size(), read);
  *rebuilt = false;
  if (!read->blank && !read->no_valid_copy) return s.WithContext(path);
  SegmentEvidence ev = FindSegmentEvidence(base, region.size());
  if (ev.headers == 0) {
    if (read->blank) {
      return NotFoundError("no daxkv pool in " + path + " (blank region)");
    }
    return s.WithContext(path);
  }
  RebuildOptions ro = options;
  format::SuperBlock old;
  std::memcpy(&old, base, sizeof(old));
  if (std::memcmp(old.magic, format::kPoolMagic, 8) == 0) {
    ro.hint_segment_size = old.segment_size;
  }
  const std::string lost =
      read->blank ? "both superblocks are blank" : "both superblocks damaged";
  std::string choice;
  StatusOr<format::SuperBlock> sb =
      RebuildSuperBlock(base, region.size(), ev, ro, &choice);
  if (!sb.ok()) {
    return CorruptionError(path + ": " + lost + "; " + ev.Describe() +
                           " remain, but " +
                           std::string(sb.status().message()));
  }
  *read = SuperBlockRead{};
  read->sb = *sb;
  read->problems.push_back(
      {0, format::kDataOffset, true,
       lost + "; rebuilt from " + ev.Describe() + ": segment size " +
           std::to_string(sb->segment_size) + choice + ", flush_seq " +
           std::to_string(sb->flush_seq) + " (--repair writes it)"});
  *rebuilt = true;
  return OkStatus();
}

const char* StateNote(const SegmentScan& seg) {
  if (seg.ambiguous) return "ambiguous";
  if (seg.state_damaged) return "corrected";
  if (seg.legacy_state &&
      (seg.state == SegmentState::kInUse || seg.state == SegmentState::kFree)) {
    return "legacy";
  }
  return "";
}

// A span holds exactly one record, too large for one segment, ending in
// the span's last segment, and is sealed.
void VerifySpan(const format::SuperBlock& sb, uint64_t i,
                const SegmentScan& seg, std::vector<PoolProblem>* problems) {
  const uint64_t seg_off = SegmentOffset(sb, i);
  std::string bad;
  if (!seg.sealed) bad = "is not sealed";
  // A damaged record counts: it is reported (and repaired) by the scan.
  const uint64_t records = seg.records + seg.damaged.size();
  if (records != 1) {
    bad = "holds " + std::to_string(records) + " records instead of 1";
  }
  if (seg.records == 1 && seg.damaged.empty() &&
      (seg.tail <= (seg.span - 1) * sb.segment_size ||
       seg.tail <= sb.segment_size)) {
    bad = "is longer than its record needs (record ends at +" +
          std::to_string(seg.tail) + ")";
  }
  if (!bad.empty()) {
    problems->push_back({seg_off, 64, false,
                         "span of " + std::to_string(seg.span) +
                             " segments at segment " + std::to_string(i) + " " +
                             bad});
  }
}

// Invariants beyond checksums, checked on every valid record.
void VerifyRecords(const char* base, const format::SuperBlock& sb,
                   const PoolScan& scan, std::vector<PoolProblem>* problems) {
  std::map<uint64_t, uint64_t> epochs;  // epoch -> segment
  for (uint64_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentScan& seg = scan.segments[i];
    if (seg.state != SegmentState::kInUse) continue;
    const uint64_t seg_off = SegmentOffset(sb, i);
    auto [it, fresh] = epochs.emplace(seg.epoch, i);
    if (!fresh) {
      problems->push_back({seg_off, 64, false,
                           "segment " + std::to_string(i) + " repeats epoch " +
                               std::to_string(seg.epoch) + " of segment " +
                               std::to_string(it->second)});
    }
    if (scan.live_bytes[i].load() > seg.tail) {
      problems->push_back({seg_off, 0, false,
                           "segment " + std::to_string(i) +
                               " live bytes exceed its used bytes"});
    }
    if (seg.span > 1) VerifySpan(sb, i, seg, problems);
    const char* sp = base + seg_off;
    size_t d = 0;
    for (uint32_t off = format::kSegmentHeaderSize; off < seg.tail;) {
      if (d < seg.damaged.size() && seg.damaged[d].first == off) {
        off = seg.damaged[d++].second;
        continue;
      }
      uint64_t n = 0;
      if (format::CheckRecord(sp + off, seg.tail - off, seg.seed, seg.epoch,
                              &n) != format::RecordCheck::kValid) {
        break;  // already reported by the scan
      }
      format::ForEachEntry(
          sp + off, [&](uint64_t o, const format::EntryHeader& e) {
            // Key lengths, metas and elements: format::CheckEntry, which
            // the scan applied (a failure there is reported as damage).
            std::string bad;
            if (e.seq == 0 || e.seq > scan.max_seq) bad = "sequence number";
            if (format::IsKeyEntry(e.type) && e.expire_at_ms < 0) {
              bad = "expiry time";
            }
            if (e.type == format::kTombstone && e.value_len != 0) {
              bad = "tombstone with a value";
            }
            if (e.type == format::kLink &&
                e.value_len != sizeof(format::LinkPayload)) {
              bad = "link payload";
            }
            if (!bad.empty()) {
              problems->push_back({seg_off + off + o, format::kEntryHeaderSize,
                                   false, "entry with an invalid " + bad});
            }
            return true;
          });
      off += static_cast<uint32_t>(n);
    }
  }
}

// Counts the collections the scan built (by type, elements, DRAM), then
// frees them.
void CountCollections(CollTable* colls, PoolReport* r) {
  r->collection_bytes = colls->MemoryBytes();
  for (Collection* c : colls->TakeAll()) {
    {
      ReadLock l(c->mu);
      r->elements += c->size();
      r->collection_bytes += c->MemoryBytes();
    }
    switch (c->type) {
      case KeyType::kHash:
        ++r->hashes;
        break;
      case KeyType::kList:
        ++r->lists;
        break;
      case KeyType::kSet:
        ++r->sets;
        break;
      case KeyType::kStream:
        ++r->streams;
        break;
      default:
        ++r->zsets;
    }
    delete c;
  }
}

}  // namespace

StatusOr<PoolReport> InspectPool(const dax::Region& region,
                                 const InspectOptions& options) {
  auto start = std::chrono::steady_clock::now();
  const char* base = region.data();
  SuperBlockRead read;
  bool rebuilt = false;
  DAXKV_RETURN_IF_ERROR(
      ReadOrRebuild(region, options.rebuild, &read, &rebuilt));
  PoolReport r;
  r.path = region.info().path;
  r.region_bytes = region.size();
  FillSuperBlock(read, &r);
  r.superblock_rebuilt = rebuilt;

  Index index(base);
  CollTable colls;
  ScanOptions so;
  so.threads = options.threads > 0
                   ? options.threads
                   : std::max(1u, std::thread::hardware_concurrency());
  so.progress = options.progress;
  so.collections = &colls;
  SystemTable system;
  so.system = &system;
  PoolScan scan;
  ScanPool(base, read.sb, &index, so, &scan);
  CountCollections(&colls, &r);
  if (!scan.ambiguous.empty()) {
    // Reported as the engine would settle them (state_ambiguity.h).
    AmbiguityVerdict verdict;
    Index in_use(base);
    CollTable colls_b;
    so.collections = &colls_b;
    PoolScan scan_b;
    system.Clear();  // counted as the engine would settle them
    JudgeAmbiguousSegments(base, read.sb, index, so, &in_use, &scan_b,
                           &verdict);
    for (Collection* c : colls_b.TakeAll()) delete c;
    scan.problems.push_back(
        {SegmentOffset(read.sb, scan.ambiguous[0]) + format::kStateWordOffset,
         8, true, verdict.Describe(scan)});
    r.ambiguous_segments = scan.ambiguous.size();
  }
  r.max_seq = scan.max_seq;
  r.records = scan.records;
  r.system_entries = scan.system_entries;
  system.ForEach([&](const std::string&, const SystemTable::Entry& e) {
    if (!e.tombstone) ++r.system_keys;
  });

  const int64_t now =
      options.now_ms != 0
          ? options.now_ms
          : std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  for (uint32_t s = 0; s < kShardCount; ++s) {
    const Index::Shard& sh = index.shard_at(s);
    ReadLock l(sh.mu);
    r.keys += sh.used;
    r.expiring_keys += sh.expiring.size();
    for (const auto& [exp, loc] : sh.expiring) {
      if (exp > now) break;
      ++r.expired_keys;
    }
  }
  r.index_bytes = index.MemoryBytes();

  for (uint64_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentScan& seg = scan.segments[i];
    SegmentReport sr;
    sr.index = i;
    sr.offset = SegmentOffset(read.sb, i);
    sr.state = StateName(seg.state);
    sr.state_note = StateNote(seg);
    sr.watermark = seg.watermark;
    sr.sealed = seg.sealed;
    sr.span = seg.span;
    sr.span_head = seg.span_head;
    sr.torn_tail = seg.torn_tail;
    sr.epoch = seg.epoch;
    sr.records = seg.records;
    sr.tombstones = seg.tombstones;
    if (seg.state == SegmentState::kInUse) {
      sr.used_bytes = seg.tail - format::kSegmentHeaderSize;
      sr.live_bytes = scan.live_bytes[i].load();
      sr.dead_bytes = sr.used_bytes - std::min(sr.used_bytes, sr.live_bytes);
      r.used_bytes += sr.used_bytes;
      r.live_bytes += sr.live_bytes;
      r.dead_bytes += sr.dead_bytes;
      r.free_bytes += seg.span * read.sb.segment_size - seg.tail;
      if (seg.span > 1) ++r.spans;
    } else if (seg.state != SegmentState::kDamaged &&
               seg.state != SegmentState::kSpanned) {
      ++r.free_segments;
      r.free_bytes += read.sb.segment_size;
    }
    r.segments.push_back(std::move(sr));
  }

  r.problems = read.problems;
  r.problems.insert(r.problems.end(), scan.problems.begin(),
                    scan.problems.end());
  if (options.verify) VerifyRecords(base, read.sb, scan, &r.problems);
  std::sort(r.problems.begin(), r.problems.end(),
            [](const PoolProblem& a, const PoolProblem& b) {
              return a.offset < b.offset;
            });
  for (const PoolProblem& p : r.problems) {
    (p.repairable ? r.repairable_problems : r.unrecoverable_problems)++;
  }
  if (!options.verify) r.problems.clear();
  r.scan_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  return r;
}

StatusOr<RepairReport> RepairPool(dax::Region& region,
                                  const RebuildOptions& rebuild) {
  InspectOptions io;
  io.verify = true;
  io.rebuild = rebuild;
  DAXKV_ASSIGN_OR_RETURN(PoolReport before, InspectPool(region, io));
  RepairReport rep;
  for (const PoolProblem& p : before.problems) {
    (p.repairable ? rep.repaired : rep.unrecoverable).push_back(p);
  }
  if (before.superblock_rebuilt) {
    SuperBlockRead read;
    bool rebuilt = false;
    DAXKV_RETURN_IF_ERROR(ReadOrRebuild(region, rebuild, &read, &rebuilt));
    WriteSuperBlockCopies(region, read.sb);
  }
  Options o;
  o.create_if_missing = false;
  o.repair = true;
  o.background_compaction = false;
  o.background_expiry = false;
  auto db = DB::Open(std::make_unique<BorrowedRegion>(region), o);
  if (!db.ok()) return db.status().WithContext("repair");
  rep.dropped_records = (*db)->GetStats().dropped_records;
  return rep;
}

}  // namespace daxkv::engine
