// Pool scanning shared by recovery (DB::Open) and inspection
// (InspectPool): superblock selection, segment classification, record
// verification and the parallel rebuild of the index. Nothing here writes to
// the pool; recovery applies its decisions afterwards.
//
// Thread-safety: ScanPool runs its own worker threads; the caller must keep
// the pool bytes stable (no writers) for the duration.
#ifndef DAXKV_ENGINE_POOL_SCAN_H_
#define DAXKV_ENGINE_POOL_SCAN_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/format.h"
#include "engine/index.h"

namespace daxkv::engine {

class CollTable;
class SystemTable;

struct PoolProblem {
  uint64_t offset = 0;  // pool offset of the damage
  uint64_t length = 0;  // bytes affected (0 = unknown)
  bool repairable = true;
  std::string what;
};

struct SuperBlockRead {
  bool blank = false;  // both copies all-zero: no pool here
  bool no_valid_copy = false;  // Corruption: neither copy valid
  bool valid_a = false;
  bool valid_b = false;
  format::SuperBlock sb{};  // the copy in force (highest valid generation)
  std::vector<PoolProblem> problems;
};

// Reads both superblock copies. Errors: NotSupported for a newer format
// version, Corruption when neither copy is valid (and not blank),
// InvalidArgument when the region is too small or the geometry is
// inconsistent with it.
Status ReadSuperBlocks(const char* base, size_t size, SuperBlockRead* out);

enum class SegmentState : uint8_t {
  kUnused,   // never allocated (or belongs to another pool)
  kFree,     // freed by compaction or flush
  kInUse,    // holds records; scanned
  kDamaged,  // header checksum mismatch: its records cannot be verified
  kSpanned,  // segment 2..N of an in-use span: bytes of the head's record
  // Valid header, but a state word that decodes to no state consistent
  // with it (4+ flipped bits): the segment may be in use or free. Not
  // scanned unless ScanOptions::ambiguous_in_use (see state_ambiguity.h).
  kAmbiguous,
};

struct SegmentScan {
  SegmentState state = SegmentState::kUnused;
  uint64_t epoch = 0;
  uint32_t seed = 0;
  bool sealed = false;
  bool torn_tail = false;  // an unsealed segment ended in a torn record
  uint32_t tail = 0;       // segment offset just past the last valid record
  uint32_t span = 1;       // kInUse: segments covered (> 1: a span head)
  uint64_t span_head = 0;  // kSpanned: the span's first segment
  // kFree: a span head whose allocation or free was cut short; it claims
  // `span` segments (free too), whose header lines must be released.
  bool release_span = false;
  uint64_t records = 0;
  uint64_t tombstones = 0;       // records holding tombstones
  uint64_t tombstone_bytes = 0;  // their format::TombstoneBytes
  // Segment-relative [offset, end) ranges of damaged bytes.
  std::vector<std::pair<uint32_t, uint32_t>> damaged;
  bool seal_damaged = false;
  // The state word was corrected (or decided from evidence): repair
  // rewrites it as `decided` (with `epoch`).
  bool state_damaged = false;
  format::SegState decided = format::SegState::kInvalid;
  uint64_t state_epoch = 0;   // the epoch `decided` carries
  bool ambiguous = false;     // see kAmbiguous (also set when scanned in use)
  bool legacy_state = false;  // a version 1-2 state word (upgrade rewrites)
  uint64_t state_word = 0;    // as found
  // Version 3: the durable watermark (segment offset; 0 = none). Damage
  // below it is media corruption, never a torn write.
  uint32_t watermark = 0;
  bool watermark_damaged = false;
};

struct PoolScan {
  std::vector<SegmentScan> segments;
  std::vector<PoolProblem> problems;
  uint64_t max_epoch = 0;
  uint64_t max_seq = 0;
  uint64_t records = 0;
  uint64_t entries = 0;
  uint64_t system_entries = 0;  // valid system entries (any seq)
  uint64_t dropped_records = 0;  // damaged records (each damaged range = 1)
  std::vector<uint64_t> ambiguous;  // segments in state kAmbiguous
  // Indexed links (kLink) whose target is gone (see link_check.cc).
  std::vector<uint64_t> broken_links;
  // Winning element entries whose type is not their collection's (never
  // indexed; repair writes their element tombstones).
  std::vector<uint64_t> mismatched_elements;
  // Per segment: bytes of indexed (winning, non-tombstone) entries.
  std::unique_ptr<std::atomic<uint64_t>[]> live_bytes;
};

struct ScanOptions {
  int threads = 1;
  std::function<void(uint64_t, uint64_t)> progress;
  // Per dead put entry found (lost to a newer entry of its key): its key
  // hash. Used by the DB to know which tombstones are still needed.
  std::function<void(uint64_t)> on_dead_put;
  // Scan segments whose state word is ambiguous as in use (their records
  // indexed) instead of leaving them out (state kAmbiguous).
  bool ambiguous_in_use = false;
  // Where the collections go (required): a Collection for each live meta,
  // its structure built from the winning element entries. The table owns
  // none of them: the caller frees them. `elem_hash_seed` seeds their
  // subkey hashes (coll::ElemHash), as the DB's structures do.
  CollTable* collections = nullptr;
  uint64_t elem_hash_seed = 0;
  // Where the system entries go (the newest per key); null: counted only.
  SystemTable* system = nullptr;
};

// Scans every segment of the pool described by `sb`, feeding each valid
// key entry to `index` (newest sequence wins) and each element entry to the
// collections (options.collections), then drops tombstones from the index.
// Damage is reported in out->problems; never fails.
void ScanPool(const char* base, const format::SuperBlock& sb, Index* index,
              const ScanOptions& options, PoolScan* out);

// Checks the indexed ones among `links` (every link entry found); counts
// each valid one's target in its span's live bytes, reports broken ones.
void CheckLinks(const char* base, const format::SuperBlock& sb,
                const Index& index, const std::vector<uint64_t>& links,
                PoolScan* out);

// Offset of segment `i` from the pool base.
inline uint64_t SegmentOffset(const format::SuperBlock& sb, uint64_t i) {
  return sb.data_offset + i * sb.segment_size;
}

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_POOL_SCAN_H_
