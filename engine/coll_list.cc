#include "engine/coll_list.h"

namespace daxkv::engine::coll {

ListIndex::Ends ListIndex::GetEnds(const ElemSource& src) const {
  if (tree_.empty()) return {};
  return {src.Subkey(tree_.At(0)), src.Subkey(tree_.At(tree_.size() - 1))};
}

uint64_t ListIndex::Find(const ElemSource& src, std::string_view okey,
                         const Ends& ends) const {
  if (tree_.empty() || okey < ends.front || ends.back < okey) {
    return tree_.size();
  }
  const uint64_t pos = tree_.PartitionPoint(
      [&](uint64_t loc) { return src.Subkey(loc) < okey; });
  if (pos < tree_.size() && src.Subkey(tree_.At(pos)) == okey) return pos;
  return tree_.size();
}

bool ListIndex::Relocate(const ElemSource& src, std::string_view okey,
                         uint64_t old_loc, uint64_t new_loc) {
  const uint64_t pos = Find(src, okey);
  if (pos == tree_.size() || tree_.At(pos) != old_loc) return false;
  tree_.Set(pos, new_loc);
  return true;
}

}  // namespace daxkv::engine::coll
