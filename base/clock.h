// Clock: where daxkv reads the time of day, as LevelDB reads it from
// Env::NowMicros. The engine (expiry) and the server (TTLs, client idle
// times, INFO, TIME) take one, so tests move time by hand
// (tests/support/fake_clock.h) instead of sleeping.
//
// Thread-safety: every method of every Clock may be called from any thread.
#ifndef DAXKV_BASE_CLOCK_H_
#define DAXKV_BASE_CLOCK_H_

#include <cstdint>

namespace daxkv {

class Clock {
 public:
  virtual ~Clock() = default;

  // Wall-clock time: microseconds since the Unix epoch. Expiry times are
  // absolute Unix times, so this is not a monotonic clock.
  virtual int64_t NowMicros() const = 0;

  // NowMicros() in milliseconds.
  int64_t NowMs() const { return NowMicros() / 1000; }

  // NowMs() from a cheaper source that may lag it by a few milliseconds
  // (one kernel tick), for stamps recorded in whole seconds, such as a
  // key's last access. Never ahead of NowMs().
  virtual int64_t CoarseNowMs() const { return NowMs(); }
};

// The system's wall clock (CLOCK_REALTIME; CoarseNowMs reads
// CLOCK_REALTIME_COARSE, served from the vDSO without a clock read).
// Never destroyed.
Clock* SystemClock();

}  // namespace daxkv

#endif  // DAXKV_BASE_CLOCK_H_
