// DBImpl: the per-thread logs (heads), segment allocation, sealing, freeing.
#include <cstring>

#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {
// Values at least this long are written with non-temporal stores: measured
// on /dev/shm (cache-line granularity), NT copies win from ~1 KiB up.
constexpr size_t kNonTemporalThreshold = 1024;
std::atomic<unsigned> g_thread_counter{0};
thread_local const unsigned t_thread_id = g_thread_counter.fetch_add(1);
// This thread's user head: MyHead() takes it modulo the head count.
thread_local unsigned t_head_hint = t_thread_id;
// The DB whose next MyHead() moves this thread to the next head.
thread_local const void* t_moving_from = nullptr;

format::EntryHeader MakeEntry(uint8_t type, uint8_t flags, std::string_view key,
                              std::string_view value, int64_t expire_at_ms,
                              uint64_t seq, uint64_t epoch, uint16_t reserved) {
  format::EntryHeader e{};
  e.type = type;
  e.flags = flags;
  e.reserved = reserved;
  e.key_len = static_cast<uint32_t>(key.size());
  e.seq = seq;
  e.value_len = static_cast<uint32_t>(value.size());
  e.epoch_lo = static_cast<uint32_t>(epoch);
  e.expire_at_ms = expire_at_ms;
  return e;
}
}  // namespace

LogHead& DBImpl::HintedHead() { return *heads_[t_head_hint % UserHeads()]; }

LogHead& DBImpl::MyHead() {
  if (t_moving_from == this) [[unlikely]] {
    FinishHeadMove();
  }
  return HintedHead();
}

size_t DBImpl::TEST_WriteHead() {
  MyHead();  // finishes a pending move
  return t_head_hint % UserHeads();
}

void DBImpl::TEST_RequestHeadMove() { t_moving_from = this; }

void DBImpl::TEST_SetWriteHead(size_t i) {
  t_head_hint = static_cast<unsigned>(i % UserHeads());
}

void DBImpl::NoteAppender(LogHead& head, const HeadLock& l) {
  head.last_writer = t_thread_id;
  // kNoWriter, the largest, when the lock did not wait or the holder it
  // waited for appended nothing.
  if (l.waited_for() >= t_thread_id) return;
  if (&head != &HintedHead() || UserHeads() == 1) return;
  t_moving_from = this;  // the move itself needs this head's lock
}

void DBImpl::FinishHeadMove() {
  t_moving_from = nullptr;
  LogHead& from = HintedHead();
  {
    // Durability: this thread's records on `from`, unsynced ones included,
    // become durable before any of its later records (on the next head)
    // can: a thread's writes stay durable in the order it made them, as
    // on one head, where a sync write persists the unsynced bytes before
    // it (PersistPending).
    HeadLock l(this, from);
    PersistPending(from);
  }
  ++t_head_hint;
  head_moves_.fetch_add(1, std::memory_order_relaxed);
}

uint64_t DBImpl::KeepFree(const LogHead& head, bool tombstone) const {
  // Compaction may take the last free segment (it gives back more); the
  // shared tombstone log all but that one; a user head's tombstones all but
  // those two; puts and batches with a put the whole reserve. So when puts
  // have filled the pool, a delete still finds room, and so does the
  // compaction that turns the deletes into free space.
  if (head.for_compaction) return 0;
  if (head.for_tombstones) return kCompactionReserve;
  if (tombstone) return kCompactionReserve + kTombstoneReserve;
  return reserve_;
}

StatusOr<int64_t> DBImpl::AllocSegment(uint64_t keep_free,
                                       uint64_t victim_epoch) {
  int64_t seg;
  uint64_t epoch;
  {
    MutexLock l(&alloc_mu_);
    if (free_list_.size() <= keep_free) {
      return NoSpaceError("pool " + region_->info().path + " is full (" +
                          std::to_string(segment_count_.load()) +
                          " segments in use; nothing acknowledged is lost)");
    }
    if (last_epoch_.load() >= format::kMaxStateEpoch) {
      return InternalError("segment epochs exhausted");
    }
    seg = PopFreeSegmentLocked();
    epoch = ++last_epoch_;
    // The next one to go is not mapped yet: the background thread maps
    // it, so the append that takes it takes no page faults.
    if (NextUnmappedLocked() >= 0 &&
        prefault_works_.load(std::memory_order_relaxed)) {
      bg_cv_.notify_all();
    }
  }
  segs_[seg].faulted.store(true, std::memory_order_relaxed);
  char* sp = SegBase(seg);
  // Durability: mark the segment "allocating" first (and clear the durable
  // watermark of its previous life). Until the final state store below
  // persists, recovery treats the segment as free, whatever state its
  // header line is in.
  uint64_t words[3] = {
      0, format::StateWord(format::SegState::kAllocating, epoch), 0};
  std::memcpy(sp + format::kSealWordOffset, words, sizeof(words));
  region_->Persist(sp + format::kSealWordOffset, sizeof(words));
  format::SegmentHeader h{};
  std::memcpy(h.magic, format::kSegmentMagic, 8);
  std::memcpy(h.uuid, uuid_.data(), 16);
  h.epoch = epoch;
  h.open_seq = last_seq_.load();
  h.span = 1;
  h.victim_epoch = victim_epoch;
  format::SetHeaderFlushSeq(&h, flush_seq_.load());
  h.crc = format::SegmentHeaderCrc(h);
  std::memcpy(sp, &h, sizeof(h));
  // Durability: the new header (new epoch) is durable before the segment
  // counts as in use, so records of its previous life can never verify.
  region_->Persist(sp, sizeof(h));
  uint64_t in_use = format::StateWord(format::SegState::kInUse, epoch);
  std::memcpy(sp + format::kStateWordOffset, &in_use, 8);
  // Durability: 8-byte store; from here on recovery scans the segment.
  region_->Persist(sp + format::kStateWordOffset, 8);
  misc_persists_ += 3;
  SegMeta& m = segs_[seg];
  m.epoch = epoch;
  m.seed = format::SegmentSeed(uuid_.data(), epoch);
  m.tail = format::kSegmentHeaderSize;
  m.live = 0;
  m.tomb = 0;
  m.use = SegUse::kActive;
  return seg;
}

int64_t DBImpl::NextUnmappedLocked() const {
  // PopFreeSegmentLocked takes from the back.
  if (free_list_.empty() || segs_[free_list_.back()].faulted.load()) return -1;
  return free_list_.back();
}

void DBImpl::PrefaultAhead() {
  if (!prefault_works_.load(std::memory_order_relaxed)) return;
  int64_t next;
  {
    MutexLock l(&alloc_mu_);
    next = NextUnmappedLocked();
  }
  if (next < 0) return;
  // Outside alloc_mu_: a head may take it meanwhile, and its stores and
  // the prefault can overlap (the prefault changes no byte).
  Status s = region_->Prefault(SegBase(next), segment_size_);
  if (s.code() == StatusCode::kNotSupported) {
    prefault_works_.store(false, std::memory_order_relaxed);
    return;
  }
  if (!s.ok()) return;  // e.g. ENOMEM: the appends fault as before
  segs_[next].faulted.store(true, std::memory_order_relaxed);
  prefaulted_++;
}

void DBImpl::FreeSegment(int64_t seg) {
  char* sp = SegBase(seg);
  SegMeta& m = segs_[seg];
  uint64_t st = format::StateWord(format::SegState::kFreed, m.epoch);
  std::memcpy(sp + format::kStateWordOffset, &st, 8);
  // Durability: 8-byte store; once durable, recovery ignores the segment.
  region_->Persist(sp + format::kStateWordOffset, 8);
  misc_persists_++;
  const uint32_t span = m.span.exchange(1);
  if (span > 1) FinishSpanFree(seg, span, m.epoch);
  m.use = SegUse::kFree;
  m.live = 0;
  m.tomb = 0;
  m.tail = format::kSegmentHeaderSize;
  MutexLock l(&alloc_mu_);
  for (uint32_t k = 0; k < span; ++k) free_list_.push_back(seg + k);
}

void DBImpl::PersistPending(LogHead& head) {
  if (head.seg < 0 || head.persisted >= head.tail) return;
  char* sp = SegBase(head.seg);
  // Durability: group commit of this head's unsynced records.
  region_->Flush(sp + head.persisted, head.tail - head.persisted);
  region_->Drain();
  CountPersist(head);
  head.persisted = head.tail;
}

void DBImpl::SealHead(LogHead& head) {
  if (head.seg < 0) return;
  PersistPending(head);
  char* sp = SegBase(head.seg);
  SegMeta& m = segs_[head.seg];
  uint64_t w = format::SealWord(m.seed, head.tail);
  std::memcpy(sp + format::kSealWordOffset, &w, 8);
  // Durability: the records up to tail are durable (above); the 8-byte seal
  // word is never torn. Unsealed, recovery would find the same tail.
  region_->Persist(sp + format::kSealWordOffset, 8);
  CountPersist(head);
  m.tail = head.tail;
  m.use = SegUse::kSealed;
  head.seg = -1;
}

Status DBImpl::Reserve(LogHead& head, uint64_t size, bool tombstone) {
  if (size > segment_size_ - format::kSegmentHeaderSize) {
    return InvalidArgumentError(
        "record of " + std::to_string(size) +
        " bytes exceeds the pool's segment capacity of " +
        std::to_string(segment_size_ - format::kSegmentHeaderSize) +
        " bytes (format with a larger Options::segment_size)");
  }
  if (head.seg >= 0 && head.tail + size <= segment_size_) return OkStatus();
  SealHead(head);
  DAXKV_ASSIGN_OR_RETURN(
      int64_t seg,
      AllocSegment(KeepFree(head, tombstone),
                   head.for_compaction ? compacting_epoch_.load() : 0));
  head.seg = seg;
  head.tail = head.persisted = format::kSegmentHeaderSize;
  return OkStatus();
}

Status DBImpl::AppendEntry(LogHead& head, uint8_t type, std::string_view key,
                           std::string_view value, int64_t expire_at_ms,
                           uint64_t seq, bool sync, Placed* out,
                           uint16_t reserved) {
  const uint64_t size = format::RecordSize(key.size(), value.size());
  HeadLock l(this, head);
  NoteAppender(head, l);
  out->seq = seq;
  if (size > segment_size_ - format::kSegmentHeaderSize) {
    uint64_t rec_off = 0;
    DAXKV_RETURN_IF_ERROR(AppendSpan(
        head, size, type == format::kTombstone,
        [&](char* rec, uint32_t seed, uint64_t epoch) {
          format::EntryHeader e =
              MakeEntry(type, format::kFlagPrefixDurable, key, value,
                        expire_at_ms, seq, epoch, reserved);
          format::EncodeRecord(rec, seed, e, key, value,
                               /*value_dst_skip=*/true);
          region_->Flush(rec, format::kRecordHeaderSize + key.size());
          region_->Copy(rec + format::kRecordHeaderSize + key.size(),
                        value.data(), value.size(),
                        dax::kMemNonTemporal | dax::kMemNoDrain);
        },
        &rec_off));
    out->loc = rec_off + 8;
    out->span = true;
    return OkStatus();
  }
  DAXKV_RETURN_IF_ERROR(Reserve(head, size, type == format::kTombstone));
  if (sync) PersistPending(head);
  char* sp = SegBase(head.seg);
  char* rec = sp + head.tail;
  const SegMeta& m = segs_[head.seg];
  format::EntryHeader e = MakeEntry(
      type, head.persisted == head.tail ? format::kFlagPrefixDurable : 0, key,
      value, expire_at_ms, seq, m.epoch, reserved);
  const bool nt = sync && value.size() >= kNonTemporalThreshold;
  format::EncodeRecord(rec, m.seed, e, key, value, /*value_dst_skip=*/nt);
  if (nt) {
    char* vdst = rec + format::kRecordHeaderSize + key.size();
    // Durability: streaming stores, fenced by the Drain below together
    // with the header; the CRC covers both, so a crash in between leaves a
    // record that fails its checksum (a torn tail, ignored).
    region_->Copy(vdst, value.data(), value.size(),
                  dax::kMemNonTemporal | dax::kMemNoDrain);
    region_->Flush(rec, format::kRecordHeaderSize + key.size());
    region_->Drain();
  } else if (sync) {
    // Durability: one persist per record. A crash before it completes
    // leaves a torn record at the head's tail, which recovery drops (the
    // write was not acknowledged).
    region_->Persist(rec, size);
  }
  if (sync) CountPersist(head);
  head.tail += static_cast<uint32_t>(size);
  if (sync) head.persisted = head.tail;
  segs_[head.seg].tail.store(head.tail, std::memory_order_relaxed);
  if (format::IsTombstone(type)) {
    segs_[head.seg].tomb.fetch_add(size, std::memory_order_relaxed);
  }
  out->loc = static_cast<uint64_t>(rec - base_) + 8;
  return OkStatus();
}

Status DBImpl::AppendImage(LogHead& head, std::string* image, bool sync,
                           bool tombstones, uint64_t* rec_off) {
  const uint64_t size = image->size();
  HeadLock l(this, head);
  NoteAppender(head, l);
  if (size > segment_size_ - format::kSegmentHeaderSize) {
    return AppendSpan(
        head, size, tombstones,
        [&](char* rec, uint32_t seed, uint64_t epoch) {
          format::EntryHeader e = format::LoadEntry(image->data() + 8);
          e.flags = format::kFlagPrefixDurable;
          e.epoch_lo = static_cast<uint32_t>(epoch);
          std::memcpy(image->data() + 8, &e, sizeof(e));
          format::SealRecordCrcs(image->data(), seed);
          region_->Copy(rec, image->data(), size,
                        dax::kMemNonTemporal | dax::kMemNoDrain);
        },
        rec_off);
  }
  DAXKV_RETURN_IF_ERROR(Reserve(head, size, tombstones));
  if (sync) PersistPending(head);
  char* sp = SegBase(head.seg);
  char* rec = sp + head.tail;
  const SegMeta& m = segs_[head.seg];
  format::EntryHeader e = format::LoadEntry(image->data() + 8);
  e.flags = head.persisted == head.tail ? format::kFlagPrefixDurable : 0;
  e.epoch_lo = static_cast<uint32_t>(m.epoch);
  std::memcpy(image->data() + 8, &e, sizeof(e));
  format::SealRecordCrcs(image->data(), m.seed);
  if (sync) {
    // Durability: the whole batch is one record under one CRC: after a
    // crash it is either entirely valid or a torn tail that is dropped.
    region_->Copy(rec, image->data(), size, dax::kMemDefault);
    CountPersist(head);
  } else {
    std::memcpy(rec, image->data(), size);
  }
  head.tail += static_cast<uint32_t>(size);
  if (sync) head.persisted = head.tail;
  segs_[head.seg].tail.store(head.tail, std::memory_order_relaxed);
  // A batch's tombstones weigh on victim choice as single ones do: left
  // out, a segment of pops' tombstones looked empty, was compacted first,
  // and had every tombstone copied while its puts' segments stood.
  if (const uint64_t tomb = format::TombstoneBytes(image->data())) {
    segs_[head.seg].tomb.fetch_add(tomb, std::memory_order_relaxed);
  }
  *rec_off = static_cast<uint64_t>(rec - base_);
  return OkStatus();
}

void DBImpl::PublishWatermark(LogHead& head) {
  // A failed persist (latched by the caller's CheckPersisted) left the
  // records below head.persisted as they were: the watermark must not
  // claim them, or the next open reads them as damage, not a torn tail.
  if (!region_->PersistError().ok()) return;
  char* sp = SegBase(head.seg);
  uint64_t w = format::WatermarkWord(segs_[head.seg].seed, head.persisted);
  std::memcpy(sp + format::kWatermarkOffset, &w, 8);
  // Durability: stored only once every record below head.persisted is
  // durable (PersistPending drained them), so the watermark never covers a
  // byte a crash could still tear. A crash before this persist leaves the
  // older watermark: damage between the two then reads as a torn tail, as
  // in pools before version 3. 8-byte store, never torn.
  region_->Persist(sp + format::kWatermarkOffset, 8);
  CountPersist(head);
}

Status DBImpl::Sync() {
  // With an error latched the engine cannot promise what Sync() promises.
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  return PersistUserHeads();
}

Status DBImpl::PersistUserHeads() {
  // Durability: each head's unsynced records in turn (PersistPending); a
  // crash midway keeps some heads' records and not others', per key as the
  // group-commit contract allows (nothing here was acknowledged yet). The
  // tombstone log is the last of heads_, so it is included.
  for (auto& h : heads_) CommitHead(*h);
  return CheckPersisted("a group commit");
}

void DBImpl::CommitHead(LogHead& head) {
  HeadLock l(this, head);
  if (head.seg < 0 || head.persisted >= head.tail) return;
  PersistPending(head);
  // The watermark lets recovery tell later damage from a torn tail, as a
  // sync record's flag would.
  PublishWatermark(head);
}

}  // namespace daxkv::engine
