// SnapshotIo: writing the clean-close index snapshot (index_snapshot.h).
#include "engine/index_snapshot.h"

#include <cstring>
#include <map>
#include <string>

#include "base/crc32c.h"
#include "engine/db_impl.h"
#include "engine/snapshot_io.h"

namespace daxkv::engine {

namespace snapshot {

bool ChunkStream::Write(const void* src, size_t n, const CopyFn& copy) {
  const char* p = static_cast<const char*>(src);
  return Walk(n, [&](size_t chunk, char* at, size_t done, size_t k) {
    copy(at, p + done, k);
    crcs_[chunk] = crc32c::Extend(crcs_[chunk], p + done, k);
  });
}

bool ChunkStream::Read(void* dst, size_t n) {
  char* p = static_cast<char*>(dst);
  return Walk(n, [&](size_t, char* at, size_t done, size_t k) {
    std::memcpy(p + done, at, k);
  });
}

uint32_t HeaderCrc(const Header& h) {
  return crc32c::Value(&h, offsetof(Header, crc));
}

}  // namespace snapshot

Status SnapshotIo::Ready(std::vector<int64_t>* free_segs) const {
  if (!db_.options_.index_snapshot) {
    return FailedPreconditionError("Options::index_snapshot is off");
  }
  const uint64_t n = db_.segment_count_.load();
  for (uint64_t i = 0; i < n; ++i) {
    const SegUse use = db_.segs_[i].use.load();
    if (use == SegUse::kFree) free_segs->push_back(static_cast<int64_t>(i));
    if (use == SegUse::kActive) {
      return FailedPreconditionError("segment " + std::to_string(i) +
                                     " is still an open log");
    }
  }
  return OkStatus();
}

uint64_t SnapshotIo::StreamBytes(const SystemList& sys, uint64_t* keys,
                                 uint64_t* collections) const {
  namespace sn = snapshot;
  uint64_t bytes =
      db_.segment_count_.load() * sizeof(sn::Segment) + db_.dead_.size() * 4;
  for (const auto& [key, e] : sys) {
    bytes += sizeof(sn::SystemEntry) + format::Align8(key.size());
  }
  *keys = 0;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = db_.index_->shard_at(i);
    ReadLock l(s.mu);
    bytes +=
        sizeof(sn::ShardHead) + s.slots.size() * 8 + s.expiring.size() * 16;
    *keys += s.used;
  }
  return bytes + CollectionBytes(collections);
}

Status SnapshotIo::Write(uint64_t generation, uint64_t* first) {
  namespace sn = snapshot;
  std::vector<int64_t> free_segs;
  DAXKV_RETURN_IF_ERROR(Ready(&free_segs));
  SystemList sys;
  db_.sys_.ForEach([&](const std::string& key, const SystemTable::Entry& e) {
    sys.emplace_back(key, e);
  });
  sn::Header h{};
  h.data_bytes = StreamBytes(sys, &h.keys, &h.collections);
  const uint64_t payload = db_.segment_size_ - format::kSegmentHeaderSize;
  const uint64_t chunks = (h.data_bytes + payload - 1) / payload;
  if (sizeof(sn::Header) + chunks * sizeof(sn::Chunk) > payload) {
    return NoSpaceError("its chunk table exceeds a segment");
  }
  if (chunks + 1 > free_segs.size()) {
    return NoSpaceError("it needs " + std::to_string(chunks + 1) +
                        " free segments, " + std::to_string(free_segs.size()) +
                        " are free");
  }
  std::vector<char*> payloads;
  std::vector<sn::Chunk> table(chunks);
  for (uint64_t c = 0; c < chunks; ++c) {
    payloads.push_back(db_.SegBase(free_segs[c + 1]) +
                       format::kSegmentHeaderSize);
    table[c].segment = static_cast<uint64_t>(free_segs[c + 1]);
    table[c].bytes = static_cast<uint32_t>(
        c + 1 < chunks ? payload : h.data_bytes - c * payload);
  }
  sn::ChunkStream out(std::move(payloads), payload);
  WriteStream(out, sys);
  if (out.position() != h.data_bytes) {
    return InternalError("index snapshot: wrote " +
                         std::to_string(out.position()) + " of " +
                         std::to_string(h.data_bytes) + " bytes");
  }
  // Durability: the stream is durable before chunk 0 (below) describes it.
  // A crash anywhere in here leaves free segments holding bytes nobody
  // reads: the superblock still says open, so the next open scans.
  db_.region_->Drain();
  for (uint64_t c = 0; c < chunks; ++c) table[c].crc = out.crc(c);
  h.chunks = static_cast<uint32_t>(chunks);
  h.generation = generation;
  h.system_entries = sys.size();
  FillHeader(&h);
  h.table_crc = crc32c::Value(table.data(), chunks * sizeof(sn::Chunk));
  h.crc = sn::HeaderCrc(h);
  char* c0 = db_.SegBase(free_segs[0]) + format::kSegmentHeaderSize;
  db_.region_->Copy(c0 + sizeof(h), table.data(), chunks * sizeof(sn::Chunk),
                    dax::kMemNoDrain);
  // Durability: header and table are durable before the superblock (the
  // caller's next write) names them; until then nothing points here.
  db_.region_->Copy(c0, &h, sizeof(h));
  db_.misc_persists_ += 2;
  DAXKV_RETURN_IF_ERROR(db_.region_->PersistError());
  *first = static_cast<uint64_t>(free_segs[0]);
  return OkStatus();
}

void SnapshotIo::FillHeader(snapshot::Header* h) const {
  std::memcpy(h->magic, snapshot::kMagic, 8);
  h->version = snapshot::kVersion;
  std::memcpy(h->uuid, db_.uuid_.data(), 16);
  h->segment_count = db_.segment_count_.load();
  h->segment_size = db_.segment_size_;
  h->last_seq = db_.last_seq_.load();
  h->last_epoch = db_.last_epoch_.load();
  h->dead_counters = db_.dead_.size();
  h->shards = kShardCount;
  h->hash_seed = db_.hash_seed_;
}

void SnapshotIo::WriteStream(snapshot::ChunkStream& out,
                             const SystemList& sys) {
  const snapshot::ChunkStream::CopyFn copy = [this](char* d, const char* s,
                                                    size_t n) {
    db_.region_->Copy(d, s, n, dax::kMemNoDrain | dax::kMemNonTemporal);
  };
  WriteSegments(out, copy);
  std::vector<uint32_t> dead(db_.dead_.size());
  for (uint64_t i = 0; i < dead.size(); ++i) {
    dead[i] = db_.dead_.At(i);
  }
  out.Write(dead.data(), dead.size() * 4, copy);
  static const char kZeros[8] = {};
  for (const auto& [key, e] : sys) {
    snapshot::SystemEntry se{e.loc, e.seq, static_cast<uint32_t>(key.size()),
                             e.tombstone ? 1u : 0u};
    out.Write(&se, sizeof(se), copy);
    out.Write(key.data(), key.size(), copy);
    out.Write(kZeros, format::Align8(key.size()) - key.size(), copy);
  }
  WriteShards(out, copy);
  WriteCollections(out, copy);
}

void SnapshotIo::WriteSegments(snapshot::ChunkStream& out,
                               const snapshot::ChunkStream::CopyFn& copy) {
  namespace sn = snapshot;
  // The scan counts system entries' bytes nowhere; AccountSystemLive adds
  // them after adoption, so the snapshot stores the scan's view.
  const std::map<uint64_t, uint64_t> system = db_.SystemSegments();
  std::vector<sn::Segment> recs(db_.segment_count_.load());
  for (uint64_t i = 0; i < recs.size(); ++i) {
    const SegMeta& m = db_.segs_[i];
    sn::Segment& rec = recs[i];
    rec.epoch = m.epoch;
    rec.live = m.live.load();
    if (auto it = system.find(i); it != system.end()) rec.live -= it->second;
    rec.tomb = m.tomb.load();
    rec.head = m.head;
    rec.seed = m.seed;
    rec.tail = m.tail.load();
    rec.span = m.span.load();
    const SegUse use = m.use.load();
    rec.use = use == SegUse::kSealed    ? sn::kSealed
              : use == SegUse::kCovered ? sn::kCovered
                                        : sn::kFree;
  }
  out.Write(recs.data(), recs.size() * sizeof(sn::Segment), copy);
}

void SnapshotIo::WriteShards(snapshot::ChunkStream& out,
                             const snapshot::ChunkStream::CopyFn& copy) {
  std::vector<uint64_t> pairs;
  for (uint32_t i = 0; i < kShardCount; ++i) {
    const Index::Shard& s = db_.index_->shard_at(i);
    ReadLock l(s.mu);
    snapshot::ShardHead head{s.bits, 0, s.used, s.expiring.size()};
    out.Write(&head, sizeof(head), copy);
    out.Write(s.slots.data(), s.slots.size() * 8, copy);
    pairs.clear();
    for (const auto& [at, loc] : s.expiring) {
      pairs.push_back(static_cast<uint64_t>(at));
      pairs.push_back(loc);
    }
    out.Write(pairs.data(), pairs.size() * 8, copy);
  }
}

}  // namespace daxkv::engine
