#include "engine/coll_reads.h"

#include <algorithm>
#include <unordered_set>
#include <utility>
#include <vector>

namespace daxkv::engine::coll_reads {

bool ClampIndex(int64_t index, uint64_t n, uint64_t* pos) {
  const int64_t size = static_cast<int64_t>(n);
  const int64_t i = index < 0 ? index + size : index;
  if (i < 0 || i >= size) return false;
  *pos = static_cast<uint64_t>(i);
  return true;
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

void ShuffleFirst(std::vector<int64_t>* v, uint64_t n) {
  n = std::min<uint64_t>(n, v->size());
  for (uint64_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<uint64_t> pick(i, v->size() - 1);
    std::swap((*v)[i], (*v)[pick(Rng())]);
  }
}

void PackedMembers(const Collection& c, const PoolSource& src,
                   std::vector<int64_t>* out) {
  out->clear();
  if (c.packed_set().loc != 0) {
    coll::PackedInts(src.Value(c.packed_set().loc)).Decode(out);
  }
}

namespace {

// RandomPairs over a packed set's members `ints`.
void RandomPacked(std::vector<int64_t> ints, int64_t count, const PairFn& fn) {
  if (count == 0 || ints.empty()) return;
  if (count < 0) {
    std::uniform_int_distribution<size_t> pick(0, ints.size() - 1);
    for (int64_t i = 0; i < -count; ++i) {
      if (!fn(coll::IntText(ints[pick(Rng())]), {})) return;
    }
    return;
  }
  const uint64_t n =
      std::min<uint64_t>(static_cast<uint64_t>(count), ints.size());
  ShuffleFirst(&ints, n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!fn(coll::IntText(ints[i]), {})) return;
  }
}

}  // namespace

uint64_t FindElem(const Collection& c, const PoolSource& src,
                  std::string_view subkey) {
  if (c.packed()) {
    const uint64_t loc = c.packed_set().loc;
    return loc != 0 && coll::PackedInts(src.Value(loc)).Contains(subkey) ? loc
                                                                         : 0;
  }
  return c.type == KeyType::kZset ? c.zset().Find(src, subkey)
                                  : c.table().Find(src, subkey);
}

bool ForEachPair(const Collection& c, const PoolSource& src, const PairFn& fn) {
  if (c.packed()) {
    std::vector<int64_t> ints;
    PackedMembers(c, src, &ints);
    for (const int64_t v : ints) {
      if (!fn(coll::IntText(v), {})) return false;
    }
    return true;
  }
  bool go = true;
  c.table().ForEach([&](uint64_t loc) {
    if (go) go = fn(src.Subkey(loc), src.Value(loc));
  });
  return go;
}

uint64_t ScanPairs(const Collection& c, const PoolSource& src, uint64_t cursor,
                   size_t count, const PairFn& fn) {
  if (c.packed()) {  // all at once, as Redis scans an intset
    ForEachPair(c, src, [&](std::string_view m, std::string_view v) {
      fn(m, v);
      return true;
    });
    return 0;
  }
  return c.table().Scan(cursor, count, [&](uint64_t loc) {
    fn(src.Subkey(loc), src.Value(loc));
  });
}

void RandomPairs(const Collection& c, const PoolSource& src, int64_t count,
                 const PairFn& fn) {
  if (c.packed()) {
    std::vector<int64_t> ints;
    PackedMembers(c, src, &ints);
    RandomPacked(std::move(ints), count, fn);
    return;
  }
  const coll::ElemTable& t = c.table();
  if (count == 0 || t.empty()) return;
  if (count > 0) {
    std::vector<uint64_t> locs;
    t.SampleDistinct(static_cast<uint64_t>(count), Rng(), &locs);
    std::shuffle(locs.begin(), locs.end(), Rng());
    for (uint64_t loc : locs) {
      if (!fn(src.Subkey(loc), src.Value(loc))) return;
    }
    return;
  }
  for (int64_t i = 0; i < -count; ++i) {
    const uint64_t loc = t.Sample(Rng());
    if (!fn(src.Subkey(loc), src.Value(loc))) return;
  }
}

Status ListGet(const Collection& c, const PoolSource& src, int64_t index,
               std::string* value) {
  uint64_t pos;
  if (!ClampIndex(index, c.list().size(), &pos)) {
    return NotFoundError("index out of range");
  }
  const std::string_view v = src.Value(c.list().At(pos));
  value->assign(v.data(), v.size());
  return OkStatus();
}

void ListRange(const Collection& c, const PoolSource& src, IndexRange range,
               const ElemFn& fn) {
  uint64_t from, to;
  if (!range.Clamp(c.list().size(), &from, &to)) return;
  c.list().tree().Forward(
      from, to, [&](uint64_t, uint64_t loc) { return fn(src.Value(loc)); });
}

void ListWalk(const Collection& c, const PoolSource& src, int64_t from,
              bool reverse, const IndexFn& fn) {
  uint64_t pos;
  if (!ClampIndex(from, c.list().size(), &pos)) return;
  auto visit = [&](uint64_t i, uint64_t loc) { return fn(i, src.Value(loc)); };
  if (reverse) {
    c.list().tree().Reverse(0, pos + 1, visit);
  } else {
    c.list().tree().Forward(pos, c.list().size(), visit);
  }
}

void ScoreRanks(const Collection& c, const PoolSource& src, const ScoreRange& r,
                uint64_t* from, uint64_t* to) {
  *from = c.zset().ScoreBound(src, r.min, r.min_exclusive);
  *to = std::max(*from, c.zset().ScoreBound(src, r.max, !r.max_exclusive));
}

namespace {

uint64_t LexRank(const Collection& c, const PoolSource& src, const LexBound& b,
                 bool is_max) REQUIRES_SHARED(c.mu) {
  switch (b.kind) {
    case LexBound::Kind::kMinusInf:
      return 0;
    case LexBound::Kind::kPlusInf:
      return c.zset().size();
    case LexBound::Kind::kInclusive:
      return c.zset().LexBound(src, b.value, is_max);
    case LexBound::Kind::kExclusive:
      return c.zset().LexBound(src, b.value, !is_max);
  }
  return 0;
}

}  // namespace

void LexRanks(const Collection& c, const PoolSource& src, const LexRange& r,
              uint64_t* from, uint64_t* to) {
  *from = LexRank(c, src, r.min, false);
  *to = std::max(*from, LexRank(c, src, r.max, true));
}

Status ZScore(const Collection& c, const PoolSource& src,
              std::string_view member, double* score) {
  const uint64_t loc = c.zset().Find(src, member);
  if (loc == 0) return NotFoundError("no such member");
  *score = src.Score(loc);
  return OkStatus();
}

Status ZRank(const Collection& c, const PoolSource& src,
             std::string_view member, bool reverse, uint64_t* rank) {
  const uint64_t loc = c.zset().Find(src, member);
  if (loc == 0) return NotFoundError("no such member");
  const uint64_t r = c.zset().RankOf(src, member, src.Score(loc));
  *rank = reverse ? c.zset().size() - 1 - r : r;
  return OkStatus();
}

void ZRangeByRank(const Collection& c, const PoolSource& src, IndexRange range,
                  bool reverse, const ScoredFn& fn) {
  uint64_t from, to;
  if (!range.Clamp(c.zset().size(), &from, &to)) return;
  const uint64_t n = c.zset().size();
  if (reverse) {
    ZWalkRanks(c, src, n - to, n - from, true, Limit{}, fn, nullptr);
  } else {
    ZWalkRanks(c, src, from, to, false, Limit{}, fn, nullptr);
  }
}

void ZWalkRanks(const Collection& c, const PoolSource& src, uint64_t from,
                uint64_t to, bool reverse, Limit limit, const ScoredFn& fn,
                uint64_t* count) {
  const uint64_t total = to > from ? to - from : 0;
  const uint64_t skip = std::min<uint64_t>(limit.offset, total);
  uint64_t m = total - skip;
  if (limit.count >= 0) m = std::min<uint64_t>(m, limit.count);
  if (count != nullptr) *count = m;
  if (!fn || m == 0) return;
  auto visit = [&](uint64_t, uint64_t loc) {
    return fn(src.Subkey(loc), src.Score(loc));
  };
  if (reverse) {
    c.zset().Reverse(to - skip - m, to - skip, visit);
  } else {
    c.zset().Forward(from + skip, from + skip + m, visit);
  }
}

uint64_t ZScan(const Collection& c, const PoolSource& src, uint64_t cursor,
               size_t count, const ScoredFn& fn) {
  return c.zset().Scan(cursor, count, [&](uint64_t loc) {
    fn(src.Subkey(loc), src.Score(loc));
  });
}

void ZRandom(const Collection& c, const PoolSource& src, int64_t count,
             const ScoredFn& fn) {
  const uint64_t n = c.zset().size();
  if (count == 0 || n == 0) return;
  auto emit = [&](uint64_t rank) {
    c.mu.AssertReaderHeld();
    const uint64_t loc = c.zset().At(rank);
    return fn(src.Subkey(loc), src.Score(loc));
  };
  if (count < 0) {
    for (int64_t i = 0; i < -count; ++i) {
      if (!emit(Rng()() % n)) return;
    }
    return;
  }
  const uint64_t k = std::min<uint64_t>(static_cast<uint64_t>(count), n);
  std::vector<uint64_t> ranks;
  if (k == n) {
    for (uint64_t r = 0; r < n; ++r) ranks.push_back(r);
  } else {  // Floyd's algorithm: k distinct ranks, each subset equally likely
    std::unordered_set<uint64_t> picked;
    for (uint64_t j = n - k; j < n; ++j) {
      const uint64_t t = Rng()() % (j + 1);
      const uint64_t r = picked.insert(t).second ? t : j;
      if (r == j) picked.insert(j);
      ranks.push_back(r);
    }
  }
  std::shuffle(ranks.begin(), ranks.end(), Rng());
  for (uint64_t r : ranks) {
    if (!emit(r)) return;
  }
}

uint64_t SubkeyRank(const Collection& c, const PoolSource& src,
                    std::string_view subkey) {
  return c.list().tree().PartitionPoint(
      [&](uint64_t loc) { return src.Subkey(loc) < subkey; });
}

void SubkeyRange(const Collection& c, const PoolSource& src,
                 std::string_view from, std::string_view to, bool reverse,
                 uint64_t count, const PairFn& fn) {
  const auto& tree = c.list().tree();
  const uint64_t lo =
      tree.PartitionPoint([&](uint64_t loc) { return src.Subkey(loc) < from; });
  const uint64_t hi =
      tree.PartitionPoint([&](uint64_t loc) { return src.Subkey(loc) <= to; });
  if (lo >= hi) return;
  uint64_t left = count == 0 ? hi - lo : count;
  auto visit = [&](uint64_t, uint64_t loc) {
    return fn(src.Subkey(loc), src.Value(loc)) && --left > 0;
  };
  if (reverse) {
    tree.Reverse(lo, hi, visit);
  } else {
    tree.Forward(lo, hi, visit);
  }
}

}  // namespace daxkv::engine::coll_reads
