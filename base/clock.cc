#include "base/clock.h"

#include <time.h>

#include <chrono>

namespace daxkv {
namespace {

class RealtimeClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  int64_t CoarseNowMs() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
  }
};

}  // namespace

Clock* SystemClock() {
  static RealtimeClock* const clock = new RealtimeClock;
  return clock;
}

}  // namespace daxkv
