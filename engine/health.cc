#include "engine/health.h"

#include "engine/format.h"

namespace daxkv::engine {

Status Health::Error() const {
  if (!failed_.load(std::memory_order_acquire)) return OkStatus();
  MutexLock l(&mu_);
  return error_;
}

Status Health::Latch(const Status& cause, std::string_view during) {
  MutexLock l(&mu_);
  LatchLocked(Status(cause.code(),
                     "persistence failed during " + std::string(during) +
                         " (writes are refused until the pool is reopened): " +
                         std::string(cause.message())));
  return error_;
}

void Health::LatchLocked(Status error) {
  if (!error_.ok()) return;  // the first error is the one to report
  error_ = std::move(error);
  failed_.store(true, std::memory_order_release);
}

void Health::NoteBackgroundFailure(const Status& s, std::string_view task) {
  if (s.ok()) return;
  background_failures_.fetch_add(1, std::memory_order_relaxed);
  if (s.code() != StatusCode::kNoSpace) (void)Latch(s, task);
}

Status Health::LatchDamage(std::vector<std::pair<uint64_t, uint64_t>> ranges,
                           std::string_view path, std::string_view first_what) {
  MutexLock l(&mu_);
  damaged_.insert(damaged_.end(), ranges.begin(), ranges.end());
  damage_found_.store(true, std::memory_order_release);
  Status damage = CorruptionError(
      std::to_string(damaged_.size()) + " damaged record(s) in " +
      std::string(path) + " found by the scrub after a snapshot open, " +
      "first at " + std::string(first_what) +
      " (writes are refused; reopen, and repair with Options::repair or "
      "daxkv-inspect pool --repair)");
  LatchLocked(damage);
  return damage;
}

Status Health::CheckNotDamaged(uint64_t loc) const {
  if (!damage_found_.load(std::memory_order_acquire)) [[likely]] {
    return OkStatus();
  }
  MutexLock l(&mu_);
  for (const auto& [begin, end] : damaged_) {
    if (loc >= begin && loc < end) {
      return CorruptionError("the record holding this key at " +
                             format::HexOffset(loc) +
                             " is damaged (found by the scrub); repair drops "
                             "it");
    }
  }
  return OkStatus();
}

uint64_t Health::DamagedRecords() const {
  if (!damage_found_.load(std::memory_order_acquire)) return 0;
  MutexLock l(&mu_);
  return damaged_.size();
}

}  // namespace daxkv::engine
