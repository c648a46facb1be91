#include "rdb/decoder.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string_view>
#include <utility>

#include "rdb/format.h"
#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/numbers.h"
#include "rdb/stream.h"
#include "rdb/stream_groups.h"
#include "rdb/ziplist.h"
#include "rdb/zipmap.h"

namespace daxkv::rdb {
namespace {

bool IsPlainCollection(uint8_t type) {
  return type == kTypeList || type == kTypeSet || type == kTypeZset ||
         type == kTypeHash || type == kTypeZset2 ||
         type == kTypeListQuicklist || type == kTypeListQuicklist2;
}

bool IsBlobType(uint8_t type) {
  switch (type) {
    case kTypeHashZipmap:
    case kTypeListZiplist:
    case kTypeSetIntset:
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
    case kTypeHashListpack:
    case kTypeZsetListpack:
      return true;
    default:
      return false;
  }
}

Value EmptyValueFor(uint8_t type) {
  switch (type) {
    case kTypeList:
    case kTypeListZiplist:
    case kTypeListQuicklist:
    case kTypeListQuicklist2:
      return List{};
    case kTypeSet:
    case kTypeSetIntset:
      return Set{};
    case kTypeZset:
    case kTypeZset2:
    case kTypeZsetZiplist:
    case kTypeZsetListpack:
      return Zset{};
    case kTypeHash:
    case kTypeHashZipmap:
    case kTypeHashZiplist:
    case kTypeHashListpack:
      return Hash{};
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
      return Stream{};
    default:
      return std::string();
  }
}

// Sorting (hash, index) pairs finds duplicates in 16 bytes per element; a
// node-based hash set would take 40 or more, and sets arriving by
// replication can hold millions of members.
template <typename T, typename KeyOf>
bool HasDuplicate(const std::vector<T>& items, KeyOf key_of) {
  std::vector<std::pair<size_t, size_t>> order;
  order.reserve(items.size());
  std::hash<std::string_view> hasher;
  for (size_t i = 0; i < items.size(); ++i) {
    order.emplace_back(hasher(key_of(items[i])), i);
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 1; i < order.size(); ++i) {
    // Equal keys have equal hashes, so they sit in one run; compare within.
    for (size_t j = i; j > 0 && order[j - 1].first == order[i].first; --j) {
      if (key_of(items[order[j - 1].second]) ==
          key_of(items[order[i].second])) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

void ObjectDecoder::Start(uint8_t type) {
  type_ = type;
  phase_ = Phase::kCount;
  remaining_ = 0;
  value_ = EmptyValueFor(type);
  scratch_.clear();
  stream_trailer_read_ = false;
}

Rd ObjectDecoder::Fail(Input* in, const std::string& why) {
  return in->Fail(RdbTypeName(type_) + ": " + why);
}

Rd ObjectDecoder::Continue(Input* in) {
  while (phase_ != Phase::kDone) {
    size_t unit_start = in->pos();
    Rd r;
    if (phase_ == Phase::kCount) {
      r = ReadCount(in);
    } else if (remaining_ == 0) {
      r = Finish(in);
    } else {
      r = ReadElement(in);
    }
    if (r == Rd::kShort) in->Rewind(unit_start);
    if (r != Rd::kOk) return r;
  }
  return Rd::kOk;
}

Rd ObjectDecoder::ReadCount(Input* in) {
  if (type_ == kTypeString) {
    DAXKV_RD(in->String(&std::get<std::string>(value_)));
  } else if (IsBlobType(type_)) {
    DAXKV_RD(ReadBlobValue(in));
  } else if (type_ == kTypeModule2) {
    return ReadModule(in);
  } else if (type_ == kTypeStreamListpacks || type_ == kTypeStreamListpacks2) {
    DAXKV_RD(in->Len(&remaining_));  // listpack nodes
  } else if (type_ == kTypeModulePreGa) {
    return Fail(in, "pre-release module format not supported");
  } else if (IsPlainCollection(type_)) {
    uint64_t count;
    DAXKV_RD(in->Len(&count));
    remaining_ = count;
    // A count is a claim: reserve no more than the window could hold, and
    // never much at once (an element is 32+ bytes of memory per input byte).
    constexpr uint64_t kMaxReserve = 1 << 16;
    size_t hint = static_cast<size_t>(
        std::min<uint64_t>({count, in->remaining(), kMaxReserve}));
    std::visit(
        [hint](auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, List>) {
            v.elements.reserve(hint);
          } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, Set>) {
            v.members.reserve(hint);
          } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>,
                                              Hash>) {
            v.fields.reserve(hint);
          } else if constexpr (std::is_same_v<std::decay_t<decltype(v)>,
                                              Zset>) {
            v.entries.reserve(hint);
          }
        },
        value_);
  } else {
    return in->Fail("unknown RDB object type " + std::to_string(type_));
  }
  phase_ = Phase::kElements;
  return Rd::kOk;
}

Rd ObjectDecoder::ReadElement(Input* in) {
  switch (type_) {
    case kTypeList: {
      std::string e;
      DAXKV_RD(in->String(&e));
      std::get<List>(value_).elements.push_back(std::move(e));
      break;
    }
    case kTypeSet: {
      std::string m;
      DAXKV_RD(in->String(&m));
      std::get<Set>(value_).members.push_back(std::move(m));
      break;
    }
    case kTypeZset:
    case kTypeZset2: {
      ZsetEntry e;
      DAXKV_RD(in->String(&e.member));
      DAXKV_RD(type_ == kTypeZset2 ? in->BinaryDouble(&e.score)
                                   : in->LegacyDouble(&e.score));
      if (std::isnan(e.score)) return Fail(in, "NaN score");
      std::get<Zset>(value_).entries.push_back(std::move(e));
      break;
    }
    case kTypeHash: {
      std::pair<std::string, std::string> f;
      DAXKV_RD(in->String(&f.first));
      DAXKV_RD(in->String(&f.second));
      std::get<Hash>(value_).fields.push_back(std::move(f));
      break;
    }
    case kTypeStreamListpacks:
    case kTypeStreamListpacks2:
      DAXKV_RD(ReadStreamNode(in));
      break;
    default:  // quicklists
      DAXKV_RD(ReadQuicklistNode(in));
      break;
  }
  --remaining_;
  return Rd::kOk;
}

Rd ObjectDecoder::ReadQuicklistNode(Input* in) {
  uint64_t container = kContainerPacked;
  if (type_ == kTypeListQuicklist2) {
    DAXKV_RD(in->Len(&container));
    if (container != kContainerPacked && container != kContainerPlain) {
      return Fail(in,
                  "unknown quicklist container " + std::to_string(container));
    }
  }
  std::string blob;
  DAXKV_RD(in->String(&blob));
  if (blob.empty()) return Fail(in, "empty quicklist node");
  auto& elements = std::get<List>(value_).elements;
  if (container == kContainerPlain) {
    elements.push_back(std::move(blob));
    return Rd::kOk;
  }
  std::string error;
  bool ok = type_ == kTypeListQuicklist2
                ? ParseListpack(blob, &elements, &error)
                : ParseZiplist(blob, &elements, &error);
  // An empty node is skipped silently, as Redis does.
  return ok ? Rd::kOk : Fail(in, error);
}

Rd ObjectDecoder::ReadStreamNode(Input* in) {
  std::string key, blob;
  DAXKV_RD(in->String(&key));
  DAXKV_RD(in->String(&blob));
  std::string error;
  if (!ParseStreamNode(key, blob, &std::get<Stream>(value_).entries, &error)) {
    return Fail(in, error);
  }
  return Rd::kOk;
}

// The stream's trailer: length, last ID, (v2) first ID, max deleted ID,
// entries added and the number of consumer groups, which groups_ reads
// next. One unit: a few lengths.
Rd ObjectDecoder::ReadStreamTrailer(Input* in) {
  Stream& s = std::get<Stream>(value_);
  uint64_t length, first_ms, first_seq, groups;
  DAXKV_RD(in->Len(&length));
  DAXKV_RD(in->Len(&s.last_id.ms));
  DAXKV_RD(in->Len(&s.last_id.seq));
  if (type_ == kTypeStreamListpacks2) {
    DAXKV_RD(in->Len(&first_ms));
    DAXKV_RD(in->Len(&first_seq));
    DAXKV_RD(in->Len(&s.max_deleted.ms));
    DAXKV_RD(in->Len(&s.max_deleted.seq));
    DAXKV_RD(in->Len(&s.entries_added));
  } else {
    s.entries_added = s.entries.size();
  }
  DAXKV_RD(in->Len(&groups));
  if (length != s.entries.size()) return Fail(in, "stream length mismatch");
  auto less = [](const StreamId& a, const StreamId& b) {
    return a.ms != b.ms ? a.ms < b.ms : a.seq < b.seq;
  };
  for (size_t i = 1; i < s.entries.size(); ++i) {
    if (!less(s.entries[i - 1].id, s.entries[i].id)) {
      return Fail(in, "stream entries out of order");
    }
  }
  if (!s.entries.empty() && less(s.last_id, s.entries.back().id)) {
    return Fail(in, "stream last ID below its last entry");
  }
  groups_.Start(groups, type_ == kTypeStreamListpacks2);
  stream_trailer_read_ = true;
  return Rd::kOk;
}

// One unit of the stream after its entries: the trailer, or a piece of its
// consumer groups.
Rd ObjectDecoder::ReadStreamTail(Input* in) {
  if (!stream_trailer_read_) return ReadStreamTrailer(in);
  std::string why;
  Rd r = groups_.Step(in, &std::get<Stream>(value_), &why);
  return r == Rd::kBad && !why.empty() ? Fail(in, why) : r;
}

Rd ObjectDecoder::ReadBlobValue(Input* in) {
  std::string blob;
  DAXKV_RD(in->String(&blob));
  std::string error;
  bool ok = true;
  scratch_.clear();
  switch (type_) {
    case kTypeHashZipmap:
      ok = ParseZipmap(blob, &std::get<Hash>(value_).fields, &error);
      break;
    case kTypeListZiplist:
      ok = ParseZiplist(blob, &std::get<List>(value_).elements, &error);
      break;
    case kTypeSetIntset:
      ok = ParseIntset(blob, &std::get<Set>(value_).members, &error);
      break;
    case kTypeZsetZiplist:
    case kTypeHashZiplist:
      ok = ParseZiplist(blob, &scratch_, &error);
      break;
    default:  // hash and zset listpacks
      ok = ParseListpack(blob, &scratch_, &error);
      break;
  }
  if (!ok) return Fail(in, error);
  if (scratch_.empty()) return Rd::kOk;
  if (scratch_.size() % 2 != 0) return Fail(in, "odd number of entries");
  if (Hash* h = std::get_if<Hash>(&value_)) {
    h->fields.reserve(scratch_.size() / 2);
    for (size_t i = 0; i < scratch_.size(); i += 2) {
      h->fields.emplace_back(std::move(scratch_[i]),
                             std::move(scratch_[i + 1]));
    }
  } else {
    Zset& z = std::get<Zset>(value_);
    z.entries.reserve(scratch_.size() / 2);
    for (size_t i = 0; i < scratch_.size(); i += 2) {
      ZsetEntry e{std::move(scratch_[i]), 0};
      if (!ParseScore(scratch_[i + 1], &e.score)) {
        return Fail(in, "invalid score");
      }
      z.entries.push_back(std::move(e));
    }
  }
  scratch_.clear();
  return Rd::kOk;
}

Rd ObjectDecoder::ReadModule(Input* in) {
  uint64_t module_id;
  DAXKV_RD(in->Len(&module_id));
  return in->Unsupported("a value of module type '" +
                         ModuleTypeName(module_id) +
                         "': daxkv loads no modules, and drops no data "
                         "silently");
}

Rd ObjectDecoder::Finish(Input* in) {
  if (std::holds_alternative<Stream>(value_)) {
    // A unit per call: Continue rewinds to the unfinished one.
    DAXKV_RD(ReadStreamTail(in));
    if (stream_trailer_read_ && groups_.done()) phase_ = Phase::kDone;
    return Rd::kOk;
  }
  bool dup = false;
  if (const Set* s = std::get_if<Set>(&value_)) {
    dup = HasDuplicate(
        s->members, [](const std::string& m) { return std::string_view(m); });
  } else if (const Hash* h = std::get_if<Hash>(&value_)) {
    dup = HasDuplicate(h->fields,
                       [](const auto& f) { return std::string_view(f.first); });
  } else if (const Zset* z = std::get_if<Zset>(&value_)) {
    dup = HasDuplicate(z->entries, [](const ZsetEntry& e) {
      return std::string_view(e.member);
    });
  }
  if (dup) return Fail(in, "duplicate member or field");
  phase_ = Phase::kDone;
  return Rd::kOk;
}

}  // namespace daxkv::rdb
