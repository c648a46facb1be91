// format::CheckEntry: what recovery verifies of an entry beyond its CRCs
// (docs/format.md, "Validity"). A record holding an entry that fails is
// damage: reported, never indexed, dropped by repair.
#include <cmath>
#include <cstring>

#include "engine/coll_order_key.h"
#include "engine/coll_packed_ints.h"
#include "engine/db.h"
#include "engine/format.h"
#include "engine/key_type.h"

namespace daxkv::engine::format {

namespace {

std::string CheckElem(const char* entry, const EntryHeader& e) {
  if (!IsCollectionType(ElemType(e))) {
    return "element of collection type " + std::to_string(ElemType(e));
  }
  if (ElemId(e) == 0) return "element of collection id 0";
  if (e.type == kElemTombstone) {
    return e.value_len == 0 ? "" : "element tombstone with a value";
  }
  const char* subkey = entry + kEntryHeaderSize;
  switch (static_cast<KeyType>(ElemType(e))) {
    case KeyType::kZset: {
      if (e.value_len != 8) return "sorted-set element without an 8-byte score";
      double score;
      std::memcpy(&score, subkey + e.key_len, 8);
      return std::isnan(score) ? "sorted-set element with a NaN score" : "";
    }
    case KeyType::kList:
      return coll::ValidOrderKey(std::string_view(subkey, e.key_len))
                 ? ""
                 : "list element with a malformed order key";
    case KeyType::kSet:  // a member, or (version 6) a packed set's entry
      if (e.value_len == 0) return "";
      if (e.key_len != 0) return "set element with a value";
      return coll::PackedInts::Check(
          std::string_view(subkey + e.key_len, e.value_len));
    case KeyType::kStream:  // an entry ID, the metadata element's "", or
                            // (version 7) consumer-group state
      if (e.key_len == 16 || e.key_len == 0) return "";
      return e.key_len > 16 &&
                     std::string_view(subkey, 16) == std::string_view(
                                                         "\0\0\0\0\0\0\0\0"
                                                         "\0\0\0\0\0\0\0\0",
                                                         16)
                 ? ""
                 : "stream element whose subkey is neither a 16-byte ID nor "
                   "group state";
    default:
      return "";
  }
}

}  // namespace

std::string CheckEntry(const char* entry, const EntryHeader& e) {
  if (IsSystemEntry(e) && (!(e.flags & kFlagSubEntry) ||
                           (e.type != kPut && e.type != kTombstone))) {
    return "system flag on an entry other than a put or tombstone "
           "sub-entry";
  }
  if (IsElemEntry(e.type)) return CheckElem(entry, e);
  // key_len 0 is the empty key (version 5); a length overrunning the
  // record was refused before (CheckRecord, ForEachEntry).
  if (e.key_len > kMaxKeySize) return "key length";
  if (e.type != kMeta) return "";
  if (e.value_len != sizeof(MetaPayload)) return "meta payload length";
  const MetaPayload m = LoadMeta(entry);
  if (!IsCollectionType(m.type)) {
    return "meta of collection type " + std::to_string(m.type);
  }
  return m.id == 0 ? "meta of collection id 0" : "";
}

}  // namespace daxkv::engine::format
