// ListIndex: a list's DRAM index, the locations of its elements in list
// order (a CountedTree of 5-byte locations). The order itself is on the
// medium, in the elements' order keys (engine/coll_order_key.h); the index
// holds no key bytes and finds an element by its order key with O(log n)
// reads through an ElemSource. See docs/collections.md, "Lists".
//
// Thread-safety: as CountedTree (the collection's lock).
#ifndef DAXKV_ENGINE_COLL_LIST_H_
#define DAXKV_ENGINE_COLL_LIST_H_

#include <cstdint>
#include <string_view>

#include "engine/coll_loc.h"
#include "engine/coll_tree.h"

namespace daxkv::engine::coll {

struct LocCodec {
  using Entry = uint64_t;
  static constexpr size_t kBytes = kPackedLocBytes;
  static uint64_t Load(const char* p) { return LoadLoc(p); }
  static void Store(char* p, uint64_t loc) { StoreLoc(p, loc); }
};

static_assert(sizeof(CountedTree<LocCodec>) == 24);

class ListIndex {
 public:
  using Tree = CountedTree<LocCodec>;

  uint64_t size() const { return tree_.size(); }
  bool empty() const { return tree_.empty(); }
  uint64_t MemoryBytes() const { return tree_.MemoryBytes(); }

  // Positional access; REQUIREs as CountedTree.
  uint64_t At(uint64_t i) const { return tree_.At(i); }
  void Set(uint64_t i, uint64_t loc) { tree_.Set(i, loc); }
  // fn(position, uint64_t* loc) -> whether it changed *loc, over [from, to):
  // CountedTree::Update.
  template <typename Fn>
  void Update(uint64_t from, uint64_t to, Fn&& fn) {
    tree_.Update(from, to, fn);
  }
  void Insert(uint64_t i, uint64_t loc) { tree_.Insert(i, loc); }
  uint64_t Erase(uint64_t i) { return tree_.Erase(i); }
  void EraseRange(uint64_t from, uint64_t to) { tree_.EraseRange(from, to); }
  void PushFront(uint64_t loc) { tree_.PushFront(loc); }
  void PushBack(uint64_t loc) { tree_.PushBack(loc); }
  void Clear() { tree_.Clear(); }
  // fn(position, loc) -> bool (false stops); see CountedTree.
  const Tree& tree() const { return tree_; }

  // The order keys of the first and last elements (empty views for an
  // empty list). They point into `src`'s bytes: valid while those are and
  // the list is unchanged.
  struct Ends {
    std::string_view front;
    std::string_view back;
  };
  Ends GetEnds(const ElemSource& src) const;
  // The position of the element whose order key is `okey`, or size() if
  // there is none. Reads O(log n) keys, or none beyond the ends: a key
  // outside them needs no search (most of what compaction asks about in a
  // queue's segments was popped). The second form takes the ends from a
  // GetEnds of the unchanged list, for a run of lookups.
  uint64_t Find(const ElemSource& src, std::string_view okey) const {
    return Find(src, okey, GetEnds(src));
  }
  uint64_t Find(const ElemSource& src, std::string_view okey,
                const Ends& ends) const;
  // Points the element whose order key is `okey` at `new_loc` if it is at
  // `old_loc` now (compaction's relocation; a commit replacing a pending
  // location). Returns whether it did.
  bool Relocate(const ElemSource& src, std::string_view okey, uint64_t old_loc,
                uint64_t new_loc);

  // Replaces the contents with `n` locations in list order (recovery).
  template <typename LocAt>
  void Assign(uint64_t n, LocAt&& loc_at) {
    tree_.Assign(n, loc_at);
  }

 private:
  Tree tree_;
};

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_LIST_H_
