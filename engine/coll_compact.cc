// DBImpl: the repair of elements recovery found under a collection of
// another type.
#include <string>

#include "engine/coll_source.h"
#include "engine/db_impl.h"

namespace daxkv::engine {

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
