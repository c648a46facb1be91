// TxnImpl: engine/txn.h's Txn (docs/collections.md, "Transactions"):
// two-phase locking on the key stripes, writes applied in place to the
// DRAM structures with an undo log, and buffered as the sub-entries of one
// batch image; element locations are *pending* (kPendingBase + offset in
// the image) until Commit appends the image and points them at the record.
// Readers on other threads wait out the keys it wrote (publish words).
//
// Files: txn.cc (begin, keys, views, savepoints, abort), txn_commit.cc,
// txn_keys.cc (any-type writes, Stat, strings, keyspace scan), txn_elems.cc
// (element sub-entries and the undo log), txn_hash_set.cc, txn_list.cc,
// txn_zset.cc, txn_stream.cc.
//
// Thread-safety: one thread, the one that began it, from Begin to
// Commit/Abort (it holds stripe mutexes).
#ifndef DAXKV_ENGINE_TXN_IMPL_H_
#define DAXKV_ENGINE_TXN_IMPL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/coll_object.h"
#include "engine/coll_order_key.h"
#include "engine/coll_read_ops.h"
#include "engine/coll_source.h"
#include "engine/db_impl.h"
#include "engine/txn.h"
#include "engine/txn_tombs.h"

namespace daxkv::engine {

// InvalidArgument unless subkey + value fit kMaxValueSize.
Status CheckElemSizes(std::string_view subkey, std::string_view value);

// A map by pointer sized for a command's Txn (one or two entries): a
// vector scanned linearly, indexed by a hash map only once it outgrows
// kLinear (EXEC and scripts may touch thousands). Erase moves the last
// entry into the hole; references are invalidated by Insert and Erase.
template <typename K, typename V>
class SmallPtrMap {
 public:
  static constexpr size_t kLinear = 8;
  V* Find(K k) {
    const size_t i = IndexOf(k);
    return i == kNone ? nullptr : &entries_[i].second;
  }
  const V* Find(K k) const {
    return const_cast<SmallPtrMap*>(this)->Find(k);
  }
  // REQUIRES: k absent.
  V& Insert(K k, V v) {
    entries_.emplace_back(k, v);
    if (indexed_) {
      index_.emplace(k, entries_.size() - 1);
    } else if (entries_.size() > kLinear) {
      for (size_t i = 0; i < entries_.size(); ++i) {
        index_.emplace(entries_[i].first, i);
      }
      indexed_ = true;
    }
    return entries_.back().second;
  }
  void Erase(K k) {
    const size_t i = IndexOf(k);
    if (i == kNone) return;
    if (indexed_) {
      index_.erase(k);
      if (i + 1 != entries_.size()) index_[entries_.back().first] = i;
    }
    entries_[i] = entries_.back();
    entries_.pop_back();
  }
  bool empty() const { return entries_.empty(); }
  void clear() {
    entries_.clear();
    if (indexed_) index_.clear();
    indexed_ = false;
  }
  size_t capacity() const { return entries_.capacity(); }
  size_t bucket_count() const { return index_.bucket_count(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  static constexpr size_t kNone = ~size_t{0};
  size_t IndexOf(K k) const {
    if (indexed_) {
      auto it = index_.find(k);
      return it == index_.end() ? kNone : it->second;
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].first == k) return i;
    }
    return kNone;
  }
  std::vector<std::pair<K, V>> entries_;
  std::unordered_map<K, size_t> index_;
  bool indexed_ = false;
};

class TxnImpl final : public CollReadOps<Txn, TxnImpl> {
 public:
  // Locks the stripes of options.keys (ascending).
  TxnImpl(DBImpl* db, const TxnOptions& options);
  ~TxnImpl() override;

  // The calling thread's spare Txn begun on `db` (its buffers keep their
  // capacity from earlier Txns: a command's Txn allocates little), or a
  // new one. Park hands a finished Txn back for the thread's next Acquire.
  static std::unique_ptr<TxnImpl> Acquire(DBImpl* db,
                                          const TxnOptions& options);
  static void Park(std::unique_ptr<TxnImpl> txn);

  // --- any type (txn_keys.cc) ---
  Status Put(std::string_view key, std::string_view value, int64_t expire_at_ms,
             PutMode mode) override;
  Status Delete(std::string_view key, bool* existed) override;
  Status SetExpiry(std::string_view key, int64_t expire_at_ms) override;
  Status Rename(std::string_view src, std::string_view dst, bool if_absent,
                bool* done) override;
  Status Copy(std::string_view src, std::string_view dst, bool replace,
              bool* done) override;
  void PrefetchElements(std::string_view key,
                        std::span<const std::string_view> subkeys) override;
  // --- hashes and sets (txn_hash_set.cc) ---
  Status HashSet(std::string_view key, std::string_view field,
                 std::string_view value, SetMode mode, bool* created) override;
  Status HashDelete(std::string_view key, std::string_view field,
                    bool* existed) override;
  Status SetAdd(std::string_view key, std::string_view member,
                bool* added) override;
  Status SetRemove(std::string_view key, std::string_view member,
                   bool* removed) override;
  Status SetPop(std::string_view key, uint64_t count,
                const ElemFn& fn) override;
  // --- lists (txn_list.cc) ---
  Status ListPush(std::string_view key, End end, std::string_view value,
                  bool if_exists, uint64_t* length) override;
  Status ListPop(std::string_view key, End end, std::string* value) override;
  Status ListSet(std::string_view key, int64_t index,
                 std::string_view value) override;
  Status ListInsert(std::string_view key, uint64_t index,
                    std::string_view value) override;
  Status ListErase(std::string_view key, uint64_t index) override;
  Status ListTrim(std::string_view key, IndexRange keep) override;
  // --- sorted sets (txn_zset.cc) ---
  Status ZAdd(std::string_view key, std::string_view member, double score,
              const ZAddOptions& options, ZAddResult* result) override;
  Status ZRemove(std::string_view key, std::string_view member,
                 bool* removed) override;
  Status ZRemoveRangeByRank(std::string_view key, IndexRange range,
                            uint64_t* removed) override;
  Status ZRemoveRangeByScore(std::string_view key, const ScoreRange& range,
                             uint64_t* removed) override;
  Status ZRemoveRangeByLex(std::string_view key, const LexRange& range,
                           uint64_t* removed) override;
  Status ZPop(std::string_view key, bool max, uint64_t count,
              const ScoredFn& fn) override;
  void PrefetchPops(std::string_view key, bool max, uint64_t count) override;
  // --- streams (txn_stream.cc) ---
  Status StreamPut(std::string_view key, std::string_view subkey,
                   std::string_view value, bool create, bool* done) override;
  Status StreamDelete(std::string_view key, std::string_view subkey,
                      bool* existed) override;
  Status StreamEraseRanks(std::string_view key, uint64_t from, uint64_t to,
                          uint64_t* removed) override;
  // --- WATCH, savepoints, blocking pops, end (txn.cc, txn_commit.cc) ---
  void RequireVersion(std::string_view key, uint64_t version) override;
  uint64_t Savepoint() const override;
  void RollbackTo(uint64_t savepoint) override;
  const std::vector<std::string>& ReadyKeys() const override {
    return ready_keys_;
  }
  bool restart_required() const override { return restart_required_; }
  Status PutSystem(std::string_view key, std::string_view value) override;
  Status Commit(const WriteOptions& opts) override;
  void Abort() override;

  // The keys this Txn used, and the one whose stripe it could not take
  // (RunTxn declares them all when it runs fn again).
  std::vector<std::string> UsedKeys() const;
  // Commit failed for want of space: compact, then run again.
  bool needs_space() const { return needs_space_; }

  // --- CollReadOps (txn_keys.cc) ---
  Status ReadColl(std::string_view key, KeyType want, const CollFn& fn);
  Status ReadString(std::string_view key, std::string* value, ReadInfo* info);
  Status StatKey(std::string_view key, KeyInfo* info);
  StatusOr<DB::ScanPage> ScanKeysOf(uint64_t cursor, size_t count,
                                    KeyType type);

 private:
  // A key as this Txn sees it.
  struct View {
    KeyType type = KeyType::kNone;
    int64_t expire_at_ms = 0;
    Collection* coll = nullptr;  // a collection's
    uint64_t loc = 0;            // a string's entry (pending: this Txn's)
  };
  struct Key {
    std::string key;
    KeyHash kh;
    DBImpl::Current orig;  // the committed entry, at first use
    View view;
    int32_t key_sub = -1;  // this Txn's live key sub-entry
    bool written = false;  // its publish word entered
  };
  // A batch sub-entry of the image.
  struct Sub {
    uint32_t off = 0;
    bool superseded = false;
    bool shadows_medium = false;  // an element put over a committed one
    int32_t key = -1;             // key entries: the Key
    Collection* coll = nullptr;   // element entries: the collection
    uint64_t hint = ~0ull;        // list/zset elements: position at insert
  };
  // A collection this Txn touched.
  struct TouchedColl {
    bool created = false;
    bool dead = false;  // no key of this Txn's view names it: dies at commit
    uint64_t orig_size = 0;
  };
  struct Undo {
    enum Kind : uint8_t {
      kTableSet,    // a: new loc, b: old loc (0: inserted)
      kTableErase,  // a: removed loc
      kListInsert,  // a: position
      kListErase,   // a: position, b: loc
      kListSet,     // a: position, b: old loc
      kListErased,  // a: position, b: first saved loc, i: count
      kZInsert,     // a: loc
      kZErase,      // a: loc
      kZErased,     // b: first saved loc, i: count
      kView,        // i: key, b: saved view index
      kSuperseded,  // i: sub
      kTomb,        // (coll, i: sub): tombs_ entry added
      kTombGone,    // (coll, i: sub): tombs_ entry removed
      kDead,        // coll marked dead
      kCreated,     // coll created
      kReady,       // a ready key appended
      kRemoved,     // a committed element removed (removed_ appended)
      kPackedSet,   // a: new packed loc, b: old loc, i: old count
      kPackedForm,  // a new set took the packed form
      kUnpacked,    // a: the packed loc, i: its count (table form since)
    } kind;
    int32_t i = 0;
    Collection* c = nullptr;
    uint64_t a = 0, b = 0;
  };
  struct SavedView {
    View view;
    int32_t key_sub;
  };
  friend class TxnCommit;

  // Starts this (finished or new) Txn afresh on `db`, as the constructor.
  void Begin(DBImpl* db, const TxnOptions& options);
  // Whether its buffers grew past what a parked Txn may keep.
  bool Oversized() const;

  // --- keys and views (txn.cc) ---
  // The Key of `key`, its stripe locked (Busy + restart when it cannot be
  // taken in order).
  StatusOr<int32_t> Use(std::string_view key);
  // The Key of `key` if this Txn used it, else -1: a scan of keys_ while
  // they are few (a command's Txn), key_index_ beyond.
  int32_t FindKey(std::string_view key) const;
  static constexpr size_t kLinearKeys = 8;
  Status LockStripe(size_t stripe);
  View ViewOf(const DBImpl::Current& cur) const;
  // KeyInfo::version of keys_[k] as committed: its stripe has been held
  // since Use() read `orig`, so `orig` is still the index's entry.
  uint64_t CommittedVersion(int32_t k) const {
    const Key& key = keys_[k];
    return db_->VersionOf(key.kh, key.orig.loc != 0 ? key.orig.entry.seq : 0);
  }
  bool Live(const View& v) const;
  // Before the first write of a key: enters its publish word.
  void Writing(Key& k);
  void SaveView(int32_t k);
  // Replaces the key's entry in the image: a put/meta/link (or, for a
  // tombstone, nothing when nothing committed needs shadowing), and its
  // view. The collection the view named dies unless `keep_coll`.
  void SetKeyEntry(int32_t k, uint8_t type, std::string_view value,
                   int64_t expire_at_ms, const View& view,
                   bool keep_coll = false);
  void DeleteKey(int32_t k, bool keep_coll = false);
  TouchedColl& Touch(Collection* c);
  void MarkDead(Collection* c);
  // The collection `key` holds, of `type`: created when absent and
  // `create` (else *c = nullptr), WrongType for another type.
  Status CollForWrite(std::string_view key, KeyType type, bool create,
                      Collection** c, int32_t* k);
  // After an element removal: an empty collection's key is deleted.
  void AfterRemove(int32_t k, Collection* c);
  void Ready(int32_t k);

  // --- element sub-entries and in-place structure changes (txn_elems.cc)
  uint64_t AppendSub(uint8_t type, std::string_view key, std::string_view value,
                     int64_t expire, uint16_t reserved, int32_t key_index,
                     Collection* c);
  void Supersede(int32_t sub);
  int32_t SubAt(uint64_t pending_loc) const;
  // An element put (its pending location) replacing `cur` (0: none).
  uint64_t PutElem(Collection* c, std::string_view subkey,
                   std::string_view value, uint64_t cur);
  // The element at `cur` goes: its put superseded and/or a tombstone.
  void DelElem(Collection* c, std::string_view subkey, uint64_t cur);
  void TableSet(Collection* c, std::string_view subkey, uint64_t loc);
  void TableErase(Collection* c, std::string_view subkey);
  void ListInsertAt(Collection* c, uint64_t pos, uint64_t loc);
  void ListEraseAt(Collection* c, uint64_t pos);
  void ListSetAt(Collection* c, uint64_t pos, uint64_t loc);
  void ZInsert(Collection* c, std::string_view member, double score,
               uint64_t loc);
  void ZEraseMember(Collection* c, std::string_view member);
  // A present member moves from (old, cur) to (score, loc): ZEraseMember
  // then ZInsert in one index operation (ZsetIndex::Rescore), with their
  // two undo records.
  void ZRescore(Collection* c, std::string_view member, double old,
                uint64_t cur, double score, uint64_t loc);
  // Removes every element of ranks [from, to) (lists or zsets), with their
  // tombstones.
  void EraseRanks(Collection* c, uint64_t from, uint64_t to);
  void UndoOne(const Undo& u);
  void UndoTo(size_t n);
  void NoteRemoved(Collection* c, uint64_t loc);
  std::string SavedBytes(uint64_t i) const { return saved_bytes_[i]; }

  // --- packed sets (txn_packed_set.cc) ---
  // A set this Txn just created, still empty, takes the packed form when
  // `member` is an integer (Options::packed_set_max > 0).
  void MaybePack(Collection* c, std::string_view member);
  // SetAdd/SetRemove/SetPop of a packed set. PackedAdd returns false when
  // the member does not fit the packed form: the set is unpacked then,
  // and the caller adds it to the table.
  bool PackedAdd(Collection* c, std::string_view member, bool* added);
  void PackedRemove(int32_t k, Collection* c, std::string_view member,
                    bool* removed);
  void PackedPop(int32_t k, Collection* c, uint64_t count, const ElemFn& fn);
  void ReadPacked(const Collection& c, std::vector<int64_t>* ints);

  // The packed set now holds `ints` (none: its entry goes), or the
  // encoded `value` of `count` members (0: the entry goes).
  void WritePacked(Collection* c, const std::vector<int64_t>& ints);
  void WritePackedValue(Collection* c, const std::string& value,
                        uint64_t count);
  // The set leaves the packed form: a put per member of `ints` (its
  // members) and the packed entry's tombstone, in this Txn's record.
  void Unpack(Collection* c, const std::vector<int64_t>& ints);
  bool IsPacked(const Collection& c) const {
    ReadLock l(c.mu);
    return c.packed();
  }

  // --- lists (txn_list.cc) ---
  void ListInsertValue(Collection* c, uint64_t pos, std::string_view value);
  Status ListColl(std::string_view key, bool create, Collection** c,
                  int32_t* k) {
    return CollForWrite(key, KeyType::kList, create, c, k);
  }
  // LSET, LINSERT, LREM: `value` fits and `key` holds a list (NotFound
  // when absent).
  Status ExistingListFor(std::string_view key, std::string_view value,
                         Collection** c, int32_t* k);
  // --- zsets (txn_zset.cc) ---
  Status ZRemoveRanks(std::string_view key, uint64_t* removed,
                      const std::function<void(const Collection&, uint64_t*,
                                               uint64_t*)>& ranks);
  // --- strings and copies (txn_keys.cc) ---
  // A string's value (a link's: its target's).
  std::string_view StringValue(const View& v) const;
  // Writes the key's string entry (put or link) and views it.
  void SetString(int32_t k, uint8_t type, std::string_view value,
                 int64_t expire_at_ms);
  void CopyCollection(const Collection& from, int64_t expire_at_ms,
                      int32_t dst);

  // --- commit (txn_commit.cc) ---
  Status CommitWrites(const WriteOptions& opts);
  // The sub-entries the record keeps (not superseded, not of a collection
  // that dies), and whether they are all tombstones.
  void KeptSubs(std::vector<int32_t>* kept, bool* only_tombstones) const;
  // The record of those sub-entries with `seq` into *rec; (*offsets)[sub]
  // = where each went in it.
  void RecordImage(const std::vector<int32_t>& kept, uint64_t seq,
                   std::vector<uint64_t>* offsets, std::string* rec) const;
  // After the record is appended at locs (pool offsets by sub).
  void Apply(const std::vector<int32_t>& kept,
             const std::vector<uint64_t>& locs, uint64_t seq);
  void RegisterCreated(const std::vector<uint64_t>& locs);
  void RelocateElements(const std::vector<int32_t>& kept,
                        const std::vector<uint64_t>& locs);
  // RelocateElements of the list `c`'s relocs_[from, to) in one walk of
  // the positions they can be at; false (nothing done) when one search
  // each costs less.
  bool RelocateList(Collection* c, size_t from, size_t to,
                    const std::vector<uint64_t>& locs) REQUIRES(c->mu);
  // Subs_[i]'s pending element of `c` to its real location locs[i].
  void RelocateOne(Collection* c, int32_t i, const std::vector<uint64_t>& locs)
      REQUIRES(c->mu);
  // Releases words and stripes, frees what this Txn created and no key
  // kept. After it the Txn is finished.
  void Finish(bool committed);

  DBImpl* db_;
  PoolSource src_;     // the pool, and this Txn's pending locations
  std::string image_;  // the batch image (header, then sub-entries)
  // Commit's scratch (members so that a parked Txn keeps their capacity).
  std::vector<int32_t> kept_;
  std::vector<uint64_t> offsets_;
  std::string rec_;
  std::vector<std::pair<Collection*, int32_t>> relocs_;
  struct ListReloc {
    uint64_t pending;
    uint64_t real;  // 0 once relocated
    int32_t sub;
    bool operator<(const ListReloc& o) const { return pending < o.pending; }
  };
  std::vector<ListReloc> list_relocs_;
  std::vector<Sub> subs_;
  std::vector<Key> keys_;
  // The undeclared key whose stripe could not be taken in order: declared
  // by the run RunTxn restarts (UsedKeys), or the restart would fail the
  // same way again.
  std::optional<std::string> missed_key_;
  struct StrHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  // Filled once keys_ outgrows kLinearKeys.
  std::unordered_map<std::string, int32_t, StrHash, std::equal_to<>> key_index_;
  SmallPtrMap<Collection*, TouchedColl> colls_;
  std::vector<std::unique_ptr<Collection>> created_;
  // Element tombstones of this Txn by (collection, subkey): a later put of
  // the element supersedes its tombstone.
  TxnTombs tombs_;
  // Committed element locations removed from structures (dead at commit).
  // A committed element replaced or removed, and its dead-put hash
  // (computed, and its counter prefetched, when it left).
  struct Removed {
    Collection* c;
    uint64_t loc;
    uint64_t dead_hash;
  };
  std::vector<Removed> removed_;
  // ListInsertValue's plan, refilled for every list insert (its key vector
  // keeps its capacity across them and across the parked Txn's reuse).
  coll::InsertPlan insert_plan_;
  std::vector<int64_t> packed_ints_;  // the packed-set paths' scratch
  std::vector<Undo> undo_;
  std::vector<SavedView> saved_views_;
  std::vector<uint64_t> saved_locs_;
  std::vector<std::string> saved_bytes_;
  std::vector<std::string> ready_keys_;
  std::vector<std::pair<std::string, uint64_t>> required_;
  // PutSystem's entries (key, value), appended to the record after the
  // kept sub-entries; system_at_[i]: where system_[i] went in it.
  std::vector<std::pair<std::string, std::string>> system_;
  mutable std::vector<uint64_t> system_at_;  // RecordImage fills it
  bool system_writes_ = false;
  std::vector<size_t> stripes_;  // held, ascending
  // The time expiry is judged at: read on the first key with an expiry
  // (most Txns meet none and never read the clock), then fixed.
  static constexpr int64_t kNowUnread = INT64_MIN;
  mutable int64_t now_ms_ = kNowUnread;
  int64_t NowMs() const {
    if (now_ms_ == kNowUnread) now_ms_ = db_->NowMs();
    return now_ms_;
  }
  bool read_ = false;  // observed committed state (sync commits persist it)
  bool restart_required_ = false;
  bool needs_space_ = false;
  bool finished_ = false;
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_TXN_IMPL_H_
