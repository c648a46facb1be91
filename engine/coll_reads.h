// The read algorithms of engine/txn.h's ReadOps over one collection: how a
// ReadView (another thread's transactions excluded by publish words) and a
// Txn (its own writes included, pending locations and all) read a hash,
// list, set or sorted set. Each takes the collection and the source its
// element bytes come from; the caller resolved the key and holds the
// collection's lock shared.
//
// Thread-safety: REQUIRES the collection's lock (shared at least).
// Callbacks run under it and must not call back into the Txn or view.
#ifndef DAXKV_ENGINE_COLL_READS_H_
#define DAXKV_ENGINE_COLL_READS_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/coll_object.h"
#include "engine/coll_source.h"
#include "engine/txn.h"

namespace daxkv::engine::coll_reads {

// A (possibly negative) index as a position < n; false out of range.
bool ClampIndex(int64_t index, uint64_t n, uint64_t* pos);

std::mt19937_64& Rng();
// Moves a uniformly chosen min(n, size) of v's items to v[0, n), in random
// order (a partial Fisher-Yates shuffle): SPOP's and SRANDMEMBER's picks.
void ShuffleFirst(std::vector<int64_t>* v, uint64_t n);

// A packed set's members, ascending (none inside a Txn that emptied it).
// REQUIRES: c.packed().
void PackedMembers(const Collection& c, const PoolSource& src,
                   std::vector<int64_t>* out) REQUIRES_SHARED(c.mu);

// --- hashes and sets (the value is empty for sets) ---
uint64_t FindElem(const Collection& c, const PoolSource& src,
                  std::string_view subkey) REQUIRES_SHARED(c.mu);
bool ForEachPair(const Collection& c, const PoolSource& src, const PairFn& fn)
    REQUIRES_SHARED(c.mu);
uint64_t ScanPairs(const Collection& c, const PoolSource& src, uint64_t cursor,
                   size_t count, const PairFn& fn) REQUIRES_SHARED(c.mu);
// HRANDFIELD / SRANDMEMBER count semantics (txn.h).
void RandomPairs(const Collection& c, const PoolSource& src, int64_t count,
                 const PairFn& fn) REQUIRES_SHARED(c.mu);

// --- lists ---
Status ListGet(const Collection& c, const PoolSource& src, int64_t index,
               std::string* value) REQUIRES_SHARED(c.mu);
void ListRange(const Collection& c, const PoolSource& src, IndexRange range,
               const ElemFn& fn) REQUIRES_SHARED(c.mu);
void ListWalk(const Collection& c, const PoolSource& src, int64_t from,
              bool reverse, const IndexFn& fn) REQUIRES_SHARED(c.mu);

// --- sorted sets ---
// Ranks [*from, *to) of members within the range.
void ScoreRanks(const Collection& c, const PoolSource& src, const ScoreRange& r,
                uint64_t* from, uint64_t* to) REQUIRES_SHARED(c.mu);
void LexRanks(const Collection& c, const PoolSource& src, const LexRange& r,
              uint64_t* from, uint64_t* to) REQUIRES_SHARED(c.mu);
Status ZScore(const Collection& c, const PoolSource& src,
              std::string_view member, double* score) REQUIRES_SHARED(c.mu);
Status ZRank(const Collection& c, const PoolSource& src,
             std::string_view member, bool reverse, uint64_t* rank)
    REQUIRES_SHARED(c.mu);
void ZRangeByRank(const Collection& c, const PoolSource& src, IndexRange range,
                  bool reverse, const ScoredFn& fn) REQUIRES_SHARED(c.mu);
// Walks ranks [from, to) (reverse: from the top), applying `limit`.
// *count (may be null): members passed to fn (or that would be).
void ZWalkRanks(const Collection& c, const PoolSource& src, uint64_t from,
                uint64_t to, bool reverse, Limit limit, const ScoredFn& fn,
                uint64_t* count) REQUIRES_SHARED(c.mu);
uint64_t ZScan(const Collection& c, const PoolSource& src, uint64_t cursor,
               size_t count, const ScoredFn& fn) REQUIRES_SHARED(c.mu);
void ZRandom(const Collection& c, const PoolSource& src, int64_t count,
             const ScoredFn& fn) REQUIRES_SHARED(c.mu);

// --- streams (a ListIndex ordered by subkey bytes) ---
// Elements with subkeys in [from, to], ascending (descending when
// `reverse`), at most `count` (0: all).
// The number of elements whose subkey is below `subkey` (a stream's).
uint64_t SubkeyRank(const Collection& c, const PoolSource& src,
                    std::string_view subkey) REQUIRES_SHARED(c.mu);
void SubkeyRange(const Collection& c, const PoolSource& src,
                 std::string_view from, std::string_view to, bool reverse,
                 uint64_t count, const PairFn& fn) REQUIRES_SHARED(c.mu);

}  // namespace daxkv::engine::coll_reads

#endif  // DAXKV_ENGINE_COLL_READS_H_
