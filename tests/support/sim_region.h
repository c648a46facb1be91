// SimRegion: a dax::Region over a DRAM buffer that models the CPU cache at
// 64-byte line granularity, so tests can cut the power at any instant.
//
// Model (the Region durability contract, made observable):
//  - A store to data() lands "in cache": it is not durable.
//  - Flush(range) snapshots the covered lines as the calling thread's
//    flushed-pending write-backs (later stores to those lines are again only
//    in cache).
//  - Drain() makes the calling thread's pending snapshots durable, in order.
//    Persist() = Flush() + Drain(). Copy()/Set() honour kMemNoFlush (plain
//    stores, no drain) and kMemNoDrain (flush, no drain).
//  - At a simulated power failure every line that is not durable (dirty in
//    cache, or flushed but not drained) independently keeps its durable
//    content or takes one of the values it held since (a pending snapshot or
//    its current content), chosen by a seeded PRNG: the same seed on the
//    same state gives the same image. By default a line is never torn.
//  - CrashOptions make the model harsher, as x86 allows:
//    * tear_words: only aligned 8-byte stores are atomic, so each 8-byte
//      word of a non-durable line independently keeps its durable content or
//      takes the same word of one of the line's newer values;
//    * intermediate_states: with SetStoreHistory(true) the region samples
//      every non-durable line at each Flush/Drain call (any thread's), so a
//      line stored to twice between its flushes may persist in the state it
//      held in between (sampled at those instants; a state no call
//      observed is not modelled).
//  - Persist failures: FailPersists(first, count) makes persist points
//    [first, first + count) fail (their snapshots never become durable) and
//    PersistError() report the first failure for good, as a backing whose
//    msync(2) returns EIO would: a failing medium (count unbounded), or one
//    failed write-back after which later ones succeed again (count 1, as
//    Linux reports a page-cache write-back error once).
//
// A persist point is one Drain() (including the drain inside Persist(), and
// Copy()/Set() without kMemNoDrain/kMemNoFlush). The persist hook runs at the
// start of every persist point, before its snapshots become durable, so an
// image taken there is a crash "just before this fence completed".
//
// Cost: CrashImage() compares the whole buffer with the durable shadow, so
// keep simulated regions small (a few MiB).
//
// Thread-safety: all methods may be called concurrently. The persist hook
// runs on the draining thread with the region's (recursive) lock held: it
// may call CrashImage()/DurableImage() on this region, and other threads'
// Flush/Drain wait until it returns. Stores racing with an image capture are
// read as whatever bytes are there (a crash mid-store).
#ifndef DAXKV_TESTS_SUPPORT_SIM_REGION_H_
#define DAXKV_TESTS_SUPPORT_SIM_REGION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dax/region.h"

namespace daxkv::testing {

inline constexpr size_t kSimLineSize = 64;

class SimRegion final : public dax::Region {
 public:
  // A zeroed region of `size` bytes (rounded up to a whole line), all of it
  // durable. Grow() may extend it up to `capacity` (>= size) bytes without
  // moving data().
  explicit SimRegion(size_t size, size_t capacity = 0);
  // A region whose durable and current content is `image` (for example a
  // crash image), as a freshly booted machine would see it.
  explicit SimRegion(const std::vector<char>& image, size_t capacity = 0);
  ~SimRegion() override;

  static std::unique_ptr<SimRegion> FromImage(const std::vector<char>& image) {
    return std::make_unique<SimRegion>(image);
  }

  // dax::Region
  const dax::RegionInfo& info() const override { return info_; }
  char* data() const override { return buffer_; }
  size_t size() const override { return size_; }
  void Persist(const void* addr, size_t len) override;
  void Flush(const void* addr, size_t len) override;
  void Drain() override;
  void Copy(void* dst, const void* src, size_t len,
            unsigned flags = dax::kMemDefault) override;
  void Set(void* dst, int c, size_t len,
           unsigned flags = dax::kMemDefault) override;
  Status DeepFlush(void* addr, size_t len) override;
  Status Grow(size_t new_size) override;
  Status PersistError() const override;

  // Persist points [first, first + count) (1-based) make nothing durable;
  // PersistError() reports the first of them from then on.
  static constexpr uint64_t kForever = ~uint64_t{0};
  void FailPersists(uint64_t first, uint64_t count = kForever);

  // Number of persist points so far.
  uint64_t persist_points() const;
  // Flush() calls so far (lines are counted per call, not per line).
  uint64_t flushes() const;

  // Called with the 1-based number of each persist point, before that
  // point's snapshots become durable. Null clears it.
  using PersistHook = std::function<void(uint64_t point)>;
  void SetPersistHook(PersistHook hook);

  // Captures CrashImage(seed) at persist point `point` (1-based); retrieve
  // it with TakeCapturedImage() (empty until that point is reached).
  void CaptureAt(uint64_t point, uint64_t seed);
  std::vector<char> TakeCapturedImage();

  struct CrashOptions {
    // How likely a non-durable line (or word, with tear_words) is to hold
    // one of its newer values rather than its durable one.
    double keep_probability = 0.5;
    bool tear_words = false;
    // Needs SetStoreHistory(true) while the workload ran.
    bool intermediate_states = false;
  };
  // The medium after a power failure now: durable content plus, for each
  // non-durable line, with probability `keep_probability` one of its newer
  // values (else its durable one).
  std::vector<char> CrashImage(uint64_t seed,
                               double keep_probability = 0.5) const;
  std::vector<char> CrashImage(uint64_t seed, const CrashOptions& o) const;
  // Sample non-durable lines at every Flush/Drain (for intermediate_states).
  // Costs a compare of the whole buffer per call: small regions only.
  void SetStoreHistory(bool on);
  // Only what is durable (every non-durable line dropped).
  std::vector<char> DurableImage() const;
  // Lines that would differ from the durable content in some crash image.
  size_t NonDurableLines() const;

 private:
  struct PendingLine {
    size_t line;
    alignas(8) std::array<char, kSimLineSize> bytes;
  };
  using LineVersions = std::map<size_t, std::vector<const char*>>;
  using Line = std::array<char, kSimLineSize>;
  // At most this many sampled states are kept per line (the newest).
  static constexpr size_t kMaxHistoryPerLine = 16;

  void Init(size_t size, size_t capacity);
  void FlushLocked(const void* addr, size_t len);
  void DrainLocked();
  void CheckRange(const void* addr, size_t len) const;
  // Every non-durable line and the newer values it may hold (with
  // `history`, also the states sampled since it was last made durable).
  // Pointers are into pending_, history_ and `current`, valid while the lock
  // is held.
  LineVersions CollectVersionsLocked(const std::vector<char>& current,
                                     bool history = false) const;
  void SampleHistoryLocked();

  mutable std::recursive_mutex mu_;
  dax::RegionInfo info_;
  char* buffer_ = nullptr;  // the "CPU view": every store lands here
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::vector<char> durable_;  // what a power failure cannot take away
  std::map<std::thread::id, std::vector<PendingLine>> pending_;
  uint64_t persist_points_ = 0;
  uint64_t flushes_ = 0;
  PersistHook hook_;
  uint64_t capture_point_ = 0;
  uint64_t capture_seed_ = 0;
  std::vector<char> captured_;
  bool in_hook_ = false;
  bool record_history_ = false;
  std::map<size_t, std::vector<Line>> history_;
  uint64_t fail_first_ = 0;  // 0 = none
  uint64_t fail_count_ = 0;
  Status persist_error_;
};

}  // namespace daxkv::testing

#endif  // DAXKV_TESTS_SUPPORT_SIM_REGION_H_
