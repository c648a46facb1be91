// DBImpl::Rename, and the links it writes for values that live in spans.
//
// A value in a span (a record larger than a segment, up to 512 MiB) never
// moves: compaction frees a span whole and never copies it. So renaming
// such a key needs no copy: one batch record holds a link for the new key
// (kLink, naming the put entry in the span and its seq) and a tombstone
// for the old one. The span stays live while an indexed link names it:
// its head segment's live bytes count the target entry once per link (here
// at runtime, in pool_scan at recovery). Smaller values are copied into
// the batch instead (bounded by the segment size).
#include <utility>

#include "engine/db_impl.h"

namespace daxkv::engine {

DBImpl::LinkedBytes DBImpl::LinkedBytesOf(uint64_t loc) const {
  const char* p = base_ + loc;
  if (format::LoadEntry(p).type != format::kLink) return {};
  const uint64_t target = format::LoadLink(p).target;
  const uint64_t end =
      format::kDataOffset + segment_count_.load() * segment_size_;
  if (target < format::kDataOffset || target + format::kEntryHeaderSize > end) {
    return {};  // never indexed: recovery drops such a link
  }
  return {static_cast<int64_t>(SegOf(target)),
          format::IndexedEntryBytes(format::LoadEntry(base_ + target))};
}

void DBImpl::AddLinkedLive(const LinkedBytes& l, int sign) {
  if (l.seg < 0) return;
  if (sign > 0) {
    segs_[l.seg].live.fetch_add(l.bytes, std::memory_order_relaxed);
  } else {
    segs_[l.seg].live.fetch_sub(l.bytes, std::memory_order_relaxed);
  }
}

bool DBImpl::LinkTarget(const Current& cur, format::LinkPayload* link) const {
  // A meta is copied: its 16 bytes move the collection (same id).
  if (cur.entry.type == format::kMeta) return false;
  if (cur.entry.type == format::kLink) {
    *link = format::LoadLink(base_ + cur.loc);
    return true;
  }
  if (segs_[SegOf(cur.loc)].span.load() <= 1) return false;
  *link = {cur.loc, cur.entry.seq};
  return true;
}

Status DBImpl::Rename(std::string_view src, std::string_view dst,
                      const WriteOptions& opts) {
  DAXKV_RETURN_IF_ERROR(health_.CheckWritable());
  DAXKV_RETURN_IF_ERROR(CheckSizes(src, {}));
  DAXKV_RETURN_IF_ERROR(CheckSizes(dst, {}));
  const KeyHash ks(src), kd(dst);
  return RetryOnNoSpace([&]() -> Status {
    StripePairLock l(this, ks, kd);
    const Current cur = Lookup(ks, src);
    if (!cur.live) return NotFoundError("no such key");
    if (src == dst) return OkStatus();
    const uint64_t seq = ++last_seq_;
    std::string image(format::kRecordHeaderSize, '\0');
    const size_t at_dst = image.size();
    format::LinkPayload link;
    if (LinkTarget(cur, &link)) {
      format::AppendSubEntry(
          &image, format::kLink, seq, dst,
          std::string_view(reinterpret_cast<const char*>(&link), sizeof(link)),
          cur.entry.expire_at_ms);
    } else {
      // A meta stays a meta: its payload (type, id) moves the collection,
      // elements and all, to dst (Publish re-points it, then the src
      // tombstone finds it owned by dst and leaves it alive).
      const uint8_t type =
          cur.entry.type == format::kMeta ? format::kMeta : format::kPut;
      format::AppendSubEntry(&image, type, seq, dst,
                             format::EntryValue(base_, cur.loc),
                             cur.entry.expire_at_ms);
    }
    const size_t at_src = image.size();
    format::AppendSubEntry(&image, format::kTombstone, seq, src, {}, 0);
    format::SetBatchHeader(&image, seq);
    uint64_t rec_off;
    // Durability: one record under one CRC (AppendImage): after a crash
    // both keys are as before or both as after, never neither.
    DAXKV_RETURN_IF_ERROR(AppendImage(MyHead(), &image, opts.sync,
                                      /*tombstones=*/false, &rec_off));
    const bool span = IsSpanRecord(image.size());
    Status persisted;
    if (opts.sync || span) persisted = CheckPersisted("a rename");
    if (persisted.ok()) {  // else neither published nor acknowledged
      // The link first: the span it names never counts zero live bytes.
      Publish(kd, dst, rec_off + at_dst, seq, false);
      Publish(ks, src, rec_off + at_src, seq, true);
    }
    if (span) ReleaseSpan(rec_off);
    return persisted;
  });
}

Status DBImpl::DropBrokenLinks(const PoolScan& scan) {
  for (uint64_t loc : scan.broken_links) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    const std::string_view key(base_ + loc + format::kEntryHeaderSize,
                               e.key_len);
    Placed placed;
    // Durability: a sync tombstone (seq above every entry) shadows the link
    // on the medium for good; the index never held it (Recover erased it).
    DAXKV_RETURN_IF_ERROR(AppendEntry(MyHead(), format::kTombstone, key, {}, 0,
                                      ++last_seq_, true, &placed));
    NoteDeadPut(KeyHash(key));  // the link stays on the medium for now
  }
  dropped_records_ += scan.broken_links.size();
  return OkStatus();
}

}  // namespace daxkv::engine
