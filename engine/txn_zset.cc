// TxnImpl (txn_impl.h): sorted-set writes. An element's subkey is the
// member, its value the score (8 bytes, IEEE-754 binary64).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/coll_reads.h"
#include "engine/txn_impl.h"

namespace daxkv::engine {

namespace {

std::string ScoreBytes(double score) {
  std::string b(8, '\0');
  std::memcpy(b.data(), &score, 8);
  return b;
}

}  // namespace

Status TxnImpl::ZAdd(std::string_view key, std::string_view member,
                     double score, const ZAddOptions& options,
                     ZAddResult* result) {
  *result = {};
  if (std::isnan(score)) return InvalidArgumentError("score is not a number");
  DAXKV_RETURN_IF_ERROR(CheckElemSizes(member, ScoreBytes(score)));
  using Cond = ZAddOptions::Cond;
  using Cmp = ZAddOptions::Cmp;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kZset,
                                     options.cond != Cond::kIfPresent, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t cur;
  double old = 0;
  {
    ReadLock l(c->mu);
    cur = c->zset().Find(src_, member);
    if (cur != 0) old = src_.Score(cur);
  }
  if (cur == 0) {
    if (options.cond == Cond::kIfPresent) return OkStatus();
    ZInsert(c, member, score, PutElem(c, member, ScoreBytes(score), 0));
    *result = {true, true, true, score};
    Ready(k);
    return OkStatus();
  }
  result->score = old;
  if (options.cond == Cond::kIfAbsent) return OkStatus();
  const double next = options.incr ? old + score : score;
  if (std::isnan(next)) {
    return InvalidArgumentError("resulting score is not a number (NaN)");
  }
  if ((options.cmp == Cmp::kGreater && !(next > old)) ||
      (options.cmp == Cmp::kLess && !(next < old))) {
    return OkStatus();
  }
  result->applied = true;
  result->score = next;
  if (next == old) return OkStatus();  // Redis writes nothing (-0 == 0)
  ZRescore(c, member, old, cur, next,
           PutElem(c, member, ScoreBytes(next), cur));
  result->changed = true;
  return OkStatus();
}

Status TxnImpl::ZRemove(std::string_view key, std::string_view member,
                        bool* removed) {
  *removed = false;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kZset, false, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t cur;
  {
    ReadLock l(c->mu);
    cur = c->zset().Find(src_, member);
  }
  if (cur == 0) return OkStatus();
  DelElem(c, member, cur);
  ZEraseMember(c, member);
  *removed = true;
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::ZRemoveRanks(
    std::string_view key, uint64_t* removed,
    const std::function<void(const Collection&, uint64_t*, uint64_t*)>& ranks) {
  *removed = 0;
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kZset, false, &c, &k));
  if (c == nullptr) return OkStatus();
  uint64_t from, to;
  {
    ReadLock l(c->mu);
    ranks(*c, &from, &to);
  }
  EraseRanks(c, from, to);
  *removed = to - from;
  AfterRemove(k, c);
  return OkStatus();
}

Status TxnImpl::ZRemoveRangeByRank(std::string_view key, IndexRange range,
                                   uint64_t* removed) {
  return ZRemoveRanks(
      key, removed, [&](const Collection& c, uint64_t* from, uint64_t* to) {
        c.mu.AssertReaderHeld();
        if (!range.Clamp(c.zset().size(), from, to)) {
          *from = *to = 0;
        }
      });
}

Status TxnImpl::ZRemoveRangeByScore(std::string_view key,
                                    const ScoreRange& range,
                                    uint64_t* removed) {
  return ZRemoveRanks(key, removed,
                      [&](const Collection& c, uint64_t* from, uint64_t* to) {
                        c.mu.AssertReaderHeld();
                        coll_reads::ScoreRanks(c, src_, range, from, to);
                      });
}

Status TxnImpl::ZRemoveRangeByLex(std::string_view key, const LexRange& range,
                                  uint64_t* removed) {
  return ZRemoveRanks(key, removed,
                      [&](const Collection& c, uint64_t* from, uint64_t* to) {
                        c.mu.AssertReaderHeld();
                        coll_reads::LexRanks(c, src_, range, from, to);
                      });
}

Status TxnImpl::ZPop(std::string_view key, bool max, uint64_t count,
                     const ScoredFn& fn) {
  Collection* c;
  int32_t k;
  DAXKV_RETURN_IF_ERROR(CollForWrite(key, KeyType::kZset, false, &c, &k));
  if (c == nullptr || count == 0) return OkStatus();
  std::vector<std::pair<std::string, double>> popped;
  uint64_t from, to;
  {
    ReadLock l(c->mu);
    const uint64_t n = c->zset().size();
    const uint64_t m = std::min(count, n);
    from = max ? n - m : 0;
    to = max ? n : m;
    auto take = [&](uint64_t, uint64_t loc) {
      popped.emplace_back(src_.Subkey(loc), src_.Score(loc));
      return true;
    };
    if (max) {
      c->zset().Reverse(from, to, take);
    } else {
      c->zset().Forward(from, to, take);
    }
  }
  EraseRanks(c, from, to);
  AfterRemove(k, c);
  for (const auto& [member, score] : popped) {
    if (!fn(member, score)) break;
  }
  return OkStatus();
}

void TxnImpl::PrefetchPops(std::string_view key, bool max, uint64_t count) {
  const int32_t k = FindKey(key);
  if (k < 0 || finished_) return;
  const View& v = keys_[k].view;
  if (!Live(v) || v.type != KeyType::kZset) return;
  ReadLock l(v.coll->mu);
  const coll::ZsetIndex& zset = v.coll->zset();
  const coll::ElemTable* table = zset.member_table();
  if (table == nullptr) return;
  constexpr uint64_t kMax = 64;
  const uint64_t n = zset.size();
  const uint64_t m = std::min({count, n, kMax});
  uint64_t locs[kMax];
  size_t got = 0;
  auto take = [&](uint64_t, uint64_t loc) {
    locs[got++] = loc;
    return true;
  };
  if (max) {
    zset.Reverse(n - m, n, take);
  } else {
    zset.Forward(0, m, take);
  }
  // The members first, then their hashes' slots: loads, not prefetches
  // (ElemTable::LoadSlot), independent, so that their misses overlap.
  uint64_t sink = 0;
  for (size_t i = 0; i < got; ++i) {
    sink ^= *static_cast<const volatile char*>(src_.Entry(locs[i]) + 4);
  }
  for (size_t i = 0; i < got; ++i) {
    sink ^= table->LoadSlot(src_.Hash(src_.Subkey(locs[i])));
  }
  asm volatile("" : : "r"(sink));
}

}  // namespace daxkv::engine
