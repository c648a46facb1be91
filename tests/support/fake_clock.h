// FakeClock: a Clock whose time moves only when a test says so, for TTLs,
// expiry and idle times without sleeping.
//
// Thread-safety: any method from any thread (the engine's background
// threads read it while the test advances it).
#ifndef DAXKV_TESTS_SUPPORT_FAKE_CLOCK_H_
#define DAXKV_TESTS_SUPPORT_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "base/clock.h"

namespace daxkv {

class FakeClock final : public Clock {
 public:
  // 2023-11-14T22:13:20Z: any fixed, realistic Unix time.
  static constexpr int64_t kDefaultStartMs = 1'700'000'000'000;

  explicit FakeClock(int64_t now_ms = kDefaultStartMs)
      : now_us_(now_ms * 1000) {}

  int64_t NowMicros() const override {
    return now_us_.load(std::memory_order_relaxed);
  }
  void SetMs(int64_t now_ms) {
    now_us_.store(now_ms * 1000, std::memory_order_relaxed);
  }
  void AdvanceMs(int64_t ms) {
    now_us_.fetch_add(ms * 1000, std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace daxkv

#endif  // DAXKV_TESTS_SUPPORT_FAKE_CLOCK_H_
