// TxnImpl (txn_impl.h): stream writes. A stream's elements live in a
// ListIndex ordered by subkey bytes (docs/collections.md, "Streams"): the
// kv layer's 16-byte big-endian entry IDs, and its metadata element under
// the empty subkey, which sorts first.
#include <algorithm>
#include <string>

#include "engine/txn_impl.h"

namespace daxkv::engine {

namespace {

// The first position whose subkey is not below `subkey`, and the location
// there when its subkey equals `subkey` (else 0).
uint64_t LowerBound(const Collection& c, const coll::ElemSource& src,
                    std::string_view subkey, uint64_t* same)
    REQUIRES_SHARED(c.mu) {
  const uint64_t pos = c.list().tree().PartitionPoint(
      [&](uint64_t loc) { return src.Subkey(loc) < subkey; });
  *same = pos < c.list().size() && src.Subkey(c.list().At(pos)) == subkey
              ? c.list().At(pos)
              : 0;
  return pos;
}

}  // namespace

Status TxnImpl::StreamPut(std::string_view key, std::string_view subkey,
                          std::string_view value, bool create, bool* done) {
  *done = false;
  DAXKV_RETURN_IF_ERROR(CheckElemSizes(subkey, value));
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kStream, create, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t pos, old;
  {
    ReadLock l(c->mu);
    pos = LowerBound(*c, src_, subkey, &old);
  }
  const uint64_t loc = PutElem(c, subkey, value, old);
  if (old != 0) {
    ListSetAt(c, pos, loc);
  } else {
    ListInsertAt(c, pos, loc);
    Ready(k);  // a new element: blocked XREADs may be served
  }
  *done = true;
  return OkStatus();
}

Status TxnImpl::StreamDelete(std::string_view key, std::string_view subkey,
                             bool* existed) {
  *existed = false;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kStream, false, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t pos, loc;
  {
    ReadLock l(c->mu);
    pos = LowerBound(*c, src_, subkey, &loc);
  }
  if (loc == 0) return OkStatus();
  DelElem(c, std::string(subkey), loc);
  ListEraseAt(c, pos);
  AfterRemove(k, c);
  *existed = true;
  return OkStatus();
}

Status TxnImpl::StreamEraseRanks(std::string_view key, uint64_t from,
                                 uint64_t to, uint64_t* removed) {
  *removed = 0;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kStream, false, &c, &k));
  if (c == nullptr) return OkStatus();
  {
    ReadLock l(c->mu);
    to = std::min(to, c->list().size());
  }
  if (from >= to) return OkStatus();
  EraseRanks(c, from, to);
  AfterRemove(k, c);
  *removed = to - from;
  return OkStatus();
}

}  // namespace daxkv::engine
