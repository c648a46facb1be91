// Read-only inspection of a daxkv pool (for daxkv-inspect and tests) and the
// engine's offline repair.
//
// InspectPool never writes to the region: it reads the superblocks, scans
// every segment exactly as recovery would (rebuilding an index in DRAM) and
// reports geometry, space use per segment, key counts and, with verify,
// every checksum failure and broken structural invariant with its offset.
//
// Thread-safety: InspectPool must not run while a DB has the pool open for
// writing (it would see a moving target); it starts its own scan threads.
#ifndef DAXKV_ENGINE_POOL_INSPECT_H_
#define DAXKV_ENGINE_POOL_INSPECT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "dax/region.h"
#include "engine/pool_scan.h"
#include "engine/superblock_rebuild.h"

namespace daxkv::engine {

struct InspectOptions {
  // Check every structural invariant on top of the checksums the scan
  // always verifies, and list every problem (otherwise only counted).
  bool verify = false;
  int threads = 0;  // 0 = hardware_concurrency
  std::function<void(uint64_t, uint64_t)> progress;
  // Time for "expired" counts (ms since the Unix epoch); 0 = system clock.
  int64_t now_ms = 0;
  // When both superblocks are blank or damaged but segments remain: how to
  // rebuild one (in memory; RepairPool writes it).
  RebuildOptions rebuild;
};

struct SegmentReport {
  uint64_t index = 0;
  uint64_t offset = 0;  // pool offset
  // "unused", "free", "in-use", "damaged", "ambiguous" (state word
  // damaged beyond correction), or "spanned" (segment 2..N of the span
  // whose first segment is span_head).
  std::string state;
  // What is wrong with the state word: "" (nothing), "corrected" (repair
  // rewrites it), "ambiguous", or "legacy" (version 1-2; the next open
  // rewrites it).
  std::string state_note;
  uint32_t watermark = 0;  // durable watermark (segment offset; 0 = none)
  uint32_t span = 1;  // in-use: segments covered (> 1: a span head)
  uint64_t span_head = 0;
  bool sealed = false;
  bool torn_tail = false;
  uint64_t epoch = 0;
  uint64_t used_bytes = 0;  // record bytes (header lines excluded)
  uint64_t live_bytes = 0;
  uint64_t dead_bytes = 0;
  uint64_t records = 0;
  uint64_t tombstones = 0;
};

struct PoolReport {
  std::string path;
  uint64_t region_bytes = 0;
  uint32_t format_version = 0;
  uint32_t supported_format_version = 0;
  std::string uuid;
  uint64_t segment_size = 0;
  uint64_t segment_count = 0;
  uint64_t data_offset = 0;
  uint64_t generation = 0;
  bool superblock_a_valid = false;
  bool superblock_b_valid = false;
  // Both copies were blank or damaged: the report reads the pool through a
  // superblock rebuilt in memory from its segments (RepairPool writes it).
  bool superblock_rebuilt = false;
  bool clean_shutdown = false;  // false: the next open recovers a crash
  uint64_t open_count = 0;
  uint64_t crash_recoveries = 0;
  int64_t created_ms = 0;
  int64_t last_open_ms = 0;
  int64_t last_close_ms = 0;
  uint64_t last_recovery_ms = 0;
  // The segment holding the clean-close index snapshot the superblock
  // names (-1: none); the next open checks it before loading it.
  int64_t index_snapshot_segment = -1;
  uint64_t flush_seq = 0;
  uint64_t max_seq = 0;

  uint64_t keys = 0;  // indexed keys, expired ones included
  // The hidden system namespace (format version 5): current puts (not in
  // `keys`; Flush keeps them) and valid system entries found (any seq).
  uint64_t system_keys = 0;
  uint64_t system_entries = 0;
  // Collections among them (format versions 4 and 5), their elements, and
  // the
  // DRAM their structures would take.
  uint64_t hashes = 0;
  uint64_t lists = 0;
  uint64_t sets = 0;
  uint64_t zsets = 0;
  uint64_t streams = 0;
  uint64_t elements = 0;
  uint64_t collection_bytes = 0;
  uint64_t expiring_keys = 0;
  uint64_t expired_keys = 0;
  uint64_t records = 0;
  uint64_t free_segments = 0;
  uint64_t spans = 0;  // in-use spans (records larger than a segment)
  uint64_t ambiguous_segments = 0;  // state unknown (see state_ambiguity.h)
  uint64_t free_bytes = 0;
  uint64_t used_bytes = 0;
  uint64_t live_bytes = 0;
  uint64_t dead_bytes = 0;
  uint64_t index_bytes = 0;  // DRAM the index would take
  uint64_t scan_ms = 0;

  std::vector<SegmentReport> segments;
  std::vector<PoolProblem> problems;
  uint64_t repairable_problems = 0;
  uint64_t unrecoverable_problems = 0;
};

// Errors: as DB::Open for unreadable superblocks (Corruption,
// NotSupported for a newer format, NotFound for a blank region), except
// that superblocks lost while segments remain are rebuilt in memory
// (FailedPrecondition when the segments admit several rebuilds).
StatusOr<PoolReport> InspectPool(const dax::Region& region,
                                 const InspectOptions& options);

struct RepairReport {
  std::vector<PoolProblem> repaired;  // what was found and fixed
  uint64_t dropped_records = 0;
  // Problems repair could not fix (the pool still refuses to open).
  std::vector<PoolProblem> unrecoverable;
};

// Applies the engine's repair: writes a superblock rebuilt from the
// segments when both copies are lost (see superblock_rebuild.h), then opens
// the pool with Options::repair (damaged records are overwritten with
// padding records, damaged segment headers freed, superblock copies
// rewritten) and closes it cleanly.
StatusOr<RepairReport> RepairPool(dax::Region& region,
                                  const RebuildOptions& rebuild = {});

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_POOL_INSPECT_H_
