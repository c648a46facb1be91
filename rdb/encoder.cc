#include "rdb/encoder.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rdb/format.h"
#include "rdb/intset.h"
#include "rdb/listpack.h"
#include "rdb/numbers.h"
#include "rdb/stream.h"
#include "rdb/stream_groups.h"

namespace daxkv::rdb {
namespace {

// quicklist.c (7.0): elements of 1 GiB or more get a node of their own.
constexpr size_t kPackedThreshold = size_t{1} << 30;
constexpr size_t kSizeSafetyLimit = 8192;
constexpr size_t kOptimizationLevel[] = {4096, 8192, 16384, 32768, 65536};

// _quicklistNodeAllowInsert as redis-server 7.0.15 runs it: may an element
// of `sz` bytes join a node of `node_bytes` bytes holding `node_count`
// elements? The entry's size is estimated as sz + 8 (SIZE_ESTIMATE_OVERHEAD;
// releases before the fix estimated ziplist-style overheads, and filled
// nodes a few bytes fuller).
bool NodeAllowsInsert(size_t node_bytes, size_t node_count, size_t sz,
                      int fill) {
  constexpr size_t kEstimateOverhead = 8;
  size_t new_sz = node_bytes + sz + kEstimateOverhead;
  if (fill < 0) {
    size_t level =
        std::min(static_cast<size_t>(-static_cast<int64_t>(fill)) - 1,
                 std::size(kOptimizationLevel) - 1);
    return new_sz <= kOptimizationLevel[level];
  }
  if (new_sz > kSizeSafetyLimit) return false;
  size_t count_limit = fill == 0 ? 1 : static_cast<size_t>(fill);
  return node_count + 1 <= count_limit;
}

// The end of the quicklist node that starts at elements[begin], as
// quicklistPushTail would fill it.
size_t NodeEnd(const std::vector<std::string>& elements, size_t begin,
               int fill) {
  if (elements[begin].size() >= kPackedThreshold) return begin + 1;
  size_t bytes = kEmptyListpackBytes + ListpackEntrySize(elements[begin]);
  size_t i = begin + 1;
  for (; i < elements.size(); ++i) {
    size_t sz = elements[i].size();
    if (sz >= kPackedThreshold ||
        !NodeAllowsInsert(bytes, i - begin, sz, fill)) {
      break;
    }
    bytes += ListpackEntrySize(elements[i]);
  }
  return i;
}

// Two passes, so that a long list streams out one node at a time: the node
// count comes first.
void EncodeList(const List& list, const EncodeOptions& opts, ByteSink* out) {
  const std::vector<std::string>& elements = list.elements;
  const int fill = opts.list_max_listpack_size;
  uint64_t nodes = 0;
  for (size_t i = 0; i < elements.size(); i = NodeEnd(elements, i, fill)) {
    ++nodes;
  }
  WriteLen(out, nodes);
  for (size_t i = 0; i < elements.size();) {
    size_t end = NodeEnd(elements, i, fill);
    if (elements[i].size() >= kPackedThreshold) {
      WriteLen(out, kContainerPlain);
      WriteString(out, elements[i], opts.rdb_compression);
    } else {
      ListpackBuilder node;
      for (size_t j = i; j < end; ++j) node.Append(elements[j]);
      WriteLen(out, kContainerPacked);
      WriteString(out, node.Finish(), opts.rdb_compression);
    }
    i = end;
  }
}

// Members as integers when every one is a canonical int64 (the intset
// condition); false otherwise.
bool AllIntegers(const Set& set, std::vector<int64_t>* ints) {
  ints->reserve(set.members.size());
  for (const std::string& m : set.members) {
    int64_t v;
    if (!ParseCanonicalInt64(m, &v)) return false;
    ints->push_back(v);
  }
  return true;
}

bool ZsetLess(const ZsetEntry* a, const ZsetEntry* b) {
  if (a->score != b->score) return a->score < b->score;
  return a->member < b->member;  // sdscmp: memcmp, then length
}

// Entries in skiplist order: ascending score, ties by member.
std::vector<const ZsetEntry*> SortedZset(const Zset& z) {
  std::vector<const ZsetEntry*> order;
  order.reserve(z.entries.size());
  for (const ZsetEntry& e : z.entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), ZsetLess);
  return order;
}

void EncodeZset(const Zset& z, uint8_t type, const EncodeOptions& opts,
                ByteSink* out) {
  std::vector<const ZsetEntry*> order = SortedZset(z);
  if (type == kTypeZsetListpack) {
    ListpackBuilder lp;
    for (const ZsetEntry* e : order) {
      lp.Append(e->member);
      lp.Append(ScoreToListpackString(e->score));
    }
    WriteString(out, lp.Finish(), opts.rdb_compression);
    return;
  }
  // The skiplist is saved from its tail, so that loading inserts at the head.
  WriteLen(out, order.size());
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    WriteString(out, (*it)->member, opts.rdb_compression);
    WriteBinaryDouble(out, (*it)->score);
  }
}

void EncodeHash(const Hash& h, uint8_t type, const EncodeOptions& opts,
                ByteSink* out) {
  if (type == kTypeHashListpack) {
    ListpackBuilder lp;
    for (const auto& [field, value] : h.fields) {
      lp.Append(field);
      lp.Append(value);
    }
    WriteString(out, lp.Finish(), opts.rdb_compression);
    return;
  }
  WriteLen(out, h.fields.size());
  for (const auto& [field, value] : h.fields) {
    WriteString(out, field, opts.rdb_compression);
    WriteString(out, value, opts.rdb_compression);
  }
}

void EncodeSet(const Set& s, uint8_t type, const EncodeOptions& opts,
               ByteSink* out) {
  if (type == kTypeSetIntset) {
    std::vector<int64_t> ints;
    AllIntegers(s, &ints);
    std::sort(ints.begin(), ints.end());
    WriteString(out, BuildIntset(ints), opts.rdb_compression);
    return;
  }
  WriteLen(out, s.members.size());
  for (const std::string& m : s.members) {
    WriteString(out, m, opts.rdb_compression);
  }
}

}  // namespace

uint8_t ChooseRdbType(const Value& value, const EncodeOptions& opts) {
  switch (KindOf(value)) {
    case ValueKind::kString:
      return kTypeString;
    case ValueKind::kList:
      return kTypeListQuicklist2;
    case ValueKind::kSet: {
      const Set& s = std::get<Set>(value);
      std::vector<int64_t> ints;
      bool small =
          static_cast<int64_t>(s.members.size()) <= opts.set_max_intset_entries;
      return small && AllIntegers(s, &ints) ? kTypeSetIntset : kTypeSet;
    }
    case ValueKind::kHash: {
      const Hash& h = std::get<Hash>(value);
      if (static_cast<int64_t>(h.fields.size()) >
          opts.hash_max_listpack_entries) {
        return kTypeHash;
      }
      for (const auto& [field, v] : h.fields) {
        if (static_cast<int64_t>(field.size()) > opts.hash_max_listpack_value ||
            static_cast<int64_t>(v.size()) > opts.hash_max_listpack_value) {
          return kTypeHash;
        }
      }
      return kTypeHashListpack;
    }
    case ValueKind::kZset: {
      const Zset& z = std::get<Zset>(value);
      if (opts.zset_max_listpack_entries == 0 ||
          static_cast<int64_t>(z.entries.size()) >
              opts.zset_max_listpack_entries) {
        return kTypeZset2;
      }
      for (const ZsetEntry& e : z.entries) {
        if (static_cast<int64_t>(e.member.size()) >
            opts.zset_max_listpack_value) {
          return kTypeZset2;
        }
      }
      return kTypeZsetListpack;
    }
    case ValueKind::kStream:
      return kTypeStreamListpacks2;
  }
  return kTypeString;
}

Status CheckEncodable(const Value& value) {
  if (KindOf(value) == ValueKind::kString) return OkStatus();
  if (const Stream* s = std::get_if<Stream>(&value)) {
    return CheckStreamGroups(*s);  // may be empty
  }
  if (ElementCount(value) == 0) {
    return InvalidArgumentError(std::string("an empty ") +
                                std::string(KindName(KindOf(value))) +
                                " has no RDB form (Redis deletes empty keys)");
  }
  if (const Zset* z = std::get_if<Zset>(&value)) {
    for (const ZsetEntry& e : z->entries) {
      if (std::isnan(e.score)) {
        return InvalidArgumentError("a sorted-set score is NaN");
      }
    }
  }
  return OkStatus();
}

void EncodeValueBody(const Value& value, uint8_t type,
                     const EncodeOptions& opts, ByteSink* out) {
  switch (KindOf(value)) {
    case ValueKind::kString:
      WriteString(out, std::get<std::string>(value), opts.rdb_compression);
      return;
    case ValueKind::kList:
      EncodeList(std::get<List>(value), opts, out);
      return;
    case ValueKind::kSet:
      EncodeSet(std::get<Set>(value), type, opts, out);
      return;
    case ValueKind::kHash:
      EncodeHash(std::get<Hash>(value), type, opts, out);
      return;
    case ValueKind::kZset:
      EncodeZset(std::get<Zset>(value), type, opts, out);
      return;
    case ValueKind::kStream:
      EncodeStreamBody(std::get<Stream>(value), opts.rdb_compression, out);
      return;
  }
}

}  // namespace daxkv::rdb
