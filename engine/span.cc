// DBImpl: spans, the home of records larger than one segment.
//
// A span is a run of N > 1 contiguous segments holding exactly one record:
// one segment header (span = N) at the first segment, the record from
// offset 128 on, crossing the segment boundaries (segments 2..N have no
// header: their first bytes are record bytes). A span is written once,
// sealed at once and never appended to; compaction never copies it (its
// record is too large for a log segment) and frees it whole once its
// record is dead. Readers see one contiguous record through the index loc,
// as for any other record.
//
// On the medium (docs/format.md): recovery walks the segments in order; a
// header with span N claims the N-1 segments after it whatever bytes they
// hold when the head is in use, or when it is allocating or freed under its
// own epoch (a span write or free cut short: recovery releases them). A
// head "released" (SegState::kReleased) claims nothing. Unclaimed segments
// are classified by their own header lines, which never hold record bytes:
// a covered segment's header line is zeroed before its head stops claiming
// it.
#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/db_impl.h"

namespace daxkv::engine {

StatusOr<int64_t> DBImpl::TakeRun(uint64_t n, uint64_t keep_free,
                                  uint64_t size) {
  MutexLock l(&alloc_mu_);
  const uint64_t count = segment_count_.load();
  const std::vector<uint8_t> is_free = FreeMapLocked();
  // Highest run first: log segments are taken lowest first, so the two
  // grow from opposite ends and fragment each other less.
  int64_t start = -1;
  uint64_t run = 0;
  uint64_t longest = 0;
  for (uint64_t i = count; i-- > 0;) {
    run = is_free[i] ? run + 1 : 0;
    longest = std::max(longest, run);
    if (run == n) {
      start = static_cast<int64_t>(i);
      break;
    }
  }
  if (start < 0 || free_list_.size() < n + keep_free) {
    span_wanted_ = n;
    return NoSpaceError(
        "pool " + region_->info().path + " has no room for a record of " +
        std::to_string(size) + " bytes: it needs " + std::to_string(n) +
        " contiguous free segments of " + std::to_string(segment_size_) +
        " bytes (" + std::to_string(free_list_.size()) + " free, " +
        std::to_string(longest) +
        " contiguous at most; nothing acknowledged is lost)");
  }
  if (last_epoch_.load() >= format::kMaxStateEpoch) {
    return InternalError("segment epochs exhausted");
  }
  std::erase_if(free_list_, [&](int64_t s) {
    return s >= start && s < start + int64_t(n);
  });
  segs_[start].epoch = ++last_epoch_;
  segs_[start].use = SegUse::kActive;
  for (uint64_t k = 1; k < n; ++k) {
    SegMeta& c = segs_[start + k];
    c.head = start;
    c.tail = 0;
    c.live = 0;
    c.tomb = 0;
    c.use.store(SegUse::kCovered, std::memory_order_release);
  }
  span_wanted_ = 0;
  run_window_ = {0, 0};  // whichever run it was, the wait is over
  return start;
}

Status DBImpl::AppendSpan(const LogHead& head, uint64_t size, bool tombstone,
                          const SpanFill& fill, uint64_t* rec_off) {
  const uint64_t n = format::SpanSegments(size, segment_size_);
  if (n * segment_size_ > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError("record of " + std::to_string(size) +
                                " bytes is too large for a span");
  }
  DAXKV_ASSIGN_OR_RETURN(int64_t seg,
                         TakeRun(n, KeepFree(head, tombstone), size));
  SegMeta& m = segs_[seg];
  char* sp = SegBase(seg);
  uint64_t words[3] = {
      0, format::StateWord(format::SegState::kAllocating, m.epoch), 0};
  std::memcpy(sp + format::kSealWordOffset, words, sizeof(words));
  // Durability: as AllocSegment: "allocating" first (watermark cleared; a
  // span is sealed at once and never has one), so until the commit
  // below the span reads as free whatever its header says. The covered
  // segments are untouched yet: a crash leaves them as they were (free).
  region_->Persist(sp + format::kSealWordOffset, sizeof(words));
  format::SegmentHeader h{};
  std::memcpy(h.magic, format::kSegmentMagic, 8);
  std::memcpy(h.uuid, uuid_.data(), 16);
  h.epoch = m.epoch;
  h.open_seq = last_seq_.load();
  h.span = static_cast<uint32_t>(n);
  format::SetHeaderFlushSeq(&h, flush_seq_.load());
  h.crc = format::SegmentHeaderCrc(h);
  std::memcpy(sp, &h, sizeof(h));
  // Durability: the header (new epoch, span N) is durable before the
  // record, so no byte of the record area can verify under an older epoch,
  // and from here an "allocating" head with this header claims the covered
  // segments at recovery (which releases them): record bytes written there
  // below are never classified as segments of their own.
  region_->Persist(sp, sizeof(h));
  const uint32_t seed = format::SegmentSeed(uuid_.data(), m.epoch);
  const uint32_t tail =
      static_cast<uint32_t>(format::kSegmentHeaderSize + size);
  fill(sp + format::kSegmentHeaderSize, seed, m.epoch);
  uint64_t seal = format::SealWord(seed, tail);
  std::memcpy(sp + format::kSealWordOffset, &seal, 8);
  region_->Flush(sp + format::kSealWordOffset, 8);
  // Durability: record (streamed or flushed by `fill`) and seal word are
  // durable while the span still reads as free: a crash up to here leaves
  // no trace of this (unacknowledged) write (recovery releases the span).
  region_->Drain();
  uint64_t in_use = format::StateWord(format::SegState::kInUse, m.epoch);
  std::memcpy(sp + format::kStateWordOffset, &in_use, 8);
  // Durability: the commit point, one 8-byte store: from here recovery
  // claims the N-1 segments after the head and indexes the sealed record.
  region_->Persist(sp + format::kStateWordOffset, 8);
  misc_persists_ += 4;
  m.seed = seed;
  m.tail = tail;
  m.live = 0;
  m.tomb = tombstone ? size : 0;
  m.span = static_cast<uint32_t>(n);
  // Still kActive (TakeRun): until the writer has published the record and
  // counted its live bytes, the span must not look dead to compaction,
  // which would copy it (or fail for want of a run). The writer calls
  // ReleaseSpan() then.
  *rec_off = static_cast<uint64_t>(sp - base_) + format::kSegmentHeaderSize;
  return OkStatus();
}

void DBImpl::ReleaseSpan(uint64_t loc) {
  SegMeta& m = segs_[SegOf(loc)];
  if (m.use.load() == SegUse::kActive) {
    m.use.store(SegUse::kSealed, std::memory_order_release);
  }
}

void DBImpl::FinishSpanFree(int64_t seg, uint32_t span, uint64_t epoch) {
  ReleaseCovered(seg, span, format::StateWord(format::SegState::kFreed, epoch));
  char* sp = SegBase(seg);
  uint64_t st = format::StateWord(format::SegState::kReleased, epoch);
  std::memcpy(sp + format::kStateWordOffset, &st, 8);
  // Durability: 8-byte store. Until it is durable the head (freed under its
  // own epoch, span N) still claims the covered segments, and recovery
  // releases them again; after it the head claims nothing, so only now may
  // the covered segments be handed out (the caller frees them after this).
  region_->Persist(sp + format::kStateWordOffset, 8);
  misc_persists_++;
}

void DBImpl::ReleaseCovered(int64_t seg, uint32_t span, uint64_t freed_state) {
  char line[format::kSegmentHeaderSize] = {};
  std::memcpy(line + format::kStateWordOffset, &freed_state, 8);
  for (uint32_t k = 1; k < span; ++k) {
    char* cp = SegBase(seg + k);
    std::memcpy(cp, line, sizeof(line));
    region_->Flush(cp, sizeof(line));
    SegMeta& c = segs_[seg + k];
    c.head = -1;
    c.tail = format::kSegmentHeaderSize;
    c.use = SegUse::kFree;
  }
  // Durability: the head's freed state is already durable (the span is
  // free and still claims these segments); this turns the header line of
  // every covered segment into "never used" (no magic) so stale record
  // bytes there can never read as a segment header once the head stops
  // claiming them. A crash before it completes: recovery does it again.
  region_->Drain();
  misc_persists_++;
}

}  // namespace daxkv::engine
