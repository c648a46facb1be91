// DBImpl: open (format or recover), superblock updates and close.
#include "engine/db_impl.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <string>

#include "engine/snapshot_io.h"
#include "engine/state_ambiguity.h"
#include "engine/superblock_rebuild.h"

namespace daxkv::engine {

namespace {

uint64_t NextPow2(uint64_t v) {
  uint64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

StatusOr<std::unique_ptr<DB>> DB::Open(std::unique_ptr<dax::Region> region,
                                       const Options& options) {
  if (region == nullptr) return InvalidArgumentError("DB::Open: null region");
  if (region->info().read_only) {
    return InvalidArgumentError("DB::Open: region " + region->info().path +
                                " is read-only (use InspectPool to read it)");
  }
  auto db = std::make_unique<DBImpl>(std::move(region), options);
  DAXKV_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<DB>(std::move(db));
}

DBImpl::DBImpl(std::unique_ptr<dax::Region> region, const Options& options)
    : region_(std::move(region)),
      options_(options),
      base_(region_->data()),
      stripes_(new Mutex[kStripes]) {
  compaction_head_.for_compaction = true;
  packed_set_max_.store(std::min(options.packed_set_max, kPackedSetLimit),
                        std::memory_order_relaxed);
  // A hot key's stripe passes between I/O threads once per command: a
  // waiter that sleeps costs a futex wake and wait per hand-off.
  for (size_t i = 0; i < kStripes; ++i) stripes_[i].MakeAdaptive();
  // Subkey hashes are seeded per open: nothing hashed is on the medium,
  // and nobody can precompute fields that collide.
  std::random_device rd;
  hash_seed_ = uint64_t{rd()} << 32 | rd();
}

DBImpl::~DBImpl() {
  Close();
  if (colls_ != nullptr) DeleteCollections();  // an Open that failed
}

int64_t DBImpl::NowMs() const { return options_.clock->NowMs(); }

Status DBImpl::ReadOrFormat(SuperBlockRead* read) {
  const std::string& path = region_->info().path;
  Status s = ReadSuperBlocks(base_, region_->size(), read);
  if (read->no_valid_copy) {
    SegmentEvidence ev = FindSegmentEvidence(base_, region_->size());
    if (ev.headers > 0) {
      s = CorruptionError(std::string(s.message()) + "; " + ev.Describe() +
                          " remain: `daxkv-inspect pool --repair " + path +
                          "` rebuilds the superblock from them");
    }
  }
  DAXKV_RETURN_IF_ERROR(s.WithContext(path));
  if (!read->blank) return OkStatus();
  // Both superblocks blank: a new region, or one whose superblocks were
  // wiped. Segment headers after them tell the two apart (a region this
  // open created cannot hold any: no need to read every page of it).
  SegmentEvidence ev;
  if (!region_->info().created) {
    ev = FindSegmentEvidence(base_, region_->size());
  }
  if (ev.headers > 0 && !options_.format_over_existing_data) {
    return CorruptionError(
        "both superblocks of " + path + " are blank, but " + ev.Describe() +
        " remain: refusing to format over them. `daxkv-inspect pool --repair " +
        path +
        "` rebuilds the superblock from them; to destroy their data and "
        "format anyway, set Options::format_over_existing_data "
        "(daxkv-server --format_over_existing_data)");
  }
  if (!options_.create_if_missing) {
    return NotFoundError("no daxkv pool in " + path +
                         " (blank region; set create_if_missing)");
  }
  DAXKV_RETURN_IF_ERROR(Format(ev));
  *read = SuperBlockRead{};
  return ReadSuperBlocks(base_, region_->size(), read);
}

Status DBImpl::Init() {
  SuperBlockRead read;
  DAXKV_RETURN_IF_ERROR(ReadOrFormat(&read));
  const format::SuperBlock& sb = read.sb;
  {
    MutexLock l(&sb_mu_);
    sb_ = sb;
  }
  std::memcpy(uuid_.data(), sb.uuid, 16);
  opened_format_version_ = sb.format_version;
  segment_size_ = sb.segment_size;
  segment_count_ = sb.segment_count;
  // Pools formatted before kMinSegments was 6 may hold 4 or 5 segments:
  // there puts keep fewer free, or a compaction log and one segment of data
  // could leave them none (the delete guarantee then needs a bigger pool).
  reserve_ = std::min<uint64_t>(reserve_, sb.segment_count - 3);
  seg_capacity_ = std::max<uint64_t>(sb.segment_count, 1u << 16);
  segs_.reset(new SegMeta[seg_capacity_]);
  // One dead-put counter per 4 KiB of pool: collisions only keep
  // tombstones longer than needed.
  uint64_t counters = std::clamp<uint64_t>(NextPow2(region_->size() / 4096),
                                           4096, uint64_t{1} << 22);
  dead_.Reset(counters);
  index_ = std::make_unique<Index>(base_);
  colls_ = std::make_unique<CollTable>();

  int heads = options_.write_heads > 0
                  ? options_.write_heads
                  : static_cast<int>(std::thread::hardware_concurrency());
  heads = std::clamp(heads, 1, 16);
  int64_t spare = static_cast<int64_t>(sb.segment_count - reserve_ - 1);
  heads = static_cast<int>(std::clamp<int64_t>(spare / 2, 1, heads));
  for (int i = 0; i < heads; ++i) heads_.push_back(std::make_unique<LogHead>());
  heads_.push_back(std::make_unique<LogHead>());  // TombHead()
  heads_.back()->for_tombstones = true;

  DAXKV_RETURN_IF_ERROR(Recover());
  opened_ = true;
  if (options_.background_compaction || options_.background_expiry ||
      (options_.background_scrub && scrub_.pending() != 0)) {
    bg_thread_ = std::thread([this] { BackgroundLoop(); });
  }
  return OkStatus();
}

Status DBImpl::Format(const SegmentEvidence& old_segments) {
  const uint64_t seg = options_.segment_size;
  if (seg < format::kMinSegmentSize || seg > format::kMaxSegmentSize ||
      seg % 4096 != 0) {
    return InvalidArgumentError(
        "segment_size " + std::to_string(seg) +
        " must be a multiple of 4096 in [64 KiB, 1 GiB]");
  }
  uint64_t size = std::min<uint64_t>(region_->size(), format::kMaxPoolBytes);
  uint64_t count = (size - format::kDataOffset) / seg;
  if (count < format::kMinSegments) {
    return InvalidArgumentError("region " + region_->info().path + " of " +
                                std::to_string(region_->size()) +
                                " bytes holds fewer than " +
                                std::to_string(format::kMinSegments) +
                                " segments of " +
                                std::to_string(seg) + " bytes");
  }
  format::SuperBlock sb{};
  std::memcpy(sb.magic, format::kPoolMagic, 8);
  sb.format_version = format::kFormatVersion;
  sb.superblock_size = format::kSuperBlockSize;
  std::random_device rd;
  for (int i = 0; i < 16; i += 4) {
    uint32_t r = rd();
    std::memcpy(sb.uuid + i, &r, 4);
  }
  sb.segment_size = seg;
  sb.segment_count = count;
  sb.data_offset = format::kDataOffset;
  sb.created_ms = NowMs();
  sb.clean_shutdown = 1;
  sb.generation = 1;
  sb.crc = format::SuperBlockCrc(sb);
  if (!old_segments.offsets.empty()) {
    for (uint64_t off : old_segments.offsets) {
      region_->Set(base_ + off, 0, format::kSegmentHeaderSize,
                   dax::kMemNoDrain);
    }
    // Durability: the old pool's segment headers are gone before the new
    // superblock exists, so no evidence of it outlives the format (its
    // records could never verify under this pool's uuid anyway). A crash
    // before this completes leaves blank superblocks and some old headers:
    // Open refuses again until asked again.
    region_->Drain();
    misc_persists_++;
  }
  format::SuperBlock body = sb;

  std::memset(body.magic, 0, 8);
  for (uint64_t off :
       {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
    std::memcpy(base_ + off, &body, sizeof(body));
    // Durability: without its magic a copy reads as "format interrupted"
    // (blank), so a crash here leaves a region that is formatted again.
    region_->Persist(base_ + off, sizeof(body));
  }
  for (uint64_t off :
       {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
    std::memcpy(base_ + off, sb.magic, 8);
    // Durability: one 8-byte store turns each copy valid; A first, so a
    // crash leaves A valid and B "interrupted" (healed on open) or neither.
    region_->Persist(base_ + off, 8);
  }
  misc_persists_ += 4;
  return OkStatus();
}

Status DBImpl::WriteSuperBlockLocked() {
  sb_.generation++;
  sb_.crc = format::SuperBlockCrc(sb_);
  for (uint64_t off :
       {format::kSuperBlockOffsetA, format::kSuperBlockOffsetB}) {
    // Durability: copy A is complete and durable before copy B is touched,
    // so a crash leaves at least one valid copy (the higher generation wins).
    std::memcpy(base_ + off, &sb_, sizeof(sb_));
    region_->Persist(base_ + off, sizeof(sb_));
    misc_persists_++;
  }
  return OkStatus();
}

Status DBImpl::Recover() {
  auto start = std::chrono::steady_clock::now();
  ScanOptions so;
  so.threads = options_.recovery_threads > 0
                   ? options_.recovery_threads
                   : std::max(1u, std::thread::hardware_concurrency());
  so.progress = options_.recovery_progress;
  so.on_dead_put = [this](uint64_t h) { dead_.Note(h); };
  so.collections = colls_.get();
  so.elem_hash_seed = hash_seed_;
  so.system = &sys_;
  format::SuperBlock sb;
  {
    MutexLock l(&sb_mu_);
    sb = sb_;
  }
  PoolScan scan;
  const std::string no_snapshot = SnapshotIo(*this).Load(sb, so.threads, &scan);
  if (no_snapshot.empty()) {
    index_recovery_ = "snapshot";
  } else {
    index_recovery_ = "scan: " + no_snapshot;
    ScanPool(base_, sb, index_.get(), so, &scan);
  }
  // Segments in an unknown state: scan again with them in use, and see
  // which keys that changes (state_ambiguity.h).
  AmbiguityVerdict verdict;
  if (!scan.ambiguous.empty()) {
    dead_.Clear();
    auto index_b = std::make_unique<Index>(base_);
    auto colls_b = std::make_unique<CollTable>();
    so.collections = colls_b.get();
    sys_.Clear();  // scan_b, the one kept, finds them again
    PoolScan scan_b;
    JudgeAmbiguousSegments(base_, sb, *index_, so, index_b.get(), &scan_b,
                           &verdict);
    index_ = std::move(index_b);
    for (Collection* c : colls_->TakeAll()) delete c;
    colls_ = std::move(colls_b);
    scan = std::move(scan_b);
  }
  // Superblock copies are healed silently (WriteSuperBlock below); any
  // damage inside segments needs the caller's consent to drop records.
  const bool damaged = !scan.problems.empty();
  colls_->ForEach([this](Collection* c) {
    ReadLock l(c->mu);
    CountCollection(c->type, +1);
    elements_ += static_cast<int64_t>(c->size());
  });
  if (damaged && !options_.repair) {
    std::string msg = std::to_string(scan.problems.size()) +
                      " damaged structure(s) in " + region_->info().path + ":";
    for (size_t i = 0; i < scan.problems.size() && i < 8; ++i) {
      msg += " [" + format::HexOffset(scan.problems[i].offset) + ": " +
             scan.problems[i].what + "]";
    }
    msg += "; open with Options::repair to drop the damaged records";
    if (!scan.ambiguous.empty()) msg += "; " + verdict.Describe(scan);
    return CorruptionError(msg);
  }
  if (damaged) DAXKV_RETURN_IF_ERROR(ApplyRepairs(&scan));
  flush_seq_ = sb.flush_seq;
  {
    MutexLock l(&compaction_mu_);  // uncontended: no other thread yet
    AdoptSegments(scan);
    if (no_snapshot.empty()) PlanScrub();
  }
  AccountSystemLive();
  last_seq_ = std::max(scan.max_seq, sb.flush_seq);
  last_epoch_ = scan.max_epoch;
  recovered_records_ = scan.records;
  DAXKV_RETURN_IF_ERROR(SettleAmbiguousSegments(scan, verdict));
  DAXKV_RETURN_IF_ERROR(DropBrokenLinks(scan));
  DAXKV_RETURN_IF_ERROR(DropMismatchedElements(scan));
  DAXKV_RETURN_IF_ERROR(UpgradeStateWords(scan));
  recovery_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  MutexLock l(&sb_mu_);
  clean_shutdown_ = sb_.clean_shutdown != 0;
  if (!clean_shutdown_) sb_.crash_recoveries++;
  sb_.clean_shutdown = 0;
  // The snapshot describes the pool as it was closed: from the first write
  // on it is stale, so no later open may load it.
  sb_.index_snapshot = 0;
  sb_.open_count++;
  sb_.last_open_ms = NowMs();
  sb_.last_recovery_ms = recovery_ms_;
  // Upgrade: the state words are coded now (UpgradeStateWords); the rest of
  // version 3 (watermark, flush_seq stamps) reads as "none" in older
  // segments, version 2 only added spans and version 4 only entry types
  // (collections) that no older pool holds. The number goes last, with
  // the usual A-then-B update, which also rewrites a damaged copy; before
  // any write, so no collection entry sits in a pool an older binary opens.
  sb_.format_version = format::kFormatVersion;
  return WriteSuperBlockLocked();
}

void DBImpl::AdoptSegments(const PoolScan& scan) {
  // The compaction log a crash interrupted stays unsealed: it is appended
  // to again (see compaction_resume.cc).
  const int64_t resume = resume_.FindLog(scan);
  for (uint64_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentScan& seg = scan.segments[i];
    SegMeta& m = segs_[i];
    if (seg.state == SegmentState::kSpanned) {
      m.head = static_cast<int64_t>(seg.span_head);
      m.tail = 0;
      m.use = SegUse::kCovered;
      continue;
    }
    if (seg.state != SegmentState::kInUse) {
      if (seg.release_span) FinishSpanFree(i, seg.span, seg.epoch);
      m.use = SegUse::kFree;
      MutexLock l(&alloc_mu_);
      free_list_.push_back(static_cast<int64_t>(i));
      continue;
    }
    m.epoch = seg.epoch;
    m.seed = seg.seed;
    m.tail = seg.tail;
    m.live = scan.live_bytes[i].load();
    m.tomb = seg.tombstone_bytes;
    m.span = seg.span;
    m.use = SegUse::kSealed;
    if (!seg.sealed && static_cast<int64_t>(i) != resume) {
      char* sp = SegBase(static_cast<int64_t>(i));
      uint64_t w = format::SealWord(seg.seed, seg.tail);
      std::memcpy(sp + format::kSealWordOffset, &w, 8);
      // Durability: sealing at the last valid record means later appends
      // never land after torn bytes; 8-byte store, never torn.
      region_->Persist(sp + format::kSealWordOffset, 8);
      misc_persists_++;
    }
  }
  {
    // Allocate low segments first: keeps a young pool compact.
    MutexLock l(&alloc_mu_);
    std::reverse(free_list_.begin(), free_list_.end());
  }
  if (resume >= 0) resume_.Resume(resume);
}

void DBImpl::Close() {
  if (!opened_) return;
  {
    MutexLock l(&bg_mu_);
    stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();
  {
    // The snapshot stores the live counts and dead-put counters the freer
    // leaves: dead collections are finished first (DRAM work only).
    MutexLock l(&compaction_mu_);
    RunFreer(~uint64_t{0});
  }
  // A collection still being freed would never finish after a snapshot
  // open (only a scan finds its elements), and damage the scrub found must
  // be named by the next open, which only a scan does.
  const bool snapshot = dead_colls_.count() == 0 && !health_.damage_found();
  for (auto& h : heads_) {
    HeadLock l(this, *h);
    SealHead(*h);
  }
  {
    HeadLock l(this, compaction_head_);
    SealHead(compaction_head_);
  }
  {
    MutexLock l(&sb_mu_);
    uint64_t snapshot_seg = 0;
    // WriteSuperBlockLocked bumps the generation: the snapshot names the
    // one it will write. A snapshot that cannot be written is no error: the
    // next open scans, as after any close before snapshots existed.
    const bool written =
        snapshot &&
        SnapshotIo(*this).Write(sb_.generation + 1, &snapshot_seg).ok();
    sb_.index_snapshot = written ? snapshot_seg + 1 : 0;
    sb_.clean_shutdown = 1;
    sb_.last_close_ms = NowMs();
    // Durability: one superblock write makes the close clean and names the
    // (durable) snapshot together; a crash before it leaves an open pool.
    WriteSuperBlockLocked().IgnoreError();
  }
  DeleteCollections();
  opened_ = false;
}

}  // namespace daxkv::engine
