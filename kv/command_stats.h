// What INFO commandstats and INFO errorstats report, kept as Redis keeps
// them: per command, its calls, the microseconds they took, and the calls
// refused before running (rejected: arity, NOAUTH, MISCONF, ...) or that
// replied with an error (failed); per error code (the reply's first word,
// "ERR", "WRONGTYPE"), how many error replies carried it.
//
// Thread-safety: every method may be called from any thread. Counting is
// lock-free and spread over per-thread slots so that the I/O threads do not
// share cache lines; error codes take a mutex (error replies are rare).
#ifndef DAXKV_KV_COMMAND_STATS_H_
#define DAXKV_KV_COMMAND_STATS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv::kv {

class CommandStats {
 public:
  struct Totals {
    uint64_t calls = 0;
    uint64_t usec = 0;
    uint64_t rejected = 0;
    uint64_t failed = 0;
  };

  // `commands`: the size of the command table; indexes are below it.
  explicit CommandStats(size_t commands);

  // A command that ran for `ticks` of CycleClock (converted to
  // microseconds when read: per call, a conversion would cost a division
  // and round every sub-microsecond call down to 0): `failed` when its
  // reply was an error.
  void Record(size_t index, uint64_t ticks, bool failed);
  // A command refused before it ran.
  void Rejected(size_t index);
  // One error reply; `text` is the error line without '-' ("ERR syntax").
  void CountError(std::string_view text);

  Totals Get(size_t index) const;
  uint64_t total_error_replies() const;
  // Error code -> count, sorted by code (INFO errorstats prints them so).
  std::map<std::string, uint64_t> ErrorCounts() const;

  // CONFIG RESETSTAT.
  void Reset();

  // Redis stops adding new error codes after this many distinct ones (a
  // flood of unique codes must not grow the map without bound); later
  // errors still count in total_error_replies.
  static constexpr size_t kMaxErrorCodes = 128;

 private:
  static constexpr int kSlots = 8;
  struct Counters {
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> ticks{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> failed{0};
  };
  struct alignas(64) Slot {
    std::unique_ptr<Counters[]> commands;
  };

  Counters& Mine(size_t index);

  size_t commands_;
  std::array<Slot, kSlots> slots_;
  std::atomic<uint64_t> error_replies_{0};
  mutable Mutex errors_mu_;
  std::map<std::string, uint64_t> errors_ GUARDED_BY(errors_mu_);
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COMMAND_STATS_H_
