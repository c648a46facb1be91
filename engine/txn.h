// Transactions: how the server runs every command, MULTI/EXEC block and
// script against the engine, for strings and collections alike (issue 14;
// design in docs/collections.md, "Transactions"). Phase A declares the API;
// phase B implements it (engine/txn.cc and hooks in DBImpl).
//
// A Txn locks the write stripes of the keys it uses (declared ones at
// Begin, in stripe order; others on first use), so writers of those keys
// are serialised: two-phase locking. Its writes are applied in place to
// the DRAM structures as it goes, with an undo log, and buffered as
// sub-entries of one batch record; readers on other threads wait for the
// keys it has written until it commits or aborts (the keys' publish words),
// so no reader sees an uncommitted write or part of a committed Txn. Its
// own reads see its own writes, ranges included. Commit appends the one
// batch record (a crash keeps all of it or none), swaps the pending
// element locations for real ones and publishes; Abort replays the undo
// log.
//
// Errors, beyond each method's own:
//   * WrongType: FailedPrecondition whose message starts "WRONGTYPE" (see
//     IsWrongType) when the key holds another type.
//   * InvalidArgument for sizes (keys up to kMaxKeySize, element subkeys
//     and values up to kMaxValueSize).
//   * Busy with restart_required() set: an undeclared key's stripe could
//     not be taken without breaking the lock order; every later call fails
//     the same way, and the caller must Abort and run again with the key
//     declared (RunTxn does this).
//   * BackgroundError() of the DB, sticky.
//
// Thread-safety: a Txn or ReadView is used by one thread, the one that
// began it (it holds mutexes), from Begin to Commit/Abort. Any number of
// Txns and views run at once on other threads.
//
// Lifetimes: string_views handed to callbacks are valid during the call
// only. Arguments are copied as needed. A Txn or view must be finished
// before the DB is destroyed.
#ifndef DAXKV_ENGINE_TXN_H_
#define DAXKV_ENGINE_TXN_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/function_ref.h"
#include "base/status.h"
#include "base/statusor.h"
#include "engine/db.h"
#include "engine/key_type.h"

namespace daxkv::engine {

struct KeyInfo {
  KeyType type = KeyType::kNone;
  int64_t expire_at_ms = 0;  // 0: no expiry
  // Elements of a collection; bytes of a string's value.
  uint64_t size = 0;
  // The DRAM form (compact: hash/set dense array, zset one-leaf) and
  // whether an element longer than Redis's compact encodings take was
  // ever stored (IsLongElement, coll_object.h): what the kv layer needs to
  // name Redis's encoding in OBJECT ENCODING.
  bool compact = false;
  bool had_long_element = false;
  // A set whose members are one packed entry (Options::packed_set_max).
  bool packed = false;
  // The largest size since the last open (>= size; collections only).
  uint64_t peak_size = 0;
  // The WATCH version: changes whenever the key is written, created,
  // deleted, expired or flushed, whatever its type (element writes too).
  // Only compared for equality, only within one process lifetime.
  uint64_t version = 0;
};

// What a key takes (MEMORY USAGE): DRAM (its key-index slot and expiry
// node, engine/index.h's figures; a collection's structures) and bytes of
// its entries in the log (a string's as one put record).
struct KeyFootprint {
  uint64_t dram_bytes = 0;
  uint64_t log_bytes = 0;
  // Elements whose entries were read (log_bytes extrapolates from them).
  uint64_t sampled = 0;
};

inline constexpr std::string_view kWrongTypeMessage =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline Status WrongTypeError() {
  return FailedPreconditionError(kWrongTypeMessage);
}
inline bool IsWrongType(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition &&
         s.message().substr(0, 9) == "WRONGTYPE";
}

// Redis's index ranges (LRANGE, LTRIM, ZRANGE by rank): inclusive, negative
// indexes count from the end, clamped to the collection.
struct IndexRange {
  int64_t start = 0;
  int64_t stop = -1;

  // The ranks [*from, *to) the range covers of n elements, clamped as
  // Redis clamps LRANGE's and ZRANGE's indexes; false when none.
  bool Clamp(uint64_t n, uint64_t* from, uint64_t* to) const {
    const int64_t size = static_cast<int64_t>(n);
    int64_t first = start < 0 ? start + size : start;
    int64_t last = stop < 0 ? stop + size : stop;
    if (first < 0) first = 0;
    if (first > last || first >= size) return false;
    if (last >= size) last = size - 1;
    *from = static_cast<uint64_t>(first);
    *to = static_cast<uint64_t>(last) + 1;
    return true;
  }
};

struct ScoreRange {  // ZRANGEBYSCORE min max: "(" makes a bound exclusive
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  bool max_exclusive = false;
};

struct LexBound {  // "-", "+", "[value", "(value"
  enum class Kind : uint8_t { kMinusInf, kPlusInf, kInclusive, kExclusive };
  Kind kind = Kind::kMinusInf;
  std::string value;
};
struct LexRange {
  LexBound min{LexBound::Kind::kMinusInf, {}};
  LexBound max{LexBound::Kind::kPlusInf, {}};
};

// LIMIT offset count of ranges by score or lex; count < 0: no limit.
struct Limit {
  uint64_t offset = 0;
  int64_t count = -1;
};

enum class End : uint8_t { kFront, kBack };  // LPUSH/LPOP vs RPUSH/RPOP

enum class SetMode : uint8_t { kUpsert, kIfAbsent };  // HSET vs HSETNX

struct ZAddOptions {
  enum class Cond : uint8_t { kAlways, kIfAbsent, kIfPresent };  // NX, XX
  enum class Cmp : uint8_t { kAlways, kGreater, kLess };         // GT, LT
  Cond cond = Cond::kAlways;
  Cmp cmp = Cmp::kAlways;
  bool incr = false;  // INCR: `score` is an increment
};
struct ZAddResult {
  bool added = false;    // a new member
  bool changed = false;  // added, or its score changed (CH)
  bool applied = false;  // false when NX/XX/GT/LT prevented the write
  double score = 0;      // the member's score afterwards (INCR's reply)
};

// Element callbacks return false to stop early. They are called before the
// read returns and never kept (base/function_ref.h: no heap block for a
// callback capturing several references).
using ElemFn = FunctionRef<bool(std::string_view elem)>;
using PairFn =
    FunctionRef<bool(std::string_view subkey, std::string_view value)>;
using ScoredFn = FunctionRef<bool(std::string_view member, double score)>;
using IndexFn = FunctionRef<bool(uint64_t index, std::string_view elem)>;

// Reads, shared by Txn (which also sees its own writes) and ReadView.
// Point reads of an absent key or element return NotFound; iterations over
// an absent key call nothing and return OK. Collections are never empty:
// removing the last element deletes the key.
class ReadOps {
 public:
  virtual ~ReadOps() = default;

  // --- any type ---
  [[nodiscard]] virtual StatusOr<KeyInfo> Stat(std::string_view key) = 0;
  // Keyspace SCAN (DB::Scan's cursor and contract), this Txn's creations
  // and deletions included; `type` kNone matches every type (SCAN TYPE).
  [[nodiscard]] virtual StatusOr<DB::ScanPage> ScanKeys(uint64_t cursor,
                                                        size_t count,
                                                        KeyType type) = 0;

  // NotFound when absent. A collection's log bytes are its meta entry's
  // plus its size times the mean entry bytes of its first `samples`
  // elements in its own order (every element when 0), as Redis's MEMORY
  // USAGE samples.
  [[nodiscard]] virtual StatusOr<KeyFootprint> Footprint(std::string_view key,
                                                         uint64_t samples) = 0;

  // --- strings ---
  [[nodiscard]] virtual Status Get(std::string_view key, std::string* value,
                                   ReadInfo* info = nullptr) = 0;

  // --- hashes ---
  [[nodiscard]] virtual Status HashGet(std::string_view key,
                                       std::string_view field,
                                       std::string* value) = 0;
  // HSTRLEN without copying the value.
  [[nodiscard]] virtual Status HashValueSize(std::string_view key,
                                             std::string_view field,
                                             uint64_t* size) = 0;
  // HGETALL, HKEYS, HVALS (fields in no particular order).
  [[nodiscard]] virtual Status HashForEach(std::string_view key,
                                           const PairFn& fn) = 0;
  // HSCAN: *next is 0 when done; an element present throughout is returned
  // exactly once (ElemTable's position order).
  [[nodiscard]] virtual Status HashScan(std::string_view key, uint64_t cursor,
                                        size_t count, const PairFn& fn,
                                        uint64_t* next) = 0;
  // HRANDFIELD: count > 0 distinct fields (at most all), count < 0 |count|
  // fields with repetition; each uniformly random.
  [[nodiscard]] virtual Status HashRandom(std::string_view key, int64_t count,
                                          const PairFn& fn) = 0;

  // --- lists ---
  // LINDEX (negative: from the end); NotFound out of range.
  [[nodiscard]] virtual Status ListGet(std::string_view key, int64_t index,
                                       std::string* value) = 0;
  // LRANGE: O(log n + m).
  [[nodiscard]] virtual Status ListRange(std::string_view key, IndexRange range,
                                         const ElemFn& fn) = 0;
  // Walks from index `from` (negative: from the end) towards the back, or
  // the front when `reverse`: LPOS, LINSERT's and LREM's pivot search.
  [[nodiscard]] virtual Status ListWalk(std::string_view key, int64_t from,
                                        bool reverse, const IndexFn& fn) = 0;

  // --- sets ---
  [[nodiscard]] virtual Status SetContains(std::string_view key,
                                           std::string_view member,
                                           bool* contains) = 0;
  [[nodiscard]] virtual Status SetForEach(std::string_view key,
                                          const ElemFn& fn) = 0;
  [[nodiscard]] virtual Status SetScan(std::string_view key, uint64_t cursor,
                                       size_t count, const ElemFn& fn,
                                       uint64_t* next) = 0;
  // SRANDMEMBER, with HashRandom's count semantics.
  [[nodiscard]] virtual Status SetRandom(std::string_view key, int64_t count,
                                         const ElemFn& fn) = 0;

  // --- sorted sets ---
  [[nodiscard]] virtual Status ZScore(std::string_view key,
                                      std::string_view member,
                                      double* score) = 0;
  // ZRANK / ZREVRANK.
  [[nodiscard]] virtual Status ZRank(std::string_view key,
                                     std::string_view member, bool reverse,
                                     uint64_t* rank) = 0;
  // ZRANGE by rank (REV: ranks counted from the highest score).
  [[nodiscard]] virtual Status ZRangeByRank(std::string_view key,
                                            IndexRange range, bool reverse,
                                            const ScoredFn& fn) = 0;
  // ZRANGE BYSCORE [REV] [LIMIT], ZCOUNT (count only: fn may be null).
  [[nodiscard]] virtual Status ZRangeByScore(std::string_view key,
                                             const ScoreRange& range,
                                             bool reverse, Limit limit,
                                             const ScoredFn& fn,
                                             uint64_t* count) = 0;
  // ZRANGE BYLEX [REV] [LIMIT], ZLEXCOUNT: as Redis, meaningful when all
  // scores are equal.
  [[nodiscard]] virtual Status ZRangeByLex(std::string_view key,
                                           const LexRange& range, bool reverse,
                                           Limit limit, const ScoredFn& fn,
                                           uint64_t* count) = 0;
  [[nodiscard]] virtual Status ZScan(std::string_view key, uint64_t cursor,
                                     size_t count, const ScoredFn& fn,
                                     uint64_t* next) = 0;
  [[nodiscard]] virtual Status ZRandom(std::string_view key, int64_t count,
                                       const ScoredFn& fn) = 0;

  // --- streams (docs/collections.md, "Streams") ---
  // The elements whose subkeys lie in [from, to] (bytes, inclusive), in
  // subkey order, or descending when `reverse`; at most `count` (0: all).
  // O(log n + m). The kv layer keys entries by 16-byte big-endian IDs and
  // keeps the stream's metadata under the empty subkey (kv/stream_codec.h).
  [[nodiscard]] virtual Status StreamRange(std::string_view key,
                                           std::string_view from,
                                           std::string_view to, bool reverse,
                                           uint64_t count,
                                           const PairFn& fn) = 0;
  // The number of elements whose subkey is below `subkey` (0: absent).
  // O(log n).
  [[nodiscard]] virtual Status StreamRank(std::string_view key,
                                          std::string_view subkey,
                                          uint64_t* rank) = 0;
};

struct TxnOptions {
  // Keys locked at Begin (their stripes in ascending order). Others are
  // locked on first use when that keeps the order, else the Txn must
  // restart (Busy, restart_required()).
  std::vector<std::string> keys;
  // The Txn may write system entries (PutSystem). It then holds stripe 0
  // from Begin as well: Flush(), which takes every stripe, never runs
  // between its record's append and the system entries' publication (it
  // must see every durable system entry to keep its segment).
  bool system_writes = false;
};

class Txn : public ReadOps {
 public:
  // --- any type ---
  // SET and friends: replaces a key of any type (a collection's elements
  // die with it, O(1)). PutMode conditions look at keys of any type.
  [[nodiscard]] virtual Status Put(std::string_view key, std::string_view value,
                                   int64_t expire_at_ms = 0,
                                   PutMode mode = PutMode::kUpsert) = 0;
  // DEL / UNLINK: O(1) for collections of any size; their DRAM is freed in
  // the background after Commit.
  [[nodiscard]] virtual Status Delete(std::string_view key, bool* existed) = 0;
  // EXPIRE family, PERSIST (0). NotFound when absent.
  [[nodiscard]] virtual Status SetExpiry(std::string_view key,
                                         int64_t expire_at_ms) = 0;
  // RENAME / RENAMENX (`if_absent`; *done false when dst exists). O(1) for
  // collections (their elements carry an id, not the key). NotFound when
  // src is absent.
  [[nodiscard]] virtual Status Rename(std::string_view src,
                                      std::string_view dst, bool if_absent,
                                      bool* done) = 0;
  // COPY [REPLACE]: O(elements). *done false when dst exists and !replace.
  [[nodiscard]] virtual Status Copy(std::string_view src, std::string_view dst,
                                    bool replace, bool* done) = 0;

  // --- hashes ---
  [[nodiscard]] virtual Status HashSet(std::string_view key,
                                       std::string_view field,
                                       std::string_view value, SetMode mode,
                                       bool* created) = 0;
  [[nodiscard]] virtual Status HashDelete(std::string_view key,
                                          std::string_view field,
                                          bool* existed) = 0;

  // --- lists ---
  // LPUSH/RPUSH (LPUSHX/RPUSHX: `if_exists`, *length 0 when absent).
  [[nodiscard]] virtual Status ListPush(std::string_view key, End end,
                                        std::string_view value, bool if_exists,
                                        uint64_t* length) = 0;
  // LPOP/RPOP one element; NotFound when absent.
  [[nodiscard]] virtual Status ListPop(std::string_view key, End end,
                                       std::string* value) = 0;
  // LSET: NotFound without the key, OutOfRange (InvalidArgument "index out
  // of range") past either end.
  [[nodiscard]] virtual Status ListSet(std::string_view key, int64_t index,
                                       std::string_view value) = 0;
  // Inserts `value` so that it gets index `index` (0..length): LINSERT after
  // the kv layer found the pivot with ListWalk. May relabel neighbours'
  // order keys (engine/coll_order_key.h), inside this Txn's batch.
  [[nodiscard]] virtual Status ListInsert(std::string_view key, uint64_t index,
                                          std::string_view value) = 0;
  // Removes the element at `index` (LREM, one call per match, from the
  // highest index down so that indexes stay valid).
  [[nodiscard]] virtual Status ListErase(std::string_view key,
                                         uint64_t index) = 0;
  // LTRIM: O(log n) per removed leaf plus one tombstone per element.
  [[nodiscard]] virtual Status ListTrim(std::string_view key,
                                        IndexRange keep) = 0;

  // --- sets ---
  [[nodiscard]] virtual Status SetAdd(std::string_view key,
                                      std::string_view member, bool* added) = 0;
  [[nodiscard]] virtual Status SetRemove(std::string_view key,
                                         std::string_view member,
                                         bool* removed) = 0;
  // SPOP count: up to `count` distinct uniformly random members, removed.
  [[nodiscard]] virtual Status SetPop(std::string_view key, uint64_t count,
                                      const ElemFn& fn) = 0;

  // --- sorted sets ---
  // `score` must not be NaN (nor may INCR produce NaN: InvalidArgument
  // "resulting score is not a number").
  [[nodiscard]] virtual Status ZAdd(std::string_view key,
                                    std::string_view member, double score,
                                    const ZAddOptions& options,
                                    ZAddResult* result) = 0;
  [[nodiscard]] virtual Status ZRemove(std::string_view key,
                                       std::string_view member,
                                       bool* removed) = 0;
  // ZREMRANGEBYRANK / BYSCORE / BYLEX.
  [[nodiscard]] virtual Status ZRemoveRangeByRank(std::string_view key,
                                                  IndexRange range,
                                                  uint64_t* removed) = 0;
  [[nodiscard]] virtual Status ZRemoveRangeByScore(std::string_view key,
                                                   const ScoreRange& range,
                                                   uint64_t* removed) = 0;
  [[nodiscard]] virtual Status ZRemoveRangeByLex(std::string_view key,
                                                 const LexRange& range,
                                                 uint64_t* removed) = 0;
  // ZPOPMIN / ZPOPMAX (`max`) count, ZMPOP, BZPOP*: calls fn per popped
  // member, lowest (highest) first.
  [[nodiscard]] virtual Status ZPop(std::string_view key, bool max,
                                    uint64_t count, const ScoredFn& fn) = 0;

  // --- streams ---
  // Writes the element `subkey` (inserted in subkey order, or replacing
  // the element of that subkey). Creates the stream when absent if
  // `create`, else *done is false and nothing is written. A stream is
  // deleted only by its key (DEL): removing its last element keeps it
  // only if the caller keeps an element (kv keeps the metadata one).
  [[nodiscard]] virtual Status StreamPut(std::string_view key,
                                         std::string_view subkey,
                                         std::string_view value, bool create,
                                         bool* done) = 0;
  [[nodiscard]] virtual Status StreamDelete(std::string_view key,
                                            std::string_view subkey,
                                            bool* existed) = 0;
  // Removes the elements of ranks [from, to) (clamped), with tombstones.
  [[nodiscard]] virtual Status StreamEraseRanks(std::string_view key,
                                                uint64_t from, uint64_t to,
                                                uint64_t* removed) = 0;

  // --- WATCH, savepoints, blocking pops ---
  // Commit fails with Aborted unless `key`'s KeyInfo::version is still
  // `version`. REQUIRES: `key` is declared in TxnOptions::keys (its stripe
  // is held from Begin, so the check at Commit is atomic with it).
  virtual void RequireVersion(std::string_view key, uint64_t version) = 0;
  // RollbackTo(Savepoint()) undoes every write made after the savepoint
  // (one failing command inside a block; a script's pcall keeps writes, as
  // Redis does, and does not use it).
  virtual uint64_t Savepoint() const = 0;
  virtual void RollbackTo(uint64_t savepoint) = 0;
  // List, zset and stream keys that gained elements in this Txn, in the
  // order they first did (Redis serves blocked clients in that order). The
  // server hands elements to the clients blocked on them inside this same
  // Txn, before Commit, so no other client can take them first; it
  // registers a client as blocked while its own Txn still holds the key's
  // stripe (XREAD waiters are served without taking anything).
  virtual const std::vector<std::string>& ReadyKeys() const = 0;
  // Busy status seen: Abort and run again with every key declared.
  virtual bool restart_required() const = 0;
  // A hint, changing no result: starts loading what finding each of
  // `subkeys` in the hash, set or large sorted set `key` will read (its
  // element-table slot, then the entries there), so that a batch of
  // element writes overlaps those misses. Only for a key this Txn has used
  // already.
  virtual void PrefetchElements(std::string_view key,
                                std::span<const std::string_view> subkeys) {}
  // The same for the next `count` members pops from one end of the large
  // sorted set `key` remove (`max`: the highest ranks): removing each
  // finds its member-table slot by the member's hash. A hint, changing no
  // result; only for a key this Txn has used already.
  virtual void PrefetchPops(std::string_view key, bool max, uint64_t count) {}
  // Writes the system entry `key` (DB::WriteSystem's namespace: no key
  // sees it) as a sub-entry of this Txn's batch record, so that a crash
  // keeps it exactly when it keeps the Txn's other writes: a replica's
  // stream offset committed with the commands it covers. The last call
  // per key wins; RollbackTo does not undo it (call it last). The record
  // is written even when the Txn wrote nothing else. FailedPrecondition
  // unless TxnOptions::system_writes; InvalidArgument for sizes (keys
  // 1..kMaxKeySize bytes). Forwarding Txns answer NotSupported.
  [[nodiscard]] virtual Status PutSystem(std::string_view key,
                                         std::string_view value) {
    return NotSupportedError("PutSystem");
  }

  // Appends the Txn's batch record (nothing when it wrote nothing), then
  // publishes its writes. With opts.sync the batch, and every write this
  // Txn read, is durable on return; otherwise at the next DB::Sync() (the
  // server's group commit). Errors: Aborted (a RequireVersion failed;
  // nothing applied), NoSpace (after compaction was tried; nothing
  // applied), Busy with restart_required() when the commit must compact
  // with no stripes held (RunTxn re-runs the Txn). The Txn is finished
  // whatever the outcome.
  [[nodiscard]] virtual Status Commit(const WriteOptions& opts) = 0;
  // Undoes every write; leaves no trace in DRAM or on the medium.
  virtual void Abort() = 0;
};

// A consistent read of several keys without taking their stripes: each
// key is read under its collection or index lock once no Txn is publishing
// it, and the keys' publish words are checked again at the end; RunRead
// re-runs the reads on a conflict (after two, it takes the stripes).
class ReadView : public ReadOps {};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_TXN_H_
