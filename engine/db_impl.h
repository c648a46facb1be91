// DBImpl: the log-structured engine behind engine/db.h.
//
// Write path: a writer takes its key's stripe mutex (serialising writers of
// one key, never readers), appends a record to its thread's log head (one
// persist per record), then publishes the new location in the index under
// the shard lock. Readers take only the shard lock, shared, for the probe
// and the value copy, so they never wait for a persist.
//
// Lock order: sys_write_mu_ < compaction_mu_ < stripes (ascending) < log heads
// (user heads, then the compaction head) < alloc_mu_ < sb_mu_.
// Collections (docs/collections.md, 7.1): a collection-table shard lock <
// a collection's lock, taken under the owning key's stripe (readers: under
// nothing; the freer: dead collections, under compaction_mu_) and never
// held while taking a stripe or a head.
// An index shard lock is a leaf (taken under any of them, nothing taken
// under it), and so is health_'s; bg_mu_ is taken alone. Batches hold several
// stripes (ascending); Flush() holds compaction_mu_, every stripe, then every
// head, so no writer is between its read and its Publish() while a flush runs.
// A thread holds at most one head at a time, except Flush() and Grow(), which
// take them all in order.
//
// The order is annotated (ACQUIRED_BEFORE / ACQUIRED_AFTER below) and checked
// by clang's -Wthread-safety-beta in `make test`'s clang build. Arrays of
// locks (the stripes, the log heads) stand in the order as one phantom
// capability each (LockLevel): every way of taking them (StripeLock,
// StripeSet, HeadLock, HeadSet) acquires the level too, so taking, say,
// compaction_mu_ or a stripe while holding a head fails the build. Index
// shard locks (RwSpinLock, a capability) guard their shard's fields; they are
// taken last, in scopes that take nothing else. The system table's mutex
// (sys_) is a leaf too, as are the mutexes of dead_colls_ and scrub_.
#ifndef DAXKV_ENGINE_DB_IMPL_H_
#define DAXKV_ENGINE_DB_IMPL_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/coll_table.h"
#include "engine/compaction_resume.h"
#include "engine/db.h"
#include "engine/dead_colls.h"
#include "engine/dead_counters.h"
#include "engine/elem_compactor.h"
#include "engine/format.h"
#include "engine/health.h"
#include "engine/index.h"
#include "engine/key_compactor.h"
#include "engine/key_hash.h"
#include "engine/key_type.h"
#include "engine/log_head.h"
#include "engine/pool_scan.h"
#include "engine/publish_words.h"
#include "engine/segment_scrub.h"
#include "engine/state_ambiguity.h"
#include "engine/superblock_rebuild.h"
#include "engine/system_table.h"

namespace daxkv::engine {

// Appends one system sub-entry (format::AppendSubEntry with the system
// flag) to a batch image: WriteSystem's, compaction's copies, and a Txn's
// PutSystem (system_ns.cc).
void AppendSystemSubEntry(std::string* image, uint8_t type, uint64_t seq,
                          std::string_view key, std::string_view value);

// A phantom capability standing for an array of locks in the lock order
// (see above); holds nothing.
class CAPABILITY("lock level") LockLevel {};

class DBImpl final : public DB {
 public:
  DBImpl(std::unique_ptr<dax::Region> region, const Options& options);
  ~DBImpl() override;

  // Formats or recovers the pool; call once before anything else.
  Status Init();

  Status Put(std::string_view key, std::string_view value, int64_t expire_at_ms,
             const WriteOptions& opts) override;
  Status PutIf(PutMode mode, std::string_view key, std::string_view value,
               int64_t expire_at_ms, const WriteOptions& opts) override;
  StatusOr<ReadResult> Get(std::string_view key) const override;
  Status Get(std::string_view key, std::string* value,
             ReadInfo* info) const override;
  void PrefetchKey(std::string_view key, bool write) const override;
  void PrefetchEntry(std::string_view key) const override;
  // PrefetchKey() for a key already hashed.
  void PrefetchHashed(const KeyHash& kh, bool write) const;
  void MultiGet(std::span<const std::string_view> keys,
                std::span<std::string> values, std::span<Status> statuses,
                std::span<ReadInfo> infos,
                size_t max_value_bytes) const override;
  Status Delete(std::string_view key, bool* existed,
                const WriteOptions& opts) override;
  bool Exists(std::string_view key) const override;
  uint64_t Count() const override;
  Status Write(const WriteBatch& batch, const WriteOptions& opts) override;
  Status Update(std::string_view key, const UpdateFn& fn,
                const WriteOptions& opts) override;
  Status SetExpiry(std::string_view key, int64_t expire_at_ms,
                   const WriteOptions& opts) override;
  Status Rename(std::string_view src, std::string_view dst,
                const WriteOptions& opts) override;
  StatusOr<ScanPage> Scan(uint64_t cursor, size_t count) const override;
  Status Flush() override;
  Status WriteSystem(const WriteBatch& batch) override
      EXCLUDES(sys_write_mu_, compaction_mu_);
  StatusOr<std::string> GetSystem(std::string_view key) const override;
  StatusOr<SystemEntries> ListSystem(std::string_view prefix) const override;
  Status Sync() override;
  void SetExpiryListener(ExpiryListener* listener) override;
  void SetPackedSetMax(uint32_t n) override {
    packed_set_max_.store(n, std::memory_order_relaxed);
  }
  Status Grow(size_t new_size) override;
  Status BackgroundError() const override { return health_.Error(); }
  Stats GetStats() const override;
  const dax::RegionInfo& region_info() const override {
    return region_->info();
  }
  StatusOr<std::unique_ptr<Txn>> BeginTxn(const TxnOptions& options) override;
  Status RunTxn(const TxnOptions& options, const WriteOptions& wopts,
                const std::function<Status(Txn&)>& fn) override;
  Status RunRead(const std::vector<std::string>& keys,
                 const std::function<Status(ReadOps&)>& fn) override;

  // Test hooks, as LevelDB's TEST_CompactRange: the maintenance the
  // background threads do, and seams for tests. Tests reach them through
  // tests/engine/db_test_hooks.h, which states each one's contract.
  StatusOr<uint64_t> TEST_Compact(size_t max_segments);
  uint64_t TEST_Scrub(size_t max_segments) EXCLUDES(compaction_mu_);
  StatusOr<uint64_t> TEST_ReclaimExpired() { return ReclaimExpired(); }
  Status TEST_CheckElemDeadCounts() EXCLUDES(compaction_mu_);
  size_t TEST_WriteHead();
  void TEST_SetWriteHead(size_t i);
  void TEST_RequestHeadMove();
  void TEST_SetBeforeElemSwap(std::function<void()> fn)
      EXCLUDES(compaction_mu_) {
    MutexLock l(&compaction_mu_);
    elems_.SetBeforeSwap(std::move(fn));
  }

 private:
  friend class TxnImpl;
  friend class ReadViewImpl;
  friend class CompactionResume;  // the compaction a crash cut short
  friend class ElemCompactor;     // a victim's element entries
  friend class KeyCompactor;      // a victim's key entries
  friend class SnapshotIo;     // the clean-close index snapshot

  // Durably deletes expired keys (tombstones), telling the expiry
  // listener; returns how many.
  StatusOr<uint64_t> ReclaimExpired();
  // The visible state of a key, read under its stripe.
  struct Current {
    uint64_t loc = 0;  // 0 = absent (or expired, when live == false)
    bool live = false;
    format::EntryHeader entry{};
  };

  // --- how stripes and heads are taken (the lock order above; defined in
  // engine/db_impl_locks.h) ---
  class StripeLock;      // one key's stripe
  class StripePairLock;  // two keys' stripes
  class StripeSet;       // any number of stripes, ascending
  class HeadLock;        // one log head
  class HeadSet;         // every head
  static constexpr size_t kStripes = kStripeCount;
  // Compaction, once its victim is sealed: takes and lets go each stripe
  // that no writer holds, and returns the others set. A writer takes its
  // key's stripe before it appends and lets it go once the record is
  // published (or abandoned), so every victim record of an idle stripe is
  // published by now. Never waits.
  StripeBits PassIdleStripes();

  // --- open / close (db_impl.cc) ---
  // Reads the superblocks; formats a blank region (refusing one whose
  // segments hold data unless options_.format_over_existing_data).
  Status ReadOrFormat(SuperBlockRead* read);
  // Clears the header lines of `old_segments` (format over existing data).
  Status Format(const SegmentEvidence& old_segments);
  Status Recover();

  // --- repairs and upgrades at open (recovery_repair.cc) ---
  Status ApplyRepairs(PoolScan* scan);
  // With repair: deletes the keys only ambiguous segments hold, then marks
  // those segments in use (state_ambiguity.h). REQUIRES: adopted.
  Status SettleAmbiguousSegments(const PoolScan& scan,
                                 const AmbiguityVerdict& verdict);
  // Version 1-2 pools: rewrites every legacy state word as a codeword.
  Status UpgradeStateWords(const PoolScan& scan);
  void AdoptSegments(const PoolScan& scan) REQUIRES(compaction_mu_);
  Status WriteSuperBlock() EXCLUDES(sb_mu_) {
    MutexLock l(&sb_mu_);
    return WriteSuperBlockLocked();
  }
  Status WriteSuperBlockLocked() REQUIRES(sb_mu_);
  void Close();

  // --- log (log.cc) ---
  char* SegBase(int64_t seg) const {
    return base_ + format::kDataOffset + seg * segment_size_;
  }
  // The segment whose SegMeta accounts for `loc` (a span's head for any
  // byte of the span).
  uint64_t SegOf(uint64_t loc) const {
    uint64_t s = (loc - format::kDataOffset) / segment_size_;
    const SegMeta& m = segs_[s];
    return m.use.load(std::memory_order_acquire) == SegUse::kCovered
               ? static_cast<uint64_t>(m.head)
               : s;
  }
  // The user head this thread appends to. Threads start spread over the
  // heads, and of two writing threads that meet on one, the younger moves
  // on (NoteAppender): two threads sharing a head serialize on its mutex,
  // which is held across the persist. So up to as many writing threads as
  // heads settle on heads of their own. Any head will do for any write: a
  // record's order is its sequence number, and Sync() persists every head.
  // REQUIRES: the caller holds no head lock (a pending move takes one).
  LogHead& MyHead();
  // Every append to `head` under `l` calls this first: it records the
  // appending thread in head.last_writer, and if `l` waited for an older
  // thread (a lower ThreadId()) that appended to this thread's head, the
  // thread's next MyHead() moves it to the next head (FinishHeadMove).
  // Only the younger moves, so two threads never chase each other from
  // head to head; and a Sync() or a compaction that persists every head,
  // holding it for a moment, appends nothing: no reason to move.
  void NoteAppender(LogHead& head, const HeadLock& l) REQUIRES(head.mu);
  // This thread's head without finishing a pending move: callable under a
  // head lock, which MyHead() is not.
  LogHead& HintedHead();
  // The user heads: all of heads_ but TombHead().
  size_t UserHeads() const { return heads_.size() - 1; }
  // Persists this thread's current head's pending records, then moves the
  // thread to the next head: its writes stay durable in order.
  // REQUIRES: the caller holds no head lock.
  void FinishHeadMove();
  // Each user head's mutex, then the compaction head's, acquired in order
  // (HeadSet) or released in reverse.
  void LockAllHeads();
  void UnlockAllHeads();
  // The user head deletes fall back to when their own head finds no room:
  // one shared log, so tombstones from any number of threads need one
  // segment of the reserve at a time (see KeepFree()).
  LogHead& TombHead() { return *heads_.back(); }
  // Free segments `head` must leave when it takes a segment for a record
  // (`tombstone`: a delete, or a batch of deletes only).
  uint64_t KeepFree(const LogHead& head, bool tombstone) const;
  // Appends one put/tombstone record; REQUIRES the key's stripe.
  // `reserved`: the header's reserved field (an element's type).
  Status AppendEntry(LogHead& head, uint8_t type, std::string_view key,
                     std::string_view value, int64_t expire_at_ms, uint64_t seq,
                     bool sync, Placed* out, uint16_t reserved = 0)
      EXCLUDES(head.mu);
  // Appends a prebuilt record image (batch records; `tombstones`: deletes
  // only).
  Status AppendImage(LogHead& head, std::string* image, bool sync,
                     bool tombstones, uint64_t* rec_off) EXCLUDES(head.mu);
  Status Reserve(LogHead& head, uint64_t size, bool tombstone)
      REQUIRES(head.mu, head_level_);
  void PersistPending(LogHead& head) REQUIRES(head.mu, head_level_);
  // After PersistPending: records the head's durable prefix in its
  // segment's watermark word, so recovery can tell damage inside it from
  // a torn tail (Sync() only: a sync record carries kFlagPrefixDurable).
  void PublishWatermark(LogHead& head) REQUIRES(head.mu, head_level_);
  // Group commit of one head: takes its mutex, persists its pending records
  // (if any), then publishes its watermark.
  void CommitHead(LogHead& head) EXCLUDES(head.mu);
  // Persists every user head's unsynced records (what Sync() does): every
  // write visible when called is durable on return. Takes each head's
  // mutex in turn: REQUIRES none of them (nor a later lock) held.
  Status PersistUserHeads() EXCLUDES(alloc_mu_, sb_mu_);
  void SealHead(LogHead& head) REQUIRES(head.mu, head_level_);
  // Fails with NoSpace unless more than `keep_free` segments are free.
  // `victim_epoch` (nonzero for the compaction log) is stamped into the
  // header so that recovery can resume that victim (see space.cc).
  StatusOr<int64_t> AllocSegment(uint64_t keep_free, uint64_t victim_epoch = 0)
      EXCLUDES(alloc_mu_);
  // Frees a segment, or a whole span given its head.
  void FreeSegment(int64_t seg) EXCLUDES(alloc_mu_);

  // --- spans (span.cc): records larger than a segment ---
  // Writes one record of `size` bytes into a span of its own: `fill` gets
  // the record's address and the span's seed/epoch and writes it (plain or
  // streaming stores, unpersisted); the span is then persisted, sealed and
  // committed. It stays out of compaction's sight (kActive) until the
  // writer, having published its entries, calls ReleaseSpan(). REQUIRES:
  // `head`'s mutex (keeps Flush/Grow out) and the stripes of the record's
  // keys (held until ReleaseSpan()).
  using SpanFill =
      std::function<void(char* rec, uint32_t seed, uint64_t epoch)>;
  Status AppendSpan(const LogHead& head, uint64_t size, bool tombstone,
                    const SpanFill& fill, uint64_t* rec_off)
      REQUIRES(head.mu, head_level_);
  // Hands the span holding the record at `loc`, which a writer has just
  // written and published, to compaction.
  void ReleaseSpan(uint64_t loc);
  bool IsSpanRecord(uint64_t size) const {
    return size > segment_size_ - format::kSegmentHeaderSize;
  }
  // Takes a run of `n` contiguous free segments, leaving `keep_free` free
  // ones. Returns the first segment.
  StatusOr<int64_t> TakeRun(uint64_t n, uint64_t keep_free, uint64_t size)
      EXCLUDES(alloc_mu_);
  // --- a run for a span (defrag.cc) ---
  // REQUIRES alloc_mu_. Per segment: 1 when on the free list.
  std::vector<uint8_t> FreeMapLocked() const REQUIRES(alloc_mu_);
  uint64_t LongestFreeRun() const EXCLUDES(alloc_mu_);
  // The first segment of the window of `n` segments cheapest to empty
  // (free or sealed log segments only; its copies must fit outside it and
  // leave the reserve), or -1.
  int64_t PickRunWindow(uint64_t n) const REQUIRES(compaction_mu_)
      EXCLUDES(alloc_mu_);
  // Compacts the sealed segments of that window, keeping allocations out
  // of it, so that a span of `n` segments fits. REQUIRES compaction_mu_.
  bool MakeContiguousRun(uint64_t n) REQUIRES(compaction_mu_);
  // Takes a free segment for a log, outside run_window_ unless nothing
  // else is free. REQUIRES alloc_mu_ and a non-empty free list.
  int64_t PopFreeSegmentLocked() REQUIRES(alloc_mu_);
  // Second half of freeing a span whose head is durably free: releases the
  // covered segments, then marks the head "released".
  void FinishSpanFree(int64_t seg, uint32_t span, uint64_t epoch);
  void ReleaseCovered(int64_t seg, uint32_t span, uint64_t freed_state);
  void CountPersist(LogHead& head) {
    head.persists.fetch_add(1, std::memory_order_relaxed);
  }

  // --- rename and links (rename.cc) ---
  struct LinkedBytes {
    int64_t seg = -1;  // the span head a link's target lies in; -1: none
    uint64_t bytes = 0;
  };
  // What the entry at `loc` keeps alive besides itself: for a link, its
  // target's bytes in the target's span. REQUIRES the entry be indexed (its
  // shard locked) so that the span cannot be freed meanwhile.
  LinkedBytes LinkedBytesOf(uint64_t loc) const;
  void AddLinkedLive(const LinkedBytes& l, int sign);
  // The link a rename of `cur` writes: to the same target for a link, to
  // the entry itself for a put in a span. False: copy the value.
  bool LinkTarget(const Current& cur, format::LinkPayload* link) const;
  // Repair: shadows every broken link recovery found (already out of the
  // index) with a tombstone.
  Status DropBrokenLinks(const PoolScan& scan);

  // --- writes (write.cc) ---
  Mutex& Stripe(const KeyHash& kh)
      RETURN_CAPABILITY(stripes_[kh.low() & (kStripes - 1)]) {
    return stripes_[kh.low() & (kStripes - 1)];
  }
  // For callbacks run under a stripe the analysis cannot see taken (a
  // lambda called by KeyedWrite): states that the caller holds it.
  void AssertStripeHeld(const KeyHash& kh) const
      ASSERT_CAPABILITY(stripes_[kh.low() & (kStripes - 1)])
          ASSERT_CAPABILITY(stripe_level_) {}
  // The same for a stripe held in a StripeSet, checked (debug builds).
  void AssertStripeIn(const StripeSet& set, const KeyHash& kh) const
      ASSERT_CAPABILITY(stripes_[kh.low() & (kStripes - 1)])
          ASSERT_CAPABILITY(stripe_level_);
  int64_t NowMs() const;
  Status CheckSizes(std::string_view key, std::string_view value) const;
  Current Lookup(const KeyHash& kh, std::string_view key) const;
  // *now_ms: the clock reading for expiry, taken here if < 0 (only a key
  // with an expiry needs it).
  // A value longer than max_value: ValueOverBatchLimit(), nothing copied.
  Status GetLocked(const Index::Shard& s, const KeyHash& kh,
                   std::string_view key, std::string* value, ReadInfo* info,
                   int64_t* now_ms, size_t max_value) const
      REQUIRES_SHARED(s.mu);
  // Get for a hashed key (Get and MultiGet).
  Status GetHashed(const KeyHash& kh, std::string_view key, std::string* value,
                   ReadInfo* info, int64_t* now_ms,
                   size_t max_value = SIZE_MAX) const;
  // MultiGet's steps for up to kMultiGetChunk keys (engine/multi_get.cc).
  static constexpr size_t kMultiGetChunk = 32;
  void MultiGetChunk(std::span<const std::string_view> keys,
                     std::string* values, Status* statuses, ReadInfo* infos,
                     int64_t* now_ms, size_t max_value) const;
  void PrefetchEntry(const Index::Shard& s, const KeyHash& kh,
                     std::string_view key) const REQUIRES_SHARED(s.mu);
  Status WriteEntry(const KeyHash& kh, uint8_t type, std::string_view key,
                    std::string_view value, int64_t expire_at_ms, bool sync,
                    const Current& cur) REQUIRES(Stripe(kh), stripe_level_);
  // Points the index at the entry at `loc` (or erases the key for a
  // tombstone); an entry a Flush() voided (`seq`) is never indexed.
  // REQUIRES the key's stripe.
  void Publish(const KeyHash& kh, std::string_view key, uint64_t loc,
               uint64_t seq, bool tombstone)
      REQUIRES(Stripe(kh), stripe_level_);
  void NoteDeadPut(const KeyHash& kh) { dead_.Note(kh.low()); }
  // Retries fn after compaction while the pool is full: a few times, or,
  // for a delete (which must always be possible), as long as compaction
  // makes room.
  template <typename Fn>
  Status RetryOnNoSpace(Fn&& fn, bool for_delete = false);
  template <typename Fn>
  Status KeyedWrite(std::string_view key, bool lookup, Fn&& fn,
                    bool is_delete = false);

  // --- space (space.cc) ---
  int64_t PickVictim(double max_live_ratio) const REQUIRES(compaction_mu_);
  // The background thread's victim threshold (live bytes over used).
  double BackgroundLiveRatio() const REQUIRES(compaction_mu_);
  Status CompactSegment(int64_t seg) REQUIRES(compaction_mu_);
  // Compacts until a write fits (for a delete: until the tombstone log can
  // take a segment, accepting any victim with dead bytes). Returns whether
  // the caller should retry.
  bool CompactForSpace(bool for_delete = false) EXCLUDES(compaction_mu_);
  void BackgroundLoop() EXCLUDES(bg_mu_, compaction_mu_);
  // The background thread's: maps the free segment the heads will take
  // next before its first append.
  void PrefaultAhead() EXCLUDES(alloc_mu_);
  // That segment, if not mapped yet; else -1.
  int64_t NextUnmappedLocked() const REQUIRES(alloc_mu_);
  uint64_t FreeSegments() const EXCLUDES(alloc_mu_);

  // --- collections (coll_hooks.cc, coll_compact.cc, coll_freer.cc;
  // a victim's element entries: ElemCompactor) ---
  // The key entry at `loc` that Publish() just indexed is a meta: its
  // collection's meta_loc follows it (expiry rewrite, rename, a Txn's
  // commit), if the id is live.
  void AdoptMeta(const format::MetaPayload& m, uint64_t loc);
  // The index slot that pointed at the meta entry at `loc` (collection
  // `id`) now points elsewhere: the collection dies, O(1), unless another
  // key owns it now (a rename). Its DRAM goes to the background freer.
  // REQUIRES the stripe of the key whose slot it was.
  void KillCollection(uint64_t id, uint64_t loc);
  // Hands a dead collection (unreachable: no table entry, lock taken and
  // released) to the freer; `account`: subtract its elements' live bytes.
  void EnqueueDead(Collection* c, bool account);
  // Frees up to `budget` elements of dead collections; returns how many.
  uint64_t RunFreer(uint64_t budget) REQUIRES(compaction_mu_);
  // A committed element at `loc` of collection `id` left its structure
  // (removed, replaced, or its collection died): its bytes are dead.
  void ElemGone(uint64_t id, uint64_t loc);
  // The same, given the element's ElemDeadHash.
  void ElemGoneHashed(uint64_t loc, uint64_t dead_hash);
  // Repair: shadows each element whose type was not its collection's.
  Status DropMismatchedElements(const PoolScan& scan);
  // KeyInfo::version (txn.h): max(the index entry's seq, the touch word).
  uint64_t VersionOf(const KeyHash& kh, std::string_view key) const;
  // The same, for a key whose index entry the caller read under its stripe
  // and still holds (`seq`: that entry's seq, 0 when it had none).
  uint64_t VersionOf(const KeyHash& kh, uint64_t seq) const {
    return std::max(seq, touch_.Load(TouchTable::Slot(kh)));
  }
  // Scan's page with each key's type; `type` kNone keeps every type.
  StatusOr<ScanPage> ScanTyped(uint64_t cursor, size_t count,
                               KeyType type) const;
  // The type of the key entry at `loc` (a live one).
  KeyType TypeAt(uint64_t loc) const;
  void CountCollection(KeyType t, int delta) {
    coll_counts_[static_cast<int>(t)].fetch_add(delta,
                                                std::memory_order_relaxed);
  }
  void DeleteCollections();

  // --- the system namespace (system_ns.cc) ---
  // `key`'s system entry at `loc` (seq `seq`) is durable: it becomes the
  // current one (when newer), with the live-byte accounting.
  void PublishSystem(std::string_view key, uint64_t loc, uint64_t seq,
                     bool tombstone);
  // Compaction of a system entry: the current one is copied (same seq).
  Status RelocateSystem(uint64_t loc, const format::EntryHeader& e)
      REQUIRES(compaction_mu_);
  // Recovery: the current system entries' bytes count as live.
  void AccountSystemLive();
  // Flush: the segments holding current system entries, with their bytes
  // (kept, sealed, instead of freed).
  std::map<uint64_t, uint64_t> SystemSegments() const;

  // --- the sticky persistence error (engine/health.h: health_) ---
  // After a persist that acknowledges something: latches and returns the
  // region's persist failure, if any.
  Status CheckPersisted(std::string_view during) {
    Status s = region_->PersistError();
    if (s.ok()) [[likely]]
      return s;
    return health_.Latch(s, during);
  }

  // --- the scrub after a snapshot open (scrub.cc, segment_scrub.h) ---
  // Recovery, after a snapshot open: every sealed segment is to be scrubbed.
  void PlanScrub() REQUIRES(compaction_mu_);
  // Scrubs up to `segments` of the segments left to scrub.
  void ScrubSome(size_t segments) EXCLUDES(compaction_mu_);
  // Verifies `seg`'s records if it is still to be scrubbed (else OK at
  // once). Damage is latched (LatchDamage) and returned. compaction_mu_
  // keeps the segment from being freed and reused meanwhile.
  Status ScrubSegment(int64_t seg) REQUIRES(compaction_mu_);
  // Corruption when the entry at `entry_loc` or its `value` (a link's
  // value lies in a span record of its own) lies in a damaged record.
  Status CheckNotDamaged(uint64_t entry_loc, std::string_view value) const {
    DAXKV_RETURN_IF_ERROR(health_.CheckNotDamaged(entry_loc));
    return health_.CheckNotDamaged(static_cast<uint64_t>(value.data() - base_));
  }

  std::unique_ptr<dax::Region> region_;
  Options options_;
  std::atomic<uint32_t> packed_set_max_{0};  // options_'s, as SetPackedSetMax
  char* base_;
  uint64_t segment_size_ = 0;
  std::atomic<uint64_t> segment_count_{0};
  // Free segments a put (or a batch with a put) leaves: one only compaction
  // may take, one only the shared tombstone log may take, and one user
  // heads' tombstones may take (KeepFree()).
  static constexpr uint64_t kCompactionReserve = 1;
  static constexpr uint64_t kTombstoneReserve = 1;
  uint64_t reserve_ = kCompactionReserve + kTombstoneReserve + 1;
  // Immutable once open: the pool's uuid and the format version found.
  std::array<uint8_t, 16> uuid_{};
  uint32_t opened_format_version_ = 0;

  std::unique_ptr<Index> index_;
  std::unique_ptr<SegMeta[]> segs_;
  uint64_t seg_capacity_ = 0;
  // The user heads, then TombHead() (last). Writers map to the others.
  std::vector<std::unique_ptr<LogHead>> heads_;
  // The lock order (see the top of this file), annotated.
  // Serializes system writes with each other and with Flush() (which
  // must see every durable system entry in the table before it frees).
  Mutex sys_write_mu_ ACQUIRED_BEFORE(compaction_mu_);
  Mutex compaction_mu_ ACQUIRED_BEFORE(stripe_level_);
  LockLevel stripe_level_ ACQUIRED_BEFORE(head_level_);
  LockLevel head_level_;
  LogHead compaction_head_;
  mutable Mutex alloc_mu_ ACQUIRED_AFTER(head_level_, compaction_head_.mu);
  Mutex sb_mu_ ACQUIRED_AFTER(alloc_mu_);
  Mutex bg_mu_;  // taken alone

  format::SuperBlock sb_ GUARDED_BY(sb_mu_){};
  std::vector<int64_t> free_list_ GUARDED_BY(alloc_mu_);
  // Segments the last span allocation that failed needed (compaction makes
  // room for that many before it stops).
  std::atomic<uint64_t> span_wanted_{0};
  // Segments [first, second) MakeContiguousRun is emptying for a span; log
  // allocations avoid them until a span is taken.
  std::pair<int64_t, int64_t> run_window_ GUARDED_BY(alloc_mu_){0, 0};

  // Elements the background freer handles per hold of compaction_mu_.
  static constexpr uint64_t kFreerSlice = uint64_t{1} << 16;
  // Segments the scrub verifies per hold of compaction_mu_ and per round
  // of the background loop.
  static constexpr size_t kScrubSlice = 4;
  std::unique_ptr<Mutex[]> stripes_;
  DeadCounters dead_;  // the tombstone rule's (space.cc)

  // Own cache lines: every write bumps last_seq_, and every Publish() reads
  // flush_seq_, which must not miss because another writer bumped the former.
  alignas(64) std::atomic<uint64_t> last_seq_{0};
  alignas(64) std::atomic<uint64_t> flush_seq_{0};  // seq <= it: void
  std::atomic<uint64_t> last_epoch_{0};
  // The epoch of the segment being compacted (stamped into compaction logs;
  // written under compaction_mu_, read when the compaction head takes a
  // segment).
  std::atomic<uint64_t> compacting_epoch_{0};
  // The compaction a crash interrupted, resumed (compaction_resume.h).
  CompactionResume resume_ GUARDED_BY(compaction_mu_){*this};
  // The victim's element entries, a run of one collection's at a time.
  ElemCompactor elems_ GUARDED_BY(compaction_mu_){*this};
  KeyCompactor keys_ GUARDED_BY(compaction_mu_){*this};  // and its keys'

  Health health_;
  // Segments still to be scrubbed (scrub.cc) and the records verified.
  SegmentScrub scrub_;

  // Stats.
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> prefaulted_{0};
  // False once the region said it cannot prefault.
  std::atomic<bool> prefault_works_{true};
  std::atomic<uint64_t> relocated_bytes_{0};
  std::atomic<uint64_t> expired_reclaimed_{0};
  // Held by ReclaimExpired throughout (before any stripe), so that
  // SetExpiryListener returns only once the old listener is out.
  Mutex listener_mu_;
  ExpiryListener* listener_ GUARDED_BY(listener_mu_) = nullptr;
  std::atomic<uint64_t> misc_persists_{0};
  std::atomic<uint64_t> head_moves_{0};  // Stats::head_moves
  uint64_t recovery_ms_ = 0;
  uint64_t recovered_records_ = 0;
  uint64_t dropped_records_ = 0;
  bool clean_shutdown_ = false;
  std::string index_recovery_;  // Stats::index_recovery

  std::condition_variable_any bg_cv_;
  bool stop_ GUARDED_BY(bg_mu_) = false;

  // Collections (docs/collections.md).
  // ElemHash seed: random per pool open, but a snapshot open adopts the
  // seed of the snapshot it loads (whose positions are made with it).
  uint64_t hash_seed_ = 0;
  std::unique_ptr<CollTable> colls_;
  SystemTable sys_;
  PublishWords words_;
  TouchTable touch_;
  std::atomic<int64_t> coll_counts_[7] = {};  // by KeyType
  std::atomic<int64_t> elements_{0};
  // Dead collections the freer has not finished: the queue, and the one
  // it is working on.
  DeadCollQueue dead_colls_;
  DeadColl freeing_ GUARDED_BY(compaction_mu_);
  std::thread bg_thread_;
  bool opened_ = false;
};

template <typename Fn>
inline Status DBImpl::RetryOnNoSpace(Fn&& fn, bool for_delete) {
  const int attempts = for_delete ? 64 : 3;
  for (int attempt = 0;; ++attempt) {
    Status s = fn();
    if (s.code() != StatusCode::kNoSpace || attempt >= attempts) return s;
    // Compaction takes stripe locks, so it runs with none of ours held.
    if (!CompactForSpace(for_delete)) return s;
  }
}

}  // namespace daxkv::engine

#include "engine/db_impl_locks.h"  // IWYU pragma: export

#endif  // DAXKV_ENGINE_DB_IMPL_H_
