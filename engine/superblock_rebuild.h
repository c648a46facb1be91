// Pools whose superblocks are gone (both pages zeroed, or both copies
// damaged) but whose segments still hold data: finding the evidence, so
// that Open refuses to format over it, and rebuilding a superblock from it
// (`daxkv-inspect pool --repair`).
//
// Evidence is a valid segment header (magic, CRC) at a 4 KiB boundary from
// format::kDataOffset on. A rebuilt superblock takes
//  * the uuid the headers carry (one pool's; several need the caller to
//    pick one),
//  * the segment size from their spacing: the candidates are the sizes
//    every header offset is a multiple of (from kDataOffset) that leave
//    each header's records inside its segment (span N: inside N segments)
//    and no header inside another's span. Any candidate reads every record
//    found; when the evidence leaves several (a pool with few segments
//    used), the one nearest the default 4 MiB is taken and said so,
//  * flush_seq as the highest flush_seq stamped into any header (version 3;
//    0 before), so it never revives what a Flush() voided before the
//    newest allocation,
//  * the format version the state words are written in (3 if all are
//    coded, else 2, upgraded by the next open), clean_shutdown 0.
//
// Thread-safety: pure functions of the bytes, which must stay stable.
#ifndef DAXKV_ENGINE_SUPERBLOCK_REBUILD_H_
#define DAXKV_ENGINE_SUPERBLOCK_REBUILD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/statusor.h"
#include "dax/region.h"
#include "engine/format.h"

namespace daxkv::engine {

struct SegmentEvidence {
  struct Pool {
    uint8_t uuid[16];
    uint64_t headers = 0;
    uint64_t first_offset = 0;
  };
  std::vector<Pool> pools;
  uint64_t headers = 0;  // all pools together
  // Pool offsets of every valid header found.
  std::vector<uint64_t> offsets;
  // "12 valid segment headers of pool 0a1b..-.. (first at 0x2000)".
  std::string Describe() const;
};

// Probes every 4 KiB boundary of [kDataOffset, size) for a valid segment
// header: one 64-byte read per 4 KiB page, over up to 16 threads. Cheap on
// a mapped device; on a blank file every read is a page fault (measured:
// 4 GiB in ~6 s on tmpfs, ~20 s on ext4, one thread), so Open skips it for
// a region it has just created (RegionInfo::created).
SegmentEvidence FindSegmentEvidence(const char* base, size_t size);

struct RebuildOptions {
  std::optional<std::string> uuid;  // pick this pool's segments
  uint64_t segment_size = 0;        // 0 = from the evidence
  // A damaged superblock's segment size, preferred among the candidates.
  uint64_t hint_segment_size = 0;
};

// A superblock (crc set) for the segments `evidence` found; *choice (may
// be null) says how the segment size was chosen when several fit. Errors:
// NotFound without evidence, FailedPrecondition for segments of several
// pools without options.uuid, a segment size that does not fit, or
// evidence that fits none, naming the candidates.
StatusOr<format::SuperBlock> RebuildSuperBlock(const char* base, size_t size,
                                               const SegmentEvidence& evidence,
                                               const RebuildOptions& options,
                                               std::string* choice = nullptr);

// Writes `sb` to both copies, A then B, each persisted.
void WriteSuperBlockCopies(dax::Region& region, const format::SuperBlock& sb);

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_SUPERBLOCK_REBUILD_H_
