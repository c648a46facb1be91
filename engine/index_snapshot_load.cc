// SnapshotIo: loading the clean-close index snapshot (index_snapshot.h) in
// place of a pool scan. Everything is checked before anything is applied: a
// snapshot that fails a check leaves the DB as it was, and Recover scans.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "base/crc32c.h"
#include "engine/db_impl.h"
#include "engine/index_snapshot.h"
#include "engine/snapshot_io.h"

namespace daxkv::engine {

namespace {

namespace sn = snapshot;

// Why a header cannot describe a snapshot of this pool ("" = it can).
std::string HeaderProblem(const sn::Header& h, const format::SuperBlock& sb,
                          uint64_t payload, uint64_t dead_counters) {
  if (std::memcmp(h.magic, sn::kMagic, 8) != 0) return "no snapshot header";
  if (h.crc != sn::HeaderCrc(h)) return "header checksum mismatch";
  if (h.version != sn::kVersion) {
    return "snapshot version " + std::to_string(h.version);
  }
  if (std::memcmp(h.uuid, sb.uuid, 16) != 0) return "another pool's snapshot";
  if (h.generation != sb.generation) {
    return "stale (generation " + std::to_string(h.generation) +
           ", superblock " + std::to_string(sb.generation) + ")";
  }
  if (h.segment_count != sb.segment_count ||
      h.segment_size != sb.segment_size || h.shards != kShardCount ||
      h.dead_counters != dead_counters) {
    return "geometry differs from the pool's";
  }
  if (sizeof(sn::Header) + uint64_t{h.chunks} * sizeof(sn::Chunk) > payload ||
      h.data_bytes > uint64_t{h.chunks} * payload) {
    return "chunk table out of bounds";
  }
  return "";
}

// Verifies every chunk's CRC on `threads` threads; "" when all match.
std::string ChunkProblem(const std::vector<sn::Chunk>& table,
                         const std::vector<char*>& payloads, int threads) {
  std::atomic<int64_t> bad{-1};
  auto verify = [&](size_t from) {
    for (size_t c = from; c < table.size(); c += threads) {
      if (crc32c::Value(payloads[c], table[c].bytes) != table[c].crc) {
        bad.store(static_cast<int64_t>(c));
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(verify, t);
  verify(0);
  for (auto& t : pool) t.join();
  if (bad.load() < 0) return "";
  return "chunk " + std::to_string(bad.load()) + " (segment " +
         std::to_string(table[bad.load()].segment) + ") checksum mismatch";
}

}  // namespace

std::string SnapshotIo::Load(const format::SuperBlock& sb, int threads,
                             PoolScan* scan) {
  if (!db_.options_.index_snapshot) return "Options::index_snapshot is off";
  // A repair drops damaged records, which only a scan finds.
  if (db_.options_.repair) return "Options::repair verifies every record";
  if (sb.index_snapshot == 0) return "no snapshot";
  if (sb.clean_shutdown != 1) return "the last close was not clean";
  if (sb.format_version != format::kFormatVersion) return "older format";
  if (sb.index_snapshot > sb.segment_count) return "snapshot out of bounds";
  const uint64_t payload = db_.segment_size_ - format::kSegmentHeaderSize;
  const char* c0 = db_.SegBase(static_cast<int64_t>(sb.index_snapshot - 1)) +
                   format::kSegmentHeaderSize;
  sn::Header h;
  std::memcpy(&h, c0, sizeof(h));
  std::string why = HeaderProblem(h, sb, payload, db_.dead_.size());
  if (!why.empty()) return why;
  std::vector<sn::Chunk> table(h.chunks);
  std::memcpy(table.data(), c0 + sizeof(h), h.chunks * sizeof(sn::Chunk));
  if (crc32c::Value(table.data(), h.chunks * sizeof(sn::Chunk)) !=
      h.table_crc) {
    return "chunk table checksum mismatch";
  }
  std::vector<char*> payloads;
  uint64_t total = 0;
  for (const sn::Chunk& c : table) {
    if (c.segment >= sb.segment_count || c.bytes > payload) {
      return "chunk table out of bounds";
    }
    payloads.push_back(db_.SegBase(static_cast<int64_t>(c.segment)) +
                       format::kSegmentHeaderSize);
    total += c.bytes;
  }
  if (total != h.data_bytes) return "chunk sizes disagree with the header";
  why = ChunkProblem(table, payloads, std::max(threads, 1));
  if (!why.empty()) return why;
  sn::ChunkStream in(std::move(payloads), payload);
  return Apply(h, table, in, std::max(threads, 1), scan);
}

std::string SnapshotIo::Apply(const snapshot::Header& h,
                              const std::vector<snapshot::Chunk>& table,
                              snapshot::ChunkStream& in, int threads,
                              PoolScan* scan) {
  std::vector<sn::Segment> segs(h.segment_count);
  in.Read(segs.data(), segs.size() * sizeof(sn::Segment));
  for (const sn::Segment& rec : segs) {
    if (rec.use > sn::kCovered ||
        (rec.use == sn::kCovered &&
         (rec.head < 0 || static_cast<uint64_t>(rec.head) >= segs.size()))) {
      return "segment table out of bounds";
    }
  }
  for (const sn::Chunk& c : table) {
    if (segs[c.segment].use != sn::kFree)
      return "a chunk sits in a used segment";
  }
  for (uint64_t i = 0; i < segs.size(); ++i) {
    std::string why = SegmentDisagrees(i, segs[i]);
    if (!why.empty()) return why;
  }
  std::vector<uint32_t> dead(h.dead_counters);
  in.Read(dead.data(), dead.size() * 4);
  SystemList sys;
  for (uint64_t i = 0; i < h.system_entries; ++i) {
    sn::SystemEntry se;
    in.Read(&se, sizeof(se));
    if (in.position() + se.key_len > h.data_bytes) return "system key too long";
    std::string key(se.key_len, '\0');
    in.Read(key.data(), key.size());
    char pad[8];
    in.Read(pad, format::Align8(key.size()) - key.size());
    sys.push_back({std::move(key), {se.loc, se.seq, se.tombstone != 0}});
  }
  auto index = std::make_unique<Index>(db_.base_);
  std::string why = ReadShards(h, in, threads, index.get());
  if (!why.empty()) return why;
  auto colls = std::make_unique<CollTable>();
  why = ReadCollections(h, in, threads, colls.get());
  if (why.empty() && in.position() != h.data_bytes) {
    why = "stream length mismatch";
  }
  if (!why.empty()) {
    for (Collection* c : colls->TakeAll()) delete c;
    return why;
  }
  // Every check passed: apply.
  db_.index_ = std::move(index);
  db_.hash_seed_ = h.hash_seed;
  for (Collection* c : db_.colls_->TakeAll()) delete c;  // none: not opened yet
  db_.colls_ = std::move(colls);
  for (uint64_t i = 0; i < dead.size(); ++i) {
    db_.dead_.Store(i, dead[i]);  // no reader yet
  }
  for (const auto& [key, e] : sys) {
    bool taken = false;
    db_.sys_.Offer(key, e, &taken);
  }
  FillScan(h, segs, scan);
  return "";
}

std::string SnapshotIo::ReadShards(const snapshot::Header& h,
                                   snapshot::ChunkStream& in, int threads,
                                   Index* index) {
  // Where each shard's slots start: the heads are read in one pass, then
  // the shards (each one thread's) are copied in parallel.
  std::vector<std::pair<sn::ShardHead, uint64_t>> shards(kShardCount);
  uint64_t keys = 0;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    sn::ShardHead& head = shards[i].first;
    in.Read(&head, sizeof(head));
    const uint64_t slots = uint64_t{1} << std::min(head.bits, 63u);
    if (head.bits > static_cast<uint32_t>(kPosBits) || head.used > slots ||
        in.position() + slots * 8 + head.expiring * 16 > h.data_bytes) {
      return "shard " + std::to_string(i) + " out of bounds";
    }
    shards[i].second = in.position();
    in.Seek(in.position() + slots * 8 + head.expiring * 16);
    keys += head.used;
  }
  if (keys != h.keys) return "key count mismatch";
  auto restore = [&](uint32_t from) {
    sn::ChunkStream mine = in;
    std::vector<uint64_t> pairs;
    for (uint32_t i = from; i < kShardCount; i += threads) {
      const sn::ShardHead& head = shards[i].first;
      mine.Seek(shards[i].second);
      Index::Shard& s = index->shard_at(i);
      WriteLock l(s.mu);
      SlotTable table(uint64_t{1} << head.bits);  // uninitialised
      mine.Read(table.data(), table.size() * 8);
      index->Restore(s, head.bits, head.used, std::move(table));
      pairs.resize(head.expiring * 2);
      mine.Read(pairs.data(), pairs.size() * 8);
      for (uint64_t e = 0; e < pairs.size(); e += 2) {
        s.expiring.emplace_hint(s.expiring.end(),
                                static_cast<int64_t>(pairs[e]), pairs[e + 1]);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(restore, t);
  restore(0);
  for (auto& t : pool) t.join();
  return "";
}

std::string SnapshotIo::SegmentDisagrees(uint64_t i,
                                         const snapshot::Segment& rec) const {
  const char* sp = db_.SegBase(static_cast<int64_t>(i));
  const format::DecodedState d = format::DecodeStateWord(
      format::Load64(sp + format::kStateWordOffset), format::kFormatVersion);
  const bool in_use = d.state == format::SegState::kInUse;
  format::SegmentHeader h;
  std::memcpy(&h, sp, sizeof(h));
  if (rec.use == sn::kFree &&
      (in_use || (d.state == format::SegState::kFreed && h.span > 1))) {
    // A freed span head that still claims its segments: only the scan
    // finishes releasing them.
    return "segment " + std::to_string(i) + " is " +
           format::SegStateName(d.state) + ", the snapshot's free";
  }
  if (rec.use != sn::kSealed) return "";
  uint32_t tail = 0;
  if (!in_use || d.corrected_bits != 0 || d.epoch != rec.epoch ||
      !format::ValidSegmentHeader(h) || h.epoch != rec.epoch ||
      !format::DecodeSealWord(format::Load64(sp + format::kSealWordOffset),
                              rec.seed, &tail) ||
      tail != rec.tail) {
    return "segment " + std::to_string(i) +
           "'s header, state or seal disagrees with the snapshot";
  }
  return "";
}

void SnapshotIo::FillScan(const snapshot::Header& h,
                          const std::vector<snapshot::Segment>& segs,
                          PoolScan* scan) {
  scan->segments.assign(segs.size(), SegmentScan{});
  scan->live_bytes.reset(new std::atomic<uint64_t>[segs.size()]);
  for (uint64_t i = 0; i < segs.size(); ++i) {
    const sn::Segment& rec = segs[i];
    SegmentScan& seg = scan->segments[i];
    scan->live_bytes[i] = rec.live;
    seg.epoch = rec.epoch;
    seg.seed = rec.seed;
    seg.tail = rec.tail;
    seg.span = rec.span;
    seg.tombstone_bytes = rec.tomb;
    seg.sealed = true;
    if (rec.use == sn::kSealed) seg.state = SegmentState::kInUse;
    if (rec.use == sn::kFree) seg.state = SegmentState::kFree;
    if (rec.use == sn::kCovered) {
      seg.state = SegmentState::kSpanned;
      seg.span_head = static_cast<uint64_t>(rec.head);
    }
  }
  scan->max_seq = h.last_seq;
  scan->max_epoch = h.last_epoch;
  scan->records = 0;  // Stats::recovered_records: records a scan verified
}

}  // namespace daxkv::engine
