// DBImpl: the log-structured engine behind engine/db.h.
//
// Write path: a writer takes its key's stripe mutex (serialising writers of
// one key, never readers), appends a record to its thread's log head (one
// persist per record), then publishes the new location in the index under
// the shard lock. Readers take only the shard lock, shared, for the probe
// and the value copy, so they never wait for a persist.
//
// Lock order: compaction_mu_ < stripes (ascending) < user heads < the
// compaction head < alloc_mu_ < index shard locks < sb_mu_. Batches hold
// several stripes (ascending); Flush() holds compaction_mu_, every stripe,
// then every head, so no writer is between its read and its Publish() while
// a flush runs. A thread holds at most one head at a time, except Flush()
// and Grow(), which take them all in order.
#ifndef DAXKV_ENGINE_DB_IMPL_H_
#define DAXKV_ENGINE_DB_IMPL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/db.h"
#include "engine/format.h"
#include "engine/index.h"
#include "engine/key_hash.h"
#include "engine/pool_scan.h"
#include "engine/state_ambiguity.h"
#include "engine/superblock_rebuild.h"

namespace daxkv::engine {

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
  Status Sync() override;
  Status Grow(size_t new_size) override;
  Status BackgroundError() const override;
  Stats GetStats() const override;
  const dax::RegionInfo& region_info() const override {
    return region_->info();
  }

  // Test hooks, as LevelDB's TEST_CompactRange (tests reach them through
  // tests/engine/db_test_hooks.h): the maintenance the background threads
  // do, for tests that switch those off with Options::background_*.
  // TEST_Compact compacts up to `max_segments` segments holding dead bytes
  // and returns how many it freed; TEST_ReclaimExpired durably deletes
  // expired keys and returns how many.
  StatusOr<uint64_t> TEST_Compact(size_t max_segments);
  StatusOr<uint64_t> TEST_ReclaimExpired() { return ReclaimExpired(); }

 private:
  // Durably deletes expired keys (tombstones); returns how many.
  StatusOr<uint64_t> ReclaimExpired();
  // kCovered: segments 2..N of a span (value bytes of the record its head
  // segment holds; see span.cc).
  enum class SegUse : uint8_t { kFree, kActive, kSealed, kCovered };
  struct SegMeta {
    std::atomic<uint64_t> live{0};  // bytes of indexed entries
    // Bytes of tombstone records: not live, yet compaction re-appends each
    // one while older puts of its key remain (see space.cc).
    std::atomic<uint64_t> tomb{0};
    std::atomic<uint32_t> tail{0};  // end of records (segment offset)
    std::atomic<SegUse> use{SegUse::kFree};
    uint64_t epoch = 0;
    uint32_t seed = 0;
    std::atomic<uint32_t> span{1};  // a span head: segments it covers
    int64_t head = -1;              // kCovered: the span's head segment
  };
  struct alignas(64) LogHead {
    std::mutex mu;
    int64_t seg = -1;
    uint32_t tail = 0;       // next append offset within the segment
    uint32_t persisted = 0;  // [header, persisted) is durable
    bool for_compaction = false;
    bool for_tombstones = false;  // the shared tombstone log (TombHead())
    std::atomic<uint64_t> persists{0};
  };
  // What one appended entry looks like to the index.
  struct Placed {
    uint64_t loc = 0;  // pool offset of the entry header
    uint64_t seq = 0;
    bool span = false;  // in a span of its own: ReleaseSpan() it
  };
  // The visible state of a key, read under its stripe.
  struct Current {
    uint64_t loc = 0;  // 0 = absent (or expired, when live == false)
    bool live = false;
    format::EntryHeader entry{};
  };

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
  void AdoptSegments(const PoolScan& scan);
  Status WriteSuperBlock();
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
  LogHead& MyHead();
  // The user head deletes fall back to when their own head finds no room:
  // one shared log, so tombstones from any number of threads need one
  // segment of the reserve at a time (see KeepFree()).
  LogHead& TombHead() { return *heads_.back(); }
  // Free segments `head` must leave when it takes a segment for a record
  // (`tombstone`: a delete, or a batch of deletes only).
  uint64_t KeepFree(const LogHead& head, bool tombstone) const;
  // Appends one put/tombstone record; REQUIRES the key's stripe.
  Status AppendEntry(LogHead& head, uint8_t type, std::string_view key,
                     std::string_view value, int64_t expire_at_ms, uint64_t seq,
                     bool sync, Placed* out);
  // Appends a prebuilt record image (batch records; `tombstones`: deletes
  // only).
  Status AppendImage(LogHead& head, std::string* image, bool sync,
                     bool tombstones, uint64_t* rec_off);
  Status Reserve(LogHead& head, uint64_t size, bool tombstone);
  void PersistPending(LogHead& head);
  // After PersistPending: records the head's durable prefix in its
  // segment's watermark word, so recovery can tell damage inside it from
  // a torn tail (Sync() only: a sync record carries kFlagPrefixDurable).
  void PublishWatermark(LogHead& head);
  // Persists every user head's unsynced records (what Sync() does): every
  // write visible when called is durable on return. Takes each head's
  // mutex in turn: REQUIRES none of them (nor a later lock) held.
  Status PersistUserHeads();
  void SealHead(LogHead& head);
  // Fails with NoSpace unless more than `keep_free` segments are free.
  // `victim_epoch` (nonzero for the compaction log) is stamped into the
  // header so that recovery can resume that victim (see space.cc).
  StatusOr<int64_t> AllocSegment(uint64_t keep_free, uint64_t victim_epoch = 0);
  // Frees a segment, or a whole span given its head.
  void FreeSegment(int64_t seg);

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
                    const SpanFill& fill, uint64_t* rec_off);
  // Hands the span holding the record at `loc`, which a writer has just
  // written and published, to compaction.
  void ReleaseSpan(uint64_t loc);
  bool IsSpanRecord(uint64_t size) const {
    return size > segment_size_ - format::kSegmentHeaderSize;
  }
  // Takes a run of `n` contiguous free segments, leaving `keep_free` free
  // ones. Returns the first segment.
  StatusOr<int64_t> TakeRun(uint64_t n, uint64_t keep_free, uint64_t size);
  // --- a run for a span (defrag.cc) ---
  // REQUIRES alloc_mu_. Per segment: 1 when on the free list.
  std::vector<uint8_t> FreeMapLocked() const;
  uint64_t LongestFreeRun() const;
  // The first segment of the window of `n` segments cheapest to empty
  // (free or sealed log segments only; its copies must fit outside it and
  // leave the reserve), or -1.
  int64_t PickRunWindow(uint64_t n) const;
  // Compacts the sealed segments of that window, keeping allocations out
  // of it, so that a span of `n` segments fits. REQUIRES compaction_mu_.
  bool MakeContiguousRun(uint64_t n);
  // Takes a free segment for a log, outside run_window_ unless nothing
  // else is free. REQUIRES alloc_mu_ and a non-empty free list.
  int64_t PopFreeSegmentLocked();
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
  std::mutex& Stripe(const KeyHash& kh) {
    return stripes_[kh.low() & (kStripes - 1)];
  }
  int64_t NowMs() const;
  Status CheckSizes(std::string_view key, std::string_view value) const;
  Current Lookup(const KeyHash& kh, std::string_view key) const;
  Status WriteEntry(const KeyHash& kh, uint8_t type, std::string_view key,
                    std::string_view value, int64_t expire_at_ms, bool sync,
                    const Current& cur);
  // Points the index at the entry at `loc` (or erases the key for a
  // tombstone); an entry a Flush() voided (`seq`) is never indexed.
  // REQUIRES the key's stripe.
  void Publish(const KeyHash& kh, std::string_view key, uint64_t loc,
               uint64_t seq, bool tombstone);
  void NoteDeadPut(const KeyHash& kh) {
    dead_[(kh.low() >> 20) & dead_mask_].fetch_add(1,
                                                   std::memory_order_relaxed);
  }
  uint32_t DeadPuts(const KeyHash& kh) const {
    return dead_[(kh.low() >> 20) & dead_mask_].load(std::memory_order_relaxed);
  }
  void ForgetDeadPut(const KeyHash& kh);
  // Retries fn after compaction while the pool is full: a few times, or,
  // for a delete (which must always be possible), as long as compaction
  // makes room.
  template <typename Fn>
  Status RetryOnNoSpace(Fn&& fn, bool for_delete = false);
  template <typename Fn>
  Status KeyedWrite(std::string_view key, bool lookup, Fn&& fn,
                    bool is_delete = false);
  Status WriteBatchLocked(const WriteBatch& batch, bool sync);

  // --- space (space.cc) ---
  int64_t PickVictim(double max_live_ratio) const;
  Status CompactSegment(int64_t seg);
  Status RelocateEntry(uint64_t loc, const format::EntryHeader& e);
  // Compacts until a write fits (for a delete: until the tombstone log can
  // take a segment, accepting any victim with dead bytes). Returns whether
  // the caller should retry.
  bool CompactForSpace(bool for_delete = false);
  void BackgroundLoop();
  uint64_t FreeSegments() const;

  // --- the sticky persistence error (health.cc) ---
  // OK unless an error is latched; the fast path is one atomic load.
  Status CheckWritable() const {
    return bg_failed_.load(std::memory_order_acquire) ? BackgroundError()
                                                      : OkStatus();
  }
  // After a persist that acknowledges something: latches and returns the
  // region's persist failure, if any.
  Status CheckPersisted(std::string_view during) {
    Status s = region_->PersistError();
    if (s.ok()) [[likely]]
      return s;
    LatchError(s, during);
    return BackgroundError();
  }
  // Latches `cause` unless an error is latched already.
  void LatchError(const Status& cause, std::string_view during);
  // A failed background task: counted; latched unless it is NoSpace.
  void NoteBackgroundFailure(const Status& s, std::string_view task);

  // --- resuming a compaction cut by a crash (compaction_resume.cc) ---
  // Recovery: the newest unsealed compaction log, or -1.
  int64_t FindCompactionLog(const PoolScan& scan) const;
  // Recovery: makes `seg` the compaction log again (zeroing past its last
  // record), names the victim to compact first and adopts the copies it
  // holds. REQUIRES: the index is rebuilt and segs_ adopted.
  void ResumeCompactionLog(int64_t seg);
  void AdoptRelocatedCopy(uint64_t loc, const format::EntryHeader& e);
  // Whether the tombstone at `loc` (in the resumed victim) already has its
  // copy in the compaction log. REQUIRES compaction_mu_.
  bool TombstoneRelocated(uint64_t loc, const format::EntryHeader& e);
  // Called when compaction frees `freed`. REQUIRES compaction_mu_.
  void FinishResume(int64_t freed);

  std::unique_ptr<dax::Region> region_;
  Options options_;
  char* base_;
  uint64_t segment_size_ = 0;
  std::atomic<uint64_t> segment_count_{0};
  // Free segments a put (or a batch with a put) leaves: one only compaction
  // may take, one only the shared tombstone log may take, and one user
  // heads' tombstones may take (KeepFree()).
  static constexpr uint64_t kCompactionReserve = 1;
  static constexpr uint64_t kTombstoneReserve = 1;
  uint64_t reserve_ = kCompactionReserve + kTombstoneReserve + 1;
  format::SuperBlock sb_{};
  std::mutex sb_mu_;

  std::unique_ptr<Index> index_;
  std::unique_ptr<SegMeta[]> segs_;
  uint64_t seg_capacity_ = 0;
  // The user heads, then TombHead() (last). Writers map to the others.
  std::vector<std::unique_ptr<LogHead>> heads_;
  LogHead compaction_head_;
  std::mutex alloc_mu_;
  std::vector<int64_t> free_list_;
  // Segments the last span allocation that failed needed (compaction makes
  // room for that many before it stops).
  std::atomic<uint64_t> span_wanted_{0};
  // Guarded by alloc_mu_: segments [first, second) MakeContiguousRun is
  // emptying for a span; log allocations avoid them until a span is taken.
  std::pair<int64_t, int64_t> run_window_{0, 0};

  static constexpr size_t kStripes = 4096;
  std::unique_ptr<std::mutex[]> stripes_;
  std::unique_ptr<std::atomic<uint32_t>[]> dead_;
  uint64_t dead_mask_ = 0;

  // Own cache lines: every write bumps last_seq_, and every Publish() reads
  // flush_seq_, which must not miss because another writer bumped the former.
  alignas(64) std::atomic<uint64_t> last_seq_{0};
  alignas(64) std::atomic<uint64_t> flush_seq_{0};  // seq <= it: void
  std::atomic<uint64_t> last_epoch_{0};
  std::mutex compaction_mu_;
  // Guarded by compaction_mu_ (and set by recovery before any thread runs):
  // the epoch of the segment being compacted (stamped into compaction logs),
  // the victim a crash interrupted (compacted before any other; -1 = none)
  // and the (seq, loc) of tombstone copies the compaction log held at
  // recovery, sorted.
  uint64_t compacting_epoch_ = 0;
  int64_t resume_victim_ = -1;
  std::vector<std::pair<uint64_t, uint64_t>> relocated_tombs_;

  // The latched error (health.cc): bg_failed_ is set once bg_error_ (guarded
  // by health_mu_) holds it, and never cleared.
  std::atomic<bool> bg_failed_{false};
  mutable std::mutex health_mu_;
  Status bg_error_;
  std::atomic<uint64_t> background_failures_{0};

  // Stats.
  std::atomic<uint64_t> compactions_{0};
  std::atomic<uint64_t> relocated_bytes_{0};
  std::atomic<uint64_t> expired_reclaimed_{0};
  std::atomic<uint64_t> misc_persists_{0};
  uint64_t recovery_ms_ = 0;
  uint64_t recovered_records_ = 0;
  uint64_t dropped_records_ = 0;
  bool clean_shutdown_ = false;

  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
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

#endif  // DAXKV_ENGINE_DB_IMPL_H_
