#include "base/clock.h"

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
};

}  // namespace

Clock* SystemClock() {
  static RealtimeClock* const clock = new RealtimeClock;
  return clock;
}

}  // namespace daxkv
