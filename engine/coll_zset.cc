#include "engine/coll_zset.h"

#include <algorithm>
#include <cassert>

namespace daxkv::engine::coll {

uint64_t ZsetIndex::size() const {
  return large_ ? large_->order.size() : compact_.size();
}

uint64_t ZsetIndex::MemoryBytes() const {
  uint64_t n = sizeof(*this) + compact_.MemoryBytes() - sizeof(compact_);
  if (large_) {
    n += sizeof(Large) - sizeof(ElemTable) - sizeof(Order) +
         large_->members.MemoryBytes() + large_->order.MemoryBytes();
  }
  return n;
}

uint64_t ZsetIndex::CompactRank(const ElemSource& src,
                                std::string_view member) const {
  const uint8_t tag = Tag(src.Hash(member));
  uint64_t rank = compact_.size();
  compact_.Forward(0, compact_.size(), [&](uint64_t r, const auto& e) {
    if (e.tag != tag || src.Subkey(e.loc) != member) return true;
    rank = r;
    return false;
  });
  return rank;
}

uint64_t ZsetIndex::Find(const ElemSource& src, std::string_view member) const {
  if (large_) return large_->members.Find(src, member);
  const uint64_t r = CompactRank(src, member);
  return r < compact_.size() ? compact_.At(r).loc : 0;
}

uint64_t ZsetIndex::OrderBound(const ElemSource& src, double score,
                               std::string_view member) const {
  if (large_) {
    const uint64_t key = large_->keys.KeyOf(member);
    return large_->order.PartitionPoint([&](const ScoredLocCodec::Entry& e) {
      if (e.score != score) return e.score < score;
      if (e.member_key != key) return e.member_key < key;
      return src.Subkey(e.loc) < member;
    });
  }
  return compact_.PartitionPoint([&](const TaggedLocCodec::Entry& e) {
    const double s = src.Score(e.loc);
    return s < score || (s == score && src.Subkey(e.loc) < member);
  });
}

void ZsetIndex::ToLarge(const ElemSource& src) {
  auto large = std::make_unique<Large>();
  const uint64_t n = compact_.size();
  large->members.Reserve(n);
  std::vector<std::string_view> members;
  std::vector<ScoredLocCodec::Entry> entries;
  members.reserve(n);
  entries.reserve(n);
  compact_.Forward(0, n, [&](uint64_t, const auto& e) {
    members.push_back(src.Subkey(e.loc));
    entries.push_back({src.Score(e.loc), e.loc, 0});
    large->members.InsertUnique(src.Hash(members.back()), e.loc);
    return true;
  });
  large->keys = MemberKeys::Of(members[0]);  // n: kCompactMax or more
  for (std::string_view m : members) large->keys = large->keys.NarrowedFor(m);
  for (uint64_t i = 0; i < n; ++i) {
    entries[i].member_key = large->keys.KeyOf(members[i]);
  }
  large->order.Assign(n, [&](uint64_t i) { return entries[i]; });
  compact_.Clear();
  large_ = std::move(large);
}

void ZsetIndex::Narrow(std::string_view member) {
  const MemberKeys wider = large_->keys;
  if (wider.Covers(member)) return;
  large_->keys = wider.NarrowedFor(member);
  large_->order.Update(
      0, large_->order.size(), [&](uint64_t, ScoredLocCodec::Entry* e) {
        e->member_key = large_->keys.KeyFromWider(e->member_key, wider);
        return true;
      });
}

uint64_t ZsetIndex::Insert(const ElemSource& src, std::string_view member,
                           double score, uint64_t loc) {
  if (!large_ && compact_.size() >= kCompactMax) ToLarge(src);
  if (large_) Narrow(member);
  const uint64_t rank = OrderBound(src, score, member);
  if (large_) {
    large_->order.Insert(rank, {score, loc, large_->keys.KeyOf(member)});
    large_->members.InsertUnique(src.Hash(member), loc);
  } else {
    compact_.Insert(rank, {loc, Tag(src.Hash(member))});
  }
  return rank;
}

uint64_t ZsetIndex::Erase(const ElemSource& src, std::string_view member) {
  if (!large_) {
    const uint64_t r = CompactRank(src, member);
    return r < compact_.size() ? compact_.Erase(r).loc : 0;
  }
  const uint64_t loc = large_->members.Erase(src, member);
  if (loc != 0) {
    large_->order.Erase(LargeRankOf(src, member, src.Score(loc), loc));
  }
  return loc;
}

uint64_t ZsetIndex::Rescore(const ElemSource& src, std::string_view member,
                            double old_score, uint64_t old_loc, double score,
                            uint64_t new_loc) {
  if (!large_) {
    compact_.Erase(CompactRank(src, member));
    const uint64_t rank = OrderBound(src, score, member);
    compact_.Insert(rank, {new_loc, Tag(src.Hash(member))});
    return rank;
  }
  const bool moved = large_->members.Relocate(src, member, old_loc, new_loc);
  assert(moved);
  (void)moved;
  Order& order = large_->order;
  const uint64_t from = LargeRankOf(src, member, old_score, old_loc);
  // The bound is taken with the old entry still in place: it orders before
  // (score, member) exactly when the member moves up, so the ranks `from`
  // and `from + 1` both mean "where it is now".
  const uint64_t to = OrderBound(src, score, member);
  const ScoredLocCodec::Entry entry{score, new_loc, large_->keys.KeyOf(member)};
  if (to == from || to == from + 1) {
    order.Set(from, entry);
    return from;
  }
  order.Erase(from);
  const uint64_t rank = to > from ? to - 1 : to;
  order.Insert(rank, entry);
  return rank;
}

uint64_t ZsetIndex::RankOf(const ElemSource& src, std::string_view member,
                           double score) const {
  return large_ ? OrderBound(src, score, member) : CompactRank(src, member);
}

uint64_t ZsetIndex::At(uint64_t rank) const {
  return large_ ? large_->order.At(rank).loc : compact_.At(rank).loc;
}

uint64_t ZsetIndex::ScoreBound(const ElemSource& src, double score,
                               bool after) const {
  auto before = [&](double s) { return after ? s <= score : s < score; };
  if (large_) {
    return large_->order.PartitionPoint(
        [&](const ScoredLocCodec::Entry& e) { return before(e.score); });
  }
  return compact_.PartitionPoint([&](const TaggedLocCodec::Entry& e) {
    return before(src.Score(e.loc));
  });
}

uint64_t ZsetIndex::LexBound(const ElemSource& src, std::string_view member,
                             bool after) const {
  auto before = [&](uint64_t loc) {
    const std::string_view m = src.Subkey(loc);
    return after ? m <= member : m < member;
  };
  if (large_) {
    const uint64_t key = large_->keys.KeyOf(member);
    return large_->order.PartitionPoint([&](const ScoredLocCodec::Entry& e) {
      return e.member_key != key ? e.member_key < key : before(e.loc);
    });
  }
  return compact_.PartitionPoint(
      [&](const TaggedLocCodec::Entry& e) { return before(e.loc); });
}

void ZsetIndex::EraseRanks(const ElemSource& src, uint64_t from, uint64_t to) {
  if (!large_) return compact_.EraseRange(from, to);
  large_->order.Forward(from, to, [&](uint64_t, const auto& e) {
    large_->members.EraseIndexed(src, src.Subkey(e.loc), e.loc);
    return true;
  });
  large_->order.EraseRange(from, to);
}

bool ZsetIndex::Relocate(const ElemSource& src, std::string_view member,
                         double score, uint64_t old_loc, uint64_t new_loc,
                         uint64_t hint) {
  if (!large_) {
    const uint64_t r =
        hint < compact_.size() && compact_.At(hint).loc == old_loc
            ? hint
            : CompactRank(src, member);
    if (r == compact_.size() || compact_.At(r).loc != old_loc) return false;
    compact_.Set(r, {new_loc, Tag(src.Hash(member))});
    return true;
  }
  if (!large_->members.Relocate(src, member, old_loc, new_loc)) return false;
  Order& order = large_->order;
  const ScoredLocCodec::Entry entry{score, new_loc, large_->keys.KeyOf(member)};
  auto at_old = [&](const ScoredLocCodec::Entry& e) {
    return e.loc == old_loc;
  };
  if (hint < order.size() && order.SetIf(hint, at_old, entry)) return true;
  order.Set(LargeRankOf(src, member, score, old_loc), entry);
  return true;
}

uint64_t ZsetIndex::LargeRankOf(const ElemSource& src, std::string_view member,
                                double score, uint64_t loc) const {
  const Order& order = large_->order;
  const uint64_t key = large_->keys.KeyOf(member);
  uint64_t rank = order.size();
  uint64_t scanned = 0;
  order.SearchForward(
      [&](const ScoredLocCodec::Entry& e) {
        return e.score != score ? e.score < score : e.member_key < key;
      },
      order.size(),
      [&](uint64_t r, const auto& e) {
        if (e.score != score || e.member_key != key) return false;
        if (e.loc != loc) return ++scanned < kLocScan;
        rank = r;
        return false;
      });
  return rank < order.size() ? rank : OrderBound(src, score, member);
}

void ZsetIndex::Assign(const ElemSource& src,
                       const std::vector<Member>& members) {
  Clear();
  const uint64_t n = members.size();
  if (n <= kCompactMax) {
    compact_.Assign(n, [&](uint64_t i) {
      return TaggedLocCodec::Entry{members[i].loc, Tag(members[i].hash)};
    });
    return;
  }
  large_ = std::make_unique<Large>();
  large_->members.Reserve(n);
  for (const Member& m : members) large_->members.InsertUnique(m.hash, m.loc);
  // One read per member: the keys made before the part shrinks are
  // remade from themselves (Narrow's rule).
  std::vector<ScoredLocCodec::Entry> entries(n);
  MemberKeys keys = MemberKeys::Of(src.Subkey(members[0].loc));
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view member = src.Subkey(members[i].loc);
    if (!keys.Covers(member)) {
      const MemberKeys wider = keys;
      keys = wider.NarrowedFor(member);
      for (uint64_t j = 0; j < i; ++j) {
        entries[j].member_key = keys.KeyFromWider(entries[j].member_key, wider);
      }
    }
    entries[i] = {members[i].score, members[i].loc, keys.KeyOf(member)};
  }
  large_->keys = keys;
  large_->order.Assign(n, [&](uint64_t i) { return entries[i]; });
}

void ZsetIndex::Export(const ElemSource& src, std::vector<uint64_t>* packed,
                       std::vector<ScoredLocCodec::Entry>* order,
                       std::string_view* common) const {
  const uint64_t n = size();
  *common = {};
  if (n > kCompactMax) {
    *common = large_->keys.common();
    large_->order.Forward(0, n, [&](uint64_t, const auto& e) {
      order->push_back(e);
      return true;
    });
    large_->members.ForEachPacked([&](uint64_t w) { packed->push_back(w); });
    return;
  }
  if (large_) {
    large_->order.Forward(0, n, [&](uint64_t, const auto& e) {
      packed->push_back(
          ElemTable::Pack(Tag(src.Hash(src.Subkey(e.loc))), e.loc));
      return true;
    });
    return;
  }
  compact_.Forward(0, n, [&](uint64_t, const auto& e) {
    packed->push_back(ElemTable::Pack(e.tag, e.loc));
    return true;
  });
}

void ZsetIndex::Restore(uint64_t n, const uint64_t* packed,
                        const ScoredLocCodec::Entry* order,
                        std::string_view common) {
  Clear();
  if (order == nullptr) {
    compact_.Assign(n, [&](uint64_t i) {
      return TaggedLocCodec::Entry{
          ElemTable::PackedLoc(packed[i]),
          static_cast<uint8_t>(ElemTable::PackedPos(packed[i]))};
    });
    return;
  }
  large_ = std::make_unique<Large>();
  large_->members.AssignPacked(packed, n);
  large_->keys = MemberKeys(common);
  large_->order.Assign(n, [&](uint64_t i) { return order[i]; });
}

void ZsetIndex::Clear() {
  compact_.Clear();
  large_.reset();
}

}  // namespace daxkv::engine::coll
