// CycleClock: timestamps for short intervals (a command's run time in INFO
// commandstats), at a fraction of a clock_gettime's cost: the TSC on x86-64
// where it is invariant (constant rate, not stopped in sleep states, as
// the kernel's `tsc` clocksource requires), else steady_clock nanoseconds.
// A command's two clock reads were 4% of a server's samples running
// EVALSHA, whose script runs two more commands.
//
// Thread-safety: all of it. The first use calibrates the TSC against the
// steady clock (about 1 ms); later uses only read.
#ifndef DAXKV_BASE_CYCLE_CLOCK_H_
#define DAXKV_BASE_CYCLE_CLOCK_H_

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace daxkv {

class CycleClock {
 public:
  // Ticks since an arbitrary origin, monotonic on one CPU. Intervals are
  // meaningful between two Now() calls of one process.
  static uint64_t Now() {
#if defined(__x86_64__)
    if (Calibration().tsc) return __rdtsc();
#endif
    return SteadyNanos();
  }

  // The steady clock in nanoseconds: Now() without a usable TSC, and what
  // the TSC is calibrated against.
  static uint64_t SteadyNanos() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  // Microseconds in `ticks` (a difference of two Now() values; a negative
  // difference, from two CPUs' counters a few ticks apart, counts as 0).
  static uint64_t ToMicros(uint64_t ticks) {
    if (static_cast<int64_t>(ticks) <= 0) return 0;
    return static_cast<uint64_t>(static_cast<double>(ticks) /
                                 Calibration().ticks_per_us);
  }

  // Whether Now() reads the TSC (false: the steady clock).
  static bool UsesTsc() { return Calibration().tsc; }
  static double TicksPerMicro() { return Calibration().ticks_per_us; }

 private:
  struct Rate {
    bool tsc = false;
    double ticks_per_us = 1000.0;  // steady_clock nanoseconds
  };
  static const Rate& Calibration() {
    static const Rate rate = Calibrate();
    return rate;
  }
  static Rate Calibrate();
};

}  // namespace daxkv

#endif  // DAXKV_BASE_CYCLE_CLOCK_H_
