// CountedTree<Codec>: an order-statistic sequence (a B+-tree whose inner
// nodes count the entries below each child) of small fixed-size entries,
// the DRAM order of lists (entries: element locations) and sorted sets
// (entries: score and location). See docs/collections.md, "DRAM".
//
// Every positional operation (At, Set, Insert, Erase) is O(log n) plus a
// memmove inside one leaf; a range of m entries costs O(log n + m);
// PartitionPoint (a search with a caller's predicate, e.g. comparing
// members read from the medium) calls the predicate O(log n) times, on
// the copies of each kid's first entry that inner nodes keep above the
// leaves, then inside one leaf. Pushes
// and pops at either end are amortized O(1) leaf work: leaves keep their
// free room on the side that is growing, and a full end leaf starts a new
// one instead of splitting.
//
// Memory: entries are packed (Codec::kBytes each); a leaf's capacity grows
// by a quarter at a time up to kLeafBytes, and shrinks when it empties, so a
// collection of 100 entries holds one small leaf. Inner nodes add about
// 16 bytes per leaf plus a copy of its first entry. MemoryBytes() counts
// every allocation.
//
// Codec: `using Entry`, `static constexpr size_t kBytes`,
// `static Entry Load(const char*)`, `static void Store(char*, const Entry&)`.
//
// Thread-safety: none; the owner's lock serialises writers against
// readers. Const methods may run concurrently with each other.
#ifndef DAXKV_ENGINE_COLL_TREE_H_
#define DAXKV_ENGINE_COLL_TREE_H_

#include <algorithm>
#include <cstdint>
#include <new>
#include <cstring>
#include <utility>

namespace daxkv::engine::coll {

template <typename Codec>
class CountedTree {
 public:
  using Entry = typename Codec::Entry;
  static constexpr uint32_t kEntryBytes = Codec::kBytes;
  static constexpr uint32_t kLeafBytes = 2048;
  static constexpr uint32_t kLeafMax =
      std::max<uint32_t>(16, kLeafBytes / kEntryBytes);
  static constexpr uint32_t kFanout = 32;
  static_assert(kLeafMax < (1u << 16));

  CountedTree() = default;
  CountedTree(const CountedTree&) = delete;
  CountedTree& operator=(const CountedTree&) = delete;
  CountedTree(CountedTree&& o) noexcept { *this = std::move(o); }
  CountedTree& operator=(CountedTree&& o) noexcept {
    if (this != &o) {
      Clear();
      root_ = std::exchange(o.root_, nullptr);
      size_ = std::exchange(o.size_, 0);
      height_ = o.height_;
      bytes_ = o.bytes_;
      o.height_ = 0;
      o.bytes_ = 0;
    }
    return *this;
  }
  ~CountedTree() { Clear(); }

  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Levels of inner nodes above the leaves (0: the root is a leaf).
  uint32_t height() const { return height_; }
  // Bytes allocated for nodes, plus the object itself.
  uint64_t MemoryBytes() const { return bytes_ + sizeof(*this); }

  // REQUIRES: i < size().
  Entry At(uint64_t i) const;
  void Set(uint64_t i, const Entry& e);
  // Set(i, e) if `expect(At(i))` holds, with one descent; returns whether
  // it did.
  template <typename Expect>
  bool SetIf(uint64_t i, const Expect& expect, const Entry& e);
  // REQUIRES: i <= size().
  void Insert(uint64_t i, const Entry& e);
  void PushBack(const Entry& e) { Insert(size_, e); }
  void PushFront(const Entry& e) { Insert(0, e); }
  // Removes and returns entry i. REQUIRES: i < size().
  Entry Erase(uint64_t i);
  // Removes entries [from, to) in O(log n) per leaf touched plus the moves.
  // REQUIRES: from <= to <= size().
  void EraseRange(uint64_t from, uint64_t to);
  void Clear();

  // The number of leading entries e with less(e) true. REQUIRES: the
  // entries are partitioned by `less` (all true, then all false).
  template <typename Less>
  uint64_t PartitionPoint(const Less& less) const;
  // PartitionPoint(less), then Forward(point, to, fn) from the leaf the
  // search ended in, without descending again. Returns the point.
  template <typename Less, typename Fn>
  uint64_t SearchForward(const Less& less, uint64_t to, Fn&& fn) const;

  // Calls fn(position, entry) for positions [from, to) in ascending order
  // (Forward) or descending order (Reverse, from to - 1 down to from) until
  // fn returns false. Returns false iff fn stopped the walk.
  template <typename Fn>
  bool Forward(uint64_t from, uint64_t to, Fn&& fn) const;
  template <typename Fn>
  bool Reverse(uint64_t from, uint64_t to, Fn&& fn) const;
  // Forward over [from, to) that may change entries in place: fn(position,
  // Entry* e) edits *e or not and returns whether it did; each change is
  // stored as Set would store it, without a descent per change. Stops at
  // `to` only.
  template <typename Fn>
  void Update(uint64_t from, uint64_t to, Fn&& fn);

  // Replaces the contents with n entries, entry_at(0 .. n-1), in O(n):
  // recovery's bulk build from sorted entries.
  template <typename EntryAt>
  void Assign(uint64_t n, EntryAt&& entry_at);

  // Whether every inner node's copy of each kid's first entry matches
  // that entry (tests: the invariant PartitionPoint relies on).
  bool TEST_FirstsAgree() const {
    return root_ == nullptr || FirstsAgree(root_, height_);
  }

 private:
  // 8-byte header: kLeafMax fits 16 bits.
  struct Leaf {
    uint16_t n;     // entries
    uint16_t cap;   // entry slots
    uint16_t head;  // slot of entry 0; entries fill [head, head + n)
    uint16_t pad;
    char* data() { return reinterpret_cast<char*>(this + 1); }
    const char* data() const { return reinterpret_cast<const char*>(this + 1); }
    char* slot(uint32_t i) { return data() + size_t{head + i} * kEntryBytes; }
    const char* slot(uint32_t i) const {
      return data() + size_t{head + i} * kEntryBytes;
    }
  };
  struct Inner {
    uint32_t n;  // children
    uint64_t counts[kFanout];
    void* kids[kFanout];
    // Each kid's first entry, packed: PartitionPoint compares these
    // instead of walking down to every probed kid's first leaf.
    char firsts[kFanout * kEntryBytes];
    char* first(uint32_t c) { return firsts + size_t{c} * kEntryBytes; }
    const char* first(uint32_t c) const {
      return firsts + size_t{c} * kEntryBytes;
    }
  };
  struct Split {
    void* right = nullptr;  // new right sibling, if the node split
    uint64_t right_count = 0;
  };
  static constexpr int kMaxHeight = 16;  // 32^16 leaves: never reached
  struct Path {
    const Inner* node[kMaxHeight];
    uint32_t idx[kMaxHeight];
    const Leaf* leaf;
    uint32_t off;
  };

  static size_t LeafSize(uint32_t cap) {
    return sizeof(Leaf) + size_t{cap} * kEntryBytes;
  }
  Leaf* NewLeaf(uint32_t cap);
  void FreeLeaf(Leaf* l) {
    bytes_ -= LeafSize(l->cap);
    ::operator delete(l);
  }
  Inner* NewInner();
  void FreeInner(Inner* in) {
    bytes_ -= sizeof(Inner);
    ::operator delete(in);
  }
  void FreeSubtree(void* node, uint32_t h);
  // Moves `l` into a leaf of `cap` slots with `front` free slots first.
  Leaf* Reshape(Leaf* l, uint32_t cap, uint32_t front);
  static uint64_t NodeCount(const void* node, uint32_t h);
  // The kid of `in` (holding `total` entries) that position *i falls in,
  // *i made relative to it. A position on the boundary of two kids goes to
  // the right one's start, or with `insert` to the left one's end. Scans
  // from the nearer end of `in`: the back costs what the front does.
  static uint32_t KidAt(const Inner* in, uint64_t total, uint64_t* i,
                        bool insert);

  // Seeks position i (i < size_, or i == size_ for the end) into *p.
  void Seek(uint64_t i, Path* p) const;
  // PartitionPoint's search, leaving in *p the leaf and offset it ends at
  // (the offset may equal the leaf's size). REQUIRES: root_ != nullptr.
  template <typename Less>
  uint64_t Search(const Less& less, Path* p) const;
  // Forward's walk from *p, at position pos, up to to.
  template <typename Fn>
  bool WalkForward(Path* p, uint64_t pos, uint64_t to, Fn&& fn) const;
  // The leaf *p is in now starts with e: the copy in each ancestor whose
  // kid it starts.
  void StoreFirst(const Path& p, const Entry& e);
  // Moves *p to the first entry of the next (prev) leaf; false at the end.
  bool NextLeaf(Path* p) const;
  bool PrevLeaf(Path* p) const;
  // The first entry's bytes of a non-empty node of height h.
  static const char* FirstOf(const void* node, uint32_t h) {
    return h == 0 ? static_cast<const Leaf*>(node)->slot(0)
                  : static_cast<const Inner*>(node)->first(0);
  }
  // Copies kid c's first entry (the kid of height h) into in->first(c).
  static void CopyFirst(Inner* in, uint32_t c, uint32_t h) {
    std::memcpy(in->first(c), FirstOf(in->kids[c], h), kEntryBytes);
  }
  bool FirstsAgree(const void* node, uint32_t h) const;

  void PlaceIn(Leaf* l, uint32_t pos, const Entry& e);
  Split LeafInsert(void** node, uint32_t pos, const Entry& e);
  Split SplitLeaf(Leaf** lp, uint32_t pos, const Entry& e);
  // `total`: the entries under *node.
  Split InsertRec(void** node, uint32_t h, uint64_t total, uint64_t pos,
                  const Entry& e);
  // `h`: the kid's height.
  static void InsertKid(Inner* in, uint32_t at, void* kid, uint64_t count,
                        uint32_t h);
  static void RemoveKid(Inner* in, uint32_t at);
  Split SplitInner(Inner* in, uint32_t at, const Split& s, uint32_t h);
  // Erases k entries at pos, all inside one leaf. Returns entry `pos`.
  Entry EraseRec(void** node, uint32_t h, uint64_t total, uint64_t pos,
                 uint32_t k);
  void RemoveFromLeaf(Leaf** l, uint32_t pos, uint32_t k);
  void FixChild(Inner* in, uint32_t c, uint32_t h);
  bool MergeLeaves(Inner* in, uint32_t left);
  bool MergeInners(Inner* in, uint32_t left);
  void CollapseRoot();

  // 24 bytes: every collection has one (or two), so the fields pack.
  void* root_ = nullptr;
  uint64_t size_ = 0;
  uint64_t bytes_ : 58 = 0;
  uint64_t height_ : 6 = 0;
};


}  // namespace daxkv::engine::coll

#include "engine/coll_tree_impl.h"       // IWYU pragma: export
#include "engine/coll_tree_read_impl.h"  // IWYU pragma: export

#endif  // DAXKV_ENGINE_COLL_TREE_H_
