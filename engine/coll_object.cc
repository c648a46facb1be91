#include "engine/coll_object.h"

#include <algorithm>
#include <cassert>

#include "base/int_text.h"
#include "engine/txn.h"

namespace daxkv::engine {

bool IsCanonicalInt64(std::string_view s) {
  int64_t unused;
  return ParseInt64(s, &unused);
}

Collection::Collection(KeyType t, uint64_t i, uint64_t loc)
    : type(t), id(i), meta_loc(loc) {
  assert(IsCollectionType(static_cast<uint32_t>(t)) && i != 0);
  WriteLock l(mu);  // uncontended: for the analysis
  if (UsesListIndex(t)) {
    index_.emplace<coll::ListIndex>();
  } else if (t == KeyType::kZset) {
    index_.emplace<coll::ZsetIndex>();
  }
}

uint64_t Collection::size() const {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      return list().size();
    case KeyType::kZset:
      return zset().size();
    default:
      return packed() ? packed_set().count : table().size();
  }
}

bool Collection::compact() const {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      return list().size() <= 128;
    case KeyType::kZset:
      return zset().compact();
    default:
      return packed() || table().dense();
  }
}

void Collection::FillInfo(KeyInfo* info) const {
  info->size = size();
  info->compact = compact();
  info->packed = packed();
  info->had_long_element = had_long.load();
  info->peak_size = std::max(info->size, peak_size.load());
}

uint64_t Collection::MemoryBytes() const {
  const uint64_t self = sizeof(*this) - sizeof(index_);
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      return self + list().MemoryBytes() + sizeof(index_) -
             sizeof(coll::ListIndex::Tree);
    case KeyType::kZset:
      return self + zset().MemoryBytes() + sizeof(index_) -
             sizeof(coll::ZsetIndex);
    default:
      if (packed()) return self + sizeof(index_);
      return self + table().MemoryBytes() + sizeof(index_) -
             sizeof(coll::ElemTable);
  }
}

uint64_t Collection::Locate(const coll::ElemSource& src,
                            std::string_view subkey) const {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream: {
      const uint64_t pos = list().Find(src, subkey);
      return pos < list().size() ? list().At(pos) : 0;
    }
    case KeyType::kZset:
      return zset().Find(src, subkey);
    default:
      if (packed()) {
        return subkey == coll::kPackedSubkey ? packed_set().loc : 0;
      }
      return table().Find(src, subkey);
  }
}

bool Collection::IndexedAt(const coll::ElemSource& src, std::string_view subkey,
                           uint64_t loc) const {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream: {
      uint64_t pos;
      return ListIndexedAt(src, list().GetEnds(src), subkey, loc, ~0ull, &pos);
    }
    case KeyType::kZset:
      return zset().Find(src, subkey) == loc;
    default:
      if (packed()) {
        return subkey == coll::kPackedSubkey && packed_set().loc == loc;
      }
      return table().IndexedAt(src, subkey, loc);
  }
}

bool Collection::ListIndexedAt(const coll::ElemSource& src,
                               const coll::ListIndex::Ends& ends,
                               std::string_view okey, uint64_t loc,
                               uint64_t near, uint64_t* pos) const {
  const coll::ListIndex& l = list();
  if (near != ~0ull) {
    // near - 1 wraps past size() at 0.
    for (const uint64_t p : {near + 1, near - 1}) {
      if (p < l.size() && l.At(p) == loc) {
        *pos = p;
        return true;
      }
    }
  }
  *pos = l.Find(src, okey, ends);
  return *pos < l.size() && l.At(*pos) == loc;
}

bool Collection::Relocate(const coll::ElemSource& src, std::string_view subkey,
                          uint64_t old_loc, uint64_t new_loc, uint64_t hint) {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      if (hint < list().size() && list().At(hint) == old_loc) {
        mutable_list().Set(hint, new_loc);
        return true;
      }
      return mutable_list().Relocate(src, subkey, old_loc, new_loc);
    case KeyType::kZset:
      return mutable_zset().Relocate(src, subkey, src.Score(old_loc), old_loc,
                                     new_loc, hint);
    default:
      if (packed()) {
        coll::PackedSet& p = std::get<coll::PackedSet>(index_);
        if (subkey != coll::kPackedSubkey || p.loc != old_loc) return false;
        p.loc = new_loc;
        return true;
      }
      return mutable_table().Relocate(src, subkey, old_loc, new_loc);
  }
}

void Collection::AppendLocs(std::vector<uint64_t>* out) const {
  if (packed()) {
    if (packed_set().loc != 0) out->push_back(packed_set().loc);
    return;
  }
  out->reserve(out->size() + size());
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      list().tree().Forward(0, list().size(), [&](uint64_t, uint64_t loc) {
        out->push_back(loc);
        return true;
      });
      return;
    case KeyType::kZset:
      zset().Forward(0, zset().size(), [&](uint64_t, uint64_t loc) {
        out->push_back(loc);
        return true;
      });
      return;
    default:
      table().ForEach([&](uint64_t loc) { out->push_back(loc); });
  }
}

void Collection::AppendFirstLocs(uint64_t n, std::vector<uint64_t>* out) const {
  if (n == 0 || n >= size() || packed()) {
    AppendLocs(out);
    return;
  }
  auto take = [&](uint64_t, uint64_t loc) {
    out->push_back(loc);
    return true;
  };
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      list().tree().Forward(0, n, take);
      return;
    case KeyType::kZset:
      zset().Forward(0, n, take);
      return;
    default: {
      const size_t end = out->size() + n;
      uint64_t cursor = 0;
      do {
        cursor = table().Scan(cursor, n, [&](uint64_t loc) {
          if (out->size() < end) out->push_back(loc);
        });
      } while (cursor != 0 && out->size() < end);
    }
  }
}

void Collection::Clear() {
  switch (type) {
    case KeyType::kList:
    case KeyType::kStream:
      mutable_list().Clear();
      return;
    case KeyType::kZset:
      mutable_zset().Clear();
      return;
    default:
      if (packed()) {
        index_ = coll::PackedSet{};
      } else {
        mutable_table().Clear();
      }
  }
}

const char* KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kString:
      return "string";
    case KeyType::kHash:
      return "hash";
    case KeyType::kList:
      return "list";
    case KeyType::kSet:
      return "set";
    case KeyType::kZset:
      return "zset";
    case KeyType::kStream:
      return "stream";
    case KeyType::kNone:
      break;
  }
  return "none";
}

}  // namespace daxkv::engine
