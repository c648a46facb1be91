// Template definitions of CountedTree's positional reads, searches, walks
// and in-place updates (engine/coll_tree.h, which includes this file;
// include that one).
#ifndef DAXKV_ENGINE_COLL_TREE_READ_IMPL_H_
#define DAXKV_ENGINE_COLL_TREE_READ_IMPL_H_

#include <algorithm>
#include <cstdint>

namespace daxkv::engine::coll {

#define DAXKV_TREE template <typename C>
#define DAXKV_TREE_T CountedTree<C>

DAXKV_TREE uint32_t DAXKV_TREE_T::KidAt(const Inner* in, uint64_t total,
                                        uint64_t* i, bool insert) {
  uint64_t pos = *i;
  uint32_t c = 0;
  if (pos <= total / 2) {
    // Past kid c while pos lies beyond it (or on its end, unless inserting).
    while (c + 1 < in->n && pos >= in->counts[c] + (insert ? 1 : 0)) {
      pos -= in->counts[c++];
    }
    *i = pos;
    return c;
  }
  // From the back: `left` entries from pos to the end, `s` the entries of
  // kids c .. n-1; kid c - 1 holds pos while left > s (left >= s inserting).
  const uint64_t left = total - pos;
  c = in->n - 1;
  uint64_t s = in->counts[c];
  while (c > 0 && left + (insert ? 1 : 0) > s) s += in->counts[--c];
  *i = s - left;
  return c;
}

DAXKV_TREE void DAXKV_TREE_T::Seek(uint64_t i, Path* p) const {
  const void* node = root_;
  uint64_t total = size_;
  for (uint32_t d = 0; d < height_; ++d) {
    const auto* in = static_cast<const Inner*>(node);
    const uint32_t c = KidAt(in, total, &i, false);
    total = in->counts[c];
    p->node[d] = in;
    p->idx[d] = c;
    node = in->kids[c];
  }
  p->leaf = static_cast<const Leaf*>(node);
  p->off = static_cast<uint32_t>(i);
}

DAXKV_TREE bool DAXKV_TREE_T::FirstsAgree(const void* node, uint32_t h) const {
  if (h == 0) return true;
  const auto* in = static_cast<const Inner*>(node);
  for (uint32_t c = 0; c < in->n; ++c) {
    const void* kid = in->kids[c];
    if (in->counts[c] == 0 || NodeCount(kid, h - 1) != in->counts[c] ||
        std::memcmp(in->first(c), FirstOf(kid, h - 1), kEntryBytes) != 0 ||
        !FirstsAgree(kid, h - 1)) {
      return false;
    }
  }
  return true;
}

DAXKV_TREE bool DAXKV_TREE_T::NextLeaf(Path* p) const {
  for (int d = static_cast<int>(height_) - 1; d >= 0; --d) {
    if (p->idx[d] + 1 >= p->node[d]->n) continue;
    const void* node = p->node[d]->kids[++p->idx[d]];
    for (uint32_t e = d + 1; e < height_; ++e) {
      p->node[e] = static_cast<const Inner*>(node);
      p->idx[e] = 0;
      node = p->node[e]->kids[0];
    }
    p->leaf = static_cast<const Leaf*>(node);
    p->off = 0;
    return true;
  }
  return false;
}

DAXKV_TREE bool DAXKV_TREE_T::PrevLeaf(Path* p) const {
  for (int d = static_cast<int>(height_) - 1; d >= 0; --d) {
    if (p->idx[d] == 0) continue;
    const void* node = p->node[d]->kids[--p->idx[d]];
    for (uint32_t e = d + 1; e < height_; ++e) {
      p->node[e] = static_cast<const Inner*>(node);
      p->idx[e] = p->node[e]->n - 1;
      node = p->node[e]->kids[p->idx[e]];
    }
    p->leaf = static_cast<const Leaf*>(node);
    p->off = p->leaf->n - 1;
    return true;
  }
  return false;
}

DAXKV_TREE typename DAXKV_TREE_T::Entry DAXKV_TREE_T::At(uint64_t i) const {
  Path p;
  Seek(i, &p);
  return C::Load(p.leaf->slot(p.off));
}

DAXKV_TREE void DAXKV_TREE_T::Set(uint64_t i, const Entry& e) {
  Path p;
  Seek(i, &p);
  C::Store(const_cast<Leaf*>(p.leaf)->slot(p.off), e);
  if (p.off == 0) StoreFirst(p, e);
}

DAXKV_TREE template <typename Expect>
bool DAXKV_TREE_T::SetIf(uint64_t i, const Expect& expect, const Entry& e) {
  Path p;
  Seek(i, &p);
  if (!expect(C::Load(p.leaf->slot(p.off)))) return false;
  C::Store(const_cast<Leaf*>(p.leaf)->slot(p.off), e);
  if (p.off == 0) StoreFirst(p, e);
  return true;
}

DAXKV_TREE void DAXKV_TREE_T::StoreFirst(const Path& p, const Entry& e) {
  for (int d = static_cast<int>(height_) - 1; d >= 0; --d) {
    C::Store(const_cast<Inner*>(p.node[d])->first(p.idx[d]), e);
    if (p.idx[d] != 0) break;
  }
}

namespace tree_internal {

// Asks for every cache line of [p, p + n) at once: a bisection's probes
// then wait for one memory round trip instead of one per probe.
inline void PrefetchBytes(const char* p, size_t n) {
  for (size_t o = 0; o < n; o += 64) __builtin_prefetch(p + o);
  if (n != 0) __builtin_prefetch(p + n - 1);
}

// The first i in [lo, hi) with before(i) false (hi if none), where before
// is true then false over the range.
template <typename Before>
uint32_t Bisect(uint32_t lo, uint32_t hi, const Before& before) {
  while (lo < hi) {
    const uint32_t mid = (lo + hi) / 2;
    if (before(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace tree_internal

DAXKV_TREE template <typename Less>
uint64_t DAXKV_TREE_T::Search(const Less& less, Path* p) const {
  const void* node = root_;
  uint64_t base = 0;
  for (uint32_t d = 0; d < height_; ++d) {
    const auto* in = static_cast<const Inner*>(node);
    tree_internal::PrefetchBytes(in->first(0), size_t{in->n} * kEntryBytes);
    tree_internal::PrefetchBytes(reinterpret_cast<const char*>(in->counts),
                                 in->n * sizeof(uint64_t));
    // The first child whose first entry is not `less`; the point lies in
    // the child before it.
    const uint32_t lo = tree_internal::Bisect(
        1, in->n, [&](uint32_t c) { return less(C::Load(in->first(c))); });
    for (uint32_t c = 0; c + 1 < lo; ++c) base += in->counts[c];
    p->node[d] = in;
    p->idx[d] = lo - 1;
    node = in->kids[lo - 1];
  }
  const auto* l = static_cast<const Leaf*>(node);
  tree_internal::PrefetchBytes(l->slot(0), size_t{l->n} * kEntryBytes);
  const uint32_t lo = tree_internal::Bisect(
      0, l->n, [&](uint32_t i) { return less(C::Load(l->slot(i))); });
  p->leaf = l;
  p->off = lo;
  return base + lo;
}

DAXKV_TREE template <typename Less>
uint64_t DAXKV_TREE_T::PartitionPoint(const Less& less) const {
  if (root_ == nullptr) return 0;
  Path p;
  return Search(less, &p);
}

DAXKV_TREE template <typename Less, typename Fn>
uint64_t DAXKV_TREE_T::SearchForward(const Less& less, uint64_t to,
                                     Fn&& fn) const {
  if (root_ == nullptr) return 0;
  Path p;
  const uint64_t point = Search(less, &p);
  // A point past the leaf's last entry walks on from the next leaf's first.
  if (point < to) WalkForward(&p, point, std::min(to, size_), fn);
  return point;
}

DAXKV_TREE template <typename Fn>
bool DAXKV_TREE_T::Forward(uint64_t from, uint64_t to, Fn&& fn) const {
  to = std::min(to, size_);
  if (from >= to) return true;
  Path p;
  Seek(from, &p);
  return WalkForward(&p, from, to, fn);
}

DAXKV_TREE template <typename Fn>
bool DAXKV_TREE_T::WalkForward(Path* p, uint64_t pos, uint64_t to,
                               Fn&& fn) const {
  for (;;) {
    for (uint32_t o = p->off; o < p->leaf->n; ++o) {
      if (pos >= to) return true;
      if (!fn(pos++, C::Load(p->leaf->slot(o)))) return false;
    }
    if (pos >= to || !NextLeaf(p)) return true;
  }
}

DAXKV_TREE template <typename Fn>
void DAXKV_TREE_T::Update(uint64_t from, uint64_t to, Fn&& fn) {
  to = std::min(to, size_);
  if (from >= to) return;
  Path p;
  Seek(from, &p);
  for (uint64_t pos = from;;) {
    auto* leaf = const_cast<Leaf*>(p.leaf);
    for (uint32_t o = p.off; o < leaf->n; ++o) {
      if (pos >= to) return;
      Entry e = C::Load(leaf->slot(o));
      if (!fn(pos++, &e)) continue;
      C::Store(leaf->slot(o), e);
      if (o == 0) StoreFirst(p, e);
    }
    if (pos >= to || !NextLeaf(&p)) return;
  }
}

DAXKV_TREE template <typename Fn>
bool DAXKV_TREE_T::Reverse(uint64_t from, uint64_t to, Fn&& fn) const {
  to = std::min(to, size_);
  if (from >= to) return true;
  Path p;
  Seek(to - 1, &p);
  for (uint64_t pos = to;;) {
    for (int64_t o = p.off; o >= 0; --o) {
      if (pos <= from) return true;
      if (!fn(--pos, C::Load(p.leaf->slot(static_cast<uint32_t>(o))))) {
        return false;
      }
    }
    if (pos <= from || !PrevLeaf(&p)) return true;
  }
}

#undef DAXKV_TREE
#undef DAXKV_TREE_T

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_TREE_READ_IMPL_H_
