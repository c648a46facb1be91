// Template definitions of CountedTree (engine/coll_tree.h, which includes
// this file; include that one): allocation, inserting, erasing and the
// bulk build. The reads, searches, walks and in-place updates are in
// coll_tree_read_impl.h.
#ifndef DAXKV_ENGINE_COLL_TREE_IMPL_H_
#define DAXKV_ENGINE_COLL_TREE_IMPL_H_

#include <new>
#include <vector>

namespace daxkv::engine::coll {

#define DAXKV_TREE template <typename C>
#define DAXKV_TREE_T CountedTree<C>

DAXKV_TREE typename DAXKV_TREE_T::Leaf* DAXKV_TREE_T::NewLeaf(uint32_t cap) {
  auto* l = static_cast<Leaf*>(::operator new(LeafSize(cap)));
  *l = Leaf{0, static_cast<uint16_t>(cap), 0, 0};
  bytes_ += LeafSize(cap);
  return l;
}

DAXKV_TREE typename DAXKV_TREE_T::Inner* DAXKV_TREE_T::NewInner() {
  auto* in = static_cast<Inner*>(::operator new(sizeof(Inner)));
  in->n = 0;
  bytes_ += sizeof(Inner);
  return in;
}

DAXKV_TREE void DAXKV_TREE_T::FreeSubtree(void* node, uint32_t h) {
  if (node == nullptr) return;
  if (h == 0) return FreeLeaf(static_cast<Leaf*>(node));
  auto* in = static_cast<Inner*>(node);
  for (uint32_t c = 0; c < in->n; ++c) FreeSubtree(in->kids[c], h - 1);
  FreeInner(in);
}

DAXKV_TREE void DAXKV_TREE_T::Clear() {
  FreeSubtree(root_, height_);
  root_ = nullptr;
  height_ = 0;
  size_ = 0;
}

DAXKV_TREE typename DAXKV_TREE_T::Leaf* DAXKV_TREE_T::Reshape(Leaf* l,
                                                              uint32_t cap,
                                                              uint32_t front) {
  Leaf* r = NewLeaf(cap);
  r->head = front;
  r->n = l->n;
  std::memcpy(r->slot(0), l->slot(0), size_t{l->n} * kEntryBytes);
  FreeLeaf(l);
  return r;
}

DAXKV_TREE uint64_t DAXKV_TREE_T::NodeCount(const void* node, uint32_t h) {
  if (h == 0) return static_cast<const Leaf*>(node)->n;
  const auto* in = static_cast<const Inner*>(node);
  uint64_t n = 0;
  for (uint32_t c = 0; c < in->n; ++c) n += in->counts[c];
  return n;
}

// --- inserting -------------------------------------------------------------

DAXKV_TREE void DAXKV_TREE_T::PlaceIn(Leaf* l, uint32_t pos, const Entry& e) {
  char* d = l->data();
  const size_t b = kEntryBytes;
  if (l->n > 0) {
    const bool front = pos * 2 <= l->n;
    // No room on the side to shift: recentre (at least 1/16 of the leaf is
    // free when LeafInsert() lets us here, so this is amortized O(1)).
    if (front && l->head == 0) {
      const uint32_t shift = (l->cap - l->n + 1) / 2;
      std::memmove(d + shift * b, d, l->n * b);
      l->head = shift;
    } else if (!front && l->head + l->n == l->cap) {
      const uint32_t shift = (l->head + 1) / 2;
      std::memmove(d + (l->head - shift) * b, d + l->head * b, l->n * b);
      l->head -= shift;
    }
    if (front) {
      std::memmove(d + (l->head - 1) * b, d + l->head * b, pos * b);
      --l->head;
    } else {
      std::memmove(d + (l->head + pos + 1) * b, d + (l->head + pos) * b,
                   (l->n - pos) * b);
    }
  }
  C::Store(l->slot(pos), e);
  ++l->n;
}

DAXKV_TREE typename DAXKV_TREE_T::Split DAXKV_TREE_T::LeafInsert(
    void** node, uint32_t pos, const Entry& e) {
  Leaf* l = static_cast<Leaf*>(*node);
  const uint32_t free = l->cap - l->n;
  const bool side_room =
      pos * 2 <= l->n ? l->head > 0 : l->head + l->n < l->cap;
  if (free > 0 && (side_room || free * 8 >= l->cap)) {
    PlaceIn(l, pos, e);
    return {};
  }
  if (l->cap < kLeafMax) {
    // Small steps: a small collection's leaf is its whole DRAM cost.
    const uint32_t cap =
        std::min<uint32_t>(kLeafMax, l->cap + std::max<uint32_t>(4, l->cap / 8));
    const uint32_t slack = cap - l->n;
    // All the new room on the side that grows (ends), else half each.
    const uint32_t front = pos == 0 ? slack : pos >= l->n ? 0 : slack / 2;
    *node = l = Reshape(l, cap, front);
    PlaceIn(l, pos, e);
    return {};
  }
  return SplitLeaf(reinterpret_cast<Leaf**>(node), pos, e);
}

DAXKV_TREE typename DAXKV_TREE_T::Split DAXKV_TREE_T::SplitLeaf(
    Leaf** lp, uint32_t pos, const Entry& e) {
  Leaf* l = *lp;
  const uint32_t n = l->n;
  if (pos == n) {  // append to a full last leaf: start the next one
    Leaf* r = NewLeaf(16);
    PlaceIn(r, 0, e);
    return {r, 1};
  }
  if (pos == 0) {  // prepend: this leaf keeps only e, room ahead of it
    Leaf* r = NewLeaf(n);
    std::memcpy(r->slot(0), l->slot(0), size_t{n} * kEntryBytes);
    r->n = n;
    l->n = 0;
    l->head = l->cap - 1;
    PlaceIn(l, 0, e);
    return {r, n};
  }
  const uint32_t keep = n / 2, moved = n - keep;
  Leaf* r = NewLeaf(moved + moved / 4 + 1);
  std::memcpy(r->slot(0), l->slot(keep), size_t{moved} * kEntryBytes);
  r->n = moved;
  l->n = keep;
  const uint32_t cap = keep + keep / 4 + 1;
  *lp = l = Reshape(l, cap, (cap - keep) / 2);
  if (pos <= keep) {
    PlaceIn(l, pos, e);
  } else {
    PlaceIn(r, pos - keep, e);
  }
  return {r, r->n};
}

DAXKV_TREE void DAXKV_TREE_T::InsertKid(Inner* in, uint32_t at, void* kid,
                                        uint64_t count, uint32_t h) {
  for (uint32_t c = in->n; c > at; --c) {
    in->kids[c] = in->kids[c - 1];
    in->counts[c] = in->counts[c - 1];
  }
  std::memmove(in->first(at + 1), in->first(at),
               size_t{in->n - at} * kEntryBytes);
  in->kids[at] = kid;
  in->counts[at] = count;
  ++in->n;
  CopyFirst(in, at, h);
}

DAXKV_TREE void DAXKV_TREE_T::RemoveKid(Inner* in, uint32_t at) {
  for (uint32_t c = at; c + 1 < in->n; ++c) {
    in->kids[c] = in->kids[c + 1];
    in->counts[c] = in->counts[c + 1];
  }
  std::memmove(in->first(at), in->first(at + 1),
               size_t{in->n - at - 1} * kEntryBytes);
  --in->n;
}

DAXKV_TREE typename DAXKV_TREE_T::Split DAXKV_TREE_T::SplitInner(Inner* in,
                                                                 uint32_t at,
                                                                 const Split& s,
                                                                 uint32_t h) {
  Inner* r = NewInner();
  const uint32_t keep = kFanout / 2;
  r->n = in->n - keep;
  for (uint32_t c = 0; c < r->n; ++c) {
    r->kids[c] = in->kids[keep + c];
    r->counts[c] = in->counts[keep + c];
  }
  std::memcpy(r->first(0), in->first(keep), size_t{r->n} * kEntryBytes);
  in->n = keep;
  if (at <= keep) {
    InsertKid(in, at, s.right, s.right_count, h);
  } else {
    InsertKid(r, at - keep, s.right, s.right_count, h);
  }
  return {r, NodeCount(r, 1)};
}

DAXKV_TREE typename DAXKV_TREE_T::Split DAXKV_TREE_T::InsertRec(
    void** node, uint32_t h, uint64_t total, uint64_t pos, const Entry& e) {
  if (h == 0) return LeafInsert(node, static_cast<uint32_t>(pos), e);
  auto* in = static_cast<Inner*>(*node);
  const uint32_t c = KidAt(in, total, &pos, true);
  Split s = InsertRec(&in->kids[c], h - 1, in->counts[c], pos, e);
  in->counts[c] += 1;
  if (pos == 0) CopyFirst(in, c, h - 1);  // e went first in kid c
  if (s.right == nullptr) return {};
  // Kid c kept the entries before the split point: its first moved only if
  // e went first (above).
  in->counts[c] -= s.right_count;
  if (in->n < kFanout) {
    InsertKid(in, c + 1, s.right, s.right_count, h - 1);
    return {};
  }
  return SplitInner(in, c + 1, s, h - 1);
}

DAXKV_TREE void DAXKV_TREE_T::Insert(uint64_t i, const Entry& e) {
  if (root_ == nullptr) {
    root_ = NewLeaf(4);
    height_ = 0;
  }
  Split s = InsertRec(&root_, height_, size_, i, e);
  ++size_;
  if (s.right == nullptr) return;
  Inner* in = NewInner();
  InsertKid(in, 0, root_, size_ - s.right_count, height_);
  InsertKid(in, 1, s.right, s.right_count, height_);
  root_ = in;
  ++height_;
}

// --- erasing ---------------------------------------------------------------

DAXKV_TREE void DAXKV_TREE_T::RemoveFromLeaf(Leaf** lp, uint32_t pos,
                                             uint32_t k) {
  Leaf* l = *lp;
  char* d = l->data();
  const size_t b = kEntryBytes;
  const uint32_t after = l->n - pos - k;
  if (pos < after) {  // shift the front part right
    std::memmove(d + (l->head + k) * b, d + l->head * b, pos * b);
    l->head += k;
  } else {
    std::memmove(d + (l->head + pos) * b, d + (l->head + pos + k) * b,
                 after * b);
  }
  l->n -= k;
  if (l->cap > 16 && l->n < l->cap / 4) {
    const uint32_t cap = std::max<uint32_t>(8, l->n + l->n / 4 + 2);
    *lp = Reshape(l, cap, (cap - l->n) / 2);
  }
}

DAXKV_TREE bool DAXKV_TREE_T::MergeLeaves(Inner* in, uint32_t left) {
  Leaf* a = static_cast<Leaf*>(in->kids[left]);
  Leaf* b = static_cast<Leaf*>(in->kids[left + 1]);
  const uint32_t n = a->n + b->n;
  if (n > kLeafMax * 3 / 4) return false;
  a = Reshape(a, std::min(kLeafMax, n + n / 4 + 1), 0);
  std::memcpy(a->slot(a->n), b->slot(0), size_t{b->n} * kEntryBytes);
  a->n = n;
  FreeLeaf(b);
  in->kids[left] = a;
  in->counts[left] += in->counts[left + 1];
  RemoveKid(in, left + 1);
  return true;
}

DAXKV_TREE bool DAXKV_TREE_T::MergeInners(Inner* in, uint32_t left) {
  auto* a = static_cast<Inner*>(in->kids[left]);
  auto* b = static_cast<Inner*>(in->kids[left + 1]);
  if (a->n + b->n > kFanout * 3 / 4) return false;
  for (uint32_t c = 0; c < b->n; ++c) {
    a->kids[a->n + c] = b->kids[c];
    a->counts[a->n + c] = b->counts[c];
  }
  std::memcpy(a->first(a->n), b->first(0), size_t{b->n} * kEntryBytes);
  a->n += b->n;
  FreeInner(b);
  in->counts[left] += in->counts[left + 1];
  RemoveKid(in, left + 1);
  return true;
}

DAXKV_TREE void DAXKV_TREE_T::FixChild(Inner* in, uint32_t c, uint32_t h) {
  if (in->counts[c] == 0) {
    FreeSubtree(in->kids[c], h);
    RemoveKid(in, c);
    return;
  }
  const bool small =
      h == 0 ? static_cast<Leaf*>(in->kids[c])->n < kLeafMax / 4
             : static_cast<Inner*>(in->kids[c])->n < kFanout / 4;
  if (!small) return;
  auto merge = [&](uint32_t left) {
    return h == 0 ? MergeLeaves(in, left) : MergeInners(in, left);
  };
  if (c + 1 < in->n && merge(c)) return;
  if (c > 0) merge(c - 1);
}

DAXKV_TREE typename DAXKV_TREE_T::Entry DAXKV_TREE_T::EraseRec(
    void** node, uint32_t h, uint64_t total, uint64_t pos, uint32_t k) {
  if (h == 0) {
    auto** lp = reinterpret_cast<Leaf**>(node);
    const auto off = static_cast<uint32_t>(pos);
    Entry e = C::Load((*lp)->slot(off));
    RemoveFromLeaf(lp, off, k);
    return e;
  }
  auto* in = static_cast<Inner*>(*node);
  const uint32_t c = KidAt(in, total, &pos, false);
  Entry e = EraseRec(&in->kids[c], h - 1, in->counts[c], pos, k);
  in->counts[c] -= k;
  // Kid c's first entry went (and merges below keep each kid's first).
  if (pos == 0 && in->counts[c] > 0) CopyFirst(in, c, h - 1);
  FixChild(in, c, h - 1);
  return e;
}

DAXKV_TREE void DAXKV_TREE_T::CollapseRoot() {
  while (height_ > 0 && static_cast<Inner*>(root_)->n <= 1) {
    auto* in = static_cast<Inner*>(root_);
    root_ = in->n == 1 ? in->kids[0] : nullptr;
    FreeInner(in);
    height_ = root_ == nullptr ? 0 : height_ - 1;
  }
  if (height_ == 0 && root_ != nullptr && static_cast<Leaf*>(root_)->n == 0) {
    FreeLeaf(static_cast<Leaf*>(root_));
    root_ = nullptr;
  }
}

DAXKV_TREE typename DAXKV_TREE_T::Entry DAXKV_TREE_T::Erase(uint64_t i) {
  Entry e = EraseRec(&root_, height_, size_, i, 1);
  --size_;
  CollapseRoot();
  return e;
}

DAXKV_TREE void DAXKV_TREE_T::EraseRange(uint64_t from, uint64_t to) {
  while (from < to) {
    Path p;
    Seek(from, &p);
    const auto k = static_cast<uint32_t>(
        std::min<uint64_t>(to - from, p.leaf->n - p.off));
    EraseRec(&root_, height_, size_, from, k);
    size_ -= k;
    to -= k;
    CollapseRoot();
  }
}

// --- bulk build ------------------------------------------------------------

DAXKV_TREE template <typename EntryAt>
void DAXKV_TREE_T::Assign(uint64_t n, EntryAt&& entry_at) {
  Clear();
  if (n == 0) return;
  std::vector<void*> level;
  std::vector<uint64_t> counts;
  const uint64_t leaves = (n + kLeafMax - 1) / kLeafMax;
  for (uint64_t k = 0, at = 0; k < leaves; ++k) {
    const auto m = static_cast<uint32_t>(n / leaves + (k < n % leaves));
    Leaf* l = NewLeaf(m);
    for (uint32_t j = 0; j < m; ++j) C::Store(l->slot(j), entry_at(at++));
    l->n = m;
    level.push_back(l);
    counts.push_back(m);
  }
  uint32_t h = 0;
  while (level.size() > 1) {
    const uint64_t groups = (level.size() + kFanout - 1) / kFanout;
    std::vector<void*> up;
    std::vector<uint64_t> up_counts;
    for (uint64_t g = 0, at = 0; g < groups; ++g) {
      const uint64_t m =
          level.size() / groups + (g < level.size() % groups ? 1 : 0);
      Inner* in = NewInner();
      for (uint64_t j = 0; j < m; ++j, ++at) {
        InsertKid(in, in->n, level[at], counts[at], h);
      }
      up.push_back(in);
      up_counts.push_back(NodeCount(in, 1));
    }
    level.swap(up);
    counts.swap(up_counts);
    ++h;
  }
  root_ = level[0];
  height_ = h;
  size_ = n;
}

#undef DAXKV_TREE
#undef DAXKV_TREE_T

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_TREE_IMPL_H_
