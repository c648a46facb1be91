// CollReadOps<Base, Derived>: engine/txn.h's ReadOps, once, for both the
// Txn (TxnImpl) and the ReadView (ReadViewImpl). Each method resolves its
// key through Derived (which knows whose view it is: a transaction's own
// keys, pending writes included, or another thread's consistent view) and
// runs the algorithm of engine/coll_reads.h on the collection.
//
// Derived provides:
//   Status ReadColl(std::string_view key, KeyType want, const CollFn& fn):
//     calls fn(c, src) with c's lock held shared when `key` holds a
//     collection of type `want`; NotFound when absent or expired,
//     WrongType when it holds another type; else fn's status.
//   Status ReadString(key, std::string* value, ReadInfo* info)
//   Status StatKey(key, KeyInfo* info)
//   StatusOr<DB::ScanPage> ScanKeysOf(cursor, count, KeyType type)
//
// Thread-safety: as the Derived object (one thread).
#ifndef DAXKV_ENGINE_COLL_READ_OPS_H_
#define DAXKV_ENGINE_COLL_READ_OPS_H_

#include <functional>
#include <vector>

#include "engine/coll_reads.h"
#include "engine/index.h"
#include "engine/txn.h"

namespace daxkv::engine {

using CollFn =
    std::function<Status(const Collection& c, const PoolSource& src)>;

// OK for an absent key: iterations over one call nothing.
inline Status AbsentIsEmpty(Status s) {
  return s.code() == StatusCode::kNotFound ? OkStatus() : s;
}

template <typename Base, typename Derived>
class CollReadOps : public Base {
 public:
  StatusOr<KeyInfo> Stat(std::string_view key) override {
    KeyInfo info;
    DAXKV_RETURN_IF_ERROR(D().StatKey(key, &info));
    return info;
  }
  StatusOr<DB::ScanPage> ScanKeys(uint64_t cursor, size_t count,
                                  KeyType type) override {
    return D().ScanKeysOf(cursor, count, type);
  }
  Status Get(std::string_view key, std::string* value,
             ReadInfo* info) override {
    return D().ReadString(key, value, info);
  }
  StatusOr<KeyFootprint> Footprint(std::string_view key,
                                   uint64_t samples) override {
    DAXKV_ASSIGN_OR_RETURN(KeyInfo info, Stat(key));
    if (info.type == KeyType::kNone) return NotFoundError("no such key");
    KeyFootprint f;
    f.dram_bytes =
        kIndexBytesPerKey + (info.expire_at_ms != 0 ? kIndexBytesPerExpiry : 0);
    if (info.type == KeyType::kString) {  // one put record (or a span's)
      f.log_bytes = format::EntrySize(key.size(), info.size) + 8;
      return f;
    }
    DAXKV_RETURN_IF_ERROR(D().ReadColl(
        key, info.type, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          f.dram_bytes += c.MemoryBytes();
          std::vector<uint64_t> locs;
          c.AppendFirstLocs(samples, &locs);
          uint64_t bytes = 0;
          for (uint64_t loc : locs) {
            bytes += format::EntrySize(src.Subkey(loc).size(),
                                       src.Value(loc).size());
          }
          f.sampled = locs.size();
          f.log_bytes =
              format::EntrySize(key.size(), sizeof(format::MetaPayload)) + 8;
          if (c.packed()) {  // one entry holds every member
            f.sampled = c.size();
            f.log_bytes += bytes;
          } else if (!locs.empty()) {
            f.log_bytes += static_cast<uint64_t>(
                static_cast<double>(bytes) / static_cast<double>(locs.size()) *
                static_cast<double>(c.size()));
          }
          return OkStatus();
        }));
    return f;
  }

  // --- hashes ---
  Status HashGet(std::string_view key, std::string_view field,
                 std::string* value) override {
    return D().ReadColl(
        key, KeyType::kHash, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          const uint64_t loc = coll_reads::FindElem(c, src, field);
          if (loc == 0) return NotFoundError("no such field");
          const std::string_view v = src.Value(loc);
          value->assign(v.data(), v.size());
          return OkStatus();
        });
  }
  Status HashValueSize(std::string_view key, std::string_view field,
                       uint64_t* size) override {
    return D().ReadColl(
        key, KeyType::kHash, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          const uint64_t loc = coll_reads::FindElem(c, src, field);
          if (loc == 0) return NotFoundError("no such field");
          *size = src.Value(loc).size();
          return OkStatus();
        });
  }
  Status HashForEach(std::string_view key, const PairFn& fn) override {
    return Pairs(key, KeyType::kHash, fn);
  }
  Status HashScan(std::string_view key, uint64_t cursor, size_t count,
                  const PairFn& fn, uint64_t* next) override {
    *next = 0;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kHash, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          *next = coll_reads::ScanPairs(c, src, cursor, count, fn);
          return OkStatus();
        }));
  }
  Status HashRandom(std::string_view key, int64_t count,
                    const PairFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kHash, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::RandomPairs(c, src, count, fn);
          return OkStatus();
        }));
  }

  // --- lists ---
  Status ListGet(std::string_view key, int64_t index,
                 std::string* value) override {
    return D().ReadColl(key, KeyType::kList,
                        [&](const Collection& c, const PoolSource& src) {
                          c.mu.AssertReaderHeld();
                          return coll_reads::ListGet(c, src, index, value);
                        });
  }
  Status ListRange(std::string_view key, IndexRange range,
                   const ElemFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kList, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::ListRange(c, src, range, fn);
          return OkStatus();
        }));
  }
  Status ListWalk(std::string_view key, int64_t from, bool reverse,
                  const IndexFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kList, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::ListWalk(c, src, from, reverse, fn);
          return OkStatus();
        }));
  }

  // --- sets ---
  Status SetContains(std::string_view key, std::string_view member,
                     bool* contains) override {
    *contains = false;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kSet, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          *contains = coll_reads::FindElem(c, src, member) != 0;
          return OkStatus();
        }));
  }
  Status SetForEach(std::string_view key, const ElemFn& fn) override {
    return Pairs(key, KeyType::kSet,
                 [&](std::string_view m, std::string_view) { return fn(m); });
  }
  Status SetScan(std::string_view key, uint64_t cursor, size_t count,
                 const ElemFn& fn, uint64_t* next) override {
    *next = 0;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kSet, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          *next = coll_reads::ScanPairs(
              c, src, cursor, count,
              [&](std::string_view m, std::string_view) { return fn(m); });
          return OkStatus();
        }));
  }
  Status SetRandom(std::string_view key, int64_t count,
                   const ElemFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kSet, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::RandomPairs(
              c, src, count,
              [&](std::string_view m, std::string_view) { return fn(m); });
          return OkStatus();
        }));
  }

  // --- sorted sets ---
  Status ZScore(std::string_view key, std::string_view member,
                double* score) override {
    return D().ReadColl(key, KeyType::kZset,
                        [&](const Collection& c, const PoolSource& src) {
                          c.mu.AssertReaderHeld();
                          return coll_reads::ZScore(c, src, member, score);
                        });
  }
  Status ZRank(std::string_view key, std::string_view member, bool reverse,
               uint64_t* rank) override {
    return D().ReadColl(
        key, KeyType::kZset, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          return coll_reads::ZRank(c, src, member, reverse, rank);
        });
  }
  Status ZRangeByRank(std::string_view key, IndexRange range, bool reverse,
                      const ScoredFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kZset, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::ZRangeByRank(c, src, range, reverse, fn);
          return OkStatus();
        }));
  }
  Status ZRangeByScore(std::string_view key, const ScoreRange& range,
                       bool reverse, Limit limit, const ScoredFn& fn,
                       uint64_t* count) override {
    return ZRanks(key, reverse, limit, fn, count,
                  [&](const Collection& c, const PoolSource& src,
                      uint64_t* from, uint64_t* to) {
                    c.mu.AssertReaderHeld();
                    coll_reads::ScoreRanks(c, src, range, from, to);
                  });
  }
  Status ZRangeByLex(std::string_view key, const LexRange& range, bool reverse,
                     Limit limit, const ScoredFn& fn,
                     uint64_t* count) override {
    return ZRanks(key, reverse, limit, fn, count,
                  [&](const Collection& c, const PoolSource& src,
                      uint64_t* from, uint64_t* to) {
                    c.mu.AssertReaderHeld();
                    coll_reads::LexRanks(c, src, range, from, to);
                  });
  }
  Status ZScan(std::string_view key, uint64_t cursor, size_t count,
               const ScoredFn& fn, uint64_t* next) override {
    *next = 0;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kZset, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          *next = coll_reads::ZScan(c, src, cursor, count, fn);
          return OkStatus();
        }));
  }
  Status ZRandom(std::string_view key, int64_t count,
                 const ScoredFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kZset, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::ZRandom(c, src, count, fn);
          return OkStatus();
        }));
  }

  // --- streams ---
  Status StreamRange(std::string_view key, std::string_view from,
                     std::string_view to, bool reverse, uint64_t count,
                     const PairFn& fn) override {
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kStream, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::SubkeyRange(c, src, from, to, reverse, count, fn);
          return OkStatus();
        }));
  }
  Status StreamRank(std::string_view key, std::string_view subkey,
                    uint64_t* rank) override {
    *rank = 0;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kStream, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          *rank = coll_reads::SubkeyRank(c, src, subkey);
          return OkStatus();
        }));
  }

 private:
  Derived& D() { return static_cast<Derived&>(*this); }

  Status Pairs(std::string_view key, KeyType type, const PairFn& fn) {
    return AbsentIsEmpty(D().ReadColl(
        key, type, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          coll_reads::ForEachPair(c, src, fn);
          return OkStatus();
        }));
  }
  using RanksFn = std::function<void(const Collection&, const PoolSource&,
                                     uint64_t*, uint64_t*)>;
  Status ZRanks(std::string_view key, bool reverse, Limit limit,
                const ScoredFn& fn, uint64_t* count, const RanksFn& ranks) {
    if (count != nullptr) *count = 0;
    return AbsentIsEmpty(D().ReadColl(
        key, KeyType::kZset, [&](const Collection& c, const PoolSource& src) {
          c.mu.AssertReaderHeld();
          uint64_t from, to;
          ranks(c, src, &from, &to);
          coll_reads::ZWalkRanks(c, src, from, to, reverse, limit, fn, count);
          return OkStatus();
        }));
  }
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_COLL_READ_OPS_H_
