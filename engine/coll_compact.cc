// DBImpl: element entries a resumed compaction finds copied (the victim's
// own run is ElemCompactor's), and the repair of elements recovery found
// under a collection of another type.
#include <string>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

void DBImpl::AdoptRelocatedElem(uint64_t loc, const format::EntryHeader& e) {
  if (e.type == format::kElemTombstone) {
    if (resume_victim_ >= 0) relocated_tombs_.emplace_back(e.seq, loc);
    return;
  }
  Collection* c = colls_->Find(format::ElemId(e));
  if (c == nullptr) return;
  const PoolSource src(base_, hash_seed_);
  const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                e.key_len);
  uint64_t cur;
  {
    WriteLock l(c->mu);
    cur = c->Locate(src, subkey);
    // Indexed elsewhere with the same seq: the original of this copy.
    if (cur == 0 || cur == loc || src.Seq(cur) != e.seq) return;
    c->Relocate(src, subkey, cur, loc);
  }
  segs_[SegOf(cur)].live.fetch_sub(
      format::IndexedEntryBytes(format::LoadEntry(base_ + cur)),
      std::memory_order_relaxed);
  segs_[SegOf(loc)].live.fetch_add(format::IndexedEntryBytes(e),
                                   std::memory_order_relaxed);
}

Status DBImpl::DropMismatchedElements(const PoolScan& scan) {
  for (uint64_t loc : scan.mismatched_elements) {
    const format::EntryHeader e = format::LoadEntry(base_ + loc);
    const std::string_view subkey(base_ + loc + format::kEntryHeaderSize,
                                  e.key_len);
    Placed placed;
    // Durability: a sync element tombstone (seq above every entry)
    // shadows the element for good; recovery never indexed it.
    DAXKV_RETURN_IF_ERROR(AppendEntry(MyHead(), format::kElemTombstone, subkey,
                                      {}, e.expire_at_ms, ++last_seq_, true,
                                      &placed, e.reserved));
  }
  dropped_records_ += scan.mismatched_elements.size();
  return OkStatus();
}

}  // namespace daxkv::engine
