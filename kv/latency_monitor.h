// Redis 7.0's latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH /
// DOCTOR): with latency-monitor-threshold > 0 ms, every command that takes
// at least that long leaves a sample under its event, "command" or
// "fast-command" (commands flagged fast). Each event keeps its newest 160
// samples, one per second (the worst of that second), and its all-time
// worst, in DRAM only, as Redis.
//
// Thread-safety: every method may be called from any thread. MaybeAdd is
// one relaxed load while the monitor is off; samples take a mutex.
#ifndef DAXKV_KV_LATENCY_MONITOR_H_
#define DAXKV_KV_LATENCY_MONITOR_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "base/thread_annotations.h"

namespace daxkv::kv {

class LatencyMonitor {
 public:
  static constexpr size_t kSamples = 160;  // Redis's LATENCY_TS_LEN

  struct Sample {
    int64_t unix_s = 0;
    uint64_t ms = 0;
  };
  struct Latest {
    std::string event;
    Sample last;
    uint64_t max_ms = 0;
  };

  int64_t threshold_ms() const {
    return threshold_ms_.load(std::memory_order_relaxed);
  }
  // REQUIRES: ms >= 0 (0 turns the monitor off).
  void set_threshold_ms(int64_t ms) {
    threshold_ms_.store(ms, std::memory_order_relaxed);
  }

  // Adds a sample when the monitor is on and `ms` reaches the threshold.
  void MaybeAdd(std::string_view event, uint64_t ms, int64_t now_s);

  // Every event's newest sample and all-time worst, by event name.
  std::vector<Latest> LatestSamples() const;
  // An event's samples, oldest first (empty when it has none).
  std::vector<Sample> History(std::string_view event) const;
  // The all-time worst of an event (nullopt when it has no samples).
  std::optional<uint64_t> Max(std::string_view event) const;
  // Forgets the named events (all when `events` is empty); returns how
  // many had samples.
  size_t Reset(const std::vector<std::string>& events);

 private:
  struct Series {
    Sample ring[kSamples];
    size_t next = 0;  // where the next sample goes
    size_t count = 0;
    uint64_t max_ms = 0;
  };
  static std::vector<Sample> Ordered(const Series& s);

  std::atomic<int64_t> threshold_ms_{0};
  mutable Mutex mu_;
  std::map<std::string, Series, std::less<>> events_ GUARDED_BY(mu_);
};

}  // namespace daxkv::kv

#endif  // DAXKV_KV_LATENCY_MONITOR_H_
