// Health: the engine's sticky error and the pool ranges the scrub found
// damaged (DB::BackgroundError(), Stats).
//
// Once a persist fails, or a background task fails in a way that could cost
// an acknowledged write, the engine can no longer promise durability: the
// first such error is latched until the pool is reopened, every write (and
// Sync, Flush, maintenance) fails with it, and Stats reports it. Reads go on,
// except of a record the scrub found damaged. A background task that fails
// for want of space (NoSpace) costs nothing acknowledged: it is counted, not
// latched.
//
// Thread-safety: every method may be called from any thread. The fast
// paths (CheckWritable, CheckNotDamaged with nothing damaged) are one
// atomic load; mu_ is a leaf of DBImpl's lock order (nothing is taken under
// it).
#ifndef DAXKV_ENGINE_HEALTH_H_
#define DAXKV_ENGINE_HEALTH_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "base/thread_annotations.h"

namespace daxkv::engine {

class Health {
 public:
  // OK unless an error is latched.
  Status CheckWritable() const {
    return failed_.load(std::memory_order_acquire) ? Error() : OkStatus();
  }
  // The latched error, or OK.
  Status Error() const EXCLUDES(mu_);
  // Latches `cause`, saying it happened `during` what, unless an error is
  // latched already; returns the latched error (the first one).
  Status Latch(const Status& cause, std::string_view during) EXCLUDES(mu_);
  // A failed background task: counted; latched unless it is NoSpace.
  void NoteBackgroundFailure(const Status& s, std::string_view task)
      EXCLUDES(mu_);
  uint64_t background_failures() const {
    return background_failures_.load(std::memory_order_relaxed);
  }

  // Records damaged pool ranges [first, second) in the pool at `path` and
  // latches Corruption naming `first_what`; returns that error.
  Status LatchDamage(std::vector<std::pair<uint64_t, uint64_t>> ranges,
                     std::string_view path, std::string_view first_what)
      EXCLUDES(mu_);
  // Corruption when `loc` lies in a damaged range.
  Status CheckNotDamaged(uint64_t loc) const EXCLUDES(mu_);
  bool damage_found() const {
    return damage_found_.load(std::memory_order_acquire);
  }
  uint64_t DamagedRecords() const EXCLUDES(mu_);

 private:
  void LatchLocked(Status error) REQUIRES(mu_);

  mutable Mutex mu_;
  // Set once error_ holds the latched error, and never cleared.
  std::atomic<bool> failed_{false};
  Status error_ GUARDED_BY(mu_);
  std::atomic<uint64_t> background_failures_{0};
  // Set once the first damaged range is added, and never cleared.
  std::atomic<bool> damage_found_{false};
  std::vector<std::pair<uint64_t, uint64_t>> damaged_ GUARDED_BY(mu_);
};

}  // namespace daxkv::engine

#endif  // DAXKV_ENGINE_HEALTH_H_
