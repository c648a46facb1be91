// The log's DRAM state (engine/db_impl.h, log.cc): what the engine knows of
// each segment of the pool (SegMeta), a log head that writers append to
// (LogHead), and where one appended entry landed (Placed).
//
// Thread-safety: a SegMeta's atomics are read and updated by any thread;
// its plain fields change only under the allocator's lock (DBImpl's
// alloc_mu_) or while no other thread uses the DB (open). A LogHead's
// fields are guarded by its `mu`, as annotated.
#ifndef DAXKV_ENGINE_LOG_HEAD_H_
#define DAXKV_ENGINE_LOG_HEAD_H_

#include <atomic>
#include <cstdint>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/format.h"

namespace daxkv::engine {

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
  // Mapped writable since open (prefaulted, or allocated once).
  std::atomic<bool> faulted{false};
  int64_t head = -1;  // kCovered: the span's head segment

  // What compaction would keep of the segment, over its bytes in use:
  // compaction takes the victim of the lowest. Tombstones count half:
  // compaction keeps each one while its bucket has dead puts, so a
  // tombstone-only segment must not look empty. Were it ranked as empty it
  // would win every tie and be rewritten into the segment it just vacated,
  // forever, while the dead puts that pin its tombstones (and hold the
  // space) are never compacted.
  double KeptRatio() const {
    const uint64_t used = tail.load() - format::kSegmentHeaderSize;
    const double kept = double(live.load()) + double(tomb.load()) / 2;
    return used == 0 ? 0.0 : kept / double(used);
  }
};

// LogHead::last_writer when the last holder did not append.
inline constexpr unsigned kNoWriter = ~0u;

struct alignas(64) LogHead {
  Mutex mu;
  int64_t seg GUARDED_BY(mu) = -1;
  uint32_t tail GUARDED_BY(mu) = 0;       // next append offset in the segment
  uint32_t persisted GUARDED_BY(mu) = 0;  // [header, persisted) is durable
  // The last holder's thread id (log.cc) if it appended, else kNoWriter.
  unsigned last_writer GUARDED_BY(mu) = kNoWriter;
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

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_LOG_HEAD_H_
