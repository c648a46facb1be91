// DB: daxkv's crash-consistent, concurrent, log-structured key-value engine
// on a dax::Region. See docs/durability.md for the durability contract and
// docs/format.md for the media format.
//
// Durability: a write that returns OK with WriteOptions::sync = true (the
// default) survives a power failure. With sync = false the write is applied
// and visible, but durable only once a later Sync() (from any thread)
// returns: group commit, for callers such as the server that persist a whole
// event-loop round before replying.
//
// Visibility rule: a write becomes visible to readers only once it is durable
// or is covered by the next Sync() call of any thread. So a server that calls
// Sync() before sending replies never replies with data a crash could lose.
//
// Thread-safety: every method may be called from any number of threads at
// once. Readers never block on writers of other keys.
//
// Expiry times are absolute Unix times in milliseconds; 0 means "no expiry".
// An expired key is invisible to every read and is reclaimed in the
// background.
#ifndef DAXKV_ENGINE_DB_H_
#define DAXKV_ENGINE_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "base/statusor.h"
#include "dax/region.h"

namespace daxkv::engine {

class Txn;
class ReadOps;
struct TxnOptions;

inline constexpr size_t kMaxKeySize = 64 * 1024;
inline constexpr size_t kMaxValueSize = 512ull * 1024 * 1024;

struct Options {
  // Format the region when it holds no daxkv pool (all-zero superblocks
  // and no segment header of any pool after them). A region holding
  // something else is never formatted over.
  bool create_if_missing = true;
  // Blank superblocks but valid segment headers after them (superblocks
  // wiped or zeroed by damage) make Open refuse with Corruption naming
  // them: `daxkv-inspect pool --repair` rebuilds the superblock. This
  // formats over them instead, destroying their data (with
  // create_if_missing; daxkv-server --format_over_existing_data).
  bool format_over_existing_data = false;
  // Geometry for a new pool; ignored when opening an existing one. A
  // record (key + value + 40 bytes) larger than a segment (minus its
  // 128-byte header) takes a span of contiguous free segments of its own.
  size_t segment_size = 4u << 20;
  // 0 = std::thread::hardware_concurrency().
  int recovery_threads = 0;
  // Called from Open() while recovering: (bytes scanned, bytes total).
  std::function<void(uint64_t, uint64_t)> recovery_progress;
  // On damaged records: false = refuse to open (Corruption, naming them);
  // true = drop only the damaged records, report them in Stats, and open.
  // A segment whose state word is damaged beyond correction stays in use,
  // minus the keys only it holds (which a free segment would not: repair
  // never brings back a deleted key); the refusal names them.
  bool repair = false;
  // On a clean close, write the DRAM index, collections included, into
  // free segments (when enough of them are free), so that the
  // next open loads it instead of scanning the pool (docs/format.md,
  // "Index snapshot"). Off: closes write none and opens ignore any.
  bool index_snapshot = true;
  // User log heads: writing threads append to a head each, so this many
  // can persist at once. 0 = one per core. At most 16, and at most half
  // the pool's spare segments.
  int write_heads = 0;
  // Background work; tests switch these off and drive it by hand.
  bool background_compaction = true;
  bool background_expiry = true;
  // After a snapshot open (which reads no record), verify every record's
  // checksums in the background, as a scan open would have, latching
  // Corruption on damage (engine/scrub.cc). Compaction scrubs each victim
  // first either way.
  bool background_scrub = true;
  // A set created with an integer member keeps its members packed in one
  // entry (coll_packed_ints.h) while they are all integers and at most this
  // many (Redis's set-max-intset-entries); 0: every set keeps a location
  // per member. Each change rewrites the packed entry, so large values
  // trade write bytes for DRAM. At most kPackedSetLimit.
  uint32_t packed_set_max = 512;
  // Time source for expiry. REQUIRES: outlives the DB.
  const Clock* clock = SystemClock();
};

// The largest Options::packed_set_max: a change of a packed set of 64-bit
// integers rewrites at most 512 KiB.
inline constexpr uint32_t kPackedSetLimit = 1 << 16;

struct WriteOptions {
  bool sync = true;
};

struct ReadResult {
  std::string value;
  int64_t expire_at_ms = 0;
  // Changes on every write of the key; WATCH-style optimistic checks use it.
  uint64_t version = 0;
};

// What Get(key, value, info) reports besides the value.
struct ReadInfo {
  int64_t expire_at_ms = 0;
  uint64_t version = 0;  // as ReadResult::version
};

// An atomic group of writes: after a crash either all of them or none are
// present. Preconditions are checked atomically with the commit.
class WriteBatch {
 public:
  void Put(std::string_view key, std::string_view value,
           int64_t expire_at_ms = 0);
  void Delete(std::string_view key);
  // Fail the whole batch with Aborted unless `key`'s version is `version`
  // (0 = the key must be absent) at commit time.
  void RequireVersion(std::string_view key, uint64_t version);
  void Clear();
  size_t Count() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }

  enum class OpType : uint8_t { kPut, kDelete };
  struct Op {
    OpType type;
    std::string key;
    std::string value;
    int64_t expire_at_ms = 0;
  };
  struct Precondition {
    std::string key;
    uint64_t version;
  };
  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<Precondition>& preconditions() const { return pre_; }

 private:
  std::vector<Op> ops_;
  std::vector<Precondition> pre_;
};

enum class PutMode {
  kUpsert,
  kIfAbsent,   // fails with AlreadyExists when the key is live
  kIfPresent,  // fails with NotFound when the key is absent
};

// Read-modify-write callback. `old` is null when the key is absent. Set
// *out to the new value, or leave it empty (nullopt) to delete the key. A
// non-OK return aborts the update and is returned by Update().
struct UpdateInput {
  const std::string* old = nullptr;
  int64_t old_expire_at_ms = 0;
};
struct UpdateOutput {
  std::optional<std::string> value;
  int64_t expire_at_ms = 0;
};
using UpdateFn = std::function<Status(const UpdateInput&, UpdateOutput*)>;

struct Stats {
  uint64_t keys = 0;
  uint64_t expiring_keys = 0;
  uint64_t pool_bytes = 0;
  uint64_t used_bytes = 0;  // bytes in segments holding records
  uint64_t live_bytes = 0;
  uint64_t segments = 0;
  uint64_t free_segments = 0;
  uint64_t persists = 0;  // Persist/Drain calls issued since open
  // Times a writing thread waited for its log head behind an older thread's
  // append and moved to the next head (Options::write_heads).
  uint64_t head_moves = 0;
  uint64_t compactions = 0;
  // Free segments the background thread mapped ahead of the log heads
  // (dax::Region::Prefault), so appends take no page fault.
  uint64_t prefaulted_segments = 0;
  uint64_t relocated_bytes = 0;  // bytes compaction copied (write amp.)
  uint64_t expired_reclaimed = 0;
  uint64_t recovery_ms = 0;
  uint64_t recovered_records = 0;
  // Damaged records dropped by repair (each damaged range counts one, a
  // segment whose header was damaged one, a key deleted because only a
  // segment of unknown state held it one).
  uint64_t dropped_records = 0;
  bool clean_shutdown = false;   // the last close was clean
  // How the last open rebuilt the index: "snapshot" (loaded from the
  // clean-close index snapshot) or "scan: <why no snapshot was used>".
  std::string index_recovery;
  // The scrub after a snapshot open: segments still to verify, records
  // verified, and damaged records found (each also latched as
  // background_error).
  uint64_t scrub_pending_segments = 0;
  uint64_t scrub_verified_records = 0;
  uint64_t scrub_damaged_records = 0;
  uint64_t index_bytes = 0;      // DRAM held by the index
  // Background tasks (compaction, expiry reclaim) that failed, any cause.
  uint64_t background_failures = 0;
  // BackgroundError() as text: "" while the engine can persist.
  std::string background_error;
  // Collections (engine/txn.h), by type: `keys` counts them too (strings
  // are keys - hashes - lists - sets - zsets - streams).
  uint64_t hashes = 0;
  uint64_t lists = 0;
  uint64_t sets = 0;
  uint64_t zsets = 0;
  uint64_t streams = 0;
  uint64_t elements = 0;  // in live collections
  // DRAM held by the collections (their objects, structures and the
  // id table; not the key index): collection_bytes / elements is the
  // DRAM cost of an element.
  uint64_t collection_bytes = 0;
  // Deleted collections whose DRAM the background freer has not returned
  // yet (DEL and UNLINK are O(1); the freeing is not).
  uint64_t freeing_collections = 0;
  // Current entries of the system namespace (not counted in `keys`).
  uint64_t system_keys = 0;
};

// Told of the keys the engine deletes because their expiry passed (the
// background reclaim), so that a replication master can send a DEL for
// each, as Redis does. For a batch of expired keys the reclaimer calls
// Enter() before it takes any key's lock, then per key Expiring(key)
// before it locks that key (the listener may still read it through the
// DB) and Expired(key) once its deletion is durable (with the key's lock
// held: no DB call for that key then), and Exit() when the batch is done
// (also on error). Enter may take the locks the caller's writers take
// before the engine's (an order mutex).
// Thread-safety: called from the engine's background thread.
class ExpiryListener {
 public:
  virtual ~ExpiryListener() = default;
  virtual void Enter() = 0;
  virtual void Expiring(std::string_view key) = 0;
  virtual void Expired(std::string_view key) = 0;
  virtual void Exit() = 0;
};

class DB {
 public:
  // Opens the pool on `region`, recovering from any crash. Formats the
  // region when it is blank and options.create_if_missing.
  static StatusOr<std::unique_ptr<DB>> Open(std::unique_ptr<dax::Region> region,
                                            const Options& options);
  virtual ~DB() = default;

  // Errors: InvalidArgument (sizes), NoSpace (pool full, or no run of
  // contiguous segments can be freed for a value larger than a segment:
  // compaction moves log records to make one, spans never move; nothing
  // acknowledged is lost), AlreadyExists / NotFound for PutIf conditions.
  virtual Status Put(std::string_view key, std::string_view value,
                     int64_t expire_at_ms = 0,
                     const WriteOptions& opts = {}) = 0;
  virtual Status PutIf(PutMode mode, std::string_view key,
                       std::string_view value, int64_t expire_at_ms = 0,
                       const WriteOptions& opts = {}) = 0;
  // NotFound when the key is absent or expired; WrongType (txn.h) when it
  // holds a collection.
  virtual StatusOr<ReadResult> Get(std::string_view key) const = 0;
  // A hint with no effect on any result: starts loading the DRAM lines
  // that the first read (and with `write`, the first write) of `key` waits
  // for: its index slot, its version words, its dead-put counter. Work done
  // before that access then overlaps the misses. Takes no lock; cheap
  // enough to call for every key of a command.
  virtual void PrefetchKey(std::string_view /*key*/, bool /*write*/) const {}
  // The second half of that hint, for a caller with other work still to do
  // before the access (a script's interpreter set-up): starts loading the
  // first lines of the entry `key`'s slot points at, the header and key
  // bytes a lookup compares. It reads the slot, so call it a while after
  // PrefetchKey(). Takes the key's index shard lock shared for a moment;
  // changes no result.
  virtual void PrefetchEntry(std::string_view /*key*/) const {}
  // Get into a caller-owned buffer: on OK *value holds the value, reusing
  // its capacity (a loop of reads into one string allocates nothing), and
  // *info (may be null) the expiry and version. On error *value is
  // unspecified. Same errors as Get(key).
  virtual Status Get(std::string_view key, std::string* value,
                     ReadInfo* info = nullptr) const {
    DAXKV_ASSIGN_OR_RETURN(ReadResult r, Get(key));
    *value = std::move(r.value);
    if (info != nullptr) *info = {r.expire_at_ms, r.version};
    return OkStatus();
  }
  // Batched Get: statuses[i] and values[i] (and infos[i] when `infos` is
  // not empty) are what Get(keys[i], &values[i], &infos[i]) would give, at
  // one clock reading for the whole batch. Each key is read at a moment no
  // transaction publishes it, as Get reads it (a batch is no snapshot).
  // DBImpl hashes every key and prefetches every index slot, then resolves
  // the slots and prefetches every log entry, then copies the values, so
  // that the cache misses of the keys overlap. Keys may repeat. The default
  // is a loop of Get (DBs that forward to another).
  // A value longer than `max_value_bytes` is not copied: its status is
  // ValueOverBatchLimit() (kAborted) and the caller reads it alone (a batch's
  // memory is bounded by count * max_value_bytes, not by what the keys hold).
  // REQUIRES: values.size() == statuses.size() == keys.size(), and
  // infos.size() is 0 or keys.size().
  virtual void MultiGet(std::span<const std::string_view> keys,
                        std::span<std::string> values,
                        std::span<Status> statuses,
                        std::span<ReadInfo> infos = {},
                        size_t max_value_bytes = SIZE_MAX) const {
    for (size_t i = 0; i < keys.size(); ++i) {
      statuses[i] = Get(keys[i], &values[i],
                        infos.empty() ? nullptr : &infos[i]);
      if (statuses[i].ok() && values[i].size() > max_value_bytes) {
        values[i].clear();
        statuses[i] = ValueOverBatchLimit();
      }
    }
  }
  static Status ValueOverBatchLimit() {
    return AbortedError("value longer than the batch's limit");
  }
  static bool IsValueOverBatchLimit(const Status& s) {
    return s.code() == StatusCode::kAborted;
  }
  // Sets *existed (may be null); OK whether or not the key existed.
  virtual Status Delete(std::string_view key, bool* existed = nullptr,
                        const WriteOptions& opts = {}) = 0;
  virtual bool Exists(std::string_view key) const = 0;
  // Live (unexpired) keys.
  virtual uint64_t Count() const = 0;
  virtual Status Write(const WriteBatch& batch,
                       const WriteOptions& opts = {}) = 0;
  // Atomic w.r.t. every other writer of `key`. WrongType for a collection.
  virtual Status Update(std::string_view key, const UpdateFn& fn,
                        const WriteOptions& opts = {}) = 0;
  // Sets or clears (0) the expiry of a live key; NotFound when absent.
  virtual Status SetExpiry(std::string_view key, int64_t expire_at_ms,
                           const WriteOptions& opts = {}) = 0;
  // Moves `src`'s value and expiry to `dst` (overwriting it) and deletes
  // `src`, atomically (one record: after a crash both or neither changed)
  // and with the durability of any write (opts.sync). O(1) in the value's
  // size for a value larger than a segment (the new key refers to the
  // value where it is); smaller values are copied. NotFound when `src` is
  // absent; OK without a change when src == dst.
  virtual Status Rename(std::string_view src, std::string_view dst,
                        const WriteOptions& opts = {}) {
    return NotSupportedError("Rename");
  }

  // Cursor scan like Redis SCAN: start with cursor 0, stop when the returned
  // cursor is 0. Every key live for the whole scan is returned at least
  // once; keys may repeat.
  struct ScanPage {
    std::vector<std::string> keys;
    uint64_t next_cursor = 0;
  };
  virtual StatusOr<ScanPage> Scan(uint64_t cursor, size_t count) const = 0;

  // Drops every key, durably.
  virtual Status Flush() = 0;
  // --- The system namespace (docs/format.md, "System entries") ---
  // Durable entries the server keeps for itself (function libraries,
  // replication state). They are not keys: Get, Scan, Count, transactions
  // and every other call above never see them, and Flush() keeps them.
  // WriteSystem is synchronous (durable before OK) and atomic (one record:
  // after a crash all of the batch or none of it); expiries and
  // preconditions are refused. Keys are 1..kMaxKeySize bytes. The defaults
  // answer NotSupported (DBs that forward to another).
  virtual Status WriteSystem(const WriteBatch& batch) {
    return NotSupportedError("WriteSystem");
  }
  // NotFound when `key` holds no system entry.
  virtual StatusOr<std::string> GetSystem(std::string_view key) const {
    return NotSupportedError("GetSystem");
  }
  // Every system key starting with `prefix` with its value, in key order.
  using SystemEntries = std::vector<std::pair<std::string, std::string>>;
  virtual StatusOr<SystemEntries> ListSystem(std::string_view prefix) const {
    return NotSupportedError("ListSystem");
  }

  // Installs (or, with null, removes) the expiry listener. Returns once no
  // call of the previous listener is running: the caller may destroy it.
  virtual void SetExpiryListener(ExpiryListener* listener) {}

  // Options::packed_set_max from now on (Redis's CONFIG SET
  // set-max-intset-entries): it decides which new sets pack and when a
  // packed one unpacks; sets already unpacked stay so. REQUIRES: n <=
  // kPackedSetLimit. Thread-safe.
  virtual void SetPackedSetMax(uint32_t n) {}

  // Makes durable every write, from any thread, that was visible when Sync()
  // was called (in particular every write that had returned).
  virtual Status Sync() = 0;
  // Extends the pool (file backings). NotSupported on devdax.
  virtual Status Grow(size_t new_size) = 0;

  // OK while the engine can keep its durability promise. Once a persist or
  // a background task (compaction, expiry reclaim) fails in a way that
  // could cost an acknowledged write, this returns that first error; it is
  // sticky until the pool is reopened, and every write fails with it. The
  // server reports it in INFO and refuses writes with -MISCONF.
  virtual Status BackgroundError() const { return OkStatus(); }

  virtual Stats GetStats() const = 0;
  virtual const dax::RegionInfo& region_info() const = 0;
  // --- Transactions (engine/txn.h): every type, every command ---
  // Put, Delete, SetExpiry, Rename and Write above work on keys of every
  // type too (a collection they replace or delete dies with its elements,
  // O(1)); the collections' own operations are the Txn's.
  //
  // Begins a transaction holding the stripes of options.keys. The caller
  // Commits or Aborts it on this thread. (The default implementation, for
  // DBs that forward to another, answers NotSupported.)
  [[nodiscard]] virtual StatusOr<std::unique_ptr<Txn>> BeginTxn(
      const TxnOptions& options);
  // Runs fn in a Txn and commits it with `wopts`. When the Txn must
  // restart (an undeclared key whose stripe could not be taken in order,
  // or a commit that must compact first) it is aborted and fn runs again
  // from the start, with the keys it used declared. fn returns non-OK to
  // abort (its status is returned, nothing is applied). REQUIRES: fn
  // resets its side effects (replies) at each run.
  [[nodiscard]] virtual Status RunTxn(const TxnOptions& options,
                                      const WriteOptions& wopts,
                                      const std::function<Status(Txn&)>& fn);
  // Runs fn on a consistent read-only view (txn.h, ReadView): it sees every
  // transaction entirely or not at all, across all the keys it reads.
  // `keys`: the keys fn will read (a hint; others may be read too). fn may
  // run more than once (a view of one key never re-runs).
  [[nodiscard]] virtual Status RunRead(
      const std::vector<std::string>& keys,
      const std::function<Status(ReadOps&)>& fn);
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_DB_H_
