// DBImpl: the sticky background/persistence error (DB::BackgroundError()).
//
// Once a persist fails, or a background task fails in a way that could cost
// an acknowledged write, the engine can no longer promise durability: the
// first such error is latched until the pool is reopened, every write (and
// Sync, Flush, maintenance) fails with it, and Stats reports it. Reads go on.
// A background task that fails for want of space (NoSpace) costs nothing
// acknowledged: it is counted, not latched.
#include <utility>

#include "engine/db_impl.h"

namespace daxkv::engine {

void DBImpl::LatchError(const Status& cause, std::string_view during) {
  MutexLock l(&health_mu_);
  LatchLocked(Status(cause.code(),
                     "persistence failed during " + std::string(during) +
                         " (writes are refused until the pool is reopened): " +
                         std::string(cause.message())));
}

void DBImpl::LatchLocked(Status error) {
  if (!bg_error_.ok()) return;  // the first error is the one to report
  bg_error_ = std::move(error);
  bg_failed_.store(true, std::memory_order_release);
}

Status DBImpl::BackgroundError() const {
  if (!bg_failed_.load(std::memory_order_acquire)) return OkStatus();
  MutexLock l(&health_mu_);
  return bg_error_;
}

void DBImpl::NoteBackgroundFailure(const Status& s, std::string_view task) {
  if (s.ok()) return;
  background_failures_.fetch_add(1, std::memory_order_relaxed);
  if (s.code() != StatusCode::kNoSpace) LatchError(s, task);
}

}  // namespace daxkv::engine
