// DBImpl: what Open writes besides sealing: repairs (Options::repair),
// settling segments whose state was unknown, and the version 1-2 -> 3
// upgrade of state words.
#include <cstring>

#include "engine/db_impl.h"

namespace daxkv::engine {

namespace {

void StoreWord(char* p, uint64_t w) { std::memcpy(p, &w, 8); }

}  // namespace

Status DBImpl::ApplyRepairs(PoolScan* scan) {
  for (uint64_t i = 0; i < scan->segments.size(); ++i) {
    SegmentScan& seg = scan->segments[i];
    char* sp = SegBase(static_cast<int64_t>(i));
    if (seg.state == SegmentState::kDamaged) {
      // Durability: zero the records first, then the header lines. Until the
      // header is zero the segment still reads as damaged (repair repeats);
      // after it, no byte of the segment can verify under any future epoch.
      region_->Set(sp + format::kSegmentHeaderSize, 0,
                   segment_size_ - format::kSegmentHeaderSize);
      region_->Set(sp, 0, format::kSegmentHeaderSize);
      misc_persists_ += 2;
      seg.state = SegmentState::kUnused;
      scan->dropped_records++;
      continue;
    }
    for (auto [from, to] : seg.damaged) {
      if (to - from < format::kRecordHeaderSize) {
        return CorruptionError(
            "damaged range at " +
            format::HexOffset(format::kDataOffset + i * segment_size_ + from) +
            " is too short to repair");
      }
      format::EntryHeader pad{};
      pad.type = format::kPadding;
      pad.value_len = to - from - format::kRecordHeaderSize;
      pad.epoch_lo = static_cast<uint32_t>(seg.epoch);
      char* r = sp + from;
      std::memcpy(r + 8, &pad, sizeof(pad));
      format::SealRecordCrcs(r, seg.seed);
      // Durability: a padding record covering the damaged bytes; until it
      // persists, the next open finds (and repairs) the same damage.
      region_->Persist(r, format::kRecordHeaderSize);
    }
    if (seg.state_damaged) {
      StoreWord(sp + format::kStateWordOffset,
                format::StateWord(seg.decided, seg.state_epoch));
      // Durability: the corrected codeword, one 8-byte store; a crash
      // before it persists leaves the damaged word, corrected again.
      region_->Persist(sp + format::kStateWordOffset, 8);
      misc_persists_++;
    }
    if (seg.watermark_damaged) {
      StoreWord(sp + format::kWatermarkOffset, 0);
      // Durability: no watermark (as before version 3): damage at the end
      // of this log reads as a torn tail from now on; the segment is
      // sealed at its last valid record below anyway.
      region_->Persist(sp + format::kWatermarkOffset, 8);
      misc_persists_++;
    }
  }
  // Broken links leave the index now (DropBrokenLinks shadows them on the
  // medium once the logs are adopted).
  for (uint64_t loc : scan->broken_links) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    const std::string_view key(base_ + loc + format::kEntryHeaderSize,
                               e.key_len);
    const KeyHash kh(key);
    Index::Shard& s = index_->shard(kh);
    WriteLock l(s.mu);
    index_->Erase(s, kh, key);
    uint64_t seg = (loc - format::kDataOffset) / segment_size_;
    if (scan->segments[seg].state == SegmentState::kSpanned) {
      seg = scan->segments[seg].span_head;
    }
    scan->live_bytes[seg] -= format::IndexedEntryBytes(e);
  }
  dropped_records_ = scan->dropped_records;
  return OkStatus();
}

Status DBImpl::SettleAmbiguousSegments(const PoolScan& scan,
                                       const AmbiguityVerdict& verdict) {
  if (scan.ambiguous.empty()) return OkStatus();
  WriteOptions sync;
  for (const std::string& key : verdict.revived) {
    DAXKV_RETURN_IF_ERROR(Delete(key, nullptr, sync));
  }
  dropped_records_ += verdict.revived.size();
  for (uint64_t i : scan.ambiguous) {
    char* sp = SegBase(static_cast<int64_t>(i));
    StoreWord(sp + format::kStateWordOffset,
              format::StateWord(format::SegState::kInUse, segs_[i].epoch));
    // Durability: after the deletes above are durable (sync), so a crash
    // here leaves the segment ambiguous with those keys deleted elsewhere:
    // the next repair finds nothing left to delete and only does this.
    region_->Persist(sp + format::kStateWordOffset, 8);
    misc_persists_++;
  }
  return OkStatus();
}

Status DBImpl::UpgradeStateWords(const PoolScan& scan) {
  if (opened_format_version_ >= format::kCodedStateVersion) return OkStatus();
  uint64_t rewritten = 0;
  for (uint64_t i = 0; i < scan.segments.size(); ++i) {
    const SegmentScan& seg = scan.segments[i];
    // Spanned segments hold record bytes; unused ones have no state.
    if (seg.state != SegmentState::kInUse && seg.state != SegmentState::kFree) {
      continue;
    }
    char* p = SegBase(static_cast<int64_t>(i)) + format::kStateWordOffset;
    format::DecodedState st =
        format::DecodeStateWord(format::Load64(p), opened_format_version_);
    if (!st.legacy || st.state == format::SegState::kInvalid) continue;
    const uint64_t epoch = st.epoch_known ? st.epoch : seg.epoch;
    if (epoch > format::kMaxStateEpoch) {
      return NotSupportedError("segment " + std::to_string(i) + " epoch " +
                               std::to_string(epoch) +
                               " is too large for a version 3 state word");
    }
    StoreWord(p, format::StateWord(st.state, epoch));
    region_->Flush(p, 8);
    ++rewritten;
  }
  // Durability: each word is one 8-byte store of the same state, coded. The
  // superblock still says version 2 until after this fence, and version 2
  // reads legacy and coded words alike, so a crash midway changes nothing.
  if (rewritten > 0) region_->Drain();
  misc_persists_ += rewritten > 0;
  return OkStatus();
}

}  // namespace daxkv::engine
