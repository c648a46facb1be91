// ZsetIndex: a sorted set's DRAM index: members in (score, member) order
// with ranks, score ranges and lex ranges in O(log n + m), and member
// lookup. Member bytes stay on the medium; the index compares them through
// an ElemSource. See docs/collections.md, "Sorted sets".
//
// Two forms, as Redis has listpack and skiplist:
//   * compact (up to kCompactMax members): one CountedTree leaf of
//     (location, 8-bit member-hash tag) in order, 6 bytes per member.
//     Scores are read from the medium (binary search: ~7 reads); a member
//     is found by scanning the tags in DRAM and reading only tag matches.
//   * large: an ElemTable (member -> location) plus a CountedTree of
//     (score, location, member key), 21 bytes per member: score
//     comparisons stay in DRAM, and so do score ties between members whose
//     keys differ (MemberKeys: 8 bytes of the member past the part the
//     zset's members share); members are read only when score and key
//     tie. Leaderboards (ZINCRBY by small steps) hold thousands of members
//     per score: without the key each update read ~2 log2 of them from the
//     medium.
// A large zset never returns to compact (Redis's skiplist does not either),
// which keeps ZSCAN cursors valid across shrinking.
//
// Order: by score (IEEE doubles, -0 == +0, +-inf allowed, never NaN), then
// by member bytes (unsigned, a proper prefix first), as Redis orders.
//
// Thread-safety: none; the collection's lock serialises writers against
// readers. Const methods may run concurrently with each other.
#ifndef DAXKV_ENGINE_COLL_ZSET_H_
#define DAXKV_ENGINE_COLL_ZSET_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "engine/coll_elem_table.h"
#include "engine/coll_loc.h"
#include "engine/coll_member_keys.h"
#include "engine/coll_tree.h"

namespace daxkv::engine::coll {

struct TaggedLocCodec {
  struct Entry {
    uint64_t loc;
    uint8_t tag;  // low 8 bits of the member's hash
  };
  static constexpr size_t kBytes = kPackedLocBytes + 1;
  static Entry Load(const char* p) {
    return {LoadLoc(p), static_cast<uint8_t>(p[kPackedLocBytes])};
  }
  static void Store(char* p, const Entry& e) {
    StoreLoc(p, e.loc);
    p[kPackedLocBytes] = static_cast<char>(e.tag);
  }
};

struct ScoredLocCodec {
  struct Entry {
    double score;
    uint64_t loc;
    uint64_t member_key;  // the zset's MemberKeys::KeyOf(member)
  };
  static constexpr size_t kBytes = 8 + kPackedLocBytes + 8;
  static Entry Load(const char* p) {
    Entry e;
    std::memcpy(&e.score, p, 8);
    e.loc = LoadLoc(p + 8);
    std::memcpy(&e.member_key, p + 8 + kPackedLocBytes, 8);
    return e;
  }
  static void Store(char* p, const Entry& e) {
    std::memcpy(p, &e.score, 8);
    StoreLoc(p + 8, e.loc);
    std::memcpy(p + 8 + kPackedLocBytes, &e.member_key, 8);
  }
};

class ZsetIndex {
 public:
  static constexpr uint64_t kCompactMax = 128;
  // What recovery's bulk build takes per member, in (score, member) order.
  struct Member {
    uint64_t loc;
    double score;
    uint64_t hash;  // ElemSource::Hash(member)
  };

  uint64_t size() const;
  bool empty() const { return size() == 0; }
  bool compact() const { return large_ == nullptr; }
  // The large form's member table (Find's first step), for prefetching;
  // null when compact (one small leaf).
  const ElemTable* member_table() const {
    return large_ ? &large_->members : nullptr;
  }
  uint64_t MemoryBytes() const;

  // The member's location, or 0.
  uint64_t Find(const ElemSource& src, std::string_view member) const;
  // Adds an absent member whose element (at `loc`) has `score`; returns
  // its rank.
  uint64_t Insert(const ElemSource& src, std::string_view member, double score,
                  uint64_t loc);
  // Removes the member; returns its location (0: absent).
  uint64_t Erase(const ElemSource& src, std::string_view member);
  // ZADD's update of a present member: moves it from (`old_score`,
  // `old_loc`) to (`score`, `new_loc`) and returns its new rank. One
  // operation instead of Erase then Insert: the member table changes one
  // slot in place (no member read), and a rank that does not change is
  // one Set. REQUIRES: the member is indexed at `old_loc` with
  // `old_score`; `new_loc` holds (member, score).
  uint64_t Rescore(const ElemSource& src, std::string_view member,
                   double old_score, uint64_t old_loc, double score,
                   uint64_t new_loc);
  // The rank (0-based, ascending) of a present member with `score`.
  uint64_t RankOf(const ElemSource& src, std::string_view member,
                  double score) const;
  // The location at `rank`. REQUIRES: rank < size().
  uint64_t At(uint64_t rank) const;
  // The first rank whose score is >= score (after: > score).
  uint64_t ScoreBound(const ElemSource& src, double score, bool after) const;
  // The first rank whose member is >= member (after: >). Meaningful when
  // every score is equal: Redis leaves BYLEX unspecified otherwise.
  uint64_t LexBound(const ElemSource& src, std::string_view member,
                    bool after) const;
  // fn(rank, loc) -> bool over ranks [from, to), ascending or descending
  // (Reverse: from to - 1 down to from); false stops. Returns false iff
  // fn stopped the walk.
  template <typename Fn>
  bool Forward(uint64_t from, uint64_t to, Fn&& fn) const {
    return Walk<false>(from, to, fn);
  }
  template <typename Fn>
  bool Reverse(uint64_t from, uint64_t to, Fn&& fn) const {
    return Walk<true>(from, to, fn);
  }
  // Removes ranks [from, to) (ZREMRANGEBY*, ZPOPMIN/MAX): one member read
  // per removed member of a large zset.
  void EraseRanks(const ElemSource& src, uint64_t from, uint64_t to);
  // Moves a member from `old_loc` to `new_loc` if it is there now. `hint`:
  // a rank to try first (the one Insert returned), or ~0.
  bool Relocate(const ElemSource& src, std::string_view member, double score,
                uint64_t old_loc, uint64_t new_loc, uint64_t hint = ~0ull);
  // ZSCAN: compact zsets return everything at once (cursor 0, as Redis
  // does for listpacks); large ones scan their member table.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, size_t count, Fn&& fn) const;
  // Replaces the contents (recovery). REQUIRES: `members` sorted. A large
  // result reads every member from `src` for its key.
  void Assign(const ElemSource& src, const std::vector<Member>& members);
  // The clean-close snapshot's form (index_snapshot.h), the one a scan
  // would build: up to kCompactMax members, `packed` gets an
  // ElemTable::Pack(tag, loc) word per member in rank order (a large zset
  // that shrank reads its members from `src` for their tags); above it,
  // `order` gets the entries in rank order, `packed` the member table's
  // words and `common` the part the entries' member keys skip
  // (MemberKeys::common(); empty for a compact export).
  void Export(const ElemSource& src, std::vector<uint64_t>* packed,
              std::vector<ScoredLocCodec::Entry>* order,
              std::string_view* common) const;
  // Replaces the contents with what Export gave for `n` members (`order`
  // null: compact). REQUIRES: order ? n > kCompactMax : n <= kCompactMax;
  // common.size() <= MemberKeys::kMaxCommon.
  void Restore(uint64_t n, const uint64_t* packed,
               const ScoredLocCodec::Entry* order, std::string_view common);
  void Clear();

 private:
  using Compact = CountedTree<TaggedLocCodec>;
  using Order = CountedTree<ScoredLocCodec>;
  struct Large {
    ElemTable members;
    Order order;
    MemberKeys keys;  // the order entries' member keys
  };

  static uint8_t Tag(uint64_t hash) { return static_cast<uint8_t>(hash); }
  // The compact member's rank, or size() when absent.
  uint64_t CompactRank(const ElemSource& src, std::string_view member) const;
  // A large zset's rank of the member at `loc` with `score`: among the
  // first kLocScan entries of that score and member key, found by location,
  // which reads no member; past them, by OrderBound.
  static constexpr uint64_t kLocScan = 16;
  uint64_t LargeRankOf(const ElemSource& src, std::string_view member,
                       double score, uint64_t loc) const;
  // The first rank not ordered before (score, member); members are read
  // only on score and member key ties (large) or for every probe's score
  // (compact).
  uint64_t OrderBound(const ElemSource& src, double score,
                      std::string_view member) const;
  void ToLarge(const ElemSource& src);
  // Keeps every member inside its keys' common part: before a member that
  // does not start with it goes in, shrinks the part to what they share
  // and remakes every order entry's key from the old one (no member read;
  // at most kMaxCommon times in a zset's life).
  void Narrow(std::string_view member);
  template <bool kReverse, typename Fn>
  bool Walk(uint64_t from, uint64_t to, Fn&& fn) const;

  Compact compact_;
  std::unique_ptr<Large> large_;
};

template <bool kReverse, typename Fn>
bool ZsetIndex::Walk(uint64_t from, uint64_t to, Fn&& fn) const {
  auto walk = [&](const auto& tree) {
    auto entry_fn = [&](uint64_t r, const auto& e) { return fn(r, e.loc); };
    return kReverse ? tree.Reverse(from, to, entry_fn)
                    : tree.Forward(from, to, entry_fn);
  };
  return large_ ? walk(large_->order) : walk(compact_);
}

template <typename Fn>
uint64_t ZsetIndex::Scan(uint64_t cursor, size_t count, Fn&& fn) const {
  if (large_) return large_->members.Scan(cursor, count, fn);
  if (cursor == 0) Forward(0, size(), [&](uint64_t, uint64_t loc) {
    fn(loc);
    return true;
  });
  return 0;
}

}  // namespace daxkv::engine::coll

#endif  // DAXKV_ENGINE_COLL_ZSET_H_
