// What INFO commandstats, INFO errorstats, INFO latencystats and LATENCY
// HISTOGRAM report, kept as Redis keeps them: per command, its calls, the
// microseconds they took, and the calls refused before running (rejected:
// arity, NOAUTH, MISCONF, ...) or that replied with an error (failed); its
// durations' histogram (kv/duration_histogram.h) while latency-tracking is
// on; per error code (the reply's first word, "ERR", "WRONGTYPE"), how many
// error replies carried it.
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
#include <vector>

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
  // The command's histogram buckets, summed over threads (empty when it
  // never ran with tracking on).
  std::vector<uint64_t> Histogram(size_t index) const;

  // latency-tracking-info-percentiles: the percentiles INFO latencystats
  // prints (Redis's default: 50 99 99.9), and their text ("50 99 99.9").
  std::vector<double> percentiles() const;
  std::string PercentilesText() const;
  // Space-separated numbers in [0, 100] (none: ""); returns CONFIG SET's
  // error detail, or "" when stored.
  std::string SetPercentiles(std::string_view text);

  // latency-tracking (Redis's default: on).
  bool tracking() const { return tracking_.load(std::memory_order_relaxed); }
  void set_tracking(bool on) { tracking_.store(on, std::memory_order_relaxed); }
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
    ~Counters() { delete[] hist.load(); }
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> ticks{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> failed{0};
    // duration_histogram::kBuckets counters, allocated at the first call
    // (most commands never run) and kept until destruction.
    std::atomic<std::atomic<uint64_t>*> hist{nullptr};
  };
  static std::atomic<uint64_t>* Buckets(Counters& c);
  struct alignas(64) Slot {
    std::unique_ptr<Counters[]> commands;
  };

  Counters& Mine(size_t index);

  size_t commands_;
  const double ns_per_tick_;
  std::atomic<bool> tracking_{true};
  std::array<Slot, kSlots> slots_;
  std::atomic<uint64_t> error_replies_{0};
  mutable Mutex percentiles_mu_;
  std::vector<double> percentiles_ GUARDED_BY(percentiles_mu_) = {50, 99, 99.9};
  mutable Mutex errors_mu_;
  std::map<std::string, uint64_t> errors_ GUARDED_BY(errors_mu_);
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_COMMAND_STATS_H_
